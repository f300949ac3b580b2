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

from server.gatestate import recompute, recompute_many
from server.models import AfterSale, Order, SkuOrder, Waybill, utcnow


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


def apply(
    session: Session, orders: Iterable[OrderRecord] = (), after_sales: Iterable[AfterSaleRecord] = ()
) -> IngestResult:
    """Store a batch of order snapshots and after-sales, then recompute the gate entries of every
    order they touched, once each. After-sales of unknown orders are skipped and reported."""
    orders, after_sales = list(orders), list(after_sales)
    _preload(session, orders, after_sales)
    result = IngestResult()
    for record in orders:
        changed = _store_order(session, record)
        if changed is None:
            result.stale += 1
        result.changed_orders |= changed or set()
    for record in after_sales:
        if session.get(Order, record.order_id) is None:
            result.missing_orders.add(record.order_id)
        elif _store_after_sale(session, record):
            result.changed_orders.add(record.order_id)
        else:
            result.stale += 1
    recompute_many(session, result.changed_orders)
    return result


def _preload(session: Session, orders: list[OrderRecord], after_sales: list[AfterSaleRecord]) -> None:
    """Load what the batch will touch in a few queries, so the per-record gets hit the identity map."""
    order_ids = {r.order_id for r in orders} | {r.order_id for r in after_sales}
    sku_ids = {s.sku_order_id for r in orders for s in r.skus}
    aftersale_ids = {r.aftersale_id for r in after_sales}
    for model, column, ids in (
        (Order, Order.order_id, order_ids),
        (SkuOrder, SkuOrder.sku_order_id, sku_ids),
        (AfterSale, AfterSale.aftersale_id, aftersale_ids),
    ):
        ids = sorted(ids)
        for start in range(0, len(ids), 500):
            session.scalars(select(model).where(column.in_(ids[start : start + 500]))).all()


def upsert_order(session: Session, record: OrderRecord) -> bool:
    """Store one order snapshot. Returns False (and changes nothing) when ours is newer."""
    return apply(session, orders=[record]).stale == 0


def upsert_after_sale(session: Session, record: AfterSaleRecord) -> bool:
    """Store one after-sale. An update older than the stored one changes nothing."""
    result = apply(session, after_sales=[record])
    if result.missing_orders:
        raise LookupError(f"after-sale {record.aftersale_id} for unknown order {record.order_id}")
    return result.stale == 0


def _store_order(session: Session, record: OrderRecord) -> set[str] | None:
    order = session.get(Order, record.order_id)
    if order is not None and record.update_time and order.update_time > record.update_time:
        return None
    if order is None:
        order = Order(order_id=record.order_id, shop_id=record.shop_id, order_status=record.order_status)
        session.add(order)
    order.order_status = record.order_status
    order.main_status = record.main_status
    order.update_time = max(order.update_time or 0, record.update_time)
    for name in ("create_time", "pay_time", "ship_time", "pay_amount"):
        value = getattr(record, name)
        if value is not None:
            setattr(order, name, value)
    for sku in record.skus:
        _upsert_sku(session, record.order_id, sku)
    changed = {record.order_id}
    for tracking_no, company in record.tracking:
        changed |= assign_tracking(session, record.order_id, tracking_no, company, recompute_gate=False)
    return changed


def _upsert_sku(session: Session, order_id: str, record: SkuRecord) -> None:
    sku = session.get(SkuOrder, record.sku_order_id)
    if sku is None:
        sku = SkuOrder(sku_order_id=record.sku_order_id, order_id=order_id)
        session.add(sku)
    for name in ("product_id", "product_name", "code", "category", "item_num", "price", "order_status"):
        value = getattr(record, name)
        if value is not None:
            setattr(sku, name, value)


def _store_after_sale(session: Session, record: AfterSaleRecord) -> bool:
    after_sale = session.get(AfterSale, record.aftersale_id)
    if after_sale is not None and after_sale.update_time > record.update_time:
        return False
    if after_sale is None:
        after_sale = AfterSale(aftersale_id=record.aftersale_id, order_id=record.order_id)
        session.add(after_sale)
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


def assign_tracking(
    session: Session, order_id: str, tracking_no: str, company: str = "", *, recompute_gate: bool = True
) -> set[str]:
    """Give `tracking_no` to `order_id`, cancelling it on any other order (couriers recycle numbers).
    Returns the orders whose codes changed."""
    tracking_no = tracking_no.strip().upper()
    current = session.scalars(
        select(Waybill).where(Waybill.tracking_no == tracking_no, Waybill.cancelled_at.is_(None))
    ).all()
    changed: set[str] = set()
    if any(w.order_id == order_id for w in current):
        return changed
    now = utcnow()
    for waybill in current:
        waybill.cancelled_at = now
        changed.add(waybill.order_id)
    session.add(Waybill(tracking_no=tracking_no, company=company, order_id=order_id, issued_at=now))
    changed.add(order_id)
    if recompute_gate:
        for changed_id in sorted(changed):
            recompute(session, changed_id)
    return changed


def cancel_tracking(session: Session, tracking_no: str) -> set[str]:
    """Void a waybill (e.g. logistics.cancelOrder): the number resolves to nothing until reissued."""
    changed: set[str] = set()
    for waybill in session.scalars(
        select(Waybill).where(Waybill.tracking_no == tracking_no.upper(), Waybill.cancelled_at.is_(None))
    ):
        waybill.cancelled_at = utcnow()
        changed.add(waybill.order_id)
    for order_id in sorted(changed):
        recompute(session, order_id)
    return changed
