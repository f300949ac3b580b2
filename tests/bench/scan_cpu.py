"""Benchmark: what one scan costs the server's own code, without sockets, threads or a load generator.

The gate benchmark (gate.py) measures req/s over loopback with wrk, which swings with whatever else
the machine runs. This one calls the WSGI apps in-process, one request at a time, on the same
database: the bare app (bare_app.py: `/healthz` and the one-read endpoint) and the project
(`/healthz` and `POST /api/v1/scans`, each scan journaled and committed). It prints microseconds of
CPU per request and the ratios, which repeat within a few per cent on a busy machine, so a change to
the scan path can be judged in seconds. `--profile` adds cProfile's top functions of the scans.

Run: `make bench PART=scan_cpu` (or `python tests/bench/scan_cpu.py --orders 20000 --requests 5000`).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import random
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy.orm import Session

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bare_app  # noqa: E402
from gate import empty_postgres, load_orders  # noqa: E402
from serverproc import DATA_KEY  # noqa: E402

from server import db, secretbox  # noqa: E402
from server.app import create_app  # noqa: E402
from server.clock import SYSTEM  # noqa: E402
from server.settings import Settings  # noqa: E402
from server.stations import enrol  # noqa: E402


def environ(method: str, path: str, body: bytes = b"", token: str | None = None) -> dict:
    """A WSGI environ as waitress builds one (the input stream is replaced per call)."""
    env = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8080",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "HTTP_HOST": "127.0.0.1:8080",
    }
    if body:
        env["CONTENT_TYPE"] = "application/json"
        env["CONTENT_LENGTH"] = str(len(body))
    if token:
        env["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return env


def call(app, env: dict, body: bytes = b"") -> tuple[str, bytes]:
    env = dict(env, **{"wsgi.input": io.BytesIO(body)})
    status = []
    chunks = app(env, lambda s, h, exc_info=None: status.append(s))
    try:
        out = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return status[0], out


def cpu_per_request(label: str, send, n: int) -> float:
    """µs of this process's CPU time per request over n requests (after a warm-up of n // 10)."""
    for i in range(max(n // 10, 50)):
        send(-1 - i)
    started = time.process_time()
    for i in range(n):
        send(i)
    us = (time.process_time() - started) / n * 1e6
    print(f"  {label:<22} {us:8.1f} µs CPU a request")
    return us


def main(
    orders: int = 20_000, requests: int = 5_000, profile: bool = False, postgres: str | None = None
) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="shipgate-bench-cpu-"))
    url = empty_postgres(postgres) if postgres else f"sqlite:///{workdir / 'gate.db'}"
    settings = Settings.from_env(
        {"SHIPGATE_DATABASE_URL": url, "SHIPGATE_SECRET_KEY": "bench", "SHIPGATE_DATA_KEY": DATA_KEY}
    )
    secretbox.install(settings.data_key)
    engine = db.make_engine(url)
    db.upgrade(engine)
    order_ids, tracking = load_orders(engine, orders)
    with Session(engine) as session:
        _station, token = enrol(session, "bench-cpu", "main")
        session.commit()
    project = create_app(settings, engine=engine, migrate=False, live_lookup=lambda _s, _c: False)
    bare = bare_app.create_app(url)
    rng = random.Random(7)
    codes = [rng.choice(order_ids) if rng.random() < 0.5 else rng.choice(tracking) for _ in range(4096)]
    scanned_at = SYSTEM.now().isoformat(timespec="milliseconds")

    def body(i: int) -> bytes:
        scan = {"scan_id": f"cpu-{i}", "code": codes[i % len(codes)], "scanned_at": scanned_at}
        return json.dumps(scan).encode()

    read_env = environ("POST", "/read", body(0))
    scan_env = environ("POST", "/api/v1/scans", body(0), token)
    bare_health, project_health = environ("GET", "/healthz"), environ("GET", "/healthz")

    def scan(i: int) -> None:
        data = body(i)
        status, out = call(project, dict(scan_env, CONTENT_LENGTH=str(len(data))), data)
        if not status.startswith("200"):
            raise RuntimeError(f"scan answered {status}: {out[:200]!r}")

    def read(i: int) -> None:
        data = body(i)
        call(bare, dict(read_env, CONTENT_LENGTH=str(len(data))), data)

    def write(i: int) -> None:
        data = body(10 * requests + i)  # scan ids of their own
        call(bare, dict(read_env, PATH_INFO="/write", CONTENT_LENGTH=str(len(data))), data)

    where = "PostgreSQL" if postgres else "SQLite"
    print(f"{orders:,} orders on {where}, {requests:,} requests a phase, one thread, no sockets")
    figures = {
        "bare_healthz": cpu_per_request("bare /healthz", lambda _i: call(bare, bare_health), requests),
        "bare_read": cpu_per_request("bare one-read", read, requests),
        "bare_write": cpu_per_request("bare read+insert", write, requests),
        "project_healthz": cpu_per_request("project /healthz", lambda _i: call(project, project_health), requests),
        "project_scan": cpu_per_request("project scan", scan, requests),
    }  # fmt: skip
    print(
        f"  scans ÷ one-read (throughput ratio at one core): {figures['bare_read'] / figures['project_scan']:.2f}"
        f" (target 0.7); scans ÷ read+insert: {figures['bare_write'] / figures['project_scan']:.2f};"
        f" healthz ÷ bare: {figures['bare_healthz'] / figures['project_healthz']:.2f} (target 0.8)"
    )
    if profile:
        profiler = cProfile.Profile()
        profiler.runcall(lambda: [scan(requests + i) for i in range(requests)])
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(30)
        print(out.getvalue())
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=5_000)
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions of the scans")
    parser.add_argument(
        "--postgres", metavar="URL", help="this PostgreSQL database (emptied first; never `test`)"
    )
    args = parser.parse_args()
    main(args.orders, args.requests, args.profile, args.postgres)
