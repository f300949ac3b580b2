"""The wire contract's bodies: each round-trips through JSON, and a body off the contract is
refused with the field it is about."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from shipgate.wire import (
    BatchAnswer,
    BatchRequest,
    BatchResult,
    Decision,
    ForwardAnswer,
    Forwarding,
    ForwardingAnswer,
    ForwardingRequest,
    ForwardReport,
    GateEntry,
    GateFeed,
    Heartbeat,
    HeartbeatReply,
    LocalReason,
    Reason,
    ScanAnswer,
    ScanClock,
    ScanMode,
    ScanRequest,
    SentClock,
    Waybill,
    WaybillItem,
    WireError,
)

AT = datetime(2026, 11, 26, 1, 2, 3, 456000, tzinfo=UTC)
WAYBILL = Waybill(
    "SF1234567890123", "顺丰速运", "4800000000000000001", (WaybillItem("4900000000000000002", "T恤"),)
)
ANSWER = ScanAnswer(
    "s-1", Decision.HOLD, Reason.PARTIAL_REFUND, "部分商品已退款", "4800000000000000001",
    ("4900000000000000002",), 7, AT, 12, None,
)  # fmt: skip
OFFLINE = ScanRequest(
    "s-2", "SF1234567890123", AT, "P001", ScanMode.HANDOVER, Decision.HOLD, LocalReason.DISK_FULL, 3
)


def through_json(body):
    return json.loads(json.dumps(body.to_json()))


@pytest.mark.parametrize(
    ("body", "parse"),
    [
        (ScanRequest("s-1", "4800000000000000001", AT), lambda d: ScanRequest.from_json(d, offline=False)),
        (OFFLINE, lambda d: ScanRequest.from_json(d, offline=True)),
        (BatchRequest((OFFLINE,)), BatchRequest.from_json),
        (ScanRequest("s-3", "SF1", AT, clock=ScanClock(False, "boot-1", 12.5)), lambda d: ScanRequest.from_json(d, offline=False)),
        (BatchRequest((OFFLINE,), SentClock("boot-1", 600.0)), BatchRequest.from_json),
        (replace(ANSWER, items_out=("蓝色T恤 L×1",)), ScanAnswer.from_json),
        (Heartbeat(screen="ok", voice="down", light="off", clock_synced="no", disk_written_bytes=4096), Heartbeat.from_json),
        (HeartbeatReply(True, AT, 4, "打包台1"), HeartbeatReply.from_json),
        (ANSWER, ScanAnswer.from_json),
        (BatchAnswer((BatchResult(ANSWER, Decision.PASS, Reason.CLEAR, True),)), BatchAnswer.from_json),
        (GateFeed(9, (GateEntry("4800000000000000001", Decision.BLOCK, Reason.REFUNDED, (), ("SF1",), 9),), 9, False),
         GateFeed.from_json),
        (Heartbeat(software_version="0.1.0", replica_age_s=1.5, queue_depth=0), Heartbeat.from_json),
        (HeartbeatReply(True, AT, 4), HeartbeatReply.from_json),
        (WAYBILL, Waybill.from_json),
        (ForwardingRequest((ForwardReport("s-1", Forwarding.FAILED, AT, "设备未连接"),)), ForwardingRequest.from_json),
        (ForwardingAnswer((ForwardAnswer("s-1", True), ForwardAnswer("s-2", False, "unknown_scan"))),
         ForwardingAnswer.from_json),
    ],
)  # fmt: skip
def test_every_body_round_trips(body, parse):
    assert parse(through_json(body)) == body


def test_one_name_for_the_sku_orders_to_take_out():
    assert through_json(ANSWER)["sku_order_ids_out"] == ["4900000000000000002"]
    assert "sku_order_ids" not in through_json(ANSWER)
    assert str(WAYBILL.items[0]) == "T恤 ×1"


@pytest.mark.parametrize(
    ("change", "field", "error"),
    [
        ({"scan_id": "has space"}, "scans[0].scan_id", "invalid_field"),
        ({"station_decision": "MAYBE"}, "scans[0].station_decision", "invalid_field"),
        ({"station_reason": "because"}, "scans[0].station_reason", "invalid_field"),
        ({"scanned_at": "2026-11-26T09:00:00"}, "scans[0].scanned_at", "invalid_field"),
        ({"mode": "packing"}, "scans[0].mode", "invalid_field"),
        ({"extra": 1}, "scans[0].extra", "unknown_field"),
    ],
)
def test_a_bad_upload_names_its_field(change, field, error):
    item = {**OFFLINE.to_json(), **change}
    with pytest.raises(WireError) as refused:
        BatchRequest.from_json({"scans": [item]})
    assert (refused.value.field, refused.value.error) == (field, error)
    assert refused.value.message  # zh-CN for the 4xx body


def test_an_answer_off_the_contract_is_refused():
    body = through_json(ANSWER)
    for change, field in [
        ({"reason": "new_reason"}, "reason"),
        ({"order_id": 4800000000000000001}, "order_id"),  # never a number: 19 digits exceed 2^53
        ({"sku_order_ids_out": "49"}, "sku_order_ids_out"),
        ({"gate_version": True}, "gate_version"),
        ({"waybill": {"tracking_no": None}}, "waybill.tracking_no"),
    ]:
        with pytest.raises(WireError) as refused:
            ScanAnswer.from_json({**body, **change})
        assert refused.value.field == field
    with pytest.raises(WireError):
        BatchRequest.from_json({"scans": [OFFLINE.to_json()] * 501})


def test_a_forwarding_report_off_the_contract_names_its_field():
    good = ForwardReport("s-1", Forwarding.FORWARDED, AT).to_json()
    for change, field in [
        ({"state": "typed"}, "reports[0].state"),
        ({"at": "2026-11-26T09:00:00"}, "reports[0].at"),  # no offset: ambiguous
        ({"scan_id": "has space"}, "reports[0].scan_id"),
        ({"problem": "x" * 501}, "reports[0].problem"),
        ({"extra": 1}, "reports[0].extra"),
    ]:
        with pytest.raises(WireError) as refused:
            ForwardingRequest.from_json({"reports": [{**good, **change}]})
        assert refused.value.field == field
    for reports in ([], [good] * 501):
        with pytest.raises(WireError):
            ForwardingRequest.from_json({"reports": reports})
    with pytest.raises(WireError):
        ForwardingAnswer.from_json({"results": [{"scan_id": "s-1", "stored": False, "error": "lost"}]})
