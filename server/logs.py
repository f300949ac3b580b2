"""Logging helpers for the server's composition roots."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable


class Sampled(logging.Filter):
    """Lets one record through per `every_s` seconds and drops the rest, counting them; the next
    record let through says how many were held back.

    For messages a server emits per request under load, such as waitress's "Task queue depth is
    N" (one line for every request that waits for a thread): written out, they cost more than
    the request. `monotonic` is the clock the interval is measured on."""

    def __init__(self, every_s: float = 60.0, monotonic: Callable[[], float] = time.monotonic):
        super().__init__()
        self._every, self._monotonic = every_s, monotonic
        self._lock = threading.Lock()
        self._last: float | None = None
        self._held = 0

    def filter(self, record: logging.LogRecord) -> bool:
        now = self._monotonic()
        with self._lock:
            if self._last is not None and now - self._last < self._every:
                self._held += 1
                return False
            held, self._held, self._last = self._held, 0, now
        if held:
            record.msg = f"{record.msg} (and {held} more like it in the last {self._every:.0f} s)"
        return True
