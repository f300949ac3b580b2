"""The console in a real browser: headless Chromium (Debian's) driven by Playwright, against the
app on waitress on loopback. Screenshots of the main pages go to tests/artifacts/screenshots/."""

from __future__ import annotations

import uuid

import httpx
import pytest
from browserkit import MARKS, SHOTS, expect, launch
from factories import make_order, refund
from sqlalchemy import select, update

from server.models import AuditLog, ScanException
from server.models.users import User

pytestmark = MARKS


@pytest.fixture
def backend() -> str:
    """SQLite only: every console request test already runs on PostgreSQL too, and the browser
    tests are the slow part of the suite."""
    return "sqlite"


@pytest.fixture(scope="module")
def browser():
    yield from launch()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) on the live server; fails the test on any console
    error, such as a script or style the Content-Security-Policy blocked."""
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport={"width": 1366, "height": 900}
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


def sign_in(page, name: str, password: str) -> None:
    page.goto("/")
    expect(page).to_have_url("/login?next=/")
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("h1")).to_contain_text("异常队列")


def test_a_blocked_scan_appears_live_and_is_cleared(page, live_server, session, make_user, password, auth):
    make_user("lead")
    sign_in(page, "lead", password)
    expect(page.locator(".empty")).to_be_visible()
    page.evaluate("window.notReloaded = true")
    order = make_order(session, tracking_no="SF1234567890123")
    refund(session, order)
    body = {"scan_id": str(uuid.uuid4()), "code": order.order_id, "scanned_at": "2026-11-26T09:00:00+08:00"}
    answer = httpx.post(
        live_server.url + "/api/v1/scans", json={**body, "operator": "P001"}, headers=auth
    ).json()
    assert answer["decision"] == "BLOCK"
    row = page.locator(f'tr[data-order="{order.order_id}"]')
    expect(row).to_be_visible()
    expect(row).to_contain_text("已退款")
    expect(row).to_contain_text("bench-1")
    expect(page.locator("#queue-count")).to_have_text("1")
    assert page.evaluate("window.notReloaded") is True  # it came without a reload
    shot(page, "queue")
    row.get_by_role("link", name="处理").click()
    page.get_by_label("放入退款区").check()
    page.get_by_label("备注（可选）").fill("已放入退款区 A3 货架")
    shot(page, "exception")
    page.get_by_role("button", name="清除异常").click()
    expect(page.locator(".flash-ok")).to_contain_text("已清除异常：放入退款区")
    expect(page.locator(f'tr[data-order="{order.order_id}"]')).to_have_count(0)
    session.expire_all()
    exception = session.get(ScanException, answer["exception_id"])
    assert (exception.status, exception.cleared_by) == ("cleared", "user:lead")
    assert session.scalar(select(AuditLog.actor).where(AuditLog.action == "exception.clear")) == "user:lead"
    session.execute(update(User).values(active=False))  # disabled while watching: the next poll signs out
    session.commit()
    expect(page).to_have_url("/login?next=%2F")


def test_search_by_tracking_number_as_a_scanner_types_it(page, session, make_user, password, station_scan):
    make_user("lead")
    order = make_order(session, skus=3, tracking_no="JT0001234567890")
    refund(session, order, sku_order_id=order.skus[2].sku_order_id)
    station_scan(order.order_id)
    sign_in(page, "lead", password)
    expect(page.locator("header input[name=q]")).to_be_focused()
    page.keyboard.type("JT0001234567890")  # a scanner in keyboard mode types, then Enter
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"/orders/{order.order_id}")
    expect(page.locator("h1")).to_contain_text(order.order_id)
    expect(page.get_by_text("部分商品已退款").first).to_be_visible()
    shot(page, "order")


def test_enrol_a_station_and_see_its_token_once(page, live_server, make_user, password, client, auth):
    make_user("admin", "admin")
    client.post("/api/v1/heartbeat", headers=auth, json={"software_version": "0.1.0", "replica_version": 12,
                "replica_age_s": 2, "scanner": "connected", "printer": "ready", "queue_depth": 0,
                "rss_bytes": 41_943_040, "mode": "bench", "operator": "P001"})  # fmt: skip
    sign_in(page, "admin", password)
    page.get_by_role("link", name="管理").click()
    page.get_by_role("link", name="工作站").click()
    page.get_by_label("名称", exact=True).fill("打包台-02")
    page.get_by_label("仓库", exact=True).fill("main")
    page.get_by_role("button", name="登记并生成令牌").click()
    token = page.locator("#station-token").inner_text().strip()
    assert token.startswith("sgst_")
    expect(page.get_by_text("令牌只显示这一次")).to_be_visible()
    reply = httpx.post(
        live_server.url + "/api/v1/heartbeat", json={}, headers={"Authorization": f"Bearer {token}"}
    )
    assert reply.status_code == 200
    page.get_by_role("link", name="完成，返回工作站列表").click()
    expect(page.locator('tr[data-station="打包台-02"]')).to_be_visible()
    assert token not in page.content()
    shot(page, "admin-stations")
    page.goto("/floor")
    expect(page.locator('tr[data-station="bench-1"]')).to_contain_text("在线")
    shot(page, "floor")


def test_printable_sheets(page, session, make_user, password):
    from server.models import Operator

    make_user("admin", "admin")
    session.add_all(
        [Operator(name="李主管", badge="L001", is_lead=True), Operator(name="张三", badge="P001")]
    )
    session.commit()
    sign_in(page, "admin", password)
    page.goto("/admin/badges")
    expect(page.locator("img.qr")).to_have_count(2)
    assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    shot(page, "badges")
    page.goto("/admin/resolution-sheet")
    expect(page.locator("img.qr")).to_have_count(4)
    shot(page, "resolution-sheet")
