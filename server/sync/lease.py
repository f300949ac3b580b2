"""One sync process per shop at a time: a lease row in the database that expires when its holder dies."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from server.models import SyncState

LEASE_STREAM = "lease"


def _ensure_row(session: Session, shop_id: str) -> None:
    if session.get(SyncState, (shop_id, LEASE_STREAM)) is None:
        try:
            with session.begin_nested():
                session.add(SyncState(shop_id=shop_id, stream=LEASE_STREAM))
        except IntegrityError:
            pass  # another process made it first


def acquire(sessions: sessionmaker, shop_id: str, owner: str, now: datetime, seconds: float) -> bool:
    """Take or renew the shop's lease. True when `owner` holds it until now + seconds."""
    with sessions() as session:
        _ensure_row(session, shop_id)
        result = session.execute(
            update(SyncState)
            .where(
                SyncState.shop_id == shop_id,
                SyncState.stream == LEASE_STREAM,
                or_(
                    SyncState.lease_owner.is_(None),
                    SyncState.lease_owner == owner,
                    SyncState.lease_until < now,
                ),
            )
            .values(lease_owner=owner, lease_until=now + timedelta(seconds=seconds))
            .execution_options(synchronize_session=False)
        )
        session.commit()
        return result.rowcount == 1


def release(sessions: sessionmaker, shop_id: str, owner: str) -> None:
    with sessions() as session:
        session.execute(
            update(SyncState)
            .where(
                SyncState.shop_id == shop_id, SyncState.stream == LEASE_STREAM, SyncState.lease_owner == owner
            )
            .values(lease_owner=None, lease_until=None)
            .execution_options(synchronize_session=False)
        )
        session.commit()
