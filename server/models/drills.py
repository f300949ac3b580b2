"""Drills (演练): printed codes that every station must BLOCK, proving its gate works."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import CREATED, Base


class Drill(Base):
    """A drill code a lead printed (SG-DR-<token>)."""

    __tablename__ = "drills"

    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouses.id"))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(info=CREATED)


class DrillRun(Base):
    """One scan of a drill code at a station: passed when the station blocked it."""

    __tablename__ = "drill_runs"
    __table_args__ = (Index("ix_drill_runs_station_at", "station_id", "scanned_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    token: Mapped[str] = mapped_column(ForeignKey("drills.token"))
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    scan_id: Mapped[str] = mapped_column(String(64))
    scanned_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(info=CREATED)
    passed: Mapped[bool]
