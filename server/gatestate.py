"""Keep each order's gate entry in step with what we know, in the caller's transaction.

Call `recompute_many(session, order_ids)` after any change to an order, its sku orders, its
after-sales or its waybills. The entry's version is bumped only when what a replica
would see changes, so the replica feed carries no empty churn.

After each recompute the gate runs its hooks (`GateHooks`: collaborators such as incident
detection, installed by the composition roots, or passed per call): each in a savepoint, and a
failing one is logged and counted in /metrics (shipgate_gate_hook_failures_total), never breaking
the sync, push or scan that recomputed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from server import clock
from server.decision import AfterSaleFacts, OrderFacts, evaluate
from server.metrics import GATE_HOOK_FAILURES
from server.models import AfterSale, Counter, GateCode, GateEntry, Order, SkuOrder, Waybill
from shipgate.wire import Verdict

GATE_COUNTER = "gate"
log = logging.getLogger(__name__)


@dataclass
class OrderView:
    """What the gate needs of an order, read with a few Core queries (not ORM objects)."""

    order_id: str
    shop_id: str
    order_status: int
    main_status: int | None
    sku_orders: list = field(default_factory=list)  # rows: sku_order_id, product_name, code, item_num
    after_sales: list = field(
        default_factory=list
    )  # rows: sku_order_id, aftersale_type, aftersale_status, refund_status
    waybills: list = field(default_factory=list)  # current waybills: id, tracking_no, company, issued_at


def load_views(session: Session, order_ids: list[str]) -> dict[str, OrderView]:
    o, k, a, w = Order.__table__, SkuOrder.__table__, AfterSale.__table__, Waybill.__table__
    views = {
        row.order_id: OrderView(row.order_id, row.shop_id, row.order_status, row.main_status)
        for row in session.execute(
            select(o.c.order_id, o.c.shop_id, o.c.order_status, o.c.main_status).where(
                o.c.order_id.in_(order_ids)
            )
        )
    }
    for row in session.execute(
        select(k.c.order_id, k.c.sku_order_id, k.c.product_name, k.c.code, k.c.item_num)
        .where(k.c.order_id.in_(order_ids))
        .order_by(k.c.sku_order_id)
    ):
        views[row.order_id].sku_orders.append(row)
    for row in session.execute(
        select(
            a.c.order_id, a.c.sku_order_id, a.c.aftersale_type, a.c.aftersale_status, a.c.refund_status
        ).where(a.c.order_id.in_(order_ids))
    ):
        views[row.order_id].after_sales.append(row)
    for row in session.execute(
        select(w.c.order_id, w.c.id, w.c.tracking_no, w.c.company, w.c.issued_at).where(
            w.c.order_id.in_(order_ids), w.c.cancelled_at.is_(None)
        )
    ):
        views[row.order_id].waybills.append(row)
    return views


def facts_of(order: OrderView) -> OrderFacts:
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


def codes_of(order: OrderView) -> list[str]:
    """Every code that resolves to this order now: sku order ids and current tracking numbers."""
    codes = {sku.sku_order_id for sku in order.sku_orders}
    codes.update(w.tracking_no for w in order.waybills)
    codes.discard(order.order_id)
    return sorted(codes)


def label_of(order: OrderView) -> dict | None:
    """What a PASS prints: the newest current waybill and the goods; None without a waybill.
    Built to the wire contract (shipgate.wire.Waybill): texts without NUL and within its limits,
    so a scan answer can carry it as it is (`Waybill.of_label`)."""
    if not order.waybills:
        return None
    waybill = max(order.waybills, key=lambda w: (w.issued_at, w.id))
    return {
        "tracking_no": _fit(waybill.tracking_no, 64),
        "company": _fit(waybill.company, 64),
        "order_id": order.order_id,
        "items": [
            {
                "sku_order_id": s.sku_order_id,
                "name": _fit(s.product_name, 256),
                "code": None if s.code is None else _fit(s.code, 64),
                "num": s.item_num,
            }
            for s in order.sku_orders
        ],
    }


def _fit(value: str | None, limit: int) -> str:
    """Douyin's text as the wire takes it: no NUL, at most `limit` characters."""
    return (value or "").replace("\x00", "")[:limit]


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


@dataclass
class GateChange:
    """One order whose gate entry changed: what it said before (None when new) and says now."""

    order: OrderView
    before: tuple[str, str] | None  # (decision, reason)
    verdict: Verdict
    codes: list[str]
    label: dict | None
    version: int = 0


# A hook: (session, the changes, the views of every order recomputed) -> anything; it may write
# rows in the caller's transaction.
GateHook = Callable[[Session, list[GateChange], list[OrderView]], object]


class GateHooks:
    """What runs after every recompute, by name, in order of installation."""

    def __init__(self, **hooks: GateHook) -> None:
        self._hooks: dict[str, GateHook] = dict(hooks)

    def install(self, name: str, hook: GateHook) -> None:
        self._hooks[name] = hook

    def run(self, session: Session, changes: list[GateChange], views: list[OrderView]) -> None:
        for name, hook in list(self._hooks.items()):
            try:
                with session.begin_nested():
                    hook(session, changes, views)
            except Exception:  # a hook must never break the recompute that called it
                GATE_HOOK_FAILURES.labels(name).inc()
                log.exception(
                    "gate hook %s failed for orders %s", name, sorted(v.order_id for v in views)[:20]
                )


# The process's hooks; the composition roots (server.app.create_app, the CLI) install them.
HOOKS = GateHooks()


def recompute_many(session: Session, order_ids, *, hooks: GateHooks | None = None) -> list[GateChange]:
    """Bring the gate entries of these orders up to date, in the caller's transaction. Entries
    whose verdict or codes changed get new versions, in order-id order; returns those changes."""
    session.flush()
    wanted = sorted(set(order_ids))
    orders: dict[str, OrderView] = {}
    entries: dict[str, dict] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        orders.update(load_views(session, chunk))
        rows = session.execute(select(*ENTRY_COLUMNS).where(_entries.c.order_id.in_(chunk))).mappings()
        entries.update((row["order_id"], dict(row)) for row in rows)
    changes: list[GateChange] = []
    relabel: list[dict] = []
    for order_id in wanted:
        order = orders.get(order_id)
        if order is None:
            continue
        verdict = evaluate(facts_of(order))
        codes, label = codes_of(order), label_of(order)
        entry = entries.get(order_id)
        if entry is None:
            changes.append(GateChange(order, None, verdict, codes, label))
        elif (
            (entry["decision"], entry["reason"]) != (verdict.decision.value, verdict.reason.value)
            or list(entry["sku_out"]) != list(verdict.sku_order_ids_out)
            or list(entry["codes"]) != codes
        ):
            changes.append(GateChange(order, (entry["decision"], entry["reason"]), verdict, codes, label))
        elif entry["label"] != label:
            relabel.append({"b_order_id": order_id, "label": label})
    if relabel:
        session.execute(_RELABEL, relabel)
    if changes:
        _write(session, changes, entries)
    (HOOKS if hooks is None else hooks).run(session, changes, list(orders.values()))
    return changes


def _write(session: Session, changes: list[GateChange], entries: dict[str, dict]) -> None:
    now = clock.of(session).now()
    rows_new, rows_changed, reindex = [], [], {}
    for change, version in zip(changes, bump_versions(session, len(changes)), strict=True):
        change.version = version
        values = {
            "decision": change.verdict.decision.value,
            "reason": change.verdict.reason.value,
            "sku_out": list(change.verdict.sku_order_ids_out),
            "codes": change.codes,
            "label": change.label,
            "version": version,
            "updated_at": now,
        }
        order_id = change.order.order_id
        if change.before is None:
            rows_new.append({"order_id": order_id, "shop_id": change.order.shop_id, **values})
        else:
            rows_changed.append({"b_order_id": order_id, **values})
        if change.before is None or list(entries[order_id]["codes"]) != change.codes:
            reindex[order_id] = [order_id, *change.codes]
    if rows_new:
        session.execute(insert(GateEntry), rows_new)
    if rows_changed:
        session.execute(_UPDATE, rows_changed)
    if reindex:
        _index_codes(session, reindex)


_entries = GateEntry.__table__
ENTRY_COLUMNS = (
    _entries.c.order_id,
    _entries.c.decision,
    _entries.c.reason,
    _entries.c.sku_out,
    _entries.c.codes,
    _entries.c.label,
)
_UPDATE = (
    update(_entries)
    .where(_entries.c.order_id == bindparam("b_order_id"))
    .values(
        decision=bindparam("decision"),
        reason=bindparam("reason"),
        sku_out=bindparam("sku_out"),
        codes=bindparam("codes"),
        label=bindparam("label"),
        version=bindparam("version"),
        updated_at=bindparam("updated_at"),
    )
)
_RELABEL = (
    update(_entries).where(_entries.c.order_id == bindparam("b_order_id")).values(label=bindparam("label"))
)
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
