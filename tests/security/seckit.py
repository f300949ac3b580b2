"""The security suite's kit: the constants of its world, the World it builds and a Browser that
signs in through the console's login form."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from werkzeug.security import generate_password_hash

PASSWORD = "correct-horse-42"
FAST_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")  # sign-ins stay cheap
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
NOW = "2026-11-26T09:00:00+08:00"
SHOP_SECRET = "shop-secret-Zq81-never-shown"
ROBOT_URL = "http://127.0.0.1:9/cgi-bin/webhook/send?key=robot-key-Hq72-never-shown"  # a closed port
ROBOT_SECRET = "robot-secret-Pp55-never-shown"


def console_present(app) -> bool:
    return "console" in app.blueprints


@dataclass
class World:
    tokens: dict[str, str] = field(default_factory=dict)  # station name -> bearer token
    station_ids: dict[str, int] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)
    order_id: str = ""
    shop_id: str = ""
    exception_id: int | None = None
    blocked_scan_id: str = ""
    ids: dict[str, int] = field(default_factory=dict)  # other URL arguments: operator_id, robot_id, ...

    def bearer(self, station: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[station]}"}


def make_user(session, name: str, role: str, warehouse_id: int | None = None) -> int:
    from server.models.users import Role, User

    user = User(name=name, password_hash=FAST_HASH, role=Role(role), warehouse_id=warehouse_id)
    session.add(user)
    session.flush()
    return user.id


class Browser:
    """A Flask test client with its own cookies, signed in through the login form."""

    def __init__(self, app):
        self.client = app.test_client()

    def login(self, name: str, password: str = PASSWORD):
        page = self.client.get("/login")
        token = CSRF_FIELD.search(page.get_data(as_text=True)).group(1)
        response = self.client.post("/login", data={"name": name, "password": password, "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        return self

    def csrf(self) -> str | None:
        with self.client.session_transaction() as cookie:
            return cookie.get("csrf")

    def age(self, seconds: float) -> Browser:
        with self.client.session_transaction() as cookie:
            cookie["since"] -= seconds
        return self
