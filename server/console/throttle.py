"""Sign-in throttling, kept in the database so every server process sees the same counts.

Five failures within fifteen minutes lock a key for five minutes. Keys are per user name
("user:<name>") and per client address ("ip:<address>"): guessing one account's password and
trying one password on many accounts are both slowed down.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.models.users import LoginThrottle

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=5)
WINDOW = timedelta(minutes=15)


def keys_for(name: str, address: str | None) -> list[str]:
    return [f"user:{name.strip().lower()[:64]}", f"ip:{(address or 'unknown')[:64]}"]


def locked_until(session: Session, keys: list[str], now: datetime) -> datetime | None:
    """When the latest lock on any of `keys` ends, or None when none is locked now."""
    ends = session.scalars(
        select(LoginThrottle.locked_until).where(
            LoginThrottle.key.in_(keys), LoginThrottle.locked_until > now
        )
    ).all()
    return max(ends) if ends else None


def record_failure(session: Session, keys: list[str], now: datetime) -> datetime | None:
    """Count a failed sign-in against every key. Returns the lock's end if this failure locked one."""
    locked = None
    for key in keys:
        row = session.get(LoginThrottle, key)
        if row is None:
            row = LoginThrottle(key=key, failures=0, window_started_at=now)
            session.add(row)
        if now - row.window_started_at > WINDOW:
            row.failures, row.window_started_at = 0, now
        row.failures += 1
        if row.failures >= MAX_FAILURES:
            row.failures, row.window_started_at = 0, now
            row.locked_until = locked = now + LOCK_FOR
    session.flush()
    return locked


def record_success(session: Session, user_key: str) -> None:
    """A good password clears the account's count (not the address's: one good account must not
    reset the count of someone trying many)."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == user_key))
