"""The sandbox shop's records: shop orders with sku lines and parcels, and after-sales.

Plain mutable dataclasses owned by SandboxShop (which holds the lock and the indexes);
rendering them in the platform's JSON shapes is render.py's job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from douyin_sandbox.catalog import Carrier
from server.douyin.enums import (
    PENDING_AFTERSALE_STATUSES,
    AfterSaleStatus,
    OrderStatus,
    RefundStatus,
)


class ParcelState(StrEnum):
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    INTERCEPTED = "intercepted"


# afterSale order_logistics[].logistics_state: 0 on the way (the field's default); the platform's
# documented filter values are 1 refused, 2 signed, 3 returning (incl. intercepted), 4 back at the shop.
_REFUND_RANK = {21: 0, 22: 1, 39: 2}

LOGISTICS_STATE = {ParcelState.IN_TRANSIT: 0, ParcelState.DELIVERED: 2, ParcelState.INTERCEPTED: 3}


@dataclass
class SkuLine:
    sku_order_id: str
    parent_order_id: str
    product_id: str
    product_name: str
    category: str
    code: str
    item_num: int
    price: int  # fen per item
    order_status: int = OrderStatus.AWAITING_SHIPMENT
    main_status: int = OrderStatus.AWAITING_SHIPMENT
    aftersale_id: str | None = None  # the latest after-sale of this line

    @property
    def amount(self) -> int:
        return self.price * self.item_num


@dataclass
class Parcel:
    tracking_no: str
    carrier: Carrier
    ship_time: int
    sku_order_ids: list[str]
    state: ParcelState = ParcelState.IN_TRANSIT
    state_time: int = 0
    delivery_id: str = ""


@dataclass
class Order:
    order_id: str
    create_time: int
    pay_time: int
    update_time: int
    skus: list[SkuLine]
    order_status: int = OrderStatus.AWAITING_SHIPMENT
    main_status: int = OrderStatus.AWAITING_SHIPMENT
    ship_time: int = 0
    parcels: list[Parcel] = field(default_factory=list)
    cancel_time: int = 0
    cancel_reason: str = ""

    def sku(self, sku_order_id: str) -> SkuLine:
        for line in self.skus:
            if line.sku_order_id == sku_order_id:
                return line
        raise KeyError(sku_order_id)

    def parcel_of(self, sku_order_id: str) -> Parcel | None:
        for parcel in self.parcels:
            if sku_order_id in parcel.sku_order_ids:
                return parcel
        return None


@dataclass
class AfterSaleRecord:
    aftersale_id: str
    order_id: str
    sku_order_id: str
    aftersale_type: int
    refund_amount: int
    apply_time: int
    update_time: int
    status: int = AfterSaleStatus.AWAITING_MERCHANT
    refund_status: int = RefundStatus.PENDING
    final_time: int = 0

    @property
    def pending(self) -> bool:
        return self.status in PENDING_AFTERSALE_STATUSES


def derive_status(order: Order) -> tuple[int, int]:
    """(order_status, main_status) of a shop order from its sku lines."""
    live = [s for s in order.skus if s.order_status != OrderStatus.CANCELLED]
    if not live:
        refunded = [s.main_status for s in order.skus if s.main_status in _REFUND_RANK]
        if refunded and not order.cancel_time:
            return OrderStatus.CANCELLED, max(refunded, key=_REFUND_RANK.__getitem__)
        return OrderStatus.CANCELLED, OrderStatus.CANCELLED
    statuses = {s.order_status for s in live}
    if statuses == {OrderStatus.COMPLETED}:
        status = OrderStatus.COMPLETED
    elif statuses <= {OrderStatus.SHIPPED, OrderStatus.COMPLETED}:
        status = OrderStatus.SHIPPED
    elif statuses & {OrderStatus.SHIPPED, OrderStatus.COMPLETED}:
        status = OrderStatus.PARTLY_SHIPPED
    elif statuses == {OrderStatus.PENDING}:
        status = OrderStatus.PENDING
    else:
        status = OrderStatus.AWAITING_SHIPMENT
    return status, status
