"""Parcels shipped after a refund: the incidents, their steps, buyer-contact templates, and the
group robots that alert the leads (with the outbox their messages wait in).

No buyer phone number or address is stored anywhere: contact goes through Douyin's own channels.
Money is in fen (integers). An order has at most one incident, ever (unique order_id).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import CREATED, TOUCHED, Base, DouyinId
from server.secretbox import Encrypted

LEDGER_FIELDS = ("goods_value", "return_freight", "compensation", "coupon", "claim_recovered", "written_off")


class Incident(Base):
    """退款后已发货: a refund succeeded on an order whose parcel had passed the gate or shipped."""

    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_state_detected", "state", "detected_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.order_id"), unique=True)
    shop_id: Mapped[str] = mapped_column(String(20))
    warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouses.id"), index=True)
    trigger: Mapped[str] = mapped_column(String(24))  # refund_after_pass | refund_after_ship | offline_pass
    # What was known when it was detected (Douyin's records can move on later).
    aftersale_id: Mapped[str | None] = mapped_column(DouyinId)
    refund_amount: Mapped[int | None]
    refund_applied_at: Mapped[datetime | None]
    refund_succeeded_at: Mapped[datetime | None]
    goods: Mapped[list] = mapped_column(default=list)  # [{sku_order_id, name, code, category, num, price}]
    tracking_no: Mapped[str | None] = mapped_column(String(40))
    company: Mapped[str] = mapped_column(String(64), default="")
    pass_scan_pk: Mapped[int | None] = mapped_column(ForeignKey("scans.id"))
    passed_at: Mapped[datetime | None]
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    packer: Mapped[str | None] = mapped_column(String(48))  # operator badge
    shipped_at: Mapped[datetime | None]  # Douyin's ship_time
    race_window_s: Mapped[int | None]  # PASS minus refund success: > 0 the gate was late
    detected_at: Mapped[datetime] = mapped_column(info=CREATED)
    # The workflow (server.incidents.workflow).
    state: Mapped[str] = mapped_column(String(24), default="open")
    outcome: Mapped[str | None] = mapped_column(String(24))
    inspection: Mapped[str | None] = mapped_column(String(16))
    cause: Mapped[str | None] = mapped_column(String(24))
    cause_note: Mapped[str | None] = mapped_column(String(500))
    closed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(info=TOUCHED)
    # The loss ledger, in fen.
    goods_value: Mapped[int] = mapped_column(default=0)
    return_freight: Mapped[int] = mapped_column(default=0)
    compensation: Mapped[int] = mapped_column(default=0)
    coupon: Mapped[int] = mapped_column(default=0)
    claim_recovered: Mapped[int] = mapped_column(default=0)
    written_off: Mapped[int] = mapped_column(default=0)

    events: Mapped[list[IncidentEvent]] = relationship(
        back_populates="incident", order_by="IncidentEvent.id", cascade="all, delete-orphan"
    )
    station = relationship("Station")
    warehouse = relationship("Warehouse")


class IncidentEvent(Base):
    """One step of an incident's handling: who, when, what, and the state it moved between."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(info=CREATED)
    actor: Mapped[str] = mapped_column(String(64))  # "user:<name>" or "system"
    kind: Mapped[str] = mapped_column(String(24))
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str | None] = mapped_column(String(24))
    detail: Mapped[dict] = mapped_column(default=dict)

    incident: Mapped[Incident] = relationship(back_populates="events")


class ContactTemplate(Base):
    """A buyer-contact message for one situation; defaults are seeded, admins edit them."""

    __tablename__ = "contact_templates"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(info=CREATED)
    updated_by: Mapped[str] = mapped_column(String(64), default="system")


class Robot(Base):
    """A group robot (WeCom, DingTalk or Feishu) told about every new incident. The webhook URL
    carries the robot's token and the secret signs requests: both are write-only in the console."""

    __tablename__ = "robots"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # wecom | dingtalk | feishu
    webhook_url: Mapped[str] = mapped_column(Encrypted)  # encrypted at rest (server.secretbox)
    secret: Mapped[str | None] = mapped_column(Encrypted)
    warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouses.id"))  # None: every one
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(info=CREATED)
    last_ok_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    last_error_at: Mapped[datetime | None]

    warehouse = relationship("Warehouse")

    def __repr__(self) -> str:  # never show the URL's token or the secret
        return f"<Robot {self.name!r} {self.kind}>"


class RobotMessage(Base):
    """The outbox: a message is stored first, in the detecting transaction, and sent after by
    server.incidents.robots.RobotSender, retried with backoff until sent or given up."""

    __tablename__ = "robot_outbox"
    __table_args__ = (Index("ix_robot_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    robot_id: Mapped[int] = mapped_column(ForeignKey("robots.id", ondelete="CASCADE"), index=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(128))
    lines: Mapped[list] = mapped_column(default=list)  # plain lines; the link path is added to the end
    link_path: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | sent | given_up
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(info=CREATED)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(info=CREATED)
    sent_at: Mapped[datetime | None]

    robot: Mapped[Robot] = relationship()


class AlertSettings(Base):
    """One row: the console's address as the leads' phones reach it, for links in robot messages."""

    __tablename__ = "alert_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_base_url: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(info=CREATED)
    updated_by: Mapped[str] = mapped_column(String(64), default="system")
