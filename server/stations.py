"""Station enrolment and authentication: tokens are shown once and stored as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import ColumnElement, bindparam, exists, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from server import clock
from server.fastsql import Prepared
from server.models import AuditLog, Station, Warehouse, warehouse_shops
from shipgate.wire import ScanMode

TOKEN_PREFIX = "sgst_"


def serves_shop(warehouse_id, shop_id: ColumnElement) -> ColumnElement[bool]:
    """The one rule of what a warehouse's stations may see, as SQL: a warehouse linked to shops
    serves only their orders; a warehouse linked to none serves every shop (a single-warehouse
    set-up). Used by the gate's look-up and by the replica feed. `warehouse_id` is a value or a
    bind parameter."""
    links = warehouse_shops.c
    linked = exists().where(links.warehouse_id == warehouse_id)
    member = exists().where(links.warehouse_id == warehouse_id, links.shop_id == shop_id)
    return or_(~linked, member)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def warehouse_named(session: Session, name: str) -> Warehouse:
    warehouse = session.scalar(select(Warehouse).where(Warehouse.name == name))
    if warehouse is None:
        warehouse = Warehouse(name=name)
        session.add(warehouse)
        session.flush()
    return warehouse


def enrol(
    session: Session,
    name: str,
    warehouse: str = "main",
    *,
    actor: str = "cli",
    mode: ScanMode = ScanMode.BENCH,
):
    """Create a station and return (station, token). The token is never stored in clear."""
    if session.scalar(select(Station.id).where(Station.name == name)) is not None:
        raise ValueError(f"a station named {name!r} already exists")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    station = Station(
        name=name,
        warehouse_id=warehouse_named(session, warehouse).id,
        token_hash=hash_token(token),
        token_hint=token[-4:],
        mode=ScanMode(mode),
    )
    session.add(station)
    session.flush()
    session.add(AuditLog(actor=actor, action="station.enrol", target=name, detail={"warehouse": warehouse}))
    return station, token


@dataclass(frozen=True)
class StationRef:
    """Who is calling: what a request needs of its station, without an ORM object."""

    id: int
    name: str
    warehouse_id: int
    mode: ScanMode


_AUTH_COLUMNS = (
    Station.id,
    Station.name,
    Station.warehouse_id,
    Station.mode,
    Station.token_hash,
    Station.revoked_at,
)


class StationAuth:
    """Bearer-token authentication for the station API, on the scan path's raw cursor.

    A token seen before is found in a small per-process cache (token hash -> station id), and the
    request reads that station's row by primary key instead of by token hash. The row is read on
    every request all the same, with its current token hash and revocation: a revocation or a new
    token committed by any process refuses the very next request.
    """

    def __init__(self, engine: Engine, cache_size: int = 4096):
        self._by_hash = Prepared(
            engine, select(*_AUTH_COLUMNS).where(Station.token_hash == bindparam("digest"))
        )
        self._by_id = Prepared(engine, select(*_AUTH_COLUMNS).where(Station.id == bindparam("id")))
        self._known: dict[str, int] = {}
        self._cache_size = cache_size

    def __call__(self, cursor, token: str) -> StationRef | None:
        """The live station a token belongs to, or None. Compared by hash, in constant time."""
        digest = hash_token(token)
        known = self._known.get(digest)
        if known is None:
            row = self._by_hash.first(cursor, {"digest": digest})
        else:
            row = self._by_id.first(cursor, {"id": known})
        if row is None or row["revoked_at"] is not None or not hmac.compare_digest(row["token_hash"], digest):
            self._known.pop(digest, None)  # revoked, re-issued or deleted: forget it
            return None
        if known is None:
            if len(self._known) >= self._cache_size:
                self._known.clear()  # more tokens than a site has stations: start afresh
            self._known[digest] = row["id"]
        return StationRef(row["id"], row["name"], row["warehouse_id"], ScanMode(row["mode"]))


def revoke(session: Session, station: Station, *, actor: str) -> None:
    station.revoked_at = clock.of(session).now()
    session.add(AuditLog(actor=actor, action="station.revoke", target=station.name))
