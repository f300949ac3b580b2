"""The barcode scanner on a serial port (USB CDC-ACM or RS-232). The only module importing `serial`.

`Scanner` owns the port: it resolves the configured device ("/dev/ttyACM0", "auto" or "vid:pid"),
opens it exclusively, frames what arrives into codes with `Framer`, and hands each code upward
through a callback. An unplugged or missing device is closed, backed off (capped exponential),
rediscovered and reopened; the state is exposed for the display and the heartbeats.
The thread starts in `start()`, never in `__init__`.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import serial
from serial.tools import list_ports

from shipgate.codes import MAX_CODE_LENGTH

log = logging.getLogger(__name__)

# A line longer than this (in bytes, before any terminator) is noise or a stuck trigger: dropped.
MAX_LINE_BYTES = MAX_CODE_LENGTH * 2
_CONTROL = "".join(chr(c) for c in range(0x20)) + "\x7f"
_STRIP = _CONTROL + " \u3000\ufeff"


class ScannerState(StrEnum):
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    RECONNECTING = "reconnecting"


class Framer:
    """Bytes in, codes out; survives partial reads, noise and over-long lines.

    suffix "CR", "LF" or "CRLF": a code ends at CR or LF (either, so CRLF and a mismatched
    setting both frame correctly; empty lines are ignored). suffix "none": a code ends when no
    byte has arrived for `gap_s` (inter-character timeout framing; call `poll()` regularly).
    Leading/trailing control characters and blanks are stripped; control characters inside a
    code are kept, so `shipgate.codes.classify` rejects the code explicitly.
    """

    def __init__(self, suffix: str = "CR", gap_s: float = 0.05, max_bytes: int = MAX_LINE_BYTES) -> None:
        if suffix not in ("CR", "LF", "CRLF", "none"):
            raise ValueError(f"unknown suffix {suffix!r}")
        self.timed = suffix == "none"
        self.gap_s = gap_s
        self.max_bytes = max_bytes
        self._buffer = bytearray()
        self._discarding = False
        self._last = 0.0
        self.dropped = 0  # over-long lines dropped, for logs and tests

    def feed(self, data: bytes, now: float) -> list[str]:
        out = self.poll(now) if self.timed else []
        self._last = now
        if self.timed:
            self._append(data)
            return out
        for byte in data:
            if byte in (0x0D, 0x0A):
                out.extend(self._end_line())
            else:
                self._append(bytes((byte,)))
        return out

    def poll(self, now: float) -> list[str]:
        """Timed framing: emit the buffered code once the line has been quiet for gap_s."""
        if not self.timed or not (self._buffer or self._discarding) or now - self._last < self.gap_s:
            return []
        return self._end_line()

    def _append(self, data: bytes) -> None:
        if self._discarding:
            return
        self._buffer += data
        if len(self._buffer) > self.max_bytes:
            self._buffer.clear()
            self._discarding = True
            self.dropped += 1
            log.warning("scanner: dropped a line longer than %d bytes", self.max_bytes)

    def _end_line(self) -> list[str]:
        raw, self._buffer = bytes(self._buffer), bytearray()
        if self._discarding:
            self._discarding = False
            return []
        text = raw.decode("utf-8", errors="replace").strip(_STRIP)
        return [text] if text else []


@dataclass(frozen=True)
class PortInfo:
    device: str
    vid: int | None
    pid: int | None
    serial_number: str | None
    description: str

    @property
    def is_acm(self) -> bool:
        return "ttyACM" in self.device

    def describe(self) -> str:
        ids = f"{self.vid:04x}:{self.pid:04x}" if self.vid is not None and self.pid is not None else "-"
        acm = " (USB CDC ACM)" if self.is_acm else ""
        return f"{self.device}\t{ids}\t{self.serial_number or '-'}\t{self.description}{acm}"


def available_ports() -> list[PortInfo]:
    """Serial ports the OS knows of (ptys are invisible here: use an explicit path for them)."""
    ports = [
        PortInfo(p.device, p.vid, p.pid, p.serial_number, p.description or "") for p in list_ports.comports()
    ]
    return sorted(ports, key=lambda p: p.device)


# USB-serial bridge chips (CH340/CH341, FTDI, CP210x, PL2303): tower lights, CH9329 modules and
# printers sit behind them; a scanner in USB-CDC mode shows its own maker's id. "auto" skips them.
SERIAL_BRIDGES = {(0x1A86, 0x7523), (0x1A86, 0x5523), (0x0403, 0x6001), (0x0403, 0x6015),
                  (0x10C4, 0xEA60), (0x067B, 0x2303)}  # fmt: skip


def _same_device(a: str, b: str) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def resolve_device(
    spec: str, ports: Iterable[PortInfo] | None = None, exclude: Iterable[str] = ()
) -> str | None:
    """The device path for a configured spec, or None if nothing matches right now.

    "auto": the first USB CDC ACM port that is no USB-serial bridge and none of `exclude` (the
    other serial devices configured on the bench: tower light, CH9329); "vvvv:pppp" (hex): the
    first port with that USB id;
    anything else is a path (a symlink such as /dev/serial/by-id/... or /dev/scanner is fine:
    it is re-resolved on every (re)open).
    """
    if spec != "auto" and not is_vid_pid(spec):
        return spec
    ports = list(available_ports() if ports is None else ports)
    if spec == "auto":
        others = list(exclude)
        return next(
            (
                p.device
                for p in ports
                if p.is_acm
                and (p.vid, p.pid) not in SERIAL_BRIDGES
                and not any(_same_device(p.device, other) for other in others)
            ),
            None,
        )
    vid, pid = (int(part, 16) for part in spec.split(":"))
    return next((p.device for p in ports if p.vid == vid and p.pid == pid), None)


def is_vid_pid(spec: str) -> bool:
    parts = spec.split(":")
    if len(parts) != 2 or not all(1 <= len(p) <= 4 for p in parts):
        return False
    try:
        int(parts[0], 16), int(parts[1], 16)
    except ValueError:
        return False
    return True


class DeviceReader:
    """A scanner device read in a thread: resolve, open, serve until lost, back off, reopen.

    Shared by the serial `Scanner` and `station.hidscanner.HidScanner`; subclasses say how to
    resolve, open and read their device. on_code(text) is called on the reader's thread for every
    code (stripped, not yet classified); on_state(state) on every state change.
    """

    thread_name = "scanner"
    open_errors: tuple[type[BaseException], ...] = (OSError,)

    def __init__(
        self,
        device: str,
        *,
        on_code: Callable[[str], None],
        on_state: Callable[[ScannerState], None] | None = None,
        backoff_initial_s: float = 0.1,
        backoff_max_s: float = 5.0,
    ) -> None:
        self.device = device
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self._on_code = on_code
        self._on_state = on_state
        self._state = ScannerState.DISCONNECTED
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.path: str | None = None  # the device path currently open
        self.reconnects = 0
        self.open_failures = 0  # attempts to open the port that failed (unplugged, busy, missing)

    @property
    def state(self) -> ScannerState:
        return self._state

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("scanner already started")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._interrupt()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._set_state(ScannerState.DISCONNECTED)

    def _set_state(self, state: ScannerState) -> None:
        if state is self._state:
            return
        self._state = state
        log.info("%s: %s", self.thread_name, state.value)
        if self._on_state is not None:
            try:
                self._on_state(state)
            except Exception:
                log.exception("%s: state callback failed", self.thread_name)

    def _run(self) -> None:
        delay = self.backoff_initial_s
        complained = False
        while not self._stop.is_set():
            path = self._resolve()
            try:
                if path is None:
                    raise OSError(errno.ENODEV, f"no device matches {self.device!r}")
                handle = self._open(path)
            except self.open_errors as exc:
                self.open_failures += 1
                if not complained:
                    log.warning(
                        "%s: cannot open %s: %s (retrying)", self.thread_name, path or self.device, exc
                    )
                    complained = True
                self._set_state(ScannerState.RECONNECTING)
                self._stop.wait(delay)
                delay = min(delay * 2, self.backoff_max_s)
                continue
            delay, complained = self.backoff_initial_s, False
            self._serve(handle, path)

    def _lost(self, path: str, exc: BaseException) -> None:
        if not self._stop.is_set():
            log.warning("%s: lost %s: %s", self.thread_name, path, exc)
            self.reconnects += 1
            self._set_state(ScannerState.RECONNECTING)

    def _emit(self, code: str) -> None:
        try:
            self._on_code(code)
        except Exception:
            log.exception("%s: code callback failed", self.thread_name)

    def _interrupt(self) -> None:
        """Wake a blocked read so stop() is prompt."""

    def _resolve(self) -> str | None:
        raise NotImplementedError

    def _open(self, path: str) -> Any:
        raise NotImplementedError

    def _serve(self, handle: Any, path: str) -> None:
        raise NotImplementedError


class Scanner(DeviceReader):
    """Owns the serial scanner port in a thread; reports codes and state changes through callbacks."""

    open_errors = (serial.SerialException, OSError, ValueError)

    def __init__(
        self,
        device: str,
        *,
        on_code: Callable[[str], None],
        on_state: Callable[[ScannerState], None] | None = None,
        baud: int = 9600,
        suffix: str = "CR",
        frame_gap_s: float = 0.05,
        backoff_initial_s: float = 0.1,
        backoff_max_s: float = 5.0,
        exclude_devices: Iterable[str] = (),
    ) -> None:
        super().__init__(
            device, on_code=on_code, on_state=on_state, backoff_initial_s=backoff_initial_s,
            backoff_max_s=backoff_max_s,
        )  # fmt: skip
        self.exclude_devices = tuple(exclude_devices)  # never "auto"-open these (light, CH9329)
        self.baud = baud
        self.suffix = suffix
        self.frame_gap_s = frame_gap_s
        self._port: serial.Serial | None = None

    def _interrupt(self) -> None:
        port = self._port
        if port is not None:
            with contextlib.suppress(Exception):  # the port may be half-closed already
                port.cancel_read()

    def _resolve(self) -> str | None:
        return resolve_device(self.device, exclude=self.exclude_devices)

    def _open(self, path: str) -> serial.Serial:
        timeout = max(0.005, self.frame_gap_s / 2) if self.suffix == "none" else 0.2
        return serial.Serial(port=path, baudrate=self.baud, timeout=timeout, exclusive=True)

    def _serve(self, port: serial.Serial, path: str) -> None:
        self._port, self.path = port, path
        log.info("scanner: opened %s at %d baud", path, self.baud)
        self._set_state(ScannerState.CONNECTED)
        framer = Framer(self.suffix, gap_s=self.frame_gap_s)
        try:
            while not self._stop.is_set():
                data = port.read(1)
                if data and port.in_waiting:
                    data += port.read(port.in_waiting)
                now = time.monotonic()
                for code in framer.feed(data, now) if data else framer.poll(now):
                    self._emit(code)
        except (serial.SerialException, OSError) as exc:
            self._lost(path, exc)
        finally:
            self._port, self.path = None, None
            with contextlib.suppress(Exception):
                port.close()
