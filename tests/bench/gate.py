"""Benchmark: the gate decision API against the ceiling of its web stack, in one run.

Loads 100,000 orders (10% refunded) into a fresh database (default SQLite; `--postgres URL` empties
and uses that PostgreSQL database), then starts side by side, with the same waitress thread count:
a bare Flask + waitress app (tests/bench/bare_app.py: `/healthz` and a one-read JSON endpoint over
the same codes) and `shipgate-server serve`; with `--processes N` each side is N processes behind
one nginx. wrk (tests/bench/gate.lua) drives each endpoint in turn with the same connections:
bare /healthz, bare one-read, project /healthz, project scans (each a distinct scan_id, codes drawn
from the loaded orders), and prints req/s, p50/p99 and the ratios against the targets.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from serverproc import THREADS, Child, ServerProcess, free_port, wait_healthy
from sqlalchemy import create_engine, func, insert, select, text, update
from sqlalchemy.orm import Session

from server.clock import SYSTEM
from server.decision import AfterSaleFacts, OrderFacts, evaluate
from server.models import (
    AfterSale,
    Counter,
    GateCode,
    GateEntry,
    Order,
    Scan,
    Shop,
    SkuOrder,
    Waybill,
)

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "gate.lua"
TARGETS = "targets: scans >= 0.7 x bare one-read, healthz >= 0.8 x bare healthz, scan p99 <= 20 ms (SQLite, 1 process)"

SHOP = "10437917"


def load_orders(engine, n: int, refunded_share: float = 0.10, seed: int = 7) -> tuple[list[str], list[str]]:
    """Bulk-load n one-sku orders with a tracking number each; returns (order ids, tracking numbers)."""
    rng = random.Random(seed)
    now = SYSTEM.now()
    orders, skus, waybills, after_sales, entries, codes = [], [], [], [], [], []
    order_ids, tracking = [], []
    for i in range(n):
        order_id = f"48{i:017d}"
        sku_id = f"49{i:017d}"
        tracking_no = f"SF{i:013d}"
        refunded = rng.random() < refunded_share
        orders.append(
            {
                "order_id": order_id,
                "shop_id": SHOP,
                "order_status": 4 if refunded else 2,
                "main_status": 21 if refunded else 2,
                "update_time": 1_700_000_000 + i,
                "synced_at": now,
            }
        )
        skus.append({"sku_order_id": sku_id, "order_id": order_id, "product_name": "商品", "item_num": 1})
        waybills.append(
            {"tracking_no": tracking_no, "company": "顺丰速运", "order_id": order_id, "issued_at": now}
        )
        facts_after_sales = ()
        if refunded:
            after_sales.append(
                {
                    "aftersale_id": f"70{i:017d}",
                    "order_id": order_id,
                    "sku_order_id": sku_id,
                    "aftersale_type": 2,
                    "aftersale_status": 12,
                    "refund_status": 3,
                    "refund_amount": 8900,
                    "update_time": 1_700_000_100 + i,
                    "synced_at": now,
                }
            )
            facts_after_sales = (AfterSaleFacts(sku_id, 2, 12, 3),)
        verdict = evaluate(
            OrderFacts(
                order_id, orders[-1]["order_status"], orders[-1]["main_status"], (sku_id,), facts_after_sales
            )
        )
        entries.append(
            {
                "order_id": order_id,
                "shop_id": SHOP,
                "decision": verdict.decision.value,
                "reason": verdict.reason.value,
                "sku_out": [],
                "codes": sorted([sku_id, tracking_no]),
                "label": {
                    "tracking_no": tracking_no,
                    "company": "顺丰速运",
                    "order_id": order_id,
                    "items": [{"sku_order_id": sku_id, "name": "商品", "code": None, "num": 1}],
                },
                "version": i + 1,
                "updated_at": now,
            }
        )
        codes += [{"code": c, "order_id": order_id} for c in (order_id, sku_id, tracking_no)]
        order_ids.append(order_id)
        tracking.append(tracking_no)
    with Session(engine) as session:
        session.add(Shop(shop_id=SHOP, name="压测小店", app_key="k", app_secret="s"))
        session.flush()
        for model, rows in (
            (Order, orders),
            (SkuOrder, skus),
            (Waybill, waybills),
            (AfterSale, after_sales),
            (GateEntry, entries),
            (GateCode, codes),
        ):
            for start in range(0, len(rows), 5000):
                session.execute(insert(model), rows[start : start + 5000])
        session.execute(update(Counter).where(Counter.name == "gate").values(value=n))
        session.commit()
    return order_ids, tracking


@dataclass
class Figures:
    """What wrk measured on one endpoint (from gate.lua's SGBENCH line)."""

    label: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    decisions: dict
    cpu_us: float = float("nan")  # server CPU (user + system, all its processes) per request

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        decided = " ".join(f"{k} {v}" for k, v in self.decisions.items() if v)
        return (
            f"{self.label:<30} {self.rate:8.0f} req/s  p50 {self.p50_ms:6.2f} ms  p99 {self.p99_ms:6.2f} ms"
            f"  CPU {self.cpu_us:4.0f} µs/req  n={self.requests} errors={self.errors}  {decided}"
        )


def wrk(label: str, url: str, *, mode: str, seconds: float, connections: int, env: dict) -> Figures:
    """One wrk run (1 thread: wrk is C and epoll, one thread drives 16 connections at a fraction of
    a core, leaving the rest of a 2-core machine to the servers)."""
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "10s",
        "-s",
        str(SCRIPT),
        url,
    ]
    done = subprocess.run(
        command, env={**os.environ, **env, "SG_MODE": mode}, capture_output=True, text=True, check=True
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("SGBENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no figures: {done.stdout} {done.stderr}")
    raw = json.loads(line[8:])
    errors = sum(raw[k] for k in ("connect", "read", "write", "status", "timeout"))
    return Figures(
        label,
        raw["requests"],
        raw["duration_us"] / 1e6,
        raw["p50_us"] / 1000,
        raw["p99_us"] / 1000,
        errors,
        {"PASS": raw["pass"], "BLOCK": raw["block"], "other": raw["other"]},
    )


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes used so far (Linux /proc): unlike req/s on a shared
    machine, CPU per request does not depend on what else is running."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


class BareProcess(Child):
    """tests/bench/bare_app.py on loopback."""

    def __init__(self, port: int, database_url: str):
        self.port, self.url, self.database_url = port, f"http://127.0.0.1:{port}", database_url
        self.process: subprocess.Popen | None = None

    def start(self) -> BareProcess:
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "bare_app.py"), "--port", str(self.port), "--threads", str(THREADS),
             "--database", self.database_url],
            stdout=subprocess.DEVNULL,
            stderr=(Path(tempfile.mkdtemp(prefix="shipgate-bench-bare-")) / "bare.log").open("ab"),
        )  # fmt: skip
        wait_healthy(self.url, self.process, "the bare app")
        return self


def nginx_in_front(ports: list[int]):
    """One nginx balancing over `ports` (the soak's configuration, tests/soak/soak_net.py)."""
    sys.path[:0] = [str(HERE.parent / "soak"), str(HERE.parent)]  # soak_net imports tests/polling.py
    from soak_net import Nginx

    return Nginx(Path(tempfile.mkdtemp(prefix="shipgate-bench-nginx-")), free_port(), free_port(), ports)


def empty_postgres(url: str) -> str:
    """Drop everything in the PostgreSQL database at `url` (the benchmark's own, never `test`)."""
    if url.rsplit("/", 1)[-1].split("?")[0] == "test":
        raise SystemExit("refusing to empty the database `test` (it belongs to CI)")
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def profiled(pids: list[int], seconds: float, out: Path) -> subprocess.Popen:
    """py-spy sampling the project's first process (`--profile`): collapsed stacks into `out`."""
    return subprocess.Popen(
        [shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pids[0]),
         "--duration", str(int(seconds)), "--rate", "200", "--gil", "--function", "--format", "raw", "--nonblocking", "-o", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def top_frames(collapsed: Path, n: int = 22) -> list[str]:
    """A py-spy raw profile (samples of the thread holding the GIL) summed per function: the share
    of samples on whose stack a function is (inclusive) and at whose top it is (self)."""
    inclusive: dict[str, int] = {}
    leaf: dict[str, int] = {}
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        total += int(count)
        leaf[frames[-1]] = leaf.get(frames[-1], 0) + int(count)
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + int(count)
    lines = [f"  py-spy --gil, {total} samples; inclusive share:"]
    ranked = sorted(inclusive.items(), key=lambda kv: -kv[1])
    lines += [f"  {100 * c / total:5.1f}%  {f}" for f, c in ranked if "threading.py" not in f][:n]
    lines.append("  self share:")
    lines += [f"  {100 * c / total:5.1f}%  {f}" for f, c in sorted(leaf.items(), key=lambda kv: -kv[1])[:n]]
    return lines


def main(
    orders: int = 100_000,
    seconds: float = 10.0,
    connections: int = 16,
    *,
    postgres: str | None = None,
    processes: int = 1,
    rounds: int = 1,
    profile: Path | None = None,
) -> dict:
    if shutil.which("wrk") is None:
        print(
            "wrk is not installed: the gate benchmark needs it (Debian: apt-get install wrk). Nothing measured."
        )
        return {}
    if processes > 1 and not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        print(
            "nginx is not installed: --processes needs it (Debian: apt-get install nginx). Nothing measured."
        )
        return {}
    database_url = empty_postgres(postgres) if postgres else None
    first = ServerProcess(free_port(), database_url)
    started = time.perf_counter()
    load_orders(first.engine, orders)
    token = first.enrol()
    print(
        f"loaded {orders:,} orders (10% refunded) in {time.perf_counter() - started:.1f} s; "
        f"database {first.engine.url.render_as_string()}; {processes} process(es) a side, "
        f"{THREADS} waitress threads each; wrk -t1 -c{connections}, {seconds:g} s a phase; {os.cpu_count()} CPUs"
    )
    project = [first] + [
        ServerProcess(free_port(), first.database_url, migrate=False) for _ in range(processes - 1)
    ]
    bare = [BareProcess(free_port(), first.database_url) for _ in range(processes)]
    fronts = []
    answered = 0
    results: dict[str, list[Figures]] = {}
    with contextlib.ExitStack() as stack:
        for process in project + bare:
            process.start()
            stack.callback(process.stop)
        bare_url, project_url = bare[0].url, project[0].url
        if processes > 1:
            for side in (bare, project):
                front = nginx_in_front([p.port for p in side]).start()
                stack.callback(front.stop)
                fronts.append(front)
            bare_url, project_url = (f"http://127.0.0.1:{f.port}" for f in fronts)
        bare_pids, project_pids = [p.process.pid for p in bare], [p.process.pid for p in project]
        phases = [
            ("bare GET /healthz", bare_url + "/healthz", "get", bare_pids),
            ("bare POST /read (one read)", bare_url + "/read", "scan", bare_pids),
            ("bare POST /write (read+insert)", bare_url + "/write", "scan", bare_pids),
            ("project GET /healthz", project_url + "/healthz", "get", project_pids),
            ("project POST /api/v1/scans", project_url + "/api/v1/scans", "scan", project_pids),
        ]
        for round_no in range(rounds):
            for label, url, mode, pids in phases:
                env = {"SG_TOKEN": token, "SG_ORDERS": str(orders), "SG_RUN": f"b{time.time_ns():x}"}
                warm = wrk(label, url, mode=mode, seconds=2, connections=connections, env=env)
                env["SG_RUN"] = f"b{time.time_ns():x}"
                spy = None
                if profile and label.startswith("project"):
                    out = profile / (label.split()[-1].strip("/").replace("/", "_") + ".txt")
                    spy = profiled([project[0].process.pid], seconds - 1, out)
                cpu = cpu_seconds(pids)
                figures = wrk(label, url, mode=mode, seconds=seconds, connections=connections, env=env)
                figures.cpu_us = (cpu_seconds(pids) - cpu) * 1e6 / max(1, figures.requests)
                results.setdefault(label, []).append(figures)
                if url.endswith(("/scans", "/write")):
                    answered += sum(warm.decisions.values()) + sum(figures.decisions.values())
                print(("" if rounds == 1 else f"[{round_no + 1}] ") + figures.line(), flush=True)
                if spy is not None:
                    spy.wait(30)
                    print("\n".join(top_frames(out)))
        with first.engine.connect() as conn:
            journaled = conn.scalar(select(func.count()).select_from(Scan))
    summary = {}
    for i in range(rounds):
        bh, br, bw, ph, ps = (results[label][i] for label, *_rest in phases)
        ratio_scan = ps.rate / br.rate if br.rate else 0.0
        ratio_write = ps.rate / bw.rate if bw.rate else 0.0
        ratio_health = ph.rate / bh.rate if bh.rate else 0.0
        print(
            ("" if rounds == 1 else f"[{i + 1}] ")
            + f"ratios: scans/bare one-read {ratio_scan:.2f}, scans/bare read+insert {ratio_write:.2f}, "
            f"healthz/bare healthz {ratio_health:.2f}, scan p99 {ps.p99_ms:.1f} ms; by CPU per request "
            f"(bare/project): scans {br.cpu_us / ps.cpu_us:.2f} (read+insert {bw.cpu_us / ps.cpu_us:.2f}), "
            f"healthz {bh.cpu_us / ph.cpu_us:.2f}"
        )
        summary = {"scans_per_s": ps.rate, "scan_p99_ms": ps.p99_ms, "ratio_scan": ratio_scan,
                   "ratio_write": ratio_write, "ratio_health": ratio_health}  # fmt: skip
    print(TARGETS)
    print(
        f"scans answered with a decision {answered:,}, journaled in the database {journaled:,} (warm-ups included)"
    )
    return summary
