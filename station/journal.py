"""Every scan, written to SQLite (WAL, synchronous=FULL) before it is acted on.

A scan's life in the journal:
    record()  -> a row with a station-generated scan_id (uuid4); decision NULL; committed (fsync)
    decide()  -> the decision and its source; offline decisions enter the upload queue ("pending")
    mark_uploaded() -> only after the server answered the batch holding it ("done")

So a kill at any instant loses nothing: an undecided row is decided on restart (`undecided()`),
a pending row is uploaded (again, harmlessly: the server is idempotent on scan_id). Decisions the
station made itself ("offline" from the replica, "local" for codes that are no order) are queued;
the server's own ("online") are already in its journal. A database error (disk full above all) raises `JournalError`; the bench then fails closed.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

from station.decision import Outcome, Source
from station.timesync import ClockFacts

_SCHEMA = """
CREATE TABLE IF NOT EXISTS scans (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    scan_id TEXT NOT NULL UNIQUE,
    code TEXT NOT NULL,
    operator TEXT,
    scanned_at TEXT NOT NULL,
    mode TEXT NOT NULL,
    decision TEXT,
    reason TEXT,
    message TEXT,
    source TEXT,
    order_id TEXT,
    gate_version INTEGER,
    exception_id TEXT,
    decided_at TEXT,
    upload TEXT NOT NULL DEFAULT 'none',
    server_decision TEXT,
    server_reason TEXT,
    clock_synced INTEGER,
    boot_id TEXT,
    mono_s REAL
);
CREATE INDEX IF NOT EXISTS scans_pending ON scans(seq) WHERE upload = 'pending';
CREATE INDEX IF NOT EXISTS scans_undecided ON scans(seq) WHERE decision IS NULL;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""

_COLUMNS = "seq, scan_id, code, operator, scanned_at, mode, decision, reason, source, gate_version, upload, server_decision"
_COLUMNS += ", clock_synced, boot_id, mono_s"  # the scan's clock (station.timesync)
_CLOCK_COLUMNS = (("clock_synced", "INTEGER"), ("boot_id", "TEXT"), ("mono_s", "REAL"))


class JournalError(Exception):
    """The journal could not be written or read."""


class JournalFull(JournalError):
    """The disk (or the journal's size limit) is full."""


@dataclass(frozen=True)
class JournalEntry:
    seq: int
    scan_id: str
    code: str
    operator: str | None
    scanned_at: str
    mode: str
    decision: str | None = None
    reason: str | None = None
    source: str | None = None
    gate_version: int | None = None
    upload: str = "none"  # none | pending | done | rejected
    server_decision: str | None = None
    clock_synced: bool | None = None
    boot_id: str | None = None
    mono_s: float | None = None


class Journal:
    """Thread-safe: the bench writes scans, the uplink reads and marks the upload queue."""

    def __init__(self, path: str | Path, *, max_pages: int | None = None) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self._conn = open_durable(self.path, _SCHEMA)
            _add_clock_columns(self._conn)
            if max_pages is not None:  # a hard size cap; exceeding it behaves exactly like a full disk
                self._conn.execute(f"PRAGMA max_page_count = {int(max_pages)}")
        except sqlite3.Error as exc:
            raise _mapped(exc, f"cannot open journal {self.path}") from exc

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def record(
        self, code: str, operator: str | None, mode: str, scanned_at: str, clock: ClockFacts | None = None
    ) -> JournalEntry:
        """Write a new scan (committed and synced to disk before returning)."""
        scan_id = str(uuid.uuid4())
        synced, boot, mono = (clock.synced, clock.boot_id, clock.mono_s) if clock else (None, None, None)
        with self._lock:
            try:
                with self._conn:
                    cursor = self._conn.execute(
                        "INSERT INTO scans (scan_id, code, operator, scanned_at, mode, clock_synced, boot_id, mono_s)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (scan_id, code, operator, scanned_at, mode, synced, boot, mono),
                    )
            except sqlite3.Error as exc:
                raise _mapped(exc, "cannot journal scan") from exc
        return JournalEntry(
            cursor.lastrowid, scan_id, code, operator, scanned_at, mode,
            clock_synced=synced, boot_id=boot, mono_s=mono,
        )  # fmt: skip

    def decide(self, scan_id: str, outcome: Outcome, decided_at: str) -> None:
        """Record a scan's decision; one the station made itself (offline/local) joins the upload queue."""
        upload = "none" if outcome.source is Source.ONLINE else "pending"
        with self._lock:
            try:
                with self._conn:
                    self._conn.execute(
                        "UPDATE scans SET decision=?, reason=?, message=?, source=?, order_id=?, gate_version=?, "
                        "exception_id=?, decided_at=?, upload=? WHERE scan_id=? AND decision IS NULL",
                        (
                            outcome.decision.value,
                            outcome.reason,
                            outcome.message,
                            outcome.source.value,
                            outcome.order_id,
                            outcome.gate_version,
                            outcome.exception_id,
                            decided_at,
                            upload,
                            scan_id,
                        ),
                    )
            except sqlite3.Error as exc:
                raise _mapped(exc, "cannot journal decision") from exc

    def undecided(self) -> list[JournalEntry]:
        """Scans journaled but not decided (the station stopped in between), oldest first."""
        return self._select("WHERE decision IS NULL ORDER BY seq")

    def pending(self, limit: int = 500) -> list[JournalEntry]:
        """The upload queue, in journal order."""
        return self._select("WHERE upload = 'pending' ORDER BY seq LIMIT ?", (limit,))

    def mark_uploaded(self, answers: list[tuple[str, str, str]]) -> None:
        """(scan_id, server decision, server reason) for each scan the server answered."""
        self._mark("done", answers)

    def mark_rejected(self, scan_ids: list[str]) -> None:
        """The server refused these for good (4xx): keep them, stop retrying (logged by the caller)."""
        self._mark("rejected", [(s, None, None) for s in scan_ids])

    def queue_depth(self) -> int:
        with self._lock:
            return self._conn.execute(
                "SELECT COUNT(*) FROM scans WHERE upload = 'pending' OR decision IS NULL"
            ).fetchone()[0]

    def entries(self) -> list[JournalEntry]:
        return self._select("ORDER BY seq")

    def get(self, scan_id: str) -> JournalEntry | None:
        rows = self._select("WHERE scan_id = ?", (scan_id,))
        return rows[0] if rows else None

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_meta(self, key: str, value: str | None) -> None:
        with self._lock:
            try:
                with self._conn:
                    self._conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
            except sqlite3.Error as exc:
                raise _mapped(exc, f"cannot store {key}") from exc

    def _mark(self, state: str, answers: list[tuple[str, str | None, str | None]]) -> None:
        with self._lock:
            try:
                with self._conn:
                    self._conn.executemany(
                        "UPDATE scans SET upload=?, server_decision=?, server_reason=? "
                        "WHERE scan_id=? AND upload='pending'",
                        [(state, dec, reason, scan_id) for scan_id, dec, reason in answers],
                    )
            except sqlite3.Error as exc:
                raise _mapped(exc, "cannot mark uploads") from exc

    def _select(self, where: str, params: tuple = ()) -> list[JournalEntry]:
        with self._lock:
            try:
                rows = self._conn.execute(f"SELECT {_COLUMNS} FROM scans {where}", params).fetchall()
            except sqlite3.Error as exc:
                raise _mapped(exc, "cannot read journal") from exc
        return [_entry(row) for row in rows]


def _entry(row: tuple) -> JournalEntry:
    entry = JournalEntry(*row)
    synced = entry.clock_synced
    return entry if synced is None else replace(entry, clock_synced=bool(synced))


def _add_clock_columns(conn: sqlite3.Connection) -> None:
    """Journals written before the clock columns get them (NULL for their old scans)."""
    have = {row[1] for row in conn.execute("PRAGMA table_info(scans)")}
    for name, kind in _CLOCK_COLUMNS:
        if name not in have:
            conn.execute(f"ALTER TABLE scans ADD COLUMN {name} {kind}")


def open_durable(path: Path, schema: str) -> sqlite3.Connection:
    """A thread-shared connection, WAL with synchronous=FULL, schema applied; transactions per `with`."""
    conn = sqlite3.connect(path, check_same_thread=False, timeout=5.0, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.executescript(schema)
    conn.isolation_level = ""
    return conn


def _mapped(exc: sqlite3.Error, what: str) -> JournalError:
    full = getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "full" in str(exc).lower()
    return (JournalFull if full else JournalError)(f"{what}: {exc}")
