"""The Douyin push receiver: verify the raw body, store every message, then acknowledge.

Order of work (as in PyPI's signed webhooks): verify `event-sign` over the exact bytes first,
then parse, then store durably (inbox keyed by msg_id, duplicates ignored), commit, and only
then apply and answer {"code":0,"msg":"success"}. A message stored but not applied (a crash
between the two) is applied by the sync loop's next pass.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from server import clock
from server.db import begin_write, get_session
from server.douyin.push import PUSH_OK, PushFormatError, parse_push_body
from server.douyin.signing import verify_event_sign
from server.metrics import WEBHOOK_MESSAGES
from server.models import Shop, WebhookMessage
from server.sync.mapping import check_message
from server.sync.push import apply_pending

bp = Blueprint("webhooks", __name__)

VERIFY_TAG = "0"


def refuse(status: int, error: str, message: str, msg: str):
    WEBHOOK_MESSAGES.labels(error).inc()
    return jsonify(code=status, msg=msg, error=error, message=message), status


@bp.post("/webhooks/douyin")
def douyin_push():
    """Receive a push: 401 on a forged signature, 400 on a malformed body, nothing stored either way."""
    raw = request.get_data(cache=False)
    app_id = request.headers.get("app-id", "")
    session = get_session()
    shops = session.scalars(select(Shop).where(Shop.app_key == app_id)).all() if app_id else []
    signature = request.headers.get("event-sign")
    signers = {s.shop_id for s in shops if verify_event_sign(app_id, s.app_secret, raw, signature)}
    if not signers:
        return refuse(401, "invalid_signature", "推送签名无效", "invalid event-sign")
    try:
        messages = parse_push_body(raw)
        for message in messages:
            check_message(message.tag, message.msg_id, message.data)
    except (PushFormatError, ValueError, KeyError, TypeError) as exc:
        return refuse(400, "malformed_push", f"推送内容无效：{exc}", "malformed body")
    wanted = [m for m in messages if m.tag != VERIFY_TAG]
    begin_write(session)
    fresh = store(session, app_id, wanted, signers)
    session.commit()  # durable before Douyin hears "success"
    WEBHOOK_MESSAGES.labels("stored").inc(len(fresh))
    WEBHOOK_MESSAGES.labels("duplicate").inc(len(wanted) - len(fresh))
    unapplied = session.scalars(
        select(WebhookMessage)
        .where(WebhookMessage.msg_id.in_([m.msg_id for m in wanted]), WebhookMessage.applied_at.is_(None))
        .where(WebhookMessage.error.is_(None), WebhookMessage.app_id == app_id)
        .order_by(WebhookMessage.received_at)
    ).all()
    if unapplied:  # new ones, and any a redelivery finds still unapplied
        try:
            apply_pending(session, unapplied, signers)
            session.commit()
        except SQLAlchemyError:
            session.rollback()  # stored all the same: the sync loop applies them
            current_app.logger.exception("applying pushes failed; they stay queued")
    return jsonify(PUSH_OK)


def store(session, app_id: str, messages, signers: set[str]) -> list[str]:
    """Insert the messages not seen before, with the shops that signed them; return their
    msg_ids, in arrival order."""
    if not messages:
        return []
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    inserted = []
    for message in messages:
        statement = (
            dialect.insert(WebhookMessage)
            .values(
                msg_id=message.msg_id,
                tag=message.tag,
                app_id=app_id,
                signed_by=",".join(sorted(signers)),
                data=message.raw_data,
                received_at=clock.of(session).now(),
            )
            .on_conflict_do_nothing(index_elements=["msg_id"])
            .returning(WebhookMessage.msg_id)
        )
        if session.execute(statement).scalar() is not None:
            inserted.append(message.msg_id)
    return inserted
