"""Imported at start-up by every Python process of `make test-clock` (it puts this folder on
PYTHONPATH), and only there.

libfaketime 0.9.10 with FAKETIME_DONT_FAKE_MONOTONIC=1 rewrites the deadline of
clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME), the call behind Python 3.11's time.sleep, into
an invalid one: every time.sleep raises OSError(EINVAL). Without that variable the monotonic
clock is faked too, and waits with a timeout (threading.Event.wait, Lock.acquire, queue.get: glibc
sem_clockwait, which libfaketime does not intercept) sleep until the faked deadline, i.e. hang.
So the clock-shifted runs keep the monotonic clock real and sleep with a timed Event wait, which
waits on the real monotonic clock.
"""

import os
import threading
import time

if "faketime" in os.environ.get("LD_PRELOAD", ""):

    def _sleep(seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        threading.Event().wait(seconds)

    time.sleep = _sleep
