"""Factories for orders, sku orders, waybills and refunds, written through server.ingest so the
gate state is derived exactly as in production."""

from __future__ import annotations

import itertools

from sqlalchemy.orm import Session

from server.ingest import (
    AfterSaleRecord,
    OrderRecord,
    SkuRecord,
    assign_tracking,
    upsert_after_sale,
    upsert_order,
)
from server.models import Shop

_ids = itertools.count(1)
SHOP_ID = "10437917"
TEST_DATA_KEY = "1Wv4cQ7pqu9V8JvYk2c4mFJj0bA0QoVY6t3lW2f7o1M="  # the suite's data key (conftest installs it)


def douyin_id(prefix: str = "48") -> str:
    """A fresh 19-digit id."""
    return f"{prefix}{next(_ids):017d}"


def ensure_shop(session: Session, shop_id: str = SHOP_ID) -> Shop:
    shop = session.get(Shop, shop_id)
    if shop is None:
        shop = Shop(
            shop_id=shop_id, name="测试小店", app_key="1234567890123456789", app_secret="test-secret-0000"
        )
        session.add(shop)
        session.flush()
    return shop


def make_order(
    session: Session,
    *,
    skus: int = 1,
    tracking_no: str | None = None,
    order_status: int = 2,
    main_status: int | None = None,
    update_time: int = 1_700_000_000,
    shop_id: str = SHOP_ID,
    commit: bool = True,
) -> OrderRecord:
    ensure_shop(session, shop_id)
    order_id = douyin_id("48")
    record = OrderRecord(
        order_id=order_id,
        shop_id=shop_id,
        order_status=order_status,
        main_status=main_status,
        update_time=update_time,
        skus=tuple(
            SkuRecord(
                sku_order_id=douyin_id("49"),
                product_name=f"商品{i + 1}",
                code=f"SKU-{i + 1}",
                category="服饰",
            )
            for i in range(skus)
        ),
        tracking=((tracking_no, "顺丰速运"),) if tracking_no else (),
    )
    upsert_order(session, record)
    if commit:
        session.commit()
    return record


def refund(
    session: Session,
    order: OrderRecord,
    *,
    sku_order_id: str | None = None,
    status: int = 12,
    refund_status: int | None = 3,
    aftersale_type: int = 2,
    update_time: int = 1_700_000_100,
    aftersale_id: str | None = None,
    commit: bool = True,
) -> AfterSaleRecord:
    record = AfterSaleRecord(
        aftersale_id=aftersale_id or douyin_id("70"),
        order_id=order.order_id,
        sku_order_id=sku_order_id,
        aftersale_type=aftersale_type,
        aftersale_status=status,
        refund_status=refund_status,
        refund_amount=8900,
        update_time=update_time,
    )
    upsert_after_sale(session, record)
    if commit:
        session.commit()
    return record


__all__ = ["TEST_DATA_KEY", "assign_tracking", "douyin_id", "ensure_shop", "make_order", "refund"]
