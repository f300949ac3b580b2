"""The handling of an incident: states, outcomes, causes, and which step may follow which.

The rules are data (`RULES`, `OUTCOME_RULES`) read by one pure function, `next_state`; `step`
applies a step to the database with a guarded update (the state must still be what the page
showed) and records who did it and when in `incident_events`. A refused step raises
`WorkflowError` with a zh-CN message and changes nothing. Nothing here commits.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from server.models.incidents import Incident, IncidentEvent


class State(enum.StrEnum):
    """Where the parcel and the case stand: also the order's follow-up status the leads track."""

    OPEN = "open"
    INTERCEPT_REQUESTED = "intercept_requested"
    RETURNING = "returning"
    AWAITING_RETURN = "awaiting_return"
    RETURNED = "returned"
    KEPT = "kept"
    CLAIMING = "claiming"
    CLOSED = "closed"


class Outcome(enum.StrEnum):
    INTERCEPTED = "intercepted"  # the courier stopped it; it comes back
    REFUSED = "refused"  # the buyer refused delivery; it comes back
    SIGNED_RETURNED = "signed_returned"  # signed for, the buyer sends it back (we prepay)
    KEPT_RECOVERED = "kept_recovered"  # signed for and kept; the money came back
    KEPT_COMPENSATED = "kept_compensated"  # signed for and kept; a third party made good the loss
    KEPT_WRITTEN_OFF = "kept_written_off"  # signed for and kept; the loss is written off
    LOST_DAMAGED = "lost_damaged"  # lost or damaged on the way: claim from the courier


class Cause(enum.StrEnum):
    REFUND_NOT_SYNCED = "refund_not_synced"
    OPERATOR_ERROR = "operator_error"
    LOGISTICS_DELAY = "logistics_delay"
    OTHER = "other"


class Inspection(enum.StrEnum):
    INTACT = "intact"
    DAMAGED = "damaged"


class Action(enum.StrEnum):
    INTERCEPT = "intercept"
    CONTACT = "contact"
    OUTCOME = "outcome"
    RECEIVE = "receive"
    INSPECT = "inspect"
    CAUSE = "cause"
    LEDGER = "ledger"
    CLOSE = "close"


STATE_LABELS = {
    State.OPEN: "待处理",
    State.INTERCEPT_REQUESTED: "已申请拦截",
    State.RETURNING: "退回途中",
    State.AWAITING_RETURN: "等待收货",
    State.RETURNED: "已退回仓库",
    State.KEPT: "买家保留商品",
    State.CLAIMING: "物流索赔中",
    State.CLOSED: "已结案",
}
OUTCOME_LABELS = {
    Outcome.INTERCEPTED: "拦截成功，包裹退回",
    Outcome.REFUSED: "买家拒签，包裹退回",
    Outcome.SIGNED_RETURNED: "已签收，买家寄回（运费我方承担）",
    Outcome.KEPT_RECOVERED: "已签收并保留：货款已补回",
    Outcome.KEPT_COMPENSATED: "已签收并保留：损失已获赔付",
    Outcome.KEPT_WRITTEN_OFF: "已签收并保留：损失核销",
    Outcome.LOST_DAMAGED: "丢件或破损：向物流索赔",
}
CAUSE_LABELS = {
    Cause.REFUND_NOT_SYNCED: "退款未及时同步",
    Cause.OPERATOR_ERROR: "操作失误",
    Cause.LOGISTICS_DELAY: "物流延迟",
    Cause.OTHER: "其他",
}
INSPECTION_LABELS = {Inspection.INTACT: "商品完好", Inspection.DAMAGED: "商品破损"}
ACTION_LABELS = {
    Action.INTERCEPT: "申请拦截",
    Action.CONTACT: "联系买家",
    Action.OUTCOME: "记录处理结果",
    Action.RECEIVE: "确认退回入库",
    Action.INSPECT: "登记验货",
    Action.CAUSE: "记录内部原因",
    Action.LEDGER: "更新损失台账",
    Action.CLOSE: "结案",
}

NOT_CLOSED = frozenset(State) - {State.CLOSED}
BEFORE_DELIVERY = frozenset({State.OPEN, State.INTERCEPT_REQUESTED})
SAME = None  # the step records something and leaves the state as it is


@dataclass(frozen=True)
class Rule:
    allowed_from: frozenset[State]
    to: State | None


RULES: dict[Action, Rule] = {
    Action.INTERCEPT: Rule(frozenset({State.OPEN}), State.INTERCEPT_REQUESTED),
    Action.CONTACT: Rule(NOT_CLOSED, SAME),
    Action.RECEIVE: Rule(frozenset({State.RETURNING, State.AWAITING_RETURN}), State.RETURNED),
    Action.INSPECT: Rule(frozenset({State.RETURNED}), SAME),
    Action.CAUSE: Rule(NOT_CLOSED, SAME),
    Action.LEDGER: Rule(frozenset(State), SAME),  # claims can be paid after a case is closed
    Action.CLOSE: Rule(frozenset({State.RETURNED, State.KEPT, State.CLAIMING}), State.CLOSED),
}
KEPT_OUTCOMES = (Outcome.KEPT_RECOVERED, Outcome.KEPT_COMPENSATED, Outcome.KEPT_WRITTEN_OFF)
OUTCOME_RULES: dict[Outcome, Rule] = {
    Outcome.INTERCEPTED: Rule(BEFORE_DELIVERY, State.RETURNING),
    Outcome.REFUSED: Rule(BEFORE_DELIVERY, State.RETURNING),
    Outcome.SIGNED_RETURNED: Rule(BEFORE_DELIVERY, State.AWAITING_RETURN),
    **{o: Rule(BEFORE_DELIVERY | {State.KEPT}, State.KEPT) for o in KEPT_OUTCOMES},
    Outcome.LOST_DAMAGED: Rule(
        BEFORE_DELIVERY | {State.RETURNING, State.AWAITING_RETURN, State.RETURNED}, State.CLAIMING
    ),
}


class WorkflowError(ValueError):
    """A step refused: `message` says why in zh-CN; nothing was changed."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def next_state(incident: Incident, action: Action, outcome: Outcome | None = None) -> State:
    """The state after `action` (with `outcome` for Action.OUTCOME), or WorkflowError. Pure."""
    state = State(incident.state)
    rule = OUTCOME_RULES[outcome] if action is Action.OUTCOME and outcome else RULES.get(action)
    if rule is None:
        raise WorkflowError("请选择处理结果")
    if state not in rule.allowed_from:
        what = OUTCOME_LABELS[outcome] if action is Action.OUTCOME and outcome else ACTION_LABELS[action]
        raise WorkflowError(f"事件当前为「{STATE_LABELS[state]}」，不能{_verb(action)}「{what}」")
    if action is Action.CLOSE:
        if not incident.cause:
            raise WorkflowError("结案前请先记录内部原因")
        if state is State.RETURNED and not incident.inspection:
            raise WorkflowError("结案前请先登记退回商品的验货结果")
    return rule.to or state


def _verb(action: Action) -> str:
    return "记录" if action is Action.OUTCOME else "执行"


def follow_up_label(incident: Incident) -> str:
    """The order's follow-up status as the leads say it: 已拦截并退回, 等待收货, …"""
    state = State(incident.state)
    outcome = Outcome(incident.outcome) if incident.outcome else None
    if state is State.RETURNING:
        return "已拦截，退回中" if outcome is Outcome.INTERCEPTED else "买家拒签，退回中"
    if state is State.RETURNED:
        return {
            Outcome.INTERCEPTED: "已拦截并退回",
            Outcome.REFUSED: "拒签已退回",
            Outcome.SIGNED_RETURNED: "买家已寄回",
        }.get(outcome, "已退回仓库")
    if state is State.CLOSED and outcome is not None:
        return f"已结案：{OUTCOME_LABELS[outcome]}"
    return STATE_LABELS[state]


def step(
    session: Session,
    incident: Incident,
    action: Action,
    *,
    actor: str,
    now: datetime,
    outcome: Outcome | None = None,
    detail: dict | None = None,
    changes: dict | None = None,
    move: bool = True,
) -> IncidentEvent:
    """Apply one step: check it, update the incident only if its state is still the one checked
    (another lead may have moved it), and record the event. `move=False` records the step
    without moving (an interception the courier refused)."""
    before = State(incident.state)
    after = next_state(incident, action, outcome) if move else before
    if not move and before not in RULES[action].allowed_from:
        next_state(incident, action, outcome)  # raises with the message
    values = {**(changes or {}), "state": after.value, "updated_at": now}
    if after is State.CLOSED:
        values["closed_at"] = now
    result = session.execute(
        update(Incident)
        .where(Incident.id == incident.id, Incident.state == before.value)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise WorkflowError("该事件刚被其他人更新，请刷新页面后重试")
    event = IncidentEvent(
        incident_id=incident.id,
        at=now,
        actor=actor,
        kind=action.value,
        from_state=before.value,
        to_state=after.value,
        detail=detail or {},
    )
    session.add(event)
    session.flush()
    session.expire(incident)
    return event
