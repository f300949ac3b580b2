"""Bookmark arithmetic for incremental pulls. Pure functions, Unix seconds.

A pull asks for records updated in [start, end]. `end` is the moment the pass began (a
"signpost"): the bookmark never moves past it, so records written during the pass are read by
the next one. `start` reaches back `overlap` seconds before the bookmark, because Douyin's index
lags writes a little; re-reading is harmless since every write is an upsert on Douyin's id.
"""

from __future__ import annotations

from dataclasses import dataclass

DAY = 86_400
MAX_LOOKBACK = 90 * DAY - 3_600  # order.searchList only serves the last 90 days (20022)


@dataclass(frozen=True)
class Window:
    start: int
    end: int

    @property
    def span(self) -> int:
        return self.end - self.start


def window_for(bookmark: int, now: int, *, overlap: int, lookback: int = MAX_LOOKBACK) -> Window | None:
    """The window the next pass should read, or None when there is nothing new to ask for."""
    floor = now - lookback
    start = max(bookmark - overlap, floor) if bookmark else floor
    return Window(start, now) if now > start else None


def halves(window: Window) -> tuple[Window, Window]:
    """Split a window whose results exceed the platform's cap. The halves share their edge
    second: a record updated exactly then is read twice, never missed."""
    middle = window.start + window.span // 2
    return Window(window.start, middle), Window(middle, window.end)


def advanced(bookmark: int, window: Window) -> int:
    """The bookmark after every record of `window` is committed: its end, never backwards."""
    return max(bookmark, window.end)


def lag(bookmark: int, now: int) -> int:
    """How far behind the platform a stream is, in seconds (0 when never synced is not lag)."""
    return max(0, now - bookmark) if bookmark else 0
