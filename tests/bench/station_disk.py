"""Bytes the station writes to its disk: per idle hour and per 1,000 scans (`make bench PART=station`).

Real parts: a Replica, a Journal and an Uplink against the station test kit's loopback gate server
(tests/station/station_testkit.py); a bench deciding real scans. Bytes are the kernel's count of
what this process sent to storage (/proc/self/io write_bytes, accounted when a page is dirtied),
and the write() volume (wchar, which excludes socket sends).

    python tests/bench/station_disk.py          # this checkout
    PYTHONPATH=/work/main python tests/bench/station_disk.py   # another checkout's station, same script
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "station"))

from station_testkit import ORDER_OK, ORDER_REFUNDED, GateServer  # noqa: E402

from station.bench import Bench  # noqa: E402
from station.client import GateClient  # noqa: E402
from station.journal import Journal  # noqa: E402
from station.replica import Replica  # noqa: E402
from station.uplink import LinkStatus, Uplink  # noqa: E402

SYNC_INTERVAL_S = 5.0  # the default [station] sync_interval_s
HEARTBEAT_S = 30.0  # the default [server] heartbeat_s


def io_counters() -> dict[str, int]:
    with open("/proc/self/io") as f:
        return {k: int(v) for k, v in (line.split(": ") for line in f)}


class Clock:
    def __init__(self) -> None:
        self.now = 1_780_000_000.0

    def __call__(self) -> float:
        return self.now


def _parts(workdir: Path, server: GateServer, clock: Clock):
    workdir.mkdir(parents=True, exist_ok=True)
    client = GateClient(server.url, "station-test-token", budget_s=1.0, sync_timeout_s=3.0)
    replica = Replica(workdir / "replica.sqlite3", clock=clock, max_age_s=600)
    journal = Journal(workdir / "journal.sqlite3")
    link = LinkStatus()
    uplink = Uplink(client, replica, journal, link, status=lambda: {}, sync_interval_s=SYNC_INTERVAL_S)
    return client, replica, journal, link, uplink


def idle_hour(workdir: Path) -> dict[str, int]:
    """One simulated idle hour: a sync + upload every 5 s, a heartbeat every 30 s, nothing changing."""
    server = GateServer().start()
    server.seed()
    clock = Clock()
    client, replica, journal, _link, uplink = _parts(workdir, server, clock)
    try:
        uplink.sync_once()  # the first sync takes the snapshot: not idle
        before = io_counters()
        steps = int(3600 / SYNC_INTERVAL_S)
        for step in range(steps):
            clock.now += SYNC_INTERVAL_S
            uplink.sync_once()
            uplink.upload_pending()
            if step % int(HEARTBEAT_S / SYNC_INTERVAL_S) == 0:
                uplink.heartbeat_once()
        after = io_counters()
    finally:
        client.close()
        replica.close()
        journal.close()
        server.stop()
    return {k: after[k] - before[k] for k in ("write_bytes", "wchar", "syscw")}


def thousand_scans(workdir: Path) -> dict[str, int]:
    server = GateServer().start()
    server.seed()
    clock = Clock()
    client, replica, journal, link, uplink = _parts(workdir, server, clock)
    bench = Bench(None, client, replica, journal, None, None, clock, "bench-1", link=link)
    try:
        before = io_counters()
        for n in range(1000):
            bench.handle(ORDER_REFUNDED if n % 10 == 0 else ORDER_OK)
        after = io_counters()
    finally:
        bench.stop()
        server.stop()
    return {k: after[k] - before[k] for k in ("write_bytes", "wchar", "syscw")}


def main() -> dict:
    import logging

    logging.getLogger("station").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="shipgate-disk-") as tmp:
        idle = idle_hour(Path(tmp) / "idle")
        scans = thousand_scans(Path(tmp) / "scans")
    per_day = idle["write_bytes"] * 24
    print(
        f"station disk, idle: {idle['write_bytes'] / 1024:.1f} KiB/hour to storage "
        f"({per_day / 2**20:.2f} MiB/day; target <= 1 MiB/day), write() {idle['wchar'] / 1024:.1f} KiB/hour "
        f"in {idle['syscw']} calls"
    )
    print(
        f"station disk, 1,000 scans: {scans['write_bytes'] / 2**20:.2f} MiB to storage, "
        f"write() {scans['wchar'] / 2**20:.2f} MiB in {scans['syscw']} calls"
    )
    return {"idle_bytes_per_hour": idle["write_bytes"], "bytes_per_1000_scans": scans["write_bytes"]}


if __name__ == "__main__":
    main()
