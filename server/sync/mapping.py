"""Douyin's records and push messages as server.ingest records. Pure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from server.douyin.push import PushFormatError, id_str
from server.douyin.records import AfterSale, ShopOrder
from server.ingest import AfterSaleRecord, OrderRecord, SkuRecord

REFUND_TAGS = frozenset({"200", "201", "202", "203", "204", "205", "206", "207", "208"})
TRADE_TAGS = frozenset({"102", "106", "108"})
REFUND_SUCCESS_TAG = "206"
TRADE_STATUS_BY_TAG = {"102": 3, "106": 4, "108": 101}


def order_record(shop_id: str, order: ShopOrder) -> OrderRecord:
    return OrderRecord(
        order_id=order.order_id,
        shop_id=shop_id,
        order_status=order.order_status,
        main_status=order.main_status or None,
        update_time=order.update_time,
        create_time=order.create_time or None,
        pay_time=order.pay_time or None,
        ship_time=order.ship_time or None,
        pay_amount=_int_or_none(order.raw.get("pay_amount")),
        skus=tuple(
            SkuRecord(
                sku_order_id=sku.sku_order_id,
                product_id=sku.product_id or None,
                product_name=sku.product_name,
                code=sku.code or None,
                category=_category(order.raw, sku.sku_order_id),
                item_num=sku.item_num or 1,
                price=None,
                order_status=sku.order_status,
            )
            for sku in order.sku_orders
        ),
        tracking=tuple((p.tracking_no, p.company_name or p.company) for p in order.parcels if p.tracking_no),
    )


def _category(raw: dict, sku_order_id: str) -> str | None:
    for sku in raw.get("sku_order_list") or ():
        if str(sku.get("order_id")) == sku_order_id:
            return sku.get("first_cid_name") or sku.get("category_name") or None
    return None


def after_sale_record(item: AfterSale) -> AfterSaleRecord:
    """One after-sale. One that covers several sku orders applies to the whole order (fail closed)."""
    skus = item.sku_order_ids
    return AfterSaleRecord(
        aftersale_id=item.aftersale_id,
        order_id=item.shop_order_id,
        sku_order_id=skus[0] if len(skus) == 1 else None,
        aftersale_type=item.aftersale_type,
        aftersale_status=item.aftersale_status,
        refund_status=item.refund_status or None,
        refund_amount=item.refund_amount,
        apply_time=item.apply_time or None,
        update_time=item.update_time,
    )


def push_after_sale(tag: str, data: dict[str, Any]) -> AfterSaleRecord:
    """A refund message (200–208) as an after-sale record."""
    order_id = id_str(_need(data, "p_id"))
    sku_id = id_str(data["s_id"]) if data.get("s_id") not in (None, "", 0) else None
    return AfterSaleRecord(
        aftersale_id=id_str(_need(data, "aftersale_id")),
        order_id=order_id,
        sku_order_id=None if sku_id == order_id else sku_id,
        aftersale_type=int(data.get("aftersale_type", 0)),
        aftersale_status=int(_need(data, "aftersale_status")),
        refund_status=3 if tag == REFUND_SUCCESS_TAG else None,
        refund_amount=_int_or_none(data.get("refund_amount")),
        apply_time=_int_or_none(data.get("apply_time")),
        update_time=push_time(data),
    )


def push_time(data: dict[str, Any]) -> int:
    """When the change happened: `update_time` (RFC 3339 or seconds), else the latest time field."""
    value = data.get("update_time")
    if isinstance(value, str) and value and not value.isdigit():
        try:
            return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
        except ValueError as exc:
            raise PushFormatError(f"update_time {value[:40]!r} 不是 RFC 3339 时间") from exc
    if value not in (None, ""):
        return int(value)
    times = [
        int(data[k])
        for k in (
            "success_time",
            "close_time",
            "refuse_time",
            "agree_time",
            "modify_time",
            "apply_time",
            "cancel_time",
        )
        if data.get(k) not in (None, "")
    ]
    if not times:
        raise PushFormatError("消息中没有时间字段")
    return max(times)


def push_trade(tag: str, data: dict[str, Any]) -> tuple[str, int, int, tuple[tuple[str, str], ...]]:
    """A trade message (102, 106, 108): (order id, new order_status, update time, tracking)."""
    order_id = id_str(_need(data, "p_id"))
    status = int(data.get("order_status") or TRADE_STATUS_BY_TAG[tag])
    tracking: tuple[tuple[str, str], ...] = ()
    logistics = data.get("logistics_msg") or {}
    if isinstance(logistics, dict) and logistics.get("logistics_code"):
        tracking = ((str(logistics["logistics_code"]), str(logistics.get("express_company_id", ""))),)
    return order_id, status, push_time(data), tracking


BIGINT_MAX = 2**63 - 1


def check_message(tag: str, msg_id: str, data: dict[str, Any]) -> None:
    """Raise PushFormatError (or ValueError) when a message cannot be stored or applied: an id or
    tag longer than its column, a number beyond a 64-bit integer, missing fields we act on."""
    if len(msg_id) > 40 or len(tag) > 8:
        raise PushFormatError("msg_id 或 tag 过长")
    for key, value in data.items():
        if isinstance(value, int) and not isinstance(value, bool) and not -BIGINT_MAX <= value <= BIGINT_MAX:
            raise PushFormatError(f"{key[:40]} 超出范围")
    if tag in REFUND_TAGS:
        push_after_sale(tag, data)
    elif tag in TRADE_TAGS:
        push_trade(tag, data)


def _need(data: dict[str, Any], key: str) -> Any:
    if data.get(key) in (None, ""):
        raise PushFormatError(f"消息缺少 {key}")
    return data[key]


def _int_or_none(value: Any) -> int | None:
    if value in (None, ""):
        return None
    return int(value)
