"""The pull sync: per shop, orders then after-sales, each from its bookmark, window by window.

A page's records are committed together; a stream's bookmark moves only after every record of
its window is committed. Windows whose results exceed the platform's cap are split in halves, and
so is a window the platform refuses to page through (20013, 40004 isv.parameter-invalid:20013):
what was already ingested is ingested again, harmlessly (upserts).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from server.clock import clock_of_sessions
from server.douyin.api import ShopApi
from server.douyin.errors import DouyinError, NotFound, ResultCapExceeded
from server.ingest import apply
from server.metrics import SYNC_RECORDS
from server.models import SyncState
from server.sync import lease
from server.sync.bookmarks import Window, advanced, halves, window_for
from server.sync.mapping import after_sale_record, order_record

log = logging.getLogger(__name__)

ORDER_CAP = 50_000  # order.searchList result cap (20013: "最多支持查询5万")
AFTERSALE_CAP = 50_000  # afterSale.List: page * size <= 50,000
PAGE_SIZE = 100
STREAMS = ("orders", "aftersales")


@dataclass
class SyncReport:
    shop_id: str
    records: dict[str, int] = field(default_factory=dict)
    windows: int = 0
    splits: int = 0
    error: str | None = None
    skipped: bool = False  # another process holds the shop's lease


class LeaseLost(RuntimeError):
    pass


class SyncConflict(RuntimeError):
    pass


class ShopSync:
    """Pull one shop. Built per pass by the sync loop; everything it needs is handed in."""

    def __init__(
        self,
        sessions: sessionmaker,
        shop_id: str,
        api: ShopApi,
        *,
        owner: str,
        overlap: int = 300,
        lease_seconds: float = 120.0,
        clock: Callable[[], float] | None = None,
        page_size: int = PAGE_SIZE,
        order_cap: int = ORDER_CAP,
        aftersale_cap: int = AFTERSALE_CAP,
    ):
        self.sessions = sessions
        self.shop_id = shop_id
        self.api = api
        self.owner = owner
        self.overlap = overlap
        self.lease_seconds = lease_seconds
        # Unix seconds on the platform's business clock (bookmarks); the lease and the status
        # stamps read the same clock. Default: the clock the sessions carry.
        self.clock = clock or (lambda: clock_of_sessions(sessions).now().timestamp())
        self.page_size = page_size
        self.caps = {"orders": order_cap, "aftersales": aftersale_cap}

    def run_once(self) -> SyncReport:
        report = SyncReport(self.shop_id)
        if not self._hold_lease():
            report.skipped = True
            return report
        try:
            for stream in STREAMS:
                report.records[stream] = self._sync_stream(stream, report)
        except (DouyinError, LeaseLost, SyncConflict, SQLAlchemyError) as exc:
            report.error = f"{type(exc).__name__}: {exc}"
            self._record_error(report.error)
            log.warning("sync of shop %s stopped: %s", self.shop_id, report.error)
        finally:
            lease.release(self.sessions, self.shop_id, self.owner)
        return report

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def _hold_lease(self) -> bool:
        return lease.acquire(self.sessions, self.shop_id, self.owner, self._now(), self.lease_seconds)

    def _sync_stream(self, stream: str, report: SyncReport) -> int:
        now = int(self.clock())
        with self.sessions() as session:
            state = session.get(SyncState, (self.shop_id, stream))
            bookmark = state.bookmark if state else 0
        window = window_for(bookmark, now, overlap=self.overlap)
        if window is None:
            return 0
        count = self._drain(stream, window, report)
        with self.sessions() as session:
            state = session.get(SyncState, (self.shop_id, stream)) or SyncState(
                shop_id=self.shop_id, stream=stream
            )
            session.add(state)
            state.bookmark = advanced(state.bookmark or 0, window)
            state.last_success_at = self._now()
            state.last_error = None
            state.records_total = (state.records_total or 0) + count
            session.commit()
        return count

    def _drain(self, stream: str, window: Window, report: SyncReport) -> int:
        """Ingest every record of a window, splitting it while it is over the cap."""
        report.windows += 1
        try:
            items, total, more = self._fetch(stream, window, 0)
        except ResultCapExceeded:
            total, items, more = self.caps[stream] + 1, [], False
        if total > self.caps[stream] and window.span > 1:
            report.splits += 1
            return sum(self._drain(stream, half, report) for half in halves(window))
        count = self._ingest(stream, items)
        page = 1
        while more:
            if not self._hold_lease():
                raise LeaseLost(f"lease on shop {self.shop_id} taken by another process")
            try:
                items, total, more = self._fetch(stream, window, page)
            except ResultCapExceeded:
                if window.span <= 1:
                    raise
                report.splits += 1
                return count + sum(self._drain(stream, half, report) for half in halves(window))
            count += self._ingest(stream, items)
            page += 1
        return count

    def _fetch(self, stream: str, window: Window, page: int) -> tuple[list, int, bool]:
        if stream == "orders":
            result = self.api.search_orders(
                update_time_start=window.start, update_time_end=window.end, page=page, size=self.page_size
            )
            more = (page + 1) * self.page_size < result.total and bool(result.orders)
            return list(result.orders), result.total, more
        result = self.api.list_aftersales(
            update_start_time=window.start, update_end_time=window.end, page=page, size=self.page_size
        )
        return list(result.items), result.total, result.has_more and bool(result.items)

    def _ingest(self, stream: str, items: list) -> int:
        if not items:
            return 0
        if stream == "orders":
            orders, after_sales = [order_record(self.shop_id, o) for o in items], []
        else:
            orders, after_sales = [], [after_sale_record(a) for a in items]
        for attempt in range(3):
            try:
                self._store(orders, after_sales)
                break
            except IntegrityError:
                # A push inserted one of these orders between our read and our write: read again.
                log.info(
                    "sync of shop %s raced a push (attempt %d); retrying the page", self.shop_id, attempt + 1
                )
        else:
            raise SyncConflict(f"shop {self.shop_id}: a page kept conflicting with concurrent writes")
        SYNC_RECORDS.labels(stream).inc(len(items))
        return len(items)

    def _store(self, orders: list, after_sales: list) -> None:
        with self.sessions() as session:
            result = apply(session, orders, after_sales, now=self.clock())
            if result.missing_orders:  # after-sales of orders outside the order window: fetch them
                fetched = []
                for order_id in sorted(result.missing_orders):
                    try:
                        fetched.append(order_record(self.shop_id, self.api.order_detail(order_id)))
                    except NotFound:
                        log.warning("after-sale for order %s that Douyin does not know", order_id)
                missing = [a for a in after_sales if a.order_id in result.missing_orders]
                apply(session, fetched, missing, now=self.clock())
            session.commit()

    def _record_error(self, error: str) -> None:
        with self.sessions() as session:
            for stream in STREAMS:
                state = session.get(SyncState, (self.shop_id, stream)) or SyncState(
                    shop_id=self.shop_id, stream=stream
                )
                session.add(state)
                state.last_error = error[:500]
                state.last_error_at = self._now()
            session.commit()
