"""The evidence pack of one incident: the refund record, tracking numbers, goods, every scan with
its station and packer, the timeline, who was contacted and what was said, and the ledger.

One dict, `pack`, feeds both the print page and the JSON download, so they always agree. It
holds no buyer data: Shipgate never stores a buyer's name, phone number or address.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from sqlalchemy.orm import Session

from server.incidents import ledger
from server.incidents.templates import CHANNELS, DEFAULTS
from server.incidents.timeline import (
    AFTERSALE_TYPES,
    TRIGGERS,
    assemble,
    describe,
    from_unix,
    people_of,
    scans_of,
)
from server.incidents.workflow import (
    CAUSE_LABELS,
    INSPECTION_LABELS,
    OUTCOME_LABELS,
    STATE_LABELS,
    Cause,
    Inspection,
    Outcome,
    State,
    follow_up_label,
)
from server.models import Order, Shop
from server.models.incidents import Incident

CHINA = timezone(timedelta(hours=8), "CST")


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(CHINA).isoformat(timespec="seconds") if moment else None


def _label(table: dict, enum_type, value: str | None) -> str | None:
    return table[enum_type(value)] if value else None


def pack(session: Session, incident: Incident, now: datetime) -> dict:
    order = session.get(Order, incident.order_id)
    shop = session.get(Shop, incident.shop_id)
    scans = scans_of(session, incident.order_id)
    people = people_of(session, {s.operator for s in scans if s.operator})
    stations = {s.station_id: s.station.name for s in scans}
    events = list(incident.events)
    return {
        "generated_at": iso(now),
        "incident": {
            "id": incident.id,
            "state": incident.state,
            "state_label": STATE_LABELS[State(incident.state)],
            "follow_up": follow_up_label(incident),
            "trigger": incident.trigger,
            "trigger_label": TRIGGERS.get(incident.trigger, incident.trigger),
            "detected_at": iso(incident.detected_at),
            "closed_at": iso(incident.closed_at),
            "passed_at": iso(incident.passed_at),
            "refund_succeeded_at": iso(incident.refund_succeeded_at),
            "race_window_s": incident.race_window_s,
            "outcome": incident.outcome,
            "outcome_label": _label(OUTCOME_LABELS, Outcome, incident.outcome),
            "inspection": incident.inspection,
            "inspection_label": _label(INSPECTION_LABELS, Inspection, incident.inspection),
            "cause": incident.cause,
            "cause_label": _label(CAUSE_LABELS, Cause, incident.cause),
            "cause_note": incident.cause_note,
        },
        "order": {
            "order_id": order.order_id,
            "shop_id": order.shop_id,
            "shop_name": shop.name if shop else "",
            "order_status": order.order_status,
            "main_status": order.main_status,
            "pay_amount": order.pay_amount,
            "paid_at": iso(from_unix(order.pay_time)),
            "shipped_at": iso(from_unix(order.ship_time)),
        },
        "refunds": [
            {
                "aftersale_id": a.aftersale_id,
                "sku_order_id": a.sku_order_id,
                "type": a.aftersale_type,
                "type_label": AFTERSALE_TYPES.get(a.aftersale_type, str(a.aftersale_type)),
                "aftersale_status": a.aftersale_status,
                "refund_status": a.refund_status,
                "refund_amount": a.refund_amount,
                "applied_at": iso(from_unix(a.apply_time)),
                "updated_at": iso(from_unix(a.update_time)),
            }
            for a in sorted(order.after_sales, key=lambda a: (a.apply_time or 0, a.aftersale_id))
        ],
        "tracking": [
            {
                "tracking_no": w.tracking_no,
                "company": w.company,
                "issued_at": iso(w.issued_at),
                "current": w.cancelled_at is None,
            }
            for w in sorted(order.waybills, key=lambda w: (w.issued_at, w.id))
        ],
        "goods": [dict(g) for g in incident.goods],
        "scans": [
            {
                "scanned_at": iso(s.scanned_at),
                "received_at": iso(s.received_at),
                "station": stations.get(s.station_id),
                "packer_badge": s.operator,
                "packer_name": people.get(s.operator) if s.operator else None,
                "decision": s.decision,
                "reason": s.reason,
                "source": s.source,
                "station_decision": s.station_decision,
            }
            for s in scans
        ],
        "timeline": [
            {"at": iso(m.at), "kind": m.kind, "text": m.text, "actor": m.actor}
            for m in assemble(order, scans, stations, people, events)
        ],
        "contacts": [
            {
                "at": iso(e.at),
                "actor": e.actor,
                "channel": e.detail.get("channel"),
                "channel_label": CHANNELS.get(e.detail.get("channel"), ""),
                "template": e.detail.get("template"),
                "template_title": DEFAULTS[e.detail["template"]].title
                if e.detail.get("template") in DEFAULTS
                else None,
                "message": e.detail.get("message", ""),
                "reply": e.detail.get("reply", ""),
            }
            for e in events
            if e.kind == "contact"
        ],
        "steps": [
            {
                "at": iso(e.at),
                "actor": e.actor,
                "kind": e.kind,
                "from_state": e.from_state,
                "to_state": e.to_state,
                "text": describe(e),
            }  # fmt: skip
            for e in events
        ],
        "ledger": ledger.of(incident).as_dict(),
    }


def to_json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False)
