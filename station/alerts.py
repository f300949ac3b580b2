"""Every way the bench announces a decision besides the slip, and the rule that a BLOCK must be
announced by something.

    bench --(decision, status)--> Alerts --> screen (page), voice (player), light (tower)

`Alerts` is the one fan-out the bench calls after each decision (`decided`) and on each refresh
(`status`); each channel's failure is its own (logged, never raised into the bench). Channels are
duck-typed: `announce(event)`, `status(view)` (optional), `working` (bool) and optional
`start()` / `stop()`.

The fail-closed rule is pure: `can_announce_block(printer, channels)` is False when the printer
cannot print a red slip and no screen, voice or light works; then `guard` turns every decision
into HOLD no_alarm (which also forwards nothing) until one can.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from shipgate.wire import Decision, Reason
from station.decision import LOCAL_MESSAGES, LocalReason, Outcome, Source

log = logging.getLogger(__name__)

# Printer states (station.printer.PrinterState values) in which a slip cannot come out.
PRINTER_ALARMS = {
    "offline": "打印机离线",
    "paper_out": "打印机缺纸",
    "cover_open": "打印机上盖打开",
}
PRINTER_WARNINGS = {"paper_near_end": "打印纸即将用完"}


CHANNELS = ("screen", "voice", "light")


class Kind(StrEnum):
    """What an announcement is about: each has its own sound, colour and light."""

    PASS = "pass"
    BLOCK = "block"
    HOLD = "hold"
    OFFLINE = "offline"
    PRINTER = "printer"
    CLEAR = "clear"  # a lead cleared the latched BLOCK


@dataclass(frozen=True)
class Event:
    kind: Kind
    reason: str | None = None  # a wire or local reason (HOLD kinds differ by reason)
    outcome: Outcome | None = None


@dataclass(frozen=True)
class View:
    """The facts every channel may show: one decision plus the station's health (state.json)."""

    decision: str | None = None
    label: str | None = None  # the headline: 已退款 请勿发货 / 暂停发货 / 可发货
    reason: str | None = None
    message: str | None = None
    order_id: str | None = None
    code: str | None = None
    items_out: tuple[str, ...] = ()
    operator: str | None = None
    online: bool = False
    replica_age_s: float | None = None
    printer: str = "unknown"
    scanner: str = "disconnected"
    forward: str = "none"
    at: str | None = None
    station: str = "station"
    alarm: str | None = None
    counts: Mapping[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "label": self.label,
            "reason": self.reason,
            "message": self.message,
            "order_id": self.order_id,
            "code": self.code,
            "items_out": list(self.items_out),
            "operator": self.operator,
            "online": self.online,
            "replica_age_s": None if self.replica_age_s is None else round(self.replica_age_s, 1),
            "printer": self.printer,
            "scanner": self.scanner,
            "forward": self.forward,
            "at": self.at,
            "station": self.station,
            "alarm": self.alarm,
            "counts": dict(self.counts),
        }


def view_of(
    status: Any, outcome: Outcome | None, at: str | None, station: str, counts: Mapping[str, int]
) -> View:
    """The View for a station.bench.StationStatus and the last decision."""
    return View(
        decision=None if outcome is None else outcome.decision.value,
        label=None if outcome is None else outcome.label,
        reason=None if outcome is None else outcome.reason,
        message=None if outcome is None else outcome.message,
        order_id=None if outcome is None else outcome.order_id,
        code=None if outcome is None else outcome.code,
        items_out=() if outcome is None else items_out(outcome),
        operator=status.operator,
        online=status.online,
        replica_age_s=status.replica_age_s,
        printer=status.printer,
        scanner=status.scanner,
        forward=getattr(status, "forward", "none"),
        at=at,
        station=station,
        alarm=status.alarm or PRINTER_ALARMS.get(status.printer) or PRINTER_WARNINGS.get(status.printer),
        counts=counts,
    )


def items_out(outcome: Outcome) -> tuple[str, ...]:
    """The goods to take out of a partial refund, by name where the server named them, else by
    sku order id (a partial refund's sku_order_ids_out are the refunded ones)."""
    if outcome.reason != Reason.PARTIAL_REFUND:
        return ()
    return outcome.items_out or outcome.sku_order_ids_out


class Tally:
    """Today's decisions by kind (since the station started, if it started today)."""

    def __init__(self) -> None:
        self.day: str | None = None
        self._counts: dict[str, int] = {}

    def add(self, day: str, decision: Decision) -> None:
        self._roll(day)
        self._counts[decision.value] = self._counts.get(decision.value, 0) + 1

    def counts(self, day: str) -> dict[str, int]:
        self._roll(day)
        return dict(self._counts)

    def _roll(self, day: str) -> None:
        if day != self.day:
            self.day, self._counts = day, {}


class Channel(Protocol):
    @property
    def working(self) -> bool: ...

    def announce(self, event: Event) -> None: ...


def printer_can_alarm(printer_state: str) -> bool:
    """A printer whose status is unknown (never answers) is trusted until a slip fails."""
    return printer_state not in PRINTER_ALARMS


def can_announce_block(printer_state: str, channels_working: Iterable[bool]) -> bool:
    """The fail-closed rule: something on the bench can make a BLOCK noticed."""
    return printer_can_alarm(printer_state) or any(channels_working)


def no_alarm(scan_id: str | None, code: str) -> Outcome:
    """The HOLD every scan gets while nothing could announce a BLOCK. The server is not asked (it
    would journal a PASS the bench never gave); the scan is uploaded with this local decision."""
    reason = LocalReason.NO_ALARM
    return Outcome(scan_id, code, Decision.HOLD, reason.value, LOCAL_MESSAGES[reason], Source.LOCAL)


def event_for(outcome: Outcome) -> Event:
    kind = {Decision.PASS: Kind.PASS, Decision.BLOCK: Kind.BLOCK, Decision.HOLD: Kind.HOLD}
    return Event(kind[outcome.decision], outcome.reason, outcome)


def health_alarm(view: View) -> Event | None:
    """An announcement owed to the station's state itself: printer trouble, then offline."""
    if view.printer in PRINTER_ALARMS:
        return Event(Kind.PRINTER, view.printer)
    if not view.online:
        return Event(Kind.OFFLINE)
    return None


class Alerts:
    """The fan-out. `channels` maps a name (screen, voice, light) to a channel."""

    def __init__(self, channels: Mapping[str, Channel] | None = None, *, ack_code: str | None = None) -> None:
        self.channels = dict(channels or {})
        self.ack_code = ack_code
        self.tally = Tally()
        # A station starts offline (no answer yet): offline is announced when an online link drops.
        self._last_health: Event | None = Event(Kind.OFFLINE)

    def start(self) -> None:
        for name, channel in self.channels.items():
            self._call(name, channel, "start")

    def stop(self) -> None:
        for name, channel in self.channels.items():
            self._call(name, channel, "stop")

    def is_alive(self) -> bool:
        return all(getattr(c, "is_alive", lambda: True)() for c in self.channels.values())

    def is_ack(self, raw: str) -> bool:
        """The acknowledgement code (printed on the badge sheet): unlatches a BLOCK's light."""
        return self.ack_code is not None and raw.strip() == self.ack_code

    def working(self) -> dict[str, bool]:
        out = {}
        for name, channel in self.channels.items():
            try:
                out[name] = bool(channel.working)
            except Exception:
                log.exception("alerts: %s health check failed", name)
                out[name] = False
        return out

    def heartbeat(self) -> dict[str, str]:
        """Each alert channel's health for the heartbeat: "ok", "down" or "off" (not configured)."""
        working = self.working()
        return {
            name: ("off" if name not in working else "ok" if working[name] else "down") for name in CHANNELS
        }

    def can_announce_block(self, printer_state: str) -> bool:
        return can_announce_block(printer_state, self.working().values())

    def must_hold(self, printer_state: str) -> bool:
        """True while nothing could announce a BLOCK: the bench then holds every scan."""
        if self.can_announce_block(printer_state):
            return False
        log.critical("no printer, screen, voice or light can announce a block: holding every scan")
        return True

    def decided(self, outcome: Outcome, view: View) -> None:
        self._fan(event_for(outcome), view)

    def cleared(self, view: View) -> None:
        """A lead cleared the exception (or scanned the acknowledgement code): unlatch."""
        self._fan(Event(Kind.CLEAR), view)

    def status(self, view: View) -> None:
        """Show the state; announce a health alarm once when it starts."""
        alarm = health_alarm(view)
        for name, channel in self.channels.items():
            self._call(name, channel, "status", view)
        if alarm is not None and alarm != self._last_health:
            for name, channel in self.channels.items():
                self._call(name, channel, "announce", alarm)
        self._last_health = alarm

    def _fan(self, event: Event, view: View) -> None:
        for name, channel in self.channels.items():
            self._call(name, channel, "status", view)
            self._call(name, channel, "announce", event)

    @staticmethod
    def _call(name: str, channel: Any, method: str, *args: Any) -> None:
        fn = getattr(channel, method, None)
        if fn is None:
            return
        try:
            fn(*args)
        except Exception:
            log.exception("alerts: %s.%s failed", name, method)
