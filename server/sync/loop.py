"""The sync worker process: every shop, one pass after another, plus pushes left unapplied."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from server.clock import Clock, sessions, timestamp
from server.clock import of as clock_of
from server.models import Shop, SyncState, WebhookMessage
from server.settings import Settings
from server.sync.bookmarks import lag
from server.sync.push import apply_pending, signers_of
from server.sync.shops import shop_api
from server.sync.worker import STREAMS, ShopSync, SyncReport

log = logging.getLogger(__name__)


@dataclass
class PassReport:
    report: SyncReport

    def summary(self) -> str:
        r = self.report
        if r.skipped:
            return f"shop {r.shop_id}: skipped (another process holds the lease)"
        counts = ", ".join(f"{k} {v}" for k, v in r.records.items())
        state = f"error {r.error}" if r.error else "ok"
        return f"shop {r.shop_id}: {state}; {counts}; windows {r.windows}, splits {r.splits}"


class SyncLoop:
    def __init__(self, sessions: sessionmaker, gateway: str, *, overlap: int = 300, owner: str | None = None):
        self.sessions = sessions
        self.gateway = gateway
        self.overlap = overlap
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}"
        self._stop = threading.Event()

    @classmethod
    def from_settings(cls, settings: Settings, engine: Engine, clock: Clock) -> SyncLoop:
        return cls(
            sessions(engine, clock),
            settings.douyin_gateway,
            overlap=settings.sync_overlap_s,
        )

    def run_pass(self) -> list[PassReport]:
        try:
            self.apply_unapplied_pushes()
        except Exception:  # noqa: BLE001 - queued pushes must never stop the pull
            log.exception("applying queued pushes failed; pulling anyway")
        with self.sessions() as session:
            shops = session.scalars(select(Shop).order_by(Shop.shop_id)).all()
        reports = []
        for shop in shops:
            api, client = shop_api(self.sessions, shop, self.gateway)
            try:
                worker = ShopSync(self.sessions, shop.shop_id, api, owner=self.owner, overlap=self.overlap)
                reports.append(PassReport(worker.run_once()))
            finally:
                client.close()
        return reports

    def apply_unapplied_pushes(self) -> int:
        with self.sessions() as session:
            pending = session.scalars(
                select(WebhookMessage)
                .where(WebhookMessage.applied_at.is_(None), WebhookMessage.error.is_(None))
                .order_by(WebhookMessage.received_at)
                .limit(1000)
            ).all()
            if not pending:
                return 0
            applied = sum(apply_pending(session, [m], signers_of(session, m)) for m in pending)
            session.commit()
            return applied

    def run_forever(self, interval: float) -> None:
        signal.signal(signal.SIGTERM, lambda *_: self._stop.set())
        log.info("sync loop %s every %.0f s against %s", self.owner, interval, self.gateway)
        while not self._stop.is_set():
            started = time.monotonic()
            for report in self.run_pass():
                log.info(report.summary())
            self._stop.wait(max(0.0, interval - (time.monotonic() - started)))


def status_lines(session: Session) -> list[str]:
    now = timestamp(clock_of(session))
    lines = []
    for shop in session.scalars(select(Shop).order_by(Shop.shop_id)):
        for stream in STREAMS:
            state = session.get(SyncState, (shop.shop_id, stream))
            if state is None:
                lines.append(f"{shop.shop_id}\t{stream}\tnever synced")
                continue
            success = (
                state.last_success_at.isoformat(timespec="seconds") if state.last_success_at else "never"
            )
            error = f"\tlast error: {state.last_error}" if state.last_error else ""
            lines.append(
                f"{shop.shop_id}\t{stream}\tlag {lag(state.bookmark, now)} s\tlast success {success}"
                f"\trecords {state.records_total}{error}"
            )
    return lines
