"""How far to believe a scan's `scanned_at`: bound it by the server's own clock. Pure.

A station stamps each scan with its wall clock, says whether that clock is synchronised, and
adds its boot id and monotonic time. The server knows when the scan (or the batch holding it)
arrived. The scan's expected time is:

    online scan                               received_at
    uploaded later, same boot as the upload   received_at - (sent_mono_s - mono_s)
    uploaded later, from an earlier boot      unknown (only "not after received_at" can be checked)

`skew_s` = claimed - expected. A claim more than `allowed_skew_s` away from the expected time (or
later than received_at + allowed_skew_s when nothing else is known) is replaced by the server's
time and flagged SKEWED (the claim is kept in `claimed_at`); a scan from a clock the station says
is unsynchronised keeps its time and is flagged UNSYNCED.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from shipgate.wire import ScanClock, SentClock  # what the station sends about its clock

__all__ = ["ClockFlag", "ScanClock", "ScanTime", "SentClock", "bound", "expected_time"]

DEFAULT_ALLOWED_SKEW_S = 120.0


class ClockFlag(StrEnum):
    SKEWED = "skewed"  # the claimed time was far from the server's: scanned_at is the server's
    UNSYNCED = "unsynced"  # the station's clock was not synchronised: scanned_at is its claim


FLAG_LABELS = {
    ClockFlag.SKEWED: "工位时钟偏差过大，已按服务器时间记录",
    ClockFlag.UNSYNCED: "工位时钟未同步，扫描时间可能不准",
}


@dataclass(frozen=True)
class ScanTime:
    scanned_at: datetime  # what the journal stores
    claimed_at: datetime | None  # the station's claim, kept only when it was replaced
    skew_s: float | None  # claimed - expected; None when the expected time is unknown
    flag: ClockFlag | None


def expected_time(received_at: datetime, clock: ScanClock, sent: SentClock | None) -> datetime | None:
    if sent is None:
        return received_at
    if (
        sent.boot_id is not None
        and clock.boot_id == sent.boot_id
        and clock.mono_s is not None
        and sent.mono_s is not None
        and sent.mono_s >= clock.mono_s
    ):
        return received_at - timedelta(seconds=sent.mono_s - clock.mono_s)
    return None


def bound(
    claimed: datetime,
    received_at: datetime,
    clock: ScanClock,
    sent: SentClock | None = None,
    *,
    allowed_skew_s: float = DEFAULT_ALLOWED_SKEW_S,
) -> ScanTime:
    """The scan time to store for a claim, and its flag. `sent` is None for an online scan."""
    expected = expected_time(received_at, clock, sent)
    allowed = timedelta(seconds=allowed_skew_s)
    if expected is not None:
        skew = claimed - expected
        if abs(skew) > allowed:
            return ScanTime(expected, claimed, skew.total_seconds(), ClockFlag.SKEWED)
        skew_s = skew.total_seconds()
    else:
        if claimed > received_at + allowed:  # a scan cannot arrive before it was made
            return ScanTime(received_at, claimed, None, ClockFlag.SKEWED)
        skew_s = None
    flag = ClockFlag.UNSYNCED if clock.synced is False else None
    return ScanTime(claimed, None, skew_s, flag)
