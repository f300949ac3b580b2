"""Who did it, by name: the console shows people, never `operator:L001` or `user:lead1`.

Actors are recorded as "operator:<badge>" (a lead at the bench), "user:<name>" (a console user),
"ip:<address>" (a failed sign-in) or "system". `label(actor, names)` is pure; `who(actor)` is the
template filter, with the badge → name map read once per request.
"""

from __future__ import annotations

from flask import g
from sqlalchemy import select

from server.db import get_session
from server.models import Operator


def label(actor: str | None, names: dict[str, str]) -> str:
    if not actor:
        return "—"
    kind, _, value = actor.partition(":")
    if kind == "operator" and value:
        name = names.get(value)
        return f"{name}（工牌 {value}）" if name else f"工牌 {value}"
    if kind == "user" and value:
        return value
    if kind == "ip" and value:
        return f"来自 {value}"
    if actor == "system":
        return "系统"
    return actor


def operator_names() -> dict[str, str]:
    names = g.get("operator_names")
    if names is None:
        names = {badge: name for badge, name in get_session().execute(select(Operator.badge, Operator.name))}
        g.operator_names = names
    return names


def who(actor: str | None) -> str:
    """Template filter: an actor string as a person's name."""
    return label(actor, operator_names())


def badge(value: str | None) -> str:
    """Template filter: a badge (e.g. a heartbeat's operator) as a person's name."""
    return who(f"operator:{value}") if value else "—"
