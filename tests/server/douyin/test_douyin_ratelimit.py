"""Token bucket and backoff with an injected clock and sleep."""

from __future__ import annotations

import random

import pytest

from server.douyin.backoff import Backoff, may_retry
from server.douyin.errors import (
    BadResponse,
    ConnectFailed,
    RateLimited,
    ServiceError,
    TokenExpired,
    TransportTimeout,
)
from server.douyin.ratelimit import TokenBucket


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_bucket_allows_a_burst_then_paces():
    t = FakeTime()
    bucket = TokenBucket(5, capacity=5, clock=t.clock, sleep=t.sleep)
    for _ in range(5):
        assert bucket.acquire() == 0
    waits = [bucket.acquire() for _ in range(5)]
    assert waits == pytest.approx([0.2] * 5)
    assert t.now == pytest.approx(1001.0)  # 10 calls at 5/s with a burst of 5 take one second


def test_bucket_refills_while_idle_but_not_past_capacity():
    t = FakeTime()
    bucket = TokenBucket(2, capacity=2, clock=t.clock, sleep=t.sleep)
    bucket.acquire(), bucket.acquire()
    t.now += 60
    assert [bucket.acquire() for _ in range(3)] == pytest.approx([0, 0, 0.5])


def test_bucket_rejects_a_silly_rate():
    with pytest.raises(ValueError):
        TokenBucket(0)


def test_backoff_grows_with_jitter_and_a_cap():
    backoff = Backoff(base=0.5, cap=4, rng=random.Random(1))
    delays = [backoff.delay(n) for n in range(6)]
    for n, delay in enumerate(delays):
        ceiling = min(4, 0.5 * 2**n)
        assert ceiling / 2 <= delay <= ceiling
    assert delays[-1] <= 4


@pytest.mark.parametrize(
    ("method", "error", "expected"),
    [
        ("order.searchList", ServiceError("x"), True),
        ("afterSale.List", RateLimited("x"), True),
        ("afterSale.Detail", TransportTimeout("x"), True),
        ("token.refresh", BadResponse("x"), True),
        ("order.orderDetail", TokenExpired("x"), False),
        ("afterSale.applyLogisticsIntercept", ServiceError("x"), False),
        ("afterSale.applyLogisticsIntercept", TransportTimeout("x"), False),
        ("afterSale.applyLogisticsIntercept", BadResponse("x"), False),
        ("afterSale.applyLogisticsIntercept", ConnectFailed("x"), True),
        ("afterSale.applyLogisticsIntercept", RateLimited("x"), True),
    ],
)
def test_which_failures_retry(method, error, expected):
    assert may_retry(method, error) is expected
