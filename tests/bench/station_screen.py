"""Last scanner byte -> BLOCK drawn on the bench screen (`make bench PART=station`).

Real parts: a pty scanner (station.virtual.VirtualScanner), the bench with its screen
(station.screen.Screen), the station test kit's loopback gate server, and the page in headless
Chromium (Playwright, /usr/bin/chromium). The time is taken in the page when it has drawn the
state of the n-th BLOCK (its `shipgate-state` event), against the wall clock right after the last
byte of the code was written to the pty (same machine, same CLOCK_REALTIME).
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "station"))
sys.path.append(str(Path(__file__).resolve().parents[1]))  # browserkit (after the packages)

from browserkit import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from polling import wait_until  # noqa: E402
from station_testkit import ORDER_REFUNDED, TOKEN, GateServer  # noqa: E402

from station.alerts import Alerts  # noqa: E402
from station.bench import Bench  # noqa: E402
from station.client import GateClient  # noqa: E402
from station.journal import Journal  # noqa: E402
from station.replica import Replica  # noqa: E402
from station.scanner import Scanner  # noqa: E402
from station.screen import Screen  # noqa: E402
from station.uplink import LinkStatus  # noqa: E402
from station.virtual import VirtualScanner  # noqa: E402

WATCH = """() => { window.blockAt = {}; document.addEventListener("shipgate-state", e => {
  const s = e.detail, n = (s.counts || {}).BLOCK || 0;
  if (s.decision === "BLOCK" && !(n in window.blockAt)) window.blockAt[n] = performance.timeOrigin + performance.now();
}); }"""


def scan_to_screen(scans: int = 300) -> list[float]:
    from playwright.sync_api import sync_playwright

    workdir = Path(tempfile.mkdtemp(prefix="shipgate-bench-screen-"))
    server = GateServer().start()
    server.seed()
    scanner_port = VirtualScanner(workdir / "scanner")
    screen = Screen("127.0.0.1", 0)
    client = GateClient(server.url, TOKEN, budget_s=0.3)
    bench: Bench | None = None
    scanner = Scanner(scanner_port.path, on_code=lambda code: bench.submit(code))
    bench = Bench(
        scanner, client, Replica(workdir / "replica.sqlite3"), Journal(workdir / "journal.sqlite3"), None,
        station_name="bench-1", link=LinkStatus(), alerts=Alerts({"screen": screen}),
    )  # fmt: skip
    stop = threading.Event()
    loop = threading.Thread(target=bench.run, args=(stop,), daemon=True)
    latencies = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            bench.start()
            loop.start()
            page = browser.new_page()
            page.goto(screen.url + "/")
            page.evaluate(WATCH)
            if not wait_until(lambda: screen.working and scanner.state.value == "connected", 10):
                raise TimeoutError("the page or the scanner never connected")
            for n in range(1, scans + 1):
                scanner_port.scan(ORDER_REFUNDED)
                sent = time.time() * 1000
                page.wait_for_function(f"window.blockAt[{n}] !== undefined", timeout=5000)
                latencies.append(page.evaluate(f"window.blockAt[{n}]") - sent)
        finally:
            stop.set()
            loop.join(5)
            bench.stop()
            browser.close()
            scanner_port.close()
            server.stop()
    return latencies


def main() -> dict:
    import logging

    logging.getLogger("station").setLevel(logging.ERROR)
    ms = sorted(scan_to_screen())
    p50, p99 = ms[len(ms) // 2], ms[min(len(ms) - 1, int(0.99 * len(ms)))]
    print(
        f"scan -> BLOCK on the screen: p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  n={len(ms)}  (max {ms[-1]:.1f} ms)"
    )
    return {"screen_p50_ms": p50, "screen_p99_ms": p99}


if __name__ == "__main__":
    main()
