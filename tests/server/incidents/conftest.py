"""Incident fixtures: the Douyin sandbox on loopback with the shop registered against it and a
pull worker (as in tests/server/sync), scans made the real way through the station API,
console clients signed in by role, and tiny local HTTP listeners standing in for group robots."""

from __future__ import annotations

import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from factories import ensure_shop, refund
from sqlalchemy import select
from werkzeug.security import generate_password_hash

import server.models.incidents  # noqa: F401 - registers the tables, so the shared wipe clears them
import server.models.users  # noqa: F401
from douyin_sandbox import SandboxConfig
from server.ingest import OrderRecord, SkuRecord, upsert_order
from server.models import Operator, Scan, ScanException, Warehouse
from server.models.incidents import Incident, IncidentEvent
from server.stations import enrol

PASSWORD = "correct-horse-42"
FAST_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


# The Douyin sandbox: tests/server/conftest.py, with a smaller shop.


@pytest.fixture
def sandbox_config(push_url) -> SandboxConfig:
    return SandboxConfig(
        app_key="7000000000000000042",
        app_secret="test-sandbox-secret",
        shop_id="80000042",
        n_orders=5,
        push_url=push_url,
        push_retry_delays=(0.05, 0.1, 0.2, 0.5),
    )


@pytest.fixture
def incidents(session):
    """incidents(): every incident now, read afresh."""

    def read() -> list[Incident]:
        session.expire_all()
        return list(session.scalars(select(Incident).order_by(Incident.id)))

    return read


# The console, signed in.


@pytest.fixture
def as_admin(new_web, make_user):
    """An admin in a browser of their own (tests here use a lead and an admin side by side)."""
    make_user("admin", "admin")
    web = new_web()
    assert web.login("admin").status_code == 302
    return web


# Group robots: local HTTP listeners.


@dataclass
class Listener:
    """A robot's webhook on 127.0.0.1: records every request and answers with `reply(request)`."""

    reply: object
    requests: list[dict] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/robot/send?access_token=tok-123"


@pytest.fixture
def listener():
    running: list[Listener] = []

    def start(reply) -> Listener:
        spot = Listener(reply)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the standard library's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                request = {
                    "path": self.path,
                    "headers": dict(self.headers),
                    "json": json.loads(body or b"null"),
                }
                spot.requests.append(request)
                status, answer = spot.reply(request)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args):
                pass

        spot.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=spot.server.serve_forever, args=(0.05,), name="robot-listener", daemon=True
        ).start()
        running.append(spot)
        return spot

    yield start
    for spot in running:
        spot.server.shutdown()
        spot.server.server_close()


# A month of scans, exceptions and incidents with fixed timestamps (the monthly review).

CN = timezone(timedelta(hours=8))
_serial = itertools.count(1)


def cn(month, day, hour, minute, second=0, year=2026) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=CN)


def order(session, *categories) -> str:
    ensure_shop(session)
    order_id = f"48{next(_serial):017d}"
    skus = tuple(
        SkuRecord(f"49{next(_serial):017d}", product_name=f"{c or '无类目'}商品", category=c)
        for c in categories
    )
    upsert_order(session, OrderRecord(order_id=order_id, shop_id="10437917", order_status=2, skus=skus))
    return order_id


def scan(session, station, at, decision, order_id, operator="P001", reason=None):
    row = Scan(
        station_id=station.id, scan_id=f"s-{next(_serial)}", warehouse_id=station.warehouse_id, code=order_id or "x",
        code_kind="order_id", operator=operator, scanned_at=at.astimezone(UTC), received_at=at.astimezone(UTC),
        decision=decision, reason=reason or {"BLOCK": "refunded", "HOLD": "refund_pending", "PASS": "clear"}[decision],
        order_id=order_id,
    )  # fmt: skip
    session.add(row)
    session.flush()
    if decision != "PASS":
        session.add(ScanException(scan_pk=row.id, scan_id=row.scan_id, warehouse_id=row.warehouse_id,
                                  station_id=station.id, order_id=order_id, decision=decision, reason=row.reason,
                                  opened_at=row.received_at))  # fmt: skip
    return row


def incident(session, order_id, warehouse, detected, *, station=None, packer=None, passed=None, category="家居",
             cause=None, intercept=None, race=None, state="open", outcome=None, **ledger) -> Incident:  # fmt: skip
    row = Incident(
        order_id=order_id, shop_id="10437917", warehouse_id=warehouse.id, trigger="refund_after_pass",
        goods=[{"sku_order_id": order_id, "name": "商品", "code": None, "category": category, "num": 1, "price": None}],
        detected_at=detected.astimezone(UTC), passed_at=passed and passed.astimezone(UTC),
        station_id=station and station.id, packer=packer, cause=cause, race_window_s=race, state=state,
        outcome=outcome, closed_at=detected.astimezone(UTC) if state == "closed" else None, **ledger,
    )  # fmt: skip
    session.add(row)
    session.flush()
    if intercept is not None:
        session.add(IncidentEvent(incident_id=row.id, at=row.detected_at, actor="user:lead", kind="intercept",
                                  detail={"is_success": intercept, "unavailable_reason": "" if intercept else "包裹已签收"}))  # fmt: skip
    return row


@pytest.fixture
def month(session):
    """November 2026 at 华东仓 (stations A1, A2), with 华南仓 (B1) and October around it."""
    a1, _ = enrol(session, "A1", "华东仓")
    a2, _ = enrol(session, "A2", "华东仓")
    b1, _ = enrol(session, "B1", "华南仓")
    east = session.scalar(select(Warehouse).where(Warehouse.name == "华东仓"))
    session.add_all([Operator(name="张三", badge="P001"), Operator(name="李四", badge="P002")])
    o1, o2, o3 = order(session, "服饰"), order(session, "美妆护肤"), order(session, "服饰", "数码配件")
    o4, o5, o6, o7 = (
        order(session, None),
        order(session, "美妆护肤"),
        order(session, "服饰"),
        order(session, "服饰"),
    )
    o8, o9, o10, o11 = (
        order(session, "家居"),
        order(session, "服饰"),
        order(session, "服饰"),
        order(session, "食品饮料"),
    )
    session.commit()
    refund(
        session, _record(o1), update_time=int(cn(11, 3, 9, 14, 30).timestamp())
    )  # 30 s before its 1st BLOCK
    refund(session, _record(o3), update_time=int(cn(11, 10, 13, 0).timestamp()))  # 3,900 s before
    scan(session, a1, cn(11, 3, 9, 15), "BLOCK", o1)  # 1  h9  A1 张三 服饰
    scan(session, a1, cn(11, 4, 8, 0), "BLOCK", o1)  # 2  h8  A1 张三 服饰 (not its first BLOCK)
    scan(session, a1, cn(11, 3, 9, 40), "HOLD", o2, "P002")  # 3  h9  A1 李四 美妆护肤
    scan(session, a2, cn(11, 10, 14, 5), "BLOCK", o3)  # 4  h14 A2 张三 服饰+数码配件
    scan(session, a1, cn(11, 20, 23, 30), "BLOCK", o4, None)  # 5  h23 A1 未登录 未分类
    scan(session, a2, cn(11, 30, 23, 59, 30), "HOLD", o5, "P002")  # 6  h23 A2 李四 美妆护肤 (last minute)
    scan(session, a1, cn(12, 1, 0, 0, 10), "BLOCK", o6)  # December: out
    scan(session, a1, cn(10, 31, 23, 59, 50), "HOLD", o6)  # October
    scan(session, a1, cn(10, 15, 8, 0), "BLOCK", o9)  # October
    scan(session, a1, cn(11, 5, 10, 0), "BLOCK", o6, reason="drill")  # a drill: never counted
    scan(session, b1, cn(11, 12, 11, 0), "BLOCK", o7)  # 华南仓
    scan(session, a1, cn(11, 15, 10, 0), "PASS", o8)  # a PASS is no block or hold
    incident(
        session,
        o8,
        east,
        cn(11, 15, 10, 1),
        station=a1,
        packer="P001",
        passed=cn(11, 15, 10, 0),
        cause="operator_error",
        intercept=True,
        race=40,
        return_freight=1200,
        coupon=500,
        state="closed",
        outcome="intercepted",
    )  # fmt: skip  net 1,700
    incident(
        session,
        o10,
        east,
        cn(11, 22, 16, 31),
        station=a2,
        packer="P002",
        passed=cn(11, 22, 16, 30),
        category="服饰",
        cause="refund_not_synced",
        intercept=False,
        race=-15,
        written_off=8900,
        claim_recovered=3000,
    )  # fmt: skip  net 5,900
    incident(session, o11, east, cn(11, 25, 9, 5), category="食品饮料")  # shipped, never scanned; net 0
    incident(session, o9, east, cn(10, 20, 12, 0), intercept=True, return_freight=1000)  # October, net 1,000
    south = session.scalar(select(Warehouse).where(Warehouse.name == "华南仓"))
    incident(session, o7, south, cn(11, 12, 11, 5), station=b1, compensation=2500)  # 华南仓, net 2,500
    session.commit()
    return east


def _record(order_id):
    return OrderRecord(order_id=order_id, shop_id="10437917", order_status=2)
