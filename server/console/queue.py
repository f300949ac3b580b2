"""The exception queue (the home page) and clearing one exception."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from server import clearing, clock, forwarding
from server.console import queries
from server.console.auth import actor, admin_required, check_warehouse, scope_from_request
from server.console.forms import Form, clear_form, override_form
from server.db import get_session
from server.models import GateEntry, Operator, ScanException
from shipgate.wire import Decision, Reason

bp = Blueprint("queue", __name__)


@bp.get("/")
def index():
    """Open blocked and held scans, newest first; the table refreshes itself every 2 s."""
    db, warehouse_id = get_session(), scope_from_request()
    now = clock.current().now()
    rows = queries.open_exceptions(db, warehouse_id, now)
    return render_template(
        "console/queue.html", rows=rows, warehouses=queries.warehouses(db), picked=warehouse_id,
        unforwarded=forwarding.unforwarded_passes(db, warehouse_id, now),
    )  # fmt: skip


@bp.get("/queue/rows")
def rows():
    """The queue's table alone, for console.js to poll."""
    db, warehouse_id, now = get_session(), scope_from_request(), clock.current().now()
    rows = queries.open_exceptions(db, warehouse_id, now)
    unforwarded = forwarding.unforwarded_passes(db, warehouse_id, now)  # the inline gate
    response = render_template("console/_queue_rows.html", rows=rows, unforwarded=unforwarded)
    return response, 200, {"Cache-Control": "no-store"}


@bp.get("/exceptions/<int:exception_id>")
def exception(exception_id: int):
    """One exception: its scan, the order's gate state now, and how to clear it."""
    return render_exception(load_exception(exception_id), Form(), Form())


@bp.post("/exceptions/<int:exception_id>/clear")
def clear(exception_id: int):
    """Clear with a lead resolution; a refused one is shown beside its field and changes nothing."""
    exception, db = load_exception(exception_id), get_session()
    form = clear_form(request.form)
    if form.ok:
        try:
            clearing.clear(
                db, exception.id, form.values["resolution"], form.values["note"], actor=actor(), via="console"
            )
        except clearing.ClearingError as exc:
            db.rollback()
            refused(form, exc)
        else:
            db.commit()
            flash(f"已清除异常：{clearing.RESOLUTION_LABELS[form.values['resolution']]}", "ok")
            return redirect(url_for(".index"))
    return render_exception(exception, form, Form()), 400


@bp.post("/exceptions/<int:exception_id>/override")
@admin_required
def override(exception_id: int):
    """Release an order the gate still stops: admins only, with a reason, loudly audited."""
    exception, db = load_exception(exception_id), get_session()
    form = override_form(request.form)
    if form.ok:
        try:
            clearing.override(db, exception.id, form.values["note"], actor=actor())
        except clearing.ClearingError as exc:
            db.rollback()
            refused(form, exc)
        else:
            db.commit()
            flash(f"已强制放行订单 {exception.order_id}（已记录审计）", "warn")
            return redirect(url_for(".index"))
    return render_exception(exception, Form(), form), 400


def refused(form: Form, exc: clearing.ClearingError) -> None:
    """Show why beside the field, or at the top when it is about the exception or order itself."""
    if exc.gone or exc.field == "order":
        flash(exc.message, "error")
    else:
        form.error(exc.field, exc.message)


def load_exception(exception_id: int) -> ScanException:
    exception = get_session().get(ScanException, exception_id)
    if exception is None:
        abort(404)
    check_warehouse(exception.warehouse_id)
    return exception


def render_exception(exception: ScanException, clear: Form, release: Form) -> str:
    db = get_session()
    entry = db.get(GateEntry, exception.order_id) if exception.order_id else None
    badge = exception.scan.operator
    packer = db.scalar(select(Operator.name).where(Operator.badge == badge)) if badge else None
    return render_template(
        "console/exception.html",
        exception=exception,
        entry=entry,
        packer=packer,
        allowed=clearing.allowed_resolutions(db, exception),
        override_refusal=clearing.override_refusal(Decision(entry.decision), Reason(entry.reason))
        if entry
        else None,
        clear_form=clear,
        release_form=release,
    )
