"""A refund after packing but before handover is a near miss caught in the building (the handover
station blocks it: an exception, no incident); after handover it is an incident."""

from __future__ import annotations

from factories import make_order, refund
from sqlalchemy import func, select

from server.models import Incident, ScanException
from server.stations import enrol

NOW = "2026-11-26T09:00:00+08:00"


def scan(client, token, code, scan_id, mode="bench"):
    body = {"scan_id": scan_id, "code": code, "scanned_at": NOW, "mode": mode}
    return client.post("/api/v1/scans", json=body, headers={"Authorization": f"Bearer {token}"}).json


def incidents(session):
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Incident))


def test_refund_between_packing_and_handover_is_a_near_miss(client, session, station_token):
    _gate, gate_token = enrol(session, "交接口", "main", mode="handover")
    session.commit()
    order = make_order(session, tracking_no="SF1234567890501")
    assert scan(client, station_token, order.order_id, "pack")["decision"] == "PASS"
    refund(session, order, aftersale_type=2, update_time=1_900_000_000)
    assert incidents(session) == 0
    blocked = scan(client, gate_token, "SF1234567890501", "gate", mode="handover")
    assert blocked["decision"] == "BLOCK" and blocked["exception_id"] is not None
    assert incidents(session) == 0
    assert session.scalar(select(func.count()).select_from(ScanException)) == 1


def test_refund_after_handover_is_an_incident(client, session, station_token):
    _gate, gate_token = enrol(session, "交接口", "main", mode="handover")
    session.commit()
    order = make_order(session, tracking_no="SF1234567890502")
    scan(client, station_token, order.order_id, "pack")
    scan(client, gate_token, "SF1234567890502", "gate", mode="handover")
    refund(session, order, aftersale_type=2, update_time=1_900_000_000)
    assert incidents(session) == 1


def test_without_a_handover_station_a_refund_after_packing_is_an_incident(client, session, station_token):
    order = make_order(session)
    scan(client, station_token, order.order_id, "pack")
    refund(session, order, aftersale_type=2, update_time=1_900_000_000)
    assert incidents(session) == 1
