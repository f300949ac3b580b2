"""The sandbox's records in the platform's JSON shapes (protocol reference sections 4 and 5).

Ids are strings in order.* and afterSale.List, integers in afterSale.Detail, as on the platform.
"""

from __future__ import annotations

from typing import Any

from douyin_sandbox.model import LOGISTICS_STATE, AfterSaleRecord, Order, Parcel, SkuLine
from server.douyin.enums import (
    AFTERSALE_STATUS_DESC,
    AFTERSALE_TYPE_DESC,
    MAIN_STATUS_DESC,
    ORDER_STATUS_DESC,
    REFUNDED_MAIN_STATUSES,
    OrderStatus,
)

_NO_AFTERSALE = {"after_sale_status": 0, "after_sale_type": 0, "refund_status": 0}


def order_status_desc(order_status: int, main_status: int) -> str:
    if order_status == OrderStatus.CANCELLED and main_status in REFUNDED_MAIN_STATUSES:
        return "已关闭"
    return ORDER_STATUS_DESC.get(order_status, "")


def _sku(line: SkuLine, aftersales: dict[str, AfterSaleRecord]) -> dict[str, Any]:
    record = aftersales.get(line.aftersale_id) if line.aftersale_id else None
    info = dict(_NO_AFTERSALE)
    if record is not None:
        info = {
            "after_sale_status": record.status,
            "after_sale_type": record.aftersale_type,
            "refund_status": record.refund_status,
        }
    return {
        "order_id": line.sku_order_id,
        "parent_order_id": line.parent_order_id,
        "product_id": line.product_id,
        "product_name": line.product_name,
        "code": line.code,
        "item_num": line.item_num,
        "order_status": line.order_status,
        "order_status_desc": order_status_desc(line.order_status, line.main_status),
        "main_status": line.main_status,
        "main_status_desc": MAIN_STATUS_DESC.get(line.main_status, ""),
        "after_sale_info": info,
    }


def _parcel(parcel: Parcel) -> dict[str, Any]:
    return {
        "tracking_no": parcel.tracking_no,
        "company": parcel.carrier.code,
        "company_name": parcel.carrier.name,
        "ship_time": parcel.ship_time,
        "delivery_id": parcel.delivery_id,
        "product_info": [{"sku_order_id": s} for s in parcel.sku_order_ids],
    }


def shop_order(order: Order, aftersales: dict[str, AfterSaleRecord]) -> dict[str, Any]:
    return {
        "order_id": order.order_id,
        "order_status": order.order_status,
        "order_status_desc": order_status_desc(order.order_status, order.main_status),
        "main_status": order.main_status,
        "main_status_desc": MAIN_STATUS_DESC.get(order.main_status, ""),
        "create_time": order.create_time,
        "update_time": order.update_time,
        "pay_time": order.pay_time,
        "ship_time": order.ship_time,
        "logistics_info": [_parcel(p) for p in order.parcels],
        "sku_order_list": [_sku(s, aftersales) for s in order.skus],
    }


def _order_logistics(order: Order, record: AfterSaleRecord) -> list[dict[str, Any]]:
    parcel = order.parcel_of(record.sku_order_id)
    parcels = [parcel] if parcel else []
    return [
        {
            "tracking_no": p.tracking_no,
            "company_name": p.carrier.name,
            "company_code": p.carrier.code,
            "logistics_state": LOGISTICS_STATE[p.state],
            "logistics_time": p.state_time,
        }
        for p in parcels
    ]


def aftersale_item(record: AfterSaleRecord, order: Order) -> dict[str, Any]:
    """One item of afterSale.List."""
    line = order.sku(record.sku_order_id)
    return {
        "aftersale_info": {
            "aftersale_id": record.aftersale_id,
            "aftersale_type": record.aftersale_type,
            "aftersale_status": record.status,
            "refund_status": record.refund_status,
            "refund_amount": record.refund_amount,
            "apply_time": record.apply_time,
            "update_time": record.update_time,
            "aftersale_status_to_final_time": record.final_time,
            "related_id": record.sku_order_id,
            "order_logistics": _order_logistics(order, record),
        },
        "order_info": {
            "shop_order_id": order.order_id,
            "related_order_info": [
                {
                    "sku_order_id": line.sku_order_id,
                    "order_status": line.order_status,
                    "item_num": line.item_num,
                    "product_name": line.product_name,
                }
            ],
        },
    }


def aftersale_detail(record: AfterSaleRecord, order: Order) -> dict[str, Any]:
    """afterSale.Detail's data: process_info.after_sale_info and order_info (integer ids)."""
    line = order.sku(record.sku_order_id)
    return {
        "process_info": {
            "after_sale_info": {
                "after_sale_id": int(record.aftersale_id),
                "after_sale_status": record.status,
                "after_sale_status_desc": AFTERSALE_STATUS_DESC.get(record.status, ""),
                "after_sale_type": record.aftersale_type,
                "after_sale_type_text": AFTERSALE_TYPE_DESC.get(record.aftersale_type, ""),
                "refund_status": record.refund_status,
                "refund_total_amount": record.refund_amount,
                "apply_time": record.apply_time,
                "update_time": record.update_time,
            },
            "logistics_info": {"order": _order_logistics(order, record)},
        },
        "order_info": {
            "shop_order_id": int(order.order_id),
            "sku_order_infos": [
                {
                    "sku_order_id": int(line.sku_order_id),
                    "order_status": line.order_status,
                    "item_quantity": line.item_num,
                    "product_name": line.product_name,
                }
            ],
        },
    }
