"""The bench, built in-process from real parts: a pty scanner, the loopback gate server, SQLite
replica and journal, a TCP printer. Online, offline, invalid codes, badges, lead codes, a dead
printer, a full disk, handover mode, recovery, and the uplink coming back."""

from __future__ import annotations

import io

from polling import wait_until
from station_testkit import (
    ORDER_OK,
    ORDER_PARTIAL,
    ORDER_REFUNDED,
    SKU_PARTIAL_OUT,
    TRACKING_OK,
    TRACKING_REFUNDED,
    in_order,
)

from shipgate.wire import Decision
from station.decision import Source
from station.display import PlainDisplay
from station.scanner import ScannerState
from station.slips import CHINESE_ON, RED_OFF, RED_ON
from station.status import heartbeat_payload

CUT = b"\x1dV"


def gb(text: str) -> bytes:
    return text.encode("gb18030")


def test_scan_on_the_pty_prints_the_red_slip(make_bench, virtual_scanner, capture_printer, gate_server):
    parts = make_bench(scanner_device=virtual_scanner.path)
    assert wait_until(lambda: parts.bench.scanner.state is ScannerState.CONNECTED)
    virtual_scanner.write(b"YT12345")
    virtual_scanner.write(b"67890123\r")
    assert capture_printer.wait_for_jobs(1)
    data = capture_printer.output()
    scan_id = parts.journal.entries()[0].scan_id
    assert in_order(
        data, CHINESE_ON, RED_ON, gb("已退款"), RED_OFF, b"\x1d(k", b"SG-EX-" + scan_id.encode(), CUT
    )
    [entry] = parts.journal.entries()
    assert (entry.code, entry.decision, entry.source, entry.upload) == (
        TRACKING_REFUNDED,
        "BLOCK",
        "online",
        "none",
    )
    assert list(gate_server.scans) == [scan_id]
    assert parts.bench.link.online


def test_pass_prints_a_check_slip_not_a_waybill(make_bench, capture_printer):
    parts = make_bench()
    outcome = parts.bench.handle(ORDER_OK)
    assert (outcome.decision, outcome.source, outcome.waybill.tracking_no) == (
        Decision.PASS,
        Source.ONLINE,
        TRACKING_OK,
    )
    assert capture_printer.wait_for_jobs(1)
    data = capture_printer.output()
    assert in_order(data, gb("可发货"), gb("核对单 非运单"), gb("运单号：" + TRACKING_OK), CUT)
    assert b"\x1dk" not in data


def test_partial_refund_names_the_sku_to_take_out(make_bench, capture_printer):
    outcome = make_bench().bench.handle(SKU_PARTIAL_OUT)
    assert (outcome.decision, outcome.reason, outcome.order_id) == (
        Decision.HOLD,
        "partial_refund",
        ORDER_PARTIAL,
    )
    assert capture_printer.wait_for_jobs(1)
    assert in_order(
        capture_printer.output(), gb("暂停发货"), gb("请取出退款商品："), SKU_PARTIAL_OUT.encode()
    )


def test_badge_signs_in_and_is_remembered(make_bench, gate_server, tmp_path):
    parts = make_bench()
    assert parts.bench.handle("SG-OP-A12") is None
    assert parts.journal.entries() == [] and gate_server.received == []
    parts.bench.handle(ORDER_OK)
    assert parts.journal.entries()[0].operator == "A12"
    assert parts.bench.status().operator == "A12"
    assert parts.journal.get_meta("operator") == "A12"


def test_invalid_code_holds_locally_without_asking(make_bench, gate_server, capture_printer):
    parts = make_bench()
    outcome = parts.bench.handle("hello\x07world")
    assert (outcome.decision, outcome.reason, outcome.source) == (Decision.HOLD, "invalid_code", Source.LOCAL)
    assert gate_server.received == []
    [entry] = parts.journal.entries()
    assert entry.decision == "HOLD" and entry.upload == "pending"  # journaled; the server gets it later
    assert capture_printer.wait_for_jobs(1)
    assert gb("无法识别的条码 请重新扫描") in capture_printer.output()
    parts.uplink.sync_once()
    assert gate_server.received == [entry.scan_id]


def test_lead_codes_go_to_the_server_whole_and_print_nothing(make_bench, gate_server, capture_printer):
    parts = make_bench()
    parts.bench.handle("SG-OP-LEAD1")
    parts.bench.handle("SG-EX-3f2b8c1e-8d7a-4c36")
    parts.bench.handle("]Q3SG-RS-released")
    assert [r["code"] for r in gate_server.requests] == ["SG-EX-3f2b8c1e-8d7a-4c36", "SG-RS-released"]
    assert {r["operator"] for r in gate_server.requests} == {"LEAD1"}
    assert all(e.operator == "LEAD1" for e in parts.journal.entries())
    parts.printer.drain()
    assert capture_printer.jobs == []


def test_offline_decides_from_the_replica_then_uploads(make_bench, gate_server, capture_printer):
    parts = make_bench()
    assert parts.uplink.sync_once() and parts.replica.version == 3
    gate_server.stop()

    block = parts.bench.handle(TRACKING_REFUNDED)
    ok = parts.bench.handle(ORDER_OK)
    unknown = parts.bench.handle("6920000000000009999")
    assert (block.decision, block.source, block.gate_version) == (Decision.BLOCK, Source.OFFLINE, 3)
    assert (ok.decision, ok.waybill) == (Decision.PASS, None)
    assert (unknown.decision, unknown.reason) == (Decision.HOLD, "unknown_order")
    assert not parts.bench.link.online and parts.journal.queue_depth() == 3
    assert capture_printer.wait_for_jobs(3)
    assert in_order(
        capture_printer.output(), RED_ON, gb("已退款"), gb("离线判定"), gb("可发货"), gb("查无此订单")
    )

    gate_server.start()  # same port: the server is back
    assert parts.uplink.sync_once()
    assert parts.journal.queue_depth() == 0 and parts.bench.link.online
    assert gate_server.received == [e.scan_id for e in parts.journal.entries()]
    assert [e.server_decision for e in parts.journal.entries()] == ["BLOCK", "PASS", "HOLD"]


def test_offline_with_a_stale_replica_holds(make_bench, gate_server, clock):
    parts = make_bench()
    parts.uplink.sync_once()
    gate_server.stop()
    clock.advance(601)
    outcome = parts.bench.handle(ORDER_OK)
    assert (outcome.decision, outcome.reason) == (Decision.HOLD, "stale_replica")
    assert parts.bench.status().replica_stale


def test_wrong_token_is_reported_as_such(make_bench, gate_server):
    parts = make_bench(token="not-the-token")
    outcome = parts.bench.handle(ORDER_OK)
    assert outcome.source is Source.OFFLINE and outcome.reason == "stale_replica"
    assert parts.bench.link.problem == "令牌无效" and gate_server.received == []


def test_printer_offline_decision_stands_and_is_shown(make_bench, capture_printer, gate_server):
    capture_printer.close()
    stream = io.StringIO()
    parts = make_bench(display=PlainDisplay(stream))
    outcome = parts.bench.handle(ORDER_REFUNDED)
    assert outcome.decision is Decision.BLOCK
    assert parts.printer.drain()
    assert parts.journal.entries()[0].decision == "BLOCK" and len(gate_server.scans) == 1
    parts.bench.refresh()
    assert parts.bench.status().printer == "offline"
    lines = stream.getvalue().splitlines()
    assert any("[BLOCK] 已退款 请勿发货" in line for line in lines) and "打印机 离线" in lines[-1]


def test_disk_full_holds_and_alarms(make_bench, gate_server, capture_printer):
    parts = make_bench()
    parts.bench.handle(ORDER_OK)
    conn = parts.journal._conn
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")  # the disk is now (nearly) full
    for i in range(1000):  # fill whatever free pages are left
        outcome = parts.bench.handle(f"69{i:017d}")
        if outcome.reason == "disk_full":
            break
    assert parts.printer.drain(10)  # (many slips were dropped: the spooler holds 16)
    sent = len(gate_server.received)
    outcome = parts.bench.handle(ORDER_REFUNDED)
    assert (outcome.decision, outcome.reason, outcome.scan_id) == (Decision.HOLD, "disk_full", None)
    assert outcome.message.startswith("磁盘已满")
    assert parts.bench.status().alarm == outcome.message
    assert len(gate_server.received) == sent  # a scan that is not journaled is not acted on
    assert parts.printer.drain() and capture_printer.wait_for_jobs(parts.printer.printed)
    assert gb("磁盘已满") in capture_printer.jobs[-1].data
    conn.execute("PRAGMA max_page_count = 1000000")  # space again: the alarm clears with the next scan
    assert parts.bench.handle(ORDER_OK).decision is Decision.PASS and parts.bench.alarm is None


def test_handover_mode_prints_only_what_must_not_ship(make_bench, capture_printer, gate_server):
    parts = make_bench(mode="handover")
    assert parts.bench.handle(ORDER_OK).decision is Decision.PASS
    assert parts.bench.handle(ORDER_REFUNDED).decision is Decision.BLOCK
    assert capture_printer.wait_for_jobs(1)
    parts.printer.drain()
    assert len(capture_printer.jobs) == 1 and gb("已退款") in capture_printer.output()
    assert {e.mode for e in parts.journal.entries()} == {"handover"}


def test_undecided_scans_are_decided_on_start(make_bench, gate_server):
    parts = make_bench(start=False)
    left = [parts.journal.record(code, "A12", "bench", "2024-05-01T08:00:00.000+00:00") for code in
            (ORDER_REFUNDED, "junk!", "SG-DR-7Kq2xV9p", "SG-RS-misscan")]  # fmt: skip
    parts.bench.start()
    assert parts.journal.undecided() == []
    # as the running path decides them offline: a drill code still BLOCKs (the server then
    # records a passed drill), a lead code is queued for the server
    assert [(e.decision, e.reason) for e in parts.journal.pending()] == [
        ("HOLD", "stale_replica"), ("HOLD", "invalid_code"), ("BLOCK", "drill"), ("HOLD", "unknown_order"),
    ]  # fmt: skip
    parts.uplink.sync_once()
    assert gate_server.received == [e.scan_id for e in left]


def test_uplink_thread_syncs_heartbeats_and_catches_up_when_the_server_returns(make_bench, gate_server):
    parts = make_bench()
    uplink = parts.uplink
    uplink.status = lambda: heartbeat_payload(parts.bench.status(), "0.1.0")
    uplink.sync_interval_s, uplink.heartbeat_s = 3600, 3600  # only kicks move it after the first round
    uplink.start()
    try:
        assert wait_until(lambda: parts.replica.version == 3 and gate_server.heartbeats)
        beat = gate_server.heartbeats[0]
        assert (
            beat["replica_version"] in (0, 3) and beat["scanner"] == "disconnected" and beat["rss_bytes"] > 0
        )
        gate_server.stop()
        parts.bench.handle(ORDER_REFUNDED)
        assert parts.journal.queue_depth() == 1 and not parts.bench.link.online
        gate_server.start()
        parts.bench.handle(ORDER_OK)  # answered online: the link is back, the uplink is kicked
        assert wait_until(lambda: parts.journal.queue_depth() == 0)
        assert len(gate_server.scans) == 2
    finally:
        uplink.stop()
