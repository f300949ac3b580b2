"""An asyncio HTTP/1.1 keep-alive client for the scale-out scenario: closed-loop saturation, and
simulated stations (a scan every ~3 s with bursts, a replica poll every 5 s, one retry on a fresh
connection as the real station does, then "offline": queued for a batch upload)."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field

from loadgen import http_request
from soak_kit import LOOPBACK, pct

NOW = "2026-11-26T09:00:00+08:00"
STATION_BUDGET_S = 0.3  # a real bench's budget for a scan, retry included


class Conn:
    """One keep-alive connection that reconnects after any failure."""

    def __init__(self, port: int):
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, raw: bytes, timeout: float) -> tuple[int, bytes]:
        try:
            return await asyncio.wait_for(self._exchange(raw), timeout)
        except BaseException:
            self.close()
            raise

    async def _exchange(self, raw: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(LOOPBACK, self.port)
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length, close = 0, False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value.strip())
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        body = await self.reader.readexactly(length) if length else b""
        if close:
            self.close()
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)  # answered scans, seconds
    statuses: Counter = field(default_factory=Counter)
    scans: int = 0
    retried: int = 0  # the first attempt failed, the retry answered
    offline: int = 0  # both attempts failed: the bench decides from its replica, uploads later
    over_budget: int = 0  # answered, but slower than a bench waits (it would have gone offline)
    feeds: int = 0
    feed_errors: int = 0
    answered: dict[str, set] = field(default_factory=dict)  # token -> scan_ids the server answered
    queued: dict[str, list] = field(default_factory=dict)  # token -> scans to upload by batch
    failures: Counter = field(default_factory=Counter)
    elapsed: float = 0.0

    def line(self, label: str) -> str:
        rate = len(self.latencies) / self.elapsed if self.elapsed else 0
        return (
            f"{label}: {rate:,.0f} decisions/s, p50 {pct(self.latencies, 0.5) * 1000:.1f} ms, "
            f"p99 {pct(self.latencies, 0.99) * 1000:.1f} ms, errors {self.offline} "
            f"(n={len(self.latencies)})"
        )


def scan_request(host: str, token: str, scan_id: str, code: str) -> bytes:
    body = json.dumps({"scan_id": scan_id, "code": code, "scanned_at": NOW}).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return http_request("POST", "/api/v1/scans", host, body, headers)


async def scan_once(conn: Conn, raw: bytes, stats: Stats, timeout: float) -> bool:
    started = time.perf_counter()
    try:
        status, body = await conn.send(raw, timeout)
    except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
        stats.failures[type(exc).__name__] += 1
        return False
    stats.statuses[status] += 1
    if status != 200 or b'"decision"' not in body:
        stats.failures[f"HTTP {status}"] += 1
        return False
    elapsed = time.perf_counter() - started
    stats.latencies.append(elapsed)
    stats.over_budget += elapsed > STATION_BUDGET_S
    return True


async def scan(
    conn: Conn, host: str, token: str, scan_id: str, code: str, stats: Stats, timeout: float
) -> None:
    """As the bench does: one try, one retry on a fresh connection, then offline (batch later)."""
    raw = scan_request(host, token, scan_id, code)
    stats.scans += 1
    if await scan_once(conn, raw, stats, timeout):
        stats.answered.setdefault(token, set()).add(scan_id)
        return
    if await scan_once(conn, raw, stats, timeout):
        stats.retried += 1
        stats.answered.setdefault(token, set()).add(scan_id)
        return
    stats.offline += 1
    stats.queued.setdefault(token, []).append((scan_id, code))


def saturate(port: int, token: str, codes: list[str], seconds: float, connections: int = 32) -> Stats:
    """Closed loop: each connection sends the next scan as soon as the last is answered."""
    stats, host = Stats(), f"{LOOPBACK}:{port}"
    counter = iter(range(10**9))

    async def worker(deadline: float) -> None:
        conn = Conn(port)
        while time.perf_counter() < deadline:
            n = next(counter)
            await scan(conn, host, token, f"sat-{port}-{n}", codes[n % len(codes)], stats, 5.0)
        conn.close()

    async def main() -> None:
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(*(worker(deadline) for _ in range(connections)))
        stats.elapsed = time.perf_counter() - started

    asyncio.run(main())
    return stats


def stations(
    port: int, tokens: list[str], codes: list[str], seconds: float, *, since: int = 0, events=()
) -> Stats:
    """Simulated stations: a scan every ~3 s (exponential gaps), 3% of scans start a burst of 5,
    a replica poll every 5 s from `since` (replicas already current). `events` are
    (at_second, callable) run in a thread along the way."""
    stats, host = Stats(), f"{LOOPBACK}:{port}"

    async def station(index: int, token: str, deadline: float) -> None:
        rng, conn, seq = random.Random(index), Conn(port), 0
        version, next_feed = since, time.perf_counter() + rng.uniform(0, 5)
        await asyncio.sleep(rng.uniform(0, 3))
        while time.perf_counter() < deadline:
            for _ in range(5 if rng.random() < 0.03 else 1):
                seq += 1
                await scan(conn, host, token, f"s{index}-{seq}", rng.choice(codes), stats, 1.0)
                await asyncio.sleep(0.3)
            if time.perf_counter() >= next_feed:
                next_feed += 5
                version = await feed(conn, host, token, version, stats)
            await asyncio.sleep(rng.expovariate(1 / 3.0))
        conn.close()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        deadline = started + seconds
        timers = [loop.call_later(at, lambda f=f: loop.run_in_executor(None, f)) for at, f in events]
        await asyncio.gather(*(station(i, t, deadline) for i, t in enumerate(tokens)))
        for timer in timers:
            timer.cancel()
        stats.elapsed = time.perf_counter() - started

    asyncio.run(main())
    return stats


async def feed(conn: Conn, host: str, token: str, since: int, stats: Stats) -> int:
    raw = http_request(
        "GET", f"/api/v1/gate?since={since}&limit=500", host, headers={"Authorization": f"Bearer {token}"}
    )
    stats.feeds += 1
    try:
        status, body = await conn.send(raw, 5.0)
        if status == 200:
            return int(json.loads(body)["next"])
    except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError, KeyError):
        pass
    stats.feed_errors += 1
    return since
