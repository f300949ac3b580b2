"""Incidents and the monthly review in a real browser: headless Chromium (Debian's) driven by
Playwright against the app on waitress on loopback. A new incident appears live with the nav
badge; a lead handles it; the evidence pack prints and downloads; the review draws its charts.
Screenshots go to tests/artifacts/screenshots/ (incident.png, evidence.png, review.png)."""

from __future__ import annotations

import io
import json
import re
import uuid
from pathlib import Path

import httpx
import pytest
from browserkit import MARKS, SHOTS, expect, launch
from factories import make_order, refund
from openpyxl import load_workbook

from server.models import Operator

MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")

pytestmark = MARKS


@pytest.fixture
def backend() -> str:
    """SQLite only: the request tests already run on PostgreSQL too."""
    return "sqlite"


@pytest.fixture(scope="module")
def browser():
    yield from launch()


@pytest.fixture
def page(browser, live_server):
    """A fresh context on the live server; fails the test on any console error (a script or
    style the Content-Security-Policy blocked, say)."""
    context = browser.new_context(
        base_url=live_server.url,
        locale="zh-CN",
        viewport={"width": 1366, "height": 900},
        accept_downloads=True,
    )
    context.set_default_timeout(8000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert errors == []


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(page, name: str, password: str, then: str) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("h1")).to_contain_text("异常队列")
    page.goto(then)


def test_an_incident_arrives_live_is_handled_and_its_evidence_printed(
    page, live_server, session, make_user, password, auth
):
    make_user("lead")
    session.add(Operator(name="张三", badge="P001"))
    session.commit()
    sign_in(page, "lead", password, "/incidents")
    expect(page.locator(".empty")).to_contain_text("没有退款后已发货的事件")
    page.evaluate("window.notReloaded = true")
    order = make_order(session, tracking_no="SF1234567890123")
    body = {"scan_id": str(uuid.uuid4()), "code": order.order_id, "operator": "P001",
            "scanned_at": "2026-11-26T09:00:00+08:00"}  # fmt: skip
    assert httpx.post(live_server.url + "/api/v1/scans", json=body, headers=auth).json()["decision"] == "PASS"
    refund(session, order, update_time=1_795_654_830)  # 30 s after the PASS
    row = page.locator(f'tr[data-order="{order.order_id}"]')
    expect(row).to_be_visible()
    expect(row).to_contain_text("待处理")
    expect(page.locator("#incident-badge .count")).to_have_text("1")
    assert page.evaluate("window.notReloaded") is True  # it came without a reload
    row.get_by_role("link", name="处理").click()
    expect(page.locator("h1")).to_contain_text("退款后已发货")
    expect(page.locator("#timeline")).to_contain_text("bench-1，打包员 张三（P001）")
    page.get_by_role("link", name="使用：请买家拒签：运费由我方承担").click()
    expect(page.get_by_label("发送内容")).to_have_value(re.compile(f"订单号 {order.order_id}"))
    page.get_by_label("买家回复（摘要，可选）").fill("好的，会拒收")
    page.get_by_role("button", name="记录联系").click()
    expect(page.locator(".flash-ok")).to_contain_text("已联系买家")
    page.locator("#outcome").get_by_text("买家拒签，包裹退回").click()
    page.locator("#outcome").get_by_role("button", name="记录结果").click()
    expect(page.locator("#follow-up")).to_have_text("买家拒签，退回中")
    page.locator("#cause").get_by_text("退款未及时同步").click()
    page.locator("#cause").get_by_label("原因说明（选「其他」时必填）").fill("推送晚到 30 秒")
    page.locator("#cause").get_by_role("button", name="记录原因").click()
    page.locator("#ledger summary").click()
    page.get_by_label("退回运费（含拦截费）").fill("12.5")
    page.get_by_role("button", name="保存台账").click()
    expect(page.locator("#net-loss")).to_have_text("¥12.50")
    shot(page, "incident")

    page.get_by_role("link", name="证据包（打印）").click()
    expect(page.locator("article.evidence")).to_contain_text("SF1234567890123")
    expect(page.locator("article.evidence")).to_contain_text("好的，会拒收")
    page.emulate_media(media="print")
    expect(page.locator("header.top")).to_be_hidden()  # print: no navigation, no buttons
    expect(page.get_by_role("button", name="打印")).to_be_hidden()
    shot(page, "evidence")
    page.emulate_media(media="screen")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载 JSON").click()
    pack = json.loads(Path(download.value.path()).read_text("utf-8"))
    assert pack["order"]["order_id"] == order.order_id and pack["ledger"]["net_loss"] == 1250
    assert pack["contacts"][0]["reply"] == "好的，会拒收"
    assert not MOBILE.search(json.dumps(pack, ensure_ascii=False))


def test_the_monthly_review_draws_its_charts_and_exports(page, make_user, password, month):
    make_user("lead")
    sign_in(page, "lead", password, f"/review?month=2026-11&warehouse={month.id}")
    expect(page.locator("h1")).to_have_text("复盘 · 2026-11")
    expect(page.locator("section.chart svg")).to_have_count(6)
    expect(page.locator('tr[data-metric="拦截（BLOCK）"] td').first).to_have_text("4")
    expect(page.locator("#month-net-loss")).to_have_text("¥76.00")
    bars = page.locator("section.chart svg rect title")
    assert bars.count() > 20
    expect(page.locator("svg[aria-label='按工作站']")).to_contain_text("A1")
    shot(page, "review")
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 Excel").click()
    book = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert "按打包员" in book.sheetnames
    page.get_by_role("link", name="经验手册").click()
    expect(page.locator("table.handbook")).to_contain_text("拦截成功，包裹退回")
