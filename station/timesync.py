"""What a scan says about the clock that stamped it: synchronised or not, boot id, monotonic time.

The server bounds `scanned_at` with these (server.scanclock): on the same boot, monotonic time
turns "scanned 300 s before this upload" into a time the server can check against its own clock.

`clock_synced()` asks the kernel (adjtimex(2)): chrony, systemd-timesyncd and ntpd clear
STA_UNSYNC when they discipline the clock; the call answers TIME_ERROR while it is unsynchronised
(what `timedatectl`'s NTPSynchronized reports). None where the call is unavailable.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import time
from dataclasses import dataclass
from functools import cache

from shipgate.wire import ScanClock, SentClock

_TIME_ERROR = 5
_STA_UNSYNC = 0x0040
BOOT_ID_PATH = "/proc/sys/kernel/random/boot_id"


class _Timeval(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long)]


class _Timex(ctypes.Structure):
    _fields_ = [
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),
        ("esterror", ctypes.c_long),
        ("status", ctypes.c_int),
        ("constant", ctypes.c_long),
        ("precision", ctypes.c_long),
        ("tolerance", ctypes.c_long),
        ("time", _Timeval),
        ("tick", ctypes.c_long),
        ("ppsfreq", ctypes.c_long),
        ("jitter", ctypes.c_long),
        ("shift", ctypes.c_int),
        ("stabil", ctypes.c_long),
        ("jitcnt", ctypes.c_long),
        ("calcnt", ctypes.c_long),
        ("errcnt", ctypes.c_long),
        ("stbcnt", ctypes.c_long),
        ("tai", ctypes.c_int),
        ("_padding", ctypes.c_int * 11),
    ]


@dataclass(frozen=True)
class ClockFacts:
    synced: bool | None
    boot_id: str | None
    mono_s: float

    def wire(self) -> ScanClock:
        """The scan's clock as the wire carries it (shipgate.wire.ScanClock)."""
        return ScanClock(self.synced, self.boot_id, round(self.mono_s, 3))


@cache
def _libc():
    name = ctypes.util.find_library("c")
    return ctypes.CDLL(name, use_errno=True) if name else None


def clock_synced() -> bool | None:
    """Is the system clock disciplined by a time source? None when the kernel cannot say."""
    libc = _libc()
    if libc is None or not hasattr(libc, "adjtimex"):
        return None
    tx = _Timex()  # modes = 0: read only
    state = libc.adjtimex(ctypes.byref(tx))
    if state < 0:
        return None
    return state != _TIME_ERROR and not tx.status & _STA_UNSYNC


@cache
def boot_id(path: str = BOOT_ID_PATH) -> str | None:
    try:
        with open(path) as f:
            return f.read().strip() or None
    except OSError:
        return None


def clock_facts() -> ClockFacts:
    return ClockFacts(clock_synced(), boot_id(), time.monotonic())


def sent_clock() -> SentClock:
    """A batch upload's own clock fields: with a scan's boot_id and mono_s they tell the server
    how long before this upload the scan was made."""
    return SentClock(boot_id(), round(time.monotonic(), 3))
