"""Douyin sync bookkeeping: per-shop stream state with its lease, and the webhook inbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import CREATED, Base


class SyncState(Base):
    """One row per (shop, stream). `bookmark` moves only after the records it covers commit."""

    __tablename__ = "sync_state"

    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.shop_id"), primary_key=True)
    stream: Mapped[str] = mapped_column(String(32), primary_key=True)  # "aftersales" | "orders"
    bookmark: Mapped[int] = mapped_column(default=0)  # Unix seconds of the last committed update_time
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    last_error_at: Mapped[datetime | None]
    records_total: Mapped[int] = mapped_column(default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]


class WebhookMessage(Base):
    """Every Douyin push, stored before it is acknowledged, keyed by msg_id."""

    __tablename__ = "webhook_inbox"

    msg_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tag: Mapped[str] = mapped_column(String(8))
    app_id: Mapped[str] = mapped_column(String(64), default="")
    # The shops whose app secret verified the push (comma-separated): all it may ever touch.
    signed_by: Mapped[str | None] = mapped_column(Text)
    data: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(info=CREATED)
    applied_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(500))
