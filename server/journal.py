"""The server's scan journal writer: many request threads, one committer at a time.

Each request thread hands its scan row to `ScanJournal.write` and returns only after the row is
committed (journal first, acknowledge after). Rows that arrive while a commit is running are
committed together by the next thread to lead ("group commit"), so the cost of
a commit is shared by every scan waiting for it instead of paid by each.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field

from sqlalchemy import bindparam, insert
from sqlalchemy.engine import Engine

from server.fastsql import Prepared
from server.models import Scan, ScanException


class JournalUnavailable(RuntimeError):
    """The database refused the journal write; nothing was acknowledged."""


def _held() -> threading.Lock:
    lock = threading.Lock()
    lock.acquire()
    return lock


@dataclass
class _Pending:
    row: dict
    exception: dict | None
    done: bool = False
    scan_pk: int | None = None
    exception_id: int | None = None
    error: BaseException | None = None
    wake: threading.Lock = field(default_factory=_held)  # released: committed, or this one leads next


class ScanJournal:
    def __init__(self, engine: Engine, max_batch: int = 500):
        self._engine = engine
        self._max_batch = max_batch
        self._pending: list[_Pending] = []
        self._pending_lock = threading.Lock()
        self._committing = False  # a thread is committing; the others wait on their own `wake`
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

    def write(self, row: dict, exception: dict | None, connection=None) -> tuple[int | None, int | None]:
        """Commit one scan (and its exception). Returns (scan primary key, exception id); the scan
        key is None when this station already sent this scan_id.

        `connection` is the caller's DBAPI connection (the request's, which the scan was decided
        on): if this thread commits, it commits there, so a scan checks out one connection, not
        two. Its open transaction, if any, is committed with the batch (the scan path only reads
        before it writes). Without one, the committer takes a connection from the pool.

        The first thread to arrive commits; those arriving meanwhile queue and each sleeps on its
        own lock. The committer wakes exactly the ones it committed, then hands the next batch to
        the oldest still waiting: one wake-up per waiting thread, none passing through a shared lock."""
        item = _Pending(row, exception)
        with self._pending_lock:
            self._pending.append(item)
            lead, self._committing = not self._committing, True
        if not lead:
            item.wake.acquire()
        if not item.done:
            self._lead(connection)
        if item.error is not None:
            raise JournalUnavailable(str(item.error)) from item.error
        return item.scan_pk, item.exception_id

    def _lead(self, connection) -> None:
        """Commit the oldest pending scans (the caller's among them), then pass the lead on.

        The caller's row is always in this batch, so a write never answers "duplicate" for a row
        no commit reached: the first writer leads only when nothing is pending before it, and the
        lead passes only to the oldest pending row (`_pass_lead`)."""
        with self._pending_lock:
            batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
        try:
            self._commit(batch, connection)
            if len(batch) > 1 and any(i.error is not None for i in batch):
                for alone in batch:  # one bad row must not fail the others: each on its own
                    alone.error = None
                    self._commit([alone], connection)
        except Exception as exc:  # noqa: BLE001 - e.g. no connection to be had: every waiter learns of it
            for item in batch:
                item.scan_pk = item.exception_id = None
                item.error = exc
        finally:
            for item in batch:
                item.done = True
                item.wake.release()
            self._pass_lead()

    def _pass_lead(self) -> None:
        """The commit is over: wake the oldest waiting scan to commit the next batch, if any."""
        with self._pending_lock:
            following = self._pending[0] if self._pending else None
            self._committing = following is not None
        if following is not None:
            following.wake.release()

    @contextlib.contextmanager
    def paused(self):
        """Hold commits while the block runs, as a long commit would: scans that arrive meanwhile
        wait, then are committed together (for tests of what one batch does)."""
        with self._pending_lock:
            if self._committing:
                raise RuntimeError("a commit is running")
            self._committing = True
        try:
            yield
        finally:
            self._pass_lead()

    def _commit(self, batch: list[_Pending], connection=None) -> None:
        own = connection is None
        # The scan path's PostgreSQL connection reads in autocommit (server.db.raw_cursor): one scan
        # without an exception is one INSERT, atomic by itself; anything more is one transaction.
        autocommit = getattr(connection, "autocommit", False) is True
        one_statement = len(batch) == 1 and batch[0].exception is None
        try:
            if own:
                connection = self._engine.raw_connection()
            if autocommit and not one_statement:
                connection.autocommit = False
            cursor = connection.cursor()
            for item in batch:
                inserted = self._insert_scan.first(cursor, item.row)
                item.scan_pk = inserted["id"] if inserted else None
                if item.scan_pk is not None and item.exception is not None:
                    values = {**item.exception, "scan_pk": item.scan_pk}
                    item.exception_id = self._insert_exception.first(cursor, values)["id"]
            connection.commit()
        except Exception as exc:  # noqa: BLE001 - every waiter must learn of the failure
            if connection is not None:
                with contextlib.suppress(Exception):
                    connection.rollback()
            for item in batch:
                item.scan_pk = item.exception_id = None
                item.error = exc
        finally:
            if autocommit and not one_statement:
                with contextlib.suppress(Exception):  # (a broken connection is dropped at teardown)
                    connection.autocommit = True
            if own and connection is not None:
                connection.close()


def _insert_statement(table):
    columns = [c.name for c in table.columns if c.name != "id"]
    return insert(table).values({c: bindparam(c) for c in columns}).returning(table.c.id)
