"""Open a "shipped after refund" incident (退款后已发货) when a refund succeeds on an order whose
parcel already left: it passed the gate (a PASS scan, so its waybill was printed) or Douyin
says it shipped.

Only a refund the buyer asked for before the parcel left counts: Douyin's 未发货仅退款 (type 2),
or any refund applied before the PASS or the shipment, or main status 21 (发货前退款完结). A
buyer who asks for a refund after receiving the parcel is an ordinary return, not an incident.

One incident per order, ever: the unique order_id, and an insert in its own savepoint that
quietly loses a race with another process. Detection runs inside the gate's transaction as a
gate hook (`after_gate_change`, installed by the composition roots, see `install`): the gate runs
it in a savepoint, and a failure is logged and counted in /metrics, never breaking the
recompute. It only writes rows (the incident, its first event, robot messages in the outbox);
nothing is sent from here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from server import clock
from server.douyin.enums import AfterSaleType, refund_succeeded
from server.incidents import robots
from server.incidents.workflow import State
from server.models import AfterSale, Order, Scan, Shop, Station
from server.models.incidents import Incident, IncidentEvent
from shipgate.wire import Decision, Reason, ScanMode

log = logging.getLogger(__name__)

SHIPPED_STATUSES = frozenset({3, 101, 5})
SHIPPED_MAIN = frozenset({22, 39})  # refunds completed after shipment / receipt
REFUNDED_BEFORE_SHIPMENT_MAIN = 21
DRILL = Reason.DRILL
CHUNK = 500


def _at(seconds: int | None) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


def _unix(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment else None


def shipped_on_douyin(order: Order) -> bool:
    return (
        order.order_status in SHIPPED_STATUSES or bool(order.ship_time) or order.main_status in SHIPPED_MAIN
    )


def refund_successes(order: Order) -> list[AfterSale]:
    return [a for a in order.after_sales if refund_succeeded(a)]


def left_at(order: Order, first_pass: Scan | None) -> int | None:
    """When the parcel left, in Unix seconds: the earlier of its first PASS and Douyin's ship time."""
    times = [t for t in (_unix(first_pass.scanned_at) if first_pass else None, order.ship_time) if t]
    return min(times) if times else None


def qualifying_refunds(order: Order, first_pass: Scan | None) -> list[AfterSale]:
    """Refund successes the buyer asked for before the parcel left, oldest success first."""
    left = left_at(order, first_pass)
    found = [
        a
        for a in refund_successes(order)
        if a.aftersale_type == AfterSaleType.REFUND_BEFORE_SHIPMENT
        or (a.apply_time and left and a.apply_time <= left)
    ]
    return sorted(found, key=lambda a: (a.update_time or 0, a.aftersale_id))


def is_incident(order: Order, first_pass: Scan | None) -> bool:
    if first_pass is None and not shipped_on_douyin(order):
        return False
    return bool(qualifying_refunds(order, first_pass)) or order.main_status == REFUNDED_BEFORE_SHIPMENT_MAIN


def after_gate_change(session: Session, changes: Iterable, recomputed: Iterable = ()) -> list[Incident]:
    """The gate's hook, called by recompute_many with its changes (server.gatestate.GateChange:
    order view, previous (decision, reason), new verdict) and the views of every order it
    recomputed. Unchanged orders matter: a poll can bring an order's refunded main status first,
    making it BLOCK, and its after-sale a moment later, which changes no verdict. Opens the
    incidents due and completes ones opened before their after-sale came."""
    views = {v.order_id: v for v in (list(recomputed) or [c.order for c in changes]) if _refund_stands(v)}
    if not views:
        return []
    return _open_for(session, views)


def install(hooks) -> None:
    """Make incident detection a hook of the gate (server.gatestate.GateHooks)."""
    hooks.install("incidents", after_gate_change)


def _refund_stands(view) -> bool:
    """A cheap look at the gate's own view of an order: a refund succeeded on it."""
    return view.main_status == REFUNDED_BEFORE_SHIPMENT_MAIN or any(
        refund_succeeded(a) for a in view.after_sales
    )


def _shipped_view(view) -> bool:
    return view.order_status in SHIPPED_STATUSES or view.main_status in SHIPPED_MAIN


def load_orders(session: Session, order_ids: list[str]) -> dict[str, Order]:
    """Orders with their sku orders, after-sales and waybills, read afresh."""
    found: dict[str, Order] = {}
    for start in range(0, len(order_ids), CHUNK):
        found.update(
            (o.order_id, o)
            for o in session.scalars(
                select(Order)
                .where(Order.order_id.in_(order_ids[start : start + CHUNK]))
                .options(
                    selectinload(Order.sku_orders),
                    selectinload(Order.after_sales),
                    selectinload(Order.waybills),
                )
                .execution_options(populate_existing=True)
            )
        )
    return found


def _open_for(session: Session, views: dict) -> list[Incident]:
    """Two indexed queries for the usual case (a refunded order that never passed or shipped);
    the orders themselves are read only when an incident may be due or needs completing."""
    ids = sorted(views)
    have = existing(session, ids)
    incomplete = [i for i in have.values() if i.aftersale_id is None]
    passes = first_passes(session, [i for i in ids if i not in have])
    due = [i for i in ids if i not in have and (i in passes or _shipped_view(views[i]))]
    orders = load_orders(session, sorted({i.order_id for i in incomplete} | set(due)))
    for incident in incomplete:
        complete(session, incident, orders.get(incident.order_id))
    opened = []
    for order_id in due:
        order, first = orders[order_id], passes.get(order_id)
        if not is_incident(order, first) or caught_in_building(session, order, first):
            continue
        trigger = "refund_after_pass" if first is not None else "refund_after_ship"
        incident = _insert(session, build(session, order, first, trigger, clock.of(session).now()))
        if incident is not None:
            opened.append(incident)
    return opened


def caught_in_building(session: Session, order: Order, first_pass: Scan | None) -> bool:
    """A near miss, not an incident: packed (a bench PASS) but not handed to a courier yet, not
    shipped on Douyin, in a warehouse whose handover station will block it (交接拦截)."""
    if first_pass is None or first_pass.mode != ScanMode.BENCH or shipped_on_douyin(order):
        return False
    handed_over = session.scalar(
        select(Scan.id)
        .where(
            Scan.order_id == order.order_id, Scan.mode == ScanMode.HANDOVER, Scan.decision == Decision.PASS
        )
        .limit(1)
    )
    if handed_over is not None:
        return False
    gate = session.scalar(
        select(Station.id)
        .where(
            Station.warehouse_id == first_pass.warehouse_id,
            Station.mode == ScanMode.HANDOVER,
            Station.revoked_at.is_(None),
        )
        .limit(1)
    )
    return gate is not None


def first_passes(session: Session, order_ids: list[str]) -> dict[str, Scan]:
    """The first PASS (not a drill) of each order, at any station."""
    found: dict[str, Scan] = {}
    for start in range(0, len(order_ids), CHUNK):
        rows = session.scalars(
            select(Scan)
            .where(
                Scan.order_id.in_(order_ids[start : start + CHUNK]),
                Scan.decision == Decision.PASS,
                Scan.reason != DRILL,
            )
            .order_by(Scan.scanned_at, Scan.id)
        )
        for scan in rows:
            found.setdefault(scan.order_id, scan)
    return found


def existing(session: Session, order_ids: list[str]) -> dict[str, Incident]:
    have: dict[str, Incident] = {}
    for start in range(0, len(order_ids), CHUNK):
        chunk = order_ids[start : start + CHUNK]
        have.update(
            (i.order_id, i) for i in session.scalars(select(Incident).where(Incident.order_id.in_(chunk)))
        )
    return have


def build(session: Session, order: Order, first_pass: Scan | None, trigger: str, now: datetime) -> Incident:
    """An incident row from what we know of the order now (not added to the session)."""
    refunds = qualifying_refunds(order, first_pass) or refund_successes(order)
    first = refunds[0] if refunds else None
    succeeded = _at(first.update_time) if first else _at(order.update_time)
    goods = goods_of(order, refunds)
    current = sorted((w for w in order.waybills if w.cancelled_at is None), key=lambda w: (w.issued_at, w.id))
    waybill = current[-1] if current else None
    passed = first_pass.scanned_at if first_pass else None
    refund_amount = sum(a.refund_amount or 0 for a in refunds) or None
    return Incident(
        order_id=order.order_id,
        shop_id=order.shop_id,
        warehouse_id=first_pass.warehouse_id if first_pass else _shop_warehouse(session, order.shop_id),
        trigger=trigger,
        aftersale_id=first.aftersale_id if first else None,
        refund_amount=refund_amount,
        refund_applied_at=_at(min((a.apply_time for a in refunds if a.apply_time), default=None)),
        refund_succeeded_at=succeeded,
        goods=goods,
        tracking_no=waybill.tracking_no if waybill else None,
        company=waybill.company if waybill else "",
        pass_scan_pk=first_pass.id if first_pass else None,
        passed_at=passed,
        station_id=first_pass.station_id if first_pass else None,
        packer=first_pass.operator if first_pass else None,
        shipped_at=_at(order.ship_time),
        race_window_s=int((passed - succeeded).total_seconds()) if passed and succeeded else None,
        detected_at=now,
        state=State.OPEN,
        goods_value=goods_value(goods, refund_amount, order.pay_amount),
    )


def goods_of(order: Order, refunds: list[AfterSale]) -> list[dict]:
    """The refunded sku lines (every line when a refund names none or covers the whole order)."""
    named = {a.sku_order_id for a in refunds}
    skus = order.sku_orders
    if None in named or not refunds or not named & {s.sku_order_id for s in skus}:
        chosen = skus
    else:
        chosen = [s for s in skus if s.sku_order_id in named]
    return [
        {
            "sku_order_id": s.sku_order_id,
            "name": s.product_name,
            "code": s.code,
            "category": s.category,
            "num": s.item_num,
            "price": s.price,
        }
        for s in chosen
    ]


def goods_value(goods: list[dict], refund_amount: int | None, pay_amount: int | None) -> int:
    """Sku prices when all are known, else what was refunded, else what was paid, in fen."""
    if goods and all(g["price"] is not None for g in goods):
        return sum(g["price"] * (g["num"] or 1) for g in goods)
    return refund_amount or pay_amount or 0


def _shop_warehouse(session: Session, shop_id: str) -> int | None:
    shop = session.get(Shop, shop_id)
    houses = sorted(w.id for w in shop.warehouses) if shop is not None else []
    return houses[0] if houses else None


def _insert(session: Session, incident: Incident) -> Incident | None:
    """Insert unless another process got there first; then its first event and the robot messages."""
    try:
        with session.begin_nested():
            session.add(incident)
            session.flush()
    except IntegrityError:
        log.info("incident for order %s already opened elsewhere", incident.order_id)
        return None
    detail = {"trigger": incident.trigger, "race_window_s": incident.race_window_s}
    session.add(IncidentEvent(incident_id=incident.id, at=incident.detected_at, actor="system", kind="detected",
                              to_state=State.OPEN, detail=detail))  # fmt: skip
    try:
        with session.begin_nested():
            robots.enqueue_incident(session, incident)
    except Exception:  # an alert problem never costs the incident
        log.exception("could not queue robot alerts for incident %s", incident.id)
    log.warning(
        "incident %s: order %s shipped after refund (%s, race window %s s)",
        incident.id,
        incident.order_id,
        incident.trigger,
        incident.race_window_s,
    )
    return incident


def complete(session: Session, incident: Incident, order: Order | None = None) -> bool:
    """Fill in the refund of an incident opened before its after-sale arrived (a poll brings an
    order's main status 21 before the after-sale itself). True when something was filled in; the
    caller commits."""
    if incident.aftersale_id:
        return False
    order = order or load_orders(session, [incident.order_id]).get(incident.order_id)
    first_pass = session.get(Scan, incident.pass_scan_pk) if incident.pass_scan_pk else None
    refunds = (qualifying_refunds(order, first_pass) or refund_successes(order)) if order else []
    if not refunds:
        return False
    incident.aftersale_id = refunds[0].aftersale_id
    incident.refund_amount = sum(a.refund_amount or 0 for a in refunds) or None
    incident.refund_applied_at = _at(min((a.apply_time for a in refunds if a.apply_time), default=None))
    if not incident.goods_value:
        incident.goods_value = goods_value(incident.goods, incident.refund_amount, order.pay_amount)
    return True


def open_for_offline_pass(session: Session, order_id: str, scan: Scan | int) -> Incident | None:
    """A station's offline PASS was uploaded for an order the server says is BLOCK: its waybill
    was printed. Opens the order's incident (or returns the one it has). Never raises; the caller
    commits."""
    try:
        with session.begin_nested():
            return _open_offline(session, order_id, scan)
    except Exception:
        log.exception("could not open an incident for the offline PASS of order %s", order_id)
        return None


def _open_offline(session: Session, order_id: str, scan: Scan | int) -> Incident | None:
    scan = scan if isinstance(scan, Scan) else session.get(Scan, scan)
    if scan is None or scan.reason == DRILL or Decision.PASS not in (scan.station_decision, scan.decision):
        return None
    found = session.scalar(select(Incident).where(Incident.order_id == order_id))
    if found is not None:
        return found
    order = load_orders(session, [order_id]).get(order_id)
    if order is None:
        return None
    return _insert(session, build(session, order, scan, "offline_pass", clock.of(session).now()))
