"""Scenarios c, d, f, g: the station process SIGKILLed mid-burst (a pty scanner, a TCP printer),
a network partition between stations and server, the station's disk full, and station clocks
off by ten minutes. Each ends with the journal-vs-server check."""

from __future__ import annotations

import contextlib
import errno
import os
import random
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from polling import wait_until
from soak_kit import (
    ROOT,
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
    journal_rows,
    migrated_engine,
    reconcile,
    refund_now,
    seed,
    server_rows,
    sqlite_url,
    wrong_decisions,
)
from soak_net import TcpProxy

from station.virtual import CapturePrinter, VirtualScanner


class Server:
    """A server on SQLite with seeded orders and enrolled stations, for one scenario."""

    def __init__(self, workdir: Path, names: list[str], orders: int = 5000):
        self.engine = migrated_engine(sqlite_url(workdir))
        self.catalog = seed(self.engine, orders)
        self.stations = enrol_stations(self.engine, names)
        self.proc = ServerProc(workdir, free_port(), sqlite_url(workdir)).start()

    def close(self) -> None:
        self.proc.stop()
        self.engine.dispose()


def say_reconciliation(result: Result, total: Reconciliation) -> None:
    result.say("journal vs server: " + total.line())
    result.check(total.ok, "journal and server disagree: " + total.line())


# -- c. the station process killed mid-burst ------------------------------------------------------

STATION_TOML = """\
[server]
url = "{url}"
token = "{token}"
budget_ms = 300
heartbeat_s = 5
sync_timeout_s = 3

[scanner]
device = "{scanner}"
suffix = "CR"

[printer]
kind = "network"
host = "127.0.0.1"
port = {printer}
timeout_s = 2

[station]
name = "burst-bench"
data_dir = "{data_dir}"
sync_interval_s = 0.5

[display]
enabled = false
"""


class StationProc:
    def __init__(self, workdir: Path, config: Path):
        self.workdir, self.config, self.log = workdir, config, workdir / "station.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        marker = self.log.read_text(errors="replace").count(" ready (") if self.log.exists() else 0
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "station.cli", "run", "--config", str(self.config)],
                cwd=ROOT, stdout=log, stderr=log, env={**os.environ, "PYTHONPATH": str(ROOT)},
            )  # fmt: skip
        ready = wait_until(lambda: self.log.read_text(errors="replace").count(" ready (") > marker, 30)
        if not ready:
            raise AssertionError(f"the station did not start (see {self.log})")
        time.sleep(0.5)  # the scanner thread opens the pty

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(10)

    def stop(self) -> int:
        self.process.terminate()
        return self.process.wait(20)


def scenario_station_kill(workdir: Path, options: Options) -> Result:
    """station process SIGKILLed mid-burst (pty scanner, TCP printer)"""
    result = Result("c", "station process SIGKILLed mid-burst, restarted (pty scanner, TCP printer)")
    server = Server(workdir, ["burst-bench"])
    scanner = VirtualScanner(workdir / "scanner")
    printer = CapturePrinter()
    station_id, token = server.stations["burst-bench"]
    config = workdir / "station.toml"
    data_dir = workdir / "station-data"
    config.write_text(
        STATION_TOML.format(
            url=server.proc.url, token=token, scanner=scanner.path, printer=printer.port, data_dir=data_dir
        )  # fmt: skip
    )
    station = StationProc(workdir, config)
    codes = random.Random(5).sample(server.catalog.order_ids, int(options.pick(400, 150)))
    kill_at, while_down = int(len(codes) * 0.4), 20
    written, written_down = [], []
    try:
        station.start()
        for i, code in enumerate(codes):
            if i == kill_at:
                station.kill()  # the scanner keeps sending while the station is dead
            if i == kill_at + while_down:
                station.start()
            scanner.scan(code)
            written.append(code)
            if kill_at <= i < kill_at + while_down:
                written_down.append(code)
            time.sleep(0.003 if kill_at - 30 <= i < kill_at else 0.02)  # a fast burst into the kill
        journal = data_dir / "journal.sqlite3"

        def settled() -> bool:
            rows = journal_rows(journal)
            done = all(d is not None and u != "pending" for _s, _c, d, _so, u in rows)
            return done and len(server_rows(server.engine, station_id)) == len(rows) and len(rows) > 0

        result.check(wait_until(settled, 60, 0.5), "the station's journal did not settle on the server")
        exit_code = station.stop()
        result.check(exit_code == 0, f"the station exited {exit_code} on SIGTERM")
        total = reconcile(server.engine, station_id, journal)
        rows = journal_rows(journal)
        journaled = [code for _s, code, *_ in rows]
        printed = printer.output()
        slips_without_journal = [c for c in written if c not in journaled and c.encode() in printed]
        log = station.log.read_text(errors="replace")
        recovered = [int(m) for m in re.findall(r"recovered (\d+) scans left undecided", log)]
        result.say(
            f"codes written to the pty {len(written)} ({len(written_down)} while the station was dead)"
        )
        result.say(
            f"journaled {len(journaled)}; not journaled {len(set(written) - set(journaled))} "
            f"(read but lost in the kill window, never acted on: the packer saw no slip and rescans)"
        )
        result.say(
            f"written while dead and journaled after the restart: {len(set(written_down) & set(journaled))} "
            "(the scanner port's input is flushed when the station opens it)"
        )
        result.say(
            f"journaled but undecided at the kill, decided offline at restart: {sum(recovered)} (no slip)"
        )
        result.say(
            f"slips printed {len(printer.jobs)}; slips for a code not journaled: {len(slips_without_journal)}"
        )
        say_reconciliation(result, total)
        result.check(len(journaled) == len(set(journaled)), "a code was journaled twice")
        result.check(set(journaled) <= set(written), "a code that was never written was journaled")
        result.check(not slips_without_journal, f"acted on without journaling: {slips_without_journal[:3]}")
    finally:
        if station.process is not None and station.process.poll() is None:
            station.kill()
        printer.close()
        scanner.close()
        server.close()
    return result


# -- d. a network partition -------------------------------------------------------------------------


def scenario_partition(workdir: Path, options: Options) -> Result:
    """network partition between stations and server"""
    partition_s = options.partition_s
    result = Result("d", f"network partition station↔server for {partition_s:.0f} s (black-holed TCP)")
    names = [f"bench-{i}" for i in range(4)] + ["short-fuse"]
    server = Server(workdir, names)
    proxy = TcpProxy(server.proc.port)
    fuse_s = max(2.0, partition_s / 2)
    benches = {
        name: build_station(
            proxy.url,
            token,
            workdir / name,
            name,
            **({"replica_max_age_s": fuse_s} if name == "short-fuse" else {}),
        )  # fmt: skip
        for name, (_id, token) in server.stations.items()
    }
    try:
        result.check(
            wait_until(lambda: all(b.replica.last_sync is not None for b in benches.values()), 60),
            "no replica",
        )
        drivers = [
            Driver(b, code_mix(server.catalog, random.Random(i)), 0.2, i)
            for i, b in enumerate(benches.values())
        ]
        for driver in drivers:
            driver.start()
        time.sleep(options.pick(5, 3))
        proxy.partition()
        cut_at = time.monotonic()
        time.sleep(partition_s / 3)
        refunded = [c for c in server.catalog.order_ids if server.catalog.expected[c] == "PASS"][:10]
        for i, order_id in enumerate(refunded):  # refunds that succeed while the stations are cut off
            refund_now(server.engine, order_id, f"71{i:017d}")
        during = [(c, benches["bench-0"].handle(c), time.monotonic()) for c in refunded]
        time.sleep(max(0.0, partition_s - (time.monotonic() - cut_at)))
        proxy.heal()
        healed_at = time.monotonic()
        time.sleep(options.pick(10, 5))
        for driver in drivers:
            driver.stop()
        result.check(wait_until(lambda: drained(benches.values()), 60, 0.25), "journals did not drain")
        relinked = max((b.link.online for b in benches.values()), default=False)
        total = Reconciliation()
        for name, bench in benches.items():
            total.add(reconcile(server.engine, server.stations[name][0], bench.journal.path))
        in_partition = [o for d in drivers for o in d.outcomes if cut_at <= o[2] < healed_at]
        sources = Counter(o.source.value for _c, o, _t in in_partition if o is not None)
        result.say(
            f"scans during the partition {len(in_partition)}: "
            + ", ".join(f"{k} {v}" for k, v in sorted(sources.items()))
        )
        wrong = wrong_decisions([o for d in drivers for o in d.outcomes], server.catalog, set(refunded))
        result.say(
            "wrong decisions from the replicas: "
            + (", ".join(f"{k} {v}" for k, v in wrong.items()) or "none")
        )
        result.check(not wrong, f"wrong decisions: {dict(wrong)}")
        fuse = [o for c, o, t in drivers[-1].outcomes if t >= cut_at + fuse_s + 1 and t < healed_at and o]
        stale = sum(o.reason == "stale_replica" for o in fuse)
        passed = sum(o.decision.value == "PASS" for o in fuse)
        result.say(
            f"station with replica_max_age_s={fuse_s:.0f}: after that age offline, {stale} of {len(fuse)} scans HOLD stale_replica, {passed} PASS"
        )
        result.check(passed == 0 and (stale > 0 or not fuse), "a stale replica let a parcel pass")
        flagged = exceptions_for(server.engine, [o.scan_id for _c, o, _t in during])
        offline_pass = sum(o.decision.value == "PASS" for _c, o, _t in during)
        result.say(
            f"orders refunded during the partition, scanned offline: {len(during)}; passed offline {offline_pass} "
            f"(the replica could not know); flagged on upload (server BLOCK + exception) {flagged}"
        )
        result.check(
            flagged == len(during), "a scan that passed offline on a since-refunded order was not flagged"
        )
        say_reconciliation(result, total)
        result.check(relinked, "no station came back online")
    finally:
        for bench in benches.values():
            bench.stop()
        proxy.close()
        server.close()
    return result


def exceptions_for(engine, scan_ids: list[str]) -> int:
    from sqlalchemy import text

    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT s.scan_id FROM scans s JOIN exceptions e ON e.scan_pk = s.id "
                "WHERE s.decision = 'BLOCK' AND s.station_decision = 'PASS'"
            )
        ).all()
    return len({r[0] for r in rows} & set(scan_ids))


# -- f. the station's disk full ---------------------------------------------------------------------


def mount_tmpfs(path: Path, size: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    return done.returncode == 0


def fill(path: Path) -> int:
    written = 0
    with contextlib.suppress(OSError), open(path, "wb") as filler:
        chunk = b"\0" * 65536
        while True:
            try:
                filler.write(chunk)
                filler.flush()
                written += len(chunk)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                small = b"\0" * 512
                with contextlib.suppress(OSError):
                    while True:
                        filler.write(small)
                        filler.flush()
                        written += 512
                break
    return written


def scenario_disk_full(workdir: Path, options: Options) -> Result:
    """the station's disk full (a small tmpfs)"""
    result = Result("f", "disk full on the station journal (4 MB tmpfs)")
    fs = workdir / "fs"
    if not mount_tmpfs(fs, "4m"):
        result.skipped = "cannot mount a tmpfs (needs root)"
        return result
    server = Server(workdir, ["tight-bench"], orders=1000)
    station_id, token = server.stations["tight-bench"]
    bench = build_station(server.proc.url, token, fs / "station", "tight-bench")
    codes = code_mix(server.catalog, random.Random(9))
    try:
        result.check(wait_until(lambda: bench.replica.last_sync is not None, 30), "no replica")
        before = [bench.handle(codes()) for _ in range(20)]
        filled = fill(fs / "filler")
        full = [(bench.handle(c := codes()), c) for _ in range(40)]
        alarm = bench.alarm
        held = [o for o, _c in full if o and o.reason == "disk_full"]
        os.unlink(fs / "filler")
        after = [bench.handle(codes()) for _ in range(20)]
        result.say(f"filled {filled / 1e6:.1f} MB; 40 scans on the full disk: {len(held)} HOLD disk_full, "
                   f"{len(full) - len(held)} journaled anyway (SQLite reused pages it had)")  # fmt: skip
        result.say(f"alarm while full: {alarm!r}; after freeing space: {bench.alarm!r}")
        result.check(held and all(o.decision.value == "HOLD" and o.scan_id is None for o in held),
                     "a full disk did not fail closed (HOLD, nothing journaled)")  # fmt: skip
        result.check(alarm is not None and "磁盘已满" in alarm, "no 磁盘已满 alarm on the bench")
        result.check(all(o and o.scan_id for o in after) and bench.alarm is None, "the bench did not recover")
        drain = wait_until(lambda: drained([bench]), 30, 0.25)
        undecided = len(bench.journal.undecided())
        result.say(f"undecided scans left in the journal (record written, decision not): {undecided}")
        result.check(
            drain, f"the journal did not drain ({bench.journal.queue_depth()} queued, {undecided} undecided)"
        )
        say_reconciliation(result, reconcile(server.engine, station_id, bench.journal.path))
        result.check(len(before) == 20, "scans before the disk filled failed")
    finally:
        bench.stop()
        server.close()
        subprocess.run(["umount", "-l", str(fs)], capture_output=True)
    return result


# -- g. clock skew ----------------------------------------------------------------------------------


class SkewedClock:
    def __init__(self, offset_s: float):
        self.offset_s = offset_s

    def __call__(self) -> float:
        return time.time() + self.offset_s


def scenario_clock_skew(workdir: Path, options: Options) -> Result:
    """station clocks off by ±10 minutes"""
    result = Result("g", "station clocks ±10 min off the server's, and a clock that jumps")
    names = ["ahead", "behind", "jumpy"]
    server = Server(workdir, names)
    proxy = TcpProxy(server.proc.port)
    clocks = {"ahead": SkewedClock(600), "behind": SkewedClock(-600), "jumpy": SkewedClock(0)}
    benches = {
        n: build_station(proxy.url, server.stations[n][1], workdir / n, n, clock=clocks[n]) for n in names
    }
    codes = code_mix(server.catalog, random.Random(4))
    per = int(options.pick(25, 12))
    try:
        result.check(
            wait_until(lambda: all(b.replica.last_sync is not None for b in benches.values()), 30),
            "no replica",
        )
        online = {n: [(c := codes(), b.handle(c)) for _ in range(per)] for n, b in benches.items()}
        skew = server_skew(server.engine, {n: server.stations[n][0] for n in names})
        result.say(
            "online: server's received_at − station's scanned_at: "
            + ", ".join(f"{n} {s:+.0f} s" for n, s in skew.items())
        )
        proxy.partition()
        time.sleep(0.5)
        offline = {n: [(c := codes(), benches[n].handle(c)) for _ in range(per)] for n in ("ahead", "behind")}
        ages = {n: benches[n].replica.age_s() for n in ("ahead", "behind")}
        result.say(
            "offline with a constant skew: replica age "
            + ", ".join(f"{n} {a:.0f} s" for n, a in ages.items())
        )
        jumps = {}
        for label, offset in (("+15 min", 900), ("-15 min", -900), ("back to true time", 0)):
            clocks["jumpy"].offset_s = offset
            outcomes = [benches["jumpy"].handle(codes()) for _ in range(per)]
            jumps[label] = Counter(f"{o.decision.value} {o.reason}" if o.decision.value != "PASS" else "PASS"
                                   for o in outcomes if o)  # fmt: skip
        for label, counts in jumps.items():
            result.say(
                f"offline, jumpy clock {label}: " + ", ".join(f"{k} ×{v}" for k, v in counts.most_common(4))
            )
        proxy.heal()
        all_outcomes = [(c, o) for pairs in (*online.values(), *offline.values()) for c, o in pairs]
        wrong = wrong_decisions(all_outcomes, server.catalog)
        stale_with_skew = sum(o.reason == "stale_replica" for _c, o in all_outcomes if o)
        result.say("decisions online and offline with ±10 min skew: " +
                   (", ".join(f"{k} {v}" for k, v in wrong.items()) or "all right") +
                   f"; stale_replica holds {stale_with_skew}")  # fmt: skip
        result.check(not wrong and stale_with_skew == 0, "a constant skew changed decisions")
        result.check(all(k != "PASS" for c in (jumps["+15 min"], jumps["-15 min"]) for k in c),
                     "a clock jump offline let parcels pass on a replica of unknown age")  # fmt: skip
        result.check(wait_until(lambda: drained(benches.values()), 30, 0.25), "journals did not drain")
        total = Reconciliation()
        for n, bench in benches.items():
            total.add(reconcile(server.engine, server.stations[n][0], bench.journal.path))
        say_reconciliation(result, total)
        result.say("the server stores scanned_at as the station sends it (no check against its own clock); "
                   "the heartbeat answer carries server_time, which the station does not use")  # fmt: skip
    finally:
        for bench in benches.values():
            bench.stop()
        proxy.close()
        server.close()
    return result


def server_skew(engine, stations: dict[str, int]) -> dict[str, float]:
    from sqlalchemy import select

    from server.models import Scan

    with engine.connect() as conn:
        rows = conn.execute(select(Scan.station_id, Scan.scanned_at, Scan.received_at)).all()
    skew = {}
    for name, station_id in stations.items():
        diffs = [(r.received_at - r.scanned_at).total_seconds() for r in rows if r.station_id == station_id]
        skew[name] = sum(diffs) / len(diffs) if diffs else float("nan")
    return skew
