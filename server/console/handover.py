"""Handover (交接) and drills (演练): manifests per courier, parcels packed but not handed over,
the funnel, printing drill codes."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import Blueprint, current_app, g, render_template, request

from server import clock, drills, handover
from server.console import queries
from server.console.auth import scope_from_request
from server.console.barcodes import qr_data_uri
from server.console.labels import CHINA
from server.db import get_session
from server.incidents.queries import refund_funnel
from server.models import AuditLog

bp = Blueprint("handover", __name__)


def _day() -> tuple[datetime, datetime, str]:
    """The chosen day (China time) as a UTC range, from ?date=YYYY-MM-DD, default today."""
    raw = request.args.get("date", "")
    try:
        day = (
            datetime.strptime(raw, "%Y-%m-%d").date()
            if raw
            else clock.current().now().astimezone(CHINA).date()
        )
    except ValueError:
        day = clock.current().now().astimezone(CHINA).date()
    start = datetime.combine(day, time(), CHINA)
    return start, start + timedelta(days=1), day.isoformat()


@bp.get("/handover")
def index():
    """The day's handover manifests per courier, what was packed but not handed over, the funnel."""
    db, warehouse_id = get_session(), scope_from_request()
    start, end, day = _day()
    settings = current_app.extensions["shipgate.settings"]
    hour, minute = (int(x) for x in settings.handover_cutoff.split(":"))
    cutoff = start.replace(hour=hour, minute=minute)
    return render_template(
        "console/handover.html",
        day=day,
        pickups=handover.manifest(db, warehouse_id, start, end),
        missing=handover.not_handed_over(db, warehouse_id, start, end),
        past_cutoff=clock.current().now() >= cutoff,
        cutoff=settings.handover_cutoff,
        funnel=refund_funnel(db, warehouse_id, start, end),
        warehouses=queries.warehouses(db),
    )


@bp.get("/drills")
def drill_index():
    """Each station's drills: the last one that passed, and whether one is failed or overdue."""
    db = get_session()
    every = timedelta(hours=current_app.extensions["shipgate.settings"].drill_every_h)
    states = drills.by_station(db, clock.current().now(), every)
    stations = queries.stations_state(db, scope_from_request(), clock.current().now())
    return render_template("console/drills.html", stations=stations, states=states, every=every)


@bp.post("/drills")
def drill_print():
    """Print drill codes: any station scanning one must BLOCK with a red slip marked 演练."""
    db, user = get_session(), g.user
    raw = request.form.get("count", "4")
    count = int(raw) if raw.isdigit() and 1 <= int(raw) <= 20 else 4
    codes = drills.issue(db, count, actor=f"user:{user.name}", warehouse_id=user.warehouse_id)
    db.add(AuditLog(actor=f"user:{user.name}", action="drill.issue", target="", detail={"count": count}))
    db.commit()
    return render_template("console/drill_sheet.html", cards=[(code, qr_data_uri(code)) for code in codes])
