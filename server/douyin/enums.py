"""Douyin's status codes and push tags as enums, with the Chinese labels the platform shows.

Values are the platform's own numbers (see the protocol reference, sections 4 to 6).
"""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Protocol


class OrderStatus(IntEnum):
    PENDING = 1  # 待确认/待支付
    PAID = 105  # 已支付
    AWAITING_SHIPMENT = 2  # 备货中: the only state that may ship
    PARTLY_SHIPPED = 101  # 部分发货
    SHIPPED = 3  # 已发货
    CANCELLED = 4  # 已取消 (shown 已关闭 after a full refund)
    COMPLETED = 5  # 已完成


ORDER_STATUS_DESC: dict[int, str] = {
    1: "待确认/待支付",
    105: "已支付",
    2: "备货中",
    101: "部分发货",
    3: "已发货",
    4: "已取消",
    5: "已完成",
}

MAIN_STATUS_DESC: dict[int, str] = {
    **ORDER_STATUS_DESC,
    103: "部分支付",
    21: "发货前退款完结",
    22: "发货后退款完结",
    39: "收货后退款完结",
}

REFUNDED_MAIN_STATUSES = frozenset({21, 22, 39})


class AfterSaleType(IntEnum):
    RETURN_AND_REFUND = 0  # 退货退款
    REFUND_AFTER_SHIPMENT = 1  # 已发货仅退款
    REFUND_BEFORE_SHIPMENT = 2  # 未发货仅退款
    EXCHANGE = 3  # 换货
    PRICE_PROTECTION = 6  # 价保
    RESEND = 7  # 补寄
    REPAIR = 8  # 维修


class AfterSaleStatus(IntEnum):
    AWAITING_MERCHANT = 6  # 待商家同意
    AWAITING_BUYER_RETURN = 7  # 待买家退货
    AWAITING_MERCHANT_SHIPMENT = 8  # 待商家发货
    AWAITING_SECOND_APPROVAL = 11  # 待商家二次同意
    SUCCEEDED = 12  # 售后成功
    AWAITING_BUYER_RECEIPT = 13  # 待买家收货
    EXCHANGE_SUCCEEDED = 14  # 换货成功
    REFUSED_ONCE = 27  # 商家一次拒绝
    FAILED = 28  # 售后失败 (also buyer cancelled)
    REFUSED_TWICE = 29  # 商家二次拒绝


AFTERSALE_STATUS_DESC: dict[int, str] = {
    6: "待商家同意",
    7: "待买家退货",
    8: "待商家发货",
    11: "待商家二次同意",
    12: "售后成功",
    13: "待买家收货",
    14: "换货成功",
    27: "商家一次拒绝",
    28: "售后失败",
    29: "商家二次拒绝",
}

AFTERSALE_TYPE_DESC: dict[int, str] = {
    0: "退货退款",
    1: "已发货仅退款",
    2: "未发货仅退款",
    3: "换货",
    6: "价保",
    7: "补寄",
    8: "维修",
}

PENDING_AFTERSALE_STATUSES = frozenset({6, 7, 8, 11})
CLOSED_AFTERSALE_STATUSES = frozenset(
    {AfterSaleStatus.REFUSED_ONCE, AfterSaleStatus.FAILED, AfterSaleStatus.REFUSED_TWICE}
)


class RefundStatus(IntEnum):
    PENDING = 1  # 待退款
    REFUNDING = 2  # 退款中
    SUCCEEDED = 3  # 退款成功
    FAILED = 4  # 退款失败
    RECOVERED = 5  # 追缴成功


# Only these after-sales are refunds; exchanges, price protection, re-shipping and repairs are not.
REFUND_TYPES = frozenset(
    {
        AfterSaleType.RETURN_AND_REFUND,
        AfterSaleType.REFUND_AFTER_SHIPMENT,
        AfterSaleType.REFUND_BEFORE_SHIPMENT,
    }
)


class RefundState(StrEnum):
    """Where one after-sale stands as a refund (None from `refund_state`: no refund stands)."""

    SUCCEEDED = "succeeded"  # the money went back: 售后成功 or 退款成功
    PENDING = "pending"  # asked for, not final


class AfterSaleLike(Protocol):
    """Anything carrying an after-sale's three codes: the model, a Core row, decision facts."""

    aftersale_type: int
    aftersale_status: int
    refund_status: int | None


def refund_state(after_sale: AfterSaleLike) -> RefundState | None:
    """The one rule for "is this after-sale a refund, and did it succeed?".

    A refund type (0, 1, 2) whose after-sale succeeded (12) or whose money went back
    (refund_status 3) SUCCEEDED; one closed without money back (27/28/29, or refund_status 4)
    stands no longer (None); any other refund is PENDING. Not a refund type: None.
    The SQL twin is `server.models.AfterSale.refund_succeeded`."""
    if after_sale.aftersale_type not in REFUND_TYPES:
        return None
    if (
        after_sale.aftersale_status == AfterSaleStatus.SUCCEEDED
        or after_sale.refund_status == RefundStatus.SUCCEEDED
    ):
        return RefundState.SUCCEEDED
    if (
        after_sale.aftersale_status in CLOSED_AFTERSALE_STATUSES
        or after_sale.refund_status == RefundStatus.FAILED
    ):
        return None
    return RefundState.PENDING


def refund_succeeded(after_sale: AfterSaleLike) -> bool:
    """This after-sale is a refund that succeeded (see `refund_state`)."""
    return refund_state(after_sale) is RefundState.SUCCEEDED


class PushTag(StrEnum):
    VERIFY = "0"
    TRADE_CREATE = "100"
    TRADE_PAID = "101"
    TRADE_SELLER_SHIP = "102"
    TRADE_SUCCESS = "103"
    TRADE_LOGISTICS_CHANGED = "104"
    TRADE_ADDRESS_CHANGED = "105"
    TRADE_CANCELED = "106"
    TRADE_PARTLY_SELLER_SHIP = "108"
    REFUND_CREATED = "200"
    REFUND_AGREED = "201"
    RETURN_APPLY_AGREED = "202"
    BUYER_RETURN_GOODS = "203"
    REFUND_REFUSED = "204"
    RETURN_APPLY_REFUSED = "205"
    REFUND_SUCCESS = "206"
    REFUND_CLOSED = "207"
    REFUND_MODIFIED = "208"
