"""What the console reads about incidents and robots. Read-only functions of a session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from server.incidents.timeline import people_of, person
from server.incidents.workflow import State, follow_up_label
from server.models import Station, Warehouse
from server.models.incidents import Incident, Robot, RobotMessage

LIST_LIMIT = 300


@dataclass(frozen=True)
class IncidentRow:
    id: int
    order_id: str
    state: str
    follow_up: str
    warehouse: str
    station: str
    packer: str
    goods: str
    goods_value: int
    tracking_no: str
    detected_at: datetime
    race_window_s: int | None


def _scoped(query, warehouse_id: int | None):
    return query if warehouse_id is None else query.where(Incident.warehouse_id == warehouse_id)


def incident_rows(session: Session, warehouse_id: int | None, limit: int = LIST_LIMIT) -> list[IncidentRow]:
    """Open incidents first (newest first), then closed ones."""
    query = _scoped(
        select(Incident, Station.name, Warehouse.name)
        .outerjoin(Station, Station.id == Incident.station_id)
        .outerjoin(Warehouse, Warehouse.id == Incident.warehouse_id)
        .order_by(
            case((Incident.state == State.CLOSED.value, 1), else_=0),
            Incident.detected_at.desc(),
            Incident.id.desc(),
        )
        .limit(limit),
        warehouse_id,
    )
    found = session.execute(query).all()
    people = people_of(session, {i.packer for i, _s, _w in found if i.packer})
    return [
        IncidentRow(
            id=i.id,
            order_id=i.order_id,
            state=i.state,
            follow_up=follow_up_label(i),
            warehouse=house or "—",
            station=station or "—",
            packer=person(i.packer, people) if i.passed_at else "—",
            goods="、".join(f"{g['name'] or g['sku_order_id']} ×{g['num']}" for g in i.goods) or "—",
            goods_value=i.goods_value,
            tracking_no=i.tracking_no or "—",
            detected_at=i.detected_at,
            race_window_s=i.race_window_s,
        )
        for i, station, house in found
    ]


def open_count(session: Session, warehouse_id: int | None) -> int:
    query = select(func.count()).select_from(Incident).where(Incident.state != State.CLOSED.value)
    return session.scalar(_scoped(query, warehouse_id)) or 0


def incident(session: Session, incident_id: int) -> Incident | None:
    return session.scalar(
        select(Incident)
        .where(Incident.id == incident_id)
        .options(selectinload(Incident.events), selectinload(Incident.station))
    )


@dataclass(frozen=True)
class RobotRow:
    robot: Robot
    pending: int
    sent: int
    given_up: int


def robot_rows(session: Session) -> list[RobotRow]:
    counts: dict[tuple[int, str], int] = {
        (robot_id, status): n
        for robot_id, status, n in session.execute(
            select(RobotMessage.robot_id, RobotMessage.status, func.count()).group_by(
                RobotMessage.robot_id, RobotMessage.status
            )
        )
    }
    robots = session.scalars(select(Robot).options(selectinload(Robot.warehouse)).order_by(Robot.name))
    return [
        RobotRow(
            r,
            counts.get((r.id, "pending"), 0),
            counts.get((r.id, "sent"), 0),
            counts.get((r.id, "given_up"), 0),
        )
        for r in robots
    ]


def recent_messages(session: Session, limit: int = 30) -> list[RobotMessage]:
    return list(
        session.scalars(
            select(RobotMessage)
            .options(selectinload(RobotMessage.robot))
            .order_by(RobotMessage.created_at.desc(), RobotMessage.id.desc())
            .limit(limit)
        )
    )


def refund_funnel(session: Session, warehouse_id: int | None, start, end):
    """server.handover.funnel with the shipped (an incident opened) and intercepted orders filled in."""
    from server.handover import funnel
    from server.incidents.workflow import Outcome

    shipped, intercepted = set(), set()
    for order_id, outcome in session.execute(select(Incident.order_id, Incident.outcome)):
        shipped.add(order_id)
        if outcome == Outcome.INTERCEPTED:
            intercepted.add(order_id)
    return funnel(session, warehouse_id, start, end, shipped=shipped, intercepted=intercepted)
