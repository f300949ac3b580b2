"""Stations: enrol (the token is shown once), rename, revoke."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from server.console import queries
from server.console.admin import services
from server.console.auth import actor
from server.console.errors import FieldError
from server.console.forms import Form, rename_form, station_form
from server.db import get_session
from server.models import Station

bp = Blueprint("stations", __name__, url_prefix="/stations")


def page(enrol: Form | None = None, rename: dict[int, Form] | None = None, status: int = 200):
    db = get_session()
    rows = db.scalars(select(Station).options(selectinload(Station.warehouse)).order_by(Station.name)).all()
    enrol = enrol or Form({"warehouse": "main", "mode": "bench"})
    return render_template(
        "console/admin/stations.html",
        stations=rows,
        form=enrol,
        rename=rename or {},
        warehouses=queries.warehouses(db),
    ), status


def load(station_id: int) -> Station:
    station = get_session().get(Station, station_id)
    if station is None:
        abort(404)
    return station


@bp.get("/")
def index():
    """Every station, revoked ones too, and the enrolment form."""
    return page()


@bp.post("/")
def enrol():
    """Enrol a station and show its token, this once only."""
    db, form = get_session(), station_form(request.form)
    if form.ok:
        values = form.values
        try:
            station, token = services.enrol_station(
                db, values["name"], values["warehouse"], values["mode"], actor=actor()
            )
        except FieldError as exc:
            db.rollback()
            form.error(exc.field, exc.message)
        else:
            db.commit()
            html = render_template("console/admin/station_token.html", station=station, token=token)
            return html, 200, {"Cache-Control": "no-store"}
    return page(enrol=form, status=400)


@bp.post("/<int:station_id>/rename")
def rename(station_id: int):
    """Give a station a new name (its token stays)."""
    db, station, form = get_session(), load(station_id), rename_form(request.form)
    if form.ok:
        try:
            services.rename_station(db, station, form.values["name"], actor=actor())
        except FieldError as exc:
            db.rollback()
            form.error(exc.field, exc.message)
        else:
            db.commit()
            flash(f"已改名为 {station.name}", "ok")
            return redirect(url_for(".index"))
    return page(rename={station_id: form}, status=400)


@bp.post("/<int:station_id>/revoke")
def revoke(station_id: int):
    """Revoke a station's token at once: its next request is refused."""
    db, station = get_session(), load(station_id)
    try:
        services.revoke_station(db, station, actor=actor())
    except FieldError as exc:
        db.rollback()
        flash(exc.message, "error")
        return page(status=400)
    db.commit()
    flash(f"已吊销工作站 {station.name}", "warn")
    return redirect(url_for(".index"))
