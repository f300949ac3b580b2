"""The local copy of the server's gate, in SQLite (WAL), for deciding when the server is away.

Tables: entries(order_id PK, decision, reason, sku_out JSON, version), codes(code PK, order_id)
and meta(key PK, value) holding the feed cursor ("version") and the wall time of the last
complete sync ("last_sync"). An entry replaces its order's codes. A page of the feed and the
cursor that follows it are committed in one transaction, so the cursor never runs ahead of the
rows. `last_sync` is the time a complete sync *started* (a signpost: whatever changed on the
server during the sync is at most that old).

An idle station writes nothing (SD cards wear): a page with no entries and an unchanged cursor is
not written, and `last_sync` is kept in memory and stored only with a change or every
`persist_every_s` (default 15 min). After a restart the stored `last_sync` may be that much older
than the truth, so the replica can only look *older* (stale sooner: fail closed), never fresher.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from shipgate.wire import Decision, GateEntry, GateFeed, Reason
from station import decision
from station.decision import Outcome, StalePolicy

log = logging.getLogger(__name__)

PAGE_LIMIT = 500
_MAX_PAGES = 100_000
_CLOCK_SKEW_S = 5.0  # a last_sync this far in the future means the clock jumped back: stale

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    order_id TEXT PRIMARY KEY,
    decision TEXT NOT NULL,
    reason TEXT NOT NULL,
    sku_out TEXT NOT NULL,
    version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS codes (
    code TEXT PRIMARY KEY,
    order_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS codes_order ON codes(order_id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class ReplicaError(Exception):
    """The replica's database failed; the bench treats the replica as unusable (fail closed)."""


@dataclass(frozen=True)
class SyncReport:
    pages: int
    entries: int
    version: int
    reset: bool


class Replica:
    """Reads (lookup/decide) and writes (sync) may come from different threads."""

    def __init__(
        self,
        path: str | Path,
        *,
        clock: Callable[[], float] = time.time,
        max_age_s: float = 600.0,
        stale_policy: StalePolicy = StalePolicy.HOLD,
        persist_every_s: float = 900.0,
    ) -> None:
        self.path = Path(path)
        self.clock = clock
        self.max_age_s = max_age_s
        self.stale_policy = StalePolicy(stale_policy)  # ValueError for an unknown policy
        self.persist_every_s = persist_every_s
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()
        try:
            self._writer = _connect(self.path)
            self._writer.executescript(_SCHEMA)
            self._reader = _connect(self.path)
            stored = self._meta("last_sync")
        except sqlite3.Error as exc:
            raise ReplicaError(f"cannot open replica {self.path}: {exc}") from exc
        self._last_sync = self._stored_sync = None if stored is None else float(stored)

    def close(self) -> None:
        with self._write_lock, self._read_lock:
            self._reader.close()
            self._writer.close()

    # -- reading ---------------------------------------------------------------------------

    @property
    def version(self) -> int:
        return int(self._meta("version") or 0)

    @property
    def last_sync(self) -> float | None:
        return self._last_sync

    def age_s(self) -> float | None:
        """Seconds since the last complete sync started; None if never synced (or the clock jumped back)."""
        last = self.last_sync
        if last is None:
            return None
        age = self.clock() - last
        if age < -_CLOCK_SKEW_S:
            return None
        return max(age, 0.0)

    def is_stale(self) -> bool:
        return decision.is_stale(self.age_s(), self.max_age_s)

    def lookup(self, code: str) -> GateEntry | None:
        """The gate entry a code resolves to now (via its codes, else as an order id), or None."""
        try:
            with self._read_lock:
                row = self._reader.execute(
                    "SELECT e.order_id, e.decision, e.reason, e.sku_out, e.version FROM codes c "
                    "JOIN entries e ON e.order_id = c.order_id WHERE c.code = ?",
                    (code.upper(),),
                ).fetchone()
                if row is None:
                    row = self._reader.execute(
                        "SELECT order_id, decision, reason, sku_out, version FROM entries WHERE order_id = ?",
                        (code,),
                    ).fetchone()
        except sqlite3.Error as exc:
            raise ReplicaError(f"replica lookup failed: {exc}") from exc
        if row is None:
            return None
        order_id, dec, reason, sku_out, version = row
        return GateEntry(order_id, Decision(dec), Reason(reason), tuple(json.loads(sku_out)), (), version)

    def decide(self, scan_id: str, code: str) -> Outcome:
        """The offline decision for a code (see station.decision.offline). Fails closed on errors."""
        try:
            entry = self.lookup(code)
            age, version = self.age_s(), self.version
        except (ReplicaError, sqlite3.Error) as exc:
            log.error("replica unusable, holding: %s", exc)
            entry, age, version = None, None, 0
            policy = StalePolicy.HOLD
        else:
            policy = self.stale_policy
        return decision.offline(
            scan_id, code, entry, age_s=age, max_age_s=self.max_age_s, policy=policy, replica_version=version
        )

    def count(self) -> int:
        with self._read_lock:
            return self._reader.execute("SELECT COUNT(*) FROM entries").fetchone()[0]

    # -- writing ---------------------------------------------------------------------------

    def apply(self, feed: GateFeed) -> None:
        """Store one page of the feed and move the cursor to feed.next, atomically (an empty page
        that leaves the cursor where it is writes nothing)."""
        if not feed.entries and feed.next == self.version:
            return
        with self._write_lock:
            try:
                with self._writer:
                    for entry in feed.entries:
                        self._writer.execute("DELETE FROM codes WHERE order_id = ?", (entry.order_id,))
                        self._writer.execute(
                            "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?)",
                            (
                                entry.order_id,
                                entry.decision.value,
                                entry.reason.value,
                                json.dumps(list(entry.sku_order_ids_out)),
                                entry.version,
                            ),
                        )
                        self._writer.executemany(
                            "INSERT OR REPLACE INTO codes VALUES (?, ?)",
                            [(code.upper(), entry.order_id) for code in entry.codes],
                        )
                    self._set_meta("version", str(feed.next))
            except sqlite3.Error as exc:
                raise ReplicaError(f"cannot store gate entries: {exc}") from exc

    def sync(self, fetch: Callable[[int, int], GateFeed], page_limit: int = PAGE_LIMIT) -> SyncReport:
        """Page through the feed from our cursor until more=false; then mark the replica synced.

        `fetch(since, limit)` is GateClient.gate_feed. Errors propagate (the cursor stays at the
        last committed page, so the next sync resumes there). If the server's version is behind
        ours (its gate was rebuilt), the replica is emptied and a full snapshot taken.
        """
        started = self.clock()
        since, pages, count, reset = self.version, 0, 0, False
        while pages < _MAX_PAGES:
            feed = fetch(since, page_limit)
            if pages == 0 and feed.version < since:
                log.warning(
                    "replica: server gate version %d is behind ours (%d): full resync", feed.version, since
                )
                self.reset()
                since, reset = 0, True
                continue
            self.apply(feed)
            pages, count = pages + 1, count + len(feed.entries)
            if not feed.more:
                break
            if feed.next <= since:
                raise ReplicaError(f"gate feed did not advance (since={since}, next={feed.next})")
            since = feed.next
        self._last_sync = started
        due = self._stored_sync is None or started - self._stored_sync >= self.persist_every_s
        if count or reset or due:
            with self._write_lock:
                try:
                    with self._writer:
                        self._set_meta("last_sync", repr(started))
                except sqlite3.Error as exc:
                    raise ReplicaError(f"cannot record sync time: {exc}") from exc
            self._stored_sync = started
        return SyncReport(pages=pages, entries=count, version=self.version, reset=reset)

    def reset(self) -> None:
        with self._write_lock, self._writer:
            self._writer.execute("DELETE FROM codes")
            self._writer.execute("DELETE FROM entries")
            self._writer.execute("DELETE FROM meta")
        self._last_sync = self._stored_sync = None

    def _meta(self, key: str) -> str | None:
        with self._read_lock:
            row = self._reader.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def _set_meta(self, key: str, value: str) -> None:
        self._writer.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, check_same_thread=False, timeout=5.0, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.isolation_level = ""  # back to implicit transactions for `with conn:` blocks
    return conn
