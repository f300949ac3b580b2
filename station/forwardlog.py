"""Whether and when each PASS reached the packing PC: the journal's `forwards` table.

It lives in the journal's SQLite file (WAL, synchronous=FULL) beside the scans, with its own
connection. Journal first: the intent is written before the first key report is sent.

    begin(scan_id)          -> "sending"   (committed before typing starts)
    finish(scan_id, ok)     -> "forwarded" | "failed", with the time and the problem; to report
    recover()               -> "sending" left by a crash becomes "unknown" (maybe half typed); to report
    pending() / mark_reported() -> the uplink tells the server (POST /api/v1/scans/forwarding)

A scan is never forwarded twice, and a scan recovered after a crash is never forwarded at all.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from station.journal import JournalError, open_durable

_SCHEMA = """
CREATE TABLE IF NOT EXISTS forwards (
    scan_id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    problem TEXT,
    report TEXT NOT NULL DEFAULT 'none'
);
CREATE INDEX IF NOT EXISTS forwards_report ON forwards(started_at) WHERE report = 'pending';
"""


class ForwardOutcome(StrEnum):
    SENDING = "sending"
    FORWARDED = "forwarded"
    FAILED = "failed"
    UNKNOWN = "unknown"  # the station stopped while typing: the PC may have part of the code


@dataclass(frozen=True)
class ForwardRecord:
    scan_id: str
    state: ForwardOutcome
    started_at: str
    finished_at: str | None
    problem: str | None

    @property
    def forwarded(self) -> bool:
        return self.state is ForwardOutcome.FORWARDED


class ForwardLog:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self._conn = open_durable(self.path, _SCHEMA)
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open the forward log in {self.path}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def begin(self, scan_id: str, at: str) -> None:
        """Record the intent to type this scan's code; raises JournalError if it cannot (then do not type)."""
        self._write(
            "INSERT INTO forwards (scan_id, state, started_at) VALUES (?, ?, ?)",
            (scan_id, ForwardOutcome.SENDING.value, at),
        )

    def finish(self, scan_id: str, ok: bool, at: str, problem: str | None = None) -> None:
        state = ForwardOutcome.FORWARDED if ok else ForwardOutcome.FAILED
        self._write(
            "UPDATE forwards SET state=?, finished_at=?, problem=?, report='pending' WHERE scan_id=? AND state=?",
            (state.value, at, problem, scan_id, ForwardOutcome.SENDING.value),
        )

    def recover(self, at: str) -> int:
        """Typing a previous run never finished: unknown how much the PC got. Returns how many."""
        return self._write(
            "UPDATE forwards SET state=?, finished_at=?, problem=?, report='pending' WHERE state=?",
            (ForwardOutcome.UNKNOWN.value, at, "station stopped while typing", ForwardOutcome.SENDING.value),
        )

    def get(self, scan_id: str) -> ForwardRecord | None:
        rows = self._select("WHERE scan_id = ?", (scan_id,))
        return rows[0] if rows else None

    def pending(self, limit: int = 500) -> list[ForwardRecord]:
        return self._select("WHERE report = 'pending' ORDER BY started_at LIMIT ?", (limit,))

    def mark_reported(self, scan_ids: list[str]) -> None:
        with self._lock:
            try:
                with self._conn:
                    self._conn.executemany(
                        "UPDATE forwards SET report='done' WHERE scan_id=? AND report='pending'",
                        [(s,) for s in scan_ids],
                    )
            except sqlite3.Error as exc:
                raise JournalError(f"cannot mark forward reports: {exc}") from exc

    def _write(self, sql: str, params: tuple) -> int:
        with self._lock:
            try:
                with self._conn:
                    return self._conn.execute(sql, params).rowcount
            except sqlite3.Error as exc:
                raise JournalError(f"cannot journal forwarding: {exc}") from exc

    def _select(self, where: str, params: tuple) -> list[ForwardRecord]:
        with self._lock:
            try:
                rows = self._conn.execute(
                    f"SELECT scan_id, state, started_at, finished_at, problem FROM forwards {where}", params
                ).fetchall()
            except sqlite3.Error as exc:
                raise JournalError(f"cannot read the forward log: {exc}") from exc
        return [ForwardRecord(s, ForwardOutcome(st), a, f, p) for s, st, a, f, p in rows]
