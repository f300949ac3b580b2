"""The packing floor: stations, operators, the scan journal and the exceptions awaiting a lead."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import CREATED, Base, DouyinId, EnumText
from server.scanclock import ClockFlag
from shipgate.wire import Decision, Forwarding, LocalReason, Reason, ScanMode, Source, station_reason

DECISION = EnumText(Decision, 8)
REASON = EnumText(Reason, 32)
STATION_REASON = EnumText(station_reason, 32)  # a wire Reason or a station's own LocalReason
MODE = EnumText(ScanMode, 16)


class ExceptionStatus(enum.StrEnum):
    OPEN = "open"
    CLEARED = "cleared"


class Station(Base):
    __tablename__ = "stations"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the token
    token_hint: Mapped[str] = mapped_column(String(8), default="")
    mode: Mapped[ScanMode] = mapped_column(MODE, default=ScanMode.BENCH)
    created_at: Mapped[datetime] = mapped_column(info=CREATED)
    revoked_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]
    health: Mapped[dict] = mapped_column(default=dict)  # the last heartbeat body

    warehouse = relationship("Warehouse")


class Operator(Base):
    """A packer or lead at the bench, known by the badge they scan (SG-OP-<badge>)."""

    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    badge: Mapped[str] = mapped_column(String(48), unique=True)
    warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouses.id"))
    is_lead: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(info=CREATED)


class Scan(Base):
    """The journal: one row per scan a station made, stored once per (station, scan_id)."""

    __tablename__ = "scans"
    __table_args__ = (
        UniqueConstraint("station_id", "scan_id"),
        Index("ix_scans_warehouse_received", "warehouse_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    scan_id: Mapped[str] = mapped_column(String(64), index=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    code: Mapped[str] = mapped_column(String(128))
    code_kind: Mapped[str] = mapped_column(String(16))
    operator: Mapped[str | None] = mapped_column(String(48))
    mode: Mapped[ScanMode] = mapped_column(MODE, default=ScanMode.BENCH)
    scanned_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(info=CREATED)
    decision: Mapped[Decision] = mapped_column(DECISION)
    reason: Mapped[Reason] = mapped_column(REASON)
    order_id: Mapped[str | None] = mapped_column(DouyinId, index=True)
    sku_out: Mapped[list] = mapped_column(default=list)
    gate_version: Mapped[int] = mapped_column(default=0)
    source: Mapped[Source] = mapped_column(EnumText(Source, 8), default=Source.ONLINE)  # online | offline
    station_decision: Mapped[Decision | None] = mapped_column(DECISION)
    station_reason: Mapped[Reason | LocalReason | None] = mapped_column(STATION_REASON)
    station_gate_version: Mapped[int | None]
    # The inline gate: whether this PASS was typed into the packing PC (None: not forwarded by design)
    forward_state: Mapped[Forwarding | None] = mapped_column(EnumText(Forwarding, 12))
    forward_at: Mapped[datetime | None]
    forward_problem: Mapped[str | None] = mapped_column(String(200))
    # The station's clock (server.scanclock; migration 0007). claimed_at: the station's own time,
    # kept only when it was too far from the server's and scanned_at holds the server's instead.
    claimed_at: Mapped[datetime | None]
    clock_skew_s: Mapped[float | None] = mapped_column(Float)
    clock_flag: Mapped[ClockFlag | None] = mapped_column(EnumText(ClockFlag, 16))
    clock_synced: Mapped[bool | None]
    boot_id: Mapped[str | None] = mapped_column(String(64))
    mono_s: Mapped[float | None] = mapped_column(Float)

    station: Mapped[Station] = relationship()


class ScanException(Base):
    """A blocked or held scan awaiting a lead. Exactly one per such scan."""

    __tablename__ = "exceptions"
    __table_args__ = (Index("ix_exceptions_open", "warehouse_id", "status", "opened_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    scan_pk: Mapped[int] = mapped_column(ForeignKey("scans.id"), unique=True)
    scan_id: Mapped[str] = mapped_column(String(64), index=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    order_id: Mapped[str | None] = mapped_column(DouyinId, index=True)
    decision: Mapped[Decision] = mapped_column(DECISION)
    reason: Mapped[Reason | LocalReason] = mapped_column(STATION_REASON)  # the station's, if it stopped it
    status: Mapped[ExceptionStatus] = mapped_column(
        EnumText(ExceptionStatus, 8), default=ExceptionStatus.OPEN
    )
    opened_at: Mapped[datetime] = mapped_column(info=CREATED)
    cleared_at: Mapped[datetime | None]
    cleared_by: Mapped[str | None] = mapped_column(String(64))
    resolution: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(String(500))

    scan: Mapped[Scan] = relationship()
    station: Mapped[Station] = relationship()


class AuditLog(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(info=CREATED, index=True)
    actor: Mapped[str] = mapped_column(String(64))  # "user:<name>", "station:<name>", "cli", "system"
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(128), default="")
    detail: Mapped[dict] = mapped_column(default=dict)
