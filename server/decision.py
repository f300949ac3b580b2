"""The decision table: what the gate says about an order. Pure; no database, no clock.

| decision | when |
|---|---|
| BLOCK refunded  | main_status 21/22/39, or every sku order refunded (after-sale 12 or refund_status 3) |
| BLOCK cancelled | order_status 4 with no refund |
| HOLD refund_pending | a refund is asked for and not final (after-sale 6/7/8/11…, refund_status 1/2) |
| HOLD partial_refund | some sku orders refunded, others not: names the ones to take out |
| HOLD unpaid     | order_status 1 / main_status 103 |
| PASS clear      | anything else |

Only refund after-sales (types 0 退货退款, 1 已发货仅退款, 2 未发货仅退款) stop a parcel; exchanges,
price protection, re-shipping and repairs do not. A refund closed without money back (27/28/29)
releases the order again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shipgate.wire import Decision, Reason, Verdict

REFUND_TYPES = frozenset({0, 1, 2})
REFUND_DONE_MAIN_STATUS = frozenset({21, 22, 39})
AFTERSALE_SUCCESS = 12
AFTERSALE_CLOSED = frozenset({27, 28, 29})
REFUND_SUCCESS = 3
REFUND_IN_PROGRESS = frozenset({1, 2})
ORDER_CANCELLED = 4
ORDER_UNPAID = frozenset({1})
MAIN_UNPAID = frozenset({103})


@dataclass(frozen=True)
class AfterSaleFacts:
    sku_order_id: str | None
    aftersale_type: int
    aftersale_status: int
    refund_status: int | None = None


@dataclass(frozen=True)
class OrderFacts:
    order_id: str
    order_status: int
    main_status: int | None = None
    sku_order_ids: tuple[str, ...] = ()
    after_sales: tuple[AfterSaleFacts, ...] = field(default=())


def refund_state(after_sale: AfterSaleFacts) -> str | None:
    """'refunded', 'pending' or None (no refund standing) for one after-sale."""
    if after_sale.aftersale_type not in REFUND_TYPES:
        return None
    if after_sale.aftersale_status == AFTERSALE_SUCCESS or after_sale.refund_status == REFUND_SUCCESS:
        return "refunded"
    if after_sale.aftersale_status in AFTERSALE_CLOSED:
        return None
    if after_sale.refund_status == 4:  # 退款失败: money did not go back, nothing pending
        return None
    return "pending"


def evaluate(order: OrderFacts) -> Verdict:
    skus = order.sku_order_ids or (order.order_id,)
    refunded: set[str] = set()
    pending: set[str] = set()
    for after_sale in order.after_sales:
        state = refund_state(after_sale)
        if state is None:
            continue
        targets = [after_sale.sku_order_id] if after_sale.sku_order_id in skus else list(skus)
        (refunded if state == "refunded" else pending).update(targets)
    pending -= refunded

    if order.main_status in REFUND_DONE_MAIN_STATUS or refunded.issuperset(skus):
        return Verdict(Decision.BLOCK, Reason.REFUNDED)
    if order.order_status == ORDER_CANCELLED:
        return Verdict(Decision.BLOCK, Reason.REFUNDED if refunded else Reason.CANCELLED)
    named = len(skus) > 1
    if pending:
        out = sorted(pending | refunded) if named else []
        return Verdict(Decision.HOLD, Reason.REFUND_PENDING, tuple(out))
    if refunded:
        return Verdict(Decision.HOLD, Reason.PARTIAL_REFUND, tuple(sorted(refunded)))
    if order.order_status in ORDER_UNPAID or order.main_status in MAIN_UNPAID:
        return Verdict(Decision.HOLD, Reason.UNPAID)
    return Verdict(Decision.PASS, Reason.CLEAR)
