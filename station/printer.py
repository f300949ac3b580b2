"""ESC/POS printing through python-escpos. The only module importing `escpos`.

`render(ops)` turns a slip (station.slips operations) into bytes on an escpos `Dummy`, with no
I/O; `SlipPrinter` sends those bytes to a device (usb, serial, network, file or dummy) built by a
factory, in its own spooler thread so a slow or dead printer never delays a decision. Every
failure at the device is caught here and mapped to `PrinterError`; the state (ready / offline)
is exposed for the display and the heartbeats. A decision stands whether or not its slip printed.

escpos has import-time side effects: `logging.basicConfig()` and a capabilities pickle written to
a fresh temp dir per process. `load_escpos(pickle_dir)` points the pickle at a writable directory
(the station's data_dir; /tmp may be read-only under systemd) and undoes the logging change.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import logging
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import ModuleType
from typing import Any

from station.slips import QR, Barcode128, Buzzer, Cut, Op, Raw, Style, Text

log = logging.getLogger(__name__)

PICKLE_DIR_ENV = "ESCPOS_CAPABILITIES_PICKLE_DIR"
KINDS = ("usb", "serial", "network", "file", "dummy")


class PrinterError(Exception):
    """The slip did not reach the printer (offline, unplugged, refused, no permission...)."""


class PrinterState(StrEnum):
    UNKNOWN = "unknown"  # nothing printed yet, and the printer does not answer status queries
    READY = "ready"  # the last slip was sent (and the printer's status, if it answers, is fine)
    OFFLINE = "offline"  # the last slip or status query could not be sent, or the printer says offline
    PAPER_NEAR_END = "paper_near_end"  # a warning: it still prints
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"


# ESC/POS real-time status, DLE EOT n: n=1 printer, n=2 offline cause, n=4 roll paper sensor.
STATUS_QUERIES = (1, 2, 4)
STATUS_READABLE_KINDS = ("network", "serial", "usb")


def _is_status_byte(b: int) -> bool:
    """Bits 1 and 4 are always 1, bits 0 and 7 always 0 in a DLE EOT answer."""
    return b & 0x93 == 0x12


def decode_status(answers: dict[int, int]) -> PrinterState | None:
    """The state the DLE EOT answers describe (n -> byte); None when the printer did not answer."""
    if not answers or not all(_is_status_byte(b) for b in answers.values()):
        return None
    printer, cause, paper = answers.get(1, 0x12), answers.get(2, 0x12), answers.get(4, 0x12)
    if paper & 0x60 or cause & 0x20:
        return PrinterState.PAPER_OUT
    if cause & 0x04:
        return PrinterState.COVER_OPEN
    if printer & 0x08:
        return PrinterState.OFFLINE
    if paper & 0x0C:
        return PrinterState.PAPER_NEAR_END
    return PrinterState.READY


_escpos: ModuleType | None = None
_escpos_lock = threading.Lock()


def load_escpos(pickle_dir: str | Path | None = None) -> ModuleType:
    """Import escpos.printer once, with its capabilities pickle in `pickle_dir`, logging untouched."""
    global _escpos
    with _escpos_lock:
        if _escpos is not None:
            return _escpos
        if pickle_dir is not None:
            Path(pickle_dir).mkdir(parents=True, exist_ok=True)
            os.environ.setdefault(PICKLE_DIR_ENV, str(pickle_dir))
        root = logging.getLogger()
        handlers, level = list(root.handlers), root.level
        try:
            _escpos = importlib.import_module("escpos.printer")
        finally:
            for handler in list(root.handlers):
                if handler not in handlers:
                    root.removeHandler(handler)
            root.setLevel(level)
        return _escpos


@dataclass(frozen=True)
class DeviceSpec:
    """Which printer, already validated by config (or written by hand in tests)."""

    kind: str
    host: str | None = None
    port: int = 9100
    vendor_id: int | None = None
    product_id: int | None = None
    device: str | None = None
    baud: int = 9600
    path: str | None = None
    profile: str | None = None
    timeout_s: float = 3.0

    def describe(self) -> str:
        match self.kind:
            case "network":
                return f"network {self.host}:{self.port}"
            case "usb":
                return f"usb {self.vendor_id or 0:04x}:{self.product_id or 0:04x}"
            case "serial":
                return f"serial {self.device} @{self.baud}"
            case "file":
                return f"file {self.path}"
        return "dummy"


def device_factory(spec: DeviceSpec) -> Callable[[], Any]:
    """A function returning a fresh, unopened escpos printer for the spec (one per slip).

    The dummy kind returns the same `Dummy` every time, so its `.output` holds every slip sent.
    """
    if spec.kind not in KINDS:
        raise ValueError(f"unknown printer kind {spec.kind!r}")
    escpos = load_escpos()
    profile = {"profile": spec.profile} if spec.profile else {}
    if spec.kind == "dummy":
        dummy = escpos.Dummy(**profile)
        return lambda: dummy
    if spec.kind == "network":
        return lambda: escpos.Network(spec.host, port=spec.port, timeout=spec.timeout_s, **profile)
    if spec.kind == "usb":
        timeout_ms = int(spec.timeout_s * 1000)
        return lambda: escpos.Usb(spec.vendor_id, spec.product_id, timeout=timeout_ms, **profile)
    if spec.kind == "serial":
        return lambda: escpos.Serial(spec.device, baudrate=spec.baud, timeout=spec.timeout_s, **profile)
    return lambda: escpos.File(spec.path, **profile)


def _set_read_timeout(device: Any, seconds: float) -> None:
    """Bound the wait for a status answer (escpos keeps its transport in `.device`)."""
    transport = getattr(device, "device", None)
    if hasattr(transport, "settimeout"):  # network: a socket
        transport.settimeout(seconds)
    elif transport is not None and hasattr(transport, "timeout"):  # serial: pyserial
        with contextlib.suppress(Exception):
            transport.timeout = seconds


def render(ops: list[Op], profile: str | None = None) -> bytes:
    """The exact bytes a slip sends, rendered on an escpos Dummy (no I/O)."""
    escpos = load_escpos()
    dummy = escpos.Dummy(**({"profile": profile} if profile else {}))
    for op in ops:
        _replay(dummy, op)
    return dummy.output


def _replay(p: Any, op: Op) -> None:
    match op:
        case Raw(data):
            p._raw(data)
        case Text(text):
            # Always GB18030: the printer is in Chinese mode (FS &) and ASCII is unchanged.
            p._raw(text.encode("gb18030", errors="replace"))
        case Style(align, bold, invert, size):
            kwargs: dict[str, Any] = {"align": align, "bold": bold, "invert": invert}
            if size is not None:
                kwargs.update(custom_size=True, width=size[0], height=size[1])
            p.set(**{k: v for k, v in kwargs.items() if v is not None})
        case Barcode128(data, height, width):
            try:
                with contextlib.redirect_stdout(io.StringIO()):  # escpos print()s its renderer choice
                    p.barcode("{B" + data, "CODE128", function_type="B", height=height, width=width)
            except Exception as exc:  # a code CODE128 cannot carry: print it as text instead
                log.warning("printer: barcode %r not printable (%s); printing it as text", data, exc)
                p._raw(f"{data}\n".encode("gb18030", errors="replace"))
        case QR(content, size):
            p.qr(content, native=True, size=size)
        case Cut():
            p.cut()
        case Buzzer(times, duration):
            p.buzzer(times, duration)
        case _:
            raise TypeError(f"not a slip operation: {op!r}")


class SlipPrinter:
    """Sends rendered slips to the device, in a spooler thread (`submit`) or right away (`print_now`)."""

    def __init__(
        self,
        open_device: Callable[[], Any],
        *,
        description: str = "printer",
        profile: str | None = None,
        on_state: Callable[[PrinterState], None] | None = None,
        queue_size: int = 16,
        status_queries: bool = False,
        status_interval_s: float | None = None,
        status_timeout_s: float = 0.5,
    ) -> None:
        self.open_device = open_device
        self.description = description
        self.profile = profile
        self._on_state = on_state
        self._state = PrinterState.UNKNOWN
        self.last_error: str | None = None
        self.printed = 0
        self.failed = 0
        self._queue: queue.Queue[list[Op] | None] = queue.Queue(maxsize=queue_size)
        self._thread: threading.Thread | None = None
        self.status_queries = status_queries  # ask DLE EOT after each slip (a transport that reads back)
        self.status_interval_s = status_interval_s  # and every this often while idle (None: never)
        self.status_timeout_s = status_timeout_s
        self.status_answers: dict[int, int] = {}

    @property
    def state(self) -> PrinterState:
        return self._state

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("printer already started")
        self._thread = threading.Thread(target=self._run, name="printer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Print what is queued (within timeout), then stop."""
        if self._thread is None:
            return
        self._queue.put(None)
        self._thread.join(timeout)
        self._thread = None

    def submit(self, ops: list[Op]) -> bool:
        """Queue a slip; False if the spooler is full (the printer has been failing for a while)."""
        try:
            self._queue.put_nowait(ops)
            return True
        except queue.Full:
            log.error("printer: spooler full, slip dropped")
            self.failed += 1
            return False

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until every queued slip was sent or failed (tests, shutdown)."""
        done = threading.Event()
        threading.Thread(target=lambda: (self._queue.join(), done.set()), daemon=True).start()
        return done.wait(timeout)

    def print_now(self, ops: list[Op]) -> None:
        """Render and send one slip; raises PrinterError (and records the state) on failure."""
        try:
            data = render(ops, self.profile)
        except Exception as exc:
            raise PrinterError(f"cannot lay out slip: {exc}") from exc
        device = None
        try:
            device = self.open_device()
            device.open()
            device._raw(data)
            answered = self._ask_status(device) if self.status_queries else None
        except Exception as exc:  # escpos, socket, usb and serial errors alike: the printer boundary
            self.failed += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            self._set_state(PrinterState.OFFLINE)
            raise PrinterError(f"{self.description}: {self.last_error}") from exc
        finally:
            if device is not None:
                with contextlib.suppress(Exception):
                    device.close()
        self.printed += 1
        self.last_error = None
        self._set_state(answered or PrinterState.READY)

    def check_status(self) -> PrinterState:
        """Open the device and ask DLE EOT only (idle poll). A printer that cannot be reached is
        offline; one that never answers keeps its state (unknown, or ready after a slip)."""
        device = None
        try:
            device = self.open_device()
            device.open()
            answered = self._ask_status(device)
        except Exception as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            self._set_state(PrinterState.OFFLINE)
            return self._state
        finally:
            if device is not None:
                with contextlib.suppress(Exception):
                    device.close()
        if answered is not None:
            self.last_error = None
            self._set_state(answered)
        return self._state

    def _ask_status(self, device: Any) -> PrinterState | None:
        """DLE EOT 1, 2, 4 on an open device; None (unknown) when it does not answer the first."""
        _set_read_timeout(device, self.status_timeout_s)
        answers: dict[int, int] = {}
        for n in STATUS_QUERIES:
            device._raw(bytes((0x10, 0x04, n)))
            try:
                reply = device._read()
            except Exception:  # a read timeout: this printer does not answer status queries
                reply = b""
            if not reply:
                break
            answers[n] = reply[-1]
        self.status_answers = answers
        return decode_status(answers)

    def _run(self) -> None:
        while True:
            try:
                ops = self._queue.get(timeout=self.status_interval_s)
            except queue.Empty:  # idle: ask how the printer is
                try:
                    self.check_status()
                except Exception:
                    log.exception("printer: status poll failed")
                continue
            try:
                if ops is None:
                    return
                self.print_now(ops)
            except PrinterError as exc:
                log.error("printer: %s", exc)
            except Exception:
                log.exception("printer: unexpected failure")
            finally:
                self._queue.task_done()

    def _set_state(self, state: PrinterState) -> None:
        if state is self._state:
            return
        self._state = state
        log.info("printer: %s", state.value)
        if self._on_state is not None:
            try:
                self._on_state(state)
            except Exception:
                log.exception("printer: state callback failed")
