"""The server's scan journal writer: many request threads, one committer at a time.

Each request thread hands its scan row to `ScanJournal.write` and returns only after the row is
committed (journal first, acknowledge after). Rows that arrive while a commit is running are
committed together by the next thread to take the commit lock ("group commit"), so the cost of
a commit is shared by every scan waiting for it instead of paid by each.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass

from sqlalchemy import bindparam, insert
from sqlalchemy.engine import Engine

from server.fastsql import Prepared
from server.models import Scan, ScanException


class JournalUnavailable(RuntimeError):
    """The database refused the journal write; nothing was acknowledged."""


@dataclass
class _Pending:
    row: dict
    exception: dict | None
    done: bool = False
    scan_pk: int | None = None
    exception_id: int | None = None
    error: BaseException | None = None


class ScanJournal:
    def __init__(self, engine: Engine, max_batch: int = 500):
        self._engine = engine
        self._max_batch = max_batch
        self._pending: list[_Pending] = []
        self._pending_lock = threading.Lock()
        self._commit_lock = threading.Lock()
        scans, exceptions = Scan.__table__, ScanException.__table__
        self._insert_scan = Prepared(engine, _insert_statement(scans))
        # ON CONFLICT … DO NOTHING RETURNING is the same text on SQLite (3.35+) and PostgreSQL:
        # a repeated (station_id, scan_id) returns no row and writes nothing.
        self._insert_scan.sql = self._insert_scan.sql.replace(
            " RETURNING", " ON CONFLICT (station_id, scan_id) DO NOTHING RETURNING", 1
        )
        self._insert_exception = Prepared(engine, _insert_statement(exceptions))

    @property
    def waiting(self) -> int:
        """Rows handed to `write` that no commit has taken yet."""
        with self._pending_lock:
            return len(self._pending)

    @contextlib.contextmanager
    def held(self):
        """Hold the commits while the block runs: rows written meanwhile wait (see `waiting`) and
        are committed together afterwards, as under load."""
        with self._commit_lock:
            yield

    def write(self, row: dict, exception: dict | None) -> tuple[int | None, int | None]:
        """Commit one scan (and its exception). Returns (scan primary key, exception id); the scan
        key is None when this station already sent this scan_id."""
        item = _Pending(row, exception)
        with self._pending_lock:
            self._pending.append(item)
        with self._commit_lock:
            while not item.done:  # batches are taken oldest first: ours may not be in the first
                with self._pending_lock:
                    batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
                self._commit(batch)
                if len(batch) > 1 and any(i.error is not None for i in batch):
                    for alone in batch:  # one bad row must not fail the others: each on its own
                        alone.error = None
                        self._commit([alone])
        if item.error is not None:
            raise JournalUnavailable(str(item.error)) from item.error
        return item.scan_pk, item.exception_id

    def _commit(self, batch: list[_Pending]) -> None:
        connection = self._engine.raw_connection()
        try:
            cursor = connection.cursor()
            for item in batch:
                inserted = self._insert_scan.first(cursor, item.row)
                item.scan_pk = inserted["id"] if inserted else None
                if item.scan_pk is not None and item.exception is not None:
                    values = {**item.exception, "scan_pk": item.scan_pk}
                    item.exception_id = self._insert_exception.first(cursor, values)["id"]
            connection.commit()
        except Exception as exc:  # noqa: BLE001 - every waiter must learn of the failure
            with contextlib.suppress(Exception):
                connection.rollback()
            for item in batch:
                item.scan_pk = item.exception_id = None
                item.error = exc
        finally:
            connection.close()
            for item in batch:
                item.done = True


def _insert_statement(table):
    columns = [c.name for c in table.columns if c.name != "id"]
    return insert(table).values({c: bindparam(c) for c in columns}).returning(table.c.id)
