"""Pushes from the sandbox to the real server over HTTP: a refund blocks the next scan at once;
duplicated, reordered and lost pushes end in the right state (the poll catches up)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from polling import wait_until
from sqlalchemy import func, select

from server.douyin.signing import event_sign
from server.models import GateEntry, WebhookMessage


@pytest.fixture
def push_url(live_server) -> str:
    return live_server.url + "/webhooks/douyin"


def verdict(session, order_id):
    session.expire_all()
    entry = session.get(GateEntry, order_id)
    return entry.decision if entry else None


def scan(live_server, token, code):
    body = {"scan_id": str(uuid.uuid4()), "code": code, "scanned_at": "2026-11-26T09:00:00+08:00"}
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.post(live_server.url + "/api/v1/scans", json=body, headers=headers, timeout=5).json()


def test_a_refund_success_push_blocks_the_next_scan(
    make_worker, sandbox, session, live_server, station_token
):
    shop = sandbox.sandbox.shop
    make_worker().run_once()
    order = shop.create_order(n_skus=1)
    refund = shop.apply_refund(order.order_id)
    assert wait_until(lambda: verdict(session, order.order_id) == "HOLD")
    shop.succeed_refund(refund.aftersale_id)
    assert wait_until(lambda: verdict(session, order.order_id) == "BLOCK")
    assert scan(live_server, station_token, order.order_id)["decision"] == "BLOCK"


def test_duplicated_pushes_are_stored_once(make_worker, sandbox, session):
    sandbox.sandbox.faults.update({"push_duplicate_rate": 1.0})
    shop = sandbox.sandbox.shop
    order = shop.create_order(n_skus=1)
    refund = shop.apply_refund(order.order_id)
    shop.succeed_refund(refund.aftersale_id)
    assert wait_until(lambda: verdict(session, order.order_id) == "BLOCK")
    stats = httpx.get(sandbox.url + "/sandbox/pushes").json()["stats"]
    session.expire_all()
    stored = session.scalar(select(func.count()).select_from(WebhookMessage))
    assert stored == 2  # 200 applied, 206 success: each once, however often delivered
    assert stats.get("duplicated", 0) >= 2, stats


def test_reordered_pushes_end_in_the_newest_state(sandbox, session, shop):
    sandbox.sandbox.faults.update({"push_reorder": 2})
    shop = sandbox.sandbox.shop
    order = shop.create_order(n_skus=1)
    refund = shop.apply_refund(order.order_id)
    shop.advance_clock(30)
    shop.succeed_refund(refund.aftersale_id)  # the success is delivered before the application

    def both_arrived():
        session.expire_all()
        return session.scalar(select(func.count()).select_from(WebhookMessage)) == 2

    assert wait_until(both_arrived)
    assert verdict(session, order.order_id) == "BLOCK"  # the late, older 200 changed nothing


def test_a_lost_push_is_caught_by_the_poll(make_worker, sandbox, session):
    worker = make_worker()
    worker.run_once()
    sandbox.sandbox.faults.update({"push_drop_rate": 1.0})
    shop = sandbox.sandbox.shop
    order = next(o for o in shop.orders.values() if o.order_status == 2 and len(o.skus) == 1)
    refund = shop.apply_refund(order.order_id)
    shop.advance_clock(30)
    shop.succeed_refund(refund.aftersale_id)
    shop.advance_clock(5)
    assert verdict(session, order.order_id) == "PASS"  # nothing arrived
    worker.run_once()
    assert verdict(session, order.order_id) == "BLOCK"


def test_the_url_verification_is_answered_with_success(sandbox, shop, session, live_server):
    """The sandbox sends [{"tag":"0","msg_id":"0","data":"<RFC 3339>"}] when its push URL is set;
    the receiver answers {"code":0,"msg":"success"} and stores nothing."""
    pusher = sandbox.sandbox.pusher
    assert wait_until(lambda: (pusher.verification or {}).get("acknowledged") is True)
    assert pusher.verification["url"] == live_server.url + "/webhooks/douyin"
    config = sandbox.config
    raw = b'[{"tag":"0","msg_id":"0","data":"2020-09-10T16:27:56.52842897+08:00"}]'  # the documented one
    headers = {"app-id": config.app_key, "event-sign": event_sign(config.app_key, config.app_secret, raw)}
    reply = httpx.post(live_server.url + "/webhooks/douyin", content=raw, headers=headers, timeout=5)
    assert (reply.status_code, reply.json()) == (200, {"code": 0, "msg": "success"})
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(WebhookMessage)) == 0


def test_a_cancel_push_carries_no_update_time_and_still_blocks(make_worker, sandbox, session):
    shop = sandbox.sandbox.shop
    make_worker().run_once()
    order = shop.create_order(n_skus=1)
    shop.advance_clock(5)
    make_worker().run_once()
    assert verdict(session, order.order_id) == "PASS"
    shop.advance_clock(30)
    shop.cancel(order.order_id)
    assert wait_until(lambda: verdict(session, order.order_id) == "BLOCK")
    [pushed] = [p for p in sandbox.sandbox.pusher.recent if p["tag"] == "106"]
    assert "update_time" not in pushed["data"] and pushed["data"]["cancel_time"] == order.cancel_time
    session.expire_all()
    assert session.get(GateEntry, order.order_id).reason == "cancelled"


def test_a_refund_the_buyer_cancelled_releases_the_order_by_push(make_worker, sandbox, session):
    shop = sandbox.sandbox.shop
    make_worker().run_once()
    order = shop.create_order(n_skus=1)
    refund = shop.apply_refund(order.order_id)
    assert wait_until(lambda: verdict(session, order.order_id) == "HOLD")
    shop.advance_clock(30)
    shop.close_refund(refund.aftersale_id)  # 207: after-sale 28, refund_status stays 1
    assert (refund.status, refund.refund_status) == (28, 1)
    assert wait_until(lambda: verdict(session, order.order_id) == "PASS")
