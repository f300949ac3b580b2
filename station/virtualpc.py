"""A simulated packing PC behind the inline gate, real at the OS level. For tests, the demo and
benchmarks; not used by a real station.

- `PackingPC`: what the ERP's scan-to-print box sees. It decodes boot-keyboard reports (US layout)
  into text; each Enter (or Tab) completes a code and "prints a waybill" for it.
- `VirtualGadget`: a pty standing in for `/dev/hidg0`: the station writes 8-byte reports to the
  slave, the PC reads them from the master.
- `VirtualCh9329`: a pty playing the WCH CH9329: decodes each frame, checks its sum, hands the
  report to the PC and answers like the chip (or, for tests, stays silent or answers an error).
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from station.ch9329 import HEAD, BadFrame, parse_frame, reply_frame
from station.forward import REPORT_LEN, decode_reports
from station.virtual import VirtualPort


@dataclass(frozen=True)
class Received:
    """One code as the packing PC got it; times are time.perf_counter()."""

    code: str
    end: str  # "\n" (Enter) or "\t" (Tab)
    first_report_at: float
    last_report_at: float


class PackingPC:
    def __init__(self, on_waybill: Callable[[Received], None] | None = None) -> None:
        self.on_waybill = on_waybill
        self.received: list[Received] = []
        self.reports = 0
        self._typed: list[str] = []
        self._first_at: float | None = None
        self._last_end: tuple[str, float] | None = None
        self._cond = threading.Condition()

    @property
    def typed(self) -> str:
        """What sits in the scan box now, not yet ended by Enter or Tab."""
        with self._cond:
            return "".join(self._typed)

    def feed(self, report: bytes, at: float | None = None) -> None:
        at = time.perf_counter() if at is None else at
        done = None
        with self._cond:
            self.reports += 1
            if self._first_at is None and report != bytes(REPORT_LEN):
                self._first_at = at
            text = decode_reports([report])
            if text in ("\n", "\t"):
                self._last_end = (text, self._first_at or at)
            elif text:
                self._typed.append(text)
            elif self._last_end is not None:  # the release after Enter: the code is complete
                end, first = self._last_end
                done = Received("".join(self._typed), end, first, at)
                self.received.append(done)
                self._typed, self._first_at, self._last_end = [], None, None
            self._cond.notify_all()
        if done is not None and self.on_waybill is not None:
            self.on_waybill(done)

    def codes(self) -> list[str]:
        with self._cond:
            return [r.code for r in self.received]

    def wait_for(self, count: int, timeout: float = 5.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: len(self.received) >= count, timeout)

    def wait_for_reports(self, count: int, timeout: float = 5.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self.reports >= count, timeout)


class _PtyDevice(VirtualPort):
    """A pty whose master a thread reads; subclasses say what the bytes mean."""

    def __init__(self, link: str | Path, pc: PackingPC) -> None:
        self.pc = pc
        self._reader: threading.Thread | None = None
        self._stop = threading.Event()
        super().__init__(link)

    def plug(self) -> str:
        real = super().plug()
        self._buffer = bytearray()
        self._stop = threading.Event()
        self._reader = threading.Thread(target=self._read, args=(self.master, self._stop), daemon=True)
        self._reader.start()
        return real

    def unplug(self) -> None:
        """Gone, as a pulled cable or an unbound gadget: the pair is closed and its name removed (a
        dangling name could meet another process's new pty under the same /dev/pts number)."""
        self._stop.set()
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(2)
        self._reader = None
        super().unplug()
        self.link.unlink(missing_ok=True)

    def _read(self, master: int, stop: threading.Event) -> None:
        while not stop.is_set():
            ready, _, _ = select.select([master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(master, 4096)
            except OSError:
                return
            at = time.perf_counter()
            self._buffer += data
            self._consume(master, at)

    def _consume(self, master: int, at: float) -> None:
        raise NotImplementedError


class VirtualGadget(_PtyDevice):
    """The USB gadget's /dev/hidg0 as a pty: every 8 bytes written are one report to the PC."""

    def _consume(self, master: int, at: float) -> None:
        while len(self._buffer) >= REPORT_LEN:
            report, self._buffer = bytes(self._buffer[:REPORT_LEN]), self._buffer[REPORT_LEN:]
            self.pc.feed(report, at)


class VirtualCh9329(_PtyDevice):
    """A CH9329 on a pty. `silent` drops replies (a dead chip); `status` answers every frame with it.

    A pty moves bytes at once whatever the baud rate; `line_baud` makes the chip take as long as a
    real serial line would (10 bits a byte: the frame in, then the reply out), for the benchmarks.
    """

    def __init__(
        self,
        link: str | Path,
        pc: PackingPC,
        *,
        silent: bool = False,
        status: int = 0,
        line_baud: int | None = None,
    ) -> None:
        self.silent = silent
        self.status = status
        self.byte_s = 10 / line_baud if line_baud else 0.0
        self.frames = 0
        self.bad_frames = 0
        super().__init__(link, pc)

    def _consume(self, master: int, at: float) -> None:
        while True:
            start = self._buffer.find(HEAD)
            if start < 0:
                del self._buffer[:-1]  # keep a lone 0x57 that may start the next head
                return
            del self._buffer[:start]
            if len(self._buffer) < 6 or len(self._buffer) < 6 + self._buffer[4]:
                return
            raw, self._buffer = (
                bytes(self._buffer[: 6 + self._buffer[4]]),
                self._buffer[6 + self._buffer[4] :],
            )
            try:
                frame = parse_frame(raw)
            except BadFrame:
                self.bad_frames += 1
                self._reply(master, 0xE4)
                continue
            self.frames += 1
            if self.byte_s:  # the frame's time on the wire (line-rate simulation, not synchronisation)
                time.sleep(len(raw) * self.byte_s)
                at = time.perf_counter()
            if self.status == 0 and frame.command == 0x02 and len(frame.data) == REPORT_LEN:
                self.pc.feed(frame.data, at)
            self._reply(master, self.status if frame.command == 0x02 else 0xE3)

    def _reply(self, master: int, status: int) -> None:
        if self.byte_s:
            time.sleep(7 * self.byte_s)  # the reply's time on the wire
        if not self.silent:
            with contextlib.suppress(OSError):
                os.write(master, reply_frame(status))
