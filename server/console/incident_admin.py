"""Incident settings (admins only): buyer-contact templates, group robots and the console's public
address for links in robot messages. Stored in the database: a change needs no restart."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from server import clock
from server.console import queries
from server.console.auth import actor, require_admin
from server.console.forms import Form
from server.db import get_session
from server.incidents import forms, robots, templates
from server.incidents import queries as incident_queries
from server.models import AuditLog
from server.models.incidents import AlertSettings, Robot

bp = Blueprint("admin", __name__, url_prefix="/incidents")
bp.before_request(require_admin)


@bp.get("/templates")
def template_list():
    """Every buyer-contact template, editable, with the rules they must keep."""
    db = get_session()
    rows = templates.all_templates(db)
    return render_template(
        "console/incidents/templates.html", rows=rows, errors={}, placeholders=templates.PLACEHOLDERS
    )


@bp.post("/templates/<key>")
def template_save(key: str):
    """Save (or reset to the default) one template; text that breaks the rules is refused."""
    if key not in templates.DEFAULTS:
        abort(404)
    db, form = get_session(), forms.template_form(request.form)
    try:
        if request.form.get("reset"):
            templates.reset(db, key, actor())
        elif form.ok:
            templates.save(db, key, form.values["title"], form.values["body"], actor())
        else:
            raise ValueError("；".join(form.errors.values()))
    except ValueError as exc:
        db.rollback()
        rows = templates.all_templates(db)
        return render_template(
            "console/incidents/templates.html", rows=rows, errors={key: str(exc)}, raw={key: request.form},
            placeholders=templates.PLACEHOLDERS,
        ), 400  # fmt: skip
    db.add(AuditLog(actor=actor(), action="incident.template", target=f"template:{key}"))
    db.commit()
    flash("模板已保存", "ok")
    return redirect(url_for(".template_list"))


@bp.get("/robots")
def robot_list():
    """Robots with their last success and last error, the outbox, and the console's address."""
    return render_robots(Form(), None)


@bp.post("/robots")
def robot_add():
    db = get_session()
    form = forms.robot_form(
        request.form, queries.warehouse_choices(db), creating=True, extra_hosts=robot_hosts()
    )
    if form.ok and db.scalar(select(Robot.id).where(Robot.name == form.values["name"])):
        form.error("name", "已有同名机器人")
    if not form.ok:
        return render_robots(form, None), 400
    v = form.values
    db.add(Robot(name=v["name"], kind=v["kind"], webhook_url=v["webhook_url"], secret=v["secret"] or None,
                 warehouse_id=v["warehouse_id"], enabled=True))  # fmt: skip
    db.add(AuditLog(actor=actor(), action="incident.robot.add", target=f"robot:{v['name']}"))
    db.commit()
    flash(f"已添加机器人「{v['name']}」", "ok")
    return redirect(url_for(".robot_list"))


@bp.post("/robots/<int:robot_id>")
def robot_edit(robot_id: int):
    """Change a robot; a blank URL or secret keeps the one stored."""
    db, robot = get_session(), load_robot(robot_id)
    form = forms.robot_form(
        request.form, queries.warehouse_choices(db), creating=False, extra_hosts=robot_hosts()
    )
    if not form.ok:
        return render_robots(form, robot_id), 400
    v = form.values
    robot.name, robot.kind, robot.warehouse_id, robot.enabled = (
        v["name"],
        v["kind"],
        v["warehouse_id"],
        v["enabled"],
    )
    robot.webhook_url = v["webhook_url"] or robot.webhook_url
    robot.secret = v["secret"] or robot.secret
    db.add(AuditLog(actor=actor(), action="incident.robot.edit", target=f"robot:{robot.name}"))
    db.commit()
    flash(f"已保存机器人「{robot.name}」", "ok")
    return redirect(url_for(".robot_list"))


@bp.post("/robots/<int:robot_id>/delete")
def robot_delete(robot_id: int):
    db, robot = get_session(), load_robot(robot_id)
    db.delete(robot)
    db.add(AuditLog(actor=actor(), action="incident.robot.delete", target=f"robot:{robot.name}"))
    db.commit()
    flash(f"已删除机器人「{robot.name}」", "ok")
    return redirect(url_for(".robot_list"))


@bp.post("/robots/<int:robot_id>/test")
def robot_test(robot_id: int):
    """Queue a test message; the sender delivers it within seconds."""
    db = get_session()
    robots.enqueue_test(db, load_robot(robot_id))
    db.commit()
    flash("测试消息已排队，几秒后刷新本页查看发送结果", "ok")
    return redirect(url_for(".robot_list"))


@bp.post("/alert-settings")
def alert_settings():
    """The console's address as the leads' phones reach it (for links in robot messages)."""
    db, form = get_session(), forms.base_url_form(request.form)
    if not form.ok:
        return render_robots(Form(), None, form), 400
    row = db.get(AlertSettings, 1) or AlertSettings(id=1)
    row.public_base_url, row.updated_at, row.updated_by = (
        form.values["public_base_url"],
        clock.current().now(),
        actor(),
    )
    db.add(row)
    db.commit()
    flash("控制台访问地址已保存", "ok")
    return redirect(url_for(".robot_list"))


def robot_hosts() -> tuple[str, ...]:
    """Robot hosts the operator added (SHIPGATE_ROBOT_HOSTS), as create_app parsed them."""
    return current_app.extensions.get("shipgate.robot_hosts", ())


def load_robot(robot_id: int) -> Robot:
    robot = get_session().get(Robot, robot_id)
    if robot is None:
        abort(404)
    return robot


def render_robots(form, editing: int | None, url_form=None) -> str:
    db = get_session()
    settings = db.get(AlertSettings, 1)
    return render_template(
        "console/incidents/robots.html",
        rows=incident_queries.robot_rows(db),
        messages=incident_queries.recent_messages(db),
        warehouses=queries.warehouses(db),
        kinds=robots.KINDS,
        form=form,
        editing=editing,
        url_form=url_form or Form(),
        base_url=settings.public_base_url if settings else "",
    )
