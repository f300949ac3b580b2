"""The bench display: pure renderers, the plain fallback, the choice of display."""

from __future__ import annotations

import io

from shipgate.wire import Decision
from station.decision import Outcome, Source
from station.display import (
    AnsiDisplay,
    DisplayState,
    NullDisplay,
    PlainDisplay,
    age_text,
    make_display,
    render_ansi,
    render_plain,
)

BLOCK = Outcome("s1", "YT1234567890123", Decision.BLOCK, "refunded", "已退款 请勿发货", Source.OFFLINE,
                order_id="6920000000000000001")  # fmt: skip
STATE = DisplayState(
    station_name="A-01",
    mode="bench",
    outcome=BLOCK,
    decided_at="2024-05-01 16:00:00",
    online=False,
    replica_age_s=42,
    replica_stale=False,
    queue_depth=3,
    scanner="connected",
    printer="offline",
    operator="A12",
)


def test_ansi_shows_the_decision_big_and_coloured():
    screen = render_ansi(STATE, 60, 24)
    assert screen.startswith("\x1b[H\x1b[2J")
    assert "\x1b[41m" in screen  # red background
    assert "已  退  款     请  勿  发  货" in screen
    assert "离线判定" in screen and "6920000000000000001" in screen
    assert "服务器 离线 | 副本 42秒前 | 待上传 3 | 扫描枪 已连接 | 打印机 离线 | 操作员 A12" in screen


def test_colours_per_decision():
    for decision, colour, label in (
        (Decision.PASS, "\x1b[42m", "可  发  货"),
        (Decision.HOLD, "\x1b[43m", "暂  停  发  货"),
    ):
        outcome = Outcome("s", "c", decision, "clear", "m", Source.ONLINE)
        screen = render_ansi(DisplayState("A-01", "bench", outcome=outcome), 60, 24)
        assert colour in screen and label in screen


def test_idle_screen_and_alarm():
    screen = render_ansi(DisplayState("A-01", "bench", alarm="磁盘已满 暂停发货 请联系主管"), 60, 24)
    assert "请扫描订单号或运单号" in screen and "警告：磁盘已满" in screen
    assert "副本 从未同步（过旧）" in screen


def test_plain_line():
    line = render_plain(STATE)
    assert line.startswith(
        "[BLOCK] 已退款 请勿发货 订单 6920000000000000001 条码 YT1234567890123 离线判定 || "
    )
    assert "\x1b" not in line


def test_plain_display_writes_only_changes():
    stream = io.StringIO()
    display = PlainDisplay(stream)
    display.show(STATE)
    display.show(STATE)
    display.show(DisplayState(**{**STATE.__dict__, "replica_age_s": 43}))  # age alone: no new line
    display.show(DisplayState(**{**STATE.__dict__, "printer": "ready"}))
    assert len(stream.getvalue().splitlines()) == 2


def test_age_text():
    assert [age_text(a) for a in (None, 5, 300, 10_000)] == ["从未同步", "5秒前", "5分钟前", "2小时前"]


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_make_display(monkeypatch):
    monkeypatch.setenv("TERM", "xterm")
    assert isinstance(make_display(False, "auto", io.StringIO()), NullDisplay)
    assert isinstance(make_display(True, "auto", io.StringIO()), PlainDisplay)
    assert isinstance(make_display(True, "auto", FakeTty()), AnsiDisplay)
    assert isinstance(make_display(True, "plain", FakeTty()), PlainDisplay)
    monkeypatch.setenv("TERM", "dumb")
    assert isinstance(make_display(True, "auto", FakeTty()), PlainDisplay)
    tty = FakeTty()
    make_display(True, "ansi", tty).show(STATE)
    assert "\x1b[41m" in tty.getvalue()
