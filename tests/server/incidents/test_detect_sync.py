"""Detection end to end against the Douyin sandbox over HTTP: from a push, from the poll, and
exactly one incident however often and by however many paths the refund arrives."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from polling import wait_until

from server.models import GateEntry
from server.models.incidents import Incident


@pytest.fixture
def push_url(live_server) -> str:
    return live_server.url + "/webhooks/douyin"


def now_iso(shop, at: int | None = None) -> str:
    return datetime.fromtimestamp(at or shop.now(), UTC).isoformat()


def passed_order(make_worker, sandbox, station_scan):
    """A sandbox order pulled, then passed at bench-1 (its waybill printed)."""
    shop = sandbox.sandbox.shop
    worker = make_worker()
    order = shop.create_order(n_skus=1)
    shop.advance_clock(5)
    worker.run_once()
    passed_at = shop.now()
    assert station_scan(order.order_id, at=now_iso(shop, passed_at))["decision"] == "PASS"
    return worker, order, passed_at


def test_detected_from_a_push(make_worker, sandbox, station_scan, incidents):
    worker, order, passed_at = passed_order(make_worker, sandbox, station_scan)
    shop = sandbox.sandbox.shop
    refund = shop.apply_refund(order.order_id)
    shop.advance_clock(20)
    shop.succeed_refund(refund.aftersale_id)
    assert wait_until(lambda: len(incidents()) == 1)
    [incident] = incidents()
    assert (incident.order_id, incident.aftersale_id) == (order.order_id, refund.aftersale_id)
    assert (
        incident.trigger == "refund_after_pass"
        and incident.race_window_s == passed_at - refund.update_time <= -20
    )
    assert incident.goods[0]["name"] == order.skus[0].product_name
    shop.advance_clock(5)
    worker.run_once()  # the poll brings the same refund again
    assert len(incidents()) == 1


def test_detected_from_the_poll_when_pushes_are_lost(make_worker, sandbox, station_scan, incidents):
    worker, order, _passed_at = passed_order(make_worker, sandbox, station_scan)
    shop = sandbox.sandbox.shop
    sandbox.sandbox.faults.update({"push_drop_rate": 1.0})
    refund = shop.apply_refund(order.order_id)
    shop.advance_clock(30)
    shop.succeed_refund(refund.aftersale_id)
    shop.advance_clock(5)
    assert incidents() == []  # nothing arrived
    worker.run_once()
    [incident] = incidents()
    # The orders stream (main status 21) opened it, the after-sales stream completed it:
    assert (incident.aftersale_id, incident.refund_amount) == (refund.aftersale_id, refund.refund_amount)
    worker.run_once()
    assert len(incidents()) == 1


def test_duplicated_pushes_make_one_incident(make_worker, sandbox, station_scan, incidents, count):
    _worker, order, _passed_at = passed_order(make_worker, sandbox, station_scan)
    shop = sandbox.sandbox.shop
    sandbox.sandbox.faults.update({"push_duplicate_rate": 1.0})
    refund = shop.apply_refund(order.order_id)
    shop.succeed_refund(refund.aftersale_id)
    assert wait_until(lambda: len(incidents()) == 1)
    assert count(Incident, Incident.order_id == order.order_id) == 1


def test_a_refund_the_gate_stopped_in_time_opens_nothing(sandbox, shop, session, station_scan, incidents):
    """The pushes alone (no pull racing them) bring the order and its refund; the bench blocks it."""
    sandbox_shop = sandbox.sandbox.shop
    order = sandbox_shop.create_order(n_skus=1)
    refund = sandbox_shop.apply_refund(order.order_id)
    sandbox_shop.succeed_refund(refund.aftersale_id)

    def blocked() -> bool:
        session.expire_all()
        entry = session.get(GateEntry, order.order_id)
        return entry is not None and entry.decision == "BLOCK"

    assert wait_until(blocked)
    assert station_scan(order.order_id, at=now_iso(sandbox_shop))["decision"] == "BLOCK"
    assert incidents() == []
