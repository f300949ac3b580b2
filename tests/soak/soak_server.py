"""Scenarios a and b: the server process SIGKILLed and restarted under load (SQLite), and the
database restarted under load (PostgreSQL). Stations must decide offline meanwhile and upload
afterwards; nothing journaled may be missing or doubled on the server."""

from __future__ import annotations

import random
import shutil
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
from polling import wait_until
from soak_kit import (
    Driver,
    Options,
    Reconciliation,
    Result,
    ServerProc,
    build_station,
    code_mix,
    drained,
    enrol_stations,
    free_port,
    fresh_postgres,
    migrated_engine,
    reconcile,
    seed,
    sqlite_url,
    wrong_decisions,
)

STATIONS = 6
SCAN_INTERVAL_S = 0.08  # per station: ~12 scans/s each


class Floor:
    """A server, its database, seeded orders and STATIONS in-process benches scanning."""

    def __init__(self, workdir: Path, database_url: str, result: Result, orders: int = 5000):
        self.workdir, self.result = workdir, result
        self.engine = migrated_engine(database_url)
        self.catalog = seed(self.engine, orders)
        names = [f"bench-{i:02d}" for i in range(STATIONS)]
        self.stations = enrol_stations(self.engine, names)
        self.server = ServerProc(workdir, free_port(), database_url).start()
        self.benches = {
            name: build_station(self.server.url, token, workdir / name, name)
            for name, (_id, token) in self.stations.items()
        }
        if not wait_until(lambda: all(b.replica.last_sync is not None for b in self.benches.values()), 60):
            result.check(False, "replicas never synced")
        rng = random.Random(3)
        self.drivers = [
            Driver(
                bench, code_mix(self.catalog, random.Random(i)), SCAN_INTERVAL_S, rng_seed=rng.randrange(1000)
            )
            for i, bench in enumerate(self.benches.values())
        ]
        self._health_codes: Counter = Counter()
        self._watching = threading.Event()

    def start(self) -> None:
        for driver in self.drivers:
            driver.start()

    def watch_health(self) -> None:
        """Poll /healthz in the background, counting what it answers."""
        self._watching.set()

        def poll():
            while self._watching.is_set():
                try:
                    status = httpx.get(self.server.url + "/healthz", timeout=1).status_code
                except httpx.HTTPError:
                    status = "down"
                self._health_codes[status] += 1
                time.sleep(0.2)

        threading.Thread(target=poll, daemon=True).start()

    def finish(self, drain_timeout: float = 90) -> tuple[float, Reconciliation]:
        """Stop scanning, wait for every journal to upload, then compare journals with the server."""
        self._watching.clear()
        for driver in self.drivers:
            driver.stop()
        started = time.monotonic()
        self.result.check(
            wait_until(lambda: drained(self.benches.values()), drain_timeout, 0.25),
            f"journals not uploaded within {drain_timeout:.0f} s",
        )
        drain_s = time.monotonic() - started
        total = Reconciliation()
        for name, bench in self.benches.items():
            total.add(reconcile(self.engine, self.stations[name][0], bench.journal.path))
        return drain_s, total

    def report(self, drain_s: float, total: Reconciliation, *, expect_offline: bool = True) -> None:
        r = self.result
        sources = sum((d.sources() for d in self.drivers), Counter())
        outcomes = [o for d in self.drivers for o in d.outcomes]
        errors = [e for d in self.drivers for e in d.errors]
        r.say(
            f"stations {len(self.benches)}, scans {len(outcomes)}: "
            + ", ".join(f"{k} {v}" for k, v in sorted(sources.items()))
        )
        if self._health_codes:
            r.say(
                "/healthz during the run: "
                + ", ".join(f"{k}×{v}" for k, v in sorted(self._health_codes.items(), key=str))
            )
        r.say(f"uploads drained {drain_s:.1f} s after the load stopped")
        errors_inside = self.server.errors()
        r.say(
            "server log: " + (", ".join(f"{k} ×{v}" for k, v in errors_inside.most_common(6)) or "no errors")
        )
        r.say("journal vs server: " + total.line())
        wrong = wrong_decisions(outcomes, self.catalog)
        r.say("wrong decisions: " + (", ".join(f"{k} {v}" for k, v in wrong.items()) or "none"))
        r.check(not errors, f"bench.handle raised: {errors[:3]}")
        r.check(total.ok, "journal and server disagree: " + total.line())
        r.check(not wrong, f"wrong decisions: {dict(wrong)}")
        if expect_offline:
            r.check(sources.get("offline", 0) > 0, "no scan was decided offline: the outage was not felt")

    def close(self) -> None:
        for bench in self.benches.values():
            bench.stop()
        self.server.stop()
        self.engine.dispose()


def scenario_server_kill(workdir: Path, options: Options) -> Result:
    """server SIGKILLed and restarted under load"""
    result = Result("a", "server SIGKILLed and restarted under load (SQLite, 6 stations)")
    duration = options.pick(30, 12)
    floor = Floor(workdir, sqlite_url(workdir), result)
    try:
        floor.start()
        time.sleep(duration / 3)
        floor.server.kill()
        killed_at = time.monotonic()
        time.sleep(options.pick(4, 2))
        floor.server.start()
        result.say(
            f"server SIGKILLed at {duration / 3:.0f} s, back after {time.monotonic() - killed_at:.1f} s"
        )
        time.sleep(duration * 2 / 3)
        drain_s, total = floor.finish()
        floor.report(drain_s, total)
    finally:
        floor.close()
    return result


def pg_cluster() -> tuple[str, str] | None:
    """(version, cluster) of the local PostgreSQL, from /etc/postgresql."""
    base = Path("/etc/postgresql")
    if not base.is_dir() or not shutil.which("pg_ctlcluster"):
        return None
    for version in sorted(base.iterdir(), reverse=True):
        clusters = sorted(p.name for p in version.iterdir() if p.is_dir())
        if "main" in clusters:
            return version.name, "main"
        if clusters:
            return version.name, clusters[0]
    return None


def restart_postgres(cluster: tuple[str, str]) -> float:
    """pg_ctlcluster restart; returns the seconds until it accepts connections again."""
    started = time.monotonic()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", *cluster, "restart"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    wait_until(lambda: subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"]).returncode == 0, 60, 0.2)
    return time.monotonic() - started


def scenario_database_restart(workdir: Path, options: Options) -> Result:
    """PostgreSQL restarted under load"""
    result = Result("b", "PostgreSQL restarted under load (6 stations)")
    cluster = pg_cluster()
    if cluster is None:
        result.skipped = "no local PostgreSQL cluster (pg_ctlcluster, /etc/postgresql)"
        return result
    duration = options.pick(30, 12)
    try:
        url = fresh_postgres()
    except Exception as exc:  # noqa: BLE001 - the cluster is there but we cannot use it
        result.skipped = f"PostgreSQL unavailable: {type(exc).__name__}"
        return result
    floor = Floor(workdir, url, result)
    try:
        floor.watch_health()
        floor.start()
        time.sleep(duration / 3)
        down_s = restart_postgres(cluster)
        result.say(
            f"PostgreSQL {cluster[0]}/{cluster[1]} restarted at {duration / 3:.0f} s; accepting again after {down_s:.1f} s"
        )
        result.check(
            wait_until(floor.server.healthy, 30), "the server did not report healthy after the restart"
        )
        time.sleep(duration * 2 / 3)
        drain_s, total = floor.finish()
        floor.report(drain_s, total, expect_offline=False)  # a quick restart may be ridden out online
        result.check(floor.server.process.poll() is None, "the server process died with the database")
    finally:
        floor.close()
    return result
