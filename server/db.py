"""The database: engine and sessions, migrations, and the Flask glue (`init_app`)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from flask import Flask, current_app, g
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from server.clock import EXTENSION as CLOCK
from server.clock import Clock, sessions

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine tuned for the gate: SQLite in WAL mode with a busy timeout, or PostgreSQL."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            _create_private(Path(path))
        # Enough pooled connections for every waitress thread plus the journal writer: an overflow
        # connection is opened (and its pragmas run) per checkout and closed again, which costs.
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=pool_size * 2,
            max_overflow=pool_size * 2,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _create_private(path: Path) -> None:
    """Create the SQLite file 0600 before SQLite opens it (its folder 0700 when new): SQLite makes
    the -wal and -shm files with the database file's mode, so they are private too, whatever the
    umask. An existing file keeps its mode."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def begin_write(session: Session) -> None:
    """Start the session's transaction as a write transaction now.

    On SQLite a transaction that reads and then writes fails with "database is locked", without
    waiting, when another connection committed in between (WAL snapshot conflict). BEGIN IMMEDIATE
    takes the write lock first (waiting for it with the busy timeout), so the reads that follow are
    current. PostgreSQL needs nothing. Call before the first statement of a unit of work that writes.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    dbapi = connection.connection.dbapi_connection
    if not dbapi.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def alembic_config(url: str):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` with Alembic, on the engine's own connection."""
    from alembic import command

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def init_app(app: Flask, engine: Engine, clock: Clock) -> None:
    app.extensions["shipgate.engine"] = engine
    app.extensions[CLOCK] = clock
    app.extensions["shipgate.sessions"] = sessions(engine, clock)
    app.teardown_appcontext(_close_session)


def raw_cursor():
    """A DBAPI cursor on the request's raw connection, for the scan path's prepared statements.

    On PostgreSQL that connection reads in autocommit: a read needs no transaction, and one left
    open would cost a BEGIN before the first read, a ROLLBACK when the pool takes the connection
    back, and psycopg's prepared statements (which every ROLLBACK clears). The journal opens a
    transaction only where a write must be atomic (server/journal.py). SQLite is unchanged: its
    driver opens a transaction only before a write anyway."""
    if "db_raw" not in g:
        engine = current_app.extensions["shipgate.engine"]
        raw = engine.raw_connection()
        if engine.dialect.name == "postgresql":
            raw.dbapi_connection.autocommit = True  # idle after the pool's pre-ping
        g.db_raw = raw
    return g.db_raw.cursor()


def get_session() -> Session:
    """The request's session, opened on first use and closed at teardown."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["shipgate.sessions"]()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
    raw = g.pop("db_raw", None)
    if raw is not None:
        _back_to_transactions(raw)
        raw.close()  # back to the pool, which rolls back anything left open


def _back_to_transactions(raw) -> None:
    """Undo raw_cursor's autocommit before the pool hands the connection to a session; a
    connection that cannot be reset is dropped from the pool instead."""
    dbapi = raw.dbapi_connection
    if dbapi is None or getattr(dbapi, "autocommit", False) is not True:
        return
    try:
        dbapi.rollback()  # nothing is open on the scan path; this only guards a failed journal write
        dbapi.autocommit = False
    except Exception:  # noqa: BLE001 - e.g. the server went away: never reuse this connection
        raw.invalidate()
