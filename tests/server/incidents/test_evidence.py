"""The evidence pack: refund record, tracking number, goods, scans with stations and packers, the
timeline, contacts and what was said, the ledger; as a printable page and a JSON download; and
no buyer phone number or address anywhere in it."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest
from factories import make_order, refund
from sqlalchemy import select

from server.models import Operator
from server.models.incidents import Incident

PII_KEY = re.compile(r"phone|mobile|address|tel|收货|电话|手机|地址", re.IGNORECASE)
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
CSS = Path(__file__).resolve().parents[3] / "server" / "console" / "static" / "incidents.css"


@pytest.fixture
def handled(session, station_scan, as_lead, clock) -> Incident:
    session.add_all([Operator(name="张三", badge="P001"), Operator(name="李四", badge="P002")])
    order = make_order(session, tracking_no="SF1234567890123")
    clock.set(datetime.fromisoformat("2026-11-26T08:59:00+08:00"))  # the server's time at each scan
    station_scan(order.order_id, operator="P002", at="2026-11-26T08:59:00+08:00")  # a PASS
    clock.set(datetime.fromisoformat("2026-11-26T09:01:00+08:00"))  # the refund is learned
    refund(session, order, update_time=1_795_654_800)  # 2026-11-26 09:00:00 +08:00
    clock.set(datetime.fromisoformat("2026-11-26T09:05:00+08:00"))
    station_scan(order.order_id, operator="P001", at="2026-11-26T09:05:00+08:00")  # now BLOCK
    clock.advance(minutes=1)  # then the leads act
    incident = session.scalar(select(Incident))
    url = f"/incidents/{incident.id}"
    for name, data in [
        ("outcome", {"outcome": "refused"}),
        (
            "contact",
            {
                "template": "refuse_delivery",
                "channel": "doudian_im",
                "reply": "好的，会拒收",
                "message": "您好，包裹送到时麻烦直接拒收，运费由我们承担，非常抱歉。",
            },
        ),  # fmt: skip
        ("ledger", {"return_freight": "15", "coupon": "5"}),
    ]:
        assert as_lead.post(f"{url}/{name}", data).status_code == 302
    return incident


def walk(value, path=""):
    """Every (key path, key, leaf value) of a JSON document."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"{path}.{key}", key, item
            yield from walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, f"{path}[{index}]")


def test_the_json_download_holds_the_whole_story(as_lead, handled):
    response = as_lead.get(f"/incidents/{handled.id}/evidence.json")
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="incident-{handled.id}-{handled.order_id}.json"'
    )
    pack = json.loads(response.data)
    [refund_row] = pack["refunds"]
    assert refund_row["aftersale_id"] == handled.aftersale_id and refund_row["refund_amount"] == 8900
    assert refund_row["updated_at"] == "2026-11-26T09:00:00+08:00"
    assert pack["tracking"] == [{"tracking_no": "SF1234567890123", "company": "顺丰速运",
                                 "issued_at": pack["tracking"][0]["issued_at"], "current": True}]  # fmt: skip
    assert [g["name"] for g in pack["goods"]] == ["商品1"]
    scans = [(s["station"], s["packer_name"], s["packer_badge"], s["decision"]) for s in pack["scans"]]
    assert scans == [("bench-1", "李四", "P002", "PASS"), ("bench-1", "张三", "P001", "BLOCK")]
    kinds = [m["kind"] for m in pack["timeline"]]
    # PASS 08:59, refund 09:00 (detected when learned, 09:01), BLOCK 09:05
    assert kinds[:4] == ["scan", "refund_succeeded", "detected", "scan"]
    assert kinds[4:] == [
        "outcome",
        "contact",
        "ledger",
    ]  # then what the leads did, as it happened
    [contact] = pack["contacts"]
    assert (
        contact["channel_label"] == "抖店客服（飞鸽）"
        and contact["template_title"] == "请买家拒签：运费由我方承担"
    )
    assert contact["reply"] == "好的，会拒收" and "运费由我们承担" in contact["message"]
    assert pack["ledger"] == {"goods_value": 8900, "return_freight": 1500, "compensation": 0, "coupon": 500,
                              "claim_recovered": 0, "written_off": 0, "net_loss": 2000}  # fmt: skip
    assert pack["incident"]["race_window_s"] == -60 and pack["incident"]["follow_up"] == "买家拒签，退回中"


def test_no_buyer_phone_or_address_anywhere(as_lead, handled):
    pack = json.loads(as_lead.get(f"/incidents/{handled.id}/evidence.json").data)
    named = [path for path, key, _value in walk(pack) if PII_KEY.search(key)]
    assert named == []
    leaves = [str(v) for _p, _k, v in walk(pack) if not isinstance(v, dict | list)]
    assert [v for v in leaves if MOBILE.search(v)] == []
    page = as_lead.get(f"/incidents/{handled.id}/evidence").get_data(as_text=True)
    assert MOBILE.search(re.sub(r"<[^>]+>", " ", page)) is None


def test_the_print_page(as_lead, handled):
    page = as_lead.get(f"/incidents/{handled.id}/evidence").get_data(as_text=True)
    for text in ("证据包", "SF1234567890123", "顺丰速运", "李四（P002）", "张三（P001）", "好的，会拒收", "¥20.00",
                 "请买家拒签：运费由我方承担", handled.aftersale_id, "data-print", "incidents.css"):  # fmt: skip
        assert text in page, text
    assert "@media print" in CSS.read_text("utf-8")


def test_another_warehouses_lead_cannot_see_it(new_web, make_user, handled):
    make_user("south", "lead", warehouse="华南仓")
    other = new_web()
    other.login("south")
    for url in (f"/incidents/{handled.id}", f"/incidents/{handled.id}/evidence.json"):
        assert other.get(url).status_code == 403
    assert other.get("/incidents/999999").status_code == 404
