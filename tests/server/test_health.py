"""/healthz: the database is probed at most once a second, whatever the polling rate."""

from __future__ import annotations

from sqlalchemy import create_engine, event

from server.health import Liveness


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_database_is_probed_at_most_once_per_interval(engine):
    probes, clock = [], Clock()
    event.listen(engine, "before_cursor_execute", lambda *a: probes.append(a[2]))
    liveness = Liveness(engine, max_age_s=1.0, monotonic=clock)
    assert all(liveness.alive() for _ in range(20))
    assert probes == ["SELECT 1"]
    clock.now += 0.9
    assert liveness.alive() and len(probes) == 1
    clock.now += 0.2
    assert liveness.alive() and len(probes) == 2


def test_an_unreachable_database_is_503(app, client):
    gone = create_engine(
        "postgresql+psycopg://postgres@127.0.0.1:9/nowhere", connect_args={"connect_timeout": 2}
    )
    assert client.get("/healthz").json == {"status": "ok"}
    app.extensions["shipgate.liveness"] = Liveness(gone)
    answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.json == {"status": "error", "database": "unreachable"}
    assert answer.content_type == "application/json"
