"""The bench: the loop that moves a scan between the parts. It decides nothing by itself.

    scanner --code--> classify --> journal.record (before anything else)
        --> server (within the budget) | replica (offline) | local (invalid code, journal failure)
        --> journal.decide --> printer (slip) + display

`Bench` takes every part as an argument (build it in-process in tests with real or small parts);
`build_bench(config)` is the composition root that builds the parts from station.toml settings.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import Any, Protocol

from shipgate.codes import CodeKind, classify, normalise
from shipgate.wire import Decision, Reason, ScanMode
from station import decision, timesync
from station.alerts import Alerts, no_alarm, view_of
from station.client import GateClient, GateError, ScanAnswer
from station.decision import Outcome, Source
from station.display import DisplayState, NullDisplay
from station.forward import FORWARD_FAILED, Forwarder, forward_journaled, forwarder_from_config, forwards
from station.forwardlog import ForwardLog
from station.journal import Journal, JournalError, JournalFull
from station.replica import Replica
from station.slips import Op, SlipContext, forward_failed_slip, slip_for
from station.status import StationStatus, alert_health, heartbeat_payload
from station.timesync import ClockFacts
from station.uplink import LinkStatus, Uplink

log = logging.getLogger(__name__)

UNNAMED = "未命名工位"  # [station] name unset and the server not reached yet
# Shipgate's own codes travel whole ("SG-EX-..."), not as the classifier's inner value.
_OWN_KINDS = (CodeKind.EXCEPTION, CodeKind.RESOLUTION, CodeKind.DRILL)
# Lead actions, not parcels: no slip is printed for them.
_LEAD_KINDS = (CodeKind.EXCEPTION, CodeKind.RESOLUTION)


class _Display(Protocol):
    def show(self, state: DisplayState) -> None: ...


class Bench:
    def __init__(
        self,
        scanner: Any | None,
        client: GateClient,
        replica: Replica,
        journal: Journal,
        printer: Any | None,
        display: _Display | None = None,
        clock: Callable[[], float] = time.time,
        station_name: str = "station",
        mode: ScanMode = ScanMode.BENCH,
        *,
        uplink: Uplink | None = None,
        link: LinkStatus | None = None,
        paper_width_mm: int = 80,
        red: bool = True,
        buzzer: bool = True,
        tz: tzinfo | None = None,
        forwarder: Forwarder | None = None,  # the inline gate: a PASS typed into the packing PC
        forward_log: ForwardLog | None = None,
        pass_slip: bool = True,  # [printer] on_pass = "slip"
        alerts: Alerts | None = None,
        clock_facts: Callable[[], ClockFacts] = timesync.clock_facts,
    ) -> None:
        self.scanner = scanner
        self.client = client
        self.replica = replica
        self.journal = journal
        self.printer = printer
        self.display = display or NullDisplay()
        self.clock = clock
        self.station_name = station_name
        self.mode = ScanMode(mode)
        self.uplink = uplink
        self.link = link or (uplink.link if uplink else LinkStatus())
        self.paper_width_mm = paper_width_mm
        self.red = red
        self.buzzer = buzzer
        self.tz = tz
        self.forwarder, self.forward_log, self.pass_slip = forwarder, forward_log, pass_slip
        self.alerts = alerts or Alerts()  # screen, voice, light (station.alerts)
        self.clock_facts = clock_facts  # synchronised?, boot id, monotonic time: sent with each scan
        self.name_from_server = False  # [station] name unset: learn_name() follows the server
        self._inbox: queue.Queue[str] = queue.Queue()
        self._lock = threading.Lock()  # one scan at a time, whoever calls handle()
        self.last: Outcome | None = None
        self._last_at: str | None = None
        self.alarm: str | None = None
        self.notice: str | None = None
        self.operator: str | None = self._restore_operator()

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Decide what a previous run left undecided, then start the parts' threads."""
        self.recover()
        if self.forward_log is not None and (unknown := self.forward_log.recover(self._now_iso())):
            log.warning("%d codes were being typed into the packing PC when the station stopped", unknown)
        for part in (self.alerts, self.printer, self.uplink, self.scanner):
            if part is not None and hasattr(part, "start"):
                part.start()
        self.refresh()

    def stop(self) -> None:
        """Stop reading, finish printing, stop syncing; then close the databases and the client."""
        self._stop_part(self.scanner)
        while not self._inbox.empty():  # codes read before the port closed are still handled
            self._handle_safely(self._inbox.get_nowait())
        self._stop_part(self.printer)  # prints what is queued, within its timeout
        self._stop_part(self.uplink)
        self._stop_part(self.alerts)
        for part in (self.forwarder, self.forward_log):
            if part is not None:
                part.close()
        self.client.close()
        self.replica.close()
        self.journal.close()

    @staticmethod
    def _stop_part(part: Any) -> None:
        if part is not None and hasattr(part, "stop"):
            try:
                part.stop()
            except Exception:
                log.exception("stopping %s failed", type(part).__name__)

    def healthy(self) -> bool:
        """Every started thread still runs (the service stops the watchdog pings otherwise)."""
        parts = (self.scanner, self.printer, self.uplink, self.alerts)
        return all(getattr(p, "is_alive", lambda: True)() for p in parts if p is not None)

    def submit(self, raw: str) -> None:
        """Hand a scanned code to the bench loop (from the scanner's thread)."""
        self._inbox.put(raw)

    def run(
        self, stop: threading.Event, on_tick: Callable[[], None] | None = None, tick_s: float = 0.5
    ) -> None:
        """The main loop: handle queued codes; every tick refresh the display and call on_tick."""
        next_tick = 0.0
        while not stop.is_set():
            try:
                raw = self._inbox.get(timeout=tick_s)
            except queue.Empty:
                raw = None
            if raw is not None:
                self._handle_safely(raw)
            if time.monotonic() >= next_tick:
                self.refresh()
                if on_tick is not None:
                    on_tick()
                next_tick = time.monotonic() + tick_s

    # -- one scan --------------------------------------------------------------------------

    def handle(self, raw: str) -> Outcome | None:
        """Journal, decide, print and show one scanned code. None for a badge (no decision)."""
        with self._lock:
            if self.alerts.is_ack(raw):
                self._acknowledged()
                return None
            code = classify(raw)
            if code.kind is CodeKind.BADGE:
                self._sign_in(code.value)
                return None
            text = normalise(raw) if code.kind in _OWN_KINDS else code.value
            now, facts = self.clock(), self.clock_facts()
            try:
                entry = self.journal.record(text, self.operator, self.mode.value, _iso(now), facts)
            except JournalError as exc:
                return self._journal_failed(text, exc, now)
            if self.alerts.must_hold(_state(self.printer, "unknown")):  # nothing could announce a BLOCK
                outcome = no_alarm(entry.scan_id, text)
            elif not code.valid:
                log.info("scan %s: invalid code (%s)", entry.scan_id, code.problem)
                outcome = decision.invalid_code(entry.scan_id, text)
            else:
                outcome = self._decide(entry.scan_id, text, entry.scanned_at, code.kind, facts)
            try:
                self.journal.decide(entry.scan_id, outcome, _iso(self.clock()))
            except JournalError as exc:
                return self._journal_failed(text, exc, now)
            self.alarm = None if self.alarm in decision.LOCAL_MESSAGES.values() else self.alarm
            problem = self._forward(outcome, normalise(raw)) if forwards(outcome, code.kind) else None
            self._act(outcome, now, print_slip=code.kind not in _LEAD_KINDS)
            if problem is not None:
                self._forward_failed(outcome, problem, now)
            return outcome

    def _decide(
        self, scan_id: str, code: str, scanned_at: str, kind: CodeKind, facts: ClockFacts | None = None
    ) -> Outcome:
        try:
            clock = facts.wire() if facts is not None else None
            result = self.client.scan(scan_id, code, self.operator, scanned_at, self.mode.value, clock)
        except GateError as exc:
            log.info("scan %s: server not answering (%s): deciding offline", scan_id, exc)
            self.link.report_error(exc)
        except Exception:  # a bug in the client must not leave a journaled scan undecided
            log.exception("scan %s: asking the server failed unexpectedly: deciding offline", scan_id)
            self.link.report(False)
        else:
            self.link.report(True)
            return _from_server(scan_id, code, result)
        return self.decide_offline(scan_id, code, kind)

    def decide_offline(self, scan_id: str, code: str, kind: CodeKind) -> Outcome:
        """The station's own decision for a valid code, without the server: a lead code is queued,
        a drill code BLOCKs, anything else is the replica's. The running path and recovery both
        decide here, so a scan decides the same whether or not a crash came between."""
        if kind in _LEAD_KINDS:
            return decision.lead_code_offline(scan_id, code, self.replica.version)
        if kind is CodeKind.DRILL:
            return decision.drill_offline(scan_id, code, self.replica.version)
        return self.replica.decide(scan_id, code)

    def _journal_failed(self, code: str, exc: JournalError, now: float) -> Outcome:
        outcome = decision.journal_failed(code, disk_full=isinstance(exc, JournalFull))
        log.critical("journal failed, holding (fail closed): %s", exc)
        self.alarm = outcome.message
        self._act(outcome, now, print_slip=True)
        return outcome

    def _act(self, outcome: Outcome, now: float, *, print_slip: bool) -> None:
        level = logging.INFO if outcome.decision is Decision.PASS else logging.WARNING
        log.log(level, "scan %s: %s %s (%s, order %s)", outcome.scan_id, outcome.decision.value,
                outcome.reason, outcome.source.value, outcome.order_id)  # fmt: skip
        self.last, self._last_at, self.notice = outcome, self._local(now), None
        slip = self.slip(outcome, now) if print_slip else None
        if slip is not None and self.printer is not None:
            self.printer.submit(slip)
        self._announce(outcome, now)
        self.refresh()

    def _announce(self, outcome: Outcome, now: float) -> None:
        self.alerts.tally.add(self._local(now)[:10], outcome.decision)
        if outcome.reason == Reason.EXCEPTION_CLEARED:
            self.alerts.cleared(self._view())
        else:
            self.alerts.decided(outcome, self._view())

    def learn_name(self, reply: Any) -> None:
        """The heartbeat's answer names the station as enrolled: used when [station] name is unset,
        and cached in the journal for offline starts."""
        name = getattr(reply, "station", None)
        if not name or not self.name_from_server or name == self.station_name:
            return
        log.info("station name from the server: %s", name)
        self.station_name = name
        try:
            self.journal.set_meta("station_name", name)
        except JournalError as exc:
            log.error("cannot cache the station name: %s", exc)
        self.refresh()

    def _acknowledged(self) -> None:
        log.info("alarm acknowledged at the bench (operator %s)", self.operator)
        self.notice = "警报已确认"
        self.alerts.cleared(self._view())
        self.refresh()

    def _view(self):
        day = self._local(self.clock())[:10]
        counts = self.alerts.tally.counts(day)
        return view_of(self.status(), self.last, self._last_at, self.station_name, counts)

    def slip(self, outcome: Outcome, now: float) -> list[Op] | None:
        """The slip for a decision; none for a PASS at the handover point (the parcel is packed)
        or with [printer] on_pass = "none" (the ERP prints the real waybill)."""
        if outcome.decision is Decision.PASS and (self.mode is ScanMode.HANDOVER or not self.pass_slip):
            return None
        return slip_for(outcome, self._slip_context(now))

    def _slip_context(self, now: float) -> SlipContext:
        return SlipContext(
            self.station_name,
            self.operator,
            self._local(now),
            self.paper_width_mm,
            self.red,
            self.buzzer,
            handover=self.mode is ScanMode.HANDOVER,
        )

    # -- the inline gate: forwarding a PASS to the packing PC (station/forward.py) ---------------

    def _forward(self, outcome: Outcome, scanned: str) -> str | None:
        """Type the scanned code into the packing PC, journaled before and after. The problem, or None."""
        if self.forwarder is None:
            return None
        problem = forward_journaled(self.forwarder, self.forward_log, outcome.scan_id, scanned, self._now_iso)
        if problem is None and self.alarm == FORWARD_FAILED:
            self.alarm = None
        return problem

    def _forward_failed(self, outcome: Outcome, problem: str, now: float) -> None:
        log.error(
            "scan %s: NOT forwarded to the packing PC (no waybill printed): %s", outcome.scan_id, problem
        )
        self.alarm = FORWARD_FAILED
        if self.printer is not None:
            self.printer.submit(forward_failed_slip(outcome, self._slip_context(now)))
        if self.uplink is not None:
            self.uplink.kick()  # the server's queue shows it at once
        self.refresh()

    def _sign_in(self, badge: str) -> None:
        self.operator = badge
        self.notice = f"操作员 {badge} 已登录"
        log.info("operator %s signed in", badge)
        try:
            self.journal.set_meta("operator", badge)
        except JournalError as exc:
            log.error("cannot remember the operator: %s", exc)
        self.refresh()

    def _restore_operator(self) -> str | None:
        try:
            return self.journal.get_meta("operator")
        except JournalError:
            return None

    def _handle_safely(self, raw: str) -> None:
        try:
            self.handle(raw)
        except Exception:  # a bug must not kill the bench; the scan is journaled if it got that far
            log.exception("scan handling failed")
            self.alarm = "系统错误 暂停发货 请联系主管"
            self.refresh()

    # -- recovery, status ------------------------------------------------------------------

    def recover(self) -> int:
        """Decide (offline) the scans a previous run journaled but never decided; they get uploaded."""
        undecided = self.journal.undecided()
        for entry in undecided:
            code = classify(entry.code)
            if not code.valid:
                outcome = decision.invalid_code(entry.scan_id, entry.code)
            else:
                outcome = self.decide_offline(entry.scan_id, entry.code, code.kind)
            self.journal.decide(entry.scan_id, outcome, _iso(self.clock()))
        if undecided:
            log.warning("recovered %d scans left undecided by the previous run", len(undecided))
        return len(undecided)

    def status(self) -> StationStatus:
        try:
            depth = self.journal.queue_depth()
        except JournalError:
            depth = -1
        age = self.replica.age_s()
        return StationStatus(
            online=self.link.online,
            server_problem=self.link.problem,
            replica_version=self.replica.version,
            replica_age_s=age,
            replica_stale=decision.is_stale(age, self.replica.max_age_s),
            queue_depth=depth,
            scanner=_state(self.scanner, "disconnected"),
            printer=_state(self.printer, "unknown"),
            operator=self.operator,
            mode=self.mode,
            alarm=self.alarm,
        )

    def refresh(self) -> None:
        try:
            s = self.status()
            self.display.show(
                DisplayState(
                    station_name=self.station_name,
                    mode=s.mode,
                    outcome=self.last,
                    decided_at=self._last_at,
                    online=s.online,
                    server_problem=s.server_problem,
                    replica_age_s=s.replica_age_s,
                    replica_stale=s.replica_stale,
                    queue_depth=s.queue_depth,
                    scanner=s.scanner,
                    printer=s.printer,
                    operator=s.operator,
                    alarm=s.alarm,
                    notice=self.notice,
                )
            )
            self.alerts.status(self._view())
        except Exception:
            log.exception("display refresh failed")

    def _now_iso(self) -> str:
        return _iso(self.clock())

    def _local(self, now: float) -> str:
        return local_text(now, self.tz)


def local_text(now: float, tz: tzinfo | None = None) -> str:
    """A slip's time: Unix seconds as wall time in `tz` (the machine's zone when None)."""
    return datetime.fromtimestamp(now, tz).strftime("%Y-%m-%d %H:%M:%S")


def _state(part: Any, default: str) -> str:
    state = getattr(part, "state", None)
    return getattr(state, "value", default) if part is not None else default


def _iso(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds")


def _from_server(scan_id: str, code: str, r: ScanAnswer) -> Outcome:
    if r.scan_id != scan_id:
        log.warning("server answered scan %s for scan %s", r.scan_id, scan_id)
    return Outcome(
        scan_id=scan_id,
        code=code,
        decision=r.decision,
        reason=r.reason,
        message=r.message or decision.reason_message(r.reason, r.sku_order_ids_out),
        source=Source.ONLINE,
        order_id=r.order_id,
        sku_order_ids_out=r.sku_order_ids_out,
        gate_version=r.gate_version,
        exception_id=r.exception_id,
        waybill=r.waybill,
        items_out=r.items_out,
    )


# -- the composition root ----------------------------------------------------------------------


def printer_from_config(config: Any) -> Any:
    """A SlipPrinter (not started) for the [printer] settings."""
    from station.printer import STATUS_READABLE_KINDS, DeviceSpec, SlipPrinter, device_factory, load_escpos

    pc = config.printer
    load_escpos(config.station.data_dir / "escpos")
    spec = DeviceSpec(
        kind=pc.kind,
        host=pc.host,
        port=pc.port,
        vendor_id=pc.vendor_id,
        product_id=pc.product_id,
        device=pc.device,
        baud=pc.baud,
        path=pc.path,
        profile=pc.profile,
        timeout_s=pc.timeout_s,
    )
    status = pc.status and pc.kind in STATUS_READABLE_KINDS
    return SlipPrinter(
        device_factory(spec), description=spec.describe(), profile=pc.profile,
        status_queries=status, status_interval_s=pc.status_interval_s if status else None,
    )  # fmt: skip


def alerts_from_config(config: Any, *, with_screen: bool = True) -> Alerts:
    """The screen, voice and light channels for the [screen] / [voice] / [light] settings."""
    from station.light import LightBytes, TowerLight
    from station.screen import Screen
    from station.voice import Voice

    channels: dict[str, Any] = {}
    sc, vc, lc = config.screen, config.voice, config.light
    if sc.enabled and with_screen:
        channels["screen"] = Screen(sc.host, sc.port)
    if vc.enabled:
        prompts = vc.prompts_dir or config.station.data_dir / "voice"
        channels["voice"] = Voice(vc.command, prompts, vc.dir, on_pass=vc.on_pass)
    if lc.kind == "serial":
        colours = LightBytes(lc.red, lc.yellow, lc.green, lc.off, lc.buzzer)
        channels["light"] = TowerLight(lc.device, lc.baud, colours, green_s=lc.green_s)
    return Alerts(channels, ack_code=lc.ack_code)


def build_bench(
    config: Any,
    *,
    with_scanner: bool = True,
    with_printer: bool = True,
    with_display: bool = True,
    with_forwarder: bool = True,  # False for `check`: IT's test must never type into the packing PC
    with_screen: bool = True,
    display_stream: Any = None,
    clock: Callable[[], float] = time.time,
) -> Bench:
    """Build a bench and all its parts from a station.config.Config. Threads start in Bench.start()."""
    import sys

    from shipgate import __version__
    from station.display import make_display
    from station.scanner import Scanner

    st, sv, pc = config.station, config.server, config.printer
    st.data_dir.mkdir(parents=True, exist_ok=True)
    client = GateClient(
        sv.url,
        sv.token,
        budget_s=sv.budget_ms / 1000,
        sync_timeout_s=sv.sync_timeout_s,
        user_agent=f"shipgate-station/{__version__}",
        verify=sv.verify,
    )
    replica = Replica(
        st.data_dir / "replica.sqlite3",
        clock=clock,
        max_age_s=st.replica_max_age_s,
        stale_policy=st.stale_policy,
    )
    journal = Journal(st.data_dir / "journal.sqlite3")
    forward_log = ForwardLog(st.data_dir / "journal.sqlite3")  # the inline gate's records
    link = LinkStatus()
    bench: Bench | None = None
    printer = printer_from_config(config) if with_printer else None

    scanner = None
    if with_scanner and config.scanner.kind == "hid":
        scanner = hid_scanner_from_config(config, lambda code: bench.submit(code), lambda _s: bench.refresh())
    elif with_scanner:
        sc = config.scanner
        scanner = Scanner(
            sc.device,
            on_code=lambda code: bench.submit(code),  # bench is bound below, before any thread starts
            on_state=lambda _state: bench.refresh(),
            baud=sc.baud,
            suffix=sc.suffix,
            frame_gap_s=sc.frame_gap_ms / 1000,
            backoff_max_s=sc.reconnect_max_s,
            exclude_devices=other_serial_devices(config),  # never the tower light or the CH9329
        )

    uplink = Uplink(
        client,
        replica,
        journal,
        link,
        status=lambda: heartbeat_payload(bench.status(), __version__, alert_health(bench.alerts.heartbeat())),
        sync_interval_s=st.sync_interval_s,
        heartbeat_s=sv.heartbeat_s,
        forward_log=forward_log,
        on_heartbeat=lambda reply: bench.learn_name(reply),
    )
    enabled = with_display and config.display.enabled
    display = make_display(enabled, config.display.style, display_stream or sys.stdout)
    bench = Bench(
        scanner,
        client,
        replica,
        journal,
        printer,
        display,
        clock,
        st.name or journal.get_meta("station_name") or UNNAMED,
        st.mode,
        uplink=uplink,
        link=link,
        paper_width_mm=pc.width,
        red=pc.red,
        buzzer=pc.buzzer,
        forwarder=forwarder_from_config(config.forward) if with_forwarder else None,
        forward_log=forward_log,
        pass_slip=pc.on_pass == "slip",
        alerts=alerts_from_config(config, with_screen=with_screen),
    )
    bench.name_from_server = st.name is None
    return bench


def other_serial_devices(config: Any) -> list[str]:
    """The bench's serial devices that are not the scanner: "auto" never opens them."""
    devices = [config.light.device]
    if config.forward.kind == "ch9329":
        devices.append(config.forward.device)
    return [d for d in devices if d]


def hid_scanner_from_config(config: Any, on_code: Callable[[str], None], on_state: Callable) -> Any:
    """A HidScanner (evdev keyboard-class device, grabbed) for [scanner] kind = "hid"."""
    from station.hidscanner import HidScanner

    return HidScanner(
        config.scanner.device,
        on_code=on_code,
        on_state=on_state,
        backoff_max_s=config.scanner.reconnect_max_s,
    )
