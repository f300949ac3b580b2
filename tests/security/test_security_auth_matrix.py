"""The auth matrix: every route of the app × {no token, revoked token, a station's token, lead,
admin, expired sign-in, no CSRF token}. Refusals change nothing; no caller ever gets a 5xx."""

from __future__ import annotations

import pytest
from routekit import Route, fingerprint, routes, send, to_login
from seckit import Browser

SHIFT_S = 12 * 3600


def failures_table(failures: list[str]) -> str:
    return "\n".join(["", *failures])


def anonymous_refusal(route: Route, response) -> bool:
    """What a caller who is nobody gets from a route that is not public."""
    status = response.status_code
    if route.kind in ("station-api", "signed"):
        return status == 401 and response.get_json(silent=True) is not None
    if route.kind == "console":
        return to_login(response)
    return to_login(response) or status in (401, 403, 404, 405)


def nobody(app, world, who: str) -> tuple[Browser, dict[str, str] | None]:
    browser = Browser(app)
    if who == "revoked-token":
        return browser, world.bearer("gone")
    if who == "station-token":
        return browser, world.bearer("bench-a")
    if who == "expired-sign-in":
        return browser.login("admin").age(SHIFT_S + 60), None
    if who == "cookie-copied-before-logout":
        browser.login("admin")
        copied = browser.client.get_cookie("shipgate_session").value
        browser.client.post("/logout", data={"csrf_token": browser.csrf()})
        browser.client.set_cookie("shipgate_session", copied)
        return browser, None
    return browser, None


NOBODIES = ["anonymous", "revoked-token", "station-token", "expired-sign-in", "cookie-copied-before-logout"]


@pytest.mark.parametrize("who", NOBODIES)
def test_callers_who_are_nobody_are_refused_everywhere_and_change_nothing(app, engine, world, who):
    if who in ("expired-sign-in", "cookie-copied-before-logout") and "console" not in app.blueprints:
        pytest.skip("no console: there is no sign-in to expire")
    browser, headers = nobody(app, world, who)
    failures = []
    for route in routes(app, world):
        if route.kind == "public" or (who == "station-token" and route.kind == "station-api"):
            continue
        before = fingerprint(engine)
        response = send(browser.client, route, headers=headers, csrf=browser.csrf())
        if response.status_code >= 500 or not anonymous_refusal(route, response):
            failures.append(f"{route}: {response.status_code} {response.headers.get('Location', '')}")
        elif fingerprint(engine) != before:
            failures.append(f"{route}: refused ({response.status_code}) but the database changed")
    assert not failures, failures_table(failures)


def test_public_routes_answer_everyone(app, world):
    for route in routes(app, world):
        if route.kind != "public":
            continue
        response = send(app.test_client(), route)
        assert response.status_code < 500, route
        if route.method == "GET" and route.endpoint != "static":  # Flask's own has no folder here
            assert response.status_code == 200, route


def test_the_station_api_takes_only_a_live_station_token(app, world):
    """Console sign-ins do not open the station API; a live token does."""
    signed_in = {name: Browser(app).login(name) for name in ("lead", "admin") if "console" in app.blueprints}
    failures = []
    for route in routes(app, world):
        if route.kind != "station-api":
            continue
        for name, browser in signed_in.items():
            response = send(browser.client, route, csrf=browser.csrf())
            if response.status_code != 401:
                failures.append(f"{route} as {name}: {response.status_code}")
        response = send(app.test_client(), route, headers=world.bearer("bench-a"))
        if response.status_code in (401, 403) or response.status_code >= 500:
            failures.append(f"{route} with a live token: {response.status_code}")
    assert not failures, failures_table(failures)


def test_the_push_receiver_trusts_nothing_but_the_signature(app, engine, world):
    callers = [({}, None), (world.bearer("bench-a"), None)]
    if "console" in app.blueprints:
        admin = Browser(app).login("admin")
        callers.append(({}, admin))
    before = fingerprint(engine)
    for headers, browser in callers:
        client = browser.client if browser else app.test_client()
        response = client.post(
            "/webhooks/douyin", data=b"[]", headers={**headers, "app-id": "7000000000000000999"}
        )
        assert response.status_code == 401 and response.get_json()["error"] == "invalid_signature"
    assert fingerprint(engine) == before


# -- the console's roles ------------------------------------------------------------------------


@pytest.fixture
def console(app):
    if "console" not in app.blueprints:
        pytest.skip("the app has no console yet")
    return app


def reached(response) -> bool:
    return response.status_code < 500 and response.status_code not in (401, 403) and not to_login(response)


@pytest.mark.parametrize("who", ["lead", "admin-bound-to-a-warehouse"])
def test_leads_are_refused_admin_routes_and_reach_the_rest(console, engine, session, world, who):
    """A lead, and an admin row bound to a warehouse (admins are never bound: such a row gets a
    lead's rights, so it cannot make an unbound admin and reach every warehouse)."""
    if who != "lead":
        from seckit import make_user

        make_user(session, who, "admin", None)
        from sqlalchemy import select

        from server.models import Warehouse
        from server.models.users import User

        session.scalar(select(User).where(User.name == who)).warehouse_id = session.scalar(
            select(Warehouse.id).where(Warehouse.name == "main")
        )
        session.commit()
    lead = Browser(console).login(who)
    failures = []
    for route in routes(console, world):
        if route.kind != "console" or route.endpoint.endswith(("logout", "login")):
            continue
        before = fingerprint(engine) if route.admin_only else None
        response = send(lead.client, route, csrf=lead.csrf())
        if route.admin_only:
            if response.status_code != 403:
                failures.append(f"{route} (admin only): {response.status_code}")
            elif fingerprint(engine) != before:
                failures.append(f"{route}: refused but the database changed")
        elif not reached(response):
            failures.append(f"{route}: {response.status_code} {response.headers.get('Location', '')}")
    assert not failures, failures_table(failures)


def test_admins_reach_every_console_route(console, world):
    admin = Browser(console).login("admin")
    failures = []
    for route in routes(console, world):
        if route.kind != "console" or route.endpoint.endswith("login"):
            continue
        response = send(admin.client, route, csrf=admin.csrf())
        if not reached(response) and not route.endpoint.endswith("logout"):
            failures.append(f"{route}: {response.status_code} {response.headers.get('Location', '')}")
    assert not failures, failures_table(failures)


def test_unsafe_console_requests_without_the_csrf_token_are_refused(console, engine, world):
    admin = Browser(console).login("admin")
    someone_else = Browser(console).login("lead")
    failures = []
    for route in routes(console, world):
        if route.kind != "console" or not route.unsafe:
            continue
        for label, token in (("no token", None), ("another session's token", someone_else.csrf())):
            before = fingerprint(engine)
            response = send(admin.client, route, csrf=token)
            if response.status_code != 400:
                failures.append(f"{route} with {label}: {response.status_code}")
            elif fingerprint(engine) != before:
                failures.append(f"{route} with {label}: refused but the database changed")
    assert not failures, failures_table(failures)
    assert reached(admin.client.get("/"))  # still signed in: a refused form does not sign out


def test_a_lead_of_another_warehouse_cannot_see_or_clear_its_exceptions(console, engine, world):
    lead = Browser(console).login("lead-other")
    before = fingerprint(engine)
    page = lead.client.get(f"/exceptions/{world.exception_id}")
    assert page.status_code in (403, 404)
    cleared = lead.client.post(
        f"/exceptions/{world.exception_id}/clear",
        data={"csrf_token": lead.csrf(), "resolution": "misscan", "note": ""},
    )
    assert cleared.status_code in (403, 404)
    assert fingerprint(engine) == before


def test_a_lead_of_another_warehouse_cannot_read_its_orders(console, world):
    lead = Browser(console).login("lead-other")
    assert lead.client.get(f"/orders/{world.order_id}").status_code == 404
    found = lead.client.get("/search", query_string={"q": world.order_id})
    assert found.status_code == 200 and f"/orders/{world.order_id}" not in found.get_data(as_text=True)
    assert Browser(console).login("lead").client.get(f"/orders/{world.order_id}").status_code == 200


def test_every_route_is_in_the_matrix(app, world):
    """A route nobody described is still held to the generic rules above ("other")."""
    kinds = {route.kind for route in routes(app, world)}
    assert kinds <= {"public", "signed", "station-api", "console", "other"}
    assert {"public", "signed", "station-api"} <= kinds
