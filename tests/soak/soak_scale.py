"""Scenarios h and i: scale-out (PostgreSQL, three `serve` processes behind nginx, 200 simulated
stations, two `sync` processes against the sandbox, one server SIGKILLed mid-run), and slow-loris
clients against waitress."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import soak_load
from soak_douyin import Activity, verdicts
from soak_kit import (
    LOOPBACK,
    ROOT,
    Options,
    Result,
    ServerProc,
    enrol_stations,
    free_port,
    fresh_postgres,
    migrated_engine,
    pct,
    seed,
    sqlite_url,
)
from soak_net import Nginx, SlowLoris, probe_latencies
from sqlalchemy import text

from douyin_sandbox import Sandbox, SandboxConfig, SandboxServer

NGINX_PORT, NGINX_ONE_PORT = 18080, 18079
SERVER_PORTS = [18081, 18082, 18083]
APP_KEY, APP_SECRET, SHOP_ID = "7000000000000000999", "soak-scale-secret", "80000999"


def cli(env: dict, *args: str, log: Path | None = None, wait: bool = True):
    command = [sys.executable, "-m", "server.cli", *args]
    if not wait:
        return subprocess.Popen(command, env=env, cwd=ROOT, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)


class LeaseWatch(threading.Thread):
    """Samples the shop's sync lease row: who holds it, and whether two ever did at once."""

    def __init__(self, engine):
        super().__init__(name="lease-watch", daemon=True)
        self.engine, self.halt = engine, threading.Event()
        self.owners: Counter = Counter()
        self.changes, self.samples, self.rows_max = 0, 0, 0

    def run(self) -> None:
        last = None
        while not self.halt.wait(0.1):
            with self.engine.connect() as conn:
                rows = conn.execute(
                    text(
                        "SELECT lease_owner FROM sync_state WHERE stream = 'lease' AND shop_id = :shop "
                        "AND lease_owner IS NOT NULL"
                    ),
                    {"shop": SHOP_ID},
                ).all()
            self.samples += 1
            self.rows_max = max(self.rows_max, len(rows))
            owner = rows[0][0] if rows else None
            if owner:
                self.owners[owner] += 1
            if owner and owner != last:
                self.changes += 1
                last = owner


def sync_log_counts(path: Path) -> Counter:
    counts = Counter()
    for line in path.read_text(errors="replace").splitlines():
        if f"shop {SHOP_ID}:" in line:
            counts["skipped" if "skipped" in line else ("error" if ": error" in line else "ok")] += 1
    return counts


def scenario_scale_out(workdir: Path, options: Options) -> Result:
    """scale-out: PostgreSQL, 3 server processes behind nginx, 200 stations, 2 sync processes"""
    result = Result(
        "h", "scale-out: PostgreSQL, 3 processes behind nginx, simulated stations, 2 sync processes"
    )
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        result.skipped = "nginx is not installed"
        return result
    try:
        url = fresh_postgres()
    except Exception as exc:  # noqa: BLE001 - no PostgreSQL here: nothing to scale out on
        result.skipped = f"PostgreSQL unavailable: {type(exc).__name__}"
        return result
    engine = migrated_engine(url)
    catalog = seed(engine, int(options.pick(10000, 3000)))
    codes = catalog.known_codes()
    n_stations = int(options.pick(200, 60))
    enrolled = enrol_stations(engine, [f"sim-{i:03d}" for i in range(n_stations)] + ["load-1", "load-3"])
    tokens = [enrolled[f"sim-{i:03d}"][1] for i in range(n_stations)]
    servers = [ServerProc(workdir, p, url, name=f"server-{p}", trusted_proxy=1) for p in SERVER_PORTS]
    nginx = Nginx(workdir / "nginx", NGINX_PORT, NGINX_ONE_PORT, SERVER_PORTS)
    sandbox = SandboxServer(sandbox=Sandbox(SandboxConfig(
        app_key=APP_KEY, app_secret=APP_SECRET, shop_id=SHOP_ID, n_orders=200,
        push_url=f"http://{LOOPBACK}:{NGINX_PORT}/webhooks/douyin", push_retry_delays=(0.1, 0.5, 1, 2, 5),
    )))  # fmt: skip
    sync_procs, watch, activity_halt = [], LeaseWatch(engine), threading.Event()
    try:
        for server in servers:
            server.start()
        nginx.start()
        seconds = options.pick(10, 4)  # measured first, before the sandbox and the sync processes start
        one = soak_load.saturate(NGINX_ONE_PORT, enrolled["load-1"][1], codes, seconds)
        three = soak_load.saturate(NGINX_PORT, enrolled["load-3"][1], codes, seconds)
        result.say(one.line("saturation, 1 process (32 connections)"))
        result.say(three.line("saturation, 3 processes (32 connections)"))
        result.say(f"3 processes / 1 process: {len(three.latencies) / max(1, len(one.latencies)):.2f}× "
                   f"(on {os.cpu_count()} CPUs, shared with PostgreSQL, nginx and the load generator)")  # fmt: skip
        result.check(one.offline == 0 and three.offline == 0, "errors under saturation")

        sandbox.start()
        env = {**servers[0].env, "SHIPGATE_DOUYIN_GATEWAY": sandbox.url}
        added = cli(
            env, "shop", "add", "--shop-id", SHOP_ID, "--app-key", APP_KEY, "--app-secret", APP_SECRET
        )
        result.check(added.returncode == 0, f"shop add failed: {added.stderr[-300:]}")
        for n in (1, 2):
            sync_procs.append(cli(env, "sync", "--interval", "1", log=workdir / f"sync-{n}.log", wait=False))
        watch.start()

        run_s = options.pick(90, 24)
        shop = sandbox.sandbox.shop
        activity = Activity(shop, random.Random(2), advance_clock=False)  # the sync runs on wall time

        def business():
            while not activity_halt.wait(0.4):
                activity.step()

        threading.Thread(target=business, daemon=True).start()
        with engine.connect() as conn:
            version = conn.execute(text("SELECT value FROM counters WHERE name = 'gate'")).scalar()
        killed = servers[1]
        events = [(run_s / 2, killed.kill), (run_s * 3 / 4, killed.start)]
        sim = soak_load.stations(NGINX_PORT, tokens, codes, run_s, since=version, events=events)
        activity_halt.set()
        rate = sim.scans / sim.elapsed
        result.say(f"{n_stations} stations for {run_s:.0f} s: {sim.scans} scans ({rate:.1f}/s), replica polls "
                   f"{sim.feeds} ({sim.feed_errors} failed); server {killed.port} SIGKILLed at {run_s / 2:.0f} s, "
                   f"back at {run_s * 3 / 4:.0f} s")  # fmt: skip
        result.say(f"scan latency p50 {pct(sim.latencies, 0.5) * 1000:.1f} ms, p99 {pct(sim.latencies, 0.99) * 1000:.1f} ms, "
                   f"max {max(sim.latencies, default=0) * 1000:.0f} ms; over the bench's 300 ms budget: {sim.over_budget}")  # fmt: skip
        result.say(f"answered after the station's one retry: {sim.retried}; still failing (station goes offline): "
                   f"{sim.offline}; failures seen: {dict(sim.failures) or 'none'}; nginx upstream errors logged: "
                   f"{nginx.retried_upstream_errors()}")  # fmt: skip
        result.check(sim.offline == 0, f"{sim.offline} scans failed beyond the retry")

        uploaded = upload_queued(sim)
        lost = check_scans(engine, enrolled, sim)
        result.say(f"scans answered or uploaded: {sum(len(v) for v in sim.answered.values()) + uploaded}; "
                   f"missing or duplicated on the server: {lost}")  # fmt: skip
        result.check(lost == 0, f"{lost} scans missing or duplicated")

        watch.halt.set()
        for proc in sync_procs:
            proc.terminate()
            proc.wait(20)
        logs = [sync_log_counts(workdir / f"sync-{n}.log") for n in (1, 2)]
        result.say("sync processes: " + "; ".join(f"#{n} passes " + ", ".join(f"{k} {v}" for k, v in c.items())
                                                  for n, c in enumerate(logs, 1)))  # fmt: skip
        result.say(f"lease row sampled {watch.samples}×: holders {dict(watch.owners)}, handovers {watch.changes}, "
                   f"most holders at once {watch.rows_max}")  # fmt: skip
        result.check(watch.rows_max <= 1, "two lease holders at once")
        result.check(all(c.get("ok", 0) + c.get("error", 0) > 0 for c in logs) or sum(c.get("ok", 0) for c in logs) > 0,
                     "no sync pass ran")  # fmt: skip
        final = cli(env, "sync", "--once")
        right, right_refunds, wrong = verdicts(engine, shop)
        refunds = {a.order_id for a in shop.aftersales.values() if a.aftersale_type in (0, 1, 2)}
        result.say(f"after a last `sync --once`: gate right for {right}/{len(shop.orders)} sandbox orders, "
                   f"{right_refunds}/{len(refunds)} refunded ones")  # fmt: skip
        result.check(final.returncode == 0 and not wrong, f"wrong gate verdicts after the sync: {wrong[:5]}")
        errors = Counter()
        for server in servers:
            errors.update(server.errors())
        result.say(
            "server logs: " + (", ".join(f"{k} ×{v}" for k, v in errors.most_common(5)) or "no errors")
        )
    finally:
        activity_halt.set()
        watch.halt.set()
        for proc in sync_procs:
            if proc.poll() is None:
                proc.kill()
        sandbox.stop()
        nginx.stop()
        for server in servers:
            server.stop()
        engine.dispose()
    return result


def upload_queued(sim: soak_load.Stats) -> int:
    """Scans that failed beyond the retry, uploaded as the bench does once back online."""
    count = 0
    for token, scans in sim.queued.items():
        body = {"scans": [{"scan_id": s, "code": c, "scanned_at": soak_load.NOW, "station_decision": "HOLD",
                           "station_reason": "stale_replica"} for s, c in scans]}  # fmt: skip
        response = httpx.post(f"http://{LOOPBACK}:{NGINX_PORT}/api/v1/scans/batch", json=body,
                              headers={"Authorization": f"Bearer {token}"}, timeout=30)  # fmt: skip
        if response.status_code == 200:
            count += len(scans)
            sim.answered.setdefault(token, set()).update(s for s, _c in scans)
    return count


def check_scans(engine, enrolled: dict, sim: soak_load.Stats) -> int:
    """Scans answered (or uploaded) but not on the server exactly once, plus any the server has
    that no simulated station sent."""
    by_token = {token: station_id for station_id, token in enrolled.values()}
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT station_id, scan_id FROM scans WHERE scan_id NOT LIKE 'sat-%'")
        ).all()
    counts = Counter((station_id, scan_id) for station_id, scan_id in rows)
    sent = {(by_token[t], s) for t, ids in sim.answered.items() for s in ids}
    missing = sum(1 for key in sent if counts.get(key) != 1)
    extra = sum(1 for key in counts if key not in sent)
    return missing + extra


def scenario_slow_loris(workdir: Path, options: Options) -> Result:
    """availability: slow-loris clients, and a burst of unknown codes"""
    result = Result(
        "i", "availability: slow-loris against waitress (channel_timeout 30 s); unknown-code burst"
    )
    url = sqlite_url(workdir)
    engine = migrated_engine(url)
    seed(engine, 10)  # a shop, so that an unknown code is looked up live (at a closed port)
    token = enrol_stations(engine, ["burst"])["burst"][1]
    engine.dispose()
    server = ServerProc(workdir, free_port(), url).start()
    nginx = Nginx(workdir / "nginx", free_port(), free_port(), [server.port])
    try:
        latencies, failures = probe_latencies(server.port, 3)
        result.say(f"baseline /healthz (a new connection each): p50 {pct(latencies, 0.5) * 1000:.1f} ms, "
                   f"p99 {pct(latencies, 0.99) * 1000:.1f} ms, failures {failures}")  # fmt: skip
        seconds = options.pick(20, 8)
        targets = [("waitress", server.port, 50), ("waitress", server.port, 150)]
        try:
            nginx.start()
            targets.append(("nginx in front", nginx.port, 150))
        except Exception as exc:  # noqa: BLE001 - the nginx phase is a comparison, not the point
            result.say(f"nginx phase skipped: {exc}")
        for label, port, n in targets:
            loris = SlowLoris(port, n).start()
            latencies, failures = probe_latencies(port, seconds)
            loris.stop()
            timing = (
                f"p50 {pct(latencies, 0.5) * 1000:.1f} ms, p99 {pct(latencies, 0.99) * 1000:.1f} ms, "
                f"max {max(latencies) * 1000:.0f} ms"
                if latencies
                else "no answer"
            )
            result.say(
                f"{n} slow connections to {label} for {seconds:.0f} s: /healthz {timing}, answered "
                f"{len(latencies)}, failed (3 s timeout) {failures}; slow connections opened {loris.opened}, "
                f"cut by the server {loris.cut}"
            )
            if n < 100 or label != "waitress":
                result.check(failures == 0, f"/healthz failed under {n} slow connections to {label}")
            time.sleep(1)
        unknown_code_burst(server, token, result)
        result.check(server.healthy(), "the server did not survive")
        result.say("waitress serves at most connection_limit=100 connections (its default; `serve` does not "
                   "set it): past that, new clients wait in the backlog while the slow ones dribble")  # fmt: skip
    finally:
        nginx.stop()
        server.stop()
    return result


def unknown_code_burst(server: ServerProc, token: str, result: Result, n: int = 16) -> None:
    """n stations scan an unknown order at the same moment (SQLite, 8 threads)."""
    answers: list[tuple[object, float]] = []

    def one(i: int) -> None:
        started = time.perf_counter()
        body = {"scan_id": f"burst-{i}", "code": f"47{i:017d}", "scanned_at": soak_load.NOW}
        try:
            status = httpx.post(server.url + "/api/v1/scans", json=body, timeout=35,
                                headers={"Authorization": f"Bearer {token}"}).status_code  # fmt: skip
        except httpx.HTTPError as exc:
            status = type(exc).__name__
        answers.append((status, time.perf_counter() - started))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(45)
    statuses = Counter(status for status, _s in answers)
    slowest = max((s for _st, s in answers), default=0)
    result.say(
        f"{n} unknown codes at once: answers {dict(statuses)}, slowest {slowest:.1f} s (35 s client timeout)"
    )
    result.check(
        slowest < 5 and set(statuses) == {200},
        "concurrent unknown codes starve the connection pool (30 s stall, then 500)",
    )
