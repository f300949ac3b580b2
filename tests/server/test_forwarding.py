"""The inline gate on the server: forwarding reports on the station's own PASS scans (stored once,
refused for other stations' scans and for non-PASS scans), and the queue and order page showing a
PASS whose code never reached the packing PC until a later scan of the order was forwarded."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from factories import make_order, refund
from sqlalchemy import select

from server.models import Scan
from server.stations import enrol

BASE = datetime(2026, 3, 1, 4, 0, tzinfo=UTC)  # scan times are data here, never compared with now


def at(minutes: int) -> str:
    return (BASE + timedelta(minutes=minutes)).isoformat()


def scan(client, auth, code: str, minutes: int = 0) -> dict:
    body = {"scan_id": str(uuid.uuid4()), "code": code, "scanned_at": at(minutes), "operator": "P001"}
    response = client.post("/api/v1/scans", json=body, headers=auth)
    assert response.status_code == 200
    return response.json


def report(client, auth, *reports: dict):
    return client.post("/api/v1/scans/forwarding", json={"reports": list(reports)}, headers=auth)


def row(session, scan_id: str) -> Scan:
    session.expire_all()
    return session.scalar(select(Scan).where(Scan.scan_id == scan_id))


def test_a_report_is_stored_on_the_pass_once(client, auth, session):
    answer = scan(client, auth, make_order(session).order_id)
    first = {"scan_id": answer["scan_id"], "state": "failed", "at": at(1), "problem": "/dev/hidg0: EIO"}
    assert report(client, auth, first).json["results"] == [
        {"scan_id": answer["scan_id"], "stored": True, "error": None}
    ]
    again = {"scan_id": answer["scan_id"], "state": "forwarded", "at": at(2)}
    assert report(client, auth, again).json["results"][0]["stored"]  # idempotent, but the first stands
    stored = row(session, answer["scan_id"])
    assert (stored.forward_state, stored.forward_problem) == ("failed", "/dev/hidg0: EIO")
    assert stored.forward_at == BASE + timedelta(minutes=1)


def test_unknown_scans_other_stations_and_non_passes_are_refused(client, auth, session):
    order = make_order(session)
    refund(session, order)
    blocked = scan(client, auth, order.order_id)
    passed = scan(client, auth, make_order(session).order_id)
    _other, token = enrol(session, "bench-2", "main")
    session.commit()
    other = {"Authorization": f"Bearer {token}"}
    results = report(
        client,
        auth,
        {"scan_id": blocked["scan_id"], "state": "forwarded", "at": at(1)},
        {"scan_id": "not-uploaded-yet", "state": "forwarded", "at": at(1)},
    ).json["results"]
    assert [r["error"] for r in results] == ["not_pass", "unknown_scan"]
    theirs = report(client, other, {"scan_id": passed["scan_id"], "state": "failed", "at": at(1)})
    assert theirs.json["results"][0]["error"] == "unknown_scan"  # another station's scan: not theirs
    assert row(session, blocked["scan_id"]).forward_state is None
    assert row(session, passed["scan_id"]).forward_state is None


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"reports": []},
        {"reports": [{"scan_id": "x", "state": "typed", "at": at(0)}]},
        {"reports": [{"scan_id": "x", "state": "failed", "at": "yesterday"}]},
        {"reports": [{"scan_id": "x", "state": "failed", "at": at(0), "extra": 1}]},
        {"reports": [{"scan_id": "bad id!", "state": "failed", "at": at(0)}]},
        {"reports": [{"scan_id": "x", "state": "failed", "at": at(0), "problem": "a\x00b"}]},
        {"reports": ["x"]},
    ],
)
def test_bad_reports_are_refused_and_change_nothing(client, auth, session, body):
    answer = scan(client, auth, make_order(session).order_id)
    for item in body.get("reports", []):
        if isinstance(item, dict):
            item["scan_id"] = answer["scan_id"] if item["scan_id"] == "x" else item["scan_id"]
    response = client.post("/api/v1/scans/forwarding", json=body, headers=auth)
    assert response.status_code == 400 and response.json["error"]
    assert row(session, answer["scan_id"]).forward_state is None


def test_without_a_token_nothing(client, session):
    assert client.post("/api/v1/scans/forwarding", json={"reports": []}).status_code == 401


def test_the_queue_and_the_order_page_show_a_pass_that_did_not_print(client, auth, session, as_lead, clock):
    clock.set(BASE)  # the server's time at the scans: their times are kept (server.scanclock)
    order = make_order(session)
    fine = make_order(session)
    failed = scan(client, auth, order.order_id, minutes=0)
    ok = scan(client, auth, fine.order_id, minutes=0)
    report(
        client, auth, {"scan_id": failed["scan_id"], "state": "failed", "at": at(0), "problem": "no reply"}
    )
    report(client, auth, {"scan_id": ok["scan_id"], "state": "forwarded", "at": at(0)})

    rows = as_lead.get("/queue/rows").get_data(as_text=True)
    assert "放行但未送到打单电脑（运单未打印）" in rows and "转发失败 运单未打印" in rows
    assert order.order_id in rows and fine.order_id not in rows and "no reply" in rows
    page = as_lead.get(f"/orders/{order.order_id}").get_data(as_text=True)
    assert "打单电脑" in page and "转发失败 运单未打印" in page

    clock.advance(minutes=5)
    again = scan(client, auth, order.order_id, minutes=5)  # rescanned after the cable was fixed
    report(client, auth, {"scan_id": again["scan_id"], "state": "forwarded", "at": at(5)})
    rows = as_lead.get("/queue/rows").get_data(as_text=True)
    assert "放行但未送到打单电脑" not in rows
    page = as_lead.get(f"/orders/{order.order_id}").get_data(as_text=True)
    assert "已送到打单电脑" in page and "转发失败 运单未打印" in page  # the history stays


def test_an_interrupted_forward_shows_too(client, auth, session, as_lead):
    order = make_order(session)
    answer = scan(client, auth, order.order_id)
    report(client, auth, {"scan_id": answer["scan_id"], "state": "unknown", "at": at(0), "problem": None})
    assert "转发中断 运单可能未打印" in as_lead.get("/").get_data(as_text=True)


def test_migration_0006_matches_the_model_and_downgrades(tmp_path):
    from alembic import command
    from sqlalchemy import inspect

    from server import db

    engine = db.make_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    db.upgrade(engine)
    columns = {c["name"] for c in inspect(engine).get_columns("scans")}
    assert {"forward_state", "forward_at", "forward_problem"} <= columns
    config = db.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0004")
    assert not {"forward_state", "forward_at"} & {c["name"] for c in inspect(engine).get_columns("scans")}
    db.upgrade(engine)
    assert "forward_state" in {c["name"] for c in inspect(engine).get_columns("scans")}
