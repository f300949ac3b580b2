"""Sampled: one line per interval from a message a server repeats per request."""

from __future__ import annotations

import logging

from server.logs import Sampled


def test_one_record_per_interval_and_the_next_says_how_many_were_held(caplog):
    now = [0.0]
    logger = logging.getLogger("shipgate.test.sampled")
    logger.addFilter(Sampled(every_s=60, monotonic=lambda: now[0]))
    with caplog.at_level(logging.WARNING, logger=logger.name):
        for depth in range(1, 6):
            logger.warning("Task queue depth is %d", depth)
            now[0] += 1
        now[0] = 61
        logger.warning("Task queue depth is %d", 9)
    assert [r.getMessage() for r in caplog.records] == [
        "Task queue depth is 1",
        "Task queue depth is 9 (and 4 more like it in the last 60 s)",
    ]
