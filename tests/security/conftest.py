"""Fixtures for the security suite: the app with every route it has (the console too, if it is
there), a world to aim at (two warehouses, stations, users of each role, a shop, an order, an
open exception), and browsers signed in the real way (the login form and its CSRF token)."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

# The suite runs with --import-mode=importlib: make this directory's kit importable by name.
sys.path.insert(0, str(Path(__file__).parent))

from factories import make_order, refund  # noqa: E402
from seckit import NOW, ROBOT_SECRET, ROBOT_URL, SHOP_SECRET, Browser, World, console_present, make_user  # noqa: E402

from server.models import Shop  # noqa: E402
from server.stations import enrol, revoke  # noqa: E402


@pytest.fixture
def app(app):
    """The shared app, with the console registered if the package has one and create_app did not."""
    if not console_present(app):
        try:
            from server import console
        except ImportError:
            return app
        console.init_app(app)
    return app


@pytest.fixture
def world(app, client, session) -> World:
    w = World()
    for name, warehouse in (("bench-a", "main"), ("bench-b", "main"), ("bench-x", "other"), ("gone", "main")):
        station, token = enrol(session, name, warehouse)
        w.tokens[name], w.station_ids[name] = token, station.id
        if name == "gone":
            revoke(session, station, actor="test")
    shop = Shop(shop_id="10437917", name="安全测试店", app_key="7000000000000000999", app_secret=SHOP_SECRET)
    session.add(shop)
    session.commit()
    w.shop_id = shop.shop_id
    order = make_order(session, tracking_no="SF1234567890123")
    refund(session, order)
    w.order_id = order.order_id
    if console_present(app):
        from sqlalchemy import select

        from server.models import Warehouse

        other = session.scalar(select(Warehouse.id).where(Warehouse.name == "other"))
        w.user_ids = {
            "admin": make_user(session, "admin", "admin"),
            "lead": make_user(session, "lead", "lead"),
            "lead-other": make_user(session, "lead-other", "lead", other),
        }
        session.commit()
    w.blocked_scan_id = str(uuid.uuid4())
    body = {"scan_id": w.blocked_scan_id, "code": order.order_id, "scanned_at": NOW}
    answer = client.post("/api/v1/scans", json=body, headers=w.bearer("bench-a")).get_json()
    assert answer["decision"] == "BLOCK"
    w.exception_id = int(answer["exception_id"])
    if console_present(app):
        _console_things(session, client, w)
    return w


def _console_things(session, client, w: World) -> None:
    """Operators, a group robot and a shipped-after-refund incident, for the routes that name them."""
    from sqlalchemy import select

    from server.models import Operator, Warehouse

    main = session.scalar(select(Warehouse.id).where(Warehouse.name == "main"))
    lead = Operator(name="主管甲", badge="L001", warehouse_id=main, is_lead=True)
    packer = Operator(name="打包员乙", badge="P001", warehouse_id=main)
    session.add_all([lead, packer])
    session.flush()
    w.ids["operator_id"] = packer.id
    try:
        from server.models.incidents import Incident, Robot
    except ImportError:
        session.commit()
        return
    robot = Robot(name="群机器人", kind="wecom", webhook_url=ROBOT_URL, secret=ROBOT_SECRET)
    session.add(robot)
    session.commit()
    w.ids["robot_id"] = robot.id
    shipped = make_order(session, tracking_no="SF1234567890999")  # passes the gate, then is refunded
    body = {"scan_id": str(uuid.uuid4()), "code": shipped.order_id, "scanned_at": NOW}
    assert (
        client.post("/api/v1/scans", json=body, headers=w.bearer("bench-a")).get_json()["decision"] == "PASS"
    )
    refund(session, shipped)
    incident = session.scalar(select(Incident.id).where(Incident.order_id == shipped.order_id))
    if incident is not None:
        w.ids["incident_id"] = incident


@pytest.fixture
def browser(app):
    return lambda: Browser(app)
