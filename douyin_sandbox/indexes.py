"""A sorted (time, id) index: the sandbox's stand-in for a database index on update_time."""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort

_MAX_ID = "\U0010ffff"


class TimeIndex:
    """Keeps (time, id) pairs sorted; window look-ups by bisection."""

    def __init__(self) -> None:
        self._keys: list[tuple[int, str]] = []

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, when: int, key: str) -> None:
        insort(self._keys, (when, key))

    def remove(self, when: int, key: str) -> None:
        i = bisect_left(self._keys, (when, key))
        if i < len(self._keys) and self._keys[i] == (when, key):
            del self._keys[i]

    def move(self, old: int, new: int, key: str) -> None:
        if old != new:
            self.remove(old, key)
            self.add(new, key)

    def rebuild(self, pairs: list[tuple[int, str]]) -> None:
        self._keys = sorted(pairs)

    def bounds(self, start: int | None, end: int | None) -> tuple[int, int]:
        """Positions [lo, hi) of the pairs with start <= time <= end (both ends inclusive)."""
        lo = 0 if start is None else bisect_left(self._keys, (start, ""))
        hi = len(self._keys) if end is None else bisect_right(self._keys, (end, _MAX_ID))
        return lo, max(lo, hi)

    def page(
        self, start: int | None, end: int | None, offset: int, limit: int, *, descending: bool = False
    ) -> tuple[int, list[str]]:
        """(how many pairs fall in the window, the ids of one page of them) without copying the rest."""
        lo, hi = self.bounds(start, end)
        total = hi - lo
        if descending:
            top = hi - offset
            chunk = self._keys[max(lo, top - limit) : max(lo, top)]
            return total, [k for _, k in reversed(chunk)]
        first = lo + offset
        return total, [k for _, k in self._keys[first : min(hi, first + limit)]]

    def window(self, start: int | None, end: int | None) -> list[str]:
        lo, hi = self.bounds(start, end)
        return [k for _, k in self._keys[lo:hi]]
