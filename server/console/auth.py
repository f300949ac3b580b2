"""Signing in and out, who is signed in (`g.user`), and what their role lets them do.

A sign-in lasts one shift (12 hours from signing in, however busy the page is). Signing out,
changing a user's password or disabling them ends every session of that user at the next
request (the session carries the user's session generation, which these bump).
"""

from __future__ import annotations

import functools
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, abort, g, redirect, render_template, request, session, url_for

from server import clock
from server.console import accounts, csrf
from server.console.forms import login_form
from server.db import get_session
from server.models import AuditLog
from server.models.users import User

bp = Blueprint("auth", __name__)

SHIFT = timedelta(hours=12)
PUBLIC_ENDPOINTS = frozenset({"console.auth.login", "console.static"})


def load_user() -> None:
    """Before each console request: g.user from the session cookie, or None."""
    g.user = None
    uid = session.get("uid")
    if uid is None:
        return
    user = get_session().get(User, uid)
    expired = clock.current().now().timestamp() - session.get("since", 0) > SHIFT.total_seconds()
    if (
        user is None
        or not user.active
        or expired
        or session.get("fp") != accounts.fingerprint(user.password_hash)
        or session.get("gen") != user.session_generation
    ):
        session.clear()
        return
    g.user = user


def require_login():
    """Before each console request: anonymous visitors go to the sign-in page."""
    if g.user is None and request.endpoint not in PUBLIC_ENDPOINTS:
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("console.auth.login", next=target))
    return None


def admin_required(view):
    """Refuse (403) anyone but an admin."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.user is None or not g.user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def require_admin() -> None:
    """before_request for the admin blueprint."""
    if g.user is None or not g.user.is_admin:
        abort(403)


def actor() -> str:
    return f"user:{g.user.name}"


def check_warehouse(warehouse_id: int | None) -> None:
    """Refuse (403) a user bound to one warehouse anything of another."""
    if g.user.warehouse_id is not None and warehouse_id != g.user.warehouse_id:
        abort(403)


def scope_from_request() -> int | None:
    """The warehouse to show: the user's own, or the one picked (?warehouse=) by an unbound user."""
    if g.user.warehouse_id is not None:
        return g.user.warehouse_id
    picked = request.args.get("warehouse", "")
    return int(picked) if picked.isdigit() and len(picked) < 10 else None


def safe_next(target: str | None) -> str:
    """Only a path on this site; anything else goes to the queue. Checked on what a browser would
    follow: browsers drop tabs and newlines and read a backslash as a slash, so any control
    character, whitespace or backslash refuses the target outright."""
    fallback = url_for("console.queue.index")
    if not target or any(c.isspace() or not c.isprintable() or c == "\\" for c in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return fallback
    return target


def start_session(user: User) -> None:
    session.clear()
    session.permanent = True
    session.update(
        uid=user.id,
        since=clock.current().now().timestamp(),
        fp=accounts.fingerprint(user.password_hash),
        gen=user.session_generation,
    )
    csrf.rotate()


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in; on success, on to where the user was going."""
    if g.user is not None and request.method == "GET":
        return redirect(safe_next(request.args.get("next")))
    form = login_form(request.form if request.method == "POST" else {})
    if request.method == "GET" or not form.ok:
        return render_template("console/login.html", form=form), 200 if request.method == "GET" else 400
    db = get_session()
    result = accounts.authenticate(
        db, form.values["name"], form.values["password"], request.remote_addr, clock.current().now()
    )
    db.commit()
    if result.user is None:
        form.error("password", result.error)
        return render_template("console/login.html", form=form), 401
    start_session(result.user)
    return redirect(safe_next(request.args.get("next")))


@bp.post("/logout")
def logout():
    """Sign out."""
    db = get_session()
    db.add(AuditLog(actor=actor(), action="auth.logout"))
    accounts.end_sessions(g.user)  # a cookie copied before signing out is worth nothing after
    db.commit()
    session.clear()
    return redirect(url_for("console.auth.login"))
