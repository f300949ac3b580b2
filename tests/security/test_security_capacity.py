"""Availability: a burst of scans cannot starve the server of database connections."""

from __future__ import annotations

import threading

from factories import TEST_DATA_KEY
from sqlalchemy import event

from server.models import Shop

NOW = "2026-11-26T09:00:00+08:00"


def peak_connections(engine, action) -> int:
    """The most pooled connections held at once while `action` runs (single-threaded)."""
    lock, held, peak = threading.Lock(), [0], [0]

    def checkout(*_args):
        with lock:
            held[0] += 1
            peak[0] = max(peak[0], held[0])

    def checkin(*_args):
        with lock:
            held[0] -= 1

    event.listen(engine.pool, "checkout", checkout)
    event.listen(engine.pool, "checkin", checkin)
    try:
        action()
    finally:
        event.remove(engine.pool, "checkout", checkout)
        event.remove(engine.pool, "checkin", checkin)
    return peak[0]


def test_the_pool_cannot_deadlock_on_the_live_lookup_path(app, client, engine, session, world):
    """Every worker thread may hold all but its last connection, and the journal's committer one
    more: the pool must still have one to give, or the threads wait on each other until the pool's
    30 s timeout and answer 500. (A scan of an unknown order holds 3 at once: the request's raw
    connection, the live look-up's session and the token loader's; see make soak, scenario i.)"""
    session.add(Shop(shop_id="10437999", name="未授权店", app_key="7000000000000001000", app_secret="s"))
    session.commit()
    body = {"scan_id": "cap-1", "code": "4799999999999999999", "scanned_at": NOW}

    def scan():
        assert client.post("/api/v1/scans", json=body, headers=world.bearer("bench-a")).status_code == 200

    per_request = peak_connections(engine, scan)
    pool = engine.pool
    capacity = pool.size() + max(pool._max_overflow, 0)
    threads = app.extensions["shipgate.settings"].threads
    assert per_request >= 1
    assert capacity >= threads * (per_request - 1) + 2, (capacity, threads, per_request)


def test_serve_raises_the_connection_limit(engine, tmp_path, monkeypatch):
    import waitress
    from click.testing import CliRunner

    from server.cli import main

    seen = {}
    monkeypatch.setattr(waitress, "serve", lambda app, **options: seen.update(options))
    env = {
        "SHIPGATE_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "SHIPGATE_INSTANCE_DIR": str(tmp_path / "instance"),
        "SHIPGATE_DATA_KEY": TEST_DATA_KEY,
        "SHIPGATE_DOUYIN_GATEWAY": "http://127.0.0.1:9",
    }
    result = CliRunner().invoke(main, ["serve", "--port", "0"], env=env)
    assert result.exit_code == 0, result.output
    assert seen.get("channel_timeout", 120) <= 60
    assert seen.get("connection_limit", 100) >= 500, seen
