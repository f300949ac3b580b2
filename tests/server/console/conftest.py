"""Console fixtures: the app with the console registered, users of each role, a client that
signs in and sends the CSRF token, and open exceptions made the real way (a station scan)."""

from __future__ import annotations

import re
import uuid

import pytest
from factories import make_order, refund
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

import server.models.users  # noqa: F401 - registers the console's tables, so the shared wipe clears them
from server import console
from server.models import Warehouse
from server.models.users import Role, User

PASSWORD = "correct-horse-42"
# Production hashes with scrypt (see test_console_auth); signing in dozens of times against a
# cheap hash keeps the suite fast. Werkzeug reads the method from the stored hash.
FAST_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
NOW = "2026-11-26T09:00:00+08:00"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def app(app):
    """The shared app, with the console registered unless create_app already did."""
    if "console" not in app.blueprints:
        console.init_app(app)
    return app


@pytest.fixture
def make_user(session):
    def make(name: str, role: str = "lead", *, warehouse: str | None = None, active: bool = True) -> User:
        warehouse_id = None
        if warehouse is not None:
            found = session.scalar(select(Warehouse).where(Warehouse.name == warehouse))
            if found is None:
                found = Warehouse(name=warehouse)
                session.add(found)
                session.flush()
            warehouse_id = found.id
        user = User(
            name=name, password_hash=FAST_HASH, role=Role(role), warehouse_id=warehouse_id, active=active
        )
        session.add(user)
        session.commit()
        return user

    return make


class ConsoleClient:
    """The Flask test client, signed in as someone, sending the CSRF token with every POST."""

    def __init__(self, client):
        self.client = client

    def login(self, name: str, password: str = PASSWORD, **extra):
        page = self.client.get("/login")
        token = CSRF_FIELD.search(page.get_data(as_text=True)).group(1)
        return self.client.post(
            "/login", data={"name": name, "password": password, "csrf_token": token}, **extra
        )

    def token(self) -> str:
        with self.client.session_transaction() as cookie:
            return cookie["csrf"]

    def get(self, url: str, **kwargs):
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict | None = None, *, csrf: bool = True, **kwargs):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.token())
        return self.client.post(url, data=data, **kwargs)


@pytest.fixture
def web(client) -> ConsoleClient:
    return ConsoleClient(client)


@pytest.fixture
def new_web(app):
    """Another browser: a fresh client with its own cookies."""
    return lambda: ConsoleClient(app.test_client())


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def as_admin(web, make_user) -> ConsoleClient:
    make_user("admin", "admin")
    assert web.login("admin").status_code == 302
    return web


@pytest.fixture
def as_lead(web, make_user) -> ConsoleClient:
    make_user("lead", "lead")
    assert web.login("lead").status_code == 302
    return web


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
