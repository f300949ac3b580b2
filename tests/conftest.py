"""Shared fixtures: a migrated database on SQLite and (when SHIPGATE_TEST_POSTGRES_URL is set)
PostgreSQL, the business clock, the app and its test client, a live waitress server on loopback,
enrolled stations.

Time is an input: the app, its sessions and the `session` fixture read `clock`, a ManualClock that
shows the real now at the start of the test and moves only when the test moves it. A test about
"today", "this month" or "overdue" sets it; none compares a literal date with the machine's now."""

from __future__ import annotations

import os

import pytest
from factories import TEST_DATA_KEY
from liveserver import LiveServer
from sqlalchemy import text
from sqlalchemy.orm import Session

from server import db, gatestate, secretbox
from server.app import create_app
from server.clock import SYSTEM, ManualClock, bind
from server.clock import sessions as clock_sessions
from server.incidents import detect
from server.models import Base
from server.settings import Settings

POSTGRES_URL = os.environ.get("SHIPGATE_TEST_POSTGRES_URL")
# One data key for the whole run: rows written through a bare session (factories) and through an
# app read each other's secrets. create_app installs the settings' key, the same one.
secretbox.install(TEST_DATA_KEY)


@pytest.fixture(autouse=True)
def _test_data_key():
    """Every test starts with the suite's data key (the demo and CLI tests install their own)."""
    secretbox.install(TEST_DATA_KEY)


_engines: dict[str, object] = {}


def _engine_for(backend: str, tmp_path_factory):
    if backend not in _engines:
        if backend == "postgres":
            url = POSTGRES_URL
        else:
            url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'shipgate.sqlite3'}"
        engine = db.make_engine(url)
        if backend == "postgres":
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        db.upgrade(engine)
        _engines[backend] = engine
    return _engines[backend]


def _wipe(engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
        conn.execute(text("INSERT INTO counters (name, value) VALUES ('gate', 0)"))


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request) -> str:
    if request.param == "postgres" and not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured: set SHIPGATE_TEST_POSTGRES_URL (.ci/run does)")
    return request.param


@pytest.fixture
def engine(backend, tmp_path_factory):
    engine = _engine_for(backend, tmp_path_factory)
    _wipe(engine)
    detect.install(gatestate.HOOKS)  # as the composition roots do
    return engine


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(SYSTEM.now())


@pytest.fixture
def session(engine, clock):
    with bind(Session(engine, expire_on_commit=False), clock) as session:
        yield session


@pytest.fixture
def sessions(engine, clock):
    """A session factory on the test's clock (for threads and workers that open their own)."""
    return clock_sessions(engine, clock)


@pytest.fixture
def settings(tmp_path) -> Settings:
    # Douyin points at a closed loopback port unless a test starts the sandbox: never the internet.
    return Settings.build(
        {
            "instance_dir": str(tmp_path / "instance"),
            "secret_key": "test-secret-key",
            "data_key": TEST_DATA_KEY,
            "douyin_gateway": "http://127.0.0.1:9",
            "lookup_budget_ms": 300,
        }
    )


@pytest.fixture
def app(engine, settings, clock):
    app = create_app(settings, engine=engine, migrate=False, clock=clock)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def station_token(session) -> str:
    from server.stations import enrol

    _station, token = enrol(session, "bench-1", "main")
    session.commit()
    return token


@pytest.fixture
def auth(station_token) -> dict[str, str]:
    return {"Authorization": f"Bearer {station_token}"}


@pytest.fixture
def live_server(app):
    server = LiveServer(app).start()
    yield server
    server.stop()
