"""The decision table, exhaustively over every status the Douyin reference lists."""

import itertools

import pytest

from server.decision import AfterSaleFacts, OrderFacts, evaluate
from shipgate.wire import Decision, Reason

ORDER_STATUSES = [1, 105, 2, 101, 3, 4, 5]
MAIN_STATUSES = [None, 103, 105, 2, 101, 3, 4, 5, 21, 22, 39]
AFTERSALE_TYPES = [0, 1, 2, 3, 6, 7, 8]
AFTERSALE_STATUSES = [6, 7, 8, 11, 12, 13, 14, 27, 28, 29]
REFUND_STATUSES = [None, 1, 2, 3, 4, 5]
ORDER = "4835804142146756441"


def expected_single(order_status, main_status, after_sale):
    """The table in DESIGN.md, spelled out independently for a one-sku order."""
    is_refund = after_sale is not None and after_sale.aftersale_type in (0, 1, 2)
    refunded = is_refund and (after_sale.aftersale_status == 12 or after_sale.refund_status == 3)
    closed = after_sale is not None and after_sale.aftersale_status in (27, 28, 29)
    failed = after_sale is not None and after_sale.refund_status == 4
    pending = is_refund and not refunded and not closed and not failed
    if main_status in (21, 22, 39) or refunded:
        return Decision.BLOCK, Reason.REFUNDED
    if order_status == 4:
        return Decision.BLOCK, Reason.CANCELLED
    if pending:
        return Decision.HOLD, Reason.REFUND_PENDING
    if order_status == 1 or main_status == 103:
        return Decision.HOLD, Reason.UNPAID
    return Decision.PASS, Reason.CLEAR


def all_after_sales():
    yield None
    for kind, status, refund in itertools.product(AFTERSALE_TYPES, AFTERSALE_STATUSES, REFUND_STATUSES):
        yield AfterSaleFacts(ORDER, kind, status, refund)


@pytest.mark.parametrize("order_status", ORDER_STATUSES)
def test_every_status_combination_of_a_single_item_order(order_status):
    checked = 0
    for main_status in MAIN_STATUSES:
        for after_sale in all_after_sales():
            facts = OrderFacts(
                ORDER, order_status, main_status, (ORDER,), (after_sale,) if after_sale else ()
            )
            verdict = evaluate(facts)
            assert (verdict.decision, verdict.reason) == expected_single(
                order_status, main_status, after_sale
            ), facts
            assert verdict.sku_order_ids_out == ()
            checked += 1
    assert checked == len(MAIN_STATUSES) * (
        1 + len(AFTERSALE_TYPES) * len(AFTERSALE_STATUSES) * len(REFUND_STATUSES)
    )


def test_the_real_refunded_after_shipping_line_blocks():
    facts = OrderFacts(ORDER, 4, 22, (ORDER,), (AfterSaleFacts(ORDER, 1, 12, 3),))
    assert evaluate(facts).decision is Decision.BLOCK
    assert evaluate(facts).reason is Reason.REFUNDED


SKU_A, SKU_B, SKU_C = "4900000000000000001", "4900000000000000002", "4900000000000000003"


def test_partial_refund_names_the_sku_to_take_out():
    facts = OrderFacts(ORDER, 2, 2, (SKU_A, SKU_B, SKU_C), (AfterSaleFacts(SKU_B, 2, 12, 3),))
    verdict = evaluate(facts)
    assert (verdict.decision, verdict.reason) == (Decision.HOLD, Reason.PARTIAL_REFUND)
    assert verdict.sku_order_ids_out == (SKU_B,)
    assert SKU_B in verdict.message


def test_every_sku_refunded_separately_blocks():
    facts = OrderFacts(
        ORDER, 2, 2, (SKU_A, SKU_B), (AfterSaleFacts(SKU_A, 2, 12, 3), AfterSaleFacts(SKU_B, 0, 12, 3))
    )
    assert evaluate(facts).decision is Decision.BLOCK


def test_pending_on_one_sku_of_many_holds_and_names_it():
    facts = OrderFacts(ORDER, 2, 2, (SKU_A, SKU_B), (AfterSaleFacts(SKU_A, 2, 6, 1),))
    verdict = evaluate(facts)
    assert (verdict.decision, verdict.reason, verdict.sku_order_ids_out) == (
        Decision.HOLD,
        Reason.REFUND_PENDING,
        (SKU_A,),
    )


def test_pending_wins_over_partial_and_names_both():
    facts = OrderFacts(
        ORDER, 2, 2, (SKU_A, SKU_B, SKU_C), (AfterSaleFacts(SKU_A, 2, 12, 3), AfterSaleFacts(SKU_B, 2, 6, 1))
    )
    verdict = evaluate(facts)
    assert verdict.reason is Reason.REFUND_PENDING
    assert verdict.sku_order_ids_out == (SKU_A, SKU_B)


def test_closed_refund_releases_the_order_again():
    for closed in (27, 28, 29):
        facts = OrderFacts(ORDER, 2, 2, (ORDER,), (AfterSaleFacts(ORDER, 2, closed, 4),))
        assert evaluate(facts).decision is Decision.PASS


def test_an_earlier_success_is_not_undone_by_a_later_closed_request():
    facts = OrderFacts(
        ORDER, 2, 2, (SKU_A, SKU_B), (AfterSaleFacts(SKU_A, 2, 12, 3), AfterSaleFacts(SKU_A, 2, 28, None))
    )
    assert evaluate(facts).reason is Reason.PARTIAL_REFUND


def test_after_sale_without_sku_applies_to_the_whole_order():
    facts = OrderFacts(ORDER, 2, 2, (SKU_A, SKU_B), (AfterSaleFacts(None, 2, 12, 3),))
    assert evaluate(facts).decision is Decision.BLOCK


def test_exchange_and_price_protection_do_not_stop_shipping():
    for kind in (3, 6, 7, 8):
        facts = OrderFacts(ORDER, 2, 2, (ORDER,), (AfterSaleFacts(ORDER, kind, 12, 3),))
        assert evaluate(facts).decision is Decision.PASS


def test_unknown_sku_on_after_sale_counts_for_the_whole_order():
    facts = OrderFacts(ORDER, 2, 2, (SKU_A,), (AfterSaleFacts("4999999999999999999", 2, 6, 1),))
    assert evaluate(facts).reason is Reason.REFUND_PENDING
