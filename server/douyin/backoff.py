"""Exponential backoff with jitter, and which failures of which methods may be retried."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from server.douyin.errors import ConnectFailed, DouyinError, RateLimited, ServiceError

# Methods that change nothing: any transient failure may be retried.
READ_ONLY_METHODS = frozenset(
    {"order.searchList", "order.orderDetail", "afterSale.List", "afterSale.Detail", "token.refresh"}
)


@dataclass
class Backoff:
    """Delay before retry number `attempt` (0-based): half fixed, half random ("equal jitter")."""

    base: float = 0.5
    cap: float = 10.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int) -> float:
        ceiling = min(self.cap, self.base * (2**attempt))
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)


def may_retry(method: str, error: DouyinError) -> bool:
    """Read-only methods retry on 20000, 60000 and transport failures.

    Other methods (afterSale.applyLogisticsIntercept, token.create) retry only when the platform
    provably did nothing: the connection never opened, or the gateway refused with 60000 before
    dispatching. A 20000 or a timeout on a write is ambiguous and goes back to the caller.
    """
    if method in READ_ONLY_METHODS:
        return isinstance(error, ServiceError | RateLimited)
    return isinstance(error, ConnectFailed | RateLimited)
