"""Deterministic shop history from a seed, and bulk after-sales for benchmarks.

History goes through the same SandboxShop operations as live changes (at past times, without
pushes), so every generated record is one the live sandbox could have produced.
"""

from __future__ import annotations

from douyin_sandbox.shop import SandboxShop


class _Timeline:
    """One order's events: each strictly after the previous, never after `now`."""

    def __init__(self, start: float, now: int) -> None:
        self.t = start
        self.now = now

    def step(self, shop: SandboxShop, low: float, high: float) -> int | None:
        candidate = self.t + shop.ids.rng.uniform(low, high)
        if candidate >= self.now:
            return None
        self.t = candidate
        return int(candidate)


def _refund(shop: SandboxShop, line: _Timeline, order_id: str, sku_order_id: str | None = None) -> None:
    rng = shop.ids.rng
    when = line.step(shop, 300, 7200)
    if when is None:
        return
    with shop.at(when):
        record = shop.apply_refund(order_id, sku_order_id=sku_order_id)
    fate = rng.random()
    when = line.step(shop, 600, 86400)
    if when is None or fate < 0.2:
        return  # still pending
    with shop.at(when):
        if fate < 0.85:
            shop.succeed_refund(record.aftersale_id)
        else:
            shop.close_refund(record.aftersale_id)


def populate(shop: SandboxShop, n_orders: int, history_days: int) -> None:
    """Create `n_orders` orders over the last `history_days`, in every state the gate meets."""
    rng, now = shop.ids.rng, shop.now()
    first = now - history_days * 86400
    starts = sorted(rng.uniform(first, now - 60) for _ in range(n_orders))
    with shop.bulk():
        for start in starts:
            line = _Timeline(start, now)
            with shop.at(int(start)):
                order = shop.create_order()
            fate = rng.random()
            if fate < 0.05:
                when = line.step(shop, 60, 3600)
                if when is not None:
                    with shop.at(when):
                        shop.cancel(order.order_id)
            elif fate < 0.15:
                _refund(shop, line, order.order_id)  # refund before shipping
            elif fate < 0.18 and len(order.skus) > 1:
                _refund(shop, line, order.order_id, order.skus[-1].sku_order_id)  # part of the order
            elif fate >= 0.5:
                _ship_and_maybe_more(shop, line, order.order_id)
            # else: paid and waiting to ship (备货中), what the packers are working on


def _ship_and_maybe_more(shop: SandboxShop, line: _Timeline, order_id: str) -> None:
    rng = shop.ids.rng
    when = line.step(shop, 3600, 36 * 3600)
    if when is None:
        return
    with shop.at(when):
        shop.ship(order_id)
    fate = rng.random()
    if fate < 0.08:
        _refund(shop, line, order_id)  # refund after shipping
        return
    when = line.step(shop, 86400, 4 * 86400)
    if when is None:
        return
    with shop.at(when):
        shop.deliver(order_id)
    if fate > 0.95:
        _refund(shop, line, order_id)  # return after receipt


def bulk_aftersales(
    shop: SandboxShop, count: int, *, span_seconds: int = 86400, success_ratio: float = 0.5
) -> int:
    """`count` one-line orders each with an after-sale, updates spread over the last `span_seconds`.

    For benchmarks: 100,000 take a few seconds. Returns how many after-sales the shop now has.
    """
    rng, now = shop.ids.rng, shop.now()
    step = span_seconds / max(1, count)
    with shop.bulk():
        for i in range(count):
            applied = int(now - span_seconds + i * step)
            with shop.at(applied - 600):
                order = shop.create_order(n_skus=1)
            with shop.at(applied):
                record = shop.apply_refund(order.order_id)
            if rng.random() < success_ratio:
                with shop.at(min(now, applied + int(rng.uniform(1, step * 50 + 1)))):
                    shop.succeed_refund(record.aftersale_id)
    return len(shop.aftersales)
