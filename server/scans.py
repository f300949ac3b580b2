"""Decide a scan and journal it: resolve the code to an order, read its gate entry, store the
scan (once per station and scan_id) and open an exception for every BLOCK or HOLD.

This is the hot path: one indexed look-up to decide, one insert to journal (two for a BLOCK or
HOLD), group-committed. It runs prepared statements on a raw cursor (server.fastsql).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from server import drills, scanclock
from server.fastsql import Prepared
from server.gatestate import CURRENT_VERSION
from server.goods import goods_out
from server.journal import ScanJournal
from server.models import GateCode, GateEntry, Scan, ScanException, utcnow
from server.scanclock import ScanClock, SentClock
from server.stations import StationRef
from shipgate.codes import Code, CodeKind, classify
from shipgate.wire import Decision, Reason, message_for

# What a lead's code scanned at a bench does (server.console.clearing.handle_bench_code):
# (session, station, operator badge, code) -> {"decision", "reason", "message", ...}; the caller commits.
BenchCodes = Callable[[Session, StationRef, str | None, Code], dict]
# An admin's release of a blocked order still in force: (session, order_id) -> truthy or None.
OverrideLookup = Callable[[Session, str], object]
LEAD_CODES = (CodeKind.BADGE, CodeKind.EXCEPTION, CodeKind.RESOLUTION)

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
    )
    .join(GateCode.__table__, GateCode.order_id == _entries.c.order_id)
    .where(GateCode.code == bindparam("code"))
)


@dataclass(frozen=True)
class ScanRequest:
    scan_id: str
    code: str
    scanned_at: datetime
    operator: str | None = None
    mode: str = "bench"
    # Only for scans a station decided offline and uploads later:
    station_decision: str | None = None
    station_reason: str | None = None
    station_gate_version: int | None = None
    # The station's clock (server.scanclock); `sent` is the batch's, None for an online scan:
    clock: ScanClock = ScanClock()
    sent: SentClock | None = None


class Gate:
    """Answers "may this parcel ship?" and journals the question."""

    def __init__(
        self,
        engine: Engine,
        live_lookup: LiveLookup | None = None,
        *,
        bench_codes: BenchCodes | None = None,
        overrides: OverrideLookup | None = None,
        allowed_skew_s: float = scanclock.DEFAULT_ALLOWED_SKEW_S,
    ):
        self.journal = ScanJournal(engine)
        self.live_lookup = live_lookup
        self.bench_codes = bench_codes
        self.overrides = overrides
        self.allowed_skew_s = allowed_skew_s
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._resolve = Prepared(engine, RESOLVE)
        self._version = Prepared(engine, CURRENT_VERSION)

    def resolve(self, cursor, code: Code) -> dict | None:
        """The gate entry of the order a code belongs to now, or None."""
        if code.kind not in (CodeKind.ORDER_ID, CodeKind.TRACKING_NO):
            return None
        return self._resolve.first(cursor, {"code": code.value})

    def decide(self, cursor, code: Code) -> tuple[Decision, Reason, dict | None]:
        if code.kind not in (CodeKind.ORDER_ID, CodeKind.TRACKING_NO):
            return Decision.HOLD, Reason.INVALID_CODE, None
        entry = self.resolve(cursor, code)
        if entry is None and self.live_lookup is not None:
            with self._sessions() as session:
                if self.live_lookup(session, code):
                    entry = self.resolve(cursor, code)
        if entry is None:
            return Decision.HOLD, Reason.UNKNOWN_ORDER, None
        decision = Decision(entry["decision"])
        if decision is Decision.BLOCK and self.overrides is not None:
            with self._sessions() as session:
                if self.overrides(session, entry["order_id"]):
                    return Decision.PASS, Reason.OVERRIDE, entry
        return decision, Reason(entry["reason"]), entry

    def drill(self, code: Code) -> tuple[Decision, Reason]:
        """A drill code we printed BLOCKs (and touches nothing else); any other SG-DR code HOLDs."""
        with self._sessions() as session:
            if drills.known(session, code.value):
                return Decision.BLOCK, Reason.DRILL
        return Decision.HOLD, Reason.INVALID_CODE

    def lead_code(
        self, station: StationRef, request: ScanRequest, code: Code
    ) -> tuple[Decision, Reason, str]:
        """A badge, exception QR or resolution a lead scanned at the bench: (decision, reason, message)."""
        if self.bench_codes is None:
            return Decision.HOLD, Reason.INVALID_CODE, message_for(Reason.INVALID_CODE)
        with self._sessions() as session:
            answer = self.bench_codes(session, station, request.operator, code)
            session.commit()
        reason = Reason(answer["reason"])
        if reason is Reason.CLEAR:
            reason = Reason.EXCEPTION_CLEARED
        return Decision(answer["decision"]), reason, answer["message"]

    def record(self, cursor, station: StationRef, request: ScanRequest) -> tuple[dict, bool]:
        """Decide one scan and journal it (committed before this returns). Returns (answer, duplicate)."""
        code = classify(request.code)
        message = None
        if code.kind in LEAD_CODES:
            (decision, reason, message), entry = self.lead_code(station, request, code), None
        elif code.kind is CodeKind.DRILL:
            (decision, reason), entry = self.drill(code), None
        else:
            decision, reason, entry = self.decide(cursor, code)
        now = utcnow()
        when = scanclock.bound(
            request.scanned_at, now, request.clock, request.sent, allowed_skew_s=self.allowed_skew_s
        )
        version = entry["version"] if entry else self._version.first(cursor, {})["value"]
        row = {
            "station_id": station.id,
            "scan_id": request.scan_id,
            "warehouse_id": station.warehouse_id,
            "code": request.code[:128],
            "code_kind": code.kind.value,
            "operator": request.operator,
            "mode": request.mode,
            "scanned_at": when.scanned_at,
            "received_at": now,
            **clock_columns(request.clock, when),
            "decision": decision.value,
            "reason": reason.value,
            "order_id": entry["order_id"] if entry else None,
            "sku_out": list(entry["sku_out"]) if entry else [],
            "gate_version": version,
            "source": "offline" if request.station_decision else "online",
            "station_decision": request.station_decision,
            "station_reason": request.station_reason,
            "station_gate_version": request.station_gate_version,
        }
        exception = None
        if code.kind in LEAD_CODES or reason is Reason.DRILL:
            pass  # a lead's own code, or a drill, opens nothing
        elif decision is not Decision.PASS or request.station_decision not in (None, Decision.PASS.value):
            blocked_here = decision is not Decision.PASS
            exception = {
                "scan_id": request.scan_id,
                "warehouse_id": station.warehouse_id,
                "station_id": station.id,
                "order_id": row["order_id"],
                "decision": decision.value if blocked_here else request.station_decision,
                "reason": reason.value if blocked_here else request.station_reason,
                "status": "open",
                "opened_at": now,
                "cleared_at": None,
                "cleared_by": None,
                "resolution": None,
                "note": None,
            }
        scan_pk, exception_id = self.journal.write(row, exception)
        if scan_pk is None:  # this station sent this scan_id before: answer as we did then
            with self._sessions() as session:
                return stored_answer(session, station.id, request.scan_id), True
        if reason is Reason.DRILL:
            passed = request.station_decision in (None, Decision.BLOCK.value)
            with self._sessions() as session:
                drills.record(session, station, request.scan_id, code.value, request.scanned_at, passed)
                session.commit()
        label = entry["label"] if entry is not None and decision is Decision.PASS else None
        answer = wire_answer(row, exception_id, label, message)
        if reason is Reason.PARTIAL_REFUND:  # name the goods to take out (rare: one more query)
            with self._sessions() as session:
                answer["items_out"] = goods_out(session, answer["sku_order_ids"])
        return answer, False


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


def wire_answer(row: dict, exception_id: int | None, label: dict | None, message: str | None = None) -> dict:
    """The wire form of a scan (see shipgate.wire)."""
    sku_out = list(row["sku_out"] or [])
    return {
        "scan_id": row["scan_id"],
        "decision": row["decision"],
        "reason": row["reason"],
        "message": message or message_for(Reason(row["reason"]), sku_out),
        "order_id": row["order_id"],
        "sku_order_ids": sku_out,
        "gate_version": row["gate_version"],
        "decided_at": row["received_at"].isoformat(),
        "exception_id": exception_id,
        "waybill": label,
        "items_out": [],  # partial_refund: the goods to take out, named (server.goods)
        "station_decision": row["station_decision"],
        "station_reason": row["station_reason"],
    }


def stored_answer(session: Session, station_id: int, scan_id: str) -> dict:
    scan = session.scalar(select(Scan).where(Scan.station_id == station_id, Scan.scan_id == scan_id))
    exception_id = session.scalar(select(ScanException.id).where(ScanException.scan_pk == scan.id))
    label = None
    if scan.decision == Decision.PASS.value and scan.order_id:
        label = session.scalar(select(GateEntry.label).where(GateEntry.order_id == scan.order_id))
    row = {c.name: getattr(scan, c.name) for c in Scan.__table__.columns}
    answer = wire_answer(row, exception_id, label)
    if scan.reason == Reason.PARTIAL_REFUND:
        answer["items_out"] = goods_out(session, answer["sku_order_ids"])
    return answer
