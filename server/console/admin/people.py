"""People: operators and their badges (who packs at the bench), and console users."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from server.console import accounts, queries
from server.console.admin import services
from server.console.auth import actor
from server.console.errors import FieldError
from server.console.forms import Form, active_form, operator_form, role_form, user_form
from server.db import get_session
from server.models import Operator
from server.models.users import User

bp = Blueprint("people", __name__)


def load(model, pk: int):
    found = get_session().get(model, pk)
    if found is None:
        abort(404)
    return found


def operators_page(form: Form | None = None, status: int = 200):
    db = get_session()
    rows = db.scalars(select(Operator).order_by(Operator.active.desc(), Operator.name)).all()
    return render_template(
        "console/admin/operators.html",
        operators=rows,
        form=form or Form(),
        warehouses=queries.warehouses(db),
    ), status


@bp.get("/operators")
def operators():
    """Operators with their badges, and the form to add one."""
    return operators_page()


@bp.post("/operators")
def add_operator():
    """Add an operator (a lead if ticked) with a badge number."""
    db = get_session()
    form = operator_form(request.form, queries.warehouse_choices(db))
    if form.ok:
        v = form.values
        try:
            services.add_operator(db, v["name"], v["badge"], v["warehouse_id"], v["is_lead"], actor=actor())
        except FieldError as exc:
            db.rollback()
            form.error(exc.field, exc.message)
        else:
            db.commit()
            flash(f"已添加 {v['name']}（工牌 {v['badge']}）", "ok")
            return redirect(url_for(".operators"))
    return operators_page(form, 400)


@bp.post("/operators/<int:operator_id>/active")
def toggle_operator(operator_id: int):
    """Deactivate (or reactivate) an operator: a deactivated badge signs in nowhere."""
    db, operator, form = get_session(), load(Operator, operator_id), active_form(request.form)
    if not form.ok:
        abort(400)
    services.set_operator_active(db, operator, form.values["active"], actor=actor())
    db.commit()
    flash(f"{operator.name}：{'已启用' if operator.active else '已停用'}", "ok")
    return redirect(url_for(".operators"))


def users_page(form: Form | None = None, row_errors: dict | None = None, status: int = 200):
    db = get_session()
    rows = db.scalars(select(User).options(selectinload(User.warehouse)).order_by(User.name)).all()
    return render_template(
        "console/admin/users.html",
        users=rows,
        form=form or Form({"role": "lead"}),
        row_errors=row_errors or {},
        warehouses=queries.warehouses(db),
    ), status


@bp.get("/users")
def users():
    """Console users, and the form to add one."""
    return users_page()


@bp.post("/users")
def add_user():
    """Add a lead or an admin, bound to one warehouse or to all."""
    db = get_session()
    form = user_form(request.form, queries.warehouse_choices(db))
    if form.ok:
        v = form.values
        try:
            accounts.create_user(db, v["name"], v["password"], v["role"], v["warehouse_id"], actor=actor())
        except FieldError as exc:
            db.rollback()
            form.error(exc.field, exc.message)
        else:
            db.commit()
            flash(f"已添加用户 {v['name']}", "ok")
            return redirect(url_for(".users"))
    return users_page(form, status=400)


@bp.post("/users/<int:user_id>/role")
def set_role(user_id: int):
    """Make a user a lead or an admin."""
    db, user, form = get_session(), load(User, user_id), role_form(request.form)
    if form.ok:
        try:
            accounts.set_role(db, user, form.values["role"], actor=actor())
        except FieldError as exc:
            db.rollback()
            form.error(exc.field, exc.message)
        else:
            db.commit()
            flash(f"{user.name} 的角色已更新", "ok")
            return redirect(url_for(".users"))
    return users_page(row_errors={user_id: form.errors}, status=400)


@bp.post("/users/<int:user_id>/active")
def toggle_user(user_id: int):
    """Disable (or enable again) a user; a disabled user's sessions end at once."""
    db, user, form = get_session(), load(User, user_id), active_form(request.form)
    if not form.ok:
        abort(400)
    try:
        accounts.set_active(db, user, form.values["active"], actor=actor())
    except FieldError as exc:
        db.rollback()
        return users_page(row_errors={user_id: {exc.field: exc.message}}, status=400)
    db.commit()
    flash(f"{user.name}：{'已启用' if user.active else '已停用'}", "ok")
    return redirect(url_for(".users"))
