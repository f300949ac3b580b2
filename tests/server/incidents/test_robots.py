"""Group robots against local HTTP listeners: WeCom, DingTalk and Feishu bodies and signatures
(checked by the listener itself), retries with backoff, a failing robot given up with its error
shown, and nothing sent from the detecting transaction."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qs, urlsplit

import pytest
from factories import make_order, refund
from polling import wait_until
from sqlalchemy import select

from server.incidents.robots import RobotSender, enqueue_test
from server.models import Warehouse
from server.models.incidents import AlertSettings, Robot, RobotMessage

DING_SECRET = "SEC-ding-0123456789"
FEISHU_SECRET = "feishu-secret-xyz"
OK = (200, {"errcode": 0, "errmsg": "ok"})


def dingtalk_reply(request):
    """What DingTalk does: recompute the signature from the query and refuse a wrong one."""
    query = parse_qs(urlsplit(request["path"]).query)
    timestamp, sign = query["timestamp"][0], query["sign"][0]
    digest = hmac.new(DING_SECRET.encode(), f"{timestamp}\n{DING_SECRET}".encode(), hashlib.sha256).digest()
    if sign != base64.b64encode(digest).decode() or query["access_token"] != ["tok-123"]:
        return 200, {"errcode": 310000, "errmsg": "sign not match"}
    return OK


def feishu_reply(request):
    body = request["json"]
    key = f"{body['timestamp']}\n{FEISHU_SECRET}".encode()
    expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    if body["sign"] != expected:
        return 200, {
            "code": 19021,
            "msg": "sign match fail or timestamp is not within one hour from current time",
        }
    return 200, {"code": 0, "msg": "success", "data": {}}


@pytest.fixture
def sender(sessions):
    made = []

    def make(**options) -> RobotSender:
        options.setdefault("extra_hosts", ("127.0.0.1",))  # the local listeners stand in for the platforms
        made.append(RobotSender(sessions, fallback_base_url="http://console.local:8080", **options))
        return made[-1]

    yield make
    for s in made:
        s.stop()


def add_robot(session, name, kind, url, secret=None, **fields) -> Robot:
    robot = Robot(name=name, kind=kind, webhook_url=url, secret=secret, **fields)
    session.add(robot)
    session.commit()
    return robot


def open_incident(session, station_scan, tracking="SF1234567890123"):
    order = make_order(session, tracking_no=tracking)
    station_scan(order.order_id)
    refund(session, order)
    return order


def test_each_kind_gets_its_body_and_signature(session, station_scan, listener, sender):
    wecom, ding, feishu = listener(lambda _r: OK), listener(dingtalk_reply), listener(feishu_reply)
    add_robot(session, "仓库群", "wecom", wecom.url)
    add_robot(session, "主管钉钉群", "dingtalk", ding.url, DING_SECRET)
    add_robot(session, "飞书群", "feishu", feishu.url, FEISHU_SECRET)
    session.add(AlertSettings(id=1, public_base_url="http://192.168.1.10:8080/"))
    session.commit()
    order = open_incident(session, station_scan)
    assert (len(wecom.requests), len(ding.requests), len(feishu.requests)) == (0, 0, 0)  # stored, not sent
    assert sender().run_once() == 3
    [w], [d], [f] = wecom.requests, ding.requests, feishu.requests
    content = w["json"]["markdown"]["content"]
    assert w["json"]["msgtype"] == "markdown"
    for text in (
        order.order_id,
        "商品1 ×1",
        "¥89.00",
        "SF1234567890123",
        "http://192.168.1.10:8080/incidents/",
    ):
        assert text in content
    assert d["json"]["msgtype"] == "markdown" and d["json"]["markdown"]["title"].startswith(
        "【退款后已发货】"
    )
    assert order.order_id in d["json"]["markdown"]["text"]
    post = f["json"]["content"]["post"]["zh_cn"]
    assert f["json"]["msg_type"] == "post" and post["content"][-1][0]["href"].endswith("/incidents/1")
    session.expire_all()
    assert {m.status for m in session.scalars(select(RobotMessage))} == {"sent"}
    assert all(r.last_ok_at and not r.last_error for r in session.scalars(select(Robot)))


def test_a_failing_robot_is_retried_then_given_up_and_others_are_unaffected(
    session, station_scan, listener, sender, as_admin
):
    broken, fine = listener(lambda _r: (500, {"error": "boom"})), listener(lambda _r: OK)
    add_robot(session, "坏掉的群", "wecom", broken.url)
    add_robot(session, "钉钉错密钥", "dingtalk", listener(dingtalk_reply).url, "wrong-secret")
    add_robot(session, "好的群", "wecom", fine.url)
    open_incident(session, station_scan)
    robots = sender(backoff=(0, 0))  # three tries in all, no waiting
    for _ in range(4):
        robots.run_once()
    assert len(broken.requests) == 3 and len(fine.requests) == 1
    session.expire_all()
    by_name = {r.name: r for r in session.scalars(select(Robot))}
    assert by_name["坏掉的群"].last_error == "HTTP 500" and by_name["坏掉的群"].last_ok_at is None
    assert by_name["钉钉错密钥"].last_error == "code 310000: sign not match"
    statuses = {m.robot.name: (m.status, m.attempts) for m in session.scalars(select(RobotMessage))}
    assert statuses == {"坏掉的群": ("given_up", 3), "钉钉错密钥": ("given_up", 3), "好的群": ("sent", 1)}
    page = as_admin.get("/incidents/robots").get_data(as_text=True)
    assert "HTTP 500" in page and "sign not match" in page and "已放弃" in page


def test_retries_wait_for_their_backoff(session, station_scan, listener, sender, clock):
    spot = listener(lambda _r: (502, {}))
    add_robot(session, "群", "wecom", spot.url)
    open_incident(session, station_scan)
    robots = sender(backoff=(30, 120))  # on the sessions' clock, the test's
    assert robots.run_once() == 1
    assert robots.run_once() == 0  # not due for 30 s
    clock.advance(seconds=31)
    assert robots.run_once() == 1
    clock.advance(seconds=60)
    assert robots.run_once() == 0
    clock.advance(seconds=61)
    assert robots.run_once() == 1 and len(spot.requests) == 3
    session.expire_all()
    assert session.scalar(select(RobotMessage.status)) == "given_up"


def test_only_enabled_robots_of_the_warehouse_are_told(session, station_scan, listener, sender):
    spot = listener(lambda _r: OK)
    other = Warehouse(name="华南仓")
    session.add(other)
    session.commit()
    add_robot(session, "停用的群", "wecom", spot.url, enabled=False)
    add_robot(session, "华南仓群", "wecom", spot.url, warehouse_id=other.id)
    add_robot(session, "全部仓库群", "wecom", spot.url)
    open_incident(session, station_scan)
    sender().run_once()
    assert len(spot.requests) == 1
    assert session.scalar(select(RobotMessage.robot_id)) == session.scalar(
        select(Robot.id).where(Robot.name == "全部仓库群")
    )


def test_the_sender_thread_delivers_on_its_own(session, station_scan, listener, sender):
    spot = listener(lambda _r: OK)
    add_robot(session, "群", "wecom", spot.url)
    sender(interval=0.05).start()
    open_incident(session, station_scan)
    assert wait_until(lambda: len(spot.requests) == 1, timeout=5)


def test_an_unreachable_robot_is_an_error_not_a_crash(session, station_scan, sender):
    add_robot(session, "离线的群", "feishu", "http://127.0.0.1:9/hook")
    open_incident(session, station_scan)
    sender(backoff=(0,)).run_once()
    session.expire_all()
    assert session.scalar(select(Robot.last_error)) == "无法连接机器人平台"  # no detail: not a port scanner


def test_admins_manage_robots_in_the_console(as_admin, session, new_web, make_user):
    refused = as_admin.post("/incidents/robots", {"name": "群", "kind": "wecom", "webhook_url": "ftp://x"})
    assert refused.status_code == 400 and "Webhook 地址应以 http:// 或 https:// 开头" in refused.get_data(
        as_text=True
    )
    added = as_admin.post("/incidents/robots", {"name": "群", "kind": "dingtalk", "secret": "s3cret",
                                                "webhook_url": "https://oapi.dingtalk.com/robot/send?access_token=abc"})  # fmt: skip
    assert added.status_code == 302
    robot = session.scalar(select(Robot))
    page = as_admin.get("/incidents/robots").get_data(as_text=True)
    assert "access_token=abc" not in page and "s3cret" not in page  # write-only
    edited = as_admin.post(
        f"/incidents/robots/{robot.id}", {"name": "主管群", "kind": "dingtalk", "enabled": "1"}
    )
    assert edited.status_code == 302
    session.expire_all()
    robot = session.get(Robot, robot.id)
    assert (robot.name, robot.secret, robot.webhook_url.endswith("abc")) == ("主管群", "s3cret", True)
    assert as_admin.post(f"/incidents/robots/{robot.id}/test").status_code == 302
    assert session.scalar(select(RobotMessage.title)) == "【Shipgate】测试消息"
    assert (
        as_admin.post("/incidents/alert-settings", {"public_base_url": "http://10.0.0.5:8080"}).status_code
        == 302
    )
    assert session.get(AlertSettings, 1).public_base_url == "http://10.0.0.5:8080"
    make_user("lead2", "lead")
    lead = new_web()
    lead.login("lead2")
    assert lead.get("/incidents/robots").status_code == 403
    assert lead.post(f"/incidents/robots/{robot.id}/delete").status_code == 403
    assert as_admin.post(f"/incidents/robots/{robot.id}/delete").status_code == 302
    assert session.scalar(select(Robot)) is None


def test_a_robot_disabled_before_sending_drops_its_messages(session, station_scan, listener, sender):
    spot = listener(lambda _r: OK)
    robot = add_robot(session, "群", "wecom", spot.url)
    open_incident(session, station_scan)
    robot.enabled = False
    session.commit()
    sender().run_once()
    session.expire_all()
    assert spot.requests == []
    message = session.scalar(select(RobotMessage))
    assert (message.status, message.last_error) == ("given_up", "机器人已停用")
    assert session.get(Robot, robot.id).last_error is None


def test_webhook_secrets_never_reach_the_logs(session, station_scan, listener, sender, caplog):
    spot = listener(lambda _r: (500, {}))
    add_robot(session, "企微", "wecom", spot.url.replace("access_token=tok-123", "key=wecom-key-0001"))
    add_robot(
        session, "飞书", "feishu", spot.url.replace("/robot/send", "/open-apis/bot/v2/hook/fs-hook-0002")
    )
    add_robot(session, "钉钉", "dingtalk", spot.url, DING_SECRET)
    open_incident(session, station_scan)
    caplog.set_level("DEBUG")
    sender(backoff=(0,)).run_once()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "HTTP Request" in logged and "failed" in logged
    for secret in ("wecom-key-0001", "fs-hook-0002", "tok-123", DING_SECRET):
        assert secret not in logged
    session.expire_all()
    assert all("tok-123" not in (r.last_error or "") for r in session.scalars(select(Robot)))


# -- robot URLs: their platform only; messages are text ----------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:6379/",  # a port scanner for admins, before
        "https://10.0.0.5/cgi-bin/webhook/send?key=x",
        "http://169.254.169.254/latest/meta-data/",
        "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x",  # not https
        "https://qyapi.weixin.qq.com.evil.example/cgi-bin/webhook/send?key=x",
        "https://user@qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x",
        "https://oapi.dingtalk.com/robot/send?access_token=x",  # DingTalk's host for a WeCom robot
    ],
)
def test_only_the_platforms_webhook_hosts_are_accepted(as_admin, session, url):
    response = as_admin.post("/incidents/robots", {"name": "群", "kind": "wecom", "webhook_url": url})
    assert response.status_code == 400 and "只能填写企业微信、钉钉或飞书" in response.get_data(as_text=True)
    assert session.scalar(select(Robot.id)) is None


def test_a_platform_host_that_resolves_to_a_private_address_is_not_posted_to(session, listener, sender):
    robot = add_robot(session, "群", "wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k")
    enqueue_test(session, robot)
    session.commit()
    sender(extra_hosts=(), resolve=lambda host: ["10.1.2.3"]).run_once()
    session.expire_all()
    assert (
        session.get(Robot, robot.id).last_error
        == "只能填写企业微信、钉钉或飞书的机器人 Webhook 地址（https）"
    )


def test_names_in_robot_messages_cannot_add_links_or_headings():
    from server.incidents.robots import markdown

    text = markdown(
        "订单 1", ["商品：[点此退款](http://evil.example) ![x](http://e/x.png)", "放行：**王**\n# 标题"], ""
    )
    body = text.split("\n", 1)[1]
    assert "](" not in body and "[" not in body and "**" not in body and "\n#" not in body
    assert "点此退款" in body and "http://evil.example" in body  # still readable, as plain text
