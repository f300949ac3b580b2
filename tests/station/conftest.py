"""Fixtures for the station's tests: real parts only (a pty scanner, a TCP printer, a loopback
HTTP server for the wire contract; see station_testkit.py)."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

# The suite runs with --import-mode=importlib: make this directory's test kit importable by name.
sys.path.insert(0, str(Path(__file__).parent))

from station_testkit import TOKEN, BenchParts, FakeClock, GateServer, network_printer

from shipgate.wire import Heartbeat
from station.bench import Bench  # noqa: E402
from station.client import GateClient
from station.display import NullDisplay
from station.forwardlog import ForwardLog
from station.journal import Journal
from station.printer import load_escpos
from station.replica import Replica
from station.scanner import Scanner
from station.uplink import LinkStatus, Uplink
from station.virtual import CapturePrinter, VirtualScanner
from station.virtualpc import PackingPC, VirtualGadget


@pytest.fixture(scope="session", autouse=True)
def _escpos_pickle_dir(tmp_path_factory):
    """escpos writes its capabilities pickle at import: point it at a test directory."""
    load_escpos(tmp_path_factory.mktemp("escpos"))


@pytest.fixture
def gate_server():
    server = GateServer().start()
    server.seed()
    yield server
    server.stop()


@pytest.fixture
def virtual_scanner(tmp_path):
    scanner = VirtualScanner(tmp_path / "scanner")
    yield scanner
    scanner.close()


@pytest.fixture
def packing_pc():
    return PackingPC()


@pytest.fixture
def gadget(tmp_path, packing_pc):
    """A pty standing in for /dev/hidg0, read by the simulated packing PC."""
    device = VirtualGadget(tmp_path / "hidg0", packing_pc)
    yield device
    device.close()


@pytest.fixture
def capture_printer():
    printer = CapturePrinter()
    yield printer
    printer.close()


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def make_bench(tmp_path, gate_server, capture_printer, clock):
    """Build a Bench from real parts; started (recover + printer spooler + scanner) unless start=False.

    scanner_device: a path for a real Scanner on the bench (then the bench's main loop runs in a
    thread too). The uplink is built but not started: tests call sync_once()/upload_pending().
    """
    built: list[tuple[Bench, threading.Event, threading.Thread | None]] = []

    def build(
        *,
        scanner_device=None,
        suffix="CR",
        url=None,
        token=TOKEN,
        clock_fn=clock,
        mode="bench",
        display=None,
        budget_s=0.3,
        printer_port=None,
        start=True,
        forwarder=None,
        pass_slip=True,
        alerts=None,
        printer=None,
    ) -> BenchParts:
        data_dir = tmp_path / f"station{len(built)}"
        data_dir.mkdir(exist_ok=True)
        client = GateClient(url or gate_server.url, token, budget_s=budget_s, sync_timeout_s=2.0)
        replica = Replica(data_dir / "replica.sqlite3", clock=clock_fn, max_age_s=600)
        journal = Journal(data_dir / "journal.sqlite3")
        printer = printer or network_printer(printer_port or capture_printer.port)
        link = LinkStatus()
        uplink = Uplink(
            client, replica, journal, link, status=Heartbeat, sync_interval_s=3600, heartbeat_s=3600
        )
        bench: Bench | None = None
        scanner = None
        if scanner_device is not None:
            scanner = Scanner(
                scanner_device,
                on_code=lambda code: bench.submit(code),
                suffix=suffix,
                backoff_initial_s=0.02,
                backoff_max_s=0.1,
            )
        bench = Bench(
            scanner, client, replica, journal, printer, display or NullDisplay(), clock_fn, "A-01", mode,
            link=link,
            forwarder=forwarder, forward_log=ForwardLog(data_dir / "journal.sqlite3"), pass_slip=pass_slip,
            alerts=alerts,
        )  # fmt: skip
        stop, loop = threading.Event(), None
        if start:
            bench.start()
            if scanner is not None:
                loop = threading.Thread(target=bench.run, args=(stop,), kwargs={"tick_s": 0.05}, daemon=True)
                loop.start()
        built.append((bench, stop, loop))
        return BenchParts(bench, client, replica, journal, printer, uplink, data_dir)

    yield build
    for bench, stop, loop in built:
        stop.set()
        if loop is not None:
            loop.join(2)
        bench.stop()
