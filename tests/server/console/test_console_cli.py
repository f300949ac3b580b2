"""`shipgate-server user …`: add (prompting twice), list, disable, password."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.console.cli import user
from server.models import AuditLog, Warehouse
from server.models.users import User


class Obj:
    """What server.cli.Context offers the commands: session()."""

    def __init__(self, engine):
        self.engine = engine

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)


@pytest.fixture
def run(engine):
    def run(*args: str, input: str | None = None):
        return CliRunner().invoke(user, list(args), obj=Obj(engine), input=input)

    return run


def test_add_prompts_for_the_password_twice(run, session):
    result = run("add", "wang", "--role", "admin", input="long-password-1\nlong-password-1\n")
    assert result.exit_code == 0, result.output
    assert result.output.count("Password") == 1 and "Repeat for confirmation" in result.output
    stored = session.scalar(select(User).where(User.name == "wang"))
    assert (
        stored.role == "admin" and stored.password_hash.startswith("scrypt:") and stored.warehouse_id is None
    )
    assert session.scalar(select(AuditLog.actor).where(AuditLog.action == "user.add")) == "cli"


def test_add_refuses_a_mismatch_a_short_password_a_duplicate_and_an_unknown_warehouse(run, session):
    assert run("add", "wang", "--role", "lead", input="long-password-1\nother-password\n").exit_code != 0
    short = run("add", "wang", "--role", "lead", "--password", "short")
    assert short.exit_code == 1 and "密码至少 8 位" in short.output
    assert run("add", "wang", "--role", "lead", "--password", "long-password-1").exit_code == 0
    again = run("add", "wang", "--role", "lead", "--password", "long-password-1")
    assert again.exit_code == 1 and "该用户名已存在" in again.output
    nowhere = run("add", "li", "--role", "lead", "--password", "long-password-1", "--warehouse", "atlantis")
    assert nowhere.exit_code == 1 and "no warehouse named 'atlantis'" in nowhere.output
    assert run("add", "li", "--role", "boss", "--password", "long-password-1").exit_code == 2
    assert session.scalars(select(User.name)).all() == ["wang"]


def test_add_binds_to_a_warehouse_then_list_and_disable(run, session):
    session.add(Warehouse(name="south"))
    session.commit()
    assert (
        run("add", "li", "--role", "lead", "--password", "long-password-1", "--warehouse", "south").exit_code
        == 0
    )
    listing = run("list")
    assert "li\tlead\tsouth\tactive\tlast sign-in never" in listing.output
    assert run("disable", "li").exit_code == 0
    assert "disabled" in run("list").output
    assert run("disable", "nobody").exit_code == 1


def test_password_resets_it(run, session):
    run("add", "wang", "--role", "admin", "--password", "long-password-1")
    before = session.scalar(select(User.password_hash))
    assert run("password", "wang", input="long-password-2\nlong-password-2\n").exit_code == 0
    session.expire_all()
    assert session.scalar(select(User.password_hash)) != before
