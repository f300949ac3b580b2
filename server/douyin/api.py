"""Typed calls of the shop APIs Shipgate uses, on top of any `call(method, params) -> data`.

`DouyinClient.shop_api(access_token)` gives one bound to a fixed token; `TokenKeeper.api` gives
one that refreshes the token and retries once when it has expired.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from server.douyin.records import (
    AfterSale,
    AfterSalePage,
    InterceptOutcome,
    InterceptTarget,
    OrderPage,
    ShopOrder,
    parse_aftersale_detail,
    parse_aftersale_page,
    parse_intercept_outcome,
    parse_order_page,
    parse_shop_order,
)

Caller = Callable[[str, dict[str, Any]], dict[str, Any]]

MAX_PAGE_SIZE = 100


def _csv(values: int | str | Iterable[int | str] | None) -> str | None:
    if values is None:
        return None
    if isinstance(values, int | str):
        return str(values)
    return ",".join(str(v) for v in values)


class ShopApi:
    """order.searchList, order.orderDetail, afterSale.List, afterSale.Detail, applyLogisticsIntercept."""

    def __init__(self, call: Caller) -> None:
        self._call = call

    def search_orders(
        self,
        *,
        update_time_start: int | None = None,
        update_time_end: int | None = None,
        create_time_start: int | None = None,
        create_time_end: int | None = None,
        page: int = 0,
        size: int = MAX_PAGE_SIZE,
        order_by: str = "update_time",
        order_asc: bool = True,
        tracking_no: str | None = None,
        order_status: int | str | Iterable[int] | None = None,
        main_status: int | str | Iterable[int] | None = None,
        after_sale_status_desc: str | None = None,
    ) -> OrderPage:
        """One page of orders in an update_time (or create_time) window, in Unix seconds."""
        params: dict[str, Any] = {
            "update_time_start": update_time_start,
            "update_time_end": update_time_end,
            "create_time_start": create_time_start,
            "create_time_end": create_time_end,
            "page": page,
            "size": size,
            "order_by": order_by,
            "order_asc": order_asc,
            "tracking_no": tracking_no,
            "after_sale_status_desc": after_sale_status_desc,
        }
        status = {"order_status": _csv(order_status), "main_status": _csv(main_status)}
        if any(status.values()):
            params["combine_status"] = [{k: v for k, v in status.items() if v}]
        return parse_order_page(self._call("order.searchList", params))

    def order_detail(self, shop_order_id: str) -> ShopOrder:
        data = self._call("order.orderDetail", {"shop_order_id": str(shop_order_id)})
        return parse_shop_order(data["shop_order_detail"])

    def list_aftersales(
        self,
        *,
        update_start_time: int | None = None,
        update_end_time: int | None = None,
        page: int = 0,
        size: int = MAX_PAGE_SIZE,
        order_by: Sequence[str] | None = None,
        order_id: str | None = None,
        aftersale_id: str | None = None,
        aftersale_type: int | None = None,
        standard_aftersale_status: Sequence[int] | None = None,
        tracking_nos: Sequence[str] | None = None,
    ) -> AfterSalePage:
        """One page of after-sales. An update window always goes with order_by update_time asc."""
        if order_by is None and (update_start_time is not None or update_end_time is not None):
            order_by = ["update_time asc"]
        params: dict[str, Any] = {
            "update_start_time": update_start_time,
            "update_end_time": update_end_time,
            "page": page,
            "size": size,
            "order_by": list(order_by) if order_by else None,
            "order_id": order_id,
            "aftersale_id": aftersale_id,
            "aftersale_type": aftersale_type,
            "standard_aftersale_status": list(standard_aftersale_status)
            if standard_aftersale_status
            else None,
            "order_logistics_tracking_no": list(tracking_nos) if tracking_nos else None,
        }
        return parse_aftersale_page(self._call("afterSale.List", params))

    def aftersale_detail(self, after_sale_id: str) -> AfterSale:
        return parse_aftersale_detail(self._call("afterSale.Detail", {"after_sale_id": str(after_sale_id)}))

    def apply_logistics_intercept(
        self, after_sale_id: str, targets: Sequence[InterceptTarget], *, op_from: int = 1
    ) -> InterceptOutcome:
        """Ask the courier to stop parcels (a write: never retried on an ambiguous failure)."""
        params = {
            "after_sale_id": int(after_sale_id),
            "op_from": op_from,
            "intercept_targets": [
                {"company_code": t.company_code, "tracking_no": t.tracking_no} for t in targets
            ],
        }
        return parse_intercept_outcome(self._call("afterSale.applyLogisticsIntercept", params))
