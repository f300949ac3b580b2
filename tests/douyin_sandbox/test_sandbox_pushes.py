"""Pushes to a real local webhook: signed bodies, the messages of each change, retries and faults."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from douyin_sandbox import Sandbox, SandboxConfig
from douyin_sandbox.faults import Faults
from server.douyin.push import parse_push_body
from server.douyin.signing import verify_event_sign


class Webhook:
    """A local HTTP listener that records pushes; `failures` makes the next N answer HTTP 500."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.failures = 0
        self.lock = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with hook.lock:
                    failing = hook.failures > 0
                    hook.failures -= failing
                    if not failing:
                        hook.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                reply = json.dumps(
                    {"code": 1, "msg": "busy"} if failing else {"code": 0, "msg": "success"}
                ).encode()
                self.send_response(500 if failing else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/douyin"
        self.thread = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), name="test-webhook", daemon=True
        )
        self.thread.start()

    def messages(self, *, verification: bool = False):
        """The business messages received (or only the URL verifications, tag 0)."""
        with self.lock:
            every = [m for _, body in self.received for m in parse_push_body(body)]
        return [m for m in every if (m.tag == "0") == verification]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook():
    hook = Webhook()
    yield hook
    hook.close()


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    fast_retries = (0.05, 0.05, 0.05)
    return SandboxConfig(
        app_key="7000000000000000042", app_secret="s3cret", n_orders=20, push_retry_delays=fast_retries
    )


@pytest.fixture
def pushing(sandbox: Sandbox, webhook: Webhook, wait_for):
    sandbox.pusher.url = webhook.url
    sandbox.start()
    assert wait_for(lambda: (sandbox.pusher.verification or {}).get("acknowledged"))  # tag 0 first
    yield sandbox
    sandbox.stop()


def test_refund_pushes_are_signed_and_carry_exact_ids(pushing, webhook, wait_for):
    shop = pushing.shop
    order = shop.create_order(n_skus=1)
    record = shop.apply_refund(order.order_id)
    shop.succeed_refund(record.aftersale_id)
    assert wait_for(lambda: len(webhook.messages()) == 2)
    config = pushing.config
    for headers, body in webhook.received:
        assert headers["app-id"] == config.app_key
        assert verify_event_sign(config.app_key, config.app_secret, body, headers["event-sign"])
        assert isinstance(json.loads(body)[0]["data"], str)
    created, success = webhook.messages()
    assert (created.tag, success.tag) == ("200", "206")
    assert created.msg_id != success.msg_id and len(success.msg_id) == 19
    assert success.data["aftersale_id"] == int(record.aftersale_id)
    assert success.data["p_id"] == int(order.order_id) and success.data["s_id"] == int(order.order_id)
    assert success.data["shop_id"] == int(config.shop_id)
    assert (success.data["aftersale_status"], success.data["aftersale_type"]) == (12, 2)
    assert success.data["refund_amount"] == order.skus[0].amount
    assert success.data["success_time"] == record.final_time and "apply_time" in created.data
    assert success.data["update_time"].endswith("+08:00")


def test_trade_pushes(pushing, webhook, wait_for):
    shop = pushing.shop
    partly = shop.create_order(n_skus=2)
    parcel = shop.ship(partly.order_id, sku_order_ids=[partly.skus[0].sku_order_id])
    cancelled = shop.create_order()
    shop.cancel(cancelled.order_id, reason="不想要了")
    closed = shop.create_order(n_skus=1)
    shop.close_refund(shop.apply_refund(closed.order_id).aftersale_id)
    assert wait_for(lambda: len(webhook.messages()) == 4)
    ship, cancel, _, close = webhook.messages()
    assert ship.tag == "108" and ship.data["s_ids"] == [int(partly.skus[0].sku_order_id)]
    assert ship.data["logistics_msg"]["logistics_code"] == parcel.tracking_no
    assert ship.data["order_status"] == 101
    assert (
        cancel.tag == "106"
        and cancel.data["cancel_reason"] == "不想要了"
        and cancel.data["order_status"] == 4
    )
    assert "update_time" not in cancel.data and cancel.data["cancel_time"] == cancelled.cancel_time
    assert isinstance(ship.data["update_time"], int)  # trade messages: seconds; 106: none at all
    assert close.tag == "207" and "close_time" in close.data


def test_failed_deliveries_are_retried(pushing, webhook, wait_for):
    webhook.failures = 2
    pushing.shop.apply_refund(pushing.shop.create_order().order_id)
    assert wait_for(lambda: pushing.pusher.stats["sent"] == 1)
    assert len(webhook.messages()) == 1 and pushing.pusher.stats["failed_attempts"] == 2


def test_drop_and_duplicate_faults(pushing, webhook, wait_for, server):
    answer = httpx.post(server.url + "/sandbox/faults", json={"push_drop_rate": 1.0})
    assert answer.status_code == 200
    shop = pushing.shop
    shop.apply_refund(shop.create_order().order_id)
    assert pushing.pusher.flush()
    assert webhook.messages() == [] and pushing.pusher.stats["dropped"] == 1
    httpx.post(server.url + "/sandbox/faults", json={"push_drop_rate": 0, "push_duplicate_rate": 1.0})
    shop.apply_refund(shop.create_order().order_id)
    assert wait_for(lambda: len(webhook.messages()) == 2)
    first, second = webhook.messages()
    assert first.msg_id == second.msg_id and first.data == second.data


def test_reorder_fault_holds_and_releases_newest_first(pushing, webhook, wait_for, server):
    pushing.faults.update({"push_reorder": 3})
    shop = pushing.shop
    orders = [shop.create_order(n_skus=1) for _ in range(4)]
    records = [shop.apply_refund(o.order_id) for o in orders]
    assert wait_for(lambda: len(webhook.messages()) == 3)
    assert [m.data["aftersale_id"] for m in webhook.messages()] == [
        int(r.aftersale_id) for r in reversed(records[:3])
    ]
    assert wait_for(lambda: pushing.pusher.pending == 1)  # the fourth is held
    assert httpx.post(server.url + "/sandbox/push/release").json() == {"released": 1}
    assert wait_for(lambda: len(webhook.messages()) == 4)


def test_fault_dice_are_deterministic_for_a_seed():
    def roll(seed):
        faults = Faults(seed)
        faults.update({"push_drop_rate": 0.5, "error_rate": 0.3})
        return [faults.drop_push() for _ in range(20)], [
            faults.gateway_fault("afterSale.List") for _ in range(20)
        ]

    drops_a, errors_a = roll(7)
    drops_b, errors_b = roll(7)
    assert drops_a == drops_b and [e is None for e in errors_a] == [e is None for e in errors_b]
    assert any(drops_a) and not all(drops_a)


def test_fault_switches_are_validated(server):
    for bad in ({"error_rate": 2}, {"nonsense": 1}, {"latency_ms": -1}, {"offline_methods": "x"}):
        answer = httpx.post(server.url + "/sandbox/faults", json=bad)
        assert answer.status_code == 400, bad
    assert httpx.get(server.url + "/sandbox/faults").json()["faults"]["error_rate"] == 0


def test_push_url_can_be_set_through_the_control_api(sandbox, webhook, wait_for, server):
    assert httpx.post(server.url + "/sandbox/push/url", json={"url": webhook.url}).json() == {
        "url": webhook.url
    }
    sandbox.shop.apply_refund(sandbox.shop.create_order().order_id)
    assert wait_for(lambda: sandbox.pusher.stats["sent"] == 1)
    recent = httpx.get(server.url + "/sandbox/pushes").json()
    assert recent["stats"]["sent"] == 1 and recent["recent"][-1]["tag"] == "200"


def test_a_configured_push_url_is_verified_first_with_tag_0(sandbox, webhook, wait_for, server):
    """As on the platform: [{"tag":"0","msg_id":"0","data":"<RFC 3339 time>"}], signed, alone,
    before any business message; the sandbox records that the webhook answered success."""
    sandbox.start()
    assert httpx.post(server.url + "/sandbox/push/url", json={"url": webhook.url}).status_code == 200
    sandbox.shop.apply_refund(sandbox.shop.create_order().order_id)
    assert wait_for(lambda: len(webhook.messages()) == 1)
    headers, first_body = webhook.received[0]
    assert json.loads(first_body) == [{"tag": "0", "msg_id": "0", "data": json.loads(first_body)[0]["data"]}]
    stamp = json.loads(first_body)[0]["data"]
    assert isinstance(stamp, str) and datetime.fromisoformat(stamp).utcoffset() == timedelta(hours=8)
    assert verify_event_sign(
        sandbox.config.app_key, sandbox.config.app_secret, first_body, headers["event-sign"]
    )
    verification = httpx.get(server.url + "/sandbox/pushes").json()["verification"]
    assert verification["acknowledged"] is True and verification["url"] == webhook.url
    assert verification["data"] == stamp
    assert httpx.get(server.url + "/sandbox/pushes").json()["stats"]["sent"] == 1  # tag 0 not counted


def test_a_verification_the_webhook_refuses_is_retried_and_recorded(sandbox, webhook, wait_for):
    webhook.failures = 1
    sandbox.pusher.url = webhook.url
    sandbox.start()
    assert wait_for(lambda: (sandbox.pusher.verification or {}).get("attempts", 0) >= 2)
    assert sandbox.pusher.verification["acknowledged"] is True
    assert len(webhook.messages(verification=True)) == 1  # the refused attempt was not kept
