"""The journal: written before acting, the upload queue, disk full, and crash safety with a real
SIGKILL of a station process mid-burst and mid-upload."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from polling import wait_until
from station_testkit import TOKEN

from shipgate.wire import Decision
from station.bench import Bench
from station.client import GateClient
from station.decision import Outcome, Source
from station.journal import Journal, JournalFull
from station.replica import Replica
from station.uplink import LinkStatus, Uplink

HERE = Path(__file__).parent
REPO = HERE.parents[1]
NOW = "2024-05-01T08:00:00.000+00:00"


def offline(scan_id: str, code: str) -> Outcome:
    return Outcome(
        scan_id, code, Decision.HOLD, "stale_replica", "离线数据过旧", Source.OFFLINE, gate_version=0
    )


def test_record_decide_and_the_upload_queue(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3")
    a = journal.record("6920000000000000001", "A12", "bench", NOW)
    b = journal.record("SF1234567890123", None, "bench", NOW)
    c = journal.record("junk", None, "bench", NOW)
    assert len({a.scan_id, b.scan_id, c.scan_id}) == 3 and a.seq < b.seq < c.seq
    assert [e.scan_id for e in journal.undecided()] == [a.scan_id, b.scan_id, c.scan_id]
    assert journal.queue_depth() == 3

    online = Outcome(a.scan_id, a.code, Decision.BLOCK, "refunded", "已退款 请勿发货", Source.ONLINE)
    journal.decide(a.scan_id, online, NOW)
    journal.decide(b.scan_id, offline(b.scan_id, b.code), NOW)
    local = Outcome(c.scan_id, c.code, Decision.HOLD, "invalid_code", "无法识别", Source.LOCAL)
    journal.decide(c.scan_id, local, NOW)
    journal.decide(c.scan_id, online, NOW)  # a decision is written once
    assert journal.undecided() == []
    assert [e.scan_id for e in journal.pending()] == [b.scan_id, c.scan_id]  # the server decided `a` itself
    assert journal.get(c.scan_id).reason == "invalid_code"

    journal.mark_uploaded([(b.scan_id, "HOLD", "unknown_order")])
    journal.mark_rejected([c.scan_id])
    assert journal.pending() == [] and journal.queue_depth() == 0
    assert journal.get(b.scan_id).server_decision == "HOLD" and journal.get(c.scan_id).upload == "rejected"
    journal.close()


def test_operator_is_remembered(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3")
    journal.set_meta("operator", "A12")
    journal.close()
    assert Journal(tmp_path / "j.sqlite3").get_meta("operator") == "A12"


def test_disk_full_is_a_typed_error(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3", max_pages=12)
    with pytest.raises(JournalFull):
        for _ in range(10_000):
            journal.record("6920000000000000001" * 3, "A12", "bench", NOW)
    journal.close()


def test_wal_and_full_sync(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3")
    assert journal._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert journal._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    journal.close()


# -- crash safety ----------------------------------------------------------------------------


def dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def start_worker(*args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "journal_crash_worker.py"), *args],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_kill_mid_burst_loses_nothing_and_duplicates_nothing(tmp_path, gate_server):
    proc = start_worker("scan", str(tmp_path), dead_url(), "100000")
    acknowledged = [proc.stdout.readline().strip() for _ in range(40)]
    proc.send_signal(signal.SIGKILL)
    proc.wait(5)
    assert proc.returncode == -signal.SIGKILL

    journal = Journal(tmp_path / "journal.sqlite3")
    replica = Replica(tmp_path / "replica.sqlite3")
    entries = journal.entries()
    codes = [e.code for e in entries]
    assert len(codes) == len(set(codes)) and len({e.scan_id for e in entries}) == len(entries)
    assert codes[: len(acknowledged)] == acknowledged  # every acknowledged scan, in order, once
    assert len(codes) <= len(acknowledged) + 1  # at most the one in flight besides

    client = GateClient(gate_server.url, TOKEN, sync_timeout_s=5)
    bench = Bench(None, client, replica, journal, None, None, station_name="crash")
    bench.recover()  # a scan journaled but not decided at the kill is decided now
    assert journal.undecided() == []
    assert [e.scan_id for e in journal.pending(10_000)] == [e.scan_id for e in entries]

    uplink = Uplink(client, replica, journal, LinkStatus(), status=dict)
    assert uplink.upload_pending() == len(entries)
    assert sorted(gate_server.received) == sorted(e.scan_id for e in entries)  # each sent exactly once
    assert journal.pending() == [] and journal.queue_depth() == 0
    bench.stop()


def test_kill_mid_upload_uploads_everything_and_stores_nothing_twice(tmp_path, gate_server):
    journal = Journal(tmp_path / "journal.sqlite3")
    scan_ids = []
    for i in range(1200):  # 1,200 offline decisions waiting: batches of 500, 500, 200
        entry = journal.record(f"69{i:017d}", "A12", "bench", NOW)
        journal.decide(entry.scan_id, offline(entry.scan_id, entry.code), NOW)
        scan_ids.append(entry.scan_id)
    journal.close()

    gate_server.delay_s = 0.3  # slow answers: the kill lands while the second batch is in flight
    proc = start_worker("upload", str(tmp_path), gate_server.url)
    assert wait_until(lambda: gate_server.batch_arrivals >= 2, timeout=10)  # batch 2 waiting 0.3 s
    proc.send_signal(signal.SIGKILL)
    proc.wait(5)
    gate_server.delay_s = 0.0

    journal = Journal(tmp_path / "journal.sqlite3")
    left = [e.scan_id for e in journal.pending(10_000)]
    assert left == scan_ids[500:]  # the answered batch is marked; the in-flight one is not
    client = GateClient(gate_server.url, TOKEN, sync_timeout_s=5)
    uplink = Uplink(client, Replica(tmp_path / "replica.sqlite3"), journal, LinkStatus(), status=dict)
    assert uplink.upload_pending() == 700
    assert journal.pending() == []
    # The killed worker's batch is still answered by the server (its handler was asleep), and we sent
    # those 500 again: 1,700 received, harmless because the server is idempotent on scan_id.
    assert wait_until(lambda: len(gate_server.received) == 1700)
    assert set(gate_server.scans) == set(scan_ids) and len(gate_server.scans) == 1200  # stored once each
    assert max(gate_server.batches) <= 500
    client.close()
    journal.close()
