"""Decide a scan and journal it: resolve the code to an order, read its gate entry, store the
scan (once per station and scan_id) and open an exception for every BLOCK or HOLD."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.gatestate import current_version
from server.models import GateEntry, Scan, ScanException, SkuOrder, Station, Waybill, utcnow
from shipgate.codes import Code, CodeKind, classify
from shipgate.wire import Decision, Reason, message_for

# A live look-up asks Douyin about an order we do not know (issue: sync). It stores what it
# learns through server.ingest and returns the order id, or None on a miss, timeout or error.
LiveLookup = Callable[[Session, Code], str | None]


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


def resolve(session: Session, code: Code) -> GateEntry | None:
    """The gate entry of the order a code belongs to now, or None."""
    if code.kind is CodeKind.ORDER_ID:
        entry = session.get(GateEntry, code.value)
        if entry is not None:
            return entry
        order_id = session.scalar(select(SkuOrder.order_id).where(SkuOrder.sku_order_id == code.value))
    elif code.kind is CodeKind.TRACKING_NO:
        order_id = session.scalar(
            select(Waybill.order_id)
            .where(Waybill.tracking_no == code.value, Waybill.cancelled_at.is_(None))
            .order_by(Waybill.issued_at.desc())
            .limit(1)
        )
    else:
        return None
    return session.get(GateEntry, order_id) if order_id else None


def decide(
    session: Session, code: Code, live_lookup: LiveLookup | None
) -> tuple[Decision, Reason, GateEntry | None]:
    if code.kind not in (CodeKind.ORDER_ID, CodeKind.TRACKING_NO):
        return Decision.HOLD, Reason.INVALID_CODE, None
    entry = resolve(session, code)
    if entry is None and live_lookup is not None and live_lookup(session, code):
        entry = resolve(session, code)
    if entry is None:
        return Decision.HOLD, Reason.UNKNOWN_ORDER, None
    return Decision(entry.decision), Reason(entry.reason), entry


def record_scan(
    session: Session, station: Station, request: ScanRequest, live_lookup: LiveLookup | None = None
) -> tuple[Scan, bool]:
    """Decide and store one scan, committing. Returns (scan, duplicate)."""
    existing = find_scan(session, station.id, request.scan_id)
    if existing is not None:
        return existing, True
    code = classify(request.code)
    decision, reason, entry = decide(session, code, live_lookup)
    scan = Scan(
        station_id=station.id,
        scan_id=request.scan_id,
        warehouse_id=station.warehouse_id,
        code=request.code[:128],
        code_kind=code.kind.value,
        operator=request.operator,
        mode=request.mode,
        scanned_at=request.scanned_at,
        received_at=utcnow(),
        decision=decision.value,
        reason=reason.value,
        order_id=entry.order_id if entry else None,
        sku_out=list(entry.sku_out) if entry else [],
        gate_version=entry.version if entry else current_version(session),
        source="offline" if request.station_decision else "online",
        station_decision=request.station_decision,
        station_reason=request.station_reason,
        station_gate_version=request.station_gate_version,
    )
    session.add(scan)
    try:
        session.flush()
        if decision is not Decision.PASS or request.station_decision not in (None, Decision.PASS.value):
            session.add(
                ScanException(
                    scan_pk=scan.id,
                    scan_id=scan.scan_id,
                    warehouse_id=scan.warehouse_id,
                    station_id=station.id,
                    order_id=scan.order_id,
                    decision=decision.value if decision is not Decision.PASS else request.station_decision,
                    reason=reason.value if decision is not Decision.PASS else request.station_reason,
                    opened_at=scan.received_at,
                )
            )
        session.commit()
    except IntegrityError:  # the same scan_id raced in on another thread
        session.rollback()
        return find_scan(session, station.id, request.scan_id), True
    return scan, False


def find_scan(session: Session, station_id: int, scan_id: str) -> Scan | None:
    return session.scalar(select(Scan).where(Scan.station_id == station_id, Scan.scan_id == scan_id))


def waybill_for(session: Session, order_id: str) -> dict | None:
    """What the station prints on a PASS: the current waybill and the goods, or None."""
    waybill = session.scalar(
        select(Waybill)
        .where(Waybill.order_id == order_id, Waybill.cancelled_at.is_(None))
        .order_by(Waybill.issued_at.desc())
        .limit(1)
    )
    if waybill is None:
        return None
    skus = session.scalars(select(SkuOrder).where(SkuOrder.order_id == order_id)).all()
    return {
        "tracking_no": waybill.tracking_no,
        "company": waybill.company,
        "order_id": order_id,
        "items": [
            {"sku_order_id": s.sku_order_id, "name": s.product_name, "code": s.code, "num": s.item_num}
            for s in skus
        ],
    }


def scan_answer(session: Session, scan: Scan) -> dict:
    """The wire form of a stored scan (see shipgate.wire)."""
    reason = Reason(scan.reason)
    exception_id = session.scalar(select(ScanException.id).where(ScanException.scan_pk == scan.id))
    return {
        "scan_id": scan.scan_id,
        "decision": scan.decision,
        "reason": scan.reason,
        "message": message_for(reason, scan.sku_out),
        "order_id": scan.order_id,
        "sku_order_ids": list(scan.sku_out),
        "gate_version": scan.gate_version,
        "decided_at": scan.received_at.isoformat(),
        "exception_id": exception_id,
        "waybill": waybill_for(session, scan.order_id) if scan.decision == "PASS" and scan.order_id else None,
    }
