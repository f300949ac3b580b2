"""The alert fan-out and the fail-closed rule: nothing on the bench can announce a BLOCK -> HOLD."""

from __future__ import annotations

import pytest
from polling import wait_until
from station_testkit import ORDER_OK, ORDER_REFUNDED

from shipgate.wire import Decision
from station.alerts import Alerts, Event, Kind, View, can_announce_block, health_alarm, no_alarm
from station.decision import LocalReason, Outcome, Source


class Recorder:
    """A channel that records what it was told (its health is set by the test)."""

    def __init__(self, working: bool = True) -> None:
        self.working = working
        self.events: list[Event] = []
        self.views: list[View] = []

    def announce(self, event: Event) -> None:
        self.events.append(event)

    def status(self, view: View) -> None:
        self.views.append(view)


class Broken(Recorder):
    def announce(self, event: Event) -> None:
        raise RuntimeError("speaker on fire")


@pytest.mark.parametrize(
    ("printer", "channels", "expected"),
    [
        ("ready", [], True),
        ("unknown", [], True),  # a printer that never answers status is not an alarm
        ("paper_near_end", [], True),  # still prints
        ("offline", [], False),
        ("paper_out", [False, False, False], False),
        ("cover_open", [False], False),
        ("paper_out", [False, True], True),
        ("offline", [True], True),
    ],
)
def test_the_fail_closed_rule(printer, channels, expected):
    assert can_announce_block(printer, channels) is expected


def _outcome(decision: Decision) -> Outcome:
    return Outcome("s1", ORDER_OK, decision, "clear", "可发货", Source.ONLINE, order_id=ORDER_OK)


def test_must_hold_follows_the_channels_health():
    alerts = Alerts({"screen": Recorder(working=False), "light": Recorder(working=False)})
    assert alerts.must_hold("paper_out")
    assert not alerts.must_hold("ready")
    alerts.channels["light"].working = True
    assert not alerts.must_hold("paper_out")
    assert Alerts().must_hold("offline")  # no channel at all and no printer


def test_no_alarm_is_a_local_hold_in_chinese():
    held = no_alarm("s1", ORDER_OK)
    assert (held.decision, held.reason, held.source) == (
        Decision.HOLD,
        LocalReason.NO_ALARM.value,
        Source.LOCAL,
    )
    assert "暂停发货" in held.message


def test_a_failing_channel_does_not_stop_the_others():
    good = Recorder()
    alerts = Alerts({"voice": Broken(), "screen": good})
    alerts.decided(_outcome(Decision.BLOCK), View(decision="BLOCK"))
    assert [e.kind for e in good.events] == [Kind.BLOCK]


def test_health_alarms_are_announced_once_when_they_start():
    rec = Recorder()
    alerts = Alerts({"light": rec})
    alerts.status(View(online=False, printer="ready"))  # starting up: not yet in contact
    alerts.status(View(online=True, printer="ready"))
    alerts.status(View(online=True, printer="paper_out"))
    alerts.status(View(online=True, printer="paper_out"))
    alerts.status(View(online=False, printer="ready"))
    assert [(e.kind, e.reason) for e in rec.events] == [(Kind.PRINTER, "paper_out"), (Kind.OFFLINE, None)]
    assert health_alarm(View(online=True, printer="unknown")) is None


def test_the_bench_holds_every_scan_while_the_printer_is_down_and_nothing_else_works(
    make_bench, capture_printer, gate_server
):
    light = Recorder(working=False)
    parts = make_bench(alerts=Alerts({"light": light}))
    bench = parts.bench
    assert bench.handle(ORDER_OK).decision is Decision.PASS
    capture_printer.close()  # the printer goes away: the next slip fails
    bench.handle(ORDER_OK)
    assert wait_until(lambda: parts.printer.state.value == "offline")
    refunded = bench.handle(ORDER_REFUNDED)
    assert (refunded.decision, refunded.reason) == (Decision.HOLD, "no_alarm")
    ok = bench.handle(ORDER_OK)
    assert (ok.decision, ok.reason) == (Decision.HOLD, "no_alarm")
    entry = parts.journal.get(ok.scan_id)
    assert (entry.decision, entry.upload) == ("HOLD", "pending")  # journaled as held, uploaded later
    assert ok.scan_id not in gate_server.scans  # the server was not asked
    light.working = True  # the light comes back: blocks are announced again
    assert bench.handle(ORDER_REFUNDED).decision is Decision.BLOCK
    assert [e.kind for e in light.events if e.kind in (Kind.BLOCK, Kind.HOLD)][-1] is Kind.BLOCK


def test_the_bench_tells_every_channel_and_counts_today(make_bench):
    rec = Recorder()
    parts = make_bench(alerts=Alerts({"screen": rec}))
    parts.bench.handle(ORDER_REFUNDED)
    parts.bench.handle(ORDER_OK)
    assert [e.kind for e in rec.events if e.kind in (Kind.BLOCK, Kind.PASS)] == [Kind.BLOCK, Kind.PASS]
    last = rec.views[-1]
    assert (last.decision, last.order_id, last.station) == ("PASS", ORDER_OK, "A-01")
    assert last.counts == {"BLOCK": 1, "PASS": 1}


def test_the_acknowledgement_code_unlatches(make_bench):
    rec = Recorder()
    parts = make_bench(alerts=Alerts({"light": rec}, ack_code="SG-ACK-1"))
    parts.bench.handle(ORDER_REFUNDED)
    assert parts.bench.handle("SG-ACK-1") is None  # no decision, nothing journaled
    assert rec.events[-1].kind is Kind.CLEAR


def test_the_heartbeat_names_each_channels_health():
    alerts = Alerts({"screen": Recorder(working=True), "light": Recorder(working=False)})
    assert alerts.heartbeat() == {"screen": "ok", "voice": "off", "light": "down"}
