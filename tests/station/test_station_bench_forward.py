"""The inline gate on the bench: a PASS, and only a PASS, is typed into the simulated packing PC
(USB gadget on a pty), after the decision and journaled; a failure alarms and is recorded."""

from __future__ import annotations

from station_testkit import ORDER_OK, ORDER_PARTIAL, ORDER_REFUNDED, TRACKING_OK, TRACKING_REFUNDED, in_order

from shipgate.wire import Decision
from station.decision import invalid_code
from station.forward import FORWARD_FAILED, HidgForwarder
from station.forwardlog import ForwardLog, ForwardOutcome


def gb(text: str) -> bytes:
    return text.encode("gb18030")


def test_a_pass_types_exactly_the_code_and_enter(make_bench, gadget, packing_pc, capture_printer):
    parts = make_bench(forwarder=HidgForwarder(gadget.path), pass_slip=False)
    outcome = parts.bench.handle(ORDER_OK)
    assert outcome.decision is Decision.PASS
    assert packing_pc.wait_for(1)
    assert [(r.code, r.end) for r in packing_pc.received] == [(ORDER_OK, "\n")]
    record = ForwardLog(parts.data_dir / "journal.sqlite3").get(outcome.scan_id)
    assert record.state is ForwardOutcome.FORWARDED and record.finished_at >= record.started_at
    parts.printer.drain()
    assert capture_printer.jobs == []  # on_pass = "none": the ERP prints the real waybill


def test_the_code_goes_as_scanned_not_as_classified(make_bench, gadget, packing_pc):
    parts = make_bench(forwarder=HidgForwarder(gadget.path))
    parts.bench.handle("]C0" + TRACKING_OK.lower())  # AIM prefix stripped, case kept
    assert packing_pc.wait_for(1) and packing_pc.codes() == [TRACKING_OK.lower()]


def test_block_hold_garbage_badges_lead_and_drill_codes_never_reach_the_pc(make_bench, gadget, packing_pc):
    parts = make_bench(forwarder=HidgForwarder(gadget.path))
    for code in (ORDER_REFUNDED, TRACKING_REFUNDED, ORDER_PARTIAL, "6920000000000009999", "junk!!",
                 "SG-OP-LEAD1", "SG-EX-3f2b8c1e-8d7a-4c36", "SG-RS-released", "SG-DR-abc123"):  # fmt: skip
        outcome = parts.bench.handle(code)
        assert outcome is None or outcome.decision is not Decision.PASS
    parts.bench.handle(ORDER_OK)  # a PASS afterwards: the first and only thing the PC ever got
    assert packing_pc.wait_for(1)
    assert packing_pc.codes() == [ORDER_OK] and packing_pc.reports == 2 * (len(ORDER_OK) + 1)


def test_offline_a_fresh_replica_forwards_and_a_stale_one_holds(
    make_bench, gadget, packing_pc, gate_server, clock
):
    parts = make_bench(forwarder=HidgForwarder(gadget.path))
    assert parts.uplink.sync_once()
    gate_server.stop()
    assert parts.bench.handle(ORDER_REFUNDED).decision is Decision.BLOCK
    ok = parts.bench.handle(ORDER_OK)
    assert ok.decision is Decision.PASS and ok.source.value == "offline"
    assert packing_pc.wait_for(1) and packing_pc.codes() == [ORDER_OK]
    clock.advance(601)
    assert parts.bench.handle(ORDER_OK).reason == "stale_replica"
    assert packing_pc.codes() == [ORDER_OK]


def test_an_unplugged_device_alarms_prints_and_is_journaled(make_bench, gadget, packing_pc, capture_printer):
    parts = make_bench(forwarder=HidgForwarder(gadget.path), pass_slip=False)
    gadget.unplug()
    outcome = parts.bench.handle(ORDER_OK)
    assert outcome.decision is Decision.PASS  # the decision stands; the waybill did not print
    assert parts.bench.alarm == FORWARD_FAILED and parts.bench.status().alarm == FORWARD_FAILED
    log = ForwardLog(parts.data_dir / "journal.sqlite3")
    record = log.get(outcome.scan_id)
    assert record.state is ForwardOutcome.FAILED and "hidg0" in record.problem
    assert [r.scan_id for r in log.pending()] == [outcome.scan_id]
    assert capture_printer.wait_for_jobs(1)
    assert in_order(capture_printer.output(), gb("转发失败"), gb("运单未打印"), gb(ORDER_OK))

    gadget.plug()  # back: the next PASS goes through and the alarm clears
    again = parts.bench.handle(ORDER_OK)
    assert packing_pc.wait_for(1) and packing_pc.codes() == [ORDER_OK]
    assert log.get(again.scan_id).forwarded and parts.bench.alarm is None


def test_without_a_forwarder_nothing_is_journaled_as_forwarded(make_bench, capture_printer):
    parts = make_bench()
    outcome = parts.bench.handle(ORDER_OK)
    assert ForwardLog(parts.data_dir / "journal.sqlite3").get(outcome.scan_id) is None
    assert capture_printer.wait_for_jobs(1) and gb("可发货") in capture_printer.output()


def test_typing_interrupted_by_a_crash_is_recorded_as_unknown_and_never_retyped(
    make_bench, gadget, packing_pc, tmp_path
):
    parts = make_bench(forwarder=HidgForwarder(gadget.path), start=False)
    log = ForwardLog(parts.data_dir / "journal.sqlite3")
    log.begin("scan-that-was-being-typed", "2026-01-01T00:00:00.000+00:00")
    parts.bench.start()
    record = log.get("scan-that-was-being-typed")
    assert record.state is ForwardOutcome.UNKNOWN and [r.scan_id for r in log.pending()] == [record.scan_id]
    assert packing_pc.reports == 0


def test_a_journal_that_cannot_record_the_intent_types_nothing(make_bench, gadget, packing_pc):
    parts = make_bench(forwarder=HidgForwarder(gadget.path))
    outcome = parts.bench.handle(ORDER_OK)
    assert packing_pc.wait_for(1)
    parts.bench.forward_log.begin(outcome.scan_id + "x", "t")  # fine
    parts.bench.forward_log.close()  # now every write fails
    again = parts.bench.handle(ORDER_OK)
    assert again.decision is Decision.PASS and parts.bench.alarm == FORWARD_FAILED
    assert packing_pc.codes() == [ORDER_OK]  # the second one never typed


def test_the_uplink_reports_forwarding_after_the_scans_and_drops_what_can_never_land(
    make_bench, gadget, packing_pc, gate_server
):
    parts = make_bench(forwarder=HidgForwarder(gadget.path))
    log = ForwardLog(parts.data_dir / "journal.sqlite3")
    uplink = parts.uplink
    uplink.forward_log = log
    online = parts.bench.handle(ORDER_OK)  # on the server already
    assert uplink.sync_once()
    assert [r["scan_id"] for r in gate_server.forward_reports] == [online.scan_id]
    assert gate_server.forward_reports[0]["state"] == "forwarded" and log.pending() == []

    log.begin("never-uploaded", "2026-01-01T00:00:00.000+00:00")  # a scan the server does not know yet
    log.finish("never-uploaded", False, "2026-01-01T00:00:01.000+00:00", "EIO")
    assert uplink.sync_once() and [r.scan_id for r in log.pending()] == ["never-uploaded"]  # kept for later

    entry = parts.journal.record("SF1234567890123", None, "bench", "2026-01-01T00:00:00.000+00:00")
    parts.journal.decide(
        entry.scan_id, invalid_code(entry.scan_id, entry.code), "2026-01-01T00:00:00.000+00:00"
    )
    parts.journal.mark_rejected([entry.scan_id])  # a scan the server refused for good
    log.begin(entry.scan_id, "2026-01-01T00:00:00.000+00:00")
    log.finish(entry.scan_id, True, "2026-01-01T00:00:01.000+00:00")
    assert uplink.sync_once()
    assert [r.scan_id for r in log.pending()] == ["never-uploaded"]  # the refused scan's report dropped


def test_the_fail_closed_hold_forwards_nothing(make_bench, gadget, packing_pc, capture_printer):
    """HOLD no_alarm (the printer down and no screen, voice or light working) types nothing."""
    from polling import wait_until

    from station.alerts import Alerts

    parts = make_bench(forwarder=HidgForwarder(gadget.path), alerts=Alerts())  # no channel at all
    bench = parts.bench
    assert bench.handle(ORDER_OK).decision is Decision.PASS  # the printer still answers
    assert packing_pc.wait_for(1) and packing_pc.codes() == [ORDER_OK]
    capture_printer.close()  # the printer goes away: the next slip fails
    bench.handle(TRACKING_REFUNDED)
    assert wait_until(lambda: parts.printer.state.value == "offline")
    held = bench.handle(ORDER_OK)
    assert (held.decision, held.reason) == (Decision.HOLD, "no_alarm")
    assert ForwardLog(parts.data_dir / "journal.sqlite3").get(held.scan_id) is None  # never attempted
    assert packing_pc.codes() == [ORDER_OK]  # the first PASS only
