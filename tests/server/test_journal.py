"""The group-committed scan journal: every waiter learns what happened to its own row."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import func, select

from server.journal import ScanJournal
from server.models import Scan
from server.stations import enrol


def _row(station, scan_id: str) -> dict:
    now = datetime.now(UTC)
    return {
        "station_id": station.id, "scan_id": scan_id, "warehouse_id": station.warehouse_id, "code": "x",
        "code_kind": "order_id", "operator": None, "mode": "bench", "scanned_at": now, "received_at": now,
        "decision": "PASS", "reason": "clear", "order_id": None, "sku_out": [], "gate_version": 0,
        "source": "online", "station_decision": None, "station_reason": None, "station_gate_version": None,
        "forward_state": None, "forward_at": None, "forward_problem": None,
        "claimed_at": None, "clock_skew_s": None, "clock_flag": None, "clock_synced": None, "boot_id": None,
        "mono_s": None,
    }  # fmt: skip


def test_writers_in_a_loop_never_see_a_duplicate_they_did_not_send(engine, session):
    """A thread that writes again at once often takes the commit lock ahead of the waiters it
    queued behind: its row is then not in the oldest batch, and must still be committed."""
    station, _token = enrol(session, "bench-l", "main")
    session.commit()
    journal = ScanJournal(engine, max_batch=1)
    duplicates: list[str] = []

    def writer(n: int) -> None:
        for i in range(40):
            scan_id = f"w{n}-{i}"
            if journal.write(_row(station, scan_id), None)[0] is None:
                duplicates.append(scan_id)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert duplicates == []
    stored = session.scalar(select(func.count()).select_from(Scan).where(Scan.station_id == station.id))
    assert stored == 8 * 40


def test_the_same_scan_id_again_is_a_duplicate(engine, session):
    station, _token = enrol(session, "bench-k", "main")
    session.commit()
    journal = ScanJournal(engine)
    first, _ = journal.write(_row(station, "again"), None)
    second, _ = journal.write(_row(station, "again"), None)
    assert first is not None and second is None
