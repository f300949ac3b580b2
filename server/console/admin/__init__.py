"""Administration (admins only): stations, operators and badges, users, shops, the audit log."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import func, select

from server.console import queries
from server.console.admin import people, sheets, shops, stations
from server.console.auth import require_admin
from server.db import get_session
from server.models import Operator, Shop, Station
from server.models.users import User

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(require_admin)
for _child in (stations.bp, people.bp, shops.bp, sheets.bp):
    bp.register_blueprint(_child)


@bp.get("/")
def index():
    """What there is to administer, with how many of each."""
    db = get_session()
    counts = {
        model.__tablename__: db.scalar(select(func.count()).select_from(model))
        for model in (Station, Operator, User, Shop)
    }
    return render_template("console/admin/index.html", counts=counts)


@bp.get("/audit")
def audit():
    """The newest 200 entries of the audit log."""
    return render_template("console/admin/audit.html", entries=queries.recent_audit(get_session()))
