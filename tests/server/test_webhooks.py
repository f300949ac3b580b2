"""The Douyin push receiver: signature first, store before acknowledging, idempotent, ordered."""

import json

import pytest
from factories import SHOP_ID, ensure_shop, make_order
from sqlalchemy import func, select

from server.douyin.push import encode_push_body
from server.douyin.signing import event_sign
from server.models import AfterSale, GateEntry, WebhookMessage

APP_KEY, SECRET = "1234567890123456789", "test-secret-0000"


def post(client, messages, *, secret=SECRET, app_id=APP_KEY, raw=None):
    body = raw if raw is not None else encode_push_body(messages)
    headers = {
        "app-id": app_id,
        "event-sign": event_sign(app_id, secret, body),
        "Content-Type": "application/json",
    }
    return client.post("/webhooks/douyin", data=body, headers=headers)


def refund_msg(
    order, msg_id, *, tag="206", status=12, when="2026-11-26T09:00:05+08:00", aftersale_id=7000893114000949517
):
    data = {
        "aftersale_id": aftersale_id,
        "aftersale_status": status,
        "aftersale_type": 2,
        "p_id": int(order.order_id),
        "s_id": int(order.skus[0].sku_order_id),
        "refund_amount": 8900,
        "shop_id": int(SHOP_ID),
        "update_time": when,
    }
    return (tag, msg_id, data)


def gate(session, order_id):
    session.expire_all()
    return session.get(GateEntry, order_id)


def count(session, model):
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def test_reference_example_signature_is_accepted(client, session):
    ensure_shop(session)
    session.commit()
    body = (
        b'[{"tag":"206","msg_id":"7000000000000000001","data":"{\\"aftersale_id\\":7000893114000949517,'
        b'\\"aftersale_status\\":12,\\"aftersale_type\\":2,\\"p_id\\":4835804142146756441,\\"refund_amount\\":8900,'
        b'\\"s_id\\":4835804142146756441,\\"shop_id\\":10437917,\\"success_time\\":1700000100}"}]'
    )
    headers = {
        "app-id": APP_KEY,
        "event-sign": "57e71e8bb8a9b53c064b1324a7d702f8",
        "Content-Type": "application/json",
    }
    response = client.post("/webhooks/douyin", data=body, headers=headers)
    assert response.json == {"code": 0, "msg": "success"}
    # An order we have not pulled yet: the refund still blocks it at once, id kept exact.
    entry = gate(session, "4835804142146756441")
    assert (entry.decision, entry.reason) == ("BLOCK", "refunded")


def test_refund_success_push_blocks_the_order(client, session):
    order = make_order(session)
    assert post(client, [refund_msg(order, "9001")]).json["code"] == 0
    assert gate(session, order.order_id).decision == "BLOCK"
    stored = session.get(WebhookMessage, "9001")
    assert stored.applied_at is not None and json.loads(stored.data)["p_id"] == int(order.order_id)


def test_duplicates_are_stored_once(client, session):
    order = make_order(session)
    message = refund_msg(order, "9002")
    for _ in range(3):
        assert post(client, [message, message]).json["code"] == 0
    assert count(session, WebhookMessage) == 1
    assert count(session, AfterSale) == 1


def test_an_older_message_arriving_late_changes_nothing(client, session):
    order = make_order(session)
    post(client, [refund_msg(order, "9003", status=12, when="2026-11-26T09:00:10+08:00")])
    post(client, [refund_msg(order, "9004", tag="200", status=6, when="2026-11-26T09:00:01+08:00")])
    assert gate(session, order.order_id).reason == "refunded"
    session.expire_all()
    assert session.scalar(select(AfterSale.aftersale_status)) == 12


def test_refund_closed_releases(client, session):
    order = make_order(session)
    post(client, [refund_msg(order, "9005", tag="200", status=6, when="2026-11-26T09:00:01+08:00")])
    assert gate(session, order.order_id).reason == "refund_pending"
    post(client, [refund_msg(order, "9006", tag="207", status=28, when="2026-11-26T09:00:09+08:00")])
    assert gate(session, order.order_id).decision == "PASS"


def test_trade_messages_cancel_and_ship(client, session):
    cancelled, shipped = make_order(session), make_order(session)
    post(
        client,
        [
            (
                "106",
                "9101",
                {
                    "p_id": int(cancelled.order_id),
                    "s_ids": [],
                    "shop_id": int(SHOP_ID),
                    "order_status": 4,
                    "update_time": 1_700_000_900,
                    "cancel_time": 1_700_000_900,
                    "cancel_reason": "买家取消",
                },
            ),
            (
                "102",
                "9102",
                {
                    "p_id": int(shipped.order_id),
                    "s_ids": [],
                    "shop_id": int(SHOP_ID),
                    "order_status": 3,
                    "update_time": 1_700_000_900,
                    "logistics_msg": {"express_company_id": "shunfeng", "logistics_code": "SF1234567890999"},
                },
            ),
        ],
    )
    assert gate(session, cancelled.order_id).reason == "cancelled"
    assert "SF1234567890999" in gate(session, shipped.order_id).codes


def test_url_verification_is_answered_and_not_stored(client, session):
    ensure_shop(session)
    session.commit()
    assert post(client, [("0", "1", {})]).json == {"code": 0, "msg": "success"}
    assert count(session, WebhookMessage) == 0


@pytest.mark.parametrize(
    "kwargs",
    [{"secret": "wrong-secret"}, {"app_id": "999"}],
)
def test_forged_pushes_are_refused_and_nothing_is_stored(client, session, kwargs):
    order = make_order(session)
    response = post(client, [refund_msg(order, "9201")], **kwargs)
    assert response.status_code == 401 and response.json["error"] == "invalid_signature"
    assert count(session, WebhookMessage) == 0
    assert gate(session, order.order_id).decision == "PASS"


def test_signature_is_over_the_exact_bytes(client, session):
    order = make_order(session)
    body = encode_push_body([refund_msg(order, "9202")])
    headers = {
        "app-id": APP_KEY,
        "event-sign": event_sign(APP_KEY, SECRET, body),
        "Content-Type": "application/json",
    }
    response = client.post("/webhooks/douyin", data=body + b" ", headers=headers)
    assert response.status_code == 401
    assert count(session, WebhookMessage) == 0


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b'{"tag":"206"}',
        b'[{"tag":"206"}]',
        b'[{"tag":"206","msg_id":"x","data":"{}"}]',
        b'[{"tag":"206","msg_id":"1","data":"{\\"p_id\\":4.835804142146756e18}"}]',
    ],
)
def test_malformed_bodies_are_refused(client, session, raw):
    ensure_shop(session)
    session.commit()
    response = post(client, [], raw=raw)
    assert response.status_code == 400 and response.json["error"] == "malformed_push"
    assert count(session, WebhookMessage) == 0


def test_same_second_success_then_application_keeps_the_success(client, session):
    order = make_order(session)
    same = "2026-11-26T09:00:05+08:00"
    post(client, [refund_msg(order, "9301", tag="206", status=12, when=same)])
    post(client, [refund_msg(order, "9302", tag="200", status=6, when=same)])  # retried, arrives late
    assert gate(session, order.order_id).reason == "refunded"


def test_a_redelivered_push_whose_first_apply_failed_is_applied(client, session):
    order = make_order(session)
    message = refund_msg(order, "9303")
    body = encode_push_body([message])
    # as if the first delivery stored the message and then failed before applying it
    session.add(WebhookMessage(msg_id="9303", tag="206", app_id=APP_KEY, data=json.dumps(message[2])))
    session.commit()
    assert gate(session, order.order_id).decision == "PASS"
    assert post(client, [], raw=body).json["code"] == 0
    assert gate(session, order.order_id).decision == "BLOCK"
    assert count(session, WebhookMessage) == 1


# -- a push touches only the orders of the shop that signed it ----------------------------------

OTHER_SHOP, OTHER_KEY, OTHER_SECRET = "20551234", "9876543210987654321", "other-secret-1111"


def other_shop(session):
    from server.models import Shop

    shop = Shop(shop_id=OTHER_SHOP, name="别家小店", app_key=OTHER_KEY, app_secret=OTHER_SECRET)
    session.add(shop)
    session.commit()
    return shop


def foreign_refused() -> float:
    from server.metrics import WEBHOOK_MESSAGES

    return WEBHOOK_MESSAGES.labels("foreign_shop")._value.get()


@pytest.mark.parametrize("claim", ["victim", "signer", "none"])
def test_a_push_signed_by_one_shop_cannot_block_another_shops_order(client, session, claim):
    victim = make_order(session)  # shop SHOP_ID's order, ready to ship
    other_shop(session)
    before, refused = gate(session, victim.order_id).decision, foreign_refused()
    tag, msg_id, data = refund_msg(victim, "9101")
    if claim == "signer":
        data["shop_id"] = int(OTHER_SHOP)
    elif claim == "none":
        del data["shop_id"]
    response = post(client, [(tag, msg_id, data)], secret=OTHER_SECRET, app_id=OTHER_KEY)
    assert response.json["code"] == 0  # stored and acknowledged (Douyin would resend forever)
    assert gate(session, victim.order_id).decision == before
    assert count(session, AfterSale) == 0
    stored = session.get(WebhookMessage, "9101")
    assert stored.applied_at is None and stored.error.startswith("foreign_shop")
    assert foreign_refused() == refused + 1


def test_a_push_signed_by_one_shop_cannot_unblock_another_shops_refunded_order(client, session):
    victim = make_order(session)
    assert post(client, [refund_msg(victim, "9201")]).json["code"] == 0
    assert gate(session, victim.order_id).decision == "BLOCK"
    other_shop(session)
    closed = refund_msg(victim, "9202", tag="207", status=28, when="2026-11-26T10:00:00+08:00")
    closed[2]["shop_id"] = int(OTHER_SHOP)
    post(client, [closed], secret=OTHER_SECRET, app_id=OTHER_KEY)
    assert gate(session, victim.order_id).decision == "BLOCK"
    trade = ("106", "9203", {"p_id": int(victim.order_id), "shop_id": int(OTHER_SHOP), "order_status": 4,
                             "update_time": 1_700_000_500})  # fmt: skip
    post(client, [trade], secret=OTHER_SECRET, app_id=OTHER_KEY)
    session.expire_all()
    from server.models import Order

    assert session.get(Order, victim.order_id).order_status != 4


def test_a_push_naming_an_unknown_order_of_another_shop_makes_no_placeholder(client, session):
    ensure_shop(session)
    other_shop(session)
    order_id = "4835804142146756999"
    data = {"aftersale_id": 7000893114000949599, "aftersale_status": 12, "aftersale_type": 2,
            "p_id": int(order_id), "shop_id": int(SHOP_ID), "update_time": "2026-11-26T09:00:05+08:00"}  # fmt: skip
    post(client, [("206", "9301", data)], secret=OTHER_SECRET, app_id=OTHER_KEY)
    assert gate(session, order_id) is None


def test_a_redelivery_from_another_app_does_not_apply_a_stored_message(client, session):
    """Pending messages are picked up by msg_id *and* the app that stored them."""
    order = make_order(session)
    other_shop(session)
    session.add(WebhookMessage(msg_id="9401", tag="206", app_id=APP_KEY,
                               data=json.dumps(refund_msg(order, "9401")[2])))  # fmt: skip
    session.commit()
    post(client, [refund_msg(order, "9401")], secret=OTHER_SECRET, app_id=OTHER_KEY)
    stored = session.get(WebhookMessage, "9401")
    session.refresh(stored)
    assert stored.error is None  # left for its own app (the sync loop applies it)


# -- an update time far ahead of our clock outranks nothing ---------------------------------------


def test_a_push_from_the_future_is_refused_and_counted(client, session, clock):
    from server.metrics import WEBHOOK_MESSAGES

    order = make_order(session)
    refused = WEBHOOK_MESSAGES.labels("future_time")._value.get()
    ahead = clock.now().timestamp() + 3600  # an hour ahead of the clock this server reads
    tag, msg_id, data = refund_msg(order, "9501")
    data["update_time"] = int(ahead)
    assert post(client, [(tag, msg_id, data)]).json["code"] == 0
    stored = session.get(WebhookMessage, "9501")
    assert (stored.error or "").startswith("future_time"), (
        stored.error,
        stored.applied_at,
        ahead,
        stored.data,
    )
    assert gate(session, order.order_id).decision == "PASS"
    assert WEBHOOK_MESSAGES.labels("future_time")._value.get() == refused + 1


def test_a_push_a_little_ahead_is_still_applied(client, session, clock):
    order = make_order(session)
    clock.advance(days=1)  # the bound is on the server's clock, not the machine's
    tag, msg_id, data = refund_msg(order, "9502")
    data["update_time"] = int(clock.now().timestamp()) + 60  # a Douyin clock a minute fast
    post(client, [(tag, msg_id, data)])
    assert gate(session, order.order_id).decision == "BLOCK"


def test_the_sync_loop_applies_a_queued_push_only_to_the_shops_that_signed_it(session, engine):
    """A push stored but not applied (a crash between the two) is applied later by the sync loop:
    with the shops recorded as its signers, not every shop registered under the same app key."""
    from sqlalchemy.orm import sessionmaker

    from server.models import Shop
    from server.sync.loop import SyncLoop

    victim = make_order(session)  # shop SHOP_ID, app key APP_KEY
    session.add(Shop(shop_id=OTHER_SHOP, name="同 app key", app_key=APP_KEY, app_secret=OTHER_SECRET))
    tag, msg_id, data = refund_msg(victim, "9601")
    session.add(WebhookMessage(msg_id=msg_id, tag=tag, app_id=APP_KEY, signed_by=OTHER_SHOP,
                               data=json.dumps(data)))  # fmt: skip
    session.commit()
    SyncLoop(sessionmaker(engine, expire_on_commit=False), "http://127.0.0.1:9").apply_unapplied_pushes()
    session.expire_all()
    assert gate(session, victim.order_id).decision == "PASS"
    assert session.get(WebhookMessage, msg_id).error.startswith("foreign_shop")
