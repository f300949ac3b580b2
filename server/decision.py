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

from server.douyin.enums import REFUNDED_MAIN_STATUSES, RefundState, refund_state
from shipgate.wire import Decision, Reason, Verdict

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


def evaluate(order: OrderFacts) -> Verdict:
    skus = order.sku_order_ids or (order.order_id,)
    refunded: set[str] = set()
    pending: set[str] = set()
    for after_sale in order.after_sales:
        state = refund_state(after_sale)
        if state is None:
            continue
        targets = [after_sale.sku_order_id] if after_sale.sku_order_id in skus else list(skus)
        (refunded if state is RefundState.SUCCEEDED else pending).update(targets)
    pending -= refunded

    if order.main_status in REFUNDED_MAIN_STATUSES or refunded.issuperset(skus):
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
