"""Drills: a printed drill code BLOCKs at any station, is recorded per station, opens nothing and
never counts as a refund; the floor flags failed and overdue stations."""

from datetime import UTC, datetime, timedelta

import pytest
from factories import make_order
from sqlalchemy import func, select

from server import drills
from server.drills import DrillState, drill_state
from server.models import DrillRun, ScanException, Station

NOW = "2026-11-26T09:00:00+08:00"


@pytest.fixture(autouse=True)
def at_now(clock):
    """The server's clock shows NOW, the time the scans below carry."""
    clock.set(datetime.fromisoformat(NOW))


def scan(client, auth, code, **extra):
    body = {"scan_id": extra.pop("scan_id", f"s-{code[-6:]}-{len(extra)}"), "code": code, "scanned_at": NOW}
    return client.post("/api/v1/scans", json={**body, **extra}, headers=auth)


def count(session, model, *where):
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_drill_code_blocks_and_is_recorded_for_the_station(client, auth, session):
    [code] = drills.issue(session, 1, actor="user:lead")
    session.commit()
    answer = scan(client, auth, code, scan_id="drill-1").json
    assert (answer["decision"], answer["reason"]) == ("BLOCK", "drill")
    assert "演练" in answer["message"] and answer["exception_id"] is None
    assert count(session, ScanException) == 0
    run = session.scalar(select(DrillRun))
    assert run.passed and run.scan_id == "drill-1"
    again = scan(client, auth, code, scan_id="drill-1").json  # a retry records nothing new
    assert again["decision"] == "BLOCK" and count(session, DrillRun) == 1


def test_an_unknown_drill_code_holds(client, auth, session):
    answer = scan(client, auth, "SG-DR-notours").json
    assert (answer["decision"], answer["reason"]) == ("HOLD", "invalid_code")
    assert count(session, DrillRun) == 0


def test_an_offline_drill_the_station_did_not_block_is_a_failed_drill(client, auth, session, clock):
    [code] = drills.issue(session, 1, actor="user:lead")
    session.commit()
    item = {"scan_id": "off-drill", "code": code, "scanned_at": NOW, "station_decision": "HOLD",
            "station_reason": "unknown_order"}  # fmt: skip
    client.post("/api/v1/scans/batch", json={"scans": [item]}, headers=auth)
    run = session.scalar(select(DrillRun))
    assert run.passed is False
    station = session.scalar(select(Station))
    state = drills.by_station(session, clock.now(), timedelta(days=1))[station.id]
    assert state.state is DrillState.FAILED and state.last_passed_at is None
    assert state.last_run_at == datetime.fromisoformat(NOW)  # failed just now: not merely overdue


def test_drill_states_with_an_injected_clock():
    now = datetime(2026, 11, 26, 9, tzinfo=UTC)
    day = timedelta(days=1)
    passed = DrillRun(passed=True, scanned_at=now - timedelta(hours=3))
    failed = DrillRun(passed=False, scanned_at=now)
    assert drill_state(None, None, now, day) is DrillState.NEVER
    assert drill_state(passed, passed.scanned_at, now, day) is DrillState.OK
    assert drill_state(passed, passed.scanned_at, now + day, day) is DrillState.OVERDUE
    assert drill_state(failed, passed.scanned_at, now, day) is DrillState.FAILED


def test_drills_do_not_touch_orders(client, auth, session):
    order = make_order(session)
    [code] = drills.issue(session, 1, actor="user:lead")
    session.commit()
    scan(client, auth, code)
    assert scan(client, auth, order.order_id, scan_id="real").json["decision"] == "PASS"
