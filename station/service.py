"""Running as a systemd service: Type=notify readiness, the watchdog, signals, heartbeats.

sd_notify is a unix datagram to $NOTIFY_SOCKET ("@name" is the abstract namespace): no extra
dependency. READY=1 goes out once the bench has started; WATCHDOG=1 on every tick of the bench's
main loop while all its threads are alive (a wedged loop or a dead thread stops the pings and
systemd restarts the station). SIGTERM/SIGINT stop the loop; the bench then closes the port,
finishes printing, stops syncing and closes the journal.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from station import timesync

if TYPE_CHECKING:
    from station.bench import Bench, StationStatus

log = logging.getLogger(__name__)


class Notifier:
    """sd_notify(3) without libsystemd. A no-op when not started by systemd (no $NOTIFY_SOCKET)."""

    def __init__(self, socket_path: str | None = None) -> None:
        self.address = socket_path
        if self.address and self.address.startswith("@"):
            self.address = "\0" + self.address[1:]

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Notifier:
        return cls(env.get("NOTIFY_SOCKET"))

    @property
    def enabled(self) -> bool:
        return bool(self.address)

    def notify(self, message: str) -> bool:
        if not self.address:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.connect(self.address)
                sock.sendall(message.encode())
            return True
        except OSError as exc:
            log.warning("sd_notify %r failed: %s", message, exc)
            return False

    def ready(self, status: str = "scanning") -> bool:
        return self.notify(f"READY=1\nSTATUS={status}")

    def watchdog(self) -> bool:
        return self.notify("WATCHDOG=1")

    def stopping(self) -> bool:
        return self.notify("STOPPING=1")


def watchdog_interval_s(env: Mapping[str, str] = os.environ) -> float | None:
    """Half of WatchdogSec (systemd's advice), or None when no watchdog is asked for us."""
    usec, pid = env.get("WATCHDOG_USEC"), env.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        return int(usec) / 2_000_000
    except ValueError:
        return None


def rss_bytes() -> int:
    """Resident set size from /proc/self/statm (pages) times the page size; 0 where unavailable."""
    try:
        with open("/proc/self/statm") as f:
            resident_pages = int(f.read().split()[1])
        return resident_pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def disk_written_bytes() -> int:
    """Bytes this process sent to storage since it started (/proc/self/io); 0 where unavailable."""
    try:
        with open("/proc/self/io") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("write_bytes:"))
    except (OSError, ValueError, StopIteration):
        return 0


def alert_health(bench: Bench) -> dict[str, Any]:
    """The heartbeat's alert and clock fields (shipgate.wire): screen / voice / light, clock, disk."""
    synced = timesync.clock_synced()
    return {
        **bench.alerts.heartbeat(),
        "clock_synced": "unknown" if synced is None else ("yes" if synced else "no"),
        "disk_written_bytes": disk_written_bytes(),
    }


def heartbeat_payload(status: StationStatus, software_version: str) -> dict[str, Any]:
    """The POST /api/v1/heartbeat body (shipgate.wire)."""
    age = status.replica_age_s
    return {
        "software_version": software_version,
        "replica_version": status.replica_version,
        "replica_age_s": None if age is None else round(age, 1),
        "scanner": status.scanner,
        "printer": status.printer,
        "queue_depth": status.queue_depth,
        "rss_bytes": rss_bytes(),
        "mode": status.mode,
        "operator": status.operator,
    }


def install_signal_handlers(stop: threading.Event) -> None:
    """SIGTERM (systemd stop) and SIGINT (Ctrl-C) end the main loop cleanly."""

    def handler(signum: int, _frame: Any) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def run_service(
    bench: Bench, *, notifier: Notifier | None = None, stop: threading.Event | None = None
) -> int:
    """Start the bench, tell systemd we are ready, run the main loop until stopped, shut down."""
    notifier = notifier or Notifier.from_env()
    stop = stop or threading.Event()
    bench.start()
    notifier.ready()
    log.info("station %s ready (%s mode)", bench.station_name, bench.mode.value)
    complained = False

    def tick() -> None:
        nonlocal complained
        if bench.healthy():
            notifier.watchdog()
            complained = False
        elif not complained:
            log.critical("a station thread died: withholding the watchdog so systemd restarts us")
            complained = True

    started = time.monotonic()
    try:
        bench.run(stop, on_tick=tick)
    finally:
        notifier.stopping()
        bench.stop()
        log.info("station stopped after %.0f s", time.monotonic() - started)
    return 0
