"""Drills: a lead prints drill codes; scanning one at any station must BLOCK with a red slip
marked 演练. Each scan is recorded per station, so the floor view can show which stations proved
their gate lately and flag those whose drill failed or is overdue. Drill scans never count in
statistics (their reason is `drill`), never open exceptions or incidents, never touch Douyin."""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Station
from server.models.drills import Drill, DrillRun
from server.stations import StationRef

DRILL_PREFIX = "SG-DR-"


class DrillState(enum.StrEnum):
    OK = "ok"
    OVERDUE = "overdue"
    FAILED = "failed"
    NEVER = "never"


def issue(session: Session, count: int, *, actor: str, warehouse_id: int | None = None) -> list[str]:
    """New drill codes (the caller commits and prints them)."""
    tokens = [secrets.token_hex(6) for _ in range(count)]
    session.add_all(Drill(token=t, warehouse_id=warehouse_id, created_by=actor) for t in tokens)
    return [DRILL_PREFIX + t for t in tokens]


def known(session: Session, token: str, warehouse_id: int) -> bool:
    """A drill code printed for this warehouse (or by an unbound admin, for every warehouse)."""
    drill = session.get(Drill, token)
    return drill is not None and drill.warehouse_id in (None, warehouse_id)


def record(
    session: Session, station: StationRef, scan_id: str, token: str, scanned_at: datetime, passed: bool
) -> bool:
    """Record a drill scan. False (nothing recorded) when the token is not one we printed for the
    station's warehouse. Runs are ordered by when the server received them (`recorded_at`), never
    by the time a station claims."""
    if not known(session, token, station.warehouse_id):
        return False
    session.add(
        DrillRun(token=token, station_id=station.id, scan_id=scan_id, scanned_at=scanned_at, passed=passed)
    )
    return True


@dataclass(frozen=True)
class StationDrill:
    state: DrillState
    last_passed_at: datetime | None
    last_run_at: datetime | None


def drill_state(
    last_run: DrillRun | None, last_pass: datetime | None, now: datetime, every: timedelta
) -> DrillState:
    """Pure: a failed latest run is FAILED; no pass within `every` is OVERDUE; none ever is NEVER."""
    if last_run is not None and not last_run.passed:
        return DrillState.FAILED
    if last_pass is None:
        return DrillState.NEVER
    return DrillState.OK if now - last_pass <= every else DrillState.OVERDUE


def by_station(session: Session, now: datetime, every: timedelta) -> dict[int, StationDrill]:
    result = {}
    for station_id in session.scalars(select(Station.id)):
        last_run = session.scalar(
            select(DrillRun)
            .where(DrillRun.station_id == station_id)
            .order_by(DrillRun.recorded_at.desc(), DrillRun.id.desc())
            .limit(1)
        )
        last_pass = session.scalar(
            select(DrillRun.recorded_at)
            .where(DrillRun.station_id == station_id, DrillRun.passed.is_(True))
            .order_by(DrillRun.recorded_at.desc(), DrillRun.id.desc())
            .limit(1)
        )
        state = drill_state(last_run, last_pass, now, every)
        result[station_id] = StationDrill(state, last_pass, last_run.recorded_at if last_run else None)
    return result
