"""Benchmark: the inline gate, from the last byte of a code on the scanner's pty to the first and
the last key report at the simulated packing PC, online and from the replica, for the USB gadget
(a pty as /dev/hidg0) and for a CH9329 at 9600 and 115200 baud (a pty chip that takes a real
serial line's time per frame and reply). Every code is a PASS (only a PASS is forwarded).
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

from gate import load_orders
from serverproc import ServerProcess
from sqlalchemy import select

from server.models import GateEntry
from station.bench import build_bench
from station.config import parse_config
from station.printer import load_escpos
from station.virtual import VirtualScanner
from station.virtualpc import PackingPC, VirtualCh9329, VirtualGadget

# (label, kind, baud, scans): a CH9329 at 9600 baud needs ~0.9 s a code, so it gets fewer scans.
SETUPS = [
    ("hidg", "hidg", None, 1000),
    ("ch9329 115200", "ch9329", 115200, 1000),
    ("ch9329 9600", "ch9329", 9600, 100),
]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def measure(
    url: str, token: str, workdir: Path, kind: str, baud: int | None, codes: list[str]
) -> tuple[list, list]:
    """(first key report latencies, last key report latencies) in seconds, one code at a time."""
    pc = PackingPC()
    device = (
        VirtualGadget(workdir / "hidg0", pc)
        if kind == "hidg"
        else VirtualCh9329(workdir / "ch9329", pc, line_baud=baud)
    )
    scanner = VirtualScanner(workdir / "scanner")
    forward = {"kind": kind, "device": device.path, **({"baud": baud} if kind == "ch9329" else {})}
    config = parse_config(
        {
            "server": {"url": url, "token": token, "budget_ms": 300},
            "scanner": {"device": scanner.path, "suffix": "CR"},
            "printer": {"kind": "dummy"},
            "station": {"name": "bench-1", "data_dir": str(workdir / "station"), "sync_interval_s": 60},
            "display": {"enabled": False},
            "forward": forward,
        }
    )
    bench = build_bench(config, with_display=False)
    stop = threading.Event()
    loop = threading.Thread(target=bench.run, args=(stop,), daemon=True)
    first, last = [], []
    try:
        bench.start()
        loop.start()
        deadline = time.monotonic() + 10
        while bench.scanner.state.value != "connected":
            if time.monotonic() > deadline:
                raise TimeoutError("the bench never opened the virtual scanner")
            time.sleep(0.01)
        for n, code in enumerate(codes, start=1):
            sent = scanner.scan(code)
            if not pc.wait_for(n, timeout=10):
                raise TimeoutError(f"{code} never reached the packing PC (decision {bench.last})")
            got = pc.received[n - 1]
            assert got.code == code, (got.code, code)
            first.append(got.first_report_at - sent)
            last.append(got.last_report_at - sent)
    finally:
        stop.set()
        loop.join(10)
        bench.stop()
        scanner.close()
        device.close()
    return first, last


def report(label: str, mode: str, first: list[float], last: list[float]) -> dict:
    target = "30" if mode == "online" else "10"
    print(
        f"inline gate {label:<14} {mode:<7}: first key report p50 {pct(first, 0.5):6.2f} ms "
        f"p99 {pct(first, 0.99):6.2f} ms (target p99 <= {target} ms); last key report p50 "
        f"{pct(last, 0.5):7.2f} ms p99 {pct(last, 0.99):7.2f} ms  n={len(first)}",
        flush=True,
    )
    return {"first_p99_ms": pct(first, 0.99), "last_p99_ms": pct(last, 0.99)}


def scan_to_keyboard(orders: int = 10_000, only: tuple[str, ...] = ()) -> dict:
    """All SETUPS, or those whose label starts with one of `only` (e.g. "ch9329")."""
    setups = [s for s in SETUPS if not only or s[0].startswith(only)]
    workdir = Path(tempfile.mkdtemp(prefix="shipgate-bench-forward-"))
    load_escpos(workdir / "escpos")
    server = ServerProcess(18084)
    order_ids, tracking = load_orders(server.engine, orders)
    with server.engine.connect() as connection:
        passing = set(connection.scalars(select(GateEntry.order_id).where(GateEntry.decision == "PASS")))
    token = server.enrol()
    good = [i for i, order_id in enumerate(order_ids) if order_id in passing]
    codes = [(order_ids if i % 2 else tracking)[good[(i * 7919) % len(good)]] for i in range(1000)]
    figures = {}
    with server:
        for label, kind, baud, scans in setups:
            run = workdir / f"{kind}-{baud}-online"
            run.mkdir()
            figures[(label, "online")] = report(
                label, "online", *measure(server.url, token, run, kind, baud, codes[:scans])
            )
    # The server is gone now; each station's replica, synced while online, decides.
    for label, kind, baud, scans in setups:
        run = workdir / f"{kind}-{baud}-online"
        figures[(label, "replica")] = report(
            label, "replica", *measure("http://127.0.0.1:9", token, run, kind, baud, codes[:scans])
        )
    return figures


if __name__ == "__main__":
    import logging

    logging.getLogger("station").setLevel(logging.ERROR)
    scan_to_keyboard(only=tuple(sys.argv[1:]))
