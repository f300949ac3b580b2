"""The order view and search (as a barcode scanner in keyboard mode would use it)."""

from __future__ import annotations

import pytest
from factories import assign_tracking, make_order, refund


def test_the_order_view_tells_the_whole_story(as_lead, session, station_scan):
    order = make_order(session, skus=2, tracking_no="SF1234567890123")
    refund(session, order, sku_order_id=order.skus[1].sku_order_id, aftersale_type=2)
    assign_tracking(session, order.order_id, "JT0001234567890")
    assign_tracking(session, make_order(session).order_id, "SF1234567890123")  # the courier recycled it
    session.commit()
    station_scan("JT0001234567890")
    text = as_lead.get(f"/orders/{order.order_id}").get_data(as_text=True)
    expected = [
        order.order_id,
        *(sku.sku_order_id for sku in order.skus),
        "商品1",
        "测试小店",
        "备货中",  # order status
        "未发货仅退款",  # after-sale type
        "售后成功",  # after-sale status
        "退款成功",  # refund status
        "¥89.00",
        "SF1234567890123",
        "已作废",  # the recycled number no longer belongs to this order
        "JT0001234567890",
        "部分商品已退款",  # the gate's reason
        "bench-1",
        "P001",
        "异常与处理记录",
        "待处理",
    ]
    for fragment in expected:
        assert fragment in text, fragment


def test_the_order_view_shows_the_clearing_trail(as_lead, blocked):
    order, answer = blocked
    as_lead.post(f"/exceptions/{answer['exception_id']}/clear", {"resolution": "misscan", "note": "扫错了"})
    text = as_lead.get(f"/orders/{order.order_id}").get_data(as_text=True)
    assert "已清除" in text and "误扫" in text and "扫错了" in text and "<td>lead</td>" in text
    assert "user:lead" not in text  # people by name
    assert "exception.clear" in text


@pytest.mark.parametrize("order_id", ["123", "48000000000000000000", "abc", "4899999999999999999"])
def test_not_an_order_is_404(as_lead, order_id):
    assert as_lead.get(f"/orders/{order_id}").status_code == 404


def test_search_finds_by_order_sku_and_tracking_number(as_lead, session):
    order = make_order(session, skus=2, tracking_no="SF1234567890123")
    where = f"/orders/{order.order_id}"
    for query in (
        order.order_id,
        order.skus[1].sku_order_id,
        "SF1234567890123",
        "sf1234567890123",
        " ]C1SF1234567890123 ",
    ):
        response = as_lead.get("/search", query_string={"q": query})
        assert response.status_code == 302 and response.headers["Location"] == where, query


def test_a_recycled_tracking_number_lists_its_current_order_first(as_lead, session):
    old = make_order(session, tracking_no="SF1234567890123")
    new = make_order(session)
    assign_tracking(session, new.order_id, "SF1234567890123")
    session.commit()
    text = as_lead.get("/search?q=SF1234567890123").get_data(as_text=True)
    assert text.index(new.order_id) < text.index(old.order_id)
    assert "回收重用" in text


def test_a_slip_qr_opens_its_exception(as_lead, blocked):
    response = as_lead.get("/search", query_string={"q": f"SG-EX-{blocked[1]['scan_id']}"})
    assert response.headers["Location"] == f"/exceptions/{blocked[1]['exception_id']}"


def test_nothing_found_says_so(as_lead):
    text = as_lead.get("/search?q=YT0000000000000").get_data(as_text=True)
    assert "没有找到" in text and "YT0000000000000" in text


def test_the_search_page_is_ready_for_a_scanner(as_lead):
    text = as_lead.get("/search").get_data(as_text=True)
    assert 'method="get"' in text and 'name="q"' in text and "autofocus" in text


# -- a lead bound to a warehouse reads only what is in it -------------------------------------------


def test_a_bound_lead_reads_only_orders_of_their_warehouse(make_user, new_web, session, station_scan):
    from server.models import Shop, Warehouse

    mine = make_order(session, tracking_no="SF1000000000001")
    theirs = make_order(session, shop_id="20551234", tracking_no="SF2000000000002")
    south = Warehouse(name="south")
    session.add(south)
    session.flush()
    shop = session.get(Shop, "20551234")
    shop.warehouses.append(south)
    session.commit()
    station_scan("SF1000000000001")  # scanned at bench-1 of warehouse "main"
    make_user("main-lead", warehouse="main")
    make_user("south-lead", warehouse="south")
    main_lead, south_lead = new_web(), new_web()
    main_lead.login("main-lead")
    south_lead.login("south-lead")
    assert main_lead.get(f"/orders/{mine.order_id}").status_code == 200  # scanned in main
    assert main_lead.get(f"/orders/{theirs.order_id}").status_code == 404  # south's shop, never here
    for query in (theirs.order_id, "SF2000000000002", theirs.skus[0].sku_order_id):
        page = main_lead.get("/search", query_string={"q": query})
        assert page.status_code == 200 and f"/orders/{theirs.order_id}" not in page.get_data(as_text=True), (
            query
        )
    assert south_lead.get(f"/orders/{theirs.order_id}").status_code == 200  # its shop ships from south
    story = south_lead.get(f"/orders/{mine.order_id}")
    assert story.status_code == 404  # main's scan does not make it south's


def test_an_unbound_lead_reads_everything(as_lead, session):
    theirs = make_order(session, shop_id="20551234")
    assert as_lead.get(f"/orders/{theirs.order_id}").status_code == 200
