"""A real-HTTP smoke run: generated scans, broken HTTP and oversized bodies against waitress on
loopback; the server answers each without a 5xx and keeps answering afterwards."""

from __future__ import annotations

import socket

import httpx
import pytest
from fuzzkit import HOSTILE_ERRORS, dumps, fuzz, hostile, row_counts, scan_items
from hypothesis import given
from hypothesis import strategies as st


@pytest.fixture
def http(live_server):
    with httpx.Client(base_url=live_server.url, timeout=5) as client:
        yield client


@fuzz(0.25)
@given(body=scan_items(offline=False))
def test_generated_scans_over_real_http(http, engine, stations, backend, body):
    _station_id, headers = stations["bench-a"]
    before = row_counts(engine)
    response = http.post(
        "/api/v1/scans", content=dumps(body), headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code < 500, response.text[:300]
    if response.status_code != 200:
        assert response.json()["error"]
        assert row_counts(engine) == before


@fuzz(0.25)
@given(
    example=hostile(scan_items(offline=False)), url=st.sampled_from(["/api/v1/scans", "/api/v1/heartbeat"])
)
def test_hostile_json_over_real_http(http, engine, stations, example, url):
    """Deep nesting and its cousins through waitress: a 400 with the reason, the server unharmed."""
    kind, raw = example
    _station_id, headers = stations["bench-a"]
    before = row_counts(engine)
    response = http.post(url, content=raw, headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["error"] in HOSTILE_ERRORS[kind], response.text[
        :300
    ]
    assert row_counts(engine) == before
    assert http.get("/healthz").status_code == 200


def raw_exchange(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@fuzz(0.25)
@given(garbage=st.binary(min_size=1, max_size=300))
def test_broken_http_never_takes_the_server_down(live_server, http, garbage):
    answer = raw_exchange(live_server.port, garbage + b"\r\n\r\n")
    if answer:
        status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
        assert status < 500 or status == 0, answer[:200]
    assert http.get("/healthz").status_code == 200


def test_an_oversized_chunked_body_gets_413_json(live_server, http, engine, stations):
    """No Content-Length: the limit still holds while the body streams in."""
    _station_id, headers = stations["bench-a"]
    before = row_counts(engine)

    def chunks():
        yield b'{"scans": ["'
        for _ in range(40):
            yield b"x" * 32768
        yield b'"]}'

    response = http.post(
        "/api/v1/scans/batch", content=chunks(), headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 413 and response.json()["error"] == "body_too_large"
    assert row_counts(engine) == before
    assert http.get("/healthz").status_code == 200


def test_a_lying_content_length_is_refused(live_server, http, stations):
    _station_id, headers = stations["bench-a"]
    request = (
        b"POST /api/v1/scans HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Authorization: " + headers["Authorization"].encode() + b"\r\n"
        b"Content-Length: 99999999999\r\n\r\n{}"
    )
    answer = raw_exchange(live_server.port, request)
    status = int(answer.split(b" ", 2)[1])
    assert status in (400, 413), answer[:300]
    assert http.get("/healthz").status_code == 200


def test_a_nul_inside_a_scanned_code_does_not_stall_the_upload_queue(
    live_server, engine, stations, backend, request, tmp_path
):
    """The scanner keeps control characters inside a code (so that classify refuses it); the bench
    journals it as an invalid code and uploads it like any offline decision."""
    from station.bench import build_bench
    from station.config import parse_config

    _station_id, headers = stations["bench-a"]
    config = parse_config(
        {
            "server": {"url": live_server.url, "token": headers["Authorization"][7:], "budget_ms": 500},
            "printer": {"kind": "dummy"},
            "station": {"name": "nul-bench", "data_dir": str(tmp_path / "station")},
            "display": {"enabled": False},
        },
        base_dir=tmp_path,
    )
    bench = build_bench(config, with_scanner=False, with_printer=False, with_display=False)
    try:
        outcome = bench.handle("AB\x00CD1234")
        assert outcome.decision.value == "HOLD"
        bench.uplink.sync_once()
        assert bench.journal.queue_depth() == 0
    finally:
        bench.stop()
