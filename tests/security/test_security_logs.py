"""Secrets never reach the logs: register a shop and sync it against the Douyin sandbox (tokens
made, expired, refreshed; calls rate-limited and retried), enrol a station and scan with it, ask
Douyin live about an unknown order, all at DEBUG, and look for every secret in what was logged."""

from __future__ import annotations

import logging

import pytest
from click.testing import CliRunner
from factories import TEST_DATA_KEY
from sqlalchemy import select

from douyin_sandbox import Sandbox, SandboxConfig, SandboxServer
from server.models import Shop

APP_KEY = "7000000000000000314"
APP_SECRET = "sandbox-secret-Lg42-must-not-be-logged"
SHOP_ID = "80000314"
NOW = "2026-11-26T09:00:00+08:00"


@pytest.fixture
def sandbox():
    config = SandboxConfig(app_key=APP_KEY, app_secret=APP_SECRET, shop_id=SHOP_ID, n_orders=30)
    with SandboxServer(sandbox=Sandbox(config)) as running:
        yield running


def ours(record: logging.LogRecord) -> bool:
    """Shipgate's own logging and its HTTP stack; the sandbox stands for Douyin and is not ours."""
    return not record.name.startswith("douyin_sandbox")


def test_no_secret_is_ever_logged(engine, session, sandbox, tmp_path, caplog, monkeypatch):
    from server.app import create_app
    from server.cli import main
    from server.settings import Settings

    caplog.set_level(logging.DEBUG)
    env = {
        "SHIPGATE_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "SHIPGATE_INSTANCE_DIR": str(tmp_path / "instance"),
        "SHIPGATE_DATA_KEY": TEST_DATA_KEY,
        "SHIPGATE_DOUYIN_GATEWAY": sandbox.url,
    }
    runner = CliRunner()
    outputs = []

    def cli(*args: str, secret_output: bool = False):
        result = runner.invoke(main, ["-v", *args], env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        outputs.append(result.stderr if secret_output else result.output)
        return result

    cli("shop", "add", "--shop-id", SHOP_ID, "--app-key", APP_KEY, "--app-secret", APP_SECRET)
    cli("sync", "--once")
    sandbox.sandbox.expire_tokens()
    sandbox.sandbox.faults.update({"rate_limit_next": 1})
    sandbox.sandbox.shop.create_order(n_skus=1)
    cli("sync", "--once")
    cli("sync", "status")
    token = cli("station", "add", "bench-logs", secret_output=True).stdout.strip().splitlines()[-1]

    settings = Settings.build({**{k[9:].lower(): v for k, v in env.items()}, "secret_key": "k"})
    app = create_app(settings, engine=engine, migrate=False)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    unknown = {"scan_id": "log-1", "code": "4835804142146756441", "scanned_at": NOW}  # live look-up
    assert client.post("/api/v1/scans", json=unknown, headers=headers).status_code == 200
    assert client.get("/api/v1/gate", headers=headers).status_code == 200
    assert client.get("/api/v1/gate", headers={"Authorization": f"Bearer {token}x"}).status_code == 401

    session.expire_all()
    shop = session.scalar(select(Shop).where(Shop.shop_id == SHOP_ID))
    assert shop.access_token and shop.refresh_token  # the sync really ran with tokens
    secrets = {
        "app_secret": APP_SECRET,
        "access_token": shop.access_token,
        "refresh_token": shop.refresh_token,
        "station token": token,
    }
    logged = "\n".join(r.getMessage() for r in caplog.records if ours(r)) + "\n".join(outputs)
    assert "douyin" in logged.lower() and len(caplog.records) > 20  # something was logged
    leaked = sorted(name for name, value in secrets.items() if value in logged)
    assert not leaked, f"secrets in the logs: {leaked}"


class _RobotEndpoint:
    """A loopback stand-in for the WeCom / DingTalk / Feishu robot endpoints: answers code 0."""

    def __init__(self):
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = json.dumps({"errcode": 0, "code": 0, "StatusCode": 0}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_group_robot_keys_are_never_logged(session, caplog):
    """The WeCom ?key=, the Feishu /hook/<token> and the DingTalk access_token and secret stay out
    of every log line the robot sender (and httpx under it) writes."""
    pytest.importorskip("server.incidents.robots")
    from sqlalchemy.orm import sessionmaker

    from server.incidents.robots import RobotSender, enqueue_test
    from server.models.incidents import Robot

    caplog.set_level(logging.DEBUG)
    endpoint = _RobotEndpoint()
    secrets = {
        "wecom key": "wecom-key-Aa11-never-logged",
        "feishu hook": "feishu-hook-Bb22-never-logged",
        "dingtalk token": "dingtalk-token-Cc33-never-logged",
        "dingtalk secret": "SECdingtalk-secret-Dd44",
    }
    robots = [
        Robot(name="wecom", kind="wecom", webhook_url=f"{endpoint.url}/cgi-bin/webhook/send?key={secrets['wecom key']}"),
        Robot(name="feishu", kind="feishu", webhook_url=f"{endpoint.url}/open-apis/bot/v2/hook/{secrets['feishu hook']}"),
        Robot(name="dingtalk", kind="dingtalk", secret=secrets["dingtalk secret"],
              webhook_url=f"{endpoint.url}/robot/send?access_token={secrets['dingtalk token']}"),
    ]  # fmt: skip
    session.add_all(robots)
    session.flush()
    for robot in robots:
        enqueue_test(session, robot)
    session.commit()
    sender = RobotSender(  # the local endpoint stands in for the platforms' hosts
        sessionmaker(session.get_bind(), expire_on_commit=False), extra_hosts=("127.0.0.1",)
    )
    try:
        assert sender.run_once() == 3
    finally:
        endpoint.close()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "HTTP Request" in logged
    leaked = sorted(name for name, value in secrets.items() if value in logged)
    assert not leaked, f"secrets in the logs: {leaked}"


def test_settings_never_show_their_keys(tmp_path):
    from factories import TEST_DATA_KEY

    from server.settings import Settings

    settings = Settings.build({"instance_dir": str(tmp_path), "secret_key": "sk-Qw81-never-shown",
                               "data_key": TEST_DATA_KEY})  # fmt: skip
    assert "sk-Qw81-never-shown" not in repr(settings) and TEST_DATA_KEY not in repr(settings)
