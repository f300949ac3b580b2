"""Slip layout: a decision in, a list of printer operations out. Pure: no I/O, no escpos.

printer.py replays the operations on a python-escpos printer. Text is always sent as GB18030 with
the printer in Chinese mode (FS &): ASCII is the same bytes, and lines holding only full-width
punctuation (、：【】) print right instead of going through a single-byte codepage as `??`.

BLOCK (已退款): red (ESC r 1) and, for black-only printers, huge and inverted; then the details,
the exception QR ("SG-EX-" + scan_id) a lead scans to clear, a cut, and a long beep.
HOLD (暂停发货): large but not inverted or red, framed, with the reason (e.g. which sku to take out).
PASS ([printer] on_pass = "slip"): a 可发货 check slip listing the goods, never a waybill look-alike.
Forwarding failed: a 转发失败 运单未打印 slip (the PASS never reached the packing PC).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from shipgate.wire import Decision, Reason
from station.decision import Outcome, Source

INIT = b"\x1b@"  # ESC @: reset modes left over from a previous (maybe half-printed) slip
CHINESE_ON = b"\x1c\x26"  # FS &: Chinese (double-byte) mode
RED_ON = b"\x1br\x01"  # ESC r 1: second colour (red) on two-colour printers and paper
RED_OFF = b"\x1br\x00"  # ESC r 0
EXCEPTION_PREFIX = "SG-EX-"

COLUMNS = {58: 32, 80: 48}  # font A, 12 dots a column: 384 and 576 dots
BIG = {58: 4, 80: 5}  # GS ! multiplier for the BLOCK banner (4 ideographs at 4x fill 58 mm)


@dataclass(frozen=True)
class Raw:
    data: bytes


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Style:
    """Maps to escpos set(); size (width, height) uses custom_size (GS !), size (1, 1) is normal."""

    align: str | None = None
    bold: bool | None = None
    invert: bool | None = None
    size: tuple[int, int] | None = None


@dataclass(frozen=True)
class Barcode128:
    data: str
    height: int = 80
    width: int = 2


@dataclass(frozen=True)
class QR:
    content: str
    size: int = 6


@dataclass(frozen=True)
class Cut:
    pass


@dataclass(frozen=True)
class Buzzer:
    times: int
    duration: int


Op = Raw | Text | Style | Barcode128 | QR | Cut | Buzzer


@dataclass(frozen=True)
class SlipContext:
    station_name: str
    operator: str | None
    when: str  # local time, already formatted
    width_mm: int = 80
    red: bool = True
    buzzer: bool = True
    handover: bool = False  # at the courier handover point: pull the parcel from the cage

    @property
    def columns(self) -> int:
        return COLUMNS[self.width_mm]


def slip_for(outcome: Outcome, ctx: SlipContext) -> list[Op]:
    if outcome.decision is Decision.BLOCK:
        return block_slip(outcome, ctx)
    if outcome.decision is Decision.HOLD:
        return hold_slip(outcome, ctx)
    return pass_slip(outcome, ctx)


def block_slip(outcome: Outcome, ctx: SlipContext) -> list[Op]:
    big = BIG[ctx.width_mm]
    drill = outcome.reason == Reason.DRILL.value
    ops: list[Op] = [Raw(INIT), Raw(CHINESE_ON), Style(align="center", bold=True)]
    if drill:  # marked before the banner too, so nobody takes it for a real refund
        ops += [Style(size=(big - 2, big - 2)), Text("** 演练 DRILL **\n"), Style(size=(1, 1))]
    if ctx.red:
        ops.append(Raw(RED_ON))
    ops += [
        Style(size=(big, big), invert=True),
        Text("已退款\n"),
        Text("请勿发货\n" if not ctx.handover else "从交接中取出\n"),
        Style(size=(1, 1), invert=False),
    ]
    if ctx.red:
        ops.append(Raw(RED_OFF))
    ops += [Style(align="left", bold=False), Text("=" * ctx.columns + "\n")]
    ops += _lines(ctx, f"原因：{outcome.message}")
    ops += _details(outcome, ctx)
    if drill:
        ops += _lines(ctx, "演练：本工位拦截正常，无需处理，请销毁本单")
    else:
        where = "请从快递交接筐中取出，放入隔离货架" if ctx.handover else "请放入隔离货架"
        ops += _lines(ctx, f"{where}，主管扫描下方二维码处理")
        ops += _exception_qr(outcome)
    ops.append(Cut())
    if ctx.buzzer:
        ops.append(Buzzer(times=3, duration=9))
    return ops


def hold_slip(outcome: Outcome, ctx: SlipContext) -> list[Op]:
    big = BIG[ctx.width_mm] - 2
    rule = "*" * ctx.columns + "\n"
    ops: list[Op] = [Raw(INIT), Raw(CHINESE_ON), Style(align="center", bold=True), Text(rule)]
    ops += [Style(size=(big, big)), Text("暂停发货\n"), Style(size=(1, 1)), Text(rule)]
    ops += [Style(align="left", bold=True), *_lines(ctx, outcome.message), Style(bold=False)]
    for item in outcome.items_out:  # partial refund: the goods to take out, by name
        ops += _lines(ctx, f"取出：{item}")
    ops += _details(outcome, ctx)
    if outcome.scan_id:
        ops += _lines(ctx, "请交主管处理")
        ops += _exception_qr(outcome)
    ops.append(Cut())
    if ctx.buzzer:
        ops.append(Buzzer(times=2, duration=3))
    return ops


def pass_slip(outcome: Outcome, ctx: SlipContext) -> list[Op]:
    """可发货 check slip: the decision and the goods to pack. Never anything a courier could take for
    a waybill (no carrier banner, no sort code, no tracking barcode): the real e-waybill is printed
    by the ERP through the platform's print component."""
    ops: list[Op] = [Raw(INIT), Raw(CHINESE_ON), Style(align="center", bold=True)]
    ops += [Style(size=(3, 3)), Text("可发货\n"), Style(size=(1, 1)), Text("核对单 非运单\n")]
    ops += [Style(align="left", bold=False)]
    ops += _details(outcome, ctx)
    waybill = outcome.waybill
    if waybill is not None:
        ops += _lines(ctx, f"运单号：{waybill.tracking_no}")
        if waybill.items:
            ops += [Text("-" * ctx.columns + "\n"), *_lines(ctx, "商品：")]
        for item in waybill.items:
            ops += _lines(ctx, f"· {item}")
    ops.append(Cut())
    return ops


def forward_failed_slip(outcome: Outcome, ctx: SlipContext) -> list[Op]:
    """A PASS whose code could not be typed into the packing PC: its waybill did not print."""
    big = BIG[ctx.width_mm] - 2
    rule = "!" * ctx.columns + "\n"
    ops: list[Op] = [Raw(INIT), Raw(CHINESE_ON), Style(align="center", bold=True), Text(rule)]
    ops += [Style(size=(big, big), invert=True), Text("转发失败\n"), Style(size=(1, 1), invert=False)]
    ops += [Text("运单未打印\n"), Text(rule), Style(align="left", bold=False)]
    ops += _lines(ctx, "本单已放行，但条码没有送到打单电脑。请检查打单电脑的连接后重新扫描，或联系主管。")
    ops += _details(outcome, ctx)
    ops.append(Cut())
    if ctx.buzzer:
        ops.append(Buzzer(times=2, duration=3))
    return ops


def printer_test_slip(ctx: SlipContext, printer_desc: str) -> list[Op]:
    """For IT: Chinese text, red, inversion, sizes, a CODE128 and a QR, cut, beep."""
    ops: list[Op] = [Raw(INIT), Raw(CHINESE_ON), Style(align="center", bold=True)]
    ops += [Style(size=(2, 2)), Text("打印测试\n"), Style(size=(1, 1), bold=False)]
    if ctx.red:
        ops += [Raw(RED_ON), Text("红色：已退款 请勿发货\n"), Raw(RED_OFF)]
    ops += [Style(invert=True), Text(" 反白：暂停发货 \n"), Style(invert=False)]
    ops += [Barcode128("SF1234567890123"), Text("SF1234567890123\n"), QR(EXCEPTION_PREFIX + "TEST", size=5)]
    ops += [Style(align="left")]
    ops += _lines(ctx, f"工位：{ctx.station_name}")
    ops += _lines(ctx, f"打印机：{printer_desc}")
    ops += _lines(ctx, f"纸宽：{ctx.width_mm}mm（每行{ctx.columns}字符）")
    ops += _lines(ctx, f"时间：{ctx.when}")
    ops += _lines(ctx, "中文全角标点：【】、：，。")
    ops.append(Cut())
    if ctx.buzzer:
        ops.append(Buzzer(times=1, duration=2))
    return ops


def manifest_slip(manifest: dict, ctx: SlipContext) -> list[Op]:
    """The handover manifest (交接单): per courier, the count and every tracking number, to sign."""
    ops: list[Op] = [Raw(INIT), Raw(CHINESE_ON), Style(align="center", bold=True, size=(2, 2))]
    ops += [Text("交接单\n"), Style(size=(1, 1)), Text(f"{manifest.get('date', '')}  {ctx.station_name}\n")]
    for pickup in manifest.get("pickups", []):
        ops += [Style(align="left", bold=True), Text("=" * ctx.columns + "\n")]
        ops += _lines(ctx, f"{pickup['courier']}  共 {pickup['count']} 件")
        ops.append(Style(bold=False))
        for n, line in enumerate(pickup["lines"], start=1):
            ops += _lines(ctx, f"{n:>3}. {line['code']}")
        ops += [
            Text("\n"),
            *_lines(ctx, "快递员签字：____________"),
            *_lines(ctx, "交接人签字：____________"),
        ]
    if not manifest.get("pickups"):
        ops += [Style(align="left"), *_lines(ctx, "今天还没有交接扫描")]
    ops.append(Cut())
    return ops


def _details(outcome: Outcome, ctx: SlipContext) -> list[Op]:
    lines = [
        f"订单号：{outcome.order_id or '-'}",
        f"扫描码：{outcome.code}",
        f"工位：{ctx.station_name}",
        f"操作员：{ctx.operator or '未登录'}",
        f"时间：{ctx.when}",
    ]
    if outcome.source is not Source.ONLINE:
        lines.append("离线判定" if outcome.source is Source.OFFLINE else "本地判定")
    ops: list[Op] = []
    for line in lines:
        ops += _lines(ctx, line)
    return ops


def _exception_qr(outcome: Outcome) -> list[Op]:
    if not outcome.scan_id:
        return []
    return [Style(align="center"), QR(EXCEPTION_PREFIX + outcome.scan_id), Style(align="left")]


def _lines(ctx: SlipContext, text: str) -> list[Op]:
    return [Text(line + "\n") for line in wrap(text, ctx.columns)]


def display_width(text: str) -> int:
    """Columns on a printer (or terminal): wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def wrap(text: str, columns: int) -> list[str]:
    """Wrap by display width. An id or tracking number (a run of ASCII) is never split across
    lines unless it is longer than a whole line; Chinese may break between any two characters."""
    tokens = re.findall(r"[!-~]+| +|.", text)
    lines, current, width = [], "", 0
    for token in tokens:
        w = display_width(token)
        if width + w > columns and current:
            lines.append(current.rstrip())
            current, width = "", 0
            if token.isspace():
                continue
        while w > columns:  # longer than a line: hard-wrap it
            lines.append(token[:columns])
            token = token[columns:]
            w = display_width(token)
        current += token
        width += w
    if current or not lines:
        lines.append(current)
    return lines
