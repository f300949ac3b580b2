"""The station's health: the snapshot the display and the heartbeats share, and the heartbeat
(shipgate.wire.Heartbeat) built from it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shipgate.wire import Heartbeat, ScanMode
from station import timesync


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


def disk_written_bytes() -> int:
    """Bytes this process sent to storage since it started (/proc/self/io); 0 where unavailable."""
    try:
        with open("/proc/self/io") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("write_bytes:"))
    except (OSError, ValueError, StopIteration):
        return 0


def alert_health(channels: Mapping[str, str]) -> dict[str, Any]:
    """The heartbeat's alert and clock fields: screen / voice / light (station.alerts), clock, disk."""
    synced = timesync.clock_synced()
    return {
        **channels,
        "clock_synced": "unknown" if synced is None else ("yes" if synced else "no"),
        "disk_written_bytes": disk_written_bytes(),
    }


def heartbeat_payload(
    status: StationStatus, software_version: str, health: Mapping[str, Any] | None = None
) -> Heartbeat:
    """The POST /api/v1/heartbeat body; `health` holds alert_health()'s fields."""
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
        **(health or {}),
    )
