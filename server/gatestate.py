"""Keep each order's gate entry in step with what we know, in the caller's transaction.

Call `recompute(session, order_id)` after any change to an order, its sku orders, its
after-sales or its waybills. The entry's version is bumped only when what a replica
would see changes, so the replica feed carries no empty churn.
"""

from __future__ import annotations

from sqlalchemy import delete, insert, select, update
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


def bump_versions(session: Session, count: int) -> range:
    """Take `count` new gate versions from the counter, in one statement."""
    statement = (
        update(Counter)
        .where(Counter.name == GATE_COUNTER)
        .values(value=Counter.value + count)
        .returning(Counter.value)
    )
    last = session.execute(statement).scalar_one()
    return range(last - count + 1, last + 1)


CURRENT_VERSION = select(Counter.value).where(Counter.name == GATE_COUNTER)


def current_version(session: Session) -> int:
    return session.connection().execute(CURRENT_VERSION).scalar_one()


def recompute(session: Session, order_id: str) -> GateEntry | None:
    """Bring one order's gate entry up to date (see recompute_many)."""
    return recompute_many(session, [order_id]).get(order_id)


def recompute_many(session: Session, order_ids) -> dict[str, GateEntry]:
    """Bring the gate entries of these orders up to date, in the caller's transaction. Entries
    whose verdict or codes changed get new versions, in order-id order."""
    session.flush()
    wanted = sorted(set(order_ids))
    orders: dict[str, Order] = {}
    entries: dict[str, GateEntry] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        found = session.scalars(
            select(Order)
            .where(Order.order_id.in_(chunk))
            .options(
                selectinload(Order.sku_orders), selectinload(Order.after_sales), selectinload(Order.waybills)
            )
            .execution_options(populate_existing=True)
        ).all()
        orders.update((o.order_id, o) for o in found)
        entries.update(
            (e.order_id, e) for e in session.scalars(select(GateEntry).where(GateEntry.order_id.in_(chunk)))
        )
    changed: list[tuple[Order, Verdict, list[str], dict | None]] = []
    for order_id in wanted:
        order = orders.get(order_id)
        if order is None:
            continue
        verdict = evaluate(facts_of(order))
        codes, label = codes_of(order), label_of(order)
        entry = entries.get(order_id)
        if (
            entry is not None
            and (entry.decision, entry.reason) == (verdict.decision.value, verdict.reason.value)
            and list(entry.sku_out) == list(verdict.sku_order_ids_out)
            and list(entry.codes) == codes
        ):
            if entry.label != label:
                entry.label = label
            continue
        changed.append((order, verdict, codes, label))
    if not changed:
        return entries
    for (order, verdict, codes, label), version in zip(
        changed, bump_versions(session, len(changed)), strict=True
    ):
        entry = entries.get(order.order_id)
        if entry is None:
            entry = entries[order.order_id] = GateEntry(order_id=order.order_id, shop_id=order.shop_id)
            session.add(entry)
        entry.decision = verdict.decision.value
        entry.reason = verdict.reason.value
        entry.sku_out = list(verdict.sku_order_ids_out)
        entry.codes = codes
        entry.label = label
        entry.version = version
    session.flush()
    _index_codes(session, {order.order_id: [order.order_id, *codes] for order, _v, codes, _l in changed})
    return entries


CHUNK = 500


def _index_codes(session: Session, codes_by_order: dict[str, list[str]]) -> None:
    """Point every code at its order; a code taken from another order (a recycled tracking
    number) moves here, and the other order's own recompute drops it from its entry."""
    order_ids = list(codes_by_order)
    all_codes = [code for codes in codes_by_order.values() for code in codes]
    for start in range(0, len(order_ids), CHUNK):
        session.execute(delete(GateCode).where(GateCode.order_id.in_(order_ids[start : start + CHUNK])))
    for start in range(0, len(all_codes), CHUNK):
        session.execute(delete(GateCode).where(GateCode.code.in_(all_codes[start : start + CHUNK])))
    rows = [
        {"code": code, "order_id": order_id} for order_id, codes in codes_by_order.items() for code in codes
    ]
    session.execute(insert(GateCode), rows)
