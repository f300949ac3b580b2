"""Apply stored Douyin push messages to orders, after-sales and the gate.

Messages are applied in the order given; each change is guarded by its update time, so a
duplicate or an older message arriving late changes nothing wrong.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from server import clock
from server.db import begin_write
from server.douyin.push import id_str, parse_push_data
from server.gatestate import recompute_many
from server.ingest import MAX_AHEAD_SECONDS, apply, assign_tracking, held_time, too_far_ahead
from server.metrics import WEBHOOK_MESSAGES
from server.models import Order, Shop, WebhookMessage
from server.sync.mapping import REFUND_TAGS, TRADE_TAGS, push_after_sale, push_trade

log = logging.getLogger(__name__)


class RefusedPushError(ValueError):
    """A stored push that is never applied; `outcome` is its label in the push counter."""

    outcome = "refused"


class ForeignShopError(RefusedPushError):
    """A push about an order of a shop that did not sign it."""

    outcome = "foreign_shop"


class FutureTimeError(RefusedPushError):
    """A push whose update time is beyond the bound ahead of our clock: it would outrank the truth."""

    outcome = "future_time"


def signers_of(session: Session, message: WebhookMessage) -> set[str]:
    """The shops whose secret verified a stored push; for a row stored before that was kept, the
    shops registered with its app key."""
    if message.signed_by:
        return set(message.signed_by.split(","))
    if not message.app_id:
        return set()
    return set(session.scalars(select(Shop.shop_id).where(Shop.app_key == message.app_id)))


def _order_of_signer(session: Session, order_id: str, data: dict, signers: Collection[str]) -> Order:
    """The order a message is about, if it belongs to a shop that signed the message; a
    placeholder for an order not pulled yet. Anything else raises ForeignShopError."""
    claimed = id_str(data["shop_id"]) if data.get("shop_id") not in (None, "") else None
    if claimed is not None and claimed not in signers:
        raise ForeignShopError(f"message names shop {claimed}, signed by {sorted(signers)}")
    order = session.get(Order, order_id)
    if order is not None:
        if order.shop_id not in signers:
            raise ForeignShopError(f"order {order_id} belongs to shop {order.shop_id}, not a signer")
        return order
    if claimed is None and len(signers) != 1:
        raise ForeignShopError(f"message names no shop and {len(signers)} shops could have signed it")
    return _placeholder_order(session, order_id, claimed or next(iter(signers)))


def _bounded(update_time: int, now: float) -> int:
    if too_far_ahead(update_time, now):
        raise FutureTimeError(
            f"update time {update_time} is more than {MAX_AHEAD_SECONDS} s ahead of {now:.0f}"
        )
    return update_time


def apply_message(session: Session, message: WebhookMessage, signers: Collection[str], now: float) -> None:
    """Apply one stored message (the caller commits) to orders of the shops that signed it
    (`signers`); `now` bounds its update time. Unknown tags are stored and ignored."""
    data = parse_push_data(message.data)
    if message.tag in REFUND_TAGS:
        record = push_after_sale(message.tag, data)
        _bounded(record.update_time, now)
        _order_of_signer(session, record.order_id, data, signers)
        apply(session, after_sales=[record], now=now)
    elif message.tag in TRADE_TAGS:
        order_id, status, update_time, tracking = push_trade(message.tag, data)
        _bounded(update_time, now)
        order = _order_of_signer(session, order_id, data, signers)
        changed = {order_id}
        if update_time >= held_time(order.update_time, now):
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


def apply_pending(
    session: Session, messages: list[WebhookMessage], signers: Collection[str], now: float | None = None
) -> int:
    """Apply each message in its own savepoint; a bad one is marked, the rest still apply.
    `signers`: the shops whose credentials signed them (see apply_message)."""
    applied = 0
    now = clock.of(session).now().timestamp() if now is None else now
    begin_write(session)
    for message in messages:
        try:
            with session.begin_nested():
                apply_message(session, message, signers, now)
            applied += 1
        except RefusedPushError as exc:
            message.error = f"{exc.outcome}: {exc}"[:500]
            WEBHOOK_MESSAGES.labels(exc.outcome).inc()
            log.warning("push %s (tag %s) refused: %s", message.msg_id, message.tag, exc)
        except Exception as exc:  # noqa: BLE001 - one bad message must not stop the others
            if isinstance(exc, SQLAlchemyError) and not isinstance(exc, DataError | IntegrityError):
                raise  # the database itself is in trouble: the caller rolls back, the message stays queued
            message.error = f"{type(exc).__name__}: {exc}"[:500]
            log.warning("push %s (tag %s) not applied: %s", message.msg_id, message.tag, message.error)
    return applied
