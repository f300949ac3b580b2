"""The sandbox shop: orders, after-sales and parcels in memory, changed the way the platform would.

Every change keeps update_time right (an order's only when its main status changes, as on the
platform), keeps the time indexes sorted, and hands a push message to the sinks. All access goes
through `lock`. `at(when)` runs changes at a past time without pushes (for generating history);
`bulk()` also defers index upkeep until the end (for generating 100,000 records fast).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from douyin_sandbox import events
from douyin_sandbox.catalog import CARRIERS_BY_CODE, IdMaker, Product
from douyin_sandbox.config import SandboxConfig
from douyin_sandbox.indexes import TimeIndex
from douyin_sandbox.intercept import intercept_parcels
from douyin_sandbox.model import AfterSaleRecord, Order, Parcel, ParcelState, SkuLine, derive_status
from server.douyin.enums import AfterSaleStatus, AfterSaleType, OrderStatus, PushTag, RefundStatus

PushSink = Callable[[PushTag, dict[str, Any]], None]


class TransitionError(ValueError):
    """A change the platform would not make (the control API answers 409)."""


class SandboxShop:
    def __init__(self, config: SandboxConfig, *, wall_clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.shop_id = str(config.shop_id)
        self.shop_name = config.shop_name
        self._wall = wall_clock
        self._offset = 0.0 if config.start_time is None else config.start_time - wall_clock()
        self.ids = IdMaker(config.seed)
        self.lock = threading.RLock()
        self.orders: dict[str, Order] = {}
        self.sku_orders: dict[str, str] = {}  # sku order id -> shop order id
        self.aftersales: dict[str, AfterSaleRecord] = {}
        self.aftersales_of_order: dict[str, list[str]] = {}
        self.tracking: dict[str, str] = {}  # tracking number -> the order it belongs to now
        self.foreign_orders: set[str] = set()  # orders of other shops on the platform (20015)
        self.orders_by_update = TimeIndex()
        self.orders_by_create = TimeIndex()
        self.aftersales_by_update = TimeIndex()
        self.aftersales_by_apply = TimeIndex()
        self.sinks: list[PushSink] = []
        self._frozen_now: int | None = None
        self._bulk = False
        self._muted = False

    # Time.

    def wall_now(self) -> float:
        """Real time: what a caller's request timestamp is checked against."""
        return self._wall()

    def now(self) -> int:
        """Business time: the wall clock plus however far the clock was advanced."""
        if self._frozen_now is not None:
            return self._frozen_now
        return int(self._wall() + self._offset)

    def advance_clock(self, seconds: float) -> int:
        with self.lock:
            self._offset += seconds
            return self.now()

    @contextmanager
    def at(self, when: int) -> Iterator[None]:
        """Make changes as of `when`, sending no pushes (history happened before anyone listened)."""
        with self.lock:
            saved = self._frozen_now, self._muted
            self._frozen_now, self._muted = int(when), True
            try:
                yield
            finally:
                self._frozen_now, self._muted = saved

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Many changes at once: no pushes, indexes rebuilt once at the end."""
        with self.lock:
            self._bulk, self._muted = True, True
            try:
                yield
            finally:
                self._bulk, self._muted = False, False
                self.orders_by_update.rebuild([(o.update_time, k) for k, o in self.orders.items()])
                self.orders_by_create.rebuild([(o.create_time, k) for k, o in self.orders.items()])
                self.aftersales_by_update.rebuild([(a.update_time, k) for k, a in self.aftersales.items()])
                self.aftersales_by_apply.rebuild([(a.apply_time, k) for k, a in self.aftersales.items()])

    def add_foreign_order(self) -> str:
        """An order id of another shop: order.orderDetail answers 50002 isv.business-failed:20015."""
        with self.lock:
            order_id = self.ids.order_id()
            self.foreign_orders.add(order_id)
            return order_id

    # Look-ups.

    def order(self, order_id: str) -> Order:
        """A shop order by its id, or by the id of one of its sku orders (KeyError if neither)."""
        key = str(order_id)
        return self.orders[self.sku_orders.get(key, key)]

    def aftersale(self, aftersale_id: str | int) -> AfterSaleRecord:
        return self.aftersales[str(aftersale_id)]

    def order_for_tracking(self, tracking_no: str) -> Order | None:
        order_id = self.tracking.get(tracking_no.strip().upper())
        return self.orders.get(order_id) if order_id else None

    # Internal upkeep.

    def _emit(self, tag: PushTag, data: dict[str, Any]) -> None:
        if not self._muted:
            for sink in self.sinks:
                sink(tag, data)

    def _set_order_status(self, order: Order, status: int, main: int) -> None:
        order.order_status = status
        if main != order.main_status:
            order.main_status = main
            old, order.update_time = order.update_time, self.now()
            if not self._bulk:
                self.orders_by_update.move(old, order.update_time, order.order_id)

    def _rederive(self, order: Order) -> None:
        self._set_order_status(order, *derive_status(order))

    def _touch_aftersale(self, record: AfterSaleRecord) -> None:
        old, record.update_time = record.update_time, self.now()
        if not self._bulk:
            self.aftersales_by_update.move(old, record.update_time, record.aftersale_id)

    # Orders.

    def create_order(
        self, products: list[tuple[Product, int]] | None = None, *, n_skus: int | None = None
    ) -> Order:
        """A paid order waiting to ship (备货中) with 1-3 sku lines (products and quantities)."""
        with self.lock:
            rng, now = self.ids.rng, self.now()
            if products is None:
                n = n_skus or rng.choices((1, 2, 3), weights=(70, 22, 8))[0]
                products = [
                    (self.ids.product(), rng.choices((1, 2, 3), weights=(80, 15, 5))[0]) for _ in range(n)
                ]
            order_id = self.ids.order_id()
            # A one-line order's sku order id is the shop order id, as on the platform.
            sku_ids = [order_id] if len(products) == 1 else [self.ids.order_id() for _ in products]
            skus = [
                SkuLine(sku_id, order_id, p.product_id, p.name, p.category, p.code, qty, p.price)
                for sku_id, (p, qty) in zip(sku_ids, products, strict=True)
            ]
            order = Order(order_id, create_time=now, pay_time=now, update_time=now, skus=skus)
            self.orders[order_id] = order
            for line in skus:
                self.sku_orders[line.sku_order_id] = order_id
            if not self._bulk:
                self.orders_by_update.add(now, order_id)
                self.orders_by_create.add(now, order_id)
            return order

    def ship(
        self,
        order_id: str,
        *,
        carrier: str | None = None,
        tracking_no: str | None = None,
        sku_order_ids: list[str] | None = None,
        force: bool = False,
    ) -> Parcel:
        """Ship sku lines (default: all waiting ones) in one parcel. `force` ships closed lines too,
        as a warehouse that missed a refund would: the platform's status does not change then."""
        with self.lock:
            order = self.order(order_id)
            if sku_order_ids is None:
                lines = [s for s in order.skus if s.order_status == OrderStatus.AWAITING_SHIPMENT]
                lines = lines or (list(order.skus) if force else [])
            else:
                lines = [order.sku(str(s)) for s in sku_order_ids]
            waiting = [s for s in lines if s.order_status == OrderStatus.AWAITING_SHIPMENT]
            if not lines or (len(waiting) < len(lines) and not force):
                raise TransitionError(f"order {order.order_id} has nothing waiting to ship")
            code = tracking_no.strip().upper() if tracking_no else None
            if code and code in self.tracking:
                raise TransitionError(f"tracking number {code} belongs to order {self.tracking[code]}")
            chosen = CARRIERS_BY_CODE[carrier] if carrier else self.ids.carrier()
            now = self.now()
            parcel = Parcel(
                tracking_no=code or self.ids.tracking_no(chosen),
                carrier=chosen,
                ship_time=now,
                sku_order_ids=[s.sku_order_id for s in lines],
                state_time=now,
                delivery_id=self.ids.delivery_id(),
            )
            order.parcels.append(parcel)
            self.tracking[parcel.tracking_no] = order.order_id
            if not waiting:
                return parcel
            for line in waiting:
                line.order_status = line.main_status = OrderStatus.SHIPPED
            order.ship_time = order.ship_time or now
            self._rederive(order)
            tag = (
                PushTag.TRADE_SELLER_SHIP
                if order.order_status == OrderStatus.SHIPPED
                else PushTag.TRADE_PARTLY_SELLER_SHIP
            )
            self._emit(tag, events.ship_data(order, parcel, self.shop_id))
            return parcel

    def cancel(self, order_id: str, reason: str = "买家取消订单") -> Order:
        """Cancel an order that has not shipped (order_status 4)."""
        with self.lock:
            order = self.order(order_id)
            if order.parcels or order.order_status not in (1, 105, 2):
                raise TransitionError(
                    f"order {order.order_id} cannot be cancelled in status {order.order_status}"
                )
            for line in order.skus:
                line.order_status = line.main_status = OrderStatus.CANCELLED
            order.cancel_time, order.cancel_reason = self.now(), reason
            self._set_order_status(order, OrderStatus.CANCELLED, OrderStatus.CANCELLED)
            self._emit(PushTag.TRADE_CANCELED, events.cancel_data(order, self.shop_id))
            return order

    def deliver(self, order_id: str) -> Order:
        """The buyer signs for every parcel on the way (order_status 5 for the shipped lines)."""
        with self.lock:
            order = self.order(order_id)
            moving = [p for p in order.parcels if p.state == ParcelState.IN_TRANSIT]
            if not moving:
                raise TransitionError(f"order {order.order_id} has no parcel on the way")
            for parcel in moving:
                parcel.state, parcel.state_time = ParcelState.DELIVERED, self.now()
                for sku_id in parcel.sku_order_ids:
                    line = order.sku(sku_id)
                    if line.order_status == OrderStatus.SHIPPED:
                        line.order_status = line.main_status = OrderStatus.COMPLETED
            self._rederive(order)
            return order

    def reissue_tracking(self, tracking_no: str, to_order_id: str) -> Parcel:
        """The courier recycles a voided waybill number: it leaves its order and ships another one."""
        with self.lock:
            code = tracking_no.strip().upper()
            old = self.order_for_tracking(code)
            if old is None:
                raise KeyError(code)
            parcel = next(p for p in old.parcels if p.tracking_no == code)
            old.parcels.remove(parcel)
            del self.tracking[code]
            for sku_id in parcel.sku_order_ids:
                line = old.sku(sku_id)
                if line.order_status == OrderStatus.SHIPPED and old.parcel_of(sku_id) is None:
                    line.order_status = line.main_status = OrderStatus.AWAITING_SHIPMENT
            old.ship_time = old.ship_time if old.parcels else 0
            self._rederive(old)
            return self.ship(to_order_id, carrier=parcel.carrier.code, tracking_no=code)

    # After-sales.

    def apply_refund(
        self,
        order_id: str,
        *,
        sku_order_id: str | None = None,
        aftersale_type: int | None = None,
        amount: int | None = None,
    ) -> AfterSaleRecord:
        """The buyer applies for a refund of one sku line (after-sale status 6, tag 200)."""
        with self.lock:
            order = self.order(order_id)
            if sku_order_id is None and str(order_id) != order.order_id:
                sku_order_id = str(order_id)  # called with a sku order id
            if sku_order_id:
                line = order.sku(str(sku_order_id))
            else:
                open_lines = [
                    s for s in order.skus if s.order_status != OrderStatus.CANCELLED and not self._pending(s)
                ]
                line = open_lines[0] if open_lines else None
            if (
                line is None
                or line.order_status in (OrderStatus.CANCELLED, OrderStatus.PENDING)
                or self._pending(line)
            ):
                raise TransitionError(f"order {order.order_id} has no line open for a refund")
            parcel = order.parcel_of(line.sku_order_id)
            if aftersale_type is None:
                if parcel is None:
                    aftersale_type = AfterSaleType.REFUND_BEFORE_SHIPMENT
                elif parcel.state == ParcelState.DELIVERED:
                    aftersale_type = AfterSaleType.RETURN_AND_REFUND
                else:
                    aftersale_type = AfterSaleType.REFUND_AFTER_SHIPMENT
            now = self.now()
            record = AfterSaleRecord(
                aftersale_id=self.ids.aftersale_id(),
                order_id=order.order_id,
                sku_order_id=line.sku_order_id,
                aftersale_type=int(aftersale_type),
                refund_amount=line.amount if amount is None else int(amount),
                apply_time=now,
                update_time=now,
            )
            self.aftersales[record.aftersale_id] = record
            self.aftersales_of_order.setdefault(order.order_id, []).append(record.aftersale_id)
            line.aftersale_id = record.aftersale_id
            if not self._bulk:
                self.aftersales_by_update.add(now, record.aftersale_id)
                self.aftersales_by_apply.add(now, record.aftersale_id)
            self._emit(
                PushTag.REFUND_CREATED, events.refund_data(PushTag.REFUND_CREATED, record, self.shop_id, now)
            )
            return record

    def _pending(self, line: SkuLine) -> bool:
        return bool(line.aftersale_id) and self.aftersales[line.aftersale_id].pending

    def _open_record(self, aftersale_id: str, allowed: set[int]) -> AfterSaleRecord:
        record = self.aftersale(aftersale_id)
        if record.status not in allowed:
            raise TransitionError(f"after-sale {record.aftersale_id} is in status {record.status}")
        return record

    def _refund_event(self, tag: PushTag, record: AfterSaleRecord) -> None:
        self._touch_aftersale(record)
        self._emit(tag, events.refund_data(tag, record, self.shop_id, self.now()))

    def agree_refund(self, aftersale_id: str) -> AfterSaleRecord:
        """The merchant agrees: a return waits for the goods (7, tag 202); a refund starts paying (201)."""
        with self.lock:
            record = self._open_record(aftersale_id, {6, 11})
            if record.aftersale_type == AfterSaleType.RETURN_AND_REFUND and record.status == 6:
                record.status = AfterSaleStatus.AWAITING_BUYER_RETURN
                self._refund_event(PushTag.RETURN_APPLY_AGREED, record)
            else:
                record.refund_status = RefundStatus.REFUNDING
                self._refund_event(PushTag.REFUND_AGREED, record)
            return record

    def refuse_refund(self, aftersale_id: str) -> AfterSaleRecord:
        """The merchant refuses (27 after the first approval step, 29 after the second; tag 204)."""
        with self.lock:
            record = self._open_record(aftersale_id, {6, 11})
            record.status = (
                AfterSaleStatus.REFUSED_ONCE if record.status == 6 else AfterSaleStatus.REFUSED_TWICE
            )
            self._refund_event(PushTag.REFUND_REFUSED, record)
            return record

    def succeed_refund(self, aftersale_id: str) -> AfterSaleRecord:
        """The refund is paid (12 / refund_status 3, tag 206); the line closes (order_status 4)."""
        with self.lock:
            record = self._open_record(aftersale_id, {6, 7, 8, 11, 27})
            record.status, record.refund_status = AfterSaleStatus.SUCCEEDED, RefundStatus.SUCCEEDED
            record.final_time = self.now()
            order = self.orders[record.order_id]
            line = order.sku(record.sku_order_id)
            parcel = order.parcel_of(line.sku_order_id)
            if parcel is None:
                line.main_status = 21
            elif parcel.state == ParcelState.DELIVERED or line.order_status == OrderStatus.COMPLETED:
                line.main_status = 39
            else:
                line.main_status = 22
            line.order_status = OrderStatus.CANCELLED
            self._rederive(order)
            self._refund_event(PushTag.REFUND_SUCCESS, record)
            return record

    def close_refund(self, aftersale_id: str) -> AfterSaleRecord:
        """The after-sale ends without a refund (28: failed or withdrawn by the buyer; tag 207).
        As on the platform, refund_status stays what it was (1 待退款 for a buyer who cancelled):
        it does not become 4 (退款失败)."""
        with self.lock:
            record = self._open_record(aftersale_id, {6, 7, 8, 11, 27})
            record.status = AfterSaleStatus.FAILED
            record.final_time = self.now()
            self._refund_event(PushTag.REFUND_CLOSED, record)
            return record

    def intercept(self, aftersale_id: str, targets: list[dict[str, Any]]) -> dict[str, Any]:
        """afterSale.applyLogisticsIntercept on this after-sale's order (see intercept.py)."""
        with self.lock:
            order = self.orders[self.aftersale(aftersale_id).order_id]
            return intercept_parcels(order, targets, self.now())
