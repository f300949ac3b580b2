"""Signing in and out, sessions, password hashing, throttling, CSRF and the security headers."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from server.console import accounts, throttle
from server.models import AuditLog, ScanException
from server.models.users import LoginThrottle, User

PAGES = [
    "/",
    "/queue/rows",
    "/exceptions/1",
    "/orders/4800000000000000001",
    "/search?q=x",
    "/floor",
    "/floor/live",
    "/admin/",
    "/admin/audit",
    "/admin/stations/",
    "/admin/operators",
    "/admin/users",
    "/admin/shops/",
    "/admin/shops/10437917",
    "/admin/badges",
    "/admin/resolution-sheet",
]
ACTIONS = [
    "/logout",
    "/exceptions/1/clear",
    "/exceptions/1/override",
    "/admin/stations/",
    "/admin/stations/1/rename",
    "/admin/stations/1/revoke",
    "/admin/operators",
    "/admin/operators/1/active",
    "/admin/users",
    "/admin/users/1/role",
    "/admin/users/1/active",
    "/admin/shops/",
    "/admin/shops/10437917",
    "/admin/shops/10437917/reauthorise",
]


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"] == "/login?next=" + url.replace("=", "%3D")


def test_anonymous_posts_are_sent_to_sign_in_and_change_nothing(client, blocked, snapshot):
    before = snapshot(AuditLog, ScanException)
    for url in ACTIONS:
        response = client.post(url, data={"csrf_token": "x", "name": "x", "resolution": "misscan"})
        assert response.status_code == 302 and response.headers["Location"] == "/login", url
    assert snapshot(AuditLog, ScanException) == before


def test_sign_in_goes_on_to_the_page_asked_for(web, make_user, session, password):
    make_user("wang")
    response = web.client.get("/floor")
    assert response.headers["Location"] == "/login?next=/floor"
    page = web.client.get("/login?next=/floor")
    token = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    response = web.client.post(
        "/login?next=/floor", data={"name": "wang", "password": password, "csrf_token": token}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/floor"
    assert web.get("/floor").status_code == 200
    entry = session.scalar(select(AuditLog).where(AuditLog.action == "auth.login"))
    assert entry.actor == "user:wang"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "/\t/evil.example/x",  # a browser drops the tab: //evil.example/x
        "/\n/evil.example/x",
        "/\r\n/x",  # was a 500 (a newline in the Location header)
        " //evil.example/x",
        "/%09/evil.example/x",  # encoded twice: stays a path on this site, or is refused
        "http:/evil.example",
        "/\x00/x",
    ],
)
def test_sign_in_never_redirects_off_site(web, make_user, target, password):
    make_user("wang")
    page = web.client.get("/login")
    token = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    response = web.client.post(
        "/login",
        query_string={"next": target},
        data={"name": "wang", "password": password, "csrf_token": token},
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    followed = "".join(c for c in location if c.isprintable() and not c.isspace()).replace("\\", "/")
    assert followed.startswith("/") and not followed.startswith("//") and not urlsplit(followed).netloc


def test_wrong_password_is_refused_with_a_message(web, make_user):
    make_user("wang")
    response = web.login("wang", "not-the-password")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert web.get("/").status_code == 302


def test_empty_fields_are_named(web):
    response = web.login("", "")
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and "请填写用户名" in text and "请填写密码" in text


def test_disabled_user_cannot_sign_in(web, make_user):
    make_user("old", active=False)
    assert web.login("old").status_code == 401


def test_passwords_are_stored_as_scrypt_hashes_never_in_clear(session):
    user = accounts.create_user(session, "li", "s3cret-pass-word", "lead", None, actor="test")
    session.commit()
    stored = session.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored.startswith("scrypt:") and "s3cret-pass-word" not in stored
    other = accounts.create_user(session, "li2", "s3cret-pass-word", "lead", None, actor="test")
    assert other.password_hash != stored  # salted
    assert "password_hash" not in repr(user) and stored not in repr(user)


def test_signing_out_ends_the_session(as_lead, count):
    assert as_lead.post("/logout").status_code == 302
    assert as_lead.get("/").status_code == 302
    assert count(AuditLog, AuditLog.action == "auth.logout") == 1


def test_a_cookie_copied_before_signing_out_is_refused_after(as_lead, client):
    """Flask's session is a signed cookie: clearing it in one browser does not end a copy of it.
    The session's generation does."""
    assert as_lead.get("/").status_code == 200
    stolen = client.get_cookie("shipgate_session").value
    assert as_lead.post("/logout").status_code == 302
    client.set_cookie("shipgate_session", stolen)
    assert client.get("/").status_code == 302  # to the sign-in page


def test_a_shift_lasts_twelve_hours(as_lead):
    with as_lead.client.session_transaction() as cookie:
        cookie["since"] -= 11 * 3600
    assert as_lead.get("/").status_code == 200
    with as_lead.client.session_transaction() as cookie:
        cookie["since"] -= 2 * 3600
    assert as_lead.get("/").status_code == 302


def test_disabling_or_a_new_password_ends_existing_sessions(as_lead, session):
    user = session.scalar(select(User).where(User.name == "lead"))
    accounts.set_password(session, user, "another-password-1", actor="test")
    session.commit()
    assert as_lead.get("/").status_code == 302


def test_session_cookie_is_httponly_lax_and_expires(make_user, web, app):
    make_user("wang")
    response = web.login("wang")
    cookie = response.headers["Set-Cookie"]
    assert "shipgate_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Expires=" in cookie
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=12)


def test_console_responses_carry_security_headers(client):
    response = client.get("/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert "<script>" not in response.get_data(as_text=True)  # no inline scripts anywhere
    static = client.get("/console/static/console.js")
    assert static.status_code == 200 and static.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/console/static/console.css").status_code == 200


# --- CSRF -----------------------------------------------------------------------------------


def test_sign_in_without_the_csrf_token_is_refused(client, make_user, password):
    make_user("wang")
    client.get("/login")
    response = client.post("/login", data={"name": "wang", "password": password})
    assert response.status_code == 400 and "安全校验失败" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_actions_without_the_right_csrf_token_change_nothing(as_lead, blocked, snapshot, token):
    before = snapshot(ScanException, AuditLog)
    data = {"resolution": "moved_to_refund_shelf"}
    if token is not None:
        data["csrf_token"] = token
    response = as_lead.post(f"/exceptions/{blocked[1]['exception_id']}/clear", data, csrf=False)
    assert response.status_code == 400
    assert snapshot(ScanException, AuditLog) == before


def test_csrf_token_from_another_session_is_refused(new_web, make_user, blocked, snapshot):
    make_user("a")
    make_user("b")
    first, second = new_web(), new_web()
    first.login("a")
    second.login("b")
    before = snapshot(ScanException)
    data = {"resolution": "misscan", "csrf_token": first.token()}
    assert second.post(f"/exceptions/{blocked[1]['exception_id']}/clear", data, csrf=False).status_code == 400
    assert snapshot(ScanException) == before


# --- throttling -----------------------------------------------------------------------------


def test_five_failures_lock_the_account_even_against_the_right_password(web, make_user, count):
    make_user("wang")
    for _ in range(4):
        assert web.login("wang", "wrong-password").status_code == 401
    response = web.login("wang", "wrong-password")
    assert "登录失败次数过多" in response.get_data(as_text=True)
    response = web.login("wang")  # the right password, but locked
    assert response.status_code == 401 and "登录失败次数过多" in response.get_data(as_text=True)
    assert count(AuditLog, AuditLog.action == "auth.locked") == 1
    assert count(AuditLog, AuditLog.action == "auth.login_failed") == 5


def test_a_few_failures_from_a_shared_address_do_not_lock_out_the_others_behind_it(web, make_user):
    """A warehouse signs in from one NAT address: five typos of others do not lock wang out."""
    make_user("wang")
    for name in ["a", "b", "c", "d", "e", "f"]:
        assert web.login(name, "guess-123456").status_code == 401
    assert web.login("wang").status_code == 302


def test_many_failures_from_one_address_lock_it_for_every_name(web, make_user):
    make_user("wang")
    for i in range(throttle.LIMITS["ip"]):
        web.login(f"user{i}", "guess-123456")
    response = web.login("wang")
    assert response.status_code == 401 and "登录失败次数过多" in response.get_data(as_text=True)
    other = web.login("wang", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 302  # another address is not locked out


def _fail(session, keys, when):
    assert throttle.reserve(session, keys, when) is None
    return throttle.record_failure(session, keys, when)


def test_a_lock_ends_after_five_minutes_and_old_failures_fade(session, clock):
    now = clock.now()
    keys = throttle.keys_for("Wang", "10.0.0.1")
    assert keys == ["user:wang", "ip:10.0.0.1"]
    for i in range(4):
        assert _fail(session, keys, now + timedelta(seconds=i)) is None
    until = _fail(session, keys, now + timedelta(seconds=5))
    assert until == now + timedelta(seconds=5) + throttle.LOCK_FOR
    assert throttle.locked_until(session, keys, now + timedelta(minutes=4)) == until
    assert throttle.reserve(session, keys, now + timedelta(minutes=4)) == until  # refused unchecked
    assert throttle.locked_until(session, keys, now + timedelta(minutes=6)) is None
    # failures spread over more than the window never lock
    later = now + timedelta(hours=1)
    for i in range(8):
        assert _fail(session, keys, later + i * throttle.WINDOW / 3) is None


def test_parallel_guesses_check_no_more_passwords_than_the_limit(session, clock):
    """Attempts are counted before the password check: the sixth of forty in flight is refused
    unchecked, however they interleave (here: all reserved before any is checked)."""
    keys = throttle.keys_for("wang", "10.0.0.1")
    now = clock.now()
    admitted = [throttle.reserve(session, keys, now) is None for _ in range(40)]
    assert admitted.count(True) == throttle.MAX_FAILURES


def test_a_good_sign_in_clears_the_account_count(web, make_user, session):
    make_user("wang")
    for _ in range(3):
        web.login("wang", "wrong-password")
    assert web.login("wang").status_code == 302
    session.expire_all()
    assert session.get(LoginThrottle, "user:wang") is None
    assert session.get(LoginThrottle, "ip:127.0.0.1").failures == 3  # the good attempt is given back


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("12345678", "密码太简单"),
        ("password1", "密码太简单"),
        ("qwertyuiop", "密码太简单"),
        ("1qaz2wsx3edc", "密码太简单"),
        ("aaaaaaaaaaaa", "密码太简单"),
        ("wang12345678", "密码不能包含用户名"),
        ("shipgate2026", "密码太简单"),
        ("short", "密码至少 8 位"),
    ],
)
def test_common_and_trivial_passwords_are_refused_in_chinese(session, password, why):
    user = accounts.create_user(session, "wang", "correct-horse-42", "lead", None, actor="test")
    with pytest.raises(accounts.AccountError, match=why):
        accounts.set_password(session, user, password, actor="test")
    with pytest.raises(accounts.AccountError, match=why):
        accounts.create_user(session, "wang1234", password, "lead", None, actor="test")
