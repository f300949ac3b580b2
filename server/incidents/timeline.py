"""An incident's timeline: paid, refund applied, scanned and passed (station, packer), shipped,
refund succeeded, detected, and every step since. Assembled from the scan journal, Douyin's
records and the incident's events; `assemble` is pure, `timeline_for` loads its inputs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from server.douyin.enums import refund_succeeded
from server.incidents.ledger import LABELS as LEDGER_LABELS
from server.incidents.templates import CHANNELS, DEFAULTS
from server.incidents.workflow import (
    CAUSE_LABELS,
    INSPECTION_LABELS,
    OUTCOME_LABELS,
    STATE_LABELS,
    Cause,
    Inspection,
    Outcome,
    State,
)
from server.models import Operator, Order, Scan
from server.models.incidents import Incident, IncidentEvent
from shipgate.wire import Decision, Reason, Source

DECISIONS = {Decision.PASS: "可发货", Decision.BLOCK: "拦截", Decision.HOLD: "暂停"}
AFTERSALE_TYPES = {0: "退货退款", 1: "已发货仅退款", 2: "未发货仅退款"}
TRIGGERS = {
    "refund_after_pass": "退款成功时包裹已过闸放行",
    "refund_after_ship": "退款成功时抖店显示已发货",
    "offline_pass": "工作站离线时放行，上传后发现订单已退款",
}


@dataclass(frozen=True)
class Moment:
    at: datetime
    kind: str  # paid | refund_applied | scan | shipped | refund_succeeded | detected | <a step>
    text: str
    actor: str = ""


def from_unix(seconds: int | None) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


def fen(amount: int | None) -> str:
    return "—" if amount is None else f"¥{amount / 100:.2f}"


def person(badge: str | None, people: dict[str, str]) -> str:
    if not badge:
        return "未登录"
    return f"{people[badge]}（{badge}）" if badge in people else badge


def describe(event: IncidentEvent) -> str:
    """One line for a step, in zh-CN."""
    d = event.detail or {}
    kind = event.kind
    if kind == "detected":
        return f"发现退款后已发货：{TRIGGERS.get(d.get('trigger'), d.get('trigger') or '')}"
    if kind == "intercept":
        if d.get("is_success"):
            return f"申请拦截成功，运单 {d.get('tracking_no')}，拦截费 {fen(d.get('intercept_cost'))}"
        why = d.get("unavailable_reason") or d.get("error") or "未知原因"
        return f"申请拦截未成功：{why}"
    if kind == "contact":
        template = DEFAULTS[d["template"]].title if d.get("template") in DEFAULTS else "自拟"
        return f"通过{CHANNELS.get(d.get('channel'), d.get('channel'))}联系买家（模板：{template}）"
    if kind == "outcome":
        return f"处理结果：{OUTCOME_LABELS[Outcome(d['outcome'])]}" + _note(d)
    if kind == "receive":
        return "包裹已退回仓库" + _note(d)
    if kind == "inspect":
        return f"验货：{INSPECTION_LABELS[Inspection(d['inspection'])]}" + _note(d)
    if kind == "cause":
        return f"内部原因：{CAUSE_LABELS[Cause(d['cause'])]}" + _note(d)
    if kind == "ledger":
        parts = [f"{LEDGER_LABELS[k]} {fen(a)}→{fen(b)}" for k, (a, b) in (d.get("changes") or {}).items()]
        return "更新损失台账：" + "；".join(parts) + f"；净损失 {fen(d.get('net_loss'))}"
    if kind == "close":
        return f"结案，净损失 {fen(d.get('net_loss'))}" + _note(d)
    return kind


def _note(detail: dict) -> str:
    return f"（{detail['note']}）" if detail.get("note") else ""


def state_label(value: str | None) -> str:
    return STATE_LABELS[State(value)] if value else "—"


def assemble(
    order: Order,
    scans: list[Scan],
    stations: dict[int, str],
    people: dict[str, str],
    events: list[IncidentEvent],
) -> list[Moment]:
    """Everything in time order (steps last among equal times). Pure."""
    moments: list[Moment] = []
    if order.pay_time:
        moments.append(Moment(from_unix(order.pay_time), "paid", "买家付款"))
    for a in sorted(order.after_sales, key=lambda a: (a.apply_time or 0, a.aftersale_id)):
        if a.aftersale_type not in AFTERSALE_TYPES:
            continue
        kind = AFTERSALE_TYPES[a.aftersale_type]
        if a.apply_time:
            moments.append(
                Moment(
                    from_unix(a.apply_time),
                    "refund_applied",
                    f"买家申请退款（{kind}，售后单 {a.aftersale_id}）",
                )
            )
        if refund_succeeded(a):
            moments.append(
                Moment(
                    from_unix(a.update_time),
                    "refund_succeeded",
                    f"退款成功 {fen(a.refund_amount)}（售后单 {a.aftersale_id}）",
                )
            )
    for scan in scans:
        where = (
            f"工作站 {stations.get(scan.station_id, scan.station_id)}，打包员 {person(scan.operator, people)}"
        )
        offline = "（离线判定，稍后上传）" if scan.source == Source.OFFLINE else ""
        said = DECISIONS.get(scan.station_decision or scan.decision, scan.decision)
        moments.append(Moment(scan.scanned_at, "scan", f"扫描：{said}{offline}，{where}"))
    if order.ship_time:
        moments.append(Moment(from_unix(order.ship_time), "shipped", "抖店显示已发货"))
    for event in events:
        moments.append(Moment(event.at, event.kind, describe(event), event.actor))
    order_of = {"paid": 0, "refund_applied": 1, "scan": 2, "shipped": 3, "refund_succeeded": 4}
    return sorted(moments, key=lambda m: (m.at, order_of.get(m.kind, 9)))


def scans_of(session: Session, order_id: str) -> list[Scan]:
    """The order's scans, drills left out, oldest first."""
    return list(
        session.scalars(
            select(Scan)
            .where(Scan.order_id == order_id, Scan.reason != Reason.DRILL)
            .options(selectinload(Scan.station))
            .order_by(Scan.scanned_at, Scan.id)
        )
    )


def people_of(session: Session, badges: set[str]) -> dict[str, str]:
    if not badges:
        return {}
    return dict(
        session.execute(select(Operator.badge, Operator.name).where(Operator.badge.in_(badges))).all()
    )


def timeline_for(session: Session, incident: Incident) -> list[Moment]:
    order = session.get(Order, incident.order_id)
    scans = scans_of(session, incident.order_id)
    people = people_of(session, {s.operator for s in scans if s.operator})
    stations = {s.station_id: s.station.name for s in scans}
    return assemble(order, scans, stations, people, list(incident.events))
