"""SQLite's WAL checkpoints, off the request path.

In WAL mode a commit appends its pages to the -wal file. By default, once the file holds 1,000
pages, the commit that crossed the line also copies them back into the database and syncs both
files (a "checkpoint"). Measured on the 2-core bench machine (README, "The gate against a bare
Flask app"), that commit then takes 17–31 ms instead of ~0.1 ms, and with the group-committed
journal every scan waiting behind it waits as long.

A `Checkpointer` runs the checkpoints in its own thread instead, every `interval_s`, in PASSIVE
mode (it never blocks a reader or a writer; sqlite3 releases the GIL while it copies and syncs).
The process's other connections keep SQLite's automatic checkpoint only as a backstop at
`backstop_pages`, so a checkpointer that stopped or fell behind can never let the WAL grow
without bound. Nothing changes for durability: a commit is in the WAL before it returns, as before.
On PostgreSQL, or an in-memory SQLite database, `start()` does nothing.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

BACKSTOP_PAGES = 20_000  # ~80 MB of WAL at 4 KiB pages before a commit checkpoints by itself


@dataclass(frozen=True)
class Checkpoint:
    """What one `PRAGMA wal_checkpoint(PASSIVE)` reported: pages in the WAL, pages copied back."""

    busy: bool
    wal_pages: int
    copied_pages: int


class Checkpointer:
    def __init__(self, engine: Engine, *, interval_s: float = 0.2, backstop_pages: int = BACKSTOP_PAGES):
        self._engine = engine
        self._interval = interval_s
        self._backstop = backstop_pages
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last: Checkpoint | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Checkpointer:
        """Take over checkpoints for this engine. Call before the engine serves requests: the
        connections pooled so far are closed, so that every connection from now on has the backstop."""
        url = self._engine.url
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return self
        event.listen(self._engine, "connect", self._set_backstop)
        self._engine.dispose()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread (after a last checkpoint); the backstop stays in force."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _set_backstop(self, dbapi_connection, _record) -> None:
        dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={int(self._backstop)}")

    def _run(self) -> None:
        connection = None
        while True:
            stopping = self._stop.wait(self._interval)
            try:
                if connection is None:
                    connection = self._engine.raw_connection()
                self.last = checkpoint(connection)
            except Exception:  # noqa: BLE001 - keep trying; the backstop covers the meantime
                log.warning("WAL checkpoint failed; retrying in %.1f s", self._interval, exc_info=True)
                if connection is not None:
                    connection.invalidate()
                    connection = None
            if stopping:
                break
        if connection is not None:
            connection.close()


def checkpoint(connection) -> Checkpoint:
    """One passive checkpoint on a DBAPI connection to a SQLite database in WAL mode."""
    cursor = connection.cursor()
    try:
        busy, wal_pages, copied = cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        cursor.close()
    return Checkpoint(bool(busy), wal_pages, copied)
