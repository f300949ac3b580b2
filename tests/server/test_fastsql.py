"""server.fastsql's prepared statements give what SQLAlchemy's own execution gives: the guard to
run before raising SQLAlchemy's pin (pyproject.toml)."""

from __future__ import annotations

from datetime import UTC, datetime

from factories import make_order
from sqlalchemy import select

from server.fastsql import Prepared
from server.journal import _insert_statement
from server.models import Scan
from server.scans import RESOLVE
from server.stations import enrol


def test_a_select_reads_as_sqlalchemy_reads_it(engine, session):
    order = make_order(session, skus=2, tracking_no="SF1234567890123")
    prepared = Prepared(engine, RESOLVE)
    connection = engine.raw_connection()
    try:
        row = prepared.first(connection.cursor(), {"code": "SF1234567890123", "warehouse_id": 1})
    finally:
        connection.close()
    with engine.connect() as conn:
        expected = dict(
            conn.execute(RESOLVE, {"code": "SF1234567890123", "warehouse_id": 1}).mappings().one()
        )
    assert row == expected and row["order_id"] == order.order_id and isinstance(row["label"], dict)


def test_an_insert_writes_what_sqlalchemy_reads_back(engine, session):
    station, _token = enrol(session, "bench-f", "main")
    session.commit()
    at = datetime(2026, 11, 26, 1, 2, 3, tzinfo=UTC)
    values = {
        "station_id": station.id, "scan_id": "f-1", "warehouse_id": station.warehouse_id, "code": "x",
        "code_kind": "order_id", "operator": None, "mode": "bench", "scanned_at": at, "received_at": at,
        "decision": "HOLD", "reason": "partial_refund", "order_id": None, "sku_out": ["4900000000000000001"],
        "gate_version": 3, "source": "online", "station_decision": None, "station_reason": None,
        "station_gate_version": None, "forward_state": None, "forward_at": None, "forward_problem": None,
        "claimed_at": None, "clock_skew_s": None, "clock_flag": None, "clock_synced": None, "boot_id": None,
        "mono_s": None,
    }  # fmt: skip
    prepared = Prepared(engine, _insert_statement(Scan.__table__))
    connection = engine.raw_connection()
    try:
        inserted = prepared.first(connection.cursor(), values)
        connection.commit()
    finally:
        connection.close()
    scan = session.scalar(select(Scan).where(Scan.id == inserted["id"]))
    assert scan.sku_out == ["4900000000000000001"] and scan.reason == "partial_refund"
    assert scan.scanned_at.replace(tzinfo=scan.scanned_at.tzinfo or UTC) == at
