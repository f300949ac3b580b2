"""Console fixtures: open exceptions made the real way (a station scan). Users of each role and
the signed-in client are in tests/server/conftest.py."""

from __future__ import annotations

import uuid

import pytest
from factories import make_order, refund
from sqlalchemy import func, select

import server.models.users  # noqa: F401 - registers the console's tables, so the shared wipe clears them

NOW = "2026-11-26T09:00:00+08:00"


@pytest.fixture
def station_scan(client, auth):
    """Scan a code at bench-1 through the station API; returns the answer."""

    def scan(code: str, operator: str | None = "P001") -> dict:
        body = {"scan_id": str(uuid.uuid4()), "code": code, "scanned_at": NOW, "operator": operator}
        response = client.post("/api/v1/scans", json=body, headers=auth)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.json

    return scan


@pytest.fixture
def blocked(session, station_scan):
    """A refunded order scanned at bench-1: one open BLOCK exception. Returns (order, answer)."""
    order = make_order(session, tracking_no="SF1234567890123")
    refund(session, order)
    answer = station_scan(order.order_id)
    assert answer["decision"] == "BLOCK"
    return order, answer


@pytest.fixture
def count(session):
    """count(Model, *where): rows now, read afresh."""

    def count(model, *where) -> int:
        session.expire_all()
        return session.scalar(select(func.count()).select_from(model).where(*where))

    return count


@pytest.fixture
def snapshot(session):
    """snapshot(*models): every row of those tables, to assert a refused request changed nothing."""

    def snapshot(*models) -> dict:
        session.expire_all()
        return {
            model.__tablename__: sorted(
                tuple(str(value) for value in row) for row in session.execute(select(model.__table__)).all()
            )
            for model in models
        }

    return snapshot
