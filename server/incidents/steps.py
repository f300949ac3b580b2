"""The steps a lead takes on an incident, each recorded with who and when (server.incidents.workflow
checks it may be taken now). Inputs arrive validated (server.incidents.forms); nothing commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from server.incidents import ledger
from server.incidents.templates import CHANNELS, DEFAULTS
from server.incidents.workflow import Action, Cause, Inspection, Outcome, WorkflowError, step
from server.models.incidents import Incident, IncidentEvent


def record_contact(
    session: Session,
    incident: Incident,
    *,
    template: str | None,
    channel: str,
    message: str,
    reply: str,
    actor: str,
    now: datetime,
) -> IncidentEvent:
    """What we told the buyer, through which platform channel, and what they answered."""
    if channel not in CHANNELS:
        raise WorkflowError("只能通过抖店客服或站内信联系买家")
    detail = {
        "template": template if template in DEFAULTS else None,
        "channel": channel,
        "message": message,
        "reply": reply,
    }
    return step(session, incident, Action.CONTACT, actor=actor, now=now, detail=detail)


def record_outcome(
    session: Session, incident: Incident, outcome: Outcome, *, note: str, actor: str, now: datetime
) -> IncidentEvent:
    return step(
        session,
        incident,
        Action.OUTCOME,
        outcome=outcome,
        actor=actor,
        now=now,
        changes={"outcome": outcome.value},
        detail={"outcome": outcome.value, "note": note},
    )


def receive(session: Session, incident: Incident, *, note: str, actor: str, now: datetime) -> IncidentEvent:
    """The parcel is back at the warehouse."""
    return step(session, incident, Action.RECEIVE, actor=actor, now=now, detail={"note": note})


def inspect(
    session: Session, incident: Incident, result: Inspection, *, note: str, actor: str, now: datetime
) -> IncidentEvent:
    """What the returned goods looked like."""
    return step(
        session,
        incident,
        Action.INSPECT,
        actor=actor,
        now=now,
        changes={"inspection": result.value},
        detail={"inspection": result.value, "note": note},
    )


def record_cause(
    session: Session, incident: Incident, cause: Cause, *, note: str, actor: str, now: datetime
) -> IncidentEvent:
    """Why it happened inside the warehouse, with a root-cause note."""
    return step(
        session,
        incident,
        Action.CAUSE,
        actor=actor,
        now=now,
        changes={"cause": cause.value, "cause_note": note or None},
        detail={"cause": cause.value, "note": note},
    )


def update_ledger(
    session: Session, incident: Incident, values: dict[str, int], *, note: str, actor: str, now: datetime
) -> IncidentEvent:
    """Set some of the incident's amounts (fen); the event keeps each changed field's before and after."""
    new = ledger.updated(ledger.of(incident), values)
    changed = ledger.of(incident).changed(new)
    if not changed:
        raise WorkflowError("台账金额没有变化")
    return step(
        session,
        incident,
        Action.LEDGER,
        actor=actor,
        now=now,
        changes={name: after for name, (_before, after) in changed.items()},
        detail={"changes": changed, "note": note, "net_loss": new.net_loss},
    )


def close(session: Session, incident: Incident, *, note: str, actor: str, now: datetime) -> IncidentEvent:
    return step(
        session,
        incident,
        Action.CLOSE,
        actor=actor,
        now=now,
        detail={"note": note, "net_loss": ledger.of(incident).net_loss},
    )
