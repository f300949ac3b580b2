"""One rule for "this after-sale is a refund that succeeded" (server.douyin.enums.refund_state),
its SQL twin (AfterSale.refund_succeeded), and the modules that used to carry their own copy."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from factories import douyin_id, make_order, refund
from sqlalchemy import select

from server import handover
from server.decision import AfterSaleFacts
from server.douyin.enums import (
    AfterSaleStatus,
    AfterSaleType,
    RefundState,
    RefundStatus,
    refund_state,
    refund_succeeded,
)
from server.incidents import detect, facts, timeline
from server.models import AfterSale, Order

TYPES = [*AfterSaleType, 9]  # 9: a type Douyin may add one day
STATUSES = [0, *AfterSaleStatus]
REFUND_STATUSES = [None, 0, *RefundStatus]
COMBINATIONS = list(itertools.product(TYPES, STATUSES, REFUND_STATUSES))


def facts_of(kind, status, refund_status) -> AfterSaleFacts:
    return AfterSaleFacts(None, int(kind), int(status), None if refund_status is None else int(refund_status))


def test_the_rule_case_by_case():
    refund_types = {0, 1, 2}
    for kind, status, money in COMBINATIONS:
        state = refund_state(facts_of(kind, status, money))
        if kind not in refund_types:
            expected = None
        elif status == 12 or money == 3:
            expected = RefundState.SUCCEEDED
        elif status in (27, 28, 29) or money == 4:
            expected = None
        else:
            expected = RefundState.PENDING
        assert state is expected, (kind, status, money)
        assert refund_succeeded(facts_of(kind, status, money)) is (expected is RefundState.SUCCEEDED)


def test_a_buyer_cancelled_refund_no_longer_stands():
    # 售后失败 with the money still 待退款: what the platform shows after the buyer cancels.
    assert refund_state(facts_of(AfterSaleType.REFUND_BEFORE_SHIPMENT, 28, 1)) is None


def test_the_sql_twin_agrees_with_the_predicate_over_every_combination(session):
    order = make_order(session)
    ids = {}
    for kind, status, money in COMBINATIONS:
        aftersale_id = douyin_id("70")
        ids[aftersale_id] = (kind, status, money)
        session.add(
            AfterSale(
                aftersale_id=aftersale_id,
                order_id=order.order_id,
                aftersale_type=int(kind),
                aftersale_status=int(status),
                refund_status=None if money is None else int(money),
            )
        )
    session.commit()
    in_sql = set(session.scalars(select(AfterSale.aftersale_id).where(AfterSale.refund_succeeded)))
    in_python = {i for i, combination in ids.items() if refund_succeeded(facts_of(*combination))}
    assert in_sql == in_python
    assert len(in_python) == 3 * (len(REFUND_STATUSES) + len(STATUSES) - 1)  # not vacuous
    rows = session.scalars(select(AfterSale).where(AfterSale.order_id == order.order_id)).all()
    assert {a.aftersale_id for a in rows if a.refund_succeeded} == in_python  # the instance side


# -- the former copies, pinned to the rule --------------------------------------------------------


def _window():
    now = datetime.now(UTC)
    return now - timedelta(days=1), now + timedelta(days=1), int(now.timestamp()) - 60


def _scan(client, token, code, scan_id):
    body = {"scan_id": scan_id, "code": code, "scanned_at": datetime.now(UTC).isoformat()}
    return client.post("/api/v1/scans", json=body, headers={"Authorization": f"Bearer {token}"}).json


def test_the_funnel_counts_refunds_by_the_rule(client, session, station_token):
    """handover.funnel used `aftersale_status == 12` alone: it counted a successful exchange and
    missed a refund whose money went back (refund_status 3) before the after-sale itself closed."""
    start, end, when = _window()
    exchanged, paid_back = make_order(session), make_order(session)
    refund(session, exchanged, aftersale_type=AfterSaleType.EXCHANGE, status=12, refund_status=None,
           update_time=when)  # fmt: skip
    refund(
        session, paid_back, status=AfterSaleStatus.AWAITING_SECOND_APPROVAL, refund_status=3, update_time=when
    )
    for i, order in enumerate((exchanged, paid_back)):
        _scan(client, station_token, order.order_id, f"f-{i}")
    result = handover.funnel(session, None, start, end)
    assert (result.reached, result.blocked_at_packing) == (1, 1)


def test_the_review_lag_counts_refunds_by_the_rule(client, session, station_token):
    """incidents.facts measured refund-to-block only from after-sale 12, not from refund_status 3."""
    start, end, when = _window()
    order = make_order(session)
    refund(session, order, status=AfterSaleStatus.AWAITING_SECOND_APPROVAL, refund_status=3, update_time=when)
    assert _scan(client, station_token, order.order_id, "lag-1")["decision"] == "BLOCK"
    lags = facts._lags(session, {order.order_id}, start, end)
    assert len(lags) == 1 and lags[0] >= 60


def _order(session, order_id) -> Order:
    return detect.load_orders(session, [order_id])[order_id]


def test_detection_and_the_timeline_use_the_rule(session):
    order = make_order(session)
    refund(session, order, aftersale_type=AfterSaleType.EXCHANGE, status=12, refund_status=None)
    refund(session, order, status=AfterSaleStatus.FAILED, refund_status=RefundStatus.PENDING)
    paid = refund(session, order, status=AfterSaleStatus.AWAITING_SECOND_APPROVAL, refund_status=3)
    loaded = _order(session, order.order_id)
    assert [a.aftersale_id for a in detect.refund_successes(loaded)] == [paid.aftersale_id]
    moments = timeline.assemble(loaded, [], {}, {}, [])
    succeeded = [m for m in moments if m.kind == "refund_succeeded"]
    assert len(succeeded) == 1 and paid.aftersale_id in succeeded[0].text
