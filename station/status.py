"""The station's health: the snapshot the display and the heartbeats share, and the heartbeat
(shipgate.wire.Heartbeat) built from it."""

from __future__ import annotations

import os
from dataclasses import dataclass

from shipgate.wire import Heartbeat, ScanMode


@dataclass(frozen=True)
class StationStatus:
    """A snapshot for the display and the heartbeats."""

    online: bool
    server_problem: str | None
    replica_version: int
    replica_age_s: float | None
    replica_stale: bool
    queue_depth: int
    scanner: str
    printer: str
    operator: str | None
    mode: ScanMode
    alarm: str | None


def rss_bytes() -> int:
    """Resident set size from /proc/self/statm (pages) times the page size; 0 where unavailable."""
    try:
        with open("/proc/self/statm") as f:
            resident_pages = int(f.read().split()[1])
        return resident_pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def heartbeat_payload(status: StationStatus, software_version: str) -> Heartbeat:
    """The POST /api/v1/heartbeat body."""
    age = status.replica_age_s
    return Heartbeat(
        software_version=software_version,
        replica_version=status.replica_version,
        replica_age_s=None if age is None else round(age, 1),
        scanner=status.scanner,
        printer=status.printer,
        queue_depth=status.queue_depth,
        rss_bytes=rss_bytes(),
        mode=ScanMode(status.mode).value,
        operator=status.operator,
    )
