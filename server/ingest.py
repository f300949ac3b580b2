"""Write what Douyin says into our tables, idempotently, and keep the gate current.

Every source (pull sync, webhook push, live look-up, the console, tests) goes through here,
so the rules live once: upserts keyed on Douyin's ids; an older update never overwrites a
newer one; a tracking number belongs to one order at a time; the gate entry is recomputed in
the same transaction. The caller commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import clock
from server.db import begin_write
from server.gatestate import recompute_many
from server.models import AfterSale, Order, SkuOrder, Waybill

# How far ahead of our clock an update time may be. A later one is a lie (or a broken clock): a
# push carrying it is refused, and one already stored outranks nothing, so the pull corrects it.
MAX_AHEAD_SECONDS = 300


def too_far_ahead(update_time: int | None, now: float) -> bool:
    return bool(update_time) and update_time > now + MAX_AHEAD_SECONDS


def held_time(update_time: int | None, now: float) -> int:
    """The stored update time as far as ordering goes: 0 for one beyond the bound."""
    return 0 if too_far_ahead(update_time, now) else (update_time or 0)


@dataclass(frozen=True)
class SkuRecord:
    sku_order_id: str
    product_id: str | None = None
    product_name: str = ""
    code: str | None = None
    category: str | None = None
    item_num: int = 1
    price: int | None = None
    order_status: int | None = None


@dataclass(frozen=True)
class OrderRecord:
    order_id: str
    shop_id: str
    order_status: int
    main_status: int | None = None
    update_time: int = 0
    create_time: int | None = None
    pay_time: int | None = None
    ship_time: int | None = None
    pay_amount: int | None = None
    skus: tuple[SkuRecord, ...] = ()
    tracking: tuple[tuple[str, str], ...] = ()  # (tracking_no, company)


@dataclass(frozen=True)
class AfterSaleRecord:
    aftersale_id: str
    order_id: str
    aftersale_type: int
    aftersale_status: int
    update_time: int
    sku_order_id: str | None = None
    refund_status: int | None = None
    refund_amount: int | None = None
    apply_time: int | None = None


@dataclass
class IngestResult:
    changed_orders: set[str] = field(default_factory=set)
    stale: int = 0  # records older than what we hold: ignored
    missing_orders: set[str] = field(default_factory=set)  # after-sales of orders we do not know


class _Batch:
    """What one apply() touches, loaded in a few queries up front; new rows are added as they come."""

    def __init__(
        self, session: Session, orders: list[OrderRecord], after_sales: list[AfterSaleRecord], now: float
    ):
        self.session = session
        self.now = now
        order_ids = {r.order_id for r in orders} | {r.order_id for r in after_sales}
        self.orders = _load(session, Order, Order.order_id, order_ids)
        self.skus = _load(
            session, SkuOrder, SkuOrder.sku_order_id, {s.sku_order_id for r in orders for s in r.skus}
        )
        self.after_sales = _load(
            session, AfterSale, AfterSale.aftersale_id, {r.aftersale_id for r in after_sales}
        )
        tracking = {_tracking(t) for r in orders for t, _company in r.tracking}
        self.waybills: dict[str, list[Waybill]] = {t: [] for t in tracking}
        for waybill in _current_waybills(session, tracking):
            self.waybills[waybill.tracking_no].append(waybill)


def _load(session: Session, model, column, ids: set[str]) -> dict:
    found, ids = {}, sorted(ids)
    for start in range(0, len(ids), 500):
        for row in session.scalars(select(model).where(column.in_(ids[start : start + 500]))):
            found[getattr(row, column.key)] = row
    return found


def _current_waybills(session: Session, tracking: set[str]) -> list[Waybill]:
    numbers, found = sorted(tracking), []
    for start in range(0, len(numbers), 500):
        found += session.scalars(
            select(Waybill).where(
                Waybill.tracking_no.in_(numbers[start : start + 500]), Waybill.cancelled_at.is_(None)
            )
        ).all()
    return found


def _tracking(number: str) -> str:
    return number.strip().upper()


def apply(
    session: Session,
    orders: Iterable[OrderRecord] = (),
    after_sales: Iterable[AfterSaleRecord] = (),
    *,
    now: float | None = None,
) -> IngestResult:
    """Store a batch of order snapshots and after-sales, then recompute the gate entries of every
    order they touched, once each. After-sales of unknown orders are skipped and reported.
    `now` (Unix seconds) bounds the stored update times that may outrank a record."""
    orders, after_sales = list(orders), list(after_sales)
    result = IngestResult()
    begin_write(session)
    with session.no_autoflush:
        batch = _Batch(
            session, orders, after_sales, clock.of(session).now().timestamp() if now is None else now
        )
        for record in orders:
            changed = _store_order(batch, record)
            if changed is None:
                result.stale += 1
            result.changed_orders |= changed or set()
        for record in after_sales:
            if record.order_id not in batch.orders:
                result.missing_orders.add(record.order_id)
            elif _store_after_sale(batch, record):
                result.changed_orders.add(record.order_id)
            else:
                result.stale += 1
    recompute_many(session, result.changed_orders)
    return result


def upsert_order(session: Session, record: OrderRecord) -> bool:
    """Store one order snapshot. Returns False (and changes nothing) when ours is newer."""
    return apply(session, orders=[record]).stale == 0


def upsert_after_sale(session: Session, record: AfterSaleRecord) -> bool:
    """Store one after-sale. An update older than the stored one changes nothing."""
    result = apply(session, after_sales=[record])
    if result.missing_orders:
        raise LookupError(f"after-sale {record.aftersale_id} for unknown order {record.order_id}")
    return result.stale == 0


def _store_order(batch: _Batch, record: OrderRecord) -> set[str] | None:
    order = batch.orders.get(record.order_id)
    held = held_time(order.update_time, batch.now) if order is not None else 0
    if order is not None and record.update_time and held > record.update_time:
        return None
    if order is None:
        order = Order(order_id=record.order_id, shop_id=record.shop_id, order_status=record.order_status)
        batch.session.add(order)
        batch.orders[record.order_id] = order
    order.order_status = record.order_status
    order.main_status = record.main_status
    order.update_time = max(held, record.update_time)
    for name in ("create_time", "pay_time", "ship_time", "pay_amount"):
        value = getattr(record, name)
        if value is not None:
            setattr(order, name, value)
    for sku in record.skus:
        _upsert_sku(batch, record.order_id, sku)
    changed = {record.order_id}
    for tracking_no, company in record.tracking:
        changed |= _assign(
            batch.session,
            batch.waybills.setdefault(_tracking(tracking_no), []),
            record.order_id,
            _tracking(tracking_no),
            company,
        )
    return changed


def _upsert_sku(batch: _Batch, order_id: str, record: SkuRecord) -> None:
    sku = batch.skus.get(record.sku_order_id)
    if sku is None:
        sku = SkuOrder(sku_order_id=record.sku_order_id, order_id=order_id)
        batch.session.add(sku)
        batch.skus[record.sku_order_id] = sku
    for name in ("product_id", "product_name", "code", "category", "item_num", "price", "order_status"):
        value = getattr(record, name)
        if value is not None:
            setattr(sku, name, value)


FINAL_AFTERSALE_STATUSES = frozenset({12, 14, 27, 28, 29})


def _is_older(after_sale: AfterSale, record: AfterSaleRecord, now: float) -> bool:
    """Douyin's times are whole seconds: within the same second a final status (success,
    closed, refused) wins over an open one, whatever order the messages arrive in."""
    held = held_time(after_sale.update_time, now)
    if held != record.update_time:
        return record.update_time < held
    return after_sale.aftersale_status in FINAL_AFTERSALE_STATUSES and (
        record.aftersale_status not in FINAL_AFTERSALE_STATUSES
    )


def _store_after_sale(batch: _Batch, record: AfterSaleRecord) -> bool:
    after_sale = batch.after_sales.get(record.aftersale_id)
    if after_sale is not None and _is_older(after_sale, record, batch.now):
        return False
    if after_sale is None:
        after_sale = AfterSale(aftersale_id=record.aftersale_id, order_id=record.order_id)
        batch.session.add(after_sale)
        batch.after_sales[record.aftersale_id] = after_sale
    for name in (
        "sku_order_id",
        "aftersale_type",
        "aftersale_status",
        "refund_status",
        "refund_amount",
        "apply_time",
        "update_time",
    ):
        value = getattr(record, name)
        if value is not None:
            setattr(after_sale, name, value)
    return True


def _assign(
    session: Session, current: list[Waybill], order_id: str, tracking_no: str, company: str
) -> set[str]:
    """Give a tracking number to an order, cancelling it on the others (`current` is kept up to date)."""
    mine = [w for w in current if w.order_id == order_id]
    if mine:
        if company and not company.isdigit() and (not mine[0].company or mine[0].company.isdigit()):
            mine[0].company = company  # a push carries only the courier's id; the pull its name
        return set()
    now = clock.of(session).now()
    changed = {order_id}
    for waybill in current:
        waybill.cancelled_at = now
        changed.add(waybill.order_id)
    waybill = Waybill(tracking_no=tracking_no, company=company, order_id=order_id, issued_at=now)
    session.add(waybill)
    current[:] = [waybill]
    return changed


def assign_tracking(
    session: Session, order_id: str, tracking_no: str, company: str = "", *, recompute_gate: bool = True
) -> set[str]:
    """Give `tracking_no` to `order_id`, cancelling it on any other order (couriers recycle numbers).
    Returns the orders whose codes changed."""
    tracking_no = _tracking(tracking_no)
    changed = _assign(session, _current_waybills(session, {tracking_no}), order_id, tracking_no, company)
    if recompute_gate and changed:
        recompute_many(session, changed)
    return changed


def cancel_tracking(session: Session, tracking_no: str) -> set[str]:
    """Void a waybill (e.g. logistics.cancelOrder): the number resolves to nothing until reissued."""
    changed: set[str] = set()
    for waybill in _current_waybills(session, {_tracking(tracking_no)}):
        waybill.cancelled_at = clock.of(session).now()
        changed.add(waybill.order_id)
    recompute_many(session, changed)
    return changed
