"""The bench's terminal display: the last decision in large colour, and the station's health.

ANSI for a terminal over SSH (the Linux text console cannot draw Chinese: the bench's own screen
is station.screen); a plain line per change when stdout is not a tty (journald, pipes). Rendering
is pure (`render_ansi`, `render_plain`); the display classes only write the result to their stream. Bench text is zh-CN.
"""

from __future__ import annotations

import os
import shutil
import threading
from dataclasses import dataclass, replace
from typing import TextIO

from shipgate.wire import Decision
from station.decision import Outcome, Source
from station.slips import display_width

_RESET = "\x1b[0m"
_COLOURS = {  # background, foreground
    Decision.PASS: ("\x1b[42m", "\x1b[30m"),
    Decision.BLOCK: ("\x1b[41m", "\x1b[97m"),
    Decision.HOLD: ("\x1b[43m", "\x1b[30m"),
}
_SCANNER = {"connected": "已连接", "disconnected": "未连接", "reconnecting": "重连中"}
_PRINTER = {"ready": "正常", "offline": "离线", "unknown": "未知"}
_SOURCE = {Source.ONLINE: "服务器判定", Source.OFFLINE: "离线判定", Source.LOCAL: "本地判定"}


@dataclass(frozen=True)
class DisplayState:
    station_name: str
    mode: str
    outcome: Outcome | None = None
    decided_at: str | None = None  # local time of the last decision
    online: bool = False
    server_problem: str | None = None  # e.g. 令牌无效
    replica_age_s: float | None = None
    replica_stale: bool = True
    queue_depth: int = 0
    scanner: str = "disconnected"
    printer: str = "unknown"
    operator: str | None = None
    alarm: str | None = None  # e.g. 磁盘已满: shown until it clears
    notice: str | None = None  # e.g. 操作员 A12 已登录


def age_text(age_s: float | None) -> str:
    if age_s is None:
        return "从未同步"
    if age_s < 120:
        return f"{int(age_s)}秒前"
    if age_s < 7200:
        return f"{int(age_s // 60)}分钟前"
    return f"{int(age_s // 3600)}小时前"


def status_line(s: DisplayState) -> str:
    link = "在线" if s.online else "离线"
    if s.server_problem:
        link += f"（{s.server_problem}）"
    replica = age_text(s.replica_age_s) + ("（过旧）" if s.replica_stale else "")
    return (
        f"服务器 {link} | 副本 {replica} | 待上传 {s.queue_depth} | "
        f"扫描枪 {_SCANNER.get(s.scanner, s.scanner)} | 打印机 {_PRINTER.get(s.printer, s.printer)} | "
        f"操作员 {s.operator or '未登录'}"
    )


def render_plain(s: DisplayState) -> str:
    parts = []
    if s.outcome is not None:
        o = s.outcome
        text = o.label if o.message == o.label else f"{o.label} {o.message}"
        parts.append(
            f"[{o.decision.value}] {text} 订单 {o.order_id or '-'} 条码 {o.code} {_SOURCE[o.source]}"
        )
    if s.alarm:
        parts.append(f"!! {s.alarm}")
    if s.notice:
        parts.append(s.notice)
    parts.append(status_line(s))
    return " || ".join(parts)


def _center(text: str, width: int) -> str:
    pad = max(width - display_width(text), 0)
    return " " * (pad // 2) + text + " " * (pad - pad // 2)


def render_ansi(s: DisplayState, width: int = 80, height: int = 24) -> str:
    """A full screen: clear, banner (the decision, big and coloured), details, status."""
    width = max(width, 20)
    out = [
        "\x1b[H\x1b[2J",
        f"\x1b[1m{_center(f'Shipgate 工位 {s.station_name}（{s.mode}）', width)}{_RESET}\n",
    ]
    o = s.outcome
    if o is None:
        out.append("\n" + _center("请扫描订单号或运单号", width) + "\n\n")
    else:
        bg, fg = _COLOURS[o.decision]
        rows = max(3, min(7, height - 12))
        for row in range(rows):
            text = o.label if row == rows // 2 else ""
            if text:
                text = "  ".join(text)  # spread the characters: reads as large type on a small console
            out.append(f"{bg}{fg}\x1b[1m{_center(text, width)}{_RESET}\n")
        out.append(f"\x1b[1m{o.message}{_RESET}\n")
        out.append(
            f"订单号 {o.order_id or '-'}   条码 {o.code}   {_SOURCE[o.source]}   {s.decided_at or ''}\n"
        )
    if s.alarm:
        out.append(f"\x1b[41m\x1b[97m\x1b[1m{_center('警告：' + s.alarm, width)}{_RESET}\n")
    if s.notice:
        out.append(f"{s.notice}\n")
    out.append("\n" + status_line(s) + "\n")
    return "".join(out)


class NullDisplay:
    def show(self, state: DisplayState) -> None:
        pass


class PlainDisplay:
    """One line per change (decision, alarm, notice or health), never a repeat."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._last: str | None = None
        self._lock = threading.Lock()

    def show(self, state: DisplayState) -> None:
        # The replica's age ticks every second: it is shown, but it alone does not make a new line.
        key = render_plain(replace(state, replica_age_s=None))
        with self._lock:
            if key == self._last:
                return
            self._last = key
            self.stream.write(render_plain(state) + "\n")
            self.stream.flush()


class AnsiDisplay:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._lock = threading.Lock()

    def show(self, state: DisplayState) -> None:
        size = shutil.get_terminal_size((80, 24))
        text = render_ansi(state, size.columns, size.lines)
        with self._lock:
            self.stream.write(text)
            self.stream.flush()


def make_display(enabled: bool, style: str, stream: TextIO) -> NullDisplay | PlainDisplay | AnsiDisplay:
    """style "auto": ANSI on a terminal (not TERM=dumb), plain otherwise."""
    if not enabled:
        return NullDisplay()
    if style == "auto":
        tty = hasattr(stream, "isatty") and stream.isatty() and os.environ.get("TERM", "") != "dumb"
        style = "ansi" if tty else "plain"
    return AnsiDisplay(stream) if style == "ansi" else PlainDisplay(stream)
