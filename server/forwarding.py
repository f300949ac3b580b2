"""The inline gate on the server: whether each PASS reached the packing PC, and the ones that did not.

A station with `[forward]` types every PASS into the packing PC, whose ERP then prints the waybill.
It reports each attempt (POST /api/v1/scans/forwarding, see shipgate.wire) after the scan itself is
on the server; the report is stored on the scan row once and never changed. A PASS that was not
forwarded (failed, or interrupted) means its waybill did not print: the exception queue and the
order page show it until a later scan of the same order was forwarded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session, aliased

from server.models import Scan, Station
from shipgate.wire import Decision, ForwardAnswer, Forwarding, ForwardReport

NOT_FORWARDED = (Forwarding.FAILED, Forwarding.UNKNOWN)
SHOWN_FOR = timedelta(hours=24)  # how long an unforwarded PASS stays on the queue page


@dataclass(frozen=True)
class Unforwarded:
    scan_pk: int
    order_id: str | None
    code: str
    station: str
    operator: str | None
    state: Forwarding
    problem: str | None
    at: datetime | None
    scanned_at: datetime


def record(session: Session, station_id: int, reports: Sequence[ForwardReport]) -> list[ForwardAnswer]:
    """Store each report on the station's own scan; the answer per report, in order. Commits."""
    ids = {r.scan_id for r in reports}
    scans = {
        s.scan_id: s
        for s in session.scalars(select(Scan).where(Scan.station_id == station_id, Scan.scan_id.in_(ids)))
    }
    results = []
    for report in reports:
        scan = scans.get(report.scan_id)
        if scan is None:
            results.append(ForwardAnswer(report.scan_id, False, "unknown_scan"))
            continue
        if Decision.PASS not in (scan.decision, scan.station_decision):
            results.append(ForwardAnswer(report.scan_id, False, "not_pass"))
            continue
        if scan.forward_state is None:  # the first report stands
            scan.forward_state, scan.forward_at = report.state, report.at
            scan.forward_problem = (report.problem or None) and report.problem[:200]
        results.append(ForwardAnswer(report.scan_id, True))
    session.commit()
    return results


def unforwarded_passes(session: Session, warehouse_id: int | None, now: datetime) -> list[Unforwarded]:
    """PASS scans of the last day whose code never reached the packing PC (no waybill printed),
    newest first, unless a later scan of the same order was forwarded."""
    later = aliased(Scan)
    forwarded_since = exists().where(
        and_(
            later.order_id == Scan.order_id,
            later.forward_state == Forwarding.FORWARDED,
            later.scanned_at > Scan.scanned_at,
        )
    )
    query = (
        select(Scan, Station.name)
        .join(Station, Station.id == Scan.station_id)
        .where(Scan.forward_state.in_(NOT_FORWARDED), Scan.received_at >= now - SHOWN_FOR, ~forwarded_since)
        .order_by(Scan.scanned_at.desc())
        .limit(200)
    )
    if warehouse_id is not None:
        query = query.where(Scan.warehouse_id == warehouse_id)
    return [
        Unforwarded(
            s.id,
            s.order_id,
            s.code,
            name,
            s.operator,
            s.forward_state,
            s.forward_problem,
            s.forward_at,
            s.scanned_at,
        )  # fmt: skip
        for s, name in session.execute(query)
    ]
