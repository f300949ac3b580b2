"""order.searchList and order.orderDetail over the sandbox shop (call under the shop's lock)."""

from __future__ import annotations

from typing import Any

from douyin_sandbox import render
from douyin_sandbox.model import Order
from douyin_sandbox.params import csv_ints, get_bool, get_id, get_int, get_str
from douyin_sandbox.protocol import GatewayError
from douyin_sandbox.shop import SandboxShop
from server.douyin.enums import PENDING_AFTERSALE_STATUSES

_ORDER_BY = {"create_time", "update_time"}


def _window(params: dict[str, Any], now: int) -> tuple[str, int, int]:
    for field in ("update_time", "create_time"):
        start = get_int(params, f"{field}_start", minimum=0)
        end = get_int(params, f"{field}_end", minimum=0)
        if start is not None or end is not None:
            start = 0 if start is None else start
            end = now if end is None else end
            if start > end:
                raise GatewayError.invalid(f"{field}_start", "开始时间不能晚于结束时间")
            return field, start, end
    raise GatewayError.parameter_invalid(20011, "订单查询开始时间不能为空")


def _aftersale_match(shop: SandboxShop, order: Order, desc: str) -> bool:
    records = [shop.aftersales[s.aftersale_id] for s in order.skus if s.aftersale_id]
    if desc == "in_aftersale":
        return any(r.status in PENDING_AFTERSALE_STATUSES for r in records)
    if desc == "refund":
        return bool(records)
    if desc == "refund_success":
        return any(r.refund_status == 3 for r in records)
    if desc == "refund_fail":
        return any(r.status == 28 or r.refund_status == 4 for r in records)
    return True  # "all" and values the sandbox does not model


def search_list(shop: SandboxShop, params: dict[str, Any]) -> dict[str, Any]:
    config, now = shop.config, shop.now()
    if (get_int(params, "page", default=0) or 0) < 0:
        raise GatewayError.parameter_invalid(10035, "查询订单列表页数不能小于0")
    page = get_int(params, "page", default=0, minimum=0) or 0
    size = get_int(params, "size", default=10, minimum=1) or 10
    if size > config.max_page_size:
        raise GatewayError.parameter_invalid(20008, "单次查询订单数超过限制")
    if (page + 1) * size > config.search_result_cap:
        raise GatewayError.parameter_invalid(
            20013, f"订单查询最多支持查询{config.search_result_cap // 10000}万"
        )
    field, start, end = _window(params, now)
    if start < now - config.search_window_days * 86400:
        raise GatewayError.parameter_invalid(
            20022, f"订单查询只支持查询最近{config.search_window_days}天内的数据"
        )
    order_by = get_str(params, "order_by", default="create_time") or "create_time"
    if order_by not in _ORDER_BY:
        raise GatewayError.invalid("order_by")
    ascending = get_bool(params, "order_asc", default=False)
    tracking_no = get_str(params, "tracking_no")
    desc = get_str(params, "after_sale_status_desc", default="all") or "all"
    combine = params.get("combine_status") or []
    if not isinstance(combine, list) or not all(isinstance(c, dict) for c in combine):
        raise GatewayError.invalid("combine_status")
    if len(combine) > 1:
        raise GatewayError.parameter_invalid(20012, "订单查询状态条件超过限制，只支持1个元素")
    wanted_status = csv_ints(combine[0].get("order_status"), "combine_status") if combine else None
    wanted_main = csv_ints(combine[0].get("main_status"), "combine_status") if combine else None

    index = shop.orders_by_update if field == "update_time" else shop.orders_by_create
    simple = order_by == field and not (tracking_no or wanted_status or wanted_main or desc != "all")
    if simple:
        total, ids = index.page(start, end, page * size, size, descending=not ascending)
        orders = [shop.orders[i] for i in ids]
    else:
        if tracking_no:
            found = shop.order_for_tracking(tracking_no)
            candidates = [found] if found and start <= getattr(found, field) <= end else []
        else:
            candidates = [shop.orders[i] for i in index.window(start, end)]
        matching = [
            o
            for o in candidates
            if (wanted_status is None or o.order_status in wanted_status)
            and (wanted_main is None or o.main_status in wanted_main)
            and _aftersale_match(shop, o, desc)
        ]
        matching.sort(key=lambda o: (getattr(o, order_by), o.order_id), reverse=not ascending)
        total, orders = len(matching), matching[page * size : (page + 1) * size]
    return {
        "page": page,
        "size": size,
        "total": total,
        "shop_order_list": [render.shop_order(o, shop.aftersales) for o in orders],
    }


def order_detail(shop: SandboxShop, params: dict[str, Any]) -> dict[str, Any]:
    order_id = get_id(params, "shop_order_id", required=True)
    order = shop.orders.get(str(order_id))
    if order is None and str(order_id) in shop.foreign_orders:
        raise GatewayError.business_failed(20015, "订单不是该店铺下的订单，无权查询")
    if order is None:
        raise GatewayError.parameter_invalid(20014, "查询订单不存在")
    return {"shop_order_detail": render.shop_order(order, shop.aftersales)}
