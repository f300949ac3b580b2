"""The scan path's own connection (server.db.raw_cursor): on PostgreSQL it reads in autocommit and
goes back to the pool as a transactional connection; every scan is still journaled atomically.

The engine here has a pool of one connection, so the session after a scan gets the very
connection the scan used.
"""

from __future__ import annotations

import uuid

import pytest
from factories import make_order, refund
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from server.app import create_app
from server.models import Scan, ScanException
from server.stations import enrol
from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL, reason="PostgreSQL not configured: set SHIPGATE_TEST_POSTGRES_URL (.ci/run does)"
)


@pytest.fixture
def one_connection(engine, backend):
    if backend != "postgres":
        pytest.skip("SQLite's driver opens a transaction only before a write: nothing to change there")
    single = create_engine(POSTGRES_URL, pool_size=1, max_overflow=0, pool_pre_ping=True)  # as make_engine's
    yield single
    single.dispose()


def scan(client, token, code, clock):
    body = {"scan_id": str(uuid.uuid4()), "code": code, "scanned_at": clock.now().isoformat()}
    return client.post("/api/v1/scans", json=body, headers={"Authorization": f"Bearer {token}"})


def test_after_a_scan_a_session_on_the_same_connection_is_a_transaction_again(
    one_connection, settings, clock
):
    app = create_app(settings, engine=one_connection, migrate=False, clock=clock)
    with Session(one_connection) as session:
        _station, token = enrol(session, "bench-pg")
        order = make_order(session)
    assert scan(app.test_client(), token, order.order_id, clock).json["decision"] == "PASS"
    with one_connection.connect() as connection:  # the connection the scan used, back from the pool
        assert connection.connection.dbapi_connection.autocommit is False
        connection.execute(text("UPDATE stations SET name = 'renamed' WHERE name = 'bench-pg'"))
        connection.rollback()
    with Session(one_connection) as session:
        assert session.scalar(text("SELECT count(*) FROM stations WHERE name = 'bench-pg'")) == 1


def test_a_blocked_scan_journals_its_exception_on_the_autocommit_connection(one_connection, settings, clock):
    """A scan with an exception is two INSERTs: the journal makes them one transaction there."""
    app = create_app(settings, engine=one_connection, migrate=False, clock=clock)
    with Session(one_connection) as session:
        _station, token = enrol(session, "bench-pg")
        order = make_order(session)
        refund(session, order)
    answer = scan(app.test_client(), token, order.order_id, clock).json
    assert answer["decision"] == "BLOCK" and answer["exception_id"]
    with Session(one_connection) as session:
        assert session.scalar(select(func.count()).select_from(Scan)) == 1
        assert session.scalar(select(func.count()).select_from(ScanException)) == 1
