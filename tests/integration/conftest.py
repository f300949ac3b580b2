"""End-to-end fixtures: the real server on waitress, a real bench built from station.toml
settings, a pty scanner and a TCP capture printer."""

from __future__ import annotations

import threading

import pytest

from station.bench import build_bench
from station.config import parse_config
from station.printer import load_escpos
from station.virtual import CapturePrinter, VirtualScanner


@pytest.fixture(scope="session", autouse=True)
def _escpos_pickle_dir(tmp_path_factory):
    load_escpos(tmp_path_factory.mktemp("escpos"))


@pytest.fixture
def virtual_scanner(tmp_path):
    scanner = VirtualScanner(tmp_path / "scanner")
    scanner.plug()
    yield scanner
    scanner.close()


@pytest.fixture
def capture_printer():
    printer = CapturePrinter()
    yield printer
    printer.close()


@pytest.fixture
def bench_config(tmp_path, live_server, station_token, virtual_scanner, capture_printer, session):
    def make(**station):
        token = station_token
        if station.get("mode") == "handover":  # the server takes a scan's mode from enrolment
            from server.stations import enrol

            _station, token = enrol(session, "交接口", "main", mode="handover")
            session.commit()
        data = {
            "server": {"url": live_server.url, "token": token, "budget_ms": 300, "heartbeat_s": 1},
            "scanner": {"device": str(virtual_scanner.path), "suffix": "CR"},
            "printer": {"kind": "network", "host": "127.0.0.1", "port": capture_printer.port, "width": 80},
            "station": {
                "name": "打包台1",
                "data_dir": str(tmp_path / "station"),
                "sync_interval_s": 0.2,
                **station,
            },
            "display": {"enabled": False},
            "screen": {"port": 0},
        }
        return parse_config(data, base_dir=tmp_path)

    return make


@pytest.fixture
def running_bench(bench_config):
    """A started bench whose main loop runs in a thread; stopped at the end."""
    benches = []

    def start(**station):
        bench = build_bench(bench_config(**station), with_display=False)
        stop = threading.Event()
        bench.start()
        thread = threading.Thread(target=bench.run, args=(stop,), name="bench-loop", daemon=True)
        thread.start()
        benches.append((bench, stop, thread))
        return bench

    yield start
    for bench, stop, thread in benches:
        stop.set()
        thread.join(timeout=5)
        bench.stop()
