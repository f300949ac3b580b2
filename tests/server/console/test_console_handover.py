"""The handover page (manifests, packed but not handed over) and drills (print, floor flags)."""

from __future__ import annotations

import re
from datetime import datetime, time
from urllib.parse import urlsplit

import pytest
from factories import make_order
from sqlalchemy import func, select

from server.console.labels import CHINA
from server.models import AuditLog, Drill, DrillRun, Scan
from server.stations import enrol


def scan(client, token, code, scan_id, mode="bench"):
    """Scan at the app's business clock's now (the station's clock agrees with the server's)."""
    now = client.application.extensions["shipgate.clock"].now()
    body = {"scan_id": scan_id, "code": code, "scanned_at": now.isoformat(), "mode": mode}
    return client.post("/api/v1/scans", json=body, headers={"Authorization": f"Bearer {token}"}).json


def test_handover_page_lists_manifests_and_what_was_not_handed_over(as_lead, client, session, station_token):
    _gate, gate_token = enrol(session, "交接口", "main", mode="handover")
    session.commit()
    handed, left = make_order(session, tracking_no="SF1234567890401"), make_order(session)
    scan(client, station_token, handed.order_id, "p-1")
    scan(client, station_token, left.order_id, "p-2")
    scan(client, gate_token, "SF1234567890401", "h-1", mode="handover")
    page = as_lead.get("/handover").get_data(as_text=True)
    assert "顺丰速运" in page and "共 1 件" in page and "SF1234567890401" in page
    missing = page.split("已打包未交接")[1].split("</section>")[0]
    assert left.order_id in missing and handed.order_id not in missing


def test_printing_drills_makes_codes_that_block_and_the_floor_shows_them(
    as_lead, client, session, station_token
):
    page = as_lead.post("/drills", {"count": "2"}).get_data(as_text=True)
    codes = re.findall(r"SG-DR-[0-9a-f]{12}", page)
    assert len(set(codes)) == 2 and session.scalar(select(func.count()).select_from(Drill)) == 2
    assert (
        session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "drill.issue"))
        == 1
    )
    floor = as_lead.get("/floor").get_data(as_text=True)
    assert 'data-drill="never"' in floor
    assert scan(client, station_token, codes[0], "d-1")["decision"] == "BLOCK"
    session.expire_all()
    assert session.scalar(select(DrillRun)).passed
    floor = as_lead.get("/floor").get_data(as_text=True)
    assert 'data-drill="ok"' in floor
    drills_page = as_lead.get("/drills").get_data(as_text=True)
    assert "正常" in drills_page


def test_drill_scans_do_not_count_in_todays_numbers(as_lead, client, session, station_token):
    [code] = re.findall(
        r"SG-DR-[0-9a-f]{12}", as_lead.post("/drills", {"count": "1"}).get_data(as_text=True)
    )[:1]
    scan(client, station_token, code, "d-2")
    assert session.scalar(select(func.count()).select_from(Scan)) == 1
    tiles = as_lead.get("/floor").get_data(as_text=True).split("今日统计")[1].split("</section>")[0]
    assert "<dd>0</dd>" in tiles  # no scans, no blocks


def test_anonymous_cannot_print_drills(web, session):
    """Anonymous is sent to sign in (before any CSRF check: it has no session to hold a token)."""
    response = web.post("/drills", {"count": "2"}, csrf=False)
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"
    assert session.scalar(select(func.count()).select_from(Drill)) == 0


@pytest.fixture
def afternoon(clock):
    """Mid-afternoon in China (before anyone signs in): a refund 30 s ago and a scan now fall on
    the China day and month the pages show by default, whatever the machine's clock says."""
    today = clock.now().astimezone(CHINA).date()
    clock.set(datetime.combine(today, time(15), CHINA))


def test_the_funnel_on_the_review_and_handover_pages(
    afternoon, as_lead, client, session, station_token, clock
):
    from factories import refund

    order = make_order(session)
    refund(session, order, update_time=int(clock.now().timestamp()) - 30)
    assert scan(client, station_token, order.order_id, "f-1")["decision"] == "BLOCK"
    for page in ("/review", "/handover"):
        text = as_lead.get(page).get_data(as_text=True)
        assert 'data-step="reached">1<' in text and 'data-step="packing">1<' in text, page


def test_a_handover_block_names_the_handover_point_and_courier_in_the_queue(as_lead, client, session):
    from factories import refund

    _gate, gate_token = enrol(session, "交接口A", "main", mode="handover")
    session.commit()
    order = make_order(session, tracking_no="YT1234567890777")
    refund(session, order)
    assert scan(client, gate_token, "YT1234567890777", "h-9", mode="handover")["decision"] == "BLOCK"
    assert "交接口A · 交接 YTO" in as_lead.get("/").get_data(as_text=True)
