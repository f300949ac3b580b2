"""Ingest keeps the gate state in step, versions only grow, and recycled tracking numbers move."""

from dataclasses import replace

from factories import make_order, refund
from sqlalchemy import select

from server.gatestate import current_version
from server.ingest import (
    AfterSaleRecord,
    apply,
    assign_tracking,
    cancel_tracking,
    upsert_after_sale,
    upsert_order,
)
from server.models import AfterSale, GateEntry, Order, Waybill


def entry(session, order_id) -> GateEntry:
    session.expire_all()
    return session.get(GateEntry, order_id)


def test_new_order_gets_a_pass_entry_with_its_codes(session):
    order = make_order(session, skus=2, tracking_no="SF1234567890123")
    gate = entry(session, order.order_id)
    assert (gate.decision, gate.reason) == ("PASS", "clear")
    assert gate.codes == sorted([s.sku_order_id for s in order.skus] + ["SF1234567890123"])
    assert gate.version == current_version(session) == 1


def test_refund_bumps_the_version_and_blocks(session):
    order = make_order(session)
    before = entry(session, order.order_id).version
    refund(session, order)
    gate = entry(session, order.order_id)
    assert (gate.decision, gate.reason) == ("BLOCK", "refunded")
    assert gate.version > before


def test_no_version_bump_when_nothing_a_replica_sees_changes(session):
    order = make_order(session)
    version = current_version(session)
    upsert_order(session, order)  # the same snapshot again
    session.commit()
    assert current_version(session) == version


def test_older_after_sale_update_never_overwrites_newer(session):
    order = make_order(session)
    done = refund(session, order, status=12, refund_status=3, update_time=2_000)
    stale = AfterSaleRecord(
        aftersale_id=done.aftersale_id,
        order_id=order.order_id,
        aftersale_type=2,
        aftersale_status=6,
        refund_status=1,
        update_time=1_000,
    )
    assert upsert_after_sale(session, stale) is False
    session.commit()
    assert entry(session, order.order_id).decision == "BLOCK"


def test_older_order_snapshot_is_ignored(session):
    order = make_order(session, update_time=2_000)
    cancelled_earlier = order.__class__(**{**order.__dict__, "order_status": 4, "update_time": 1_000})
    assert upsert_order(session, cancelled_earlier) is False
    session.commit()
    assert entry(session, order.order_id).decision == "PASS"


def test_refund_closed_without_money_releases(session):
    order = make_order(session)
    pending = refund(session, order, status=6, refund_status=1, update_time=1_000)
    assert entry(session, order.order_id).reason == "refund_pending"
    refund(session, order, aftersale_id=pending.aftersale_id, status=28, refund_status=4, update_time=1_100)
    assert entry(session, order.order_id).decision == "PASS"


def test_recycled_tracking_number_moves_to_its_new_order(session):
    first = make_order(session, tracking_no="SF1234567890123")
    refund(session, first)
    second = make_order(session)
    assign_tracking(session, second.order_id, "SF1234567890123", "顺丰速运")
    session.commit()
    assert "SF1234567890123" not in entry(session, first.order_id).codes
    assert "SF1234567890123" in entry(session, second.order_id).codes
    current = session.scalars(
        select(Waybill).where(Waybill.tracking_no == "SF1234567890123", Waybill.cancelled_at.is_(None))
    ).all()
    assert [w.order_id for w in current] == [second.order_id]
    assert entry(session, first.order_id).version < entry(session, second.order_id).version


def test_cancelled_waybill_resolves_to_nothing(session):
    order = make_order(session, tracking_no="YT1234567890123")
    cancel_tracking(session, "YT1234567890123")
    session.commit()
    assert entry(session, order.order_id).codes == [order.skus[0].sku_order_id]


def test_a_poisoned_future_update_time_is_corrected_by_the_pull(session):
    """A row stored with an update time far ahead of now (an old push, a broken clock) must not
    outrank the pull's later truth."""
    now = 1_800_000_000
    order = make_order(session, update_time=now - 600)
    poisoned = refund(session, order, status=12, update_time=now + 10 * 365 * 86400)
    assert session.get(GateEntry, order.order_id).decision == "BLOCK"
    closed = AfterSaleRecord(
        aftersale_id=poisoned.aftersale_id, order_id=order.order_id, aftersale_type=2,
        aftersale_status=28, refund_status=None, update_time=now - 60,
    )  # fmt: skip
    apply(session, after_sales=[closed], now=now)
    snapshot = replace(order, order_status=3, update_time=now - 30)
    session.get(Order, order.order_id).update_time = now + 86400  # poisoned too
    assert apply(session, orders=[snapshot], now=now).stale == 0
    session.commit()
    assert session.get(AfterSale, poisoned.aftersale_id).aftersale_status == 28
    assert session.get(Order, order.order_id).order_status == 3
    assert session.get(Order, order.order_id).update_time == now - 30


def test_a_stored_time_within_the_bound_still_outranks_an_older_record(session):
    now = 1_800_000_000
    order = make_order(session, update_time=now + 120)  # a clock two minutes fast: believed
    assert apply(session, orders=[replace(order, order_status=3, update_time=now - 30)], now=now).stale == 1
