"""Secrets at rest: station tokens stored only as SHA-256 hex, console passwords only as salted
scrypt hashes, compared in constant time; shop secrets, Douyin tokens and robot webhooks only
encrypted with a key kept outside the database; secrets the console takes are never shown again."""

from __future__ import annotations

import hashlib
import hmac
import inspect
import re

import pytest
from click.testing import CliRunner
from factories import TEST_DATA_KEY
from seckit import ROBOT_SECRET, ROBOT_URL, SHOP_SECRET, Browser
from sqlalchemy import select, text

from server.models import Base, Station

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def everything_stored(engine) -> str:
    """Every value of every row of every table as the database holds it (raw SQL: no column type
    decodes anything on the way), as one text to search."""
    with engine.connect() as conn:
        return "\n".join(
            repr(tuple(row))
            for table in Base.metadata.sorted_tables
            for row in conn.execute(text(f"SELECT * FROM {table.name}"))
        )


def cli_env(engine, tmp_path) -> dict[str, str]:
    return {
        "SHIPGATE_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "SHIPGATE_INSTANCE_DIR": str(tmp_path / "cli-instance"),
        "SHIPGATE_DATA_KEY": TEST_DATA_KEY,
        "SHIPGATE_DOUYIN_GATEWAY": "http://127.0.0.1:9",
    }


def test_station_tokens_are_stored_as_sha256_hex_only(app, engine, session, world, tmp_path):
    from server.cli import main

    result = CliRunner().invoke(main, ["station", "add", "bench-cli"], env=cli_env(engine, tmp_path))
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    tokens = [token, *world.tokens.values()]
    if "console" in app.blueprints:  # enrolled by an admin in the console: shown once, not kept
        admin = Browser(app).login("admin")
        page = admin.client.post(
            "/admin/stations/",
            data={"csrf_token": admin.csrf(), "name": "bench-web", "warehouse": "main", "mode": "bench"},
        )
        assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
        tokens += re.findall(r"sgst_[A-Za-z0-9_-]{20,}", page.get_data(as_text=True))[:1]
    session.expire_all()
    stored = {s.token_hash for s in session.scalars(select(Station))}
    dump = everything_stored(engine)
    for token in tokens:
        digest = hashlib.sha256(token.encode()).hexdigest()
        assert digest in stored and HEX64.match(digest)
        assert token not in dump and token[:-4] not in dump  # the hint keeps only 4 characters
    assert len(tokens) >= 5


def test_console_passwords_are_stored_as_salted_scrypt_hashes(app, engine, session, world, tmp_path):
    if "console" not in app.blueprints:
        pytest.skip("no console users")
    from werkzeug.security import check_password_hash

    from server.cli import main
    from server.models.users import User

    password = "Pa55word-for-the-test"
    result = CliRunner().invoke(
        main,
        ["user", "add", "cli-admin", "--role", "admin", "--password", password],
        env=cli_env(engine, tmp_path),
    )
    assert result.exit_code == 0, result.output
    admin = Browser(app).login("admin")
    added = admin.client.post(
        "/admin/users",
        data={
            "csrf_token": admin.csrf(),
            "name": "web-lead",
            "password": password,
            "password2": password,
            "role": "lead",
            "warehouse_id": "",
        },  # fmt: skip
    )
    assert added.status_code == 302, added.get_data(as_text=True)[:500]
    session.expire_all()
    users = {u.name: u.password_hash for u in session.scalars(select(User))}
    for name in ("cli-admin", "web-lead"):
        method, salt, _digest = users[name].split("$", 2)
        assert method.startswith("scrypt:") and len(salt) >= 16
        assert check_password_hash(users[name], password)
    assert users["cli-admin"] != users["web-lead"]  # salted: same password, different hashes
    assert password not in everything_stored(engine)


def test_tokens_and_signatures_are_compared_in_constant_time(app, world, monkeypatch):
    from server.console import csrf
    from server.douyin import signing
    from server.stations import StationAuth

    for function in (
        StationAuth.__call__,
        signing.verify_event_sign,
        signing.verify_request_sign,
        csrf.valid,
    ):
        assert "hmac.compare_digest" in inspect.getsource(function), function.__qualname__
        assert "==" not in inspect.getsource(function).split('"""')[-1], function.__qualname__

    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append((a, b)) or real(a, b))
    client = app.test_client()
    assert client.get("/api/v1/gate", headers=world.bearer("bench-a")).status_code == 200
    digest = hashlib.sha256(world.tokens["bench-a"].encode()).hexdigest()
    assert (digest, digest) in calls
    assert client.get("/api/v1/gate", headers=world.bearer("gone")).status_code == 401


def test_secrets_the_console_takes_are_never_shown_again(app, session, world):
    if "console" not in app.blueprints:
        pytest.skip("no console")
    from server.models import Shop

    shop = session.get(Shop, world.shop_id)
    shop.access_token, shop.refresh_token = "access-token-Tt19-never-shown", "refresh-token-Rr28-never-shown"
    session.commit()
    admin = Browser(app).login("admin")
    secrets = (SHOP_SECRET, shop.access_token, shop.refresh_token, ROBOT_SECRET, ROBOT_URL.split("key=")[1])
    for url in ("/admin/shops/", f"/admin/shops/{world.shop_id}", "/incidents/robots", "/admin/audit",
                "/admin/stations/"):  # fmt: skip
        page = admin.client.get(url)
        assert page.status_code == 200, url
        text = page.get_data(as_text=True)
        leaked = [s for s in secrets if s in text]
        assert not leaked, (url, leaked)


# -- shop secrets, Douyin tokens, robot webhooks: encrypted with a key not in the database ----------

ACCESS, REFRESH = "access-Tk83-never-stored-in-clear", "refresh-Rf19-never-stored-in-clear"


def test_shop_secrets_tokens_and_robot_webhooks_are_stored_encrypted(app, engine, session, world):
    from server.models import Shop

    shop = session.get(Shop, world.shop_id)
    shop.access_token, shop.refresh_token, shop.auth_code = ACCESS, REFRESH, "auth-Ac55-never-in-clear"
    session.commit()
    dump = everything_stored(engine)
    secrets = [SHOP_SECRET, ACCESS, REFRESH, "auth-Ac55-never-in-clear"]
    if "robot_id" in world.ids:
        secrets += [ROBOT_SECRET, ROBOT_URL, ROBOT_URL.split("key=")[1]]
    for secret in secrets:
        assert secret not in dump
    assert "fernet:" in dump
    session.expire_all()
    shop = session.get(Shop, world.shop_id)  # and they read back as they were
    assert (shop.app_secret, shop.access_token, shop.refresh_token) == (SHOP_SECRET, ACCESS, REFRESH)


def test_a_wrong_data_key_fails_closed(engine, session, world):
    from server import secretbox
    from server.models import Shop

    secretbox.install(secretbox.new_key())
    try:
        session.expire_all()
        with pytest.raises(secretbox.SecretsKeyError, match="do not open"):
            session.get(Shop, world.shop_id).app_secret  # noqa: B018
    finally:
        secretbox.install(TEST_DATA_KEY)


def test_production_without_a_data_key_refuses_to_start(tmp_path):
    from server.settings import Settings, SettingsError

    with pytest.raises(SettingsError, match="SHIPGATE_DATA_KEY"):
        Settings.build({"instance_dir": str(tmp_path), "secret_key": "k", "production": True})
    assert not (tmp_path / "data_key").exists()  # and no key was made up on the spot
    key_file = tmp_path / "data.key"
    key_file.write_text(TEST_DATA_KEY)
    built = Settings.build(
        {"instance_dir": str(tmp_path), "secret_key": "k", "production": True, "data_key_file": str(key_file)}
    )
    assert built.data_key == TEST_DATA_KEY


def test_the_migration_seals_secrets_stored_in_clear(tmp_path):
    from server import db, secretbox

    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    db.upgrade(engine, "0004")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO shops (shop_id, name, app_key, app_secret, access_token, refresh_token, created_at)"
                " VALUES ('1', 'old', 'k', :secret, :access, NULL, '2026-01-01 00:00:00')"
            ),
            {"secret": SHOP_SECRET, "access": ACCESS},
        )
    db.upgrade(engine)
    with engine.connect() as conn:
        secret, access, refresh = conn.execute(
            text("SELECT app_secret, access_token, refresh_token FROM shops")
        ).one()
    assert secret.startswith("fernet:") and access.startswith("fernet:") and refresh is None
    assert (secretbox.unseal(secret), secretbox.unseal(access)) == (SHOP_SECRET, ACCESS)
    from alembic import command

    config = db.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:  # and back: clear again, as 0004 expects
        config.attributes["connection"] = connection
        command.downgrade(config, "0004")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT app_secret FROM shops")).scalar() == SHOP_SECRET


# -- files: the database, its WAL and the keys are private to the server's user ---------------------


def test_the_sqlite_database_its_wal_and_the_keys_are_created_0600(tmp_path):
    import os
    import stat

    from server import db
    from server.settings import Settings

    old = os.umask(0o022)  # what a shell outside systemd usually has
    try:
        instance = tmp_path / "instance"
        settings = Settings.build({"instance_dir": str(instance)})  # makes secret_key and data_key
        engine = db.make_engine(settings.resolved_database_url)
        db.upgrade(engine)
        with engine.begin() as conn:  # a write, so the WAL exists
            conn.execute(
                text("INSERT INTO warehouses (name, created_at) VALUES ('w', '2026-01-01 00:00:00')")
            )
            files = {p.name: stat.S_IMODE(p.stat().st_mode) for p in instance.iterdir()}
        engine.dispose()
    finally:
        os.umask(old)
    assert {"shipgate.sqlite3", "shipgate.sqlite3-wal", "secret_key", "data_key"} <= files.keys()
    assert {name: mode for name, mode in files.items() if mode != 0o600} == {}
    assert stat.S_IMODE(instance.stat().st_mode) == 0o700
