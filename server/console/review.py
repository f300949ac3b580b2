"""The monthly review (复盘) of a warehouse: charts drawn on the server, the Excel workbook, and
the handbook of resolved incidents (what worked)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from markupsafe import Markup
from sqlalchemy import func, select

from server import clock
from server.console import queries
from server.console.auth import scope_from_request
from server.db import get_session
from server.handover import Funnel
from server.incidents import export
from server.incidents.charts import review_charts
from server.incidents.facts import handbook, month_facts
from server.incidents.queries import refund_funnel
from server.incidents.review import compare, month_of, month_range, parse_month, previous_month, review
from server.models import Scan, Station, Warehouse

bp = Blueprint("review", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def picked_month() -> str:
    """?month=YYYY-MM, or this month; a malformed one is a 400."""
    raw = request.args.get("month", "")
    if not raw:
        return month_of(clock.current().now())
    try:
        return parse_month(raw)
    except ValueError:
        abort(400)


def both_months(month: str, warehouse_id: int | None):
    db = get_session()
    current = review(month_facts(db, month, warehouse_id))
    return current, review(month_facts(db, previous_month(month), warehouse_id))


@bp.get("/review")
def index():
    """A month of one warehouse (or all) against the month before, with charts."""
    db, warehouse_id, month = get_session(), scope_from_request(), picked_month()
    current, previous = both_months(month, warehouse_id)
    charts = {name: Markup(svg) for name, svg in review_charts(current).items()}  # built from escaped text
    return render_template(
        "console/review/index.html", r=current, previous=previous, comparisons=compare(current, previous),
        charts=charts, month=month, warehouses=queries.warehouses(db), picked=warehouse_id,
        funnel=month_funnel(db, month, warehouse_id),
        clock_flags=clock_flagged(db, month, warehouse_id),
    )  # fmt: skip


def clock_flagged(db, month: str, warehouse_id: int | None) -> list[tuple[str, str, int]]:
    """Scans of the month whose station clock was flagged (server.scanclock), per station and flag."""
    start, end = month_range(month)
    query = (
        select(Station.name, Scan.clock_flag, func.count())
        .join(Station, Station.id == Scan.station_id)
        .where(Scan.received_at >= start, Scan.received_at < end, Scan.clock_flag.is_not(None))
        .group_by(Station.name, Scan.clock_flag)
        .order_by(Station.name, Scan.clock_flag)
    )
    if warehouse_id is not None:
        query = query.where(Scan.warehouse_id == warehouse_id)
    return [(name, flag, count) for name, flag, count in db.execute(query)]


def month_funnel(db, month: str, warehouse_id: int | None) -> Funnel:
    """Refunds of the month: reached the warehouse, blocked at packing, at handover, shipped, intercepted."""
    start, end = month_range(month)
    return refund_funnel(db, warehouse_id, start, end)


@bp.get("/review/export.xlsx")
def export_xlsx():
    """The same month as an Excel workbook, one sheet per breakdown."""
    db, warehouse_id, month = get_session(), scope_from_request(), picked_month()
    current, previous = both_months(month, warehouse_id)
    house = db.get(Warehouse, warehouse_id) if warehouse_id else None
    body = export.workbook(current, previous, handbook(db, warehouse_id), house.name if house else "全部仓库")
    headers = {"Content-Disposition": f'attachment; filename="shipgate-review-{month}.xlsx"'}
    return current_app.response_class(body, mimetype=XLSX, headers=headers)


@bp.get("/review/handbook")
def handbook_page():
    """Resolved incidents and what worked: outcome, interception, message used, cause, notes."""
    db, warehouse_id = get_session(), scope_from_request()
    return render_template(
        "console/review/handbook.html", rows=handbook(db, warehouse_id), warehouses=queries.warehouses(db),
        picked=warehouse_id,
    )  # fmt: skip
