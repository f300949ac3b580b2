"""The gate client against a real loopback server: typed answers, typed errors, the scan budget,
keep-alive, and the one retry a scan may take."""

from __future__ import annotations

import contextlib
import socket
import threading
import uuid
from datetime import datetime

import httpx
import pytest
from station_testkit import ORDER_OK, ORDER_REFUNDED, TOKEN, TRACKING_OK

from shipgate.wire import Decision, Heartbeat, Reason, ScanMode, ScanRequest
from station.client import BadResponse, GateClient, Rejected, ServerUnreachable, Unauthorized

NOW = "2024-05-01T08:00:00.000+00:00"


@pytest.fixture
def client(gate_server):
    c = GateClient(gate_server.url, TOKEN, budget_s=0.3, sync_timeout_s=2.0)
    yield c
    c.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_scan_pass_with_waybill(client, gate_server):
    scan_id = str(uuid.uuid4())
    result = client.scan(scan_id, TRACKING_OK, "A12", NOW, "bench")
    assert (result.scan_id, result.decision, result.reason) == (scan_id, Decision.PASS, "clear")
    assert result.order_id == ORDER_OK
    assert result.waybill is not None and result.waybill.tracking_no == TRACKING_OK
    assert result.waybill.carrier == "顺丰速运" and [str(i) for i in result.waybill.items] == ["蓝色T恤 L ×1"]


def test_scan_block_and_idempotency(client, gate_server):
    scan_id = str(uuid.uuid4())
    first = client.scan(scan_id, ORDER_REFUNDED, None, NOW, "bench")
    again = client.scan(scan_id, ORDER_REFUNDED, None, NOW, "bench")
    assert first == again and first.decision is Decision.BLOCK and first.message == "已退款 请勿发货"
    assert first.waybill is None and first.exception_id
    assert len(gate_server.scans) == 1


def test_keep_alive_reuses_one_connection(client, gate_server):
    for _ in range(3):
        client.scan(str(uuid.uuid4()), ORDER_OK, None, NOW, "bench")
    # One connection in the pool after three calls: it was kept alive and reused.
    assert len(client._http._transport._pool.connections) == 1


def test_wrong_token_is_unauthorized_not_down(gate_server):
    c = GateClient(gate_server.url, "wrong", budget_s=0.3)
    with pytest.raises(Unauthorized):
        c.scan(str(uuid.uuid4()), ORDER_OK, None, NOW, "bench")
    with pytest.raises(Unauthorized):
        c.gate_feed(0)
    c.close()


def test_server_down_is_unreachable():
    c = GateClient(f"http://127.0.0.1:{free_port()}", TOKEN, budget_s=0.3)
    with pytest.raises(ServerUnreachable):
        c.scan(str(uuid.uuid4()), ORDER_OK, None, NOW, "bench")
    c.close()


def test_5xx_is_unreachable_and_4xx_is_rejected(client, gate_server):
    gate_server.status_override = 503
    with pytest.raises(ServerUnreachable):
        client.gate_feed(0)
    gate_server.status_override = 400
    with pytest.raises(Rejected) as info:
        client.gate_feed(0)
    assert (info.value.status, info.value.error, info.value.message) == (400, "boom", "服务器错误")


def test_scan_budget_is_enforced(client, gate_server):
    """A server that does not answer within the budget: the scan gives up on its own (the
    offline outcome), it does not wait for the PASS the server would give once released."""
    gate_server.hold = threading.Event()
    try:
        with pytest.raises(ServerUnreachable):
            client.scan(str(uuid.uuid4()), ORDER_OK, None, NOW, "bench")
    finally:
        gate_server.hold.set()


def test_scan_retries_once_after_a_dropped_connection(gate_server):
    """A listener that accepts and hangs up once, then forwards to the real server."""
    dropped = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def proxy():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            if not dropped.is_set():
                conn.recv(65536)
                dropped.set()
                conn.close()  # read the request, answer nothing
                continue
            upstream = socket.create_connection(("127.0.0.1", gate_server.port))
            for a, b in ((conn, upstream), (upstream, conn)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()

    threading.Thread(target=proxy, daemon=True).start()
    c = GateClient(f"http://127.0.0.1:{port}", TOKEN, budget_s=2.0)
    try:
        result = c.scan(str(uuid.uuid4()), ORDER_REFUNDED, None, NOW, "bench")
        assert dropped.is_set() and result.decision is Decision.BLOCK
    finally:
        c.close()
        listener.close()


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while chunk := src.recv(65536):
            dst.sendall(chunk)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


def test_feed_paging(client, gate_server):
    page = client.gate_feed(0, limit=2)
    assert page.more and page.next == 2 and len(page.entries) == 2
    assert page.entries[0].order_id == ORDER_REFUNDED and isinstance(page.entries[0].order_id, str)
    rest = client.gate_feed(page.next, limit=2)
    assert not rest.more and [e.order_id for e in rest.entries] == ["6920000000000000003"]
    assert rest.entries[0].sku_order_ids_out == ("6920000000000000013",)


def test_batch_upload_answers_duplicates(client, gate_server):
    scan_id = str(uuid.uuid4())
    at = datetime.fromisoformat(NOW)
    upload = ScanRequest(
        scan_id, ORDER_REFUNDED, at, "A12", ScanMode.BENCH, Decision.BLOCK, Reason.REFUNDED, 3
    )
    first = client.upload_batch([upload])
    second = client.upload_batch([upload])
    assert first[0].answer.decision is Decision.BLOCK and not first[0].duplicate
    assert second[0].duplicate
    with pytest.raises(ValueError):
        client.upload_batch([])


def test_heartbeat(client, gate_server):
    reply = client.heartbeat(Heartbeat(software_version="0.1.0", queue_depth=0))
    assert reply.ok and reply.gate_version == gate_server.version
    assert gate_server.heartbeats == [{"software_version": "0.1.0", "queue_depth": 0}]


def test_a_body_off_the_contract_is_bad_response():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/gate"):
            return httpx.Response(200, json={"version": 1, "entries": [{"order_id": 1}]})
        return httpx.Response(200, text="not json")

    c = GateClient("http://gate.test", TOKEN, transport=httpx.MockTransport(handler))
    with pytest.raises(BadResponse):
        c.gate_feed(0)
    with pytest.raises(BadResponse):
        c.heartbeat(Heartbeat())
