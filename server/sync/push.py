"""Apply stored Douyin push messages to orders, after-sales and the gate.

Messages are applied in the order given; each change is guarded by its update time, so a
duplicate or an older message arriving late changes nothing wrong.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from server import clock
from server.db import begin_write
from server.douyin.push import parse_push_data
from server.gatestate import recompute_many
from server.ingest import apply, assign_tracking
from server.models import Order, WebhookMessage
from server.sync.mapping import REFUND_TAGS, TRADE_TAGS, push_after_sale, push_trade

log = logging.getLogger(__name__)


def apply_message(session: Session, message: WebhookMessage, shop_id: str) -> None:
    """Apply one stored message (the caller commits). Unknown tags are stored and ignored."""
    data = parse_push_data(message.data)
    if message.tag in REFUND_TAGS:
        record = push_after_sale(message.tag, data)
        if session.get(Order, record.order_id) is None:
            _placeholder_order(session, record.order_id, str(data.get("shop_id") or shop_id))
        apply(session, after_sales=[record])
    elif message.tag in TRADE_TAGS:
        order_id, status, update_time, tracking = push_trade(message.tag, data)
        order = session.get(Order, order_id) or _placeholder_order(
            session, order_id, str(data.get("shop_id") or shop_id)
        )
        changed = {order_id}
        if update_time >= (order.update_time or 0):
            order.order_status = status
            order.update_time = update_time
            if status == 3 and not order.ship_time:
                order.ship_time = update_time
        for tracking_no, company in tracking:
            changed |= assign_tracking(session, order_id, tracking_no, company, recompute_gate=False)
        recompute_many(session, changed)
    message.applied_at = clock.of(session).now()
    message.error = None


def _placeholder_order(session: Session, order_id: str, shop_id: str) -> Order:
    """A push about an order the pull has not brought yet: keep what the push says; the next pull
    (or a live look-up) fills in the rest. update_time 0 lets any real snapshot overwrite it."""
    order = Order(order_id=order_id, shop_id=shop_id, order_status=2, update_time=0)
    session.add(order)
    session.flush()
    return order


def apply_pending(session: Session, messages: list[WebhookMessage], shop_id: str) -> int:
    """Apply each message in its own savepoint; a bad one is marked, the rest still apply."""
    applied = 0
    begin_write(session)
    for message in messages:
        try:
            with session.begin_nested():
                apply_message(session, message, shop_id)
            applied += 1
        except Exception as exc:  # noqa: BLE001 - one bad message must not stop the others
            if isinstance(exc, SQLAlchemyError) and not isinstance(exc, DataError | IntegrityError):
                raise  # the database itself is in trouble: the caller rolls back, the message stays queued
            message.error = f"{type(exc).__name__}: {exc}"[:500]
            log.warning("push %s (tag %s) not applied: %s", message.msg_id, message.tag, message.error)
    return applied
