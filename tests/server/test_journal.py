"""The group-committed scan journal: many threads at once, each answered only once committed."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, func, select

from server.journal import JournalUnavailable, ScanJournal
from server.models import Scan
from server.stations import enrol

THREADS, EACH = 12, 20


def scan_row(station, scan_id: str) -> dict:
    now = datetime.now(UTC)
    return {
        "station_id": station.id, "scan_id": scan_id, "warehouse_id": station.warehouse_id, "code": "4800000000000000001",
        "code_kind": "order_id", "operator": None, "mode": "bench", "scanned_at": now, "received_at": now,
        "decision": "PASS", "reason": "clear", "order_id": None, "sku_out": [], "gate_version": 0,
        "source": "online", "station_decision": None, "station_reason": None, "station_gate_version": None,
        "forward_state": None, "forward_at": None, "forward_problem": None,
        "claimed_at": None, "clock_skew_s": None, "clock_flag": None, "clock_synced": None, "boot_id": None,
        "mono_s": None,
    }  # fmt: skip


@pytest.fixture
def station(session):
    station, _token = enrol(session, "journal-1")
    session.commit()
    return station


def test_concurrent_writers_each_get_their_own_committed_row(engine, session, station):
    journal, barrier = ScanJournal(engine), threading.Barrier(THREADS)
    keys, failures = [], []

    def writer(n: int) -> None:
        barrier.wait()
        for i in range(EACH):
            try:
                keys.append(journal.write(scan_row(station, f"t{n}-{i}"), None)[0])
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                failures.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert None not in keys and len(set(keys)) == THREADS * EACH
    stored = session.scalars(select(Scan.id).where(Scan.station_id == station.id)).all()
    assert sorted(stored) == sorted(keys)  # every acknowledged key is a committed row


def test_a_repeated_scan_id_writes_nothing(engine, session, station):
    journal = ScanJournal(engine)
    first = journal.write(scan_row(station, "again"), None)
    assert first[0] is not None
    assert journal.write(scan_row(station, "again"), None) == (None, None)
    assert session.scalar(select(func.count()).select_from(Scan)) == 1


def test_every_waiter_learns_that_the_database_is_gone(engine, station):
    gone = create_engine(
        "postgresql+psycopg://postgres@127.0.0.1:9/nowhere", connect_args={"connect_timeout": 2}
    )
    journal = ScanJournal(gone)
    errors, barrier = [], threading.Barrier(4)

    def writer(n: int) -> None:
        barrier.wait()
        try:
            journal.write(scan_row(station, f"gone-{n}"), None)
        except JournalUnavailable as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(errors) == 4


def test_writers_in_a_loop_never_see_a_duplicate_they_did_not_send(engine, session, station):
    """A thread that writes again at once may arrive while others still wait: its row must be
    committed all the same, never answered as a duplicate it did not send (batches of one, so
    most rows are not in the batch of the commit running when they arrive)."""
    journal = ScanJournal(engine, max_batch=1)
    duplicates: list[str] = []

    def writer(n: int) -> None:
        for i in range(40):
            scan_id = f"w{n}-{i}"
            if journal.write(scan_row(station, scan_id), None)[0] is None:
                duplicates.append(scan_id)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert duplicates == []
    stored = session.scalar(select(func.count()).select_from(Scan).where(Scan.station_id == station.id))
    assert stored == 8 * 40
