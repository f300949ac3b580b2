"""WAL checkpoints in their own thread (server/checkpoints.py), on a real SQLite file.

In WAL mode the database file itself is written only by a checkpoint, so its size says whether
one ran: rows committed on the request path stay in the -wal file until the checkpointer (or, if
it stopped, the backstop) copies them back.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, text

from server import db
from server.checkpoints import Checkpointer
from tests.polling import wait_until

ROW = "x" * 3000  # about one page a row


@pytest.fixture
def sqlite_file(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE filler (id INTEGER PRIMARY KEY, body TEXT)"))
    with engine.connect() as connection:  # everything so far into the database file
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    yield engine, tmp_path / "wal.db"
    engine.dispose()


def write_pages(engine, rows: int) -> None:
    for _ in range(rows):  # a commit each, as scans are committed
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO filler (body) VALUES (:b)"), {"b": ROW})


def autocheckpoint(engine) -> int:
    with engine.connect() as connection:
        return connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()


def test_commits_leave_the_checkpoint_to_the_thread(sqlite_file):
    engine, path = sqlite_file
    checkpointer = Checkpointer(engine, interval_s=0.05, backstop_pages=100_000)
    checkpointer.start()
    try:
        assert checkpointer.running and autocheckpoint(engine) == 100_000
        size = path.stat().st_size
        write_pages(engine, 1500)  # past SQLite's default automatic checkpoint of 1,000 pages
        assert wait_until(lambda: path.stat().st_size > size + 1400 * 3000)
        assert wait_until(lambda: checkpointer.last is not None and checkpointer.last.copied_pages > 0)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM filler")).scalar() == 1500
    finally:
        checkpointer.stop()
    assert not checkpointer.running
    assert "sqlite-checkpoint" not in [t.name for t in threading.enumerate()]


def test_without_the_thread_the_request_path_does_not_checkpoint_below_the_backstop(sqlite_file):
    engine, path = sqlite_file
    checkpointer = Checkpointer(engine, interval_s=0.05, backstop_pages=100_000).start()
    checkpointer.stop()  # the thread is gone; its backstop stays on every connection
    size = path.stat().st_size
    write_pages(engine, 1500)
    assert path.stat().st_size == size  # all 1,500 pages still only in the WAL


def test_a_stopped_checkpointer_leaves_the_backstop_to_bound_the_wal(sqlite_file):
    engine, path = sqlite_file
    Checkpointer(engine, interval_s=0.05, backstop_pages=200).start().stop()
    size = path.stat().st_size
    write_pages(engine, 600)
    assert path.stat().st_size > size  # a commit past 200 pages checkpointed by itself
    wal = path.with_name("wal.db-wal").stat().st_size
    assert wal < 600 * 3000  # restarted after the backstop's checkpoints: never all 600 pages at once


def test_it_does_nothing_for_an_in_memory_database():
    engine = create_engine("sqlite://")
    checkpointer = Checkpointer(engine).start()
    assert not checkpointer.running
    checkpointer.stop()


def test_it_does_nothing_on_postgresql():
    engine = create_engine("postgresql+psycopg://shipgate@127.0.0.1:9/none")  # never connected
    checkpointer = Checkpointer(engine).start()
    assert not checkpointer.running
    checkpointer.stop()
    engine.dispose()
