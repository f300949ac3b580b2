"""The courier handover point (交接): manifests per courier, parcels packed but never handed over,
the parcel timeline, and the funnel from refunds reaching the warehouse to interceptions.

Everything here is read from the scan journal: a bench PASS is "packed", a handover PASS is
"handed over", Douyin's ship time is "shipped". Drill scans (reason `drill`) never count.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from server.models import AfterSale, Order, Scan, Station, Waybill
from shipgate.codes import classify
from shipgate.wire import Decision, Reason, ScanMode


@dataclass(frozen=True)
class ManifestLine:
    scanned_at: datetime
    code: str
    order_id: str | None
    station: str
    operator: str | None


@dataclass
class Pickup:
    courier: str
    lines: list[ManifestLine] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.lines)


def courier_of(code: str, company: str | None) -> str:
    """The courier a parcel goes with: the waybill's company, else the tracking number's pattern."""
    if company:
        return company
    return classify(code).carrier or "未知快递"


def manifest(session: Session, warehouse_id: int | None, start: datetime, end: datetime) -> list[Pickup]:
    """Handover PASS scans between start and end, per courier (交接单)."""
    query = (
        select(Scan, Station.name, Waybill.company)
        .join(Station, Station.id == Scan.station_id)
        .outerjoin(Waybill, and_(Waybill.tracking_no == Scan.code, Waybill.order_id == Scan.order_id))
        .where(
            Scan.mode == ScanMode.HANDOVER,
            Scan.decision == Decision.PASS,
            Scan.received_at >= start,
            Scan.received_at < end,
        )
        .order_by(Scan.received_at)
    )
    if warehouse_id is not None:
        query = query.where(Scan.warehouse_id == warehouse_id)
    pickups: dict[str, Pickup] = {}
    seen: set[str] = set()
    for scan, station, company in session.execute(query):
        if scan.order_id in seen:  # a parcel scanned twice goes into the cage once
            continue
        seen.add(scan.order_id)
        courier = courier_of(scan.code, company)
        line = ManifestLine(scan.scanned_at, scan.code, scan.order_id, station, scan.operator)
        pickups.setdefault(courier, Pickup(courier)).lines.append(line)
    return sorted(pickups.values(), key=lambda p: p.courier)


def not_handed_over(session: Session, warehouse_id: int | None, start: datetime, end: datetime) -> list[Scan]:
    """Parcels packed (bench PASS) between start and end that no handover station has passed since."""
    handed = select(Scan.order_id).where(
        Scan.mode == ScanMode.HANDOVER, Scan.decision == Decision.PASS, Scan.order_id.is_not(None)
    )
    query = (
        select(Scan)
        .where(
            Scan.mode == ScanMode.BENCH,
            Scan.decision == Decision.PASS,
            Scan.order_id.is_not(None),
            Scan.received_at >= start,
            Scan.received_at < end,
            Scan.order_id.not_in(handed),
        )
        .order_by(Scan.received_at)
    )
    if warehouse_id is not None:
        query = query.where(Scan.warehouse_id == warehouse_id)
    first: dict[str, Scan] = {}
    for scan in session.scalars(query):
        first.setdefault(scan.order_id, scan)
    return list(first.values())


@dataclass(frozen=True)
class Timeline:
    packed_at: datetime | None
    handed_over_at: datetime | None
    shipped_at: int | None  # Douyin ship_time, Unix seconds


def timeline(session: Session, order_id: str) -> Timeline:
    def first_pass(mode: str) -> datetime | None:
        return session.scalar(
            select(func.min(Scan.scanned_at)).where(
                Scan.order_id == order_id, Scan.mode == mode, Scan.decision == Decision.PASS
            )
        )

    order = session.get(Order, order_id)
    return Timeline(
        first_pass(ScanMode.BENCH), first_pass(ScanMode.HANDOVER), order.ship_time if order else None
    )


@dataclass
class Funnel:
    """Refunds in a period: how many reached the warehouse and where they were stopped."""

    reached: int = 0
    blocked_at_packing: int = 0
    blocked_at_handover: int = 0
    shipped: int = 0
    intercepted: int = 0
    time_to_block_s: list[float] = field(default_factory=list)

    @property
    def median_time_to_block_s(self) -> float | None:
        return statistics.median(self.time_to_block_s) if self.time_to_block_s else None


def funnel(
    session: Session,
    warehouse_id: int | None,
    start: datetime,
    end: datetime,
    *,
    shipped: set[str] = frozenset(),
    intercepted: set[str] = frozenset(),
) -> Funnel:
    """Orders whose refund succeeded in [start, end) and that were scanned in this warehouse.
    `shipped` / `intercepted`: order ids of incidents (shipped after refund) and of those intercepted."""
    refunded = {
        order_id: when
        for order_id, when in session.execute(
            select(AfterSale.order_id, func.min(AfterSale.update_time))
            .where(
                AfterSale.refund_succeeded,
                AfterSale.update_time >= int(start.timestamp()),
                AfterSale.update_time < int(end.timestamp()),
            )
            .group_by(AfterSale.order_id)
        )
    }
    result = Funnel()
    if not refunded:
        return result
    query = select(Scan.order_id, Scan.mode, Scan.decision, Scan.reason, Scan.received_at).where(
        Scan.order_id.in_(list(refunded)), Scan.reason != Reason.DRILL
    )
    if warehouse_id is not None:
        query = query.where(Scan.warehouse_id == warehouse_id)
    scans: dict[str, list] = {}
    for row in session.execute(query.order_by(Scan.received_at)):
        scans.setdefault(row.order_id, []).append(row)
    for order_id, rows in scans.items():
        result.reached += 1
        blocks = [r for r in rows if r.decision == Decision.BLOCK]
        if any(r.mode == ScanMode.BENCH for r in blocks):
            result.blocked_at_packing += 1
        elif any(r.mode == ScanMode.HANDOVER for r in blocks):
            result.blocked_at_handover += 1
        if blocks:
            result.time_to_block_s.append(max(0.0, blocks[0].received_at.timestamp() - refunded[order_id]))
    result.shipped = len(shipped & set(scans))
    result.intercepted = len(intercepted & set(scans))
    return result
