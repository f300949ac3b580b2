"""The exception queue: listing, the live fragment, clearing, refusals, overrides, warehouses."""

from __future__ import annotations

from factories import assign_tracking, make_order, refund
from sqlalchemy import select

from server.clearing import override_in_force
from server.models import AuditLog, Operator, ScanException
from server.models.users import GateOverride


def exception_of(session, answer) -> ScanException:
    session.expire_all()
    return session.get(ScanException, answer["exception_id"])


def test_queue_lists_open_exceptions_newest_first_with_labels(as_lead, session, station_scan, blocked):
    session.add(Operator(name="张三", badge="P001"))
    session.commit()
    held = make_order(session, skus=2)
    refund(session, held, sku_order_id=held.skus[0].sku_order_id)
    station_scan(held.order_id)
    page = as_lead.get("/").get_data(as_text=True)
    assert page.index(held.order_id) < page.index(blocked[0].order_id)  # newest first
    for text in ("已退款", "部分商品已退款", "拦截", "暂停", "bench-1", "张三（P001）", "已等待", "秒"):
        assert text in page
    assert 'data-poll-url="/queue/rows' in page and "autofocus" in page


def test_the_fragment_is_the_table_alone_and_never_cached(as_lead, blocked):
    response = as_lead.get("/queue/rows")
    text = response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert f'data-order="{blocked[0].order_id}"' in text and "<html" not in text


def test_empty_queue_says_so(as_lead):
    assert "当前没有待处理的异常" in as_lead.get("/queue/rows").get_data(as_text=True)


def test_a_lead_clears_with_a_resolution_and_it_is_audited(as_lead, session, blocked):
    order, answer = blocked
    url = f"/exceptions/{answer['exception_id']}"
    page = as_lead.get(url).get_data(as_text=True)
    assert "放入退款区" in page and "强制放行" not in page  # leads see no override
    response = as_lead.post(url + "/clear", {"resolution": "moved_to_refund_shelf", "note": "已放好"})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "已清除异常：放入退款区" in as_lead.get("/").get_data(as_text=True)
    exception = exception_of(session, answer)
    assert (exception.status, exception.resolution, exception.cleared_by) == (
        "cleared",
        "moved_to_refund_shelf",
        "user:lead",
    )
    assert exception.note == "已放好"
    audit = session.scalar(select(AuditLog).where(AuditLog.action == "exception.clear"))
    assert audit.actor == "user:lead" and audit.target == f"exception:{exception.id}"
    assert (
        audit.detail["resolution"] == "moved_to_refund_shelf" and audit.detail["order_id"] == order.order_id
    )
    assert order.order_id not in as_lead.get("/queue/rows").get_data(as_text=True)
    assert "已清除" in as_lead.get(url).get_data(as_text=True)


def test_refused_clearings_say_why_beside_the_field_and_change_nothing(as_lead, blocked, snapshot):
    url = f"/exceptions/{blocked[1]['exception_id']}/clear"
    before = snapshot(ScanException, AuditLog)
    cases = [
        ({}, "请选择处理方式"),
        ({"resolution": "thrown_away"}, "请选择处理方式"),
        ({"resolution": "override_release"}, "请选择处理方式"),
        ({"resolution": "misscan", "note": "长" * 501}, "备注不能超过 500"),
        ({"resolution": "misscan", "note": "bad\x00note"}, "备注含有无效字符"),
        ({"resolution": "refund_closed_release"}, "订单当前仍被拦截或暂停，不能选择“退款已关闭可发货”"),
    ]
    for data, message in cases:
        response = as_lead.post(url, data)
        text = response.get_data(as_text=True)
        assert response.status_code == 400 and message in text, data
        assert 'class="field-error"' in text
    assert snapshot(ScanException, AuditLog) == before


def test_refund_closed_release_once_douyin_says_the_refund_closed(as_lead, session, station_scan):
    order = make_order(session)
    after_sale = refund(session, order, status=6, refund_status=1)  # asked for: HOLD
    answer = station_scan(order.order_id)
    assert answer["reason"] == "refund_pending"
    refund(
        session,
        order,
        aftersale_id=after_sale.aftersale_id,
        status=28,
        refund_status=None,
        update_time=1_700_000_300,
    )
    response = as_lead.post(
        f"/exceptions/{answer['exception_id']}/clear", {"resolution": "refund_closed_release"}
    )
    assert response.status_code == 302
    assert exception_of(session, answer).resolution == "refund_closed_release"


def test_clearing_twice_is_refused(as_lead, blocked):
    url = f"/exceptions/{blocked[1]['exception_id']}/clear"
    assert as_lead.post(url, {"resolution": "misscan"}).status_code == 302
    again = as_lead.post(url, {"resolution": "moved_to_refund_shelf"})
    assert again.status_code == 400 and "该异常已被清除" in again.get_data(as_text=True)


def test_unknown_exception_is_404(as_lead):
    assert as_lead.get("/exceptions/999999").status_code == 404
    assert as_lead.post("/exceptions/999999/clear", {"resolution": "misscan"}).status_code == 404


# --- overrides --------------------------------------------------------------------------------


def test_a_lead_cannot_override_a_block(as_lead, blocked, snapshot):
    before = snapshot(ScanException, AuditLog, GateOverride)
    url = f"/exceptions/{blocked[1]['exception_id']}/override"
    response = as_lead.post(url, {"note": "客户坚持要发", "confirm": "1"})
    assert response.status_code == 403
    assert snapshot(ScanException, AuditLog, GateOverride) == before


def test_an_admin_override_needs_a_reason_and_a_confirmation(as_admin, blocked, snapshot):
    before = snapshot(ScanException, AuditLog, GateOverride)
    url = f"/exceptions/{blocked[1]['exception_id']}/override"
    for data, message in [
        ({"confirm": "1"}, "请填写放行原因"),
        ({"note": "ok", "confirm": "1"}, "请写明强制放行的原因"),
        ({"note": "买家撤销退款，平台未同步"}, "请勾选确认"),
    ]:
        response = as_admin.post(url, data)
        assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert snapshot(ScanException, AuditLog, GateOverride) == before


def test_an_admin_override_releases_loudly_until_douyin_changes(as_admin, session, blocked, caplog):
    order, answer = blocked
    assert "强制放行（仅管理员）" in as_admin.get(f"/exceptions/{answer['exception_id']}").get_data(
        as_text=True
    )
    url = f"/exceptions/{answer['exception_id']}/override"
    with caplog.at_level("WARNING", logger="server.clearing"):
        response = as_admin.post(url, {"note": "买家撤销退款，平台未同步", "confirm": "1"})
    assert response.status_code == 302
    assert "GATE OVERRIDE" in caplog.text and order.order_id in caplog.text
    exception = exception_of(session, answer)
    assert (exception.status, exception.resolution, exception.cleared_by) == (
        "cleared",
        "override_release",
        "user:admin",
    )
    audit = session.scalar(select(AuditLog).where(AuditLog.action == "gate.override"))
    assert audit.target == f"order:{order.order_id}" and audit.detail["severity"] == "critical"
    assert audit.detail["gate_decision"] == "BLOCK"
    assert override_in_force(session, order.order_id).actor == "user:admin"
    page = as_admin.get(f"/orders/{order.order_id}").get_data(as_text=True)
    assert "强制放行此订单" in page and "买家撤销退款，平台未同步" in page
    assign_tracking(session, order.order_id, "SF9999999999999")  # the order changes: a new gate version
    session.commit()
    assert override_in_force(session, order.order_id) is None


def test_only_an_order_the_gate_stops_can_be_overridden(as_admin, session, station_scan, snapshot):
    unknown = station_scan("4899999999999999999")  # HOLD without a gate entry
    order = make_order(session)
    after_sale = refund(session, order)
    blocked = station_scan(order.order_id)
    refund(
        session,
        order,
        aftersale_id=after_sale.aftersale_id,
        status=28,
        refund_status=4,
        update_time=1_700_000_300,
    )
    before = snapshot(ScanException, GateOverride, AuditLog)
    data = {"note": "测试放行原因", "confirm": "1"}
    for answer, message in [(unknown, "没有对应的订单"), (blocked, "订单已可发货")]:
        response = as_admin.post(f"/exceptions/{answer['exception_id']}/override", data)
        assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert snapshot(ScanException, GateOverride, AuditLog) == before


def test_an_admin_override_of_a_held_refund_lets_the_rescan_pass(as_admin, session, station_scan):
    """It used to be accepted (302, a critical audit row) while the rescan still held."""
    order = make_order(session)
    refund(session, order, status=6, refund_status=1)  # 待商家同意: a refund asked for
    held = station_scan(order.order_id)
    assert (held["decision"], held["reason"]) == ("HOLD", "refund_pending")
    data = {"note": "买家已撤销退款申请，平台未同步", "confirm": "1"}
    assert as_admin.post(f"/exceptions/{held['exception_id']}/override", data).status_code == 302
    again = station_scan(order.order_id)
    assert (again["decision"], again["reason"], again["exception_id"]) == ("PASS", "override", None)


def test_an_unpaid_order_cannot_be_overridden_and_nothing_is_written(
    as_admin, session, station_scan, snapshot
):
    order = make_order(session, order_status=1)
    held = station_scan(order.order_id)
    assert (held["decision"], held["reason"]) == ("HOLD", "unpaid")
    url = f"/exceptions/{held['exception_id']}"
    page = as_admin.get(url).get_data(as_text=True)
    assert "订单未付款，不能强制放行" in page and "我确认" not in page  # no form, the reason instead
    before = snapshot(ScanException, GateOverride, AuditLog)
    response = as_admin.post(url + "/override", {"note": "客户说已经付款了", "confirm": "1"})
    assert response.status_code == 400 and "订单未付款，不能强制放行" in response.get_data(as_text=True)
    assert snapshot(ScanException, GateOverride, AuditLog) == before
    assert station_scan(order.order_id)["decision"] == "HOLD"


# --- warehouses -------------------------------------------------------------------------------


def test_a_lead_bound_to_another_warehouse_neither_sees_nor_clears(web, make_user, blocked, snapshot):
    make_user("south-lead", warehouse="south")
    web.login("south-lead")
    assert blocked[0].order_id not in web.get("/").get_data(as_text=True)
    url = f"/exceptions/{blocked[1]['exception_id']}"
    assert web.get(url).status_code == 403
    before = snapshot(ScanException, AuditLog)
    assert web.post(url + "/clear", {"resolution": "misscan"}).status_code == 403
    assert snapshot(ScanException, AuditLog) == before


def test_a_lead_of_the_warehouse_sees_it_and_an_unbound_user_can_filter(
    web, new_web, make_user, session, blocked
):
    make_user("main-lead", warehouse="main")
    south = make_user("south-lead", warehouse="south").warehouse_id
    web.login("main-lead")
    assert blocked[0].order_id in web.get("/").get_data(as_text=True)
    make_user("boss", "admin")
    boss = new_web()
    boss.login("boss")
    page = boss.get("/").get_data(as_text=True)
    assert blocked[0].order_id in page and 'name="warehouse"' in page and ">south<" in page
    assert blocked[0].order_id not in boss.get(f"/queue/rows?warehouse={south}").get_data(as_text=True)
    assert blocked[0].order_id not in boss.get(f"/?warehouse={south}").get_data(as_text=True)
