"""The `data` of the push messages the sandbox sends, built from its records. Pure functions.

Refund messages (200-208): p_id, s_id, shop_id, aftersale_id, aftersale_status, aftersale_type,
refund_amount, one time field for the event, update_time as an RFC 3339 string.
Trade messages (102, 106, 108): p_id, s_ids, shop_id, order_status; 102/108 add update_time in
seconds and logistics_msg; 106 has no update_time, only cancel_time and cancel_reason. IDs are
integers. The URL verification (tag 0) is not a business message: its data is an RFC 3339 time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from douyin_sandbox.model import AfterSaleRecord, Order, Parcel
from server.douyin.enums import PushTag

CHINA = timezone(timedelta(hours=8))

REFUND_TIME_FIELD: dict[PushTag, str] = {
    PushTag.REFUND_CREATED: "apply_time",
    PushTag.REFUND_AGREED: "agree_time",
    PushTag.RETURN_APPLY_AGREED: "agree_time",
    PushTag.BUYER_RETURN_GOODS: "modify_time",
    PushTag.REFUND_REFUSED: "refuse_time",
    PushTag.RETURN_APPLY_REFUSED: "refuse_time",
    PushTag.REFUND_SUCCESS: "success_time",
    PushTag.REFUND_CLOSED: "close_time",
    PushTag.REFUND_MODIFIED: "modify_time",
}


def rfc3339(when: float) -> str:
    """China time in RFC 3339; sub-second digits when `when` has them (the verification push)."""
    return datetime.fromtimestamp(when, UTC).astimezone(CHINA).isoformat()


def refund_data(tag: PushTag, record: AfterSaleRecord, shop_id: str, when: int) -> dict[str, Any]:
    return {
        "p_id": int(record.order_id),
        "s_id": int(record.sku_order_id),
        "shop_id": int(shop_id),
        "aftersale_id": int(record.aftersale_id),
        "aftersale_status": int(record.status),
        "aftersale_type": int(record.aftersale_type),
        "refund_amount": record.refund_amount,
        REFUND_TIME_FIELD[tag]: when,
        "update_time": rfc3339(record.update_time),
    }


def _trade_base(order: Order, shop_id: str, sku_ids: list[str]) -> dict[str, Any]:
    return {
        "p_id": int(order.order_id),
        "s_ids": [int(s) for s in sku_ids],
        "shop_id": int(shop_id),
        "order_status": int(order.order_status),
        "update_time": order.update_time,
    }


def ship_data(order: Order, parcel: Parcel, shop_id: str) -> dict[str, Any]:
    data = _trade_base(order, shop_id, parcel.sku_order_ids)
    data["logistics_msg"] = {
        "express_company_id": parcel.carrier.express_company_id,
        "logistics_code": parcel.tracking_no,
    }
    return data


def cancel_data(order: Order, shop_id: str) -> dict[str, Any]:
    data = _trade_base(order, shop_id, [s.sku_order_id for s in order.skus])
    del data["update_time"]  # 106 carries none (the platform's TradeCanceled)
    data["cancel_time"] = order.cancel_time
    data["cancel_reason"] = order.cancel_reason
    return data
