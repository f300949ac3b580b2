"""CSRF protection for the console's forms: one random token per signed-in browser session,
sent back in a hidden field (or the X-CSRF-Token header) and compared in constant time."""

from __future__ import annotations

import hmac
import secrets

from flask import abort, request, session

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SESSION_KEY = "csrf"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def token() -> str:
    """The session's token, made on first use (templates call this as csrf_token())."""
    value = session.get(SESSION_KEY)
    if not value:
        value = secrets.token_urlsafe(32)
        session[SESSION_KEY] = value
    return value


def rotate() -> None:
    """A fresh token, e.g. when someone signs in."""
    session[SESSION_KEY] = secrets.token_urlsafe(32)


def valid(sent: str | None) -> bool:
    expected = session.get(SESSION_KEY)
    if not expected or not sent:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), sent.encode("utf-8"))


def protect() -> None:
    """before_request: refuse (400) any unsafe request without the session's token."""
    if request.method not in UNSAFE_METHODS:
        return
    sent = request.form.get(FIELD) or request.headers.get(HEADER)
    if not valid(sent):
        abort(400, description="csrf")
