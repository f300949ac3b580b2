"""`shipgate-server user …`: console accounts from the command line (the first admin, a lost
password). The context object is anything with `session()` returning a SQLAlchemy Session
(server.cli.Context); `main.add_command(user)` plugs the group in."""

from __future__ import annotations

import click
from sqlalchemy import select

from server.console import accounts
from server.console.errors import FieldError
from server.models.users import Role, User

ACTOR = "cli"


@click.group()
def user() -> None:
    """Console users (leads and admins)."""


@user.command(name="add")
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True, help="lead or admin.")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Prompted (twice) if not given.",
)
@click.option("--warehouse", default=None, help="Bind a lead to one warehouse (default: all warehouses).")
@click.pass_obj
def user_add(ctx, name: str, role: str, password: str, warehouse: str | None) -> None:
    """Add a console user."""
    with ctx.session() as session:
        warehouse_id = None
        if warehouse is not None:
            found = accounts.warehouse_named(session, warehouse)
            if found is None:
                raise click.ClickException(f"no warehouse named {warehouse!r}")
            warehouse_id = found.id
        try:
            accounts.create_user(session, name, password, Role(role), warehouse_id, actor=ACTOR)
        except FieldError as exc:
            raise click.ClickException(f"{exc.field}: {exc.message}") from exc
        session.commit()
    click.echo(f"added {role} {name}")


@user.command(name="list")
@click.pass_obj
def user_list(ctx) -> None:
    """List console users."""
    with ctx.session() as session:
        for u in session.scalars(select(User).order_by(User.name)):
            where = u.warehouse.name if u.warehouse else "all warehouses"
            state = "active" if u.active else "disabled"
            seen = u.last_login_at.isoformat(timespec="seconds") if u.last_login_at else "never"
            click.echo(f"{u.name}\t{u.role}\t{where}\t{state}\tlast sign-in {seen}")


@user.command(name="disable")
@click.argument("name")
@click.pass_obj
def user_disable(ctx, name: str) -> None:
    """Disable a user: their sessions end at their next request."""
    _change(ctx, name, lambda session, found: accounts.set_active(session, found, False, actor=ACTOR))
    click.echo(f"disabled {name}")


@user.command(name="password")
@click.argument("name")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Prompted (twice) if not given.",
)
@click.pass_obj
def user_password(ctx, name: str, password: str) -> None:
    """Set a user's password (signs them out everywhere)."""
    _change(ctx, name, lambda session, found: accounts.set_password(session, found, password, actor=ACTOR))
    click.echo(f"password changed for {name}")


def _change(ctx, name: str, change) -> None:
    with ctx.session() as session:
        found = accounts.user_named(session, name)
        if found is None:
            raise click.ClickException(f"no user named {name!r}")
        try:
            change(session, found)
        except FieldError as exc:
            raise click.ClickException(exc.message) from exc
        session.commit()
