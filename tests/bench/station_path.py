"""Benchmark: the bench path, from the last byte of a code on the scanner's pty to the first byte
at the printer, online (the server decides) and from the replica (server unreachable); the inline
gate's scanner -> key report latencies (station_forward.py); and the station's memory and sync time
with a replica of 1,000,000 gate entries.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gate import load_orders
from serverproc import ServerProcess

from station.bench import build_bench
from station.config import parse_config
from station.printer import load_escpos
from station.virtual import measure_scan_to_print

REPLICA_PROBE = """
import json, sys, time
from station.client import GateClient
from station.replica import Replica
url, token, path = sys.argv[1:4]
client = GateClient(url, token, sync_timeout_s=60)
replica = Replica(path)
started = time.perf_counter()
report = replica.sync(client.gate_feed, page_limit=5000)
elapsed = time.perf_counter() - started
started = time.perf_counter()
for code in sys.argv[4:]:
    replica.lookup(code)
lookup = (time.perf_counter() - started) / max(1, len(sys.argv) - 4)
rss = int(open("/proc/self/statm").read().split()[1]) * 4096
print(json.dumps({"seconds": elapsed, "entries": replica.version, "rss": rss, "lookup_s": lookup}))
"""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def bench_config(url: str, token: str, scanner: str, port: int, data_dir: Path):
    return parse_config(
        {
            "server": {"url": url, "token": token, "budget_ms": 300},
            "scanner": {"device": scanner, "suffix": "CR"},
            "printer": {"kind": "network", "host": "127.0.0.1", "port": port},
            "station": {"name": "bench-1", "data_dir": str(data_dir), "sync_interval_s": 60},
            "display": {"enabled": False},
            "screen": {"port": 0},
        }
    )


def scan_to_print(scans: int = 1000, orders: int = 10_000) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="shipgate-bench-station-"))
    load_escpos(workdir / "escpos")
    server = ServerProcess(18082)
    order_ids, tracking = load_orders(server.engine, orders)
    token = server.enrol()
    codes = [(order_ids if i % 2 else tracking)[(i * 7919) % orders] for i in range(scans)]
    data_dir = workdir / "station"
    with server:
        online = measure_scan_to_print(
            lambda scanner, port: build_bench(
                bench_config(server.url, token, scanner, port, data_dir), with_display=False
            ),
            codes,
            workdir=workdir,
        )
    # The server is gone now; the replica synced while online decides.
    offline = measure_scan_to_print(
        lambda scanner, port: build_bench(
            bench_config("http://127.0.0.1:9", token, scanner, port, data_dir), with_display=False
        ),
        codes,
        workdir=workdir,
    )
    print(
        f"bench path online : p50 {pct(online, 0.5):6.2f} ms  p99 {pct(online, 0.99):6.2f} ms  n={len(online)}"
        "  (target p99 <= 30 ms)"
    )
    print(
        f"bench path replica: p50 {pct(offline, 0.5):6.2f} ms  p99 {pct(offline, 0.99):6.2f} ms  n={len(offline)}"
        "  (target p99 <= 10 ms)"
    )
    return {"online_p99_ms": pct(online, 0.99), "replica_p99_ms": pct(offline, 0.99)}


def replica_memory(entries: int = 1_000_000) -> dict:
    server = ServerProcess(18083)
    started = time.perf_counter()
    order_ids, _tracking = load_orders(server.engine, entries)
    token = server.enrol()
    print(f"loaded {entries:,} gate entries into the server in {time.perf_counter() - started:.0f} s")
    path = server.workdir / "replica.sqlite3"
    with server:
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                REPLICA_PROBE,
                server.url,
                token,
                str(path),
                *order_ids[:: max(1, entries // 1000)],
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    probe = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"replica of {probe['entries']:,} entries: synced from scratch in {probe['seconds']:.1f} s; "
        f"station RSS {probe['rss'] / 2**20:.1f} MB (target <= 80 MB); "
        f"lookup {probe['lookup_s'] * 1e6:.0f} us; file {path.stat().st_size / 2**20:.0f} MB"
    )
    return probe


def main() -> None:
    import logging

    logging.getLogger("station").setLevel(logging.ERROR)  # the bench logs every BLOCK/HOLD
    scan_to_print()
    import station_forward  # the inline gate: scanner -> decision -> key reports at the packing PC

    station_forward.scan_to_keyboard()
    replica_memory()
    import station_disk
    import station_screen

    station_disk.main()  # bytes to storage per idle hour and per 1,000 scans
    station_screen.main()  # last scanner byte -> BLOCK drawn on the bench screen


if __name__ == "__main__":
    main()
