"""What a station says is checked against who it is (issue 15, "Stations"): the scan's mode is
the station's own, lead codes count only online at a bench of the lead's warehouse and cannot be
guessed, drills count only in their own warehouse and in the order the server received them,
and a station sees nothing of another warehouse's orders."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from factories import make_order, refund
from sqlalchemy import func, select

from server import drills
from server.models import DrillRun, ExceptionStatus, Operator, Scan, ScanException, Shop
from server.stations import enrol, warehouse_named

OTHER_SHOP = "20437917"


@pytest.fixture
def now(clock) -> str:
    return clock.now().isoformat()


def post(client, token, code, scan_id, now, **extra):
    body = {"scan_id": scan_id, "code": code, "scanned_at": now, **extra}
    return client.post("/api/v1/scans", json=body, headers={"Authorization": f"Bearer {token}"}).json


def upload(client, token, items):
    body = {"scans": items}
    return client.post("/api/v1/scans/batch", json=body, headers={"Authorization": f"Bearer {token}"}).json


@pytest.fixture
def lead(session):
    operator = Operator(
        name="李主管", badge="L001", is_lead=True, warehouse_id=warehouse_named(session, "main").id
    )
    session.add(operator)
    session.commit()
    return operator


@pytest.fixture
def blocked(client, station_token, session, now):
    """A refunded order scanned at bench-1: one open exception."""
    order = make_order(session)
    refund(session, order)
    answer = post(client, station_token, order.order_id, "blocked-1", now)
    assert answer["decision"] == "BLOCK" and answer["exception_id"]
    return answer


def open_exceptions(session) -> int:
    session.expire_all()
    query = (
        select(func.count()).select_from(ScanException).where(ScanException.status == ExceptionStatus.OPEN)
    )
    return session.scalar(query)


def test_the_scan_mode_is_the_stations_own_not_the_requests(client, station_token, session, now):
    order = make_order(session)
    post(client, station_token, order.order_id, "m-1", now, mode="handover")
    assert session.scalar(select(Scan.mode).where(Scan.scan_id == "m-1")) == "bench"


def test_an_order_of_another_warehouse_holds_and_tells_the_bench_nothing(client, station_token, session, now):
    main, other = warehouse_named(session, "main"), warehouse_named(session, "other")
    ours, theirs = make_order(session), make_order(session, shop_id=OTHER_SHOP, tracking_no="SF1234567890555")
    main.shops.append(session.get(Shop, ours.shop_id))
    other.shops.append(session.get(Shop, OTHER_SHOP))
    session.commit()
    assert post(client, station_token, ours.order_id, "w-1", now)["decision"] == "PASS"
    for n, code in enumerate((theirs.order_id, "SF1234567890555")):
        answer = post(client, station_token, code, f"w-2{n}", now)
        assert (answer["decision"], answer["reason"]) == ("HOLD", "other_warehouse")
        assert answer["order_id"] is None and answer["waybill"] is None and answer["sku_order_ids_out"] == []
        assert "本仓" in answer["message"]


def test_lead_codes_are_refused_offline_and_at_a_handover_station(
    client, station_token, session, lead, blocked, now
):
    item = {
        "scan_id": "off-ex",
        "code": f"SG-EX-{blocked['scan_id']}",
        "operator": "L001",
        "scanned_at": now,
        "station_decision": "HOLD",
        "station_reason": "awaiting_resolution",
        "station_gate_version": 1,
    }
    [result] = upload(client, station_token, [item])["results"]
    assert result["reason"] == "lead_code_refused"
    _gate, gate_token = enrol(session, "交接口", "main", mode="handover")
    session.commit()
    answer = post(client, gate_token, f"SG-EX-{blocked['scan_id']}", "h-ex", now, operator="L001")
    assert (answer["decision"], answer["reason"]) == ("HOLD", "lead_code_refused")
    # Online at the bench the same lead's QR is taken, so the refusals above were about where they came from.
    answer = post(client, station_token, f"SG-EX-{blocked['scan_id']}", "b-ex", now, operator="L001")
    assert answer["reason"] == "awaiting_resolution"
    assert open_exceptions(session) == 1


def test_a_wrong_badge_names_nobody(client, station_token, session, lead, now):
    session.add_all(
        [
            Operator(name="王五", badge="X-OFF", active=False),
            Operator(name="赵六", badge="X-OTHER", warehouse_id=warehouse_named(session, "other").id),
        ]
    )
    session.commit()
    answers = {
        post(client, station_token, f"SG-OP-{b}", f"b-{b}", now)["message"]
        for b in ("NOBODY", "X-OFF", "X-OTHER")
    }
    assert answers == {"工牌无效或已停用"}
    right = post(client, station_token, "SG-OP-L001", "b-right", now)
    assert right["decision"] == "PASS" and "李主管" not in right["message"]


def test_guessing_badges_is_limited_per_station(client, station_token, session, lead, clock):
    for n in range(10):
        answer = post(client, station_token, f"SG-OP-GUESS{n}", f"g-{n}", clock.now().isoformat())
        assert answer["reason"] == "unknown_badge"
    answer = post(client, station_token, "SG-OP-L001", "g-right", clock.now().isoformat())
    assert (answer["decision"], answer["reason"]) == ("HOLD", "too_many_attempts")  # unread, even a right one
    _other, other_token = enrol(session, "bench-2", "main")
    session.commit()
    assert (
        post(client, other_token, "SG-OP-L001", "g-elsewhere", clock.now().isoformat())["decision"] == "PASS"
    )
    clock.advance(minutes=1, seconds=1)
    assert post(client, station_token, "SG-OP-L001", "g-later", clock.now().isoformat())["decision"] == "PASS"


def test_a_drill_counts_only_in_its_own_warehouse(client, station_token, session, now):
    [code] = drills.issue(session, 1, actor="user:lead", warehouse_id=warehouse_named(session, "other").id)
    [anywhere] = drills.issue(session, 1, actor="user:admin", warehouse_id=None)
    session.commit()
    answer = post(client, station_token, code, "d-other", now)
    assert (answer["decision"], answer["reason"]) == ("HOLD", "invalid_code")
    assert session.scalar(select(func.count()).select_from(DrillRun)) == 0
    assert post(client, station_token, anywhere, "d-any", now)["reason"] == "drill"


def test_a_drill_claiming_a_far_future_time_does_not_hide_a_later_failure(
    client, station_token, session, clock
):
    codes = drills.issue(session, 2, actor="user:admin", warehouse_id=None)
    session.commit()
    far = datetime(2999, 1, 1, tzinfo=clock.now().tzinfo).isoformat()
    assert post(client, station_token, codes[0], "d-2999", far)["reason"] == "drill"  # passed, "in 2999"
    clock.advance(minutes=5)
    failed = {
        "scan_id": "d-failed",
        "code": codes[1],
        "scanned_at": clock.now().isoformat(),
        "station_decision": "PASS",
        "station_reason": "clear",
        "station_gate_version": 1,
    }
    upload(client, station_token, [failed])
    [state] = drills.by_station(session, clock.now(), timedelta(hours=24)).values()
    assert state.state is drills.DrillState.FAILED
