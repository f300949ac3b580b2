"""Administration's changes: stations, operators and shops. Each is audited in the caller's
transaction and raises FieldError (changing nothing) when refused; the caller commits.

Shop secrets are write-only: they are stored, never returned, logged or audited.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import stations
from server.console.errors import FieldError
from server.models import AuditLog, Operator, Shop, Station, Warehouse


def enrol_station(
    session: Session, name: str, warehouse: str, mode: str, *, actor: str
) -> tuple[Station, str]:
    """A new station and its token (shown once, stored hashed)."""
    if session.scalar(select(Station.id).where(Station.name == name)) is not None:
        raise FieldError("name", "已有同名的工作站")
    return stations.enrol(session, name, warehouse, actor=actor, mode=mode)


def rename_station(session: Session, station: Station, name: str, *, actor: str) -> None:
    if name == station.name:
        return
    if session.scalar(select(Station.id).where(Station.name == name)) is not None:
        raise FieldError("name", "已有同名的工作站")
    session.add(AuditLog(actor=actor, action="station.rename", target=name, detail={"from": station.name}))
    station.name = name


def revoke_station(session: Session, station: Station, *, actor: str) -> None:
    if station.revoked_at is not None:
        raise FieldError("station", "该工作站已被吊销")
    stations.revoke(session, station, actor=actor)


def add_operator(
    session: Session, name: str, badge: str, warehouse_id: int | None, is_lead: bool, *, actor: str
) -> Operator:
    if session.scalar(select(Operator.id).where(Operator.badge == badge)) is not None:
        raise FieldError("badge", "该工牌号已被使用")
    operator = Operator(name=name, badge=badge, warehouse_id=warehouse_id, is_lead=is_lead)
    session.add(operator)
    session.flush()
    detail = {"name": name, "warehouse_id": warehouse_id, "is_lead": is_lead}
    session.add(AuditLog(actor=actor, action="operator.add", target=f"badge:{badge}", detail=detail))
    return operator


def set_operator_active(session: Session, operator: Operator, active: bool, *, actor: str) -> None:
    if operator.active == active:
        return
    operator.active = active
    action = "operator.activate" if active else "operator.deactivate"
    session.add(AuditLog(actor=actor, action=action, target=f"badge:{operator.badge}"))


def _warehouses(session: Session, ids: list[int]) -> list[Warehouse]:
    return list(session.scalars(select(Warehouse).where(Warehouse.id.in_(ids)))) if ids else []


def add_shop(
    session: Session,
    shop_id: str,
    name: str,
    app_key: str,
    app_secret: str,
    warehouse_ids: list[int],
    *,
    actor: str,
) -> Shop:
    if session.get(Shop, shop_id) is not None:
        raise FieldError("shop_id", "该店铺已添加")
    shop = Shop(shop_id=shop_id, name=name, app_key=app_key, app_secret=app_secret)
    shop.warehouses = _warehouses(session, warehouse_ids)
    session.add(shop)
    session.flush()
    detail = {"name": name, "app_key": app_key, "warehouse_ids": sorted(warehouse_ids)}
    session.add(AuditLog(actor=actor, action="shop.add", target=f"shop:{shop_id}", detail=detail))
    return shop


def update_shop(
    session: Session,
    shop: Shop,
    name: str,
    app_key: str,
    app_secret: str,
    warehouse_ids: list[int],
    *,
    actor: str,
) -> None:
    """Change a shop; a blank `app_secret` leaves the stored one as it is."""
    changed = [
        field for field, value in (("name", name), ("app_key", app_key)) if getattr(shop, field) != value
    ]
    shop.name, shop.app_key = name, app_key
    if app_secret:
        shop.app_secret = app_secret
        changed.append("app_secret")
    if sorted(w.id for w in shop.warehouses) != sorted(warehouse_ids):
        shop.warehouses = _warehouses(session, warehouse_ids)
        changed.append("warehouses")
    if changed:
        session.add(
            AuditLog(
                actor=actor, action="shop.update", target=f"shop:{shop.shop_id}", detail={"changed": changed}
            )
        )


def reauthorise_shop(session: Session, shop: Shop, auth_code: str, *, actor: str) -> None:
    """Forget the shop's tokens so the sync creates new ones (with a new auth code, if given)."""
    if auth_code:
        shop.auth_code = auth_code
    shop.access_token = shop.refresh_token = None
    shop.token_expires_at = shop.refresh_expires_at = None
    detail = {"auth_code_given": bool(auth_code)}
    session.add(
        AuditLog(actor=actor, action="shop.reauthorise", target=f"shop:{shop.shop_id}", detail=detail)
    )
