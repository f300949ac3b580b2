"""The goods a partial refund takes out of a parcel, named for the packer (not by sku order id).

`goods_label` is pure: product name, merchant code and count, e.g. "蓝色T恤 L（编码 TS-BL-L）×1".
Douyin's spec text (规格) is not stored, so the product name carries what the shop put in it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import SkuOrder


def goods_label(name: str, code: str | None, count: int, sku_order_id: str) -> str:
    text = name.strip() or f"商品 {sku_order_id}"
    if code:
        text += f"（编码 {code}）"
    return f"{text}×{count}"


def goods_out(session: Session, sku_order_ids: Sequence[str]) -> list[str]:
    """Labels for the refunded sku orders, in the order given (an unknown id is named by its id)."""
    if not sku_order_ids:
        return []
    rows = session.execute(
        select(SkuOrder.sku_order_id, SkuOrder.product_name, SkuOrder.code, SkuOrder.item_num).where(
            SkuOrder.sku_order_id.in_(list(sku_order_ids))
        )
    )
    found = {sku: goods_label(name, code, count or 1, sku) for sku, name, code, count in rows}
    return [found.get(sku, f"商品 {sku}") for sku in sku_order_ids]
