"""A small asyncio HTTP/1.1 keep-alive load generator (no dependencies), for loopback benchmarks.

It runs N connections that each send one request, read the whole answer, then send the next,
for a fixed duration or count; it records each request's latency.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    label: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    elapsed: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def line(self) -> str:
        mean = statistics.fmean(self.latencies) * 1000 if self.latencies else float("nan")
        return (
            f"{self.label:<28} {self.rate:9.0f} req/s  p50 {self.pct(0.50):6.2f} ms  p99 {self.pct(0.99):6.2f} ms"
            f"  mean {mean:6.2f} ms  n={len(self.latencies)} errors={self.errors}"
        )


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:].strip())
    body = await reader.readexactly(length) if length else b""
    return status, body


async def _worker(host, port, make_request: Callable[[int], bytes], deadline, counter, result, check):
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            n = next(counter)
            request = make_request(n)
            started = time.perf_counter()
            writer.write(request)
            status, body = await _read_response(reader)
            result.latencies.append(time.perf_counter() - started)
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if status != 200 or (check and not check(body)):
                result.errors += 1
    finally:
        writer.close()


def run_load(
    label: str,
    host: str,
    port: int,
    make_request: Callable[[int], bytes],
    *,
    connections: int = 16,
    seconds: float = 10.0,
    check: Callable[[bytes], bool] | None = None,
) -> LoadResult:
    import itertools

    result = LoadResult(label)
    counter = itertools.count()

    async def main():
        deadline = time.perf_counter() + seconds
        started = time.perf_counter()
        await asyncio.gather(
            *(_worker(host, port, make_request, deadline, counter, result, check) for _ in range(connections))
        )
        result.elapsed = time.perf_counter() - started

    asyncio.run(main())
    return result


def http_request(method: str, path: str, host: str, body: bytes = b"", headers: dict | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: keep-alive"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body
