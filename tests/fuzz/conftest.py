"""Fixtures for the fuzz suite: the shared app (SQLite, and PostgreSQL when configured), two
enrolled stations, a registered shop for signed pushes, and an app with a small body limit."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from factories import TEST_DATA_KEY

# The suite runs with --import-mode=importlib: make this directory's kit importable by name.
sys.path.insert(0, str(Path(__file__).parent))

from fuzzkit import APP_KEY, APP_SECRET, SHOP_ID  # noqa: E402

from server.app import create_app  # noqa: E402
from server.models import Shop  # noqa: E402
from server.settings import Settings  # noqa: E402
from server.stations import enrol  # noqa: E402


@pytest.fixture
def stations(session) -> dict[str, tuple[int, dict[str, str]]]:
    """Two stations in different warehouses: name -> (station id, auth headers)."""
    made = {}
    for name, warehouse in (("bench-a", "main"), ("bench-b", "other")):
        station, token = enrol(session, name, warehouse)
        made[name] = (station.id, {"Authorization": f"Bearer {token}"})
    session.commit()
    return made


@pytest.fixture
def signed_shop(session) -> Shop:
    shop = Shop(shop_id=SHOP_ID, name="模糊测试店", app_key=APP_KEY, app_secret=APP_SECRET)
    session.add(shop)
    session.commit()
    return shop


@pytest.fixture
def small_app(engine, tmp_path):
    """The app with a 2 KiB body limit, to send oversized bodies cheaply."""
    settings = Settings.build(
        {
            "instance_dir": str(tmp_path / "instance-small"),
            "data_key": TEST_DATA_KEY,
            "secret_key": "test-secret-key",
            "douyin_gateway": "http://127.0.0.1:9",
            "max_body_bytes": 2048,
        }
    )
    app = create_app(settings, engine=engine, migrate=False)
    app.config["TESTING"] = True
    return app
