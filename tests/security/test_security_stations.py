"""Stations cannot reach each other's scans: a scan is keyed by (station, scan_id), so station B
sending station A's scan_id gets its own scan, and lead codes work only in their own warehouse."""

from __future__ import annotations

import uuid

import pytest
from factories import make_order
from seckit import NOW
from sqlalchemy import func, select

from server.models import Scan, ScanException


def scan(client, world, station: str, code: str, scan_id: str, **extra):
    body = {"scan_id": scan_id, "code": code, "scanned_at": NOW, **extra}
    response = client.post("/api/v1/scans", json=body, headers=world.bearer(station))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def rows_for(session, scan_id: str) -> dict[int, tuple]:
    session.expire_all()
    return {
        s.station_id: (s.code, s.decision, s.reason)
        for s in session.scalars(select(Scan).where(Scan.scan_id == scan_id))
    }


def test_another_station_reusing_a_scan_id_gets_its_own_scan(client, session, world):
    clear = make_order(session, tracking_no="SF1234567890777")
    a_id, b_id = world.station_ids["bench-a"], world.station_ids["bench-b"]
    before = rows_for(session, world.blocked_scan_id)
    answer = scan(client, world, "bench-b", clear.order_id, world.blocked_scan_id)
    assert (answer["decision"], answer["order_id"]) == ("PASS", clear.order_id)  # not A's BLOCK
    assert answer["exception_id"] is None
    rows = rows_for(session, world.blocked_scan_id)
    assert rows[a_id] == before[a_id] and rows[a_id][1] == "BLOCK"  # A's scan untouched
    assert rows[b_id] == (clear.order_id, "PASS", "clear")
    again = scan(client, world, "bench-b", world.order_id, world.blocked_scan_id)
    assert again["decision"] == "PASS"  # B's own stored answer, not A's


def test_a_batch_reusing_another_stations_scan_id_is_not_a_duplicate(client, session, world):
    item = {
        "scan_id": world.blocked_scan_id,
        "code": world.order_id,
        "scanned_at": NOW,
        "station_decision": "BLOCK",
        "station_reason": "refunded",
    }
    response = client.post("/api/v1/scans/batch", json={"scans": [item]}, headers=world.bearer("bench-x"))
    [result] = response.get_json()["results"]
    assert result["duplicate"] is False
    assert len(rows_for(session, world.blocked_scan_id)) == 2


def open_exceptions(session) -> int:
    session.expire_all()
    return session.scalar(
        select(func.count()).select_from(ScanException).where(ScanException.status == "open")
    )


def test_an_exception_cannot_be_cleared_from_another_warehouse(app, client, session, world):
    """A lead of warehouse "other", at its own bench, scans the QR of a slip printed in "main"."""
    if "console" not in app.blueprints:
        pytest.skip("no bench clearing without the console")
    from server.models import Operator, Warehouse

    other = session.scalar(select(Warehouse.id).where(Warehouse.name == "other"))
    session.add(Operator(name="外仓主管", badge="X001", warehouse_id=other, is_lead=True))
    session.commit()
    opened = open_exceptions(session)
    qr = f"SG-EX-{world.blocked_scan_id}"
    taken = scan(client, world, "bench-x", qr, str(uuid.uuid4()), operator="X001")
    assert taken["reason"] == "no_exception"
    done = scan(client, world, "bench-x", "SG-RS-misscan", str(uuid.uuid4()), operator="X001")
    assert done["decision"] == "HOLD"
    # ...nor by a main-warehouse lead's badge sent from the other warehouse's bench
    taken = scan(client, world, "bench-x", qr, str(uuid.uuid4()), operator="L001")
    assert taken["reason"] in ("not_lead", "no_exception")
    assert open_exceptions(session) == opened


def test_a_packer_badge_cannot_clear_an_exception(app, client, session, world):
    if "console" not in app.blueprints:
        pytest.skip("no bench clearing without the console")
    opened = open_exceptions(session)
    qr = f"SG-EX-{world.blocked_scan_id}"
    taken = scan(client, world, "bench-a", qr, str(uuid.uuid4()), operator="P001")
    assert taken["reason"] == "not_lead"
    scan(client, world, "bench-a", "SG-RS-misscan", str(uuid.uuid4()), operator="P001")
    assert open_exceptions(session) == opened
