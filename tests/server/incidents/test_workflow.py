"""The workflow: every transition the table allows, every one it refuses (with a zh-CN reason and
nothing changed), the steps through the console with who and when, and the follow-up status."""

from __future__ import annotations

import pytest
from factories import make_order, refund
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.incidents import steps
from server.incidents.workflow import (
    Action,
    Cause,
    Inspection,
    Outcome,
    State,
    WorkflowError,
    follow_up_label,
    next_state,
)
from server.models.incidents import Incident, IncidentEvent

S = State
# (state, action) -> state after, written out by hand; anything missing is refused.
ALLOWED = {
    (S.OPEN, Action.INTERCEPT): S.INTERCEPT_REQUESTED,
    **{(s, Action.CONTACT): s for s in S if s is not S.CLOSED},
    **{(s, Action.CAUSE): s for s in S if s is not S.CLOSED},
    **{(s, Action.LEDGER): s for s in S},
    (S.RETURNING, Action.RECEIVE): S.RETURNED,
    (S.AWAITING_RETURN, Action.RECEIVE): S.RETURNED,
    (S.RETURNED, Action.INSPECT): S.RETURNED,
    (S.RETURNED, Action.CLOSE): S.CLOSED,
    (S.KEPT, Action.CLOSE): S.CLOSED,
    (S.CLAIMING, Action.CLOSE): S.CLOSED,
}
OUTCOMES = {
    Outcome.INTERCEPTED: ({S.OPEN, S.INTERCEPT_REQUESTED}, S.RETURNING),
    Outcome.REFUSED: ({S.OPEN, S.INTERCEPT_REQUESTED}, S.RETURNING),
    Outcome.SIGNED_RETURNED: ({S.OPEN, S.INTERCEPT_REQUESTED}, S.AWAITING_RETURN),
    Outcome.KEPT_RECOVERED: ({S.OPEN, S.INTERCEPT_REQUESTED, S.KEPT}, S.KEPT),
    Outcome.KEPT_COMPENSATED: ({S.OPEN, S.INTERCEPT_REQUESTED, S.KEPT}, S.KEPT),
    Outcome.KEPT_WRITTEN_OFF: ({S.OPEN, S.INTERCEPT_REQUESTED, S.KEPT}, S.KEPT),
    Outcome.LOST_DAMAGED: (
        {S.OPEN, S.INTERCEPT_REQUESTED, S.RETURNING, S.AWAITING_RETURN, S.RETURNED},
        S.CLAIMING,
    ),
}
PLAIN_ACTIONS = [a for a in Action if a is not Action.OUTCOME]


def case(state: State, **fields) -> Incident:
    """A transient incident ready to close (cause and inspection recorded) unless told otherwise."""
    return Incident(state=state.value, **{"cause": "operator_error", "inspection": "intact", **fields})


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("action", PLAIN_ACTIONS)
def test_every_plain_step_from_every_state(state, action):
    expected = ALLOWED.get((state, action))
    if expected is None:
        with pytest.raises(WorkflowError, match="事件当前为「.+」，不能执行"):
            next_state(case(state), action)
    else:
        assert next_state(case(state), action) is expected


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("outcome", list(Outcome))
def test_every_outcome_from_every_state(state, outcome):
    allowed_from, to = OUTCOMES[outcome]
    if state in allowed_from:
        assert next_state(case(state), Action.OUTCOME, outcome) is to
    else:
        with pytest.raises(WorkflowError, match="不能记录"):
            next_state(case(state), Action.OUTCOME, outcome)


def test_closing_needs_a_cause_and_an_inspection_of_returned_goods():
    with pytest.raises(WorkflowError, match="结案前请先记录内部原因"):
        next_state(case(S.KEPT, cause=None), Action.CLOSE)
    with pytest.raises(WorkflowError, match="结案前请先登记退回商品的验货结果"):
        next_state(case(S.RETURNED, inspection=None), Action.CLOSE)
    assert next_state(case(S.CLAIMING, inspection=None), Action.CLOSE) is S.CLOSED


def test_follow_up_labels():
    assert follow_up_label(case(S.RETURNING, outcome="intercepted")) == "已拦截，退回中"
    assert follow_up_label(case(S.RETURNING, outcome="refused")) == "买家拒签，退回中"
    assert follow_up_label(case(S.RETURNED, outcome="intercepted")) == "已拦截并退回"
    assert follow_up_label(case(S.AWAITING_RETURN, outcome="signed_returned")) == "等待收货"
    assert follow_up_label(case(S.CLOSED, outcome="kept_written_off")) == "已结案：已签收并保留：损失核销"


@pytest.fixture
def incident(session, station_scan, incidents) -> Incident:
    order = make_order(session, tracking_no="SF1234567890123")
    station_scan(order.order_id)
    refund(session, order)
    [found] = incidents()
    return found


def state_of(session, incident) -> tuple:
    session.expire_all()
    row = session.get(Incident, incident.id)
    events = session.scalars(select(IncidentEvent.kind).where(IncidentEvent.incident_id == incident.id)).all()
    return row.state, row.outcome, row.cause, row.inspection, row.closed_at, list(events)


def test_the_intercepted_path_through_the_console(as_lead, session, incident):
    url = f"/incidents/{incident.id}"
    posts = [
        ("outcome", {"outcome": "intercepted", "note": "快递确认已拦截"}, "已拦截，退回中"),
        (
            "contact",
            {
                "template": "intercepted",
                "channel": "doudian_im",
                "message": "您好，包裹已拦截退回，非常抱歉。",
                "reply": "好的",
            },
            "已拦截，退回中",
        ),  # fmt: skip
        ("receive", {"note": ""}, "已拦截并退回"),
        ("inspect", {"inspection": "intact"}, "已拦截并退回"),
        ("cause", {"cause": "refund_not_synced", "note": "推送延迟 40 秒"}, "已拦截并退回"),
        ("ledger", {"return_freight": "12.00", "goods_value": "89"}, "已拦截并退回"),
        ("close", {"note": "拦截及时，无损失"}, "已结案：拦截成功，包裹退回"),
    ]
    for name, data, follow_up in posts:
        response = as_lead.post(f"{url}/{name}", data)
        assert response.status_code == 302, (name, response.get_data(as_text=True)[:2000])
        page = as_lead.get(url).get_data(as_text=True)
        assert follow_up in page, name
    state, outcome, cause, inspection, closed_at, kinds = state_of(session, incident)
    assert (state, outcome, cause, inspection) == ("closed", "intercepted", "refund_not_synced", "intact")
    assert closed_at is not None
    assert kinds == ["detected", "outcome", "contact", "receive", "inspect", "cause", "ledger", "close"]
    events = session.scalars(select(IncidentEvent).where(IncidentEvent.kind != "detected")).all()
    assert {e.actor for e in events} == {"user:lead"} and all(e.at is not None for e in events)
    row = session.get(Incident, incident.id)
    assert (row.return_freight, row.goods_value) == (1200, 8900)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("receive", {}, "事件当前为「待处理」，不能执行「确认退回入库」"),
        ("inspect", {"inspection": "intact"}, "事件当前为「待处理」，不能执行「登记验货」"),
        ("close", {}, "事件当前为「待处理」，不能执行「结案」"),
    ],
)
def test_an_illegal_step_is_refused_and_changes_nothing(as_lead, session, incident, name, data, message):
    before = state_of(session, incident)
    response = as_lead.post(f"/incidents/{incident.id}/{name}", data)
    assert response.status_code == 409
    assert message in response.get_data(as_text=True)
    assert state_of(session, incident) == before


def test_closing_without_a_cause_is_refused(as_lead, session, incident):
    as_lead.post(f"/incidents/{incident.id}/outcome", {"outcome": "kept_written_off"})
    before = state_of(session, incident)
    response = as_lead.post(f"/incidents/{incident.id}/close", {})
    assert response.status_code == 409 and "结案前请先记录内部原因" in response.get_data(as_text=True)
    assert state_of(session, incident) == before


def test_a_closed_incident_takes_no_more_steps_but_its_ledger(as_lead, session, incident):
    for name, data in [
        ("outcome", {"outcome": "lost_damaged"}),
        ("cause", {"cause": "logistics_delay"}),
        ("close", {}),
    ]:
        assert as_lead.post(f"/incidents/{incident.id}/{name}", data).status_code == 302
    refused = as_lead.post(f"/incidents/{incident.id}/outcome", {"outcome": "refused"})
    assert refused.status_code == 409 and "事件当前为「已结案」，不能记录" in refused.get_data(as_text=True)
    assert as_lead.post(f"/incidents/{incident.id}/ledger", {"claim_recovered": "50"}).status_code == 302
    session.expire_all()
    assert session.get(Incident, incident.id).claim_recovered == 5000


@pytest.mark.parametrize(
    ("data", "field_message"),
    [
        ({"channel": "doudian_im", "message": "请留个电话 13812345678"}, "请勿填写手机号等买家个人信息"),
        ({"channel": "doudian_im", "message": "请加我微信沟通"}, "只能通过抖店平台渠道联系买家"),
        ({"channel": "doudian_im", "message": "不退回就起诉"}, "不得威胁买家"),
        ({"channel": "phone", "message": "您好"}, "请选择联系渠道"),
        ({"channel": "station_letter", "message": "您好", "reply": "我的手机 13900001111"}, "请勿填写手机号"),
    ],
)
def test_a_contact_that_breaks_the_rules_is_refused(as_lead, session, incident, data, field_message):
    before = state_of(session, incident)
    response = as_lead.post(f"/incidents/{incident.id}/contact", data)
    assert response.status_code == 400 and field_message in response.get_data(as_text=True)
    assert state_of(session, incident) == before


def test_a_step_on_a_stale_page_is_refused(session, engine, incident, clock):
    with Session(engine) as other:
        other.execute(update(Incident).values(state="returning"))
        other.commit()
    with pytest.raises(WorkflowError, match="刚被其他人更新"):
        steps.record_outcome(session, incident, Outcome.INTERCEPTED, note="", actor="user:x", now=clock.now())
    session.rollback()


def test_cause_other_needs_a_note(as_lead, incident):
    response = as_lead.post(f"/incidents/{incident.id}/cause", {"cause": "other"})
    assert response.status_code == 400 and "请填写原因说明" in response.get_data(as_text=True)


def test_inspection_and_cause_choices_are_checked(as_lead, incident):
    assert as_lead.post(f"/incidents/{incident.id}/cause", {"cause": "weather"}).status_code == 400
    assert as_lead.post(f"/incidents/{incident.id}/nonsense", {}).status_code == 404
    assert as_lead.post(f"/incidents/{incident.id}/cause", {"cause": "other"}, csrf=False).status_code == 400


def test_steps_take_their_enums():
    assert {c.value for c in Cause} == {"refund_not_synced", "operator_error", "logistics_delay", "other"}
    assert {i.value for i in Inspection} == {"intact", "damaged"}
