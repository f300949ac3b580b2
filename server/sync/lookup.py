"""Live look-up of a code the server does not know: ask Douyin within a bounded budget.

On a hit the order is stored through server.ingest (so the gate entry exists) and the scan is
decided on it; on a miss, timeout or error the scan is HOLD unknown_order, never PASS.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from server.clock import of as clock_of
from server.clock import timestamp
from server.douyin.errors import DouyinError, NotFound, WrongShop
from server.ingest import apply
from server.models import Shop
from server.sync.bookmarks import MAX_LOOKBACK
from server.sync.mapping import order_record
from server.sync.shops import shop_api
from shipgate.codes import Code, CodeKind

log = logging.getLogger(__name__)


class DouyinLookup:
    """A LiveLookup (see server.scans) over every registered shop, within `budget_ms` in all."""

    def __init__(
        self,
        sessions: sessionmaker,
        gateway: str,
        budget_ms: int = 800,
        *,
        clock: Callable[[], float] = time.monotonic,
        transport: httpx.BaseTransport | None = None,
    ):
        self.sessions = sessions
        self.gateway = gateway
        self.budget = budget_ms / 1000
        self.clock = clock
        self.transport = transport

    def __call__(self, session: Session, code: Code) -> bool:
        deadline = self.clock() + self.budget
        for shop in session.scalars(select(Shop).order_by(Shop.shop_id)).all():
            remaining = deadline - self.clock()
            if remaining <= 0.01:
                log.info("live look-up of %s ran out of budget", code.value)
                return False
            api, client = shop_api(
                self.sessions,
                shop,
                self.gateway,
                timeout=httpx.Timeout(remaining, connect=min(remaining, 0.2)),
                max_retries=0,
                transport=self.transport,
                rate_limit_per_s=None,
            )
            try:
                found = self._ask(api, code, timestamp(clock_of(session)))
            except DouyinError as exc:
                log.info("live look-up of %s in shop %s failed: %s", code.value, shop.shop_id, exc)
                found = None
            finally:
                client.close()
            if found is not None:
                apply(session, [order_record(shop.shop_id, found)])
                session.commit()
                return True
        return False

    def _ask(self, api, code: Code, now: int):
        if code.kind is CodeKind.ORDER_ID:
            try:
                return api.order_detail(code.value)
            except (NotFound, WrongShop):
                return None
        page = api.search_orders(
            create_time_start=now - MAX_LOOKBACK, create_time_end=now, tracking_no=code.value
        )
        return page.orders[0] if page.orders else None
