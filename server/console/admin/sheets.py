"""Printable sheets: operators' badges and the leads' resolution sheet, as QR codes."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import select

from server.clearing import LEAD_RESOLUTIONS, RESOLUTION_LABELS
from server.console import queries
from server.console.barcodes import qr_data_uri
from server.db import get_session
from server.models import Operator

bp = Blueprint("sheets", __name__)


@bp.get("/badges")
def badges():
    """A sheet of badges (SG-OP-<badge>) for active operators, optionally of one warehouse."""
    db = get_session()
    query = select(Operator).where(Operator.active.is_(True)).order_by(Operator.name)
    picked = request.args.get("warehouse", "")
    if picked.isdigit() and len(picked) < 10:
        query = query.where(Operator.warehouse_id == int(picked))
    cards = [(op, "SG-OP-" + op.badge, qr_data_uri("SG-OP-" + op.badge)) for op in db.scalars(query)]
    return render_template("console/admin/badges.html", cards=cards, warehouses=queries.warehouses(db))


@bp.get("/resolution-sheet")
def resolution_sheet():
    """The sheet a lead scans at the bench after a slip's QR: one code per resolution."""
    lines = [
        (RESOLUTION_LABELS[r], f"SG-RS-{r.value}", qr_data_uri(f"SG-RS-{r.value}")) for r in LEAD_RESOLUTIONS
    ]
    return render_template("console/admin/resolution_sheet.html", lines=lines)
