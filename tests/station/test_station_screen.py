"""The bench screen: state.json, the live stream, and the page in headless Chromium (screenshots
under docs/screen/)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from browserkit import MARKS, expect, launch
from polling import wait_until
from station_testkit import (
    GOODS_PARTIAL_OUT,
    ORDER_OK,
    ORDER_PARTIAL,
    ORDER_REFUNDED,
    SKU_PARTIAL_OUT,
)

from station.alerts import Alerts
from station.printer import DeviceSpec, PrinterState, SlipPrinter, device_factory
from station.screen import Screen

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screen"
FIELDS = {"decision", "reason", "message", "order_id", "items_out", "operator", "online",
          "replica_age_s", "printer", "scanner", "forward", "at"}  # fmt: skip


@pytest.fixture
def screen_bench(make_bench):
    def build(**kwargs):
        screen = Screen("127.0.0.1", 0, keepalive_s=0.2)
        parts = make_bench(alerts=Alerts({"screen": screen}), **kwargs)
        return parts, screen

    return build


def test_state_json_holds_the_facts_on_screen(screen_bench):
    parts, screen = screen_bench()
    outcome = parts.bench.handle(ORDER_REFUNDED)
    state = httpx.get(screen.url + "/state.json").json()
    assert state.keys() >= FIELDS
    assert (state["decision"], state["order_id"], state["label"]) == (
        "BLOCK",
        ORDER_REFUNDED,
        "已退款 请勿发货",
    )
    assert state["online"] is True and state["message"] == outcome.message
    assert state["counts"] == {"BLOCK": 1}
    partial = parts.bench.handle(ORDER_PARTIAL)
    state = httpx.get(screen.url + "/state.json").json()
    assert state["decision"] == "HOLD" and state["items_out"] == [GOODS_PARTIAL_OUT]
    assert state["reason"] == partial.reason
    assert httpx.get(screen.url + "/nothing").status_code == 404


def test_offline_the_goods_are_named_by_sku_order_id(screen_bench, gate_server, capture_printer):
    parts, screen = screen_bench()
    parts.uplink.sync_once()  # the replica knows the order's refunded sku orders (not their names)
    gate_server.stop()
    outcome = parts.bench.handle(ORDER_PARTIAL)
    assert outcome.source.value == "offline"
    assert httpx.get(screen.url + "/state.json").json()["items_out"] == [SKU_PARTIAL_OUT]


def test_the_hold_slip_names_the_goods(screen_bench, capture_printer):
    parts, _screen = screen_bench()
    parts.bench.handle(ORDER_PARTIAL)
    assert capture_printer.wait_for_jobs(1)
    assert f"取出：{GOODS_PARTIAL_OUT}".encode("gb18030") in capture_printer.output()


def test_the_page_is_self_contained_chinese(screen_bench):
    _parts, screen = screen_bench()
    page = httpx.get(screen.url + "/")
    assert page.headers["content-type"].startswith("text/html")
    assert 'lang="zh-CN"' in page.text and "请扫描订单号或运单号" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # no asset from the network


def test_the_live_stream_pushes_each_decision(screen_bench):
    parts, screen = screen_bench()
    assert not screen.working  # no viewer yet: the screen does not count for the fail-closed rule
    with httpx.stream("GET", screen.url + "/events", timeout=5) as stream:
        lines = stream.iter_lines()
        first = _next_state(lines)
        assert first["decision"] is None
        assert wait_until(lambda: screen.working)
        parts.bench.handle(ORDER_REFUNDED)
        state = _next_state(lines, lambda s: s["decision"] is not None)
        assert (state["decision"], state["order_id"]) == ("BLOCK", ORDER_REFUNDED)
        parts.bench.handle(ORDER_REFUNDED)  # the same decision again is pushed again
        again = _next_state(lines, lambda s: s["counts"].get("BLOCK") == 2)
        assert again["decision"] == "BLOCK"
    assert wait_until(lambda: not screen.working)  # the viewer left


def _next_state(lines, accept=lambda s: True):
    for line in lines:
        if line.startswith("data: "):
            state = json.loads(line[6:])
            if accept(state):
                return state
    raise AssertionError("stream ended")


@pytest.fixture(scope="module")
def chromium():
    yield from launch()


def browser(test):
    for mark in MARKS:
        test = mark(test)
    return test


def _shot(page, name: str) -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS / f"{name}.png"))


def _open(chromium, screen):
    page = chromium.new_page(viewport={"width": 1280, "height": 720})
    page.goto(screen.url + "/")
    page.wait_for_function("window.shipgateEvents >= 1")
    return page


def _background(page) -> str:
    return page.eval_on_selector("#main", "e => getComputedStyle(e).backgroundColor")


@browser
def test_block_fills_the_screen_red_live(screen_bench, chromium):
    parts, screen = screen_bench()
    page = _open(chromium, screen)
    assert wait_until(lambda: screen.working)
    parts.bench.handle(ORDER_REFUNDED)
    expect(page.locator("#label")).to_have_text("已退款 请勿发货")
    expect(page.locator("#order")).to_contain_text(ORDER_REFUNDED)
    assert _background(page) == "rgb(208, 2, 27)"
    expect(page.locator("#online")).to_have_text("服务器 在线")
    _shot(page, "block")
    parts.bench.handle(ORDER_OK)  # no reload: the page follows the stream
    expect(page.locator("#label")).to_have_text("可发货")
    assert _background(page) == "rgb(27, 138, 46)"
    expect(page.locator("#n-block")).to_have_text("1")
    expect(page.locator("#n-pass")).to_have_text("1")
    page.close()


@browser
def test_hold_shows_the_goods_to_take_out(screen_bench, chromium):
    parts, screen = screen_bench()
    page = _open(chromium, screen)
    parts.bench.handle(ORDER_PARTIAL)
    expect(page.locator("#label")).to_have_text("暂停发货")
    expect(page.locator("#items li")).to_have_text([f"取出：{GOODS_PARTIAL_OUT}"])  # by name
    assert _background(page) == "rgb(245, 196, 0)"
    _shot(page, "hold-goods")
    page.close()


@browser
def test_offline_is_shown(screen_bench, chromium, gate_server):
    parts, screen = screen_bench()
    page = _open(chromium, screen)
    gate_server.stop()
    outcome = parts.bench.handle(ORDER_REFUNDED)
    assert outcome.source.value == "offline"
    expect(page.locator("#online")).to_have_text("服务器 离线")
    expect(page.locator("#label")).to_have_text("暂停发货")  # the replica never synced: fail closed
    _shot(page, "offline")
    page.close()


@browser
def test_printer_out_of_paper_is_an_alarm_on_screen(screen_bench, chromium, capture_printer):
    capture_printer.status = {1: 0x12, 2: 0x32, 4: 0x72}  # DLE EOT: paper-end stop, roll paper out
    spec = DeviceSpec(kind="network", host="127.0.0.1", port=capture_printer.port, timeout_s=1.0)
    printer = SlipPrinter(device_factory(spec), status_queries=True)
    parts, screen = screen_bench(printer=printer)
    page = _open(chromium, screen)
    parts.bench.handle(ORDER_OK)
    assert wait_until(lambda: printer.state is PrinterState.PAPER_OUT)
    parts.bench.refresh()
    expect(page.locator("#printer")).to_have_text("打印机 缺纸")
    expect(page.locator("#printer")).to_have_class("bad")
    expect(page.locator("#alarm")).to_have_text("警告：打印机缺纸")
    expect(page.locator("#items li")).to_have_count(0)  # a PASS has nothing to take out
    _shot(page, "printer-paper-out")
    page.close()
