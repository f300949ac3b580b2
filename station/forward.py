"""Forwarding a PASS to the packing PC as keyboard input: the inline gate's output side.

The bench calls a `Forwarder` after the decision, for a PASS only, with exactly the scanned code;
the forwarder types it (plus the configured suffix) into the packing PC, whose ERP then prints
the waybill. Nothing else ever reaches the PC.

- `key_reports(code, suffix)` (pure): the 8-byte USB boot-keyboard reports `[modifier, 0, key1..6]`
  for a code in the US layout (Shift for capitals and shifted symbols), each key a press report
  followed by an all-zero release.
- `HidgForwarder`: the Linux USB gadget HID keyboard (`/dev/hidg0`); the only module writing it.
- `station.ch9329.Ch9329Forwarder`: the WCH CH9329 serial-to-USB-keyboard module.

A forwarder raises `ForwardError` (device gone, PC not reading, no reply) and reopens its device on
the next code; the bench raises the alarm and journals the scan as not forwarded.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
import time
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from shipgate.codes import CodeKind
from shipgate.wire import Decision
from station.journal import JournalError

if TYPE_CHECKING:
    from station.decision import Outcome
    from station.forwardlog import ForwardLog

log = logging.getLogger(__name__)

REPORT_LEN = 8
RELEASE = bytes(REPORT_LEN)
SHIFT = 0x02  # left Shift, modifier bit 1
SUFFIX_KEYS = {"enter": 0x28, "tab": 0x2B, "none": None}

# US layout: character -> (usage id, shifted). Letters, digits and the printable ASCII symbols.
_UNSHIFTED = "1234567890"
_SHIFTED_DIGITS = "!@#$%^&*()"
_SYMBOLS = {  # usage id: (plain, shifted)
    0x2C: (" ", None),
    0x2D: ("-", "_"),
    0x2E: ("=", "+"),
    0x2F: ("[", "{"),
    0x30: ("]", "}"),
    0x31: ("\\", "|"),
    0x33: (";", ":"),
    0x34: ("'", '"'),
    0x35: ("`", "~"),
    0x36: (",", "<"),
    0x37: (".", ">"),
    0x38: ("/", "?"),
}


def _us_layout() -> dict[str, tuple[int, bool]]:
    table: dict[str, tuple[int, bool]] = {}
    for i in range(26):
        table[chr(ord("a") + i)] = (0x04 + i, False)
        table[chr(ord("A") + i)] = (0x04 + i, True)
    for i, (plain, shifted) in enumerate(zip(_UNSHIFTED, _SHIFTED_DIGITS, strict=True)):
        table[plain] = (0x1E + i, False)
        table[shifted] = (0x1E + i, True)
    for usage, (plain, shifted) in _SYMBOLS.items():
        table[plain] = (usage, False)
        if shifted:
            table[shifted] = (usage, True)
    return table


US_LAYOUT = _us_layout()


class ForwardKind(StrEnum):
    NONE = "none"
    HIDG = "hidg"
    CH9329 = "ch9329"


class ForwardState(StrEnum):
    """The forward device as the display and the heartbeats see it."""

    READY = "ready"  # opened (or not yet needed) and the last code went through
    FAILED = "failed"  # the last attempt failed; retried on the next PASS


class ForwardError(Exception):
    """The code did not (or not wholly) reach the packing PC."""


class Unencodable(ForwardError):
    """A character the US keyboard layout cannot type."""


class Forwarder(Protocol):
    description: str
    state: ForwardState

    def forward(self, code: str) -> None:
        """Type the code and its suffix into the PC; raise ForwardError if it did not get there."""

    def close(self) -> None: ...


# Only parcels are forwarded: never a badge, an exception QR, a resolution line or a drill code.
FORWARDED_KINDS = (CodeKind.ORDER_ID, CodeKind.TRACKING_NO)
FORWARD_FAILED = "转发失败 运单未打印 请重新扫描或联系主管"


def forwards(outcome: Outcome, kind: CodeKind) -> bool:
    """The one rule: a PASS of a parcel code, and nothing else, reaches the packing PC."""
    return outcome.decision is Decision.PASS and kind in FORWARDED_KINDS and outcome.scan_id is not None


def forward_journaled(
    forwarder: Forwarder, forward_log: ForwardLog | None, scan_id: str, code: str, now: Callable[[], str]
) -> str | None:
    """Type one PASS, journaled first (no record, no typing) and after. The problem, or None."""
    try:
        if forward_log is not None:
            forward_log.begin(scan_id, now())
    except JournalError as exc:
        return f"journal: {exc}"
    problem = None
    try:
        forwarder.forward(code)
    except ForwardError as exc:
        problem = str(exc)
    except Exception as exc:  # a bug in a forwarder is a failed forward, never a crash
        log.exception("scan %s: forwarding failed unexpectedly", scan_id)
        problem = f"{type(exc).__name__}: {exc}"
    try:
        if forward_log is not None:
            forward_log.finish(scan_id, problem is None, now(), problem)
    except JournalError as exc:
        log.error("scan %s: cannot journal the forwarding: %s", scan_id, exc)
    if problem is None:
        log.info("scan %s: forwarded to the packing PC", scan_id)
    return problem


def key_report(char: str) -> bytes:
    """The press report of one character (US layout)."""
    try:
        usage, shifted = US_LAYOUT[char]
    except KeyError:
        raise Unencodable(f"cannot type {char!r} on a US keyboard") from None
    return bytes((SHIFT if shifted else 0, 0, usage, 0, 0, 0, 0, 0))


def key_reports(code: str, suffix: str = "enter") -> list[bytes]:
    """Press and release reports for every character of the code, then the suffix key."""
    if suffix not in SUFFIX_KEYS:
        raise ValueError(f"unknown suffix {suffix!r}")
    reports: list[bytes] = []
    for char in code:
        reports += [key_report(char), RELEASE]
    key = SUFFIX_KEYS[suffix]
    if key is not None:
        reports += [bytes((0, 0, key, 0, 0, 0, 0, 0)), RELEASE]
    return reports


def decode_reports(reports: list[bytes]) -> str:
    """What a PC types for these reports (press reports only; Enter as "\\n", Tab as "\\t").

    The inverse of `key_reports`, for the simulated packing PC and the tests.
    """
    by_usage = {(usage, shifted): char for char, (usage, shifted) in US_LAYOUT.items()}
    text = []
    for report in reports:
        if len(report) != REPORT_LEN:
            raise ValueError(f"a keyboard report is {REPORT_LEN} bytes (got {len(report)})")
        if report == RELEASE:
            continue
        usage, shifted = report[2], bool(report[0] & (SHIFT | 0x20))
        if usage == 0x28:
            text.append("\n")
        elif usage == 0x2B:
            text.append("\t")
        else:
            text.append(by_usage.get((usage, shifted), "\ufffd"))
    return "".join(text)


def send_paced(items: list[bytes], send: Callable[[bytes], None], delay_s: float, sleep: Callable) -> None:
    """Send each item, pausing `delay_s` between two (key_delay_ms, for slow PCs)."""
    for i, item in enumerate(items):
        if i and delay_s:
            sleep(delay_s)
        send(item)


class HidgForwarder:
    """Writes key reports to the USB gadget's HID keyboard device (or any file, for tests).

    The device is opened at the first code and kept open; a failed write closes it, and the next
    code reopens it (the gadget reappears after the cable is replugged). A write the PC does not
    take within `timeout_s` (host asleep or not connected) is a failure.
    """

    def __init__(
        self,
        path: str,
        *,
        suffix: str = "enter",
        key_delay_s: float = 0.0,
        timeout_s: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.path = path
        self.suffix = suffix
        self.key_delay_s = key_delay_s
        self.timeout_s = timeout_s
        self.description = f"hidg {path}"
        self.state = ForwardState.READY
        self._sleep = sleep
        self._fd: int | None = None
        self._lock = threading.Lock()

    def forward(self, code: str) -> None:
        reports = key_reports(code, self.suffix)  # an unencodable code fails before any key is sent
        with self._lock:
            try:
                fd = self._open()
                send_paced(reports, lambda report: self._write(fd, report), self.key_delay_s, self._sleep)
            except (OSError, ForwardError) as exc:
                self._close()
                self.state = ForwardState.FAILED
                raise ForwardError(f"{self.path}: {exc}") from exc
            self.state = ForwardState.READY

    def _open(self) -> int:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
        return self._fd

    def _write(self, fd: int, report: bytes) -> None:
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                written = os.write(fd, report)
            except BlockingIOError:
                written = 0
            if written == len(report):
                return
            if written:
                raise ForwardError(f"short write ({written} of {len(report)} bytes)")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ForwardError("the PC is not reading the keyboard (not connected or asleep)")
            select.select([], [fd], [], remaining)

    def _close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None

    def close(self) -> None:
        with self._lock:
            self._close()


def forwarder_from_config(fc) -> Forwarder | None:
    """The forwarder for a [forward] section (station.config.ForwardConfig); None for kind none."""
    kind = ForwardKind(fc.kind)
    if kind is ForwardKind.NONE:
        return None
    delay = fc.key_delay_ms / 1000
    if kind is ForwardKind.HIDG:
        return HidgForwarder(fc.device, suffix=fc.suffix, key_delay_s=delay)
    from station.ch9329 import Ch9329Forwarder

    return Ch9329Forwarder(fc.device, baud=fc.baud, suffix=fc.suffix, key_delay_s=delay)
