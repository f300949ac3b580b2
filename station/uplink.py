"""The station's background link to the server: replica sync, journal upload, heartbeats.

Runs in its own thread so the scan path never waits for it. Every `sync_interval_s` it pages the
gate feed into the replica and uploads the journal's offline decisions (≤ BATCH_LIMIT per call,
in journal order, marked uploaded only after the server answered); every `heartbeat_s` it sends
a heartbeat. When the link comes back (the bench's scan or our own call succeeds after a
failure) it syncs and uploads at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from shipgate.wire import BATCH_LIMIT
from station.client import (
    BadResponse,
    GateClient,
    GateError,
    Rejected,
    ScanUpload,
    ServerUnreachable,
    Unauthorized,
)
from station.journal import Journal, JournalEntry, JournalError
from station.replica import Replica, ReplicaError

log = logging.getLogger(__name__)

TOKEN_REJECTED = "令牌无效"
BAD_ANSWER = "服务器应答异常"


class LinkStatus:
    """Is the server answering? Shared by the bench (scans) and the uplink (sync); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.online = False
        self.problem: str | None = None
        self._listeners: list[Callable[[bool], None]] = []

    def on_change(self, listener: Callable[[bool], None]) -> None:
        self._listeners.append(listener)

    def report(self, ok: bool, problem: str | None = None) -> None:
        with self._lock:
            changed = ok != self.online
            self.online, self.problem = ok, (None if ok else problem)
        if changed:
            log.info("server link: %s%s", "online" if ok else "offline", f" ({problem})" if problem else "")
            for listener in self._listeners:
                listener(ok)

    def report_error(self, exc: GateError) -> None:
        if isinstance(exc, Unauthorized):
            self.report(False, TOKEN_REJECTED)
        elif isinstance(exc, Rejected | BadResponse):
            self.report(False, BAD_ANSWER)
        else:
            self.report(False)


class Uplink:
    def __init__(
        self,
        client: GateClient,
        replica: Replica,
        journal: Journal,
        link: LinkStatus,
        *,
        status: Callable[[], dict[str, Any]],
        sync_interval_s: float = 5.0,
        heartbeat_s: float = 30.0,
        on_heartbeat: Callable[[Any], None] | None = None,
    ) -> None:
        self.client = client
        self.on_heartbeat = on_heartbeat  # gets each HeartbeatReply (the bench learns its name)
        self.replica = replica
        self.journal = journal
        self.link = link
        self.status = status
        self.sync_interval_s = sync_interval_s
        self.heartbeat_s = heartbeat_s
        self._stop = threading.Event()
        self._kick = threading.Event()
        self._thread: threading.Thread | None = None
        self.syncs = 0
        link.on_change(lambda ok: ok and self.kick())

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("uplink already started")
        self._thread = threading.Thread(target=self._run, name="uplink", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._kick.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def kick(self) -> None:
        """Sync and upload now (the server just came back)."""
        self._kick.set()

    def _run(self) -> None:
        next_sync = next_beat = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_sync or self._kick.is_set():
                self._kick.clear()
                self.sync_once()
                next_sync = time.monotonic() + self.sync_interval_s
            if now >= next_beat:
                self.heartbeat_once()
                next_beat = time.monotonic() + self.heartbeat_s
            self._kick.wait(max(0.0, min(next_sync, next_beat) - time.monotonic()))

    def sync_once(self) -> bool:
        """Sync the replica, then upload the journal. True if both went through."""
        try:
            report = self.replica.sync(self.client.gate_feed)
            self.syncs += 1
            if report.entries:
                log.info(
                    "replica: %d entries in %d pages, version %d",
                    report.entries,
                    report.pages,
                    report.version,
                )
            self.link.report(True)
            self.upload_pending()
            return True
        except GateError as exc:
            log.log(logging.DEBUG if isinstance(exc, ServerUnreachable) else logging.WARNING, "sync: %s", exc)
            self.link.report_error(exc)
        except (ReplicaError, JournalError) as exc:
            log.error("sync: local database: %s", exc)
        except Exception:
            log.exception("sync: unexpected failure")
        return False

    def upload_pending(self) -> int:
        """Upload every offline decision, oldest first; returns how many the server answered."""
        total = 0
        while True:
            batch = self.journal.pending(BATCH_LIMIT)
            if not batch:
                return total
            answered = self._upload(batch)
            if answered == 0:
                log.warning("upload: the server answered none of %d scans; will retry", len(batch))
                return total
            total += answered

    def _upload(self, batch: list[JournalEntry]) -> int:
        """One batch; a batch the server refuses (4xx) is split until the refused scans are found."""
        try:
            results = self.client.upload_batch([_upload_of(e) for e in batch])
        except Rejected as exc:
            if len(batch) == 1:
                log.error("upload: server refused scan %s (%s): kept, not retried", batch[0].scan_id, exc)
                self.journal.mark_rejected([batch[0].scan_id])
                return 1
            half = len(batch) // 2
            return self._upload(batch[:half]) + self._upload(batch[half:])
        wanted = {e.scan_id for e in batch}
        answers = [
            (r.result.scan_id, r.result.decision.value, r.result.reason)
            for r in results
            if r.result.scan_id in wanted
        ]
        self.journal.mark_uploaded(answers)
        duplicates = sum(1 for r in results if r.duplicate)
        log.info("upload: %d scans uploaded (%d already known to the server)", len(answers), duplicates)
        return len(answers)

    def heartbeat_once(self) -> bool:
        try:
            reply = self.client.heartbeat(self.status())
            self.link.report(True)
            if self.on_heartbeat is not None:
                self.on_heartbeat(reply)
            return True
        except GateError as exc:
            log.debug("heartbeat: %s", exc)
            self.link.report_error(exc)
        except Exception:
            log.exception("heartbeat: unexpected failure")
        return False


def _upload_of(e: JournalEntry) -> ScanUpload:
    return ScanUpload(
        scan_id=e.scan_id,
        code=e.code,
        operator=e.operator,
        scanned_at=e.scanned_at,
        mode=e.mode,
        station_decision=e.decision or "HOLD",
        station_reason=e.reason or "",
        station_gate_version=e.gate_version,
        clock_synced=e.clock_synced,
        boot_id=e.boot_id,
        mono_s=e.mono_s,
    )
