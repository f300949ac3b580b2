"""Sign-in throttling, kept in the database so every server process sees the same counts.

Keys are per user name ("user:<name>": five failures within fifteen minutes lock the name for
five minutes) and per client address ("ip:<address>": thirty, so one warehouse behind a shared
NAT address is not locked out by a few typos, while trying one password on many accounts still
is). An attempt is counted *before* its password is checked, in one atomic UPDATE committed
first, so parallel guesses cannot check more passwords than the limit; a good sign-in gives the
address its attempt back and clears the name.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.db import begin_write
from server.models.users import LoginThrottle

LOCK_FOR = timedelta(minutes=5)
WINDOW = timedelta(minutes=15)
LIMITS = {"user": 5, "ip": 30}
MAX_FAILURES = LIMITS["user"]


def keys_for(name: str, address: str | None) -> list[str]:
    return [f"user:{name.strip().lower()[:64]}", f"ip:{(address or 'unknown')[:64]}"]


def _limit(key: str) -> int:
    return LIMITS[key.split(":", 1)[0]]


def locked_until(session: Session, keys: list[str], now: datetime) -> datetime | None:
    """When the latest lock on any of `keys` ends, or None when none is locked now."""
    ends = session.scalars(
        select(LoginThrottle.locked_until).where(
            LoginThrottle.key.in_(keys), LoginThrottle.locked_until > now
        )
    ).all()
    return max(ends) if ends else None


def _count(session: Session, key: str, now: datetime) -> int:
    """Add one to a key's count (a new window starts at 1), atomically; return the new count."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        dialect.insert(LoginThrottle)
        .values(key=key, failures=0, window_started_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    # A new window after the old one ran out, or after a lock ended. A lock never resets the
    # count itself: an attempt waiting on the row must see the count that locked it.
    fresh = or_(LoginThrottle.window_started_at < now - WINDOW, LoginThrottle.locked_until <= now)
    return session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == key)
        .values(
            failures=case((fresh, 1), else_=LoginThrottle.failures + 1),
            window_started_at=case((fresh, now), else_=LoginThrottle.window_started_at),
            locked_until=case((fresh, None), else_=LoginThrottle.locked_until),
        )
        .returning(LoginThrottle.failures)
        .execution_options(synchronize_session=False)
    ).scalar_one()


def _lock(session: Session, key: str, now: datetime) -> datetime:
    until = now + LOCK_FOR
    session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == key)
        .values(locked_until=until)
        .execution_options(synchronize_session=False)
    )
    return until


def reserve(session: Session, keys: list[str], now: datetime) -> datetime | None:
    """Count an attempt against every key before its password is checked, and commit. Returns
    the end of a lock when the attempt must be refused unchecked (a key is locked, or the
    attempts already in flight fill its limit, which then locks it)."""
    begin_write(session)
    until = locked_until(session, keys, now)
    if until is None:
        for key in keys:
            if _count(session, key, now) > _limit(key):
                until = _lock(session, key, now)
    session.commit()
    return until


def record_failure(session: Session, keys: list[str], now: datetime) -> datetime | None:
    """A checked password was wrong (its attempt is already counted). Returns the lock's end if
    this failure filled a key's limit."""
    begin_write(session)
    locked = None
    counts = select(LoginThrottle.key, LoginThrottle.failures).where(LoginThrottle.key.in_(keys))
    for key, failures in session.execute(counts).all():
        if failures >= _limit(key):
            locked = _lock(session, key, now)
    return locked


def record_success(session: Session, keys: list[str]) -> None:
    """A good password clears the account's count and gives the address its attempt back (not
    more: one good account must not reset the count of someone trying many)."""
    user_key, address_key = keys
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == user_key))
    session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == address_key, LoginThrottle.failures > 0)
        .values(failures=LoginThrottle.failures - 1)
        .execution_options(synchronize_session=False)
    )
