"""What a user bound to one warehouse may read: the one rule for every console read.

An order is in a warehouse when its shop ships from that warehouse or when it was scanned (or
raised an exception) at one of its stations. Unbound users (warehouse None) read everything.
"""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from server.models import Order, Scan, ScanException, warehouse_shops


def order_in_warehouse(session: Session, order_id: str, warehouse_id: int | None) -> bool:
    if warehouse_id is None:
        return True
    shop_ships_there = exists().where(
        warehouse_shops.c.warehouse_id == warehouse_id, warehouse_shops.c.shop_id == Order.shop_id
    )
    return bool(
        session.scalar(select(exists().where(Order.order_id == order_id, shop_ships_there)))
        or session.scalar(
            select(exists().where(Scan.order_id == order_id, Scan.warehouse_id == warehouse_id))
        )
        or session.scalar(
            select(
                exists().where(ScanException.order_id == order_id, ScanException.warehouse_id == warehouse_id)
            )
        )
    )
