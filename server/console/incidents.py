"""Parcels shipped after a refund: the live list, one incident with its timeline and steps, and
its evidence pack. Every step is a small form (CSRF-checked, signed-in leads and admins); a step
the workflow refuses shows why and changes nothing."""

from __future__ import annotations

import httpx
from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for

from server import clock
from server.console import incident_admin, queries
from server.console.auth import actor, check_warehouse, scope_from_request
from server.console.forms import Form
from server.db import get_session
from server.incidents import evidence, forms, intercept, ledger, steps
from server.incidents import queries as incident_queries
from server.incidents.templates import CHANNELS, all_templates, render
from server.incidents.timeline import people_of, person, timeline_for
from server.incidents.workflow import (
    ACTION_LABELS,
    CAUSE_LABELS,
    INSPECTION_LABELS,
    OUTCOME_LABELS,
    OUTCOME_RULES,
    RULES,
    Action,
    State,
    WorkflowError,
    follow_up_label,
)
from server.models import Order, Shop
from server.models.incidents import Incident
from server.sync.shops import shop_api

bp = Blueprint("incidents", __name__)
# A lead is waiting on the page: one retry of a request that never left, then an answer.
INTERCEPT_BUDGET = {"timeout": httpx.Timeout(10.0, connect=3.0), "max_retries": 1}
bp.register_blueprint(incident_admin.bp)


@bp.app_context_processor
def nav_badge() -> dict:
    """`open_incident_count()` for the nav link: asked only when a page draws the nav."""

    def count() -> int:
        user = g.get("user")
        return incident_queries.open_count(get_session(), user.warehouse_id) if user else 0

    return {"open_incident_count": count}


@bp.get("/incidents")
def index():
    """Open incidents first, newest first; the table refreshes itself every 3 s."""
    db, warehouse_id = get_session(), scope_from_request()
    rows = incident_queries.incident_rows(db, warehouse_id)
    return render_template(
        "console/incidents/list.html", rows=rows, warehouses=queries.warehouses(db), picked=warehouse_id
    )


@bp.get("/incidents/rows")
def rows():
    """The list's table alone, for console.js to poll."""
    rows = incident_queries.incident_rows(get_session(), scope_from_request())
    return render_template("console/incidents/_rows.html", rows=rows), 200, {"Cache-Control": "no-store"}


@bp.get("/incidents/badge")
def badge():
    """The nav's open-incident count alone, for console.js to poll."""
    count = incident_queries.open_count(get_session(), g.user.warehouse_id)
    return render_template("console/incidents/_badge.html", count=count), 200, {"Cache-Control": "no-store"}


@bp.get("/incidents/<int:incident_id>")
def detail(incident_id: int):
    """One incident: what happened, the timeline, and the next steps."""
    return render_detail(load(incident_id))


@bp.post("/incidents/<int:incident_id>/intercept")
def request_intercept(incident_id: int):
    """Ask Douyin to have the courier stop the parcel; the answer is recorded either way."""
    incident, db = load(incident_id), get_session()
    shop = db.get(Shop, incident.shop_id)
    gateway = current_app.extensions["shipgate.settings"].douyin_gateway
    api, client = shop_api(current_app.extensions["shipgate.sessions"], shop, gateway, **INTERCEPT_BUDGET)
    try:
        report = intercept.request_interception(db, incident, api, actor=actor(), now=clock.current().now())
    except WorkflowError as exc:
        db.rollback()
        flash(exc.message, "error")
        return render_detail(load(incident_id)), 409
    finally:
        client.close()
    db.commit()
    if report.is_success:
        flash(f"拦截申请成功，拦截费 ¥{report.intercept_cost / 100:.2f} 已计入退回运费", "ok")
    else:
        flash(f"拦截未成功：{report.unavailable_reason or report.error}", "error")
    return redirect(url_for(".detail", incident_id=incident_id))


STEPS = {
    "contact": (forms.contact_form, lambda db, i, v, **who: steps.record_contact(
        db, i, template=v["template"], channel=v["channel"], message=v["message"], reply=v["reply"], **who)),
    "outcome": (forms.outcome_form, lambda db, i, v, **who: steps.record_outcome(db, i, v["outcome"], note=v["note"], **who)),
    "receive": (forms.note_form, lambda db, i, v, **who: steps.receive(db, i, note=v["note"], **who)),
    "inspect": (forms.inspect_form, lambda db, i, v, **who: steps.inspect(db, i, v["inspection"], note=v["note"], **who)),
    "cause": (forms.cause_form, lambda db, i, v, **who: steps.record_cause(db, i, v["cause"], note=v["note"], **who)),
    "ledger": (forms.ledger_form, lambda db, i, v, **who: steps.update_ledger(db, i, v["ledger"], note=v["note"], **who)),
    "close": (forms.note_form, lambda db, i, v, **who: steps.close(db, i, note=v["note"], **who)),
}  # fmt: skip


@bp.post("/incidents/<int:incident_id>/<name>")
def take_step(incident_id: int, name: str):
    """Take one step; a refused form or step is shown on the page and changes nothing."""
    if name not in STEPS:
        abort(404)
    incident, db = load(incident_id), get_session()
    make_form, apply = STEPS[name]
    form = make_form(request.form)
    if not form.ok:
        return render_detail(incident, {name: form}), 400
    try:
        apply(db, incident, form.values, actor=actor(), now=clock.current().now())
    except WorkflowError as exc:
        db.rollback()
        flash(exc.message, "error")
        return render_detail(load(incident_id), {name: form}), 409
    db.commit()
    flash(f"已{ACTION_LABELS[Action(name)]}", "ok")
    return redirect(url_for(".detail", incident_id=incident_id))


@bp.get("/incidents/<int:incident_id>/evidence")
def evidence_page(incident_id: int):
    """The evidence pack as a page made for printing."""
    data = evidence.pack(get_session(), load(incident_id), clock.current().now())
    return render_template("console/incidents/evidence.html", pack=data)


@bp.get("/incidents/<int:incident_id>/evidence.json")
def evidence_json(incident_id: int):
    """The evidence pack as a JSON file download."""
    incident = load(incident_id)
    body = evidence.to_json(evidence.pack(get_session(), incident, clock.current().now()))
    name = f"incident-{incident.id}-{incident.order_id}.json"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    return current_app.response_class(body, mimetype="application/json", headers=headers)


def load(incident_id: int) -> Incident:
    db = get_session()
    incident = incident_queries.incident(db, incident_id)
    if incident is None:
        abort(404)
    check_warehouse(incident.warehouse_id)
    return incident


def render_detail(incident: Incident, step_forms: dict[str, Form] | None = None) -> str:
    db = get_session()
    state = State(incident.state)
    order, shop = db.get(Order, incident.order_id), db.get(Shop, incident.shop_id)
    values = {
        "shop": shop.name if shop and shop.name else "本店",
        "order_id": incident.order_id,
        "goods": "、".join(f"{g['name']} ×{g['num']}" for g in incident.goods),
        "coupon": ledger.yuan(incident.coupon) if incident.coupon else "〔金额〕",
        "compensation": ledger.yuan(incident.compensation) if incident.compensation else "〔金额〕",
    }
    templates = [(t, render(t.body, values)) for t in all_templates(db)]
    picked = request.args.get("template", "")
    return render_template(
        "console/incidents/detail.html",
        incident=incident,
        order=order,
        shop=shop,
        follow_up=follow_up_label(incident),
        packer=person(incident.packer, people_of(db, {incident.packer} - {None})),
        timeline=timeline_for(db, incident),
        ledger=ledger.of(incident),
        ledger_labels=ledger.LABELS,
        yuan=ledger.yuan,
        allowed={a: state in rule.allowed_from for a, rule in RULES.items()},
        outcomes={o: label for o, label in OUTCOME_LABELS.items() if state in OUTCOME_RULES[o].allowed_from},
        intercepts=[e.detail for e in incident.events if e.kind == "intercept"],
        templates=templates,
        picked=next((text for t, text in templates if t.key == picked), ""),
        picked_key=picked,
        channels=CHANNELS,
        causes=CAUSE_LABELS,
        inspections=INSPECTION_LABELS,
        forms=step_forms or {},
        blank=Form(),
    )
