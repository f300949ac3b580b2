"""Fixtures shared by the server's tests: the console signed in by role (console, incidents) and
the Douyin sandbox on loopback with its shop and a pull worker (sync, incidents)."""

from __future__ import annotations

import re
import uuid

import pytest
from factories import make_order, refund
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from douyin_sandbox import Sandbox, SandboxConfig, SandboxServer
from server.douyin import DouyinClient, SelfBuiltShop, TokenKeeper
from server.models import Shop, Warehouse
from server.models.users import Role, User
from server.sync.shops import load_tokens, save_tokens
from server.sync.worker import ShopSync

# -- the console ---------------------------------------------------------------------------------

PASSWORD = "correct-horse-42"
# Production hashes with scrypt (see test_console_auth); signing in dozens of times against a
# cheap hash keeps the suite fast. Werkzeug reads the method from the stored hash.
FAST_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
NOW = "2026-11-26T09:00:00+08:00"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


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


# -- the Douyin sandbox --------------------------------------------------------------------------


@pytest.fixture
def push_url() -> str | None:
    """Where the sandbox pushes; a test module that wants pushes overrides this."""
    return None


@pytest.fixture
def sandbox_config(push_url) -> SandboxConfig:
    return SandboxConfig(
        app_key="7000000000000000042",
        app_secret="test-sandbox-secret",
        shop_id="80000042",
        n_orders=40,
        push_url=push_url,
        push_retry_delays=(0.05, 0.1, 0.2, 0.5),
    )


@pytest.fixture
def sandbox(sandbox_config):
    sandbox = Sandbox(sandbox_config)
    with SandboxServer(sandbox=sandbox) as running:  # also starts the push sender
        yield running


@pytest.fixture
def shop(session, sandbox):
    config = sandbox.config
    row = Shop(shop_id=config.shop_id, name="", app_key=config.app_key, app_secret=config.app_secret)
    session.add(row)
    session.commit()
    return row


@pytest.fixture
def make_worker(sessions, sandbox, shop):
    """A pull worker on the sandbox's business clock; retries do not really sleep."""
    clients = []

    def make(owner: str = "test-worker", **options) -> ShopSync:
        client = DouyinClient(sandbox.url, shop.app_key, shop.app_secret, sleep=lambda _s: None)
        clients.append(client)
        keeper = TokenKeeper(
            client,
            SelfBuiltShop(shop.shop_id),
            load=lambda: load_tokens(sessions, shop.shop_id),
            save=lambda tokens: save_tokens(sessions, shop.shop_id, tokens),
            clock=sandbox.sandbox.shop.now,
        )
        return ShopSync(
            sessions, shop.shop_id, keeper.api, owner=owner, clock=sandbox.sandbox.shop.now, **options
        )

    yield make
    for client in clients:
        client.close()


# -- open exceptions, made the real way (a station scan) ------------------------------------------


@pytest.fixture
def station_scan(client, auth, clock):
    """Scan a code at bench-1 through the station API; returns the answer. The scan is made at
    the server's clock unless `at` says otherwise (then set the clock there too: the server
    bounds a scan's time by its own)."""

    def scan(code: str, operator: str | None = "P001", at: str | None = None) -> dict:
        scanned_at = at or clock.now().isoformat()
        body = {"scan_id": str(uuid.uuid4()), "code": code, "scanned_at": scanned_at, "operator": operator}
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
