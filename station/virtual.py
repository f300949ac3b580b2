"""Virtual bench hardware, real at the OS level: a scanner on a pty and a network printer on TCP.

For tests, `make demo` and benchmarks; not used by a real station.

- `VirtualScanner`: a pty pair; pyserial opens the slave through a symlink (`path`), test code
  writes the scanner's bytes to the master. `unplug()` closes the pair (the station sees the
  same SerialException as a pulled USB cable); `plug()` makes a new pair and repoints the symlink.
- `CapturePrinter`: a TCP listener on 127.0.0.1 capturing every job's ESC/POS bytes, with the
  time its first byte arrived. `close()` makes the printer go offline (connection refused).
- `measure_scan_to_print`: "last byte on the pty -> first byte at the printer", per code.
"""

from __future__ import annotations

import contextlib
import os
import pty
import socket
import threading
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class VirtualPort:
    """A pty pair behind a stable symlink: the station opens `path` (the slave), the test side
    holds the master. `unplug()` closes the pair (the station sees what a pulled USB cable does);
    `plug()` makes a new pair and repoints the symlink."""

    def __init__(self, link: str | Path) -> None:
        self.link = Path(link)
        self._master: int | None = None
        self._slave: int | None = None
        self.plug()

    @property
    def path(self) -> str:
        return str(self.link)

    @property
    def plugged(self) -> bool:
        return self._master is not None

    def plug(self) -> str:
        """A fresh pty pair; the symlink now points at its slave. Returns the real slave path."""
        if self.plugged:
            self.unplug()
        master, slave = pty.openpty()
        tty.setraw(master)
        self._master, self._slave = master, slave
        real = os.ttyname(slave)
        tmp = self.link.with_name(self.link.name + ".new")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(real)
        os.replace(tmp, self.link)  # atomic: a reader never sees no link
        return real

    def unplug(self) -> None:
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None

    @property
    def master(self) -> int | None:
        return self._master

    def close(self) -> None:
        self.unplug()
        self.link.unlink(missing_ok=True)


class VirtualScanner(VirtualPort):
    """A serial scanner on a pty: test code writes the scanner's bytes to the master."""

    def write(self, data: bytes) -> float:
        """Write raw bytes as the scanner would; returns time.perf_counter() after the last byte."""
        if self._master is None:
            raise OSError("virtual scanner is unplugged")
        view = memoryview(data)
        while view:
            view = view[os.write(self._master, view) :]
        return time.perf_counter()

    def scan(self, code: str, suffix: bytes = b"\r") -> float:
        return self.write(code.encode() + suffix)


@dataclass
class Job:
    first_byte_at: float | None = None  # time.perf_counter() when its first byte arrived
    data: bytearray = field(default_factory=bytearray)
    done: bool = False
    answered: int = 0  # how far DLE EOT queries in data were answered


class CapturePrinter:
    """A network (port 9100 style) ESC/POS printer that keeps what it is sent, one job per connection,
    in the order the connections were made."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, status: dict[int, int] | None = None) -> None:
        # status: the byte answered to DLE EOT n (e.g. {1: 0x12, 2: 0x12, 4: 0x72} = paper out);
        # None: the printer never answers status queries (many cheap ones). Changeable any time.
        self.status = status
        self._server = socket.create_server((host, port))
        self.host, self.port = self._server.getsockname()[:2]
        self.jobs: list[Job] = []
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._accept, name="capture-printer", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            job = Job()
            with self._cond:
                self.jobs.append(job)
            threading.Thread(target=self._receive, args=(conn, job), daemon=True).start()

    def _receive(self, conn: socket.socket, job: Job) -> None:
        with conn:
            while True:
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    break
                if not chunk:
                    break
                with self._cond:
                    if job.first_byte_at is None:
                        job.first_byte_at = time.perf_counter()
                    job.data += chunk
                    self._cond.notify_all()
                self._answer_status(conn, job)
        with self._cond:
            job.done = True
            self._cond.notify_all()

    def _answer_status(self, conn: socket.socket, job: Job) -> None:
        status = self.status
        while (at := job.data.find(b"\x10\x04", job.answered)) != -1 and at + 2 < len(job.data):
            n = job.data[at + 2]
            job.answered = at + 3
            if status is not None and n in status:
                with contextlib.suppress(OSError):
                    conn.sendall(bytes((status[n],)))

    def output(self) -> bytes:
        with self._cond:
            return b"".join(bytes(j.data) for j in self.jobs)

    def wait_for_jobs(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until the first `count` jobs have been received completely."""
        with self._cond:
            return self._cond.wait_for(
                lambda: len(self.jobs) >= count and all(j.done for j in self.jobs), timeout
            )

    def wait_for_first_byte(self, count: int, timeout: float = 5.0) -> float | None:
        """Wait until job number `count` (1-based) has its first byte; that byte's perf_counter time."""

        def started() -> bool:
            return len(self.jobs) >= count and self.jobs[count - 1].first_byte_at is not None

        with self._cond:
            if not self._cond.wait_for(started, timeout):
                return None
            return self.jobs[count - 1].first_byte_at

    def close(self) -> None:
        """Stop listening: the printer is now offline (connection refused)."""
        if not self._closed:
            self._closed = True
            with contextlib.suppress(OSError):
                self._server.shutdown(socket.SHUT_RDWR)
            self._server.close()


def measure_scan_to_print(
    build: Callable[[str, int], Any],
    codes: list[str],
    *,
    workdir: str | Path,
    timeout_s: float = 5.0,
) -> list[float]:
    """Seconds from the last byte of each code on the scanner's pty to the first byte at the printer.

    `build(scanner_path, printer_port)` must return an unstarted station.bench.Bench whose scanner
    reads `scanner_path` (suffix CR) and whose printer is kind "network" at 127.0.0.1:printer_port
    (e.g. `build_bench(config)` on a Config made with those values). Every code must produce a slip
    (in bench mode every decision does). Codes are sent one at a time, each after the last printed.
    """
    scanner = VirtualScanner(Path(workdir) / "bench-scanner")
    printer = CapturePrinter()
    bench = build(scanner.path, printer.port)
    stop = threading.Event()
    loop = threading.Thread(target=bench.run, args=(stop,), name="bench", daemon=True)
    try:
        bench.start()
        loop.start()
        deadline = time.monotonic() + timeout_s
        while bench.scanner.state.value != "connected":
            if time.monotonic() > deadline:
                raise TimeoutError("the bench never opened the virtual scanner")
            time.sleep(0.01)
        latencies = []
        for n, code in enumerate(codes, start=1):
            sent = scanner.scan(code)
            first = printer.wait_for_first_byte(n, timeout_s)
            if first is None:
                raise TimeoutError(f"no slip for code {code!r}")
            latencies.append(first - sent)
            printer.wait_for_jobs(n, timeout_s)
        return latencies
    finally:
        stop.set()
        loop.join(timeout_s)
        bench.stop()
        printer.close()
        scanner.close()
