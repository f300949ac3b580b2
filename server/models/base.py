"""Declarative base and the column helpers every model shares."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, BigInteger, DateTime, Integer, MetaData, String, event
from sqlalchemy.orm import DeclarativeBase, Mapper, attributes, object_session
from sqlalchemy.types import TypeDecorator

from server import clock

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Douyin ids are 19-digit strings everywhere (they exceed 2**53).
DouyinId = String(20)


# Timestamp columns the ORM fills from the session's clock (server/clock.py), never from the
# machine's: CREATED when the row is inserted without a value, TOUCHED also on every update that
# does not set it. Core statements (bulk inserts, upserts) give these columns explicit values.
CREATED = {"stamp": "created"}
TOUCHED = {"stamp": "touched"}


class UTCDateTime(TypeDecorator):
    """Timestamps are stored in UTC and always come back timezone-aware, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class EnumText(TypeDecorator):
    """A state column: an enum's value stored as plain text (no database enum type, so the strings
    already stored stay valid and no migration is needed), read back as the enum member. `parse`
    is the enum class, or a function from a stored string to a member (for a union of enums)."""

    impl = String
    cache_ok = True

    def __init__(self, parse, length: int):
        super().__init__(length)
        self.parse = parse

    def process_bind_param(self, value, dialect):
        return None if value is None else self.parse(value).value

    def process_result_value(self, value, dialect):
        return None if value is None else self.parse(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict: JSON,
        list: JSON,
        int: BigInteger().with_variant(Integer(), "sqlite"),  # SQLite rowid needs INTEGER
    }


def _stamped(mapper: Mapper, kind: str | None = None) -> list[str]:
    return [
        prop.key
        for prop in mapper.column_attrs
        if prop.columns[0].info.get("stamp") in ((kind,) if kind else ("created", "touched"))
    ]


@event.listens_for(Base, "before_insert", propagate=True)
def _stamp_insert(mapper: Mapper, _connection, target) -> None:
    keys = [key for key in _stamped(mapper) if getattr(target, key) is None]
    if keys:
        now = clock.of(object_session(target)).now()
        for key in keys:
            setattr(target, key, now)


@event.listens_for(Base, "before_update", propagate=True)
def _stamp_update(mapper: Mapper, _connection, target) -> None:
    keys = _stamped(mapper, "touched")
    session = object_session(target)
    if not keys or not session.is_modified(target, include_collections=False):
        return
    now = clock.of(session).now()
    for key in keys:
        if not attributes.get_history(target, key).has_changes():
            setattr(target, key, now)
