"""systemd notify over a real unix datagram socket, the watchdog from the main loop, heartbeats,
and the whole station as a process: `shipgate-station run` under a fake systemd, stopped by SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from polling import wait_until
from station_testkit import ORDER_REFUNDED, TOKEN, in_order

from station.journal import Journal
from station.service import Notifier, run_service, watchdog_interval_s
from station.slips import RED_ON
from station.status import StationStatus, heartbeat_payload, rss_bytes

REPO = Path(__file__).parents[2]


@pytest.fixture
def notify_socket(tmp_path):
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(10)
    yield path, sock
    sock.close()


def receive_until(sock: socket.socket, wanted: str) -> list[str]:
    seen = []
    while True:
        message = sock.recv(4096).decode()
        seen.append(message)
        if wanted in message:
            return seen


def test_notifier_sends_datagrams(notify_socket):
    path, sock = notify_socket
    notifier = Notifier.from_env({"NOTIFY_SOCKET": path})
    assert notifier.ready() and notifier.watchdog() and notifier.stopping()
    assert [sock.recv(100) for _ in range(3)] == [b"READY=1\nSTATUS=scanning", b"WATCHDOG=1", b"STOPPING=1"]


def test_notifier_abstract_namespace():
    name = f"shipgate-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        assert Notifier("@" + name).watchdog()
        assert sock.recv(100) == b"WATCHDOG=1"


def test_without_systemd_notify_is_a_no_op():
    assert not Notifier.from_env({}).ready()


def test_watchdog_interval():
    assert watchdog_interval_s({"WATCHDOG_USEC": "20000000"}) == 10.0
    assert watchdog_interval_s({}) is None
    assert watchdog_interval_s({"WATCHDOG_USEC": "20000000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_interval_s({"WATCHDOG_USEC": "20000000", "WATCHDOG_PID": str(os.getpid())}) == 10.0


def test_heartbeat_payload_follows_the_wire():
    status = StationStatus(True, None, 42, 3.14159, False, 2, "connected", "ready", "A12", "bench", None)
    payload = heartbeat_payload(status, "0.1.0").to_json()
    assert set(payload) == {
        "software_version", "replica_version", "replica_age_s", "scanner", "printer",
        "queue_depth", "rss_bytes", "mode", "operator",
    }  # fmt: skip
    assert payload["replica_age_s"] == 3.1 and payload["rss_bytes"] == rss_bytes() > 1_000_000
    assert isinstance(payload["rss_bytes"], int)


def test_run_service_notifies_from_the_main_loop(make_bench, notify_socket):
    path, sock = notify_socket
    parts = make_bench(start=False)
    stop = threading.Event()
    runner = threading.Thread(
        target=run_service, args=(parts.bench,), kwargs={"notifier": Notifier(path), "stop": stop}
    )
    runner.start()
    assert sock.recv(100).startswith(b"READY=1")
    assert sock.recv(100) == b"WATCHDOG=1"
    stop.set()
    runner.join(5)
    assert not runner.is_alive()
    assert receive_until(sock, "STOPPING=1")


def test_station_process_under_systemd_stops_cleanly_on_sigterm(
    tmp_path, gate_server, virtual_scanner, capture_printer, notify_socket
):
    path, sock = notify_socket
    config = tmp_path / "station.toml"
    config.write_text(
        f"""
[server]
url = "{gate_server.url}"
token = "{TOKEN}"
[scanner]
device = "{virtual_scanner.path}"
suffix = "CR"
[printer]
kind = "network"
host = "127.0.0.1"
port = {capture_printer.port}
[station]
name = "A-01"
data_dir = "data"
sync_interval_s = 0.2
[display]
style = "plain"
""",
        encoding="utf-8",
    )
    env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="2000000", PYTHONPATH=str(REPO))
    env.pop("ESCPOS_CAPABILITIES_PICKLE_DIR", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "station.cli", "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        assert any(m.startswith("READY=1") for m in receive_until(sock, "READY=1"))
        receive_until(sock, "WATCHDOG=1")
        assert wait_until(lambda: gate_server.heartbeats, timeout=10)
        assert gate_server.heartbeats[0]["mode"] == "bench" and "rss_bytes" in gate_server.heartbeats[0]
        virtual_scanner.scan(ORDER_REFUNDED)
        assert capture_printer.wait_for_jobs(1, timeout=10)
        assert in_order(capture_printer.output(), RED_ON, "已退款".encode("gb18030"))
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "STOPPING=1" in "".join(receive_until(sock, "STOPPING=1"))
    assert "[BLOCK] 已退款 请勿发货" in out  # the plain display on stdout
    assert "received SIGTERM: stopping" in err and "station stopped" in err  # English logs on stderr
    assert (tmp_path / "data" / "escpos").is_dir()  # escpos's pickle went to the data dir
    journal = Journal(tmp_path / "data" / "journal.sqlite3")
    [entry] = journal.entries()
    assert (entry.code, entry.decision, entry.source) == (ORDER_REFUNDED, "BLOCK", "online")
    journal.close()
