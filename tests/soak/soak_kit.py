"""The soak suite's kit: databases, server processes, in-process stations that scan, and the one
check every scenario ends with: each scan a station journaled is on the server exactly once.

Everything listens on and talks to 127.0.0.1 only; Douyin is a closed loopback port unless a
scenario starts the sandbox.
"""

from __future__ import annotations

import os
import random
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from polling import wait_until
from sqlalchemy import text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = "127.0.0.1"
CLOSED_GATEWAY = "http://127.0.0.1:9"  # Douyin, when a scenario has no sandbox: refused at once
SHOP = "10437917"
PG_ADMIN_URL = os.environ.get(
    "SHIPGATE_SOAK_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PG_DATABASE = os.environ.get("SHIPGATE_SOAK_PG_DB", "shipgate_soak")


class SoakFailure(AssertionError):
    """A scenario's final check failed: something was lost, duplicated or decided wrong."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- databases ---------------------------------------------------------------------------------


def sqlite_url(workdir: Path) -> str:
    return f"sqlite:///{workdir / 'instance' / 'shipgate.sqlite3'}"


def fresh_postgres(name: str = PG_DATABASE) -> str:
    """Drop and create the soak's own database (never the test suite's `test`)."""
    from sqlalchemy import create_engine

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def migrated_engine(url: str):
    from server import db

    engine = db.make_engine(url)
    db.upgrade(engine)
    return engine


@dataclass
class Catalog:
    """What the gate says about the seeded orders: code -> expected decision."""

    order_ids: list[str]
    tracking: list[str]
    expected: dict[str, str]

    def known_codes(self) -> list[str]:
        return self.order_ids + self.tracking


def seed(engine, n: int, refunded_share: float = 0.10, rng_seed: int = 7, first: int = 0) -> Catalog:
    """n one-sku orders with a tracking number each, through server.ingest (the production path)."""
    from server.ingest import AfterSaleRecord, OrderRecord, SkuRecord, apply
    from server.models import Shop

    rng = random.Random(rng_seed)
    order_ids, tracking, expected = [], [], {}
    with Session(engine) as session:
        if session.get(Shop, SHOP) is None:
            session.add(
                Shop(shop_id=SHOP, name="压测小店", app_key="7000000000000000555", app_secret="soak-s")
            )
            session.flush()
        for start in range(first, first + n, 2000):
            orders, after_sales = [], []
            for i in range(start, min(start + 2000, first + n)):
                order_id, sku_id, tracking_no = f"48{i:017d}", f"49{i:017d}", f"SF{i:013d}"
                orders.append(
                    OrderRecord(
                        order_id=order_id,
                        shop_id=SHOP,
                        order_status=2,
                        main_status=None,
                        update_time=1_700_000_000,
                        skus=(SkuRecord(sku_order_id=sku_id, product_name="商品"),),
                        tracking=((tracking_no, "顺丰速运"),),
                    )
                )
                refunded = rng.random() < refunded_share
                if refunded:
                    after_sales.append(
                        AfterSaleRecord(
                            aftersale_id=f"70{i:017d}",
                            order_id=order_id,
                            sku_order_id=None,
                            aftersale_type=2,
                            aftersale_status=12,
                            refund_status=3,
                            refund_amount=8900,
                            update_time=1_700_000_100,
                        )
                    )
                order_ids.append(order_id)
                tracking.append(tracking_no)
                expected[order_id] = expected[tracking_no] = "BLOCK" if refunded else "PASS"
            apply(session, orders, after_sales)
            session.commit()
    return Catalog(order_ids, tracking, expected)


def refund_now(engine, order_id: str, aftersale_id: str) -> None:
    """A refund that succeeds on the server side now (as a sync or push would bring it)."""
    from server.ingest import AfterSaleRecord, apply

    record = AfterSaleRecord(
        aftersale_id=aftersale_id, order_id=order_id, sku_order_id=None, aftersale_type=2,
        aftersale_status=12, refund_status=3, refund_amount=8900, update_time=1_800_000_000,
    )  # fmt: skip
    with Session(engine) as session:
        apply(session, [], [record])
        session.commit()


def enrol_stations(engine, names: list[str], warehouse: str = "main") -> dict[str, tuple[int, str]]:
    """name -> (station id, token)."""
    from server.stations import enrol

    made = {}
    with Session(engine) as session:
        for name in names:
            station, token = enrol(session, name, warehouse)
            made[name] = (station.id, token)
        session.commit()
    return made


# -- server processes --------------------------------------------------------------------------


class ServerProc:
    """`python -m server.cli serve` on loopback, with its own settings; SIGKILL-able, restartable."""

    def __init__(self, workdir: Path, port: int, database_url: str, name: str = "server", **settings):
        self.workdir, self.port, self.name = workdir, port, name
        self.url = f"http://{LOOPBACK}:{port}"
        self.log = workdir / f"{name}.log"
        self.env = {
            **os.environ,
            "SHIPGATE_DATABASE_URL": database_url,
            "SHIPGATE_INSTANCE_DIR": str(workdir / "instance"),
            "SHIPGATE_SECRET_KEY": "soak-secret-key",
            "SHIPGATE_DATA_KEY": "1Wv4cQ7pqu9V8JvYk2c4mFJj0bA0QoVY6t3lW2f7o1M=",
            "SHIPGATE_DOUYIN_GATEWAY": CLOSED_GATEWAY,
            "SHIPGATE_LOOKUP_BUDGET_MS": "100",
            "SHIPGATE_THREADS": "8",
            "PYTHONPATH": str(ROOT),
        }
        self.env.update({f"SHIPGATE_{k.upper()}": str(v) for k, v in settings.items()})
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self, timeout: float = 60) -> ServerProc:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "server.cli", "serve", "--port", str(self.port)],
                env=self.env, cwd=ROOT, stdout=log, stderr=log,
            )  # fmt: skip
        self.starts += 1
        if not wait_until(self.healthy, timeout, 0.1):
            raise SoakFailure(f"{self.name} did not start on {self.url} (see {self.log})")
        return self

    def healthy(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            return False
        try:
            return httpx.get(self.url + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        """SIGKILL: no goodbye, no flush."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)

    def errors(self) -> Counter:
        """What went wrong inside the server, from its log: exception class -> count."""
        return log_errors(self.log)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Unavailable|Failure))(?::|$)")


def log_errors(path: Path) -> Counter:
    """Exception classes named at the start of a line (the last line of each traceback)."""
    found: Counter = Counter()
    if path.exists():
        for line in path.read_text(errors="replace").splitlines():
            match = _EXCEPTION_LINE.match(line)
            if match:
                found[match.group(1).rsplit(".", 1)[-1]] += 1
            elif "journal write failed" in line:
                found["journal_unavailable (503)"] += 1
    return found


# -- stations ----------------------------------------------------------------------------------


def station_config(url: str, token: str, data_dir: Path, name: str, **station):
    from station.config import parse_config

    data = {
        "server": {"url": url, "token": token, "budget_ms": 300, "heartbeat_s": 5, "sync_timeout_s": 3},
        "printer": {"kind": "dummy"},
        "station": {"name": name, "data_dir": str(data_dir), "sync_interval_s": 0.5, **station},
        "display": {"enabled": False},
        "screen": {"port": 0},
    }
    return parse_config(data, base_dir=data_dir.parent)


def build_station(url: str, token: str, data_dir: Path, name: str, clock=time.time, **station):
    """A started in-process bench (no scanner, no printer): scan with bench.handle(code)."""
    from station.bench import build_bench

    bench = build_bench(
        station_config(url, token, data_dir, name, **station),
        with_scanner=False, with_printer=False, with_display=False, clock=clock,
    )  # fmt: skip
    bench.start()
    return bench


class Driver(threading.Thread):
    """Scans codes at one bench at a steady rate (with jitter) until stopped."""

    def __init__(self, bench, codes: Callable[[], str], interval_s: float, rng_seed: int = 1):
        super().__init__(name=f"driver-{bench.station_name}", daemon=True)
        self.bench, self.codes, self.interval_s = bench, codes, interval_s
        self.rng = random.Random(rng_seed)
        self.halt = threading.Event()
        self.outcomes: list[tuple[str, object, float]] = []  # (code, Outcome or None, monotonic time)
        self.errors: list[str] = []

    def run(self) -> None:
        while not self.halt.is_set():
            code = self.codes()
            try:
                self.outcomes.append((code, self.bench.handle(code), time.monotonic()))
            except Exception as exc:  # noqa: BLE001 - a bench that raises is itself a finding
                self.errors.append(f"{type(exc).__name__}: {exc}")
            self.halt.wait(self.interval_s * self.rng.uniform(0.5, 1.5))

    def stop(self) -> None:
        self.halt.set()
        self.join(10)

    def sources(self) -> Counter:
        return Counter(o.source.value for _c, o, _t in self.outcomes if o is not None)


def code_mix(catalog: Catalog, rng: random.Random) -> Callable[[], str]:
    """Known orders and tracking numbers, plus unknown order ids and garbage, as at a real bench."""
    known = catalog.known_codes()

    def pick() -> str:
        roll = rng.random()
        if roll < 0.85:
            return rng.choice(known)
        if roll < 0.93:
            return f"47{rng.randrange(10**17):017d}"  # unknown: live look-up (closed), HOLD
        return rng.choice(["hello", "12345", "SF12", "]C0garbage", "📦"])

    return pick


# -- the final check ---------------------------------------------------------------------------


@dataclass
class Reconciliation:
    journaled: int = 0
    on_server: int = 0
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    wrong_code: list[str] = field(default_factory=list)
    pending: int = 0
    rejected: int = 0

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.duplicates or self.wrong_code or self.pending)

    def line(self) -> str:
        return (
            f"journaled {self.journaled}, on server {self.on_server}, missing {len(self.missing)}, "
            f"extra {len(self.extra)}, duplicated {len(self.duplicates)}, code mismatch {len(self.wrong_code)}, "
            f"still queued {self.pending}, refused by server {self.rejected}"
        )

    def add(self, other: Reconciliation) -> None:
        for name in ("journaled", "on_server", "pending", "rejected"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("missing", "extra", "duplicates", "wrong_code"):
            getattr(self, name).extend(getattr(other, name))


def journal_rows(journal_path: Path) -> list[tuple]:
    """(scan_id, code, decision, source, upload) of every scan in a station's journal file."""
    conn = sqlite3.connect(f"file:{journal_path}?mode=ro", uri=True)
    try:
        return conn.execute(
            "SELECT scan_id, code, decision, source, upload FROM scans ORDER BY seq"
        ).fetchall()
    finally:
        conn.close()


def server_rows(engine, station_id: int) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT scan_id, code FROM scans WHERE station_id = :s"), {"s": station_id}
        ).all()


def reconcile(engine, station_id: int, journal_path: Path) -> Reconciliation:
    """Every scan journaled on the station is on the server exactly once, with the same code."""
    journal = journal_rows(journal_path)
    server = server_rows(engine, station_id)
    counts = Counter(scan_id for scan_id, _code in server)
    codes = {scan_id: code for scan_id, code in server}
    result = Reconciliation(journaled=len(journal), on_server=len(server))
    mine = set()
    for scan_id, code, decision, _source, upload in journal:
        mine.add(scan_id)
        if decision is None or upload == "pending":
            result.pending += 1
        if upload == "rejected":
            result.rejected += 1
        if scan_id not in counts:
            result.missing.append(scan_id)
        elif codes[scan_id] != code[:128]:
            result.wrong_code.append(scan_id)
    result.duplicates = [s for s, n in counts.items() if n > 1]
    result.extra = [s for s in counts if s not in mine]
    return result


def drained(benches) -> bool:
    """Every bench's journal is decided and uploaded."""
    return all(b.journal.queue_depth() == 0 for b in benches)


LOCAL_HOLDS = ("stale_replica", "disk_full", "journal_error")  # the station holds on its own: not wrong


def wrong_decisions(outcomes, catalog: Catalog, changed: set[str] = frozenset()) -> Counter:
    """Decisions that contradict the gate: a refunded order passed, or a clear order blocked.
    Orders in `changed` were refunded during the scenario and are left out."""
    wrong = Counter()
    for code, outcome, *_at in outcomes:
        if outcome is None or code not in catalog.expected or code in changed:
            continue
        want, got = catalog.expected[code], outcome.decision.value
        if want == "BLOCK" and got == "PASS":
            wrong["refunded order PASSED"] += 1
        elif want == "PASS" and got == "BLOCK":
            wrong["clear order BLOCKED"] += 1
        elif want == "PASS" and got == "HOLD" and outcome.reason not in LOCAL_HOLDS:
            wrong[f"clear order HOLD ({outcome.reason})"] += 1
    return wrong


# -- scenario results --------------------------------------------------------------------------


@dataclass
class Options:
    quick: bool = False
    partition_s: float = 60.0
    keep: bool = False  # keep the work directories

    def pick(self, full: float, quick: float) -> float:
        return quick if self.quick else full


@dataclass
class Result:
    key: str
    title: str
    lines: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    skipped: str | None = None
    seconds: float = 0.0

    def say(self, line: str) -> None:
        self.lines.append(line)
        print(f"    {line}", flush=True)

    def check(self, condition: bool, failure: str) -> bool:
        if not condition:
            self.failures.append(failure)
            print(f"    FAILED: {failure}", flush=True)
        return condition

    @property
    def status(self) -> str:
        if self.skipped:
            return "SKIP"
        return "FAIL" if self.failures else "PASS"
