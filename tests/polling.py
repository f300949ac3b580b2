"""The one way tests wait for what another thread or process does: poll a condition until a
deadline. Never a bare sleep as synchronisation, never an assertion on elapsed time."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(predicate: Callable[[], object], timeout: float = 5.0, interval: float = 0.01) -> bool:
    """True as soon as `predicate()` is truthy; False if it is still falsy after `timeout` seconds
    (checked once more at the deadline). The deadline is on the monotonic clock, so a test that
    moves the business clock, or a machine clock set a year ahead, does not change it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
