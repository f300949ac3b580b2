"""Bodies over SHIPGATE_MAX_BODY_BYTES get 413 JSON and change nothing, on every JSON endpoint."""

from __future__ import annotations

import pytest
from fuzzkit import row_counts

NOW = "2026-11-26T09:00:00+08:00"


@pytest.mark.parametrize("url", ["/api/v1/scans", "/api/v1/scans/batch", "/api/v1/heartbeat"])
def test_an_oversized_station_body_gets_413_json(small_app, engine, stations, url):
    _station_id, headers = stations["bench-a"]
    before = row_counts(engine)
    body = ('{"scan_id": "big-1", "code": "' + "9" * 3000 + '", "scanned_at": "' + NOW + '"}').encode()
    response = small_app.test_client().post(url, data=body, content_type="application/json", headers=headers)
    assert response.status_code == 413
    assert response.get_json() == {"error": "body_too_large", "message": "请求体过大"}
    assert row_counts(engine) == before


def test_the_default_limit_is_one_mebibyte(client, engine, stations):
    _station_id, headers = stations["bench-a"]
    before = row_counts(engine)
    limit = client.application.config["MAX_CONTENT_LENGTH"]
    assert limit == 1_048_576
    body = b'{"scans": ["' + b"x" * limit + b'"]}'
    response = client.post("/api/v1/scans/batch", data=body, content_type="application/json", headers=headers)
    assert response.status_code == 413 and response.get_json()["error"] == "body_too_large"
    assert row_counts(engine) == before


def test_a_body_just_under_the_limit_is_read(small_app, engine, stations):
    _station_id, headers = stations["bench-a"]
    padding = 2048 - len(b'{"scan_id": "ok-1", "code": "", "scanned_at": "' + NOW.encode() + b'"}')
    body = b'{"scan_id": "ok-1", "code": "' + b" " * padding + b'", "scanned_at": "' + NOW.encode() + b'"}'
    assert len(body) == 2048
    response = small_app.test_client().post(
        "/api/v1/scans", data=body, content_type="application/json", headers=headers
    )
    assert response.status_code == 400  # read and refused for what it says, not for its size
    assert response.get_json()["error"] == "invalid_field"
