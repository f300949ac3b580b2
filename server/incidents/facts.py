"""Load the monthly review's facts (server.incidents.review) and the handbook from the database.

Every query leaves drill scans out (Scan.reason == Reason.DRILL). Months are China time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from server.incidents import ledger
from server.incidents.review import NO_CAUSE, IncidentFact, MonthFacts, ScanFact, month_range
from server.incidents.templates import DEFAULTS
from server.incidents.timeline import people_of, person
from server.incidents.workflow import CAUSE_LABELS, OUTCOME_LABELS, Cause, Outcome, State
from server.models import AfterSale, Scan, SkuOrder, Station
from server.models.incidents import Incident
from shipgate.wire import Decision, Reason

DRILL = Reason.DRILL
CHUNK = 500


def _categories(session: Session, order_ids: set[str]) -> dict[str, tuple[str, ...]]:
    ids, found = sorted(order_ids), {}
    for start in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(SkuOrder.order_id, SkuOrder.category).where(
                SkuOrder.order_id.in_(ids[start : start + CHUNK])
            )
        )
        for order_id, category in rows:
            if category:
                found.setdefault(order_id, set()).add(category)
    return {k: tuple(sorted(v)) for k, v in found.items()}


def _scans(session: Session, start: datetime, end: datetime, warehouse_id: int | None):
    query = (
        select(Scan.order_id, Scan.scanned_at, Scan.decision, Scan.operator, Station.name)
        .join(Station, Station.id == Scan.station_id)
        .where(
            Scan.scanned_at >= start,
            Scan.scanned_at < end,
            Scan.decision.in_((Decision.BLOCK, Decision.HOLD)),
            Scan.reason != DRILL,
        )
    )
    if warehouse_id is not None:
        query = query.where(Scan.warehouse_id == warehouse_id)
    return session.execute(query).all()


def _lags(session: Session, block_orders: set[str], start: datetime, end: datetime) -> list[int]:
    """Refund success to the order's first BLOCK scan, for first BLOCKs within [start, end)."""
    ids, lags = sorted(block_orders), []
    for first in range(0, len(ids), CHUNK):
        chunk = ids[first : first + CHUNK]
        first_block = dict(
            session.execute(
                select(Scan.order_id, func.min(Scan.scanned_at))
                .where(Scan.order_id.in_(chunk), Scan.decision == Decision.BLOCK, Scan.reason != DRILL)
                .group_by(Scan.order_id)
            ).all()
        )
        success = dict(
            session.execute(
                select(AfterSale.order_id, func.min(AfterSale.update_time))
                .where(
                    AfterSale.order_id.in_(chunk),
                    AfterSale.refund_succeeded,
                )
                .group_by(AfterSale.order_id)
            ).all()
        )
        for order_id, blocked_at in first_block.items():
            if order_id in success and blocked_at is not None:
                blocked_at = blocked_at if blocked_at.tzinfo else blocked_at.replace(tzinfo=UTC)
                if start <= blocked_at < end:
                    lags.append(int(blocked_at.timestamp()) - success[order_id])
    return lags


def _incidents(session: Session, start: datetime, end: datetime, warehouse_id: int | None) -> list[Incident]:
    query = (
        select(Incident)
        .where(Incident.detected_at >= start, Incident.detected_at < end)
        .options(
            selectinload(Incident.events), selectinload(Incident.station), selectinload(Incident.warehouse)
        )
    )
    if warehouse_id is not None:
        query = query.where(Incident.warehouse_id == warehouse_id)
    return list(session.scalars(query))


def month_facts(session: Session, month: str, warehouse_id: int | None) -> MonthFacts:
    start, end = month_range(month)
    scans = _scans(session, start, end, warehouse_id)
    incidents = _incidents(session, start, end, warehouse_id)
    categories = _categories(session, {s.order_id for s in scans if s.order_id})
    people = people_of(
        session, {s.operator for s in scans if s.operator} | {i.packer for i in incidents if i.packer}
    )
    scan_facts = [
        ScanFact(s.scanned_at, s.decision, s.name, person(s.operator, people), categories.get(s.order_id, ()))
        for s in scans
    ]
    incident_facts = []
    for i in incidents:
        tries = [e for e in i.events if e.kind == "intercept"]
        incident_facts.append(
            IncidentFact(
                at=i.passed_at or i.detected_at,
                station=i.station.name if i.station else "—",
                packer=person(i.packer, people) if i.passed_at else "—",
                categories=tuple(sorted({g.get("category") for g in i.goods if g.get("category")})),
                cause=CAUSE_LABELS[Cause(i.cause)] if i.cause else NO_CAUSE,
                intercept_tried=bool(tries),
                intercept_ok=any(e.detail.get("is_success") for e in tries),
                ledger=ledger.of(i),
                race_window_s=i.race_window_s,
                warehouse=i.warehouse.name if i.warehouse else "—",
            )
        )
    blocked = {s.order_id for s in scans if s.decision == Decision.BLOCK and s.order_id}
    return MonthFacts(month, scan_facts, incident_facts, _lags(session, blocked, start, end))


@dataclass(frozen=True)
class HandbookRow:
    incident_id: int
    order_id: str
    closed_at: datetime | None
    goods: str
    outcome: str
    intercept: str
    templates: str
    cause: str
    cause_note: str
    notes: str
    net_loss: int


def handbook(session: Session, warehouse_id: int | None, limit: int = 500) -> list[HandbookRow]:
    """Resolved incidents, newest first, with what was done and what it cost."""
    query = (
        select(Incident)
        .where(Incident.state == State.CLOSED.value)
        .options(selectinload(Incident.events))
        .order_by(Incident.closed_at.desc(), Incident.id.desc())
        .limit(limit)
    )
    if warehouse_id is not None:
        query = query.where(Incident.warehouse_id == warehouse_id)
    rows = []
    for i in session.scalars(query):
        tries = [e.detail for e in i.events if e.kind == "intercept"]
        used = [e.detail.get("template") for e in i.events if e.kind == "contact"]
        notes = [
            e.detail.get("note") for e in i.events if e.kind in ("outcome", "close") and e.detail.get("note")
        ]
        rows.append(
            HandbookRow(
                incident_id=i.id,
                order_id=i.order_id,
                closed_at=i.closed_at,
                goods="、".join(f"{g['name'] or g['sku_order_id']} ×{g['num']}" for g in i.goods),
                outcome=OUTCOME_LABELS[Outcome(i.outcome)] if i.outcome else "—",
                intercept=_intercept_text(tries),
                templates="、".join(
                    dict.fromkeys(DEFAULTS[k].title if k in DEFAULTS else "自拟" for k in used)
                )
                or "—",
                cause=CAUSE_LABELS[Cause(i.cause)] if i.cause else NO_CAUSE,
                cause_note=i.cause_note or "",
                notes="；".join(notes),
                net_loss=ledger.of(i).net_loss,
            )
        )
    return rows


def _intercept_text(tries: list[dict]) -> str:
    if not tries:
        return "未申请"
    if any(t.get("is_success") for t in tries):
        return "拦截成功"
    last = tries[-1]
    return f"未成功：{last.get('unavailable_reason') or last.get('error') or '—'}"
