"""`shipgate-server`: the command line for IT. Each command builds what it needs from settings."""

from __future__ import annotations

import logging
import sys

import click
from sqlalchemy.orm import Session

from server import clock, db, gatestate, secretbox
from server.console.cli import user
from server.incidents import detect
from server.settings import Settings, SettingsError
from shipgate.wire import Decision

log = logging.getLogger("shipgate")


class Context:
    """Lazily built settings and engine, shared by the commands of one invocation."""

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._engine = None
        self.clock: clock.Clock = clock.SystemClock()  # the business clock every command hands down

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = Settings.from_env()
                secretbox.install(self._settings.data_key)
            except (SettingsError, secretbox.SecretsKeyError) as exc:
                raise click.ClickException(str(exc)) from exc
        return self._settings

    @property
    def engine(self):
        if self._engine is None:
            self._engine = db.make_engine(self.settings.resolved_database_url)
            db.upgrade(self._engine)
            detect.install(gatestate.HOOKS)  # incident detection after every gate recompute
        return self._engine

    def session(self) -> Session:
        return clock.bind(Session(self.engine, expire_on_commit=False), self.clock)


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
    from server.checkpoints import Checkpointer
    from server.incidents.robots import RobotSender
    from server.logs import Sampled

    settings = ctx.settings
    checkpointer = Checkpointer(ctx.engine).start()  # SQLite: WAL checkpoints in their own thread
    app = create_app(settings, engine=ctx.engine, migrate=False, clock=ctx.clock)
    logging.getLogger("waitress.queue").addFilter(Sampled(every_s=60))  # one line per queued request
    host, port = host or settings.host, port or settings.port
    log.info("Shipgate server on http://%s:%s (database %s)", host, port, ctx.engine.url.render_as_string())
    options = {
        "threads": settings.threads,
        "ident": "shipgate",
        "channel_timeout": 30,
        "connection_limit": settings.connection_limit,
    }
    if settings.trusted_proxy:
        options.update(
            trusted_proxy="127.0.0.1", trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto"}
        )
    sender = RobotSender(
        clock.sessions(ctx.engine, ctx.clock),
        fallback_base_url=f"http://{host}:{port}",
        extra_hosts=settings.robot_host_list,
    ).start()  # group-robot alerts leave from here; they never block a request
    try:
        waitress_serve(app, host=host, port=port, **options)
    finally:
        sender.stop()
        checkpointer.stop()


@main.command(name="data-key")
def data_key() -> None:
    """Print a new data key for SHIPGATE_DATA_KEY (or a file named by SHIPGATE_DATA_KEY_FILE)."""
    click.echo(secretbox.new_key())


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


@main.group()
def shop() -> None:
    """Douyin shops."""


@shop.command(name="add")
@click.option("--shop-id", required=True, help="The Douyin shop id.")
@click.option("--app-key", required=True, help="The app key of the Douyin app.")
@click.option("--app-secret", required=True, help="The app secret (stored; never printed or logged).")
@click.option("--auth-code", default=None, help="Tool apps (工具型): the merchant's authorisation code.")
@click.option("--name", default="", help="A display name (default: as Douyin reports it).")
@click.option(
    "--warehouse", "warehouses", multiple=True, help="A warehouse the shop ships from (repeatable)."
)
@pass_ctx
def shop_add(ctx, shop_id, app_key, app_secret, auth_code, name, warehouses) -> None:
    """Register a shop (or update its credentials) and link it to warehouses."""
    from server.models import AuditLog, Shop
    from server.stations import warehouse_named

    if not shop_id.isdigit():
        raise click.BadParameter("the shop id is a number", param_hint="--shop-id")
    with ctx.session() as session:
        found = session.get(Shop, shop_id) or Shop(shop_id=shop_id)
        session.add(found)
        found.app_key, found.app_secret, found.auth_code = app_key, app_secret, auth_code
        found.access_token = found.refresh_token = None  # new credentials, new tokens
        found.name = name or found.name or ""
        for warehouse in warehouses:
            linked = warehouse_named(session, warehouse)
            if linked not in found.warehouses:
                found.warehouses.append(linked)
        session.add(AuditLog(actor="cli", action="shop.add", target=shop_id))
        session.commit()
    click.echo(f"shop {shop_id} registered (gateway {ctx.settings.douyin_gateway})")


@main.group(invoke_without_command=True)
@click.option("--once", is_flag=True, help="One pass over every shop, then exit.")
@click.option(
    "--interval", type=float, default=None, help="Seconds between passes (SHIPGATE_SYNC_INTERVAL_S)."
)
@click.pass_context
def sync(click_ctx: click.Context, once: bool, interval: float | None) -> None:
    """Pull every shop from Douyin (a loop; `sync --once` for one pass, `sync status` to look)."""
    if click_ctx.invoked_subcommand is not None:
        return
    from server.sync.loop import SyncLoop

    ctx: Context = click_ctx.ensure_object(Context)
    loop = SyncLoop.from_settings(ctx.settings, ctx.engine, ctx.clock)
    if once:
        for report in loop.run_pass():
            click.echo(report.summary())
        return
    loop.run_forever(interval or ctx.settings.sync_interval_s)


@sync.command(name="status")
@pass_ctx
def sync_status(ctx: Context) -> None:
    """Per shop and stream: bookmark, lag, last success, last error."""
    from server.sync.loop import status_lines

    with ctx.session() as session:
        for line in status_lines(session):
            click.echo(line)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8090, show_default=True)
@click.option("--app-key", default=None, help="Default: the sandbox's own (printed at start).")
@click.option("--app-secret", default=None, help="Default: the sandbox's own (printed at start).")
@click.option("--shop-id", default=None, help="Default: the sandbox's own (printed at start).")
@click.option(
    "--push-url",
    default=None,
    help="Where to push signed messages, e.g. http://127.0.0.1:8080/webhooks/douyin",
)
@click.option("--orders", type=int, default=200, show_default=True, help="Orders generated at start.")
@click.option("--seed", type=int, default=20240601, show_default=True)
def sandbox(host, port, app_key, app_secret, shop_id, push_url, orders, seed) -> None:
    """Run a local sandbox of the Douyin open platform (loopback only; for the demo and tests)."""
    from douyin_sandbox import SandboxConfig, serve_sandbox

    config = SandboxConfig(push_url=push_url, n_orders=orders, seed=seed)
    for name, value in (("app_key", app_key), ("app_secret", app_secret), ("shop_id", shop_id)):
        if value:
            setattr(config, name, value)
    serve_sandbox(host, port, config)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8080, show_default=True, help="The console and station API.")
@click.option("--sandbox-port", type=int, default=8090, show_default=True, help="The Douyin sandbox.")
@click.option("--output", type=click.Path(), default="demo-output", show_default=True,
              help="Slips (PNG), the demo database and the station's data; emptied at start.")  # fmt: skip
@click.option("--exit-after-shift", is_flag=True, help="Stop after the scripted shift instead of serving on.")
def demo(host, port, sandbox_port, output, exit_after_shift) -> None:
    """The whole flow on embedded defaults: sandbox, server, a simulated bench, a scripted shift."""
    from pathlib import Path

    from server.demo import DemoOptions, run

    logging.getLogger().setLevel(logging.WARNING)
    for noisy in ("station", "server", "douyin_sandbox", "waitress", "escpos"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    options = DemoOptions(host=host, port=port, sandbox_port=sandbox_port, output=Path(output),
                          exit_after_shift=exit_after_shift)  # fmt: skip
    shift = run(options)
    blocked = sum(1 for _label, decision, _reason in shift.scans if decision == Decision.BLOCK)
    click.echo(
        f"scans {len(shift.scans)}, blocked {blocked}, slips {len(shift.slips)}, incidents {shift.incidents}"
    )


main.add_command(user)

if __name__ == "__main__":
    main()
