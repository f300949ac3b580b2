"""POST /api/v1/scans/batch under generated input: a batch is refused whole (4xx, nothing stored)
or answered whole, each scan journaled once per station however often it is sent."""

from __future__ import annotations

import pytest
from factories import make_order, refund
from fuzzkit import (
    changed,
    check_answer,
    check_hostile_refusal,
    check_refusal,
    dumps,
    fuzz,
    hostile,
    is_lead_code,
    json_values,
    row_counts,
    scan_exists,
    scan_items,
)
from hypothesis import given
from hypothesis import strategies as st

from shipgate.wire import BATCH_LIMIT

BATCH_URL = "/api/v1/scans/batch"
NOW = "2026-11-26T09:00:00+08:00"

batches = st.one_of(
    st.lists(scan_items(offline=True), min_size=1, max_size=6).map(lambda items: {"scans": items}),
    st.lists(scan_items(offline=True), max_size=3).map(lambda items: {"scans": items, "extra": 1}),
    json_values.map(lambda value: {"scans": value}),
    json_values,
)


@pytest.fixture
def gate(session):
    clear = make_order(session, tracking_no="SF1234567890123")
    blocked = make_order(session, tracking_no="YT1234567890123")
    refund(session, blocked)
    return clear, blocked


@fuzz(1.5)
@given(body=batches)
def test_generated_batches_are_answered_or_refused_whole(client, engine, stations, gate, backend, body):
    station_id, headers = stations["bench-a"]
    items = body.get("scans") if isinstance(body, dict) else None
    known = set()
    if isinstance(items, list):
        for item in items:
            scan_id = item.get("scan_id") if isinstance(item, dict) else None
            if isinstance(scan_id, str) and len(scan_id) <= 64 and scan_exists(engine, station_id, scan_id):
                known.add(scan_id)
    before = row_counts(engine)
    response = client.post(BATCH_URL, data=dumps(body), content_type="application/json", headers=headers)
    after = row_counts(engine)
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    if response.status_code != 200:
        check_refusal(response)
        assert changed(before, after) == {}
        return
    results = response.get_json()["results"]
    assert [r["scan_id"] for r in results] == [item["scan_id"] for item in items]
    fresh = set()
    opened = 0
    for result, item in zip(results, items, strict=True):
        check_answer(result, item["scan_id"], online=False)
        first_time = item["scan_id"] not in known and item["scan_id"] not in fresh
        assert result["duplicate"] is (not first_time)
        if first_time:
            fresh.add(item["scan_id"])
            assert result["station_decision"] == item["station_decision"]
            if not is_lead_code(item["code"]):  # a lead's own code opens nothing
                opened += result["decision"] != "PASS" or item["station_decision"] != "PASS"
    assert after["scans"] - before["scans"] == len(fresh)
    assert after["exceptions"] - before["exceptions"] == opened
    rest = {k: v for k, v in changed(before, after).items() if k not in ("scans", "exceptions")}
    assert rest == {}


def offline(scan_id: str, code: str, decision: str = "PASS", reason: str = "clear") -> dict:
    return {
        "scan_id": scan_id,
        "code": code,
        "scanned_at": NOW,
        "station_decision": decision,
        "station_reason": reason,
        "station_gate_version": 3,
    }


def test_a_batch_over_the_limit_is_refused_and_stores_nothing(client, engine, stations):
    _station_id, headers = stations["bench-a"]
    before = row_counts(engine)
    body = {"scans": [offline(f"s{i}", "SF1234567890123") for i in range(BATCH_LIMIT + 1)]}
    response = client.post(BATCH_URL, json=body, headers=headers)
    assert response.status_code == 400 and response.get_json()["error"] == "batch_too_large"
    assert row_counts(engine) == before


def test_one_bad_scan_refuses_the_whole_batch(client, engine, stations):
    _station_id, headers = stations["bench-a"]
    before = row_counts(engine)
    body = {"scans": [offline("ok-1", "SF1234567890123"), {**offline("bad", "x"), "station_decision": "NO"}]}
    response = client.post(BATCH_URL, json=body, headers=headers)
    check_refusal(response)
    assert "scans[1]" in response.get_json()["message"]
    assert row_counts(engine) == before


def test_a_full_batch_sent_twice_is_journaled_once(client, engine, stations, gate):
    _station_id, headers = stations["bench-a"]
    _clear, blocked = gate
    body = {"scans": [offline(f"b{i}", blocked.order_id) for i in range(BATCH_LIMIT)]}
    first = client.post(BATCH_URL, json=body, headers=headers)
    assert first.status_code == 200
    assert {r["decision"] for r in first.get_json()["results"]} == {"BLOCK"}
    before = row_counts(engine)
    again = client.post(BATCH_URL, json=body, headers=headers)
    assert all(r["duplicate"] for r in again.get_json()["results"])
    assert row_counts(engine) == before
    assert before["scans"] == before["exceptions"] == BATCH_LIMIT  # PASS offline, BLOCK here


@pytest.mark.parametrize("field", ["station_decision", "station_reason"])
def test_a_list_as_station_decision_is_refused_with_400(client, engine, stations, field):
    _station_id, headers = stations["bench-a"]
    before = row_counts(engine)
    item = {**offline("u-1", "SF1234567890123"), field: ["PASS"]}
    response = client.post(BATCH_URL, json={"scans": [item]}, headers=headers)
    check_refusal(response)
    assert row_counts(engine) == before


@fuzz(1.0)
@given(example=hostile(batches), inside=hostile(scan_items(offline=True)), where=st.booleans())
def test_hostile_json_batches_are_refused_whole_with_their_reason(
    client, engine, stations, example, inside, where
):
    """The hostile part as the whole body, or as one scan among valid ones."""
    kind, raw = example
    if where and inside[0] not in ("scalar", "bom"):  # (a scalar or BOM among items is just not JSON)
        kind, item = inside
        good = dumps({"scan_id": "ok-1", "code": "SF1234567890123", "scanned_at": NOW})
        raw = b'{"scans": [' + good + b", " + item + b"]}"
    _station_id, headers = stations["bench-a"]
    before = row_counts(engine)
    response = client.post(BATCH_URL, data=raw, content_type="application/json", headers=headers)
    check_hostile_refusal(response, kind)
    assert row_counts(engine) == before
