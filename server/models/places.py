"""Warehouses and the Douyin shops that ship from them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import CREATED, Base, DouyinId
from server.secretbox import Encrypted

warehouse_shops = Table(
    "warehouse_shops",
    Base.metadata,
    Column("warehouse_id", ForeignKey("warehouses.id", ondelete="CASCADE"), primary_key=True),
    Column("shop_id", ForeignKey("shops.shop_id", ondelete="CASCADE"), primary_key=True),
)


class Warehouse(Base):
    __tablename__ = "warehouses"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(info=CREATED)

    shops: Mapped[list[Shop]] = relationship(secondary=warehouse_shops, back_populates="warehouses")


class Shop(Base):
    """A Douyin shop and its app credentials. Secrets are write-only in every interface and
    encrypted at rest (server.secretbox)."""

    __tablename__ = "shops"

    shop_id: Mapped[str] = mapped_column(DouyinId, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    app_key: Mapped[str] = mapped_column(String(64), default="")
    app_secret: Mapped[str] = mapped_column(Encrypted, default="")
    auth_code: Mapped[str | None] = mapped_column(Encrypted)
    access_token: Mapped[str | None] = mapped_column(Encrypted)
    refresh_token: Mapped[str | None] = mapped_column(Encrypted)
    token_expires_at: Mapped[datetime | None]
    refresh_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(info=CREATED)

    warehouses: Mapped[list[Warehouse]] = relationship(secondary=warehouse_shops, back_populates="shops")

    def __repr__(self) -> str:  # never show secrets
        return f"<Shop {self.shop_id} {self.name!r}>"
