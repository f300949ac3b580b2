"""What the console reads: the exception queue, an order's whole story, search, the floor.

Read-only functions of a session (and `now` where time matters); views only render them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, func, select, true
from sqlalchemy.orm import Session, aliased, selectinload

from server.clearing import override_in_force
from server.console.scope import order_in_warehouse
from server.goods import goods_out
from server.handover import courier_of
from server.models import (
    AuditLog,
    ExceptionStatus,
    GateCode,
    GateEntry,
    Operator,
    Order,
    Scan,
    ScanException,
    Shop,
    SkuOrder,
    Station,
    SyncState,
    Warehouse,
    Waybill,
)
from server.models.users import GateOverride
from server.sync.lease import LEASE_STREAM
from shipgate.codes import CodeKind, classify, normalise
from shipgate.wire import Decision, Reason, ScanMode

ONLINE_WITHIN = timedelta(seconds=90)
QUEUE_LIMIT = 300


@dataclass(frozen=True)
class QueueRow:
    id: int
    order_id: str | None
    decision: str
    reason: str
    station: str
    packer: str | None
    code: str
    opened_at: datetime
    waited_s: float
    goods: tuple[str, ...] = ()  # a partial refund: the goods to take out, by name


def warehouses(session: Session) -> list[Warehouse]:
    return list(session.scalars(select(Warehouse).order_by(Warehouse.name)))


def open_exceptions(session: Session, warehouse_id: int | None, now: datetime) -> list[QueueRow]:
    """Open exceptions, newest first, with station and packer names."""
    query = (
        select(ScanException, Scan.code, Scan.operator, Station.name, Operator.name, Scan.mode, Scan.sku_out)
        .join(Scan, Scan.id == ScanException.scan_pk)
        .join(Station, Station.id == ScanException.station_id)
        .outerjoin(Operator, Operator.badge == Scan.operator)
        .where(ScanException.status == ExceptionStatus.OPEN)
        .order_by(ScanException.opened_at.desc(), ScanException.id.desc())
        .limit(QUEUE_LIMIT)
    )
    if warehouse_id is not None:
        query = query.where(ScanException.warehouse_id == warehouse_id)
    return [
        QueueRow(
            id=e.id,
            order_id=e.order_id,
            decision=e.decision,
            reason=e.reason,
            station=station if mode != ScanMode.HANDOVER else f"{station} · 交接 {courier_of(code, None)}",
            packer=_person(name, badge),
            code=code,
            opened_at=e.opened_at,
            waited_s=(now - e.opened_at).total_seconds(),
            goods=tuple(goods_out(session, sku_out or [])) if e.reason == Reason.PARTIAL_REFUND else (),
        )
        for e, code, badge, station, name, mode, sku_out in session.execute(query)
    ]


def _person(name: str | None, badge: str | None) -> str | None:
    if badge is None:
        return None
    return f"{name}（{badge}）" if name else badge


def operator_names(session: Session, badges: set[str]) -> dict[str, str]:
    if not badges:
        return {}
    rows = session.execute(select(Operator.badge, Operator.name).where(Operator.badge.in_(badges)))
    return {badge: name for badge, name in rows}


@dataclass
class OrderStory:
    order: Order
    shop: Shop | None
    entry: GateEntry | None
    override: GateOverride | None
    scans: list[Scan]
    exceptions: list[ScanException]
    trail: list[AuditLog]
    people: dict[str, str] = field(default_factory=dict)


def order_story(session: Session, order_id: str, warehouse_id: int | None = None) -> OrderStory | None:
    """Everything the server knows about one order; for a user bound to `warehouse_id`, None
    unless the order is in it, and only that warehouse's scans and exceptions."""
    if not order_in_warehouse(session, order_id, warehouse_id):
        return None
    order = session.scalar(
        select(Order)
        .where(Order.order_id == order_id)
        .options(
            selectinload(Order.sku_orders), selectinload(Order.after_sales), selectinload(Order.waybills)
        )
    )
    if order is None:
        return None
    scans = list(
        session.scalars(
            select(Scan)
            .where(Scan.order_id == order_id)
            .where(Scan.warehouse_id == warehouse_id if warehouse_id is not None else true())
            .options(selectinload(Scan.station))
            .order_by(Scan.received_at.desc(), Scan.id.desc())
        )
    )
    exceptions = list(
        session.scalars(
            select(ScanException)
            .where(ScanException.order_id == order_id)
            .where(ScanException.warehouse_id == warehouse_id if warehouse_id is not None else true())
            .options(selectinload(ScanException.station))
            .order_by(ScanException.opened_at.desc())
        )
    )
    targets = [f"order:{order_id}", *(f"exception:{e.id}" for e in exceptions)]
    trail = list(
        session.scalars(select(AuditLog).where(AuditLog.target.in_(targets)).order_by(AuditLog.at.desc()))
    )
    return OrderStory(
        order=order,
        shop=session.get(Shop, order.shop_id),
        entry=session.get(GateEntry, order_id),
        override=override_in_force(session, order_id),
        scans=scans,
        exceptions=exceptions,
        trail=trail,
        people=operator_names(session, {s.operator for s in scans if s.operator}),
    )


@dataclass(frozen=True)
class SearchResult:
    query: str
    order_ids: list[str]
    exception_id: int | None = None


def search(session: Session, raw: str, warehouse_id: int | None = None) -> SearchResult:
    """Resolve what was typed or scanned: an order id, a sku order id, a tracking number
    (current first, then ones cancelled or recycled), or the QR of an exception slip. A user
    bound to `warehouse_id` finds only what is in it."""
    text = normalise(raw)[:64]
    code = classify(text)
    if code.kind is CodeKind.EXCEPTION:
        found = session.scalar(
            select(ScanException.id)
            .where(ScanException.scan_id == code.value)
            .where(ScanException.warehouse_id == warehouse_id if warehouse_id is not None else true())
            .order_by(ScanException.id.desc())
        )
        return SearchResult(text, [], found)
    if not text:
        return SearchResult(text, [])
    value = code.value if code.valid else text
    found: list[str] = []
    for query in (
        select(Order.order_id).where(Order.order_id == value),
        select(GateCode.order_id).where(GateCode.code == value),
        select(SkuOrder.order_id).where(SkuOrder.sku_order_id == value),
        select(Waybill.order_id)
        .where(Waybill.tracking_no == value.upper())
        .order_by(Waybill.cancelled_at.is_(None).desc(), Waybill.issued_at.desc()),
    ):
        for order_id in session.scalars(query):
            if order_id not in found and order_in_warehouse(session, order_id, warehouse_id):
                found.append(order_id)
    return SearchResult(text, found)


@dataclass(frozen=True)
class StationState:
    station: Station
    online: bool
    seen_ago_s: float | None
    health: dict


def stations_state(session: Session, warehouse_id: int | None, now: datetime) -> list[StationState]:
    """Live (not revoked) stations with their last heartbeat."""
    query = (
        select(Station)
        .where(Station.revoked_at.is_(None))
        .options(selectinload(Station.warehouse))
        .order_by(Station.name)
    )
    if warehouse_id is not None:
        query = query.where(Station.warehouse_id == warehouse_id)
    states = []
    for station in session.scalars(query):
        ago = (now - station.last_seen_at).total_seconds() if station.last_seen_at else None
        online = ago is not None and ago <= ONLINE_WITHIN.total_seconds()
        states.append(StationState(station, online, ago, dict(station.health or {})))
    return states


@dataclass(frozen=True)
class SyncRow:
    shop_id: str
    shop_name: str
    stream: str
    last_success_at: datetime | None
    lag_s: float | None
    last_error: str | None
    last_error_at: datetime | None


def sync_health(session: Session, now: datetime) -> list[SyncRow]:
    """Per shop and stream: when the sync last succeeded and how far behind its bookmark is."""
    rows = session.execute(
        select(SyncState, Shop.name)
        .join(Shop, Shop.shop_id == SyncState.shop_id)
        .where(SyncState.stream != LEASE_STREAM)  # the workers' lease row is no sync
        .order_by(Shop.name)
    )
    return [
        SyncRow(
            shop_id=state.shop_id,
            shop_name=name,
            stream=state.stream,
            last_success_at=state.last_success_at,
            lag_s=now.timestamp() - state.bookmark if state.bookmark else None,
            last_error=state.last_error,
            last_error_at=state.last_error_at,
        )
        for state, name in rows
    ]


@dataclass
class DayCounts:
    warehouse: str
    scans: int = 0
    blocks: int = 0
    holds: int = 0
    open_exceptions: int = 0
    overrides: int = 0


def today_counts(session: Session, warehouse_id: int | None, since: datetime) -> list[DayCounts]:
    """Scans, blocks and holds since `since` (midnight), and exceptions open now, per warehouse."""
    houses = [w for w in warehouses(session) if warehouse_id is None or w.id == warehouse_id]
    counts = {w.id: DayCounts(w.name) for w in houses}
    scans = session.execute(
        select(
            Scan.warehouse_id,
            func.count(),
            func.sum(case((Scan.decision == Decision.BLOCK, 1), else_=0)),
            func.sum(case((Scan.decision == Decision.HOLD, 1), else_=0)),
        )
        .where(Scan.received_at >= since, Scan.reason != Reason.DRILL)  # drills never count
        .group_by(Scan.warehouse_id)
    )
    for house, total, blocks, holds in scans:
        if house in counts:
            counts[house].scans, counts[house].blocks, counts[house].holds = total, blocks or 0, holds or 0
    open_rows = session.execute(
        select(ScanException.warehouse_id, func.count())
        .where(ScanException.status == ExceptionStatus.OPEN)
        .group_by(ScanException.warehouse_id)
    )
    for house, total in open_rows:
        if house in counts:
            counts[house].open_exceptions = total
    released = aliased(ScanException)
    overrides = session.execute(
        select(released.warehouse_id, func.count())
        .join(GateOverride, GateOverride.exception_id == released.id)
        .where(GateOverride.created_at >= since)
        .group_by(released.warehouse_id)
    )
    for house, total in overrides:
        if house in counts:
            counts[house].overrides = total
    return list(counts.values())


def recent_audit(session: Session, limit: int = 200) -> list[AuditLog]:
    """The newest audit entries, for the admin's audit page."""
    return list(
        session.scalars(select(AuditLog).order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(limit))
    )


def warehouse_choices(session: Session) -> dict[str, int]:
    """Form choices: a warehouse's id as sent by the browser, to its id."""
    return {str(w.id): w.id for w in warehouses(session)}
