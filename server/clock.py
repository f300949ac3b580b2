"""The server's clock: the one way business code reads the time.

Business time (when a scan arrived, when a drill is overdue, which China day a handover covers,
when a sync lease expires) is an input. The composition roots (`create_app`, the CLI commands,
the demo) build one clock and hand it down: Flask views read `current()`, code that works on a
database session reads `of(session)` (the clock travels in `session.info`, set by every session
factory the roots make with `sessions()`), and threads get it as an argument. Tests hand in a
`ManualClock` and move it. Durations and deadlines of I/O (time-outs, back-off, rate limits) are
not business time: they stay on `time.monotonic`.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

EXTENSION = "shipgate.clock"
SESSION_KEY = "clock"


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


SYSTEM = SystemClock()


class ManualClock:
    """A clock that shows what it was set to until it is moved (tests, simulations)."""

    def __init__(self, start: datetime) -> None:
        self._lock = threading.Lock()
        self._at = _aware(start)

    def now(self) -> datetime:
        with self._lock:
            return self._at

    def set(self, when: datetime) -> None:
        with self._lock:
            self._at = _aware(when)

    def advance(self, delta: timedelta | None = None, **parts: float) -> datetime:
        """Move forward by `delta` or by timedelta keywords (`advance(seconds=61)`); the new now."""
        step = (delta or timedelta()) + timedelta(**parts)
        with self._lock:
            self._at += step
            return self._at


def _aware(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("a clock shows aware datetimes: give the time zone")
    return when.astimezone(UTC)


def timestamp(clock: Clock) -> int:
    """The clock's now as Unix seconds (Douyin's time fields)."""
    return int(clock.now().timestamp())


def sessions(engine: Engine, clock: Clock, **options) -> sessionmaker[Session]:
    """A session factory whose sessions carry `clock` (read it back with `of`)."""
    options.setdefault("expire_on_commit", False)
    return sessionmaker(engine, info={SESSION_KEY: clock}, **options)


def clock_of_sessions(factory: sessionmaker) -> Clock:
    """The clock the sessions of `factory` carry (the machine's for a plain sessionmaker)."""
    return factory.kw.get("info", {}).get(SESSION_KEY, SYSTEM)


def bind(session: Session, clock: Clock) -> Session:
    """Attach `clock` to a session made without `sessions()`; the session, for chaining."""
    session.info[SESSION_KEY] = clock
    return session


def of(session: Session) -> Clock:
    """The clock of a session. A session nobody gave a clock to (a script, a benchmark) reads the
    machine's clock."""
    return session.info.get(SESSION_KEY, SYSTEM)


def current() -> Clock:
    """The clock of the running Flask app (views only)."""
    from flask import current_app

    return current_app.extensions[EXTENSION]
