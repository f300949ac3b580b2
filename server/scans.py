"""Decide a scan and journal it: resolve the code to an order, read its gate entry, store the
scan (once per station and scan_id) and open an exception for every BLOCK or HOLD.

This is the hot path: one indexed look-up to decide, one insert to journal (two for a BLOCK or
HOLD), group-committed. It runs prepared statements on a raw cursor (server.fastsql).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from server import drills, scanclock
from server.clearing import BenchAnswer
from server.clock import SYSTEM, Clock, sessions
from server.fastsql import Prepared
from server.gatestate import CURRENT_VERSION
from server.goods import goods_out
from server.journal import ScanJournal
from server.models import ExceptionStatus, GateCode, GateEntry, Scan, ScanException
from server.stations import StationRef, serves_shop
from shipgate.codes import Code, CodeKind, classify
from shipgate.wire import (
    Decision,
    Reason,
    ScanAnswer,
    ScanClock,
    ScanMode,
    ScanRequest,
    SentClock,
    Source,
    Waybill,
    message_for,
)

# What a lead's code scanned at a bench does (server.clearing.handle_bench_code):
# (session, station, operator badge, code) -> BenchAnswer; the caller commits.
BenchCodes = Callable[[Session, StationRef, str | None, Code], BenchAnswer]
# An admin's release of a stopped order still in force for a gate entry (a RESOLVE row):
# (raw cursor, entry) -> bool (server.clearing.OverrideCheck, which applies override_refusal).
OverrideLookup = Callable[[object, dict], bool]
LEAD_CODES = (CodeKind.BADGE, CodeKind.EXCEPTION, CodeKind.RESOLUTION)
# Refused lead codes a station may send in a window before every lead code is refused unread:
# a badge cannot be guessed by trying (10 a minute, not 40 a second).
LEAD_ATTEMPTS = 10
LEAD_WINDOW = timedelta(minutes=1)

# A live look-up asks Douyin about an order we do not know. It stores what it learns through
# server.ingest (committing) and returns True when it learned the order, False on a miss,
# timeout or error.
LiveLookup = Callable[[Session, Code], bool]

_entries = GateEntry.__table__
RESOLVE = (
    select(
        _entries.c.order_id,
        _entries.c.decision,
        _entries.c.reason,
        _entries.c.sku_out,
        _entries.c.version,
        _entries.c.label,
        serves_shop(bindparam("warehouse_id"), _entries.c.shop_id).label("in_scope"),
    )
    .join(GateCode.__table__, GateCode.order_id == _entries.c.order_id)
    .where(GateCode.code == bindparam("code"))
)

_scans = Scan.__table__
SEEN = select(_scans.c.id).where(
    _scans.c.station_id == bindparam("station_id"), _scans.c.scan_id == bindparam("scan_id")
)
REFUSED_LEAD_CODES = select(func.count()).where(
    _scans.c.station_id == bindparam("station_id"),
    or_(*(_scans.c.code_kind == kind.value for kind in LEAD_CODES)),  # (fastsql binds no IN lists)
    _scans.c.decision == Decision.HOLD.value,
    _scans.c.received_at >= bindparam("since"),
)


class Gate:
    """Answers "may this parcel ship?" and journals the question."""

    def __init__(
        self,
        engine: Engine,
        live_lookup: LiveLookup | None = None,
        *,
        bench_codes: BenchCodes | None = None,
        overrides: OverrideLookup | None = None,
        clock: Clock = SYSTEM,
        allowed_skew_s: float = scanclock.DEFAULT_ALLOWED_SKEW_S,
    ):
        self.clock = clock
        self.journal = ScanJournal(engine)
        self.live_lookup = live_lookup
        self.bench_codes = bench_codes
        self.overrides = overrides
        self.allowed_skew_s = allowed_skew_s
        self._sessions = sessions(engine, clock)
        self._resolve = Prepared(engine, RESOLVE)
        self._version = Prepared(engine, CURRENT_VERSION)
        self._seen = Prepared(engine, SEEN)
        self._refused_lead_codes = Prepared(engine, REFUSED_LEAD_CODES)

    def resolve(self, cursor, code: Code, warehouse_id: int) -> dict | None:
        """The gate entry of the order a code belongs to now, or None; `in_scope` says whether
        the order's shop ships from this warehouse (server.stations.serves_shop)."""
        if code.kind not in (CodeKind.ORDER_ID, CodeKind.TRACKING_NO):
            return None
        return self._resolve.first(cursor, {"code": code.value, "warehouse_id": warehouse_id})

    def decide(self, cursor, code: Code, station: StationRef) -> tuple[Decision, Reason, dict | None]:
        if code.kind not in (CodeKind.ORDER_ID, CodeKind.TRACKING_NO):
            return Decision.HOLD, Reason.INVALID_CODE, None
        entry = self.resolve(cursor, code, station.warehouse_id)
        if entry is None and self.live_lookup is not None:
            with self._sessions() as session:
                if self.live_lookup(session, code):
                    entry = self.resolve(cursor, code, station.warehouse_id)
        if entry is None:
            return Decision.HOLD, Reason.UNKNOWN_ORDER, None
        if not entry["in_scope"]:  # another warehouse's order: tell this bench nothing about it
            return Decision.HOLD, Reason.OTHER_WAREHOUSE, None
        if self.overrides is not None and self.overrides(cursor, entry):
            return Decision.PASS, Reason.OVERRIDE, entry
        return Decision(entry["decision"]), Reason(entry["reason"]), entry

    def drill(self, code: Code, station: StationRef) -> tuple[Decision, Reason]:
        """A drill code printed for this station's warehouse BLOCKs (and touches nothing else);
        any other SG-DR code HOLDs."""
        with self._sessions() as session:
            if drills.known(session, code.value, station.warehouse_id):
                return Decision.BLOCK, Reason.DRILL
        return Decision.HOLD, Reason.INVALID_CODE

    def lead_code(
        self, cursor, station: StationRef, request: ScanRequest, code: Code
    ) -> tuple[Decision, Reason, str]:
        """A badge, exception QR or resolution a lead scanned at the bench: (decision, reason, message).
        Accepted only online and at a bench station, and only while the station has not sent too
        many refused lead codes lately; the answer to a wrong badge names nobody."""
        if self.bench_codes is None:
            return Decision.HOLD, Reason.INVALID_CODE, message_for(Reason.INVALID_CODE)
        if request.offline or station.mode is not ScanMode.BENCH:
            return Decision.HOLD, Reason.LEAD_CODE_REFUSED, message_for(Reason.LEAD_CODE_REFUSED)
        since = self.clock.now() - LEAD_WINDOW
        refused = self._refused_lead_codes.first(cursor, {"station_id": station.id, "since": since})
        if next(iter(refused.values())) >= LEAD_ATTEMPTS:
            return Decision.HOLD, Reason.TOO_MANY_ATTEMPTS, message_for(Reason.TOO_MANY_ATTEMPTS)
        with self._sessions() as session:
            answer = self.bench_codes(session, station, request.operator, code)
            session.commit()
        return answer.decision, answer.reason, answer.message

    def record(
        self, cursor, station: StationRef, request: ScanRequest, *, sent: SentClock | None = None
    ) -> tuple[ScanAnswer, bool]:
        """Decide one scan and journal it (committed before this returns). Returns (answer, duplicate).
        `sent` is the upload's clock for a scan decided offline (server.scanclock), None online."""
        code = classify(request.code)
        message = None
        if code.kind in LEAD_CODES:
            # A lead code commits its own effects: a scan_id sent before must not run them again.
            # (Other codes only read before the journal write, whose conflict check answers them.)
            if self._seen.first(cursor, {"station_id": station.id, "scan_id": request.scan_id}):
                return self._stored(station, request), True
            (decision, reason, message), entry = self.lead_code(cursor, station, request, code), None
        elif code.kind is CodeKind.DRILL:
            (decision, reason), entry = self.drill(code, station), None
        else:
            decision, reason, entry = self.decide(cursor, code, station)
        now = self.clock.now()
        when = scanclock.bound(
            request.scanned_at, now, request.clock, sent, allowed_skew_s=self.allowed_skew_s
        )
        version = entry["version"] if entry else self._version.first(cursor, {})["value"]
        station_decision = request.station_decision
        row = {
            "station_id": station.id,
            "scan_id": request.scan_id,
            "warehouse_id": station.warehouse_id,
            "code": request.code[:128],
            "code_kind": code.kind.value,
            "operator": request.operator,
            "mode": station.mode.value,  # the station's, from enrolment, whatever the request says
            "scanned_at": when.scanned_at,
            "received_at": now,
            **clock_columns(request.clock, when),
            "decision": decision.value,
            "reason": reason.value,
            "order_id": entry["order_id"] if entry else None,
            "sku_out": list(entry["sku_out"]) if entry else [],
            "gate_version": version,
            "source": (Source.OFFLINE if request.offline else Source.ONLINE).value,
            "station_decision": station_decision.value if station_decision else None,
            "station_reason": request.station_reason.value if request.station_reason else None,
            "station_gate_version": request.station_gate_version,
            # the inline gate: set later by POST /api/v1/scans/forwarding (server/forwarding.py)
            "forward_state": None,
            "forward_at": None,
            "forward_problem": None,
        }
        exception = None
        stopped_here = decision is not Decision.PASS
        stopped_there = station_decision not in (None, Decision.PASS)
        if code.kind not in LEAD_CODES and reason is not Reason.DRILL and (stopped_here or stopped_there):
            # (a lead's own code, or a drill, opens nothing)
            exception = {
                "scan_id": request.scan_id,
                "warehouse_id": station.warehouse_id,
                "station_id": station.id,
                "order_id": row["order_id"],
                "decision": row["decision"] if stopped_here else row["station_decision"],
                "reason": row["reason"] if stopped_here else row["station_reason"],
                "status": ExceptionStatus.OPEN.value,
                "opened_at": now,
                "cleared_at": None,
                "cleared_by": None,
                "resolution": None,
                "note": None,
            }
        scan_pk, exception_id = self.journal.write(row, exception, cursor.connection)
        if scan_pk is None:  # this station sent this scan_id before: answer as we did then
            return self._stored(station, request), True
        if reason is Reason.DRILL:
            passed = station_decision in (None, Decision.BLOCK)
            with self._sessions() as session:
                drills.record(session, station, request.scan_id, code.value, request.scanned_at, passed)
                session.commit()
        label = entry["label"] if entry is not None and decision is Decision.PASS else None
        answer = wire_answer(row, exception_id, label, message)
        if reason is Reason.PARTIAL_REFUND:  # name the goods to take out (rare: one more query)
            with self._sessions() as session:
                answer = with_goods(session, answer)
        return answer, False

    def _stored(self, station: StationRef, request: ScanRequest) -> ScanAnswer:
        with self._sessions() as session:
            return stored_answer(session, station.id, request.scan_id)


def clock_columns(clock: ScanClock, when: scanclock.ScanTime) -> dict:
    """The scans table's clock columns (migration 0007)."""
    return {
        "claimed_at": when.claimed_at,
        "clock_skew_s": when.skew_s,
        "clock_flag": None if when.flag is None else when.flag.value,
        "clock_synced": clock.synced,
        "boot_id": clock.boot_id,
        "mono_s": clock.mono_s,
    }


def wire_answer(
    row: dict, exception_id: int | None, label: dict | None, message: str | None = None
) -> ScanAnswer:
    """The wire form of a journaled scan (shipgate.wire.ScanAnswer)."""
    sku_out = tuple(row["sku_out"] or ())
    reason = Reason(row["reason"])
    return ScanAnswer(
        scan_id=row["scan_id"],
        decision=Decision(row["decision"]),
        reason=reason,
        message=message or message_for(reason, sku_out),
        order_id=row["order_id"],
        sku_order_ids_out=sku_out,
        gate_version=row["gate_version"],
        decided_at=row["received_at"],
        exception_id=exception_id,
        waybill=Waybill.of_label(label) if label else None,
    )


def stored_answer(session: Session, station_id: int, scan_id: str) -> ScanAnswer:
    scan = session.scalar(select(Scan).where(Scan.station_id == station_id, Scan.scan_id == scan_id))
    exception_id = session.scalar(select(ScanException.id).where(ScanException.scan_pk == scan.id))
    label = None
    if scan.decision == Decision.PASS and scan.order_id:
        label = session.scalar(select(GateEntry.label).where(GateEntry.order_id == scan.order_id))
    row = {c.name: getattr(scan, c.name) for c in Scan.__table__.columns}
    answer = wire_answer(row, exception_id, label)
    return with_goods(session, answer) if scan.reason is Reason.PARTIAL_REFUND else answer


def with_goods(session: Session, answer: ScanAnswer) -> ScanAnswer:
    """A partial refund's answer naming the goods to take out (server.goods)."""
    return replace(answer, items_out=tuple(goods_out(session, answer.sku_order_ids_out)))
