"""The floor: stations and their health, the Douyin sync per shop, today's counts."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, render_template

from server import clock, drills
from server.console import queries
from server.console.auth import scope_from_request
from server.console.labels import start_of_today
from server.db import get_session

bp = Blueprint("floor", __name__)


def _floor_data() -> dict:
    db, now, warehouse_id = get_session(), clock.current().now(), scope_from_request()
    every = timedelta(hours=current_app.extensions["shipgate.settings"].drill_every_h)
    return {
        "drills": drills.by_station(db, now, every),
        "stations": queries.stations_state(db, warehouse_id, now),
        "syncs": queries.sync_health(db, now),
        "counts": queries.today_counts(db, warehouse_id, start_of_today(now)),
        "warehouses": queries.warehouses(db),
        "picked": warehouse_id,
    }


@bp.get("/floor")
def index():
    """The whole floor at a glance; it refreshes itself every 10 s."""
    return render_template("console/floor.html", **_floor_data())


@bp.get("/floor/live")
def live():
    """The floor's body alone, for console.js to poll."""
    return render_template("console/_floor_body.html", **_floor_data()), 200, {"Cache-Control": "no-store"}
