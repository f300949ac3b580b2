"""Security headers on every console response (pages, errors, redirects, static files) and the
session cookie's flags."""

from __future__ import annotations

import pytest
from factories import TEST_DATA_KEY
from routekit import routes, send
from seckit import CSRF_FIELD, PASSWORD, Browser

from server.app import create_app
from server.settings import Settings

EXPECTED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@pytest.fixture
def console(app):
    if "console" not in app.blueprints:
        pytest.skip("the app has no console yet")
    return app


def check_headers(response, where: str) -> list[str]:
    problems = [f"{where}: {name}={response.headers.get(name)!r}" for name, value in EXPECTED.items()
                if response.headers.get(name) != value]  # fmt: skip
    csp = response.headers.get("Content-Security-Policy", "")
    for directive in ("default-src 'self'", "frame-ancestors 'none'", "object-src 'none'"):
        if directive not in csp:
            problems.append(f"{where}: CSP lacks {directive!r}")
    if "unsafe-inline" in csp or "unsafe-eval" in csp:
        problems.append(f"{where}: CSP allows unsafe-inline/eval")
    if response.mimetype == "text/html" and "no-store" not in response.headers.get("Cache-Control", ""):
        problems.append(f"{where}: an HTML page may be cached")
    return problems


def test_every_console_response_carries_the_security_headers(console, world):
    problems = []
    callers = {"anonymous": Browser(console), "lead": Browser(console).login("lead"),
               "admin": Browser(console).login("admin")}  # fmt: skip
    for who, browser in callers.items():
        for route in routes(console, world):
            if not route.endpoint.startswith("console.") or route.unsafe or route.endpoint.endswith("logout"):
                continue
            response = send(browser.client, route)
            problems += check_headers(response, f"{route} as {who} ({response.status_code})")
        missing = browser.client.get("/exceptions/999999")
        problems += check_headers(missing, f"404 page as {who}")
    assert not problems, "\n".join(problems)


def signing_in(app):
    """The answer to a successful sign-in through the form (it sets the session cookie)."""
    browser = Browser(app)
    page = browser.client.get("/login")
    token = CSRF_FIELD.search(page.get_data(as_text=True)).group(1)
    response = browser.client.post(
        "/login", data={"name": "admin", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    return response


def test_the_session_cookie_is_httponly_and_samesite(console, world):
    cookies = signing_in(console).headers.getlist("Set-Cookie")
    assert cookies
    for cookie in cookies:
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_in_production_the_session_cookie_is_secure(engine, world, tmp_path):
    settings = Settings.build(
        {
            "instance_dir": str(tmp_path / "prod"),
            "secret_key": "production-secret-key-for-the-test",
            "data_key": TEST_DATA_KEY,
            "production": True,
            "douyin_gateway": "http://127.0.0.1:9",
        }
    )
    app = create_app(settings, engine=engine, migrate=False)
    if "console" not in app.blueprints:
        pytest.skip("no console")
    cookie = signing_in(app).headers.get("Set-Cookie", "")
    assert "Secure" in cookie, cookie
