"""Buyer-contact templates: the defaults keep the rules, rules-breaking text is refused, admins
(only) edit them, and the incident page fills one in for the lead."""

from __future__ import annotations

import pytest
from factories import make_order, refund
from sqlalchemy import select

from server.incidents.templates import DEFAULTS, PLACEHOLDERS, problems, render
from server.models.incidents import ContactTemplate, Incident

VALUES = {
    "shop": "测试小店",
    "order_id": "4800000000000000001",
    "goods": "连衣裙 ×1",
    "coupon": "10",
    "compensation": "5",
}


@pytest.mark.parametrize("key", list(DEFAULTS))
def test_every_default_keeps_the_rules_and_fills_in(key):
    default = DEFAULTS[key]
    assert problems(default.body) == []
    text = render(default.body, VALUES)
    assert "{" not in text and VALUES["order_id"] in text and "测试小店" in text
    assert "抱歉" in text or "致歉" in text  # it apologises: the mistake is ours


def test_the_defaults_cover_each_situation():
    assert set(DEFAULTS) == {"keep_goods", "refuse_delivery", "signed_return", "lost_damaged", "intercepted"}
    assert "运费" in DEFAULTS["refuse_delivery"].body and "承担" in DEFAULTS["refuse_delivery"].body
    assert "{coupon}" in DEFAULTS["keep_goods"].body and "{compensation}" in DEFAULTS["signed_return"].body


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("请告诉我们您的手机号", "不得索要或写入买家手机号"),
        ("请把收货地址发给我", "不得索要或写入买家地址"),
        ("加我微信 abc", "只能通过抖店平台渠道联系买家"),
        ("不寄回就报警", "不得威胁买家"),
        ("这属于不当得利", "不得威胁买家"),
        ("运费由您承担", "费用不能由买家承担"),
        ("请到付寄回", "不能让买家到付"),
        ("联系 13800138000", "电话号码样式的数字"),
        # after normalising: separators, full-width digits, +86, landlines, street addresses
        ("联系 138-1234-5678", "电话号码"),
        ("联系 138 1234 5678", "电话号码"),
        ("联系 １３８１２３４５６７８", "电话号码"),  # full-width digits
        ("联系 +86 138.1234.5678", "电话号码"),
        ("座机 021-6234 5678", "电话号码"),
        ("寄到 上海市浦东新区张江路88号", "地址"),
        ("送到 3栋2单元501室", "地址"),
        ("送到 ３栋２单元５０１室", "地址"),
        ("加 ＱＱ 好友", "QQ"),
        ("订单 {order}", "未知的占位符：{order}"),
        ("订单 {order_id", "花括号不成对"),
        ("", "内容不能为空"),
    ],
)
def test_text_that_breaks_the_rules_is_named(text, why):
    assert any(why in p for p in problems(text)), problems(text)


def test_rendering_ignores_unknown_values():
    assert render("{order_id}/{coupon}", {"order_id": "1", "phone": "13800138000"}) == "1/"
    assert set(PLACEHOLDERS) == {"shop", "order_id", "goods", "coupon", "compensation"}


def test_admins_edit_and_reset_templates(as_admin, session, new_web, make_user):
    page = as_admin.get("/incidents/templates").get_data(as_text=True)
    assert all(d.title in page for d in DEFAULTS.values())
    body = "您好，{shop} 向您致歉：订单 {order_id} 被误发，包裹到了请直接拒收，运费我们承担。"
    saved = as_admin.post("/incidents/templates/refuse_delivery", {"title": "请拒收", "body": body})
    assert saved.status_code == 302
    row = session.get(ContactTemplate, "refuse_delivery")
    assert (row.title, row.body, row.updated_by) == ("请拒收", body, "user:admin")
    refused = as_admin.post(
        "/incidents/templates/refuse_delivery", {"title": "请拒收", "body": "不拒收就起诉"}
    )
    assert refused.status_code == 400 and "不得威胁买家" in refused.get_data(as_text=True)
    session.expire_all()
    assert session.get(ContactTemplate, "refuse_delivery").body == body  # unchanged
    assert as_admin.post("/incidents/templates/refuse_delivery", {"reset": "1"}).status_code == 302
    session.expire_all()
    assert session.get(ContactTemplate, "refuse_delivery").body == DEFAULTS["refuse_delivery"].body
    assert as_admin.post("/incidents/templates/nope", {"title": "x", "body": "y"}).status_code == 404
    make_user("lead2", "lead")
    lead = new_web()
    lead.login("lead2")
    assert lead.get("/incidents/templates").status_code == 403
    assert lead.post("/incidents/templates/keep_goods", {"title": "x", "body": "y"}).status_code == 403


def test_the_incident_page_fills_in_the_chosen_template(as_lead, session, station_scan):
    order = make_order(session, tracking_no="SF1234567890123")
    station_scan(order.order_id)
    refund(session, order)
    incident = session.scalar(select(Incident))
    page = as_lead.get(f"/incidents/{incident.id}?template=signed_return").get_data(as_text=True)
    assert f"订单号 {order.order_id}）因我们的失误被误发" in page and "商品1 ×1" in page
    assert '<input type="hidden" name="template" value="signed_return">' in page
    assert "〔金额〕" in page  # no compensation booked yet: the lead fills it in


def test_reading_the_pages_writes_nothing(as_admin, session, station_scan, snapshot):
    """GET requests used to commit: the defaults seeded on first view, an incident completed."""
    order = make_order(session, tracking_no="SF1234567890123")
    station_scan(order.order_id)
    refund(session, order)
    incident = session.scalar(select(Incident))
    before = snapshot(ContactTemplate, Incident)
    page = as_admin.get(f"/incidents/{incident.id}?template=signed_return").get_data(as_text=True)
    assert f"订单号 {order.order_id}）因我们的失误被误发" in page  # the default, read, not stored
    assert DEFAULTS["signed_return"].title in as_admin.get("/incidents/templates").get_data(as_text=True)
    assert snapshot(ContactTemplate, Incident) == before


@pytest.mark.parametrize(
    "text",
    [
        "订单号 4835804142146756441 已退款",
        "补偿 5 元，优惠券 10.50 元",
        "2026-11-26 09:00 已拦截",
        "{order_id}",
    ],
)
def test_order_ids_money_and_times_are_not_mistaken_for_personal_data(text):
    assert problems(text) == []


def test_a_note_with_a_dashed_phone_number_is_refused():
    from server.incidents.forms import note_form

    form = note_form({"note": "买家电话 138-1234-5678"})
    assert not form.ok and "请勿填写手机号" in form.errors["note"]
