"""Shared fixtures: a migrated database on SQLite and (when SHIPGATE_TEST_POSTGRES_URL is set)
PostgreSQL, the app and its test client, a live waitress server on loopback, enrolled stations."""

from __future__ import annotations

import os

import pytest
from liveserver import LiveServer
from sqlalchemy import text
from sqlalchemy.orm import Session

from server import db
from server.app import create_app
from server.models import Base
from server.settings import Settings

POSTGRES_URL = os.environ.get("SHIPGATE_TEST_POSTGRES_URL")
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
    return engine


@pytest.fixture
def session(engine):
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def settings(tmp_path) -> Settings:
    # Douyin points at a closed loopback port unless a test starts the sandbox: never the internet.
    return Settings.build(
        {
            "instance_dir": str(tmp_path / "instance"),
            "secret_key": "test-secret-key",
            "douyin_gateway": "http://127.0.0.1:9",
            "lookup_budget_ms": 300,
            # Most tests scan at fixed dates while the server stamps receipts with the real clock:
            # believe those claims here; tests/server/test_scan_clock.py checks the real bound.
            "scan_clock_skew_s": 100 * 365 * 86400,
        }
    )


@pytest.fixture
def app(engine, settings):
    app = create_app(settings, engine=engine, migrate=False)
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
