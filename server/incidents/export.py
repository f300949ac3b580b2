"""The monthly review as an Excel workbook (openpyxl): one sheet per breakdown, plus the month
against the previous one and the handbook of resolved incidents. Money in yuan with two decimals."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from server.incidents.facts import HandbookRow
from server.incidents.ledger import LABELS as LEDGER_LABELS
from server.incidents.review import Counts, Review, compare

COUNT_HEADERS = ["拦截（BLOCK）", "暂停（HOLD）", "退款后已发货事件"]


def _sheet(book: Workbook, title: str, headers: list[str], rows: list[list]) -> None:
    sheet = book.create_sheet(title)
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    for line in sheet.iter_rows():
        for cell in line:
            _as_text(cell)
    for index, header in enumerate(headers, start=1):
        width = max([len(str(header)) * 2] + [len(str(r[index - 1])) + 2 for r in rows if index <= len(r)])
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width, 8), 60)
    sheet.freeze_panes = "A2"


def _as_text(cell) -> None:
    """Every string is written as text, never as a formula: a station's operator name or a Douyin
    category starting with "=" (=HYPERLINK, =WEBSERVICE) would otherwise run when opened. The quote
    prefix keeps it text when someone edits the cell in Excel too."""
    if isinstance(cell.value, str):
        cell.data_type = "s"
        cell.quotePrefix = True


def _counts(table: dict[str, Counts]) -> list[list]:
    return [[name, c.blocks, c.holds, c.incidents] for name, c in table.items()]


def _yuan(fen: int | None) -> float | None:
    return None if fen is None else round(fen / 100, 2)


def workbook(current: Review, previous: Review, handbook: list[HandbookRow], warehouse: str) -> bytes:
    book = Workbook()
    book.remove(book.active)
    summary = []
    for c in compare(current, previous):
        cur, prev, delta = c.current, c.previous, c.delta
        if c.unit == "fen":
            cur, prev, delta = _yuan(cur), _yuan(prev), _yuan(delta)
        summary.append(
            [c.label + ("（元）" if c.unit == "fen" else "（%）" if c.unit == "%" else ""), cur, prev, delta]
        )
    _sheet(book, "概览", ["指标", f"{current.month}（{warehouse}）", previous.month, "变化"], summary)
    _sheet(book, "按小时", ["小时", *COUNT_HEADERS], [[f"{h:02d}:00", c.blocks, c.holds, c.incidents]
                                                     for h, c in enumerate(current.by_hour)])  # fmt: skip
    _sheet(book, "按类目", ["商品类目", *COUNT_HEADERS], _counts(current.by_category))
    _sheet(book, "按工作站", ["工作站", *COUNT_HEADERS], _counts(current.by_station))
    _sheet(book, "按打包员", ["打包员", *COUNT_HEADERS], _counts(current.by_packer))
    _sheet(book, "按原因", ["内部原因", "事件数"], [[k, v] for k, v in current.by_cause.items()])
    _sheet(book, "同步延迟", ["退款成功→首次拦截扫描", "订单数"], [list(b) for b in current.lag_buckets])
    houses = {**current.losses_by_warehouse, "合计": current.losses}
    _sheet(
        book,
        "损失",
        ["仓库", *(f"{label}（元）" for label in LEDGER_LABELS.values()), "净损失（元）"],
        [[house, *(_yuan(v) for v in ledger.as_dict().values())] for house, ledger in houses.items()],
    )
    _sheet(
        book,
        "经验手册",
        [
            "事件",
            "订单号",
            "商品",
            "处理结果",
            "拦截",
            "联系模板",
            "内部原因",
            "原因说明",
            "备注",
            "净损失（元）",
        ],
        [
            [
                h.incident_id,
                h.order_id,
                h.goods,
                h.outcome,
                h.intercept,
                h.templates,
                h.cause,
                h.cause_note,
                h.notes,
                _yuan(h.net_loss),
            ]  # fmt: skip
            for h in handbook
        ],
    )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
