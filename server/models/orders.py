"""What Douyin tells us about orders, and the gate state derived from it.

Douyin times (create_time, update_time, ...) are kept as Unix seconds, as Douyin sends them,
so bookmarks and "an older message never overwrites a newer state" compare like with like.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, and_, or_
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.douyin import enums
from server.models.base import CREATED, TOUCHED, Base, DouyinId, EnumText
from shipgate.wire import Decision, Reason


class Order(Base):
    __tablename__ = "orders"

    order_id: Mapped[str] = mapped_column(DouyinId, primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.shop_id"), index=True)
    order_status: Mapped[int]
    main_status: Mapped[int | None]
    create_time: Mapped[int | None]
    update_time: Mapped[int] = mapped_column(default=0)
    pay_time: Mapped[int | None]
    ship_time: Mapped[int | None]
    pay_amount: Mapped[int | None]  # fen
    synced_at: Mapped[datetime] = mapped_column(info=TOUCHED)

    sku_orders: Mapped[list[SkuOrder]] = relationship(
        back_populates="order", order_by="SkuOrder.sku_order_id"
    )
    after_sales: Mapped[list[AfterSale]] = relationship(back_populates="order")
    waybills: Mapped[list[Waybill]] = relationship(back_populates="order")


class SkuOrder(Base):
    __tablename__ = "sku_orders"

    sku_order_id: Mapped[str] = mapped_column(DouyinId, primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.order_id"), index=True)
    product_id: Mapped[str | None] = mapped_column(String(32))
    product_name: Mapped[str] = mapped_column(String(256), default="")
    code: Mapped[str | None] = mapped_column(String(64))  # the merchant's sku code
    category: Mapped[str | None] = mapped_column(String(64))
    item_num: Mapped[int] = mapped_column(default=1)
    price: Mapped[int | None]  # fen
    order_status: Mapped[int | None]

    order: Mapped[Order] = relationship(back_populates="sku_orders")


class Waybill(Base):
    """A tracking number issued to an order. Couriers recycle numbers: only a waybill that is
    not cancelled belongs to its order now."""

    __tablename__ = "waybills"
    __table_args__ = (Index("ix_waybills_tracking_current", "tracking_no", "cancelled_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    tracking_no: Mapped[str] = mapped_column(String(40))
    company: Mapped[str] = mapped_column(String(64), default="")
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.order_id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(info=CREATED)
    cancelled_at: Mapped[datetime | None]

    order: Mapped[Order] = relationship(back_populates="waybills")


class AfterSale(Base):
    __tablename__ = "after_sales"

    aftersale_id: Mapped[str] = mapped_column(DouyinId, primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.order_id"), index=True)
    sku_order_id: Mapped[str | None] = mapped_column(DouyinId)
    aftersale_type: Mapped[int]
    aftersale_status: Mapped[int]
    refund_status: Mapped[int | None]
    refund_amount: Mapped[int | None]  # fen
    apply_time: Mapped[int | None]
    update_time: Mapped[int] = mapped_column(default=0)
    synced_at: Mapped[datetime] = mapped_column(info=TOUCHED)

    order: Mapped[Order] = relationship(back_populates="after_sales")

    @hybrid_property
    def refund_succeeded(self) -> bool:
        """A refund that succeeded: server.douyin.enums.refund_succeeded, and its SQL twin."""
        return enums.refund_succeeded(self)

    @refund_succeeded.inplace.expression
    @classmethod
    def _refund_succeeded_sql(cls):
        return and_(
            cls.aftersale_type.in_(sorted(enums.REFUND_TYPES)),
            or_(
                cls.aftersale_status == enums.AfterSaleStatus.SUCCEEDED,
                cls.refund_status == enums.RefundStatus.SUCCEEDED,
            ),
        )


class GateEntry(Base):
    """The derived verdict for one order: what stations replicate. `version` comes from the
    single gate counter and only grows; a replica asks for entries after the version it has."""

    __tablename__ = "gate_entries"

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.order_id"), primary_key=True)
    shop_id: Mapped[str] = mapped_column(String(20), index=True)
    decision: Mapped[Decision] = mapped_column(EnumText(Decision, 8))
    reason: Mapped[Reason] = mapped_column(EnumText(Reason, 32))
    sku_out: Mapped[list] = mapped_column(default=list)
    codes: Mapped[list] = mapped_column(default=list)
    label: Mapped[dict | None]  # what a PASS prints: current waybill and goods, or None
    version: Mapped[int] = mapped_column(unique=True)
    updated_at: Mapped[datetime] = mapped_column(info=TOUCHED)


class GateCode(Base):
    """Every code that resolves to an order now (its own id, sku order ids, current tracking
    numbers): one indexed look-up from a scanned code to its gate entry."""

    __tablename__ = "gate_codes"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("gate_entries.order_id"), index=True)


class Counter(Base):
    """Named monotonic counters (the gate version). Bumped with UPDATE … RETURNING, whose row
    lock also makes gate versions commit in order on PostgreSQL."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)
