"""`shipgate-server`: the command line for IT. Each command builds what it needs from settings."""

from __future__ import annotations

import logging
import sys

import click
from sqlalchemy.orm import Session

from server import db
from server.settings import Settings, SettingsError

log = logging.getLogger("shipgate")


class Context:
    """Lazily built settings and engine, shared by the commands of one invocation."""

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._engine = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = Settings.from_env()
            except SettingsError as exc:
                raise click.ClickException(str(exc)) from exc
        return self._settings

    @property
    def engine(self):
        if self._engine is None:
            self._engine = db.make_engine(self.settings.resolved_database_url)
            db.upgrade(self._engine)
        return self._engine

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)


pass_ctx = click.make_pass_decorator(Context, ensure=True)


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """Shipgate server: the gate, the Douyin sync and the leads' console."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    ctx.ensure_object(Context)


@main.command()
@click.option("--host", default=None, help="Address to listen on (default SHIPGATE_HOST or 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default SHIPGATE_PORT or 8080).")
@pass_ctx
def serve(ctx: Context, host: str | None, port: int | None) -> None:
    """Run the server with waitress (the database is migrated first)."""
    from waitress import serve as waitress_serve

    from server.app import create_app

    settings = ctx.settings
    app = create_app(settings, engine=ctx.engine, migrate=False)
    host, port = host or settings.host, port or settings.port
    log.info("Shipgate server on http://%s:%s (database %s)", host, port, ctx.engine.url.render_as_string())
    options = {"threads": settings.threads, "ident": "shipgate", "channel_timeout": 30}
    if settings.trusted_proxy:
        options.update(
            trusted_proxy="127.0.0.1", trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto"}
        )
    waitress_serve(app, host=host, port=port, **options)


@main.group(name="db")
def db_group() -> None:
    """Database schema."""


@db_group.command()
@pass_ctx
def upgrade(ctx: Context) -> None:
    """Migrate the database to the newest schema (safe to run again)."""
    engine = db.make_engine(ctx.settings.resolved_database_url)
    db.upgrade(engine)
    click.echo(f"database at head: {engine.url.render_as_string()}")


@main.group()
def station() -> None:
    """Bench and handover stations."""


@station.command(name="add")
@click.argument("name")
@click.option("--warehouse", default="main", show_default=True, help="The warehouse the station belongs to.")
@click.option("--mode", type=click.Choice(["bench", "handover"]), default="bench", show_default=True)
@pass_ctx
def station_add(ctx: Context, name: str, warehouse: str, mode: str) -> None:
    """Enrol a station and print its token (shown this once only)."""
    from server.stations import enrol

    with ctx.session() as session:
        try:
            _station, token = enrol(session, name, warehouse, mode=mode)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        session.commit()
    click.echo(token)


@station.command(name="list")
@pass_ctx
def station_list(ctx: Context) -> None:
    """List stations with their warehouse and last heartbeat."""
    from sqlalchemy import select

    from server.models import Station

    with ctx.session() as session:
        for s in session.scalars(select(Station).order_by(Station.name)):
            state = "revoked" if s.revoked_at else "active"
            seen = s.last_seen_at.isoformat(timespec="seconds") if s.last_seen_at else "never"
            click.echo(f"{s.name}\t{s.warehouse.name}\t{s.mode}\t{state}\tlast seen {seen}\t…{s.token_hint}")


@station.command(name="revoke")
@click.argument("name")
@pass_ctx
def station_revoke(ctx: Context, name: str) -> None:
    """Revoke a station's token at once."""
    from sqlalchemy import select

    from server.models import Station
    from server.stations import revoke

    with ctx.session() as session:
        found = session.scalar(select(Station).where(Station.name == name))
        if found is None:
            raise click.ClickException(f"no station named {name!r}")
        revoke(session, found, actor="cli")
        session.commit()
    click.echo(f"revoked {name}")


if __name__ == "__main__":
    main()
