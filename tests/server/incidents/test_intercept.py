"""Interception through Douyin's afterSale.applyLogisticsIntercept, against the sandbox over HTTP:
a parcel on the way is stopped (the fee is booked as return freight), one already signed for
cannot be, and a gateway that does not answer is recorded as an error. Each answer is a step."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from douyin_sandbox.model import ParcelState
from server.incidents.intercept import request_interception
from server.incidents.workflow import WorkflowError
from server.models import Shop
from server.models.incidents import Incident, IncidentEvent
from server.sync.shops import shop_api


@pytest.fixture
def settings(settings, sandbox):
    """The console calls Douyin at the sandbox."""
    return dataclasses.replace(settings, douyin_gateway=sandbox.url)


@pytest.fixture
def ship_incident(make_worker, sandbox, station_scan, incidents):
    """Passed at the bench, refund asked, shipped anyway, refund succeeded: an incident with a
    tracking number of a parcel on the way (shipped with `carrier`, default a random one)."""

    def make(carrier: str | None = None):
        shop = sandbox.sandbox.shop
        worker = make_worker()
        order = shop.create_order(n_skus=1)
        shop.advance_clock(5)
        worker.run_once()
        station_scan(order.order_id, at=datetime.fromtimestamp(shop.now(), UTC).isoformat())
        refund = shop.apply_refund(order.order_id)
        parcel = shop.ship(order.order_id, carrier=carrier)
        shop.advance_clock(60)
        shop.succeed_refund(refund.aftersale_id)
        shop.advance_clock(5)
        worker.run_once()
        [incident] = incidents()
        assert (incident.tracking_no, incident.aftersale_id) == (parcel.tracking_no, refund.aftersale_id)
        return incident, parcel

    return make


@pytest.fixture
def shipped_incident(ship_incident):
    return ship_incident()


def events(session, kind="intercept"):
    session.expire_all()
    return session.scalars(select(IncidentEvent).where(IncidentEvent.kind == kind)).all()


def test_a_parcel_on_the_way_is_intercepted(as_lead, session, shipped_incident):
    incident, parcel = shipped_incident
    response = as_lead.post(f"/incidents/{incident.id}/intercept")
    assert response.status_code == 302
    page = as_lead.get(f"/incidents/{incident.id}").get_data(as_text=True)
    cost = parcel.carrier.intercept_cost
    assert f"拦截申请成功，拦截费 ¥{cost / 100:.2f} 已计入退回运费" in page and "已申请拦截" in page
    assert parcel.state == ParcelState.INTERCEPTED  # the sandbox's courier stopped it
    [event] = events(session)
    assert event.detail == {"tracking_no": parcel.tracking_no, "can_intercept": True, "is_success": True,
                            "unavailable_reason": "", "intercept_cost": cost, "error": None}  # fmt: skip
    assert (event.actor, event.from_state, event.to_state) == ("user:lead", "open", "intercept_requested")
    row = session.get(Incident, incident.id)
    assert (row.state, row.return_freight) == ("intercept_requested", cost)
    again = as_lead.post(f"/incidents/{incident.id}/intercept")  # only once
    assert again.status_code == 409 and "不能执行「申请拦截」" in again.get_data(as_text=True)


def test_a_parcel_already_signed_for_cannot_be_intercepted(as_lead, session, sandbox, shipped_incident):
    incident, parcel = shipped_incident
    sandbox.sandbox.shop.deliver(incident.order_id)
    assert as_lead.post(f"/incidents/{incident.id}/intercept").status_code == 302
    page = as_lead.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert "拦截未成功：包裹已签收，无法拦截" in page
    [event] = events(session)
    assert (event.detail["can_intercept"], event.detail["is_success"]) == (False, False)
    assert (
        event.detail["unavailable_reason"] == "包裹已签收，无法拦截" and event.detail["intercept_cost"] == 0
    )
    row = session.get(Incident, incident.id)
    assert (row.state, row.return_freight) == ("open", 0)  # still open: contact the buyer next
    assert parcel.state == ParcelState.DELIVERED


def test_a_gateway_that_does_not_answer_is_recorded(session, engine, shipped_incident, clock):
    incident, _parcel = shipped_incident
    shop = session.get(Shop, incident.shop_id)
    api, client = shop_api(sessionmaker(engine), shop, "http://127.0.0.1:9", max_retries=0)
    try:
        report = request_interception(session, incident, api, actor="user:lead", now=clock.now())
    finally:
        client.close()
    session.commit()
    assert report.is_success is False and report.error
    [event] = events(session)
    assert event.detail["error"] == report.error and event.to_state == "open"


def test_no_tracking_number_no_interception(session, shipped_incident, clock):
    incident, _parcel = shipped_incident
    incident.tracking_no = None
    with pytest.raises(WorkflowError, match="没有运单号"):
        request_interception(session, incident, api=None, actor="user:lead", now=clock.now())
    session.rollback()


def test_the_company_code_comes_from_the_orders_logistics_info(as_lead, session, shipped_incident):
    """The waybill Shipgate knows holds the courier's name (中通快递), not its code: the code is
    the order's logistics_info `company`, and the sandbox (like Douyin) refuses an empty one."""
    incident, parcel = shipped_incident
    assert incident.company == parcel.carrier.name  # what the waybill knows
    assert as_lead.post(f"/incidents/{incident.id}/intercept").status_code == 302
    assert parcel.state == ParcelState.INTERCEPTED  # a wrong or empty code is refused by the sandbox
    [event] = events(session)
    assert event.detail["is_success"] is True


def test_a_waybill_that_holds_the_code_needs_no_look_up(session, sandbox, engine, shipped_incident, clock):
    incident, parcel = shipped_incident
    incident.company = parcel.carrier.code  # e.g. pulled with a code and no name
    sandbox.sandbox.faults.update({"offline_methods": ["order.orderDetail", "afterSale.List"]})
    shop = session.get(Shop, incident.shop_id)
    api, client = shop_api(sessionmaker(engine), shop, sandbox.url, max_retries=0)
    try:
        report = request_interception(session, incident, api, actor="user:lead", now=clock.now())
    finally:
        client.close()
    assert report.is_success and parcel.state == ParcelState.INTERCEPTED


def test_without_a_company_code_the_lead_is_told_why_and_nothing_is_asked(as_lead, session, ship_incident):
    from douyin_sandbox.catalog import NO_CODE

    incident, parcel = ship_incident(carrier=NO_CODE)  # Douyin names the courier, gives no code
    response = as_lead.post(f"/incidents/{incident.id}/intercept")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert f"抖店没有运单 {parcel.tracking_no} 的快递公司编码" in page and "无法在抖店申请拦截" in page
    assert events(session) == [] and parcel.state == ParcelState.IN_TRANSIT
    session.expire_all()
    assert session.get(Incident, incident.id).state == "open"
