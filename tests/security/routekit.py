"""Every route of the app, with a concrete URL and what each kind of caller may get from it.

Routes are read from app.url_map, so a route added later is covered without touching this file:
one with no explicit expectation must never answer 5xx, and must refuse anonymous callers unless
it is on the public list.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from server.models import Base

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Public by design: liveness and metrics (nginx limits /metrics to loopback), the console's
# sign-in page and its static files, Flask's static route.
PUBLIC = frozenset({"health.healthz", "health.metrics", "console.auth.login", "console.static", "static"})
SIGNED = frozenset({"webhooks.douyin_push"})  # authenticated by the push signature alone
# Console endpoints only an admin may use (besides every "*.admin.*" endpoint).
ADMIN_ONLY = frozenset({"console.queue.override"})


@dataclass(frozen=True)
class Route:
    endpoint: str
    method: str
    url: str
    rule: str

    @property
    def unsafe(self) -> bool:
        return self.method in UNSAFE

    @property
    def kind(self) -> str:
        """station-api | signed | public | console | other (a route nobody described yet)."""
        if self.endpoint in PUBLIC:
            return "public"
        if self.endpoint in SIGNED:
            return "signed"
        if self.endpoint.startswith("api."):
            return "station-api"
        if self.endpoint.startswith("console."):
            return "console"
        return "other"

    @property
    def admin_only(self) -> bool:
        return self.kind == "console" and (".admin." in self.endpoint or self.endpoint in ADMIN_ONLY)

    def __str__(self) -> str:
        return f"{self.method} {self.url}"


def sample_values(world) -> dict[str, object]:
    """URL arguments that name real things in the world fixture (by argument name)."""
    return {
        "exception_id": world.exception_id,
        "station_id": world.station_ids["bench-b"],
        "user_id": world.user_ids.get("lead", 1),
        "shop_id": world.shop_id,
        "order_id": world.order_id,
        "filename": "console.css",
        "path": "console.css",
        **world.ids,
    }


def routes(app, world) -> list[Route]:
    samples = sample_values(world)
    adapter = app.url_map.bind("localhost")
    found = []
    for rule in app.url_map.iter_rules():
        values = {}
        for name in rule.arguments:
            converter = rule._converters.get(name)
            default = 1 if isinstance(converter, IntegerConverter) else "x"
            value = samples.get(name, default)
            if isinstance(converter, IntegerConverter) and not isinstance(value, int):
                value = default
            values[name] = value
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            url = adapter.build(rule.endpoint, values, method=method)
            found.append(Route(rule.endpoint, method, url, rule.rule))
    # /logout last, so that a walk over every route keeps its sign-in until the end
    return sorted(found, key=lambda r: (r.endpoint.endswith("logout"), r.url, r.method))


def send(client, route: Route, *, headers=None, csrf: str | None = None):
    """One request: JSON for the station API, a form (with the CSRF token when given) elsewhere."""
    if route.method == "GET":
        return client.get(route.url, headers=headers)
    if route.kind in ("station-api", "signed"):
        return client.open(route.url, method=route.method, json={}, headers=headers)
    data = {"csrf_token": csrf} if csrf else {}
    return client.open(route.url, method=route.method, data=data, headers=headers)


def fingerprint(engine) -> dict[str, str]:
    """A digest of every row of every table: equal before and after means nothing changed."""
    digests = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = sorted(repr(tuple(row)) for row in conn.execute(select(table)))
            digests[table.name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return digests


def to_login(response) -> bool:
    return response.status_code in (301, 302, 303) and "/login" in response.headers.get("Location", "")
