"""Station enrolment and authentication: tokens are shown once and stored as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import AuditLog, Station, Warehouse, utcnow

TOKEN_PREFIX = "sgst_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def warehouse_named(session: Session, name: str) -> Warehouse:
    warehouse = session.scalar(select(Warehouse).where(Warehouse.name == name))
    if warehouse is None:
        warehouse = Warehouse(name=name)
        session.add(warehouse)
        session.flush()
    return warehouse


def enrol(session: Session, name: str, warehouse: str = "main", *, actor: str = "cli", mode: str = "bench"):
    """Create a station and return (station, token). The token is never stored in clear."""
    if session.scalar(select(Station.id).where(Station.name == name)) is not None:
        raise ValueError(f"a station named {name!r} already exists")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    station = Station(
        name=name,
        warehouse_id=warehouse_named(session, warehouse).id,
        token_hash=hash_token(token),
        token_hint=token[-4:],
        mode=mode,
    )
    session.add(station)
    session.flush()
    session.add(AuditLog(actor=actor, action="station.enrol", target=name, detail={"warehouse": warehouse}))
    return station, token


def authenticate(session: Session, token: str) -> Station | None:
    """The live station a bearer token belongs to, or None. Compared by hash, in constant time."""
    digest = hash_token(token)
    station = session.scalar(select(Station).where(Station.token_hash == digest))
    if station is None or station.revoked_at is not None:
        return None
    return station if hmac.compare_digest(station.token_hash, digest) else None


def revoke(session: Session, station: Station, *, actor: str) -> None:
    station.revoked_at = utcnow()
    session.add(AuditLog(actor=actor, action="station.revoke", target=station.name))
