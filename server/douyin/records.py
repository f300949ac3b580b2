"""Typed views of Douyin responses (orders, after-sales, interception). Pure parsing, no I/O.

Every id comes out as a decimal string whatever the wire used (strings in order.searchList and
afterSale.List, 19-digit integers in afterSale.Detail). `raw` keeps the platform's dict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from server.douyin.push import id_str


def _int(value: Any, default: int = 0) -> int:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return int(value)
    return int(value)


@dataclass(frozen=True)
class SkuOrder:
    sku_order_id: str
    parent_order_id: str
    product_id: str
    product_name: str
    code: str
    item_num: int
    order_status: int
    main_status: int
    after_sale_status: int  # 0 when there is no after-sale
    after_sale_type: int
    refund_status: int


@dataclass(frozen=True)
class Parcel:
    tracking_no: str
    company: str
    company_name: str
    ship_time: int
    sku_order_ids: tuple[str, ...]


@dataclass(frozen=True)
class ShopOrder:
    order_id: str
    order_status: int
    main_status: int
    create_time: int
    update_time: int
    pay_time: int
    ship_time: int
    sku_orders: tuple[SkuOrder, ...]
    parcels: tuple[Parcel, ...]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def tracking_nos(self) -> tuple[str, ...]:
        return tuple(p.tracking_no for p in self.parcels)


@dataclass(frozen=True)
class OrderPage:
    page: int
    size: int
    total: int
    orders: tuple[ShopOrder, ...]


@dataclass(frozen=True)
class AfterSale:
    aftersale_id: str
    aftersale_type: int
    aftersale_status: int
    refund_status: int
    refund_amount: int  # fen
    apply_time: int
    update_time: int
    final_time: int  # aftersale_status_to_final_time; 0 while open
    shop_order_id: str
    sku_order_ids: tuple[str, ...]
    tracking_nos: tuple[str, ...]
    raw: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class AfterSalePage:
    page: int
    size: int
    total: int
    has_more: bool
    items: tuple[AfterSale, ...]


@dataclass(frozen=True)
class InterceptTarget:
    company_code: str
    tracking_no: str


@dataclass(frozen=True)
class InterceptResult:
    tracking_no: str
    can_intercept: bool
    is_success: bool
    unavailable_reason: str
    intercept_cost: int


@dataclass(frozen=True)
class InterceptOutcome:
    results: tuple[InterceptResult, ...]
    success_count: int
    failed_count: int


def parse_sku_order(raw: dict[str, Any]) -> SkuOrder:
    info = raw.get("after_sale_info") or {}
    return SkuOrder(
        sku_order_id=id_str(raw["order_id"]),
        parent_order_id=id_str(raw.get("parent_order_id") or raw["order_id"]),
        product_id=str(raw.get("product_id") or ""),
        product_name=str(raw.get("product_name") or ""),
        code=str(raw.get("code") or ""),
        item_num=_int(raw.get("item_num"), 1),
        order_status=_int(raw.get("order_status")),
        main_status=_int(raw.get("main_status")),
        after_sale_status=_int(info.get("after_sale_status")),
        after_sale_type=_int(info.get("after_sale_type")),
        refund_status=_int(info.get("refund_status")),
    )


def parse_parcel(raw: dict[str, Any]) -> Parcel:
    skus = tuple(id_str(p["sku_order_id"]) for p in raw.get("product_info") or [] if p.get("sku_order_id"))
    return Parcel(
        tracking_no=str(raw.get("tracking_no") or ""),
        company=str(raw.get("company") or ""),
        company_name=str(raw.get("company_name") or ""),
        ship_time=_int(raw.get("ship_time")),
        sku_order_ids=skus,
    )


def parse_shop_order(raw: dict[str, Any]) -> ShopOrder:
    return ShopOrder(
        order_id=id_str(raw["order_id"]),
        order_status=_int(raw.get("order_status")),
        main_status=_int(raw.get("main_status")),
        create_time=_int(raw.get("create_time")),
        update_time=_int(raw.get("update_time")),
        pay_time=_int(raw.get("pay_time")),
        ship_time=_int(raw.get("ship_time")),
        sku_orders=tuple(parse_sku_order(s) for s in raw.get("sku_order_list") or []),
        parcels=tuple(parse_parcel(p) for p in raw.get("logistics_info") or []),
        raw=raw,
    )


def parse_order_page(data: dict[str, Any]) -> OrderPage:
    return OrderPage(
        page=_int(data.get("page")),
        size=_int(data.get("size")),
        total=_int(data.get("total")),
        orders=tuple(parse_shop_order(o) for o in data.get("shop_order_list") or []),
    )


def parse_aftersale_item(raw: dict[str, Any]) -> AfterSale:
    """One item of afterSale.List."""
    info = raw.get("aftersale_info") or {}
    order = raw.get("order_info") or {}
    return AfterSale(
        aftersale_id=id_str(info["aftersale_id"]),
        aftersale_type=_int(info.get("aftersale_type")),
        aftersale_status=_int(info.get("aftersale_status")),
        refund_status=_int(info.get("refund_status")),
        refund_amount=_int(info.get("refund_amount")),
        apply_time=_int(info.get("apply_time")),
        update_time=_int(info.get("update_time")),
        final_time=_int(info.get("aftersale_status_to_final_time")),
        shop_order_id=id_str(order.get("shop_order_id") or 0),
        sku_order_ids=tuple(id_str(r["sku_order_id"]) for r in order.get("related_order_info") or []),
        tracking_nos=tuple(str(lg["tracking_no"]) for lg in info.get("order_logistics") or []),
        raw=raw,
    )


def parse_aftersale_page(data: dict[str, Any]) -> AfterSalePage:
    return AfterSalePage(
        page=_int(data.get("page")),
        size=_int(data.get("size")),
        total=_int(data.get("total")),
        has_more=bool(data.get("has_more")),
        items=tuple(parse_aftersale_item(i) for i in data.get("items") or []),
    )


def parse_aftersale_detail(data: dict[str, Any]) -> AfterSale:
    """afterSale.Detail: process_info.after_sale_info + order_info (ids are integers here)."""
    process = data.get("process_info") or {}
    info = process.get("after_sale_info") or {}
    order = data.get("order_info") or {}
    logistics = (process.get("logistics_info") or {}).get("order") or []
    return AfterSale(
        aftersale_id=id_str(info["after_sale_id"]),
        aftersale_type=_int(info.get("after_sale_type")),
        aftersale_status=_int(info.get("after_sale_status")),
        refund_status=_int(info.get("refund_status")),
        refund_amount=_int(info.get("refund_total_amount")),
        apply_time=_int(info.get("apply_time")),
        update_time=_int(info.get("update_time")),
        final_time=0,
        shop_order_id=id_str(order.get("shop_order_id") or 0),
        sku_order_ids=tuple(id_str(s["sku_order_id"]) for s in order.get("sku_order_infos") or []),
        tracking_nos=tuple(str(lg["tracking_no"]) for lg in logistics),
        raw=data,
    )


def parse_intercept_outcome(data: dict[str, Any]) -> InterceptOutcome:
    results = tuple(
        InterceptResult(
            tracking_no=str(r.get("tracking_no") or ""),
            can_intercept=bool(r.get("can_intercept")),
            is_success=bool(r.get("is_success")),
            unavailable_reason=str(r.get("unavailable_reason") or ""),
            intercept_cost=_int(r.get("intercept_cost")),
        )
        for r in data.get("intercept_results") or []
    )
    return InterceptOutcome(results, _int(data.get("success_count")), _int(data.get("failed_count")))
