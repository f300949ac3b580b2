"""Keep each order's gate entry in step with what we know, in the caller's transaction.

Call `recompute(session, order_id)` after any change to an order, its sku orders, its
after-sales or its waybills. The entry's version is bumped only when what a replica
would see changes, so the replica feed carries no empty churn.
"""

from __future__ import annotations

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.orm import Session, selectinload

from server.decision import AfterSaleFacts, OrderFacts, evaluate
from server.models import Counter, GateCode, GateEntry, Order
from shipgate.wire import Verdict

GATE_COUNTER = "gate"


def facts_of(order: Order) -> OrderFacts:
    return OrderFacts(
        order_id=order.order_id,
        order_status=order.order_status,
        main_status=order.main_status,
        sku_order_ids=tuple(sku.sku_order_id for sku in order.sku_orders),
        after_sales=tuple(
            AfterSaleFacts(a.sku_order_id, a.aftersale_type, a.aftersale_status, a.refund_status)
            for a in order.after_sales
        ),
    )


def codes_of(order: Order) -> list[str]:
    """Every code that resolves to this order now: sku order ids and current tracking numbers."""
    codes = {sku.sku_order_id for sku in order.sku_orders}
    codes.update(w.tracking_no for w in order.waybills if w.cancelled_at is None)
    codes.discard(order.order_id)
    return sorted(codes)


def label_of(order: Order) -> dict | None:
    """What a PASS prints: the newest current waybill and the goods; None without a waybill."""
    current = [w for w in order.waybills if w.cancelled_at is None]
    if not current:
        return None
    waybill = max(current, key=lambda w: (w.issued_at, w.id))
    return {
        "tracking_no": waybill.tracking_no,
        "company": waybill.company,
        "order_id": order.order_id,
        "items": [
            {"sku_order_id": s.sku_order_id, "name": s.product_name, "code": s.code, "num": s.item_num}
            for s in order.sku_orders
        ],
    }


def next_version(session: Session) -> int:
    statement = (
        update(Counter)
        .where(Counter.name == GATE_COUNTER)
        .values(value=Counter.value + 1)
        .returning(Counter.value)
    )
    return session.execute(statement).scalar_one()


CURRENT_VERSION = select(Counter.value).where(Counter.name == GATE_COUNTER)


def current_version(session: Session) -> int:
    return session.connection().execute(CURRENT_VERSION).scalar_one()


def recompute(session: Session, order_id: str) -> GateEntry | None:
    session.flush()
    order = session.execute(
        select(Order)
        .where(Order.order_id == order_id)
        .options(
            selectinload(Order.sku_orders), selectinload(Order.after_sales), selectinload(Order.waybills)
        )
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if order is None:
        return None
    verdict: Verdict = evaluate(facts_of(order))
    codes = codes_of(order)
    sku_out = list(verdict.sku_order_ids_out)
    label = label_of(order)
    entry = session.get(GateEntry, order_id)
    unchanged = (
        entry is not None
        and entry.decision == verdict.decision.value
        and entry.reason == verdict.reason.value
        and list(entry.sku_out) == sku_out
        and list(entry.codes) == codes
    )
    if unchanged:
        if entry.label != label:
            entry.label = label
        return entry
    version = next_version(session)
    if entry is None:
        entry = GateEntry(order_id=order_id, shop_id=order.shop_id)
        session.add(entry)
    entry.decision = verdict.decision.value
    entry.reason = verdict.reason.value
    entry.sku_out = sku_out
    entry.codes = codes
    entry.label = label
    entry.version = version
    session.flush()
    _index_codes(session, order_id, [order_id, *codes])
    return entry


def _index_codes(session: Session, order_id: str, codes: list[str]) -> None:
    """Point every code at this order; a code taken from another order (a recycled tracking
    number) moves here, and the other order's recompute drops it from its entry."""
    session.execute(delete(GateCode).where(or_(GateCode.order_id == order_id, GateCode.code.in_(codes))))
    session.execute(insert(GateCode), [{"code": code, "order_id": order_id} for code in codes])
