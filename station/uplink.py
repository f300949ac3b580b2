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
from datetime import datetime

from shipgate.wire import (
    BATCH_LIMIT,
    MAX_PROBLEM,
    Decision,
    Forwarding,
    ForwardReport,
    Heartbeat,
    HeartbeatReply,
    ScanClock,
    ScanMode,
    ScanRequest,
    station_reason,
)
from station.client import (
    BadResponse,
    GateClient,
    GateError,
    Rejected,
    ServerUnreachable,
    Unauthorized,
)
from station.forwardlog import ForwardLog, ForwardRecord
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
        status: Callable[[], Heartbeat],
        sync_interval_s: float = 5.0,
        heartbeat_s: float = 30.0,
        forward_log: ForwardLog | None = None,
        on_heartbeat: Callable[[HeartbeatReply], None] | None = None,
    ) -> None:
        self.client = client
        self.on_heartbeat = on_heartbeat  # gets each HeartbeatReply (the bench learns its name)
        self.replica = replica
        self.journal = journal
        self.link = link
        self.status = status
        self.sync_interval_s = sync_interval_s
        self.heartbeat_s = heartbeat_s
        self.forward_log = forward_log
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
            self.report_forwarding()
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
            (r.answer.scan_id, r.answer.decision.value, r.answer.reason.value)
            for r in results
            if r.answer.scan_id in wanted
        ]
        self.journal.mark_uploaded(answers)
        duplicates = sum(1 for r in results if r.duplicate)
        log.info("upload: %d scans uploaded (%d already known to the server)", len(answers), duplicates)
        return len(answers)

    def report_forwarding(self) -> int:
        """Tell the server whether each PASS reached the packing PC (after the scans themselves)."""
        if self.forward_log is None:
            return 0
        total = 0
        while records := self.forward_log.pending(BATCH_LIMIT):
            answers = self.client.report_forwarding([_report_of(r) for r in records])
            done = [a.scan_id for a in answers if a.stored or self._never_storable(a.scan_id, a.error)]
            self.forward_log.mark_reported(done)
            total += len(done)
            if len(done) < len(records):  # the rest are not on the server yet: next time
                return total
        return total

    def _never_storable(self, scan_id: str, error: str | None) -> bool:
        """A report the server will never take: its scan is no PASS there, or was refused for good."""
        if error == "not_pass":
            log.error("forwarding: the server says scan %s is no PASS; report dropped", scan_id)
            return True
        entry = self.journal.get(scan_id) if error == "unknown_scan" else None
        return entry is not None and entry.upload == "rejected"

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


def _upload_of(e: JournalEntry) -> ScanRequest:
    """A journaled, station-decided scan as the batch upload carries it."""
    return ScanRequest(
        scan_id=e.scan_id,
        code=e.code,
        scanned_at=datetime.fromisoformat(e.scanned_at),
        operator=e.operator,
        mode=ScanMode(e.mode),
        station_decision=Decision(e.decision),
        station_reason=station_reason(e.reason),
        station_gate_version=e.gate_version,
        clock=ScanClock(e.clock_synced, e.boot_id, e.mono_s),
    )


def _report_of(record: ForwardRecord) -> ForwardReport:
    """A finished forwarding (forwardlog) as the wire reports it."""
    at = datetime.fromisoformat(record.finished_at or record.started_at)
    problem = record.problem[:MAX_PROBLEM] if record.problem else None
    return ForwardReport(record.scan_id, Forwarding(record.state.value), at, problem)
