"""afterSale.List windows and paging, afterSale.Detail, interception; the control API for refunds."""

from __future__ import annotations

import httpx
import pytest

from douyin_sandbox.generate import bulk_aftersales
from server.douyin import InterceptTarget
from server.douyin.errors import InvalidParameter, NotFound

DAY = 86400


def test_window_with_update_time_asc_pages_without_gaps(keeper, sandbox):
    shop = sandbox.shop
    bulk_aftersales(shop, 450, span_seconds=3 * 3600)
    now = shop.now()
    api, seen, page = keeper.api, [], 0
    while True:
        result = api.list_aftersales(
            update_start_time=now - 2 * 3600, update_end_time=now, page=page, size=100
        )
        seen += result.items
        if not result.has_more:
            break
        page += 1
    expected = {a.aftersale_id for a in shop.aftersales.values() if now - 2 * 3600 <= a.update_time <= now}
    assert {a.aftersale_id for a in seen} == expected and len(seen) == result.total == len(expected)
    assert [a.update_time for a in seen] == sorted(a.update_time for a in seen)
    assert result.page == page and not result.has_more


def test_window_bounds_are_inclusive(keeper, sandbox):
    shop = sandbox.shop
    record = shop.apply_refund(shop.create_order(n_skus=1).order_id)
    t = record.update_time
    api = keeper.api
    assert [a.aftersale_id for a in api.list_aftersales(update_start_time=t, update_end_time=t).items] == [
        record.aftersale_id
    ]
    assert api.list_aftersales(update_start_time=t + 1, update_end_time=t + 5).items == ()


def test_an_update_moves_a_record_to_the_end_of_the_window(keeper, sandbox):
    shop = sandbox.shop
    old = shop.apply_refund(shop.create_order(n_skus=1).order_id)
    shop.advance_clock(30)
    shop.apply_refund(shop.create_order(n_skus=1).order_id)
    shop.advance_clock(30)
    shop.succeed_refund(old.aftersale_id)
    now = shop.now()
    items = keeper.api.list_aftersales(update_start_time=now - 60, update_end_time=now).items
    assert items[-1].aftersale_id == old.aftersale_id
    assert (items[-1].aftersale_status, items[-1].refund_status, items[-1].final_time) == (
        12,
        3,
        old.final_time,
    )


def test_filters_and_default_order(keeper, sandbox):
    shop = sandbox.shop
    order = shop.create_order(n_skus=1)
    parcel = shop.ship(order.order_id)
    record = shop.apply_refund(order.order_id)
    api = keeper.api
    by_order = api.list_aftersales(order_id=order.order_id)
    assert [a.aftersale_id for a in by_order.items] == [record.aftersale_id]
    item = by_order.items[0]
    assert item.shop_order_id == order.order_id and item.sku_order_ids == (order.order_id,)
    assert item.tracking_nos == (parcel.tracking_no,)
    assert [a.aftersale_id for a in api.list_aftersales(tracking_nos=[parcel.tracking_no]).items] == [
        record.aftersale_id
    ]
    assert api.list_aftersales(aftersale_id=record.aftersale_id).total == 1
    pending = api.list_aftersales(standard_aftersale_status=[6, 7], size=100)
    assert pending.items and all(a.aftersale_status in (6, 7) for a in pending.items)
    newest_first = api.list_aftersales(size=3)  # no order_by: newest application first
    applied = [a.apply_time for a in newest_first.items]
    assert applied == sorted(applied, reverse=True)


def test_paging_limits(keeper):
    with pytest.raises(InvalidParameter):
        keeper.api.list_aftersales(size=101)
    with pytest.raises(InvalidParameter):
        keeper.api.list_aftersales(page=501, size=100)
    assert keeper.api.list_aftersales(page=500, size=100).items == ()


def test_detail_uses_integer_ids(keeper, sandbox):
    shop = sandbox.shop
    order = shop.create_order(n_skus=2)
    record = shop.apply_refund(order.order_id, sku_order_id=order.skus[1].sku_order_id)
    raw = keeper.call_with_token("afterSale.Detail", {"after_sale_id": record.aftersale_id})
    assert raw["process_info"]["after_sale_info"]["after_sale_id"] == int(record.aftersale_id)
    detail = keeper.api.aftersale_detail(record.aftersale_id)
    assert detail.aftersale_id == record.aftersale_id
    assert detail.shop_order_id == order.order_id and detail.sku_order_ids == (order.skus[1].sku_order_id,)
    assert (detail.aftersale_status, detail.refund_status, detail.aftersale_type) == (6, 1, 2)
    with pytest.raises(NotFound):
        keeper.api.aftersale_detail("7000000000000000000")


def test_intercept_a_parcel_on_the_way_but_not_twice(keeper, sandbox):
    shop = sandbox.shop
    order = shop.create_order(n_skus=1)
    parcel = shop.ship(order.order_id, carrier="yuantong")
    record = shop.apply_refund(order.order_id)
    shop.succeed_refund(record.aftersale_id)
    outcome = keeper.api.apply_logistics_intercept(
        record.aftersale_id, [InterceptTarget("yuantong", parcel.tracking_no)]
    )
    assert (outcome.success_count, outcome.failed_count) == (1, 0)
    result = outcome.results[0]
    assert result.can_intercept and result.is_success and result.intercept_cost > 0
    again = keeper.api.apply_logistics_intercept(
        record.aftersale_id, [InterceptTarget("yuantong", parcel.tracking_no)]
    )
    assert not again.results[0].can_intercept and again.results[0].unavailable_reason
    listed = keeper.api.list_aftersales(aftersale_id=record.aftersale_id).items[0]
    assert listed.raw["aftersale_info"]["order_logistics"][0]["logistics_state"] == 3


def test_intercept_refused_when_not_shipped_or_delivered(keeper, sandbox):
    shop = sandbox.shop
    unshipped = shop.create_order(n_skus=1)
    record = shop.apply_refund(unshipped.order_id)
    outcome = keeper.api.apply_logistics_intercept(
        record.aftersale_id, [InterceptTarget("zhongtong", "75000000000001")]
    )
    assert (outcome.success_count, outcome.failed_count) == (0, 1)
    assert not outcome.results[0].can_intercept and "未发货" in outcome.results[0].unavailable_reason
    delivered = shop.create_order(n_skus=1)
    parcel = shop.ship(delivered.order_id)
    shop.deliver(delivered.order_id)
    record = shop.apply_refund(delivered.order_id)
    assert record.aftersale_type == 0  # return and refund after receipt
    outcome = keeper.api.apply_logistics_intercept(
        record.aftersale_id, [InterceptTarget(parcel.carrier.code, parcel.tracking_no)]
    )
    assert not outcome.results[0].can_intercept and "签收" in outcome.results[0].unavailable_reason
    with pytest.raises(InvalidParameter) as info:  # an unknown after-sale: 40004 :11000, as Detail
        keeper.api.apply_logistics_intercept("7000000000000000000", [InterceptTarget("x", "y")])
    assert (info.value.code, info.value.business_code) == (40004, 11000)


def test_control_api_drives_a_refund(server, keeper):
    url = server.url + "/sandbox"
    order = httpx.post(url + "/orders", json={"n_skus": 1}).json()
    assert order["order_status"] == 2 and len(order["order_id"]) == 19
    shipped = httpx.post(f"{url}/orders/{order['order_id']}/ship", json={"carrier": "jtexpress"}).json()
    assert shipped["order_status"] == 3 and shipped["logistics_info"][0]["tracking_no"].startswith("JT")
    refund = httpx.post(f"{url}/orders/{order['order_id']}/refund", json={})
    assert refund.status_code == 201
    aftersale_id = refund.json()["aftersale_info"]["aftersale_id"]
    succeeded = httpx.post(f"{url}/aftersales/{aftersale_id}/succeed").json()
    assert (
        succeeded["aftersale_info"]["aftersale_status"],
        succeeded["aftersale_info"]["refund_status"],
    ) == (12, 3)
    assert httpx.post(f"{url}/aftersales/{aftersale_id}/close").status_code == 409
    assert httpx.post(f"{url}/aftersales/7000000000000000000/close").status_code == 404
    assert (
        httpx.post(f"{url}/orders", content=b"[1]", headers={"Content-Type": "application/json"}).status_code
        == 400
    )
    detail = keeper.api.order_detail(order["order_id"])
    assert (detail.order_status, detail.main_status) == (4, 22)
    before = httpx.get(url + "/clock").json()["now"]
    assert httpx.post(url + "/clock", json={"advance": 3600}).json()["now"] >= before + 3600
    waiting = httpx.get(url + "/orders", params={"order_status": 2, "limit": 5}).json()["orders"]
    assert 0 < len(waiting) <= 5 and all(o["order_status"] == 2 for o in waiting)


def test_close_and_refuse(sandbox):
    shop = sandbox.shop
    first = shop.apply_refund(shop.create_order(n_skus=1).order_id)
    shop.close_refund(first.aftersale_id)
    assert (first.status, first.refund_status) == (28, 1) and first.final_time  # never 4 退款失败
    order = shop.create_order(n_skus=1)
    second = shop.apply_refund(order.order_id)
    shop.refuse_refund(second.aftersale_id)
    assert second.status == 27
    assert shop.order(order.order_id).order_status == 2


def test_intercept_needs_a_company_code_for_every_target(keeper, sandbox):
    """afterSale.applyLogisticsIntercept refuses an empty company_code (the project once sent "")."""
    shop = sandbox.shop
    order = shop.create_order(n_skus=1)
    parcel = shop.ship(order.order_id)
    record = shop.apply_refund(order.order_id)
    for targets in (
        [InterceptTarget("", parcel.tracking_no)],
        [InterceptTarget(parcel.carrier.code, parcel.tracking_no), InterceptTarget("  ", parcel.tracking_no)],
    ):
        with pytest.raises(InvalidParameter) as info:
            keeper.api.apply_logistics_intercept(record.aftersale_id, targets)
        assert info.value.code == 40004 and "company_code" in info.value.sub_code
    assert parcel.state == "in_transit"  # refused whole: nothing intercepted
    outcome = keeper.api.apply_logistics_intercept(
        record.aftersale_id, [InterceptTarget(parcel.carrier.code, parcel.tracking_no)]
    )
    assert outcome.success_count == 1


def test_a_refund_the_buyer_cancelled_stays_28_with_refund_status_1(keeper, sandbox):
    """Over HTTP, in afterSale.List, afterSale.Detail and the order's after_sale_info."""
    shop = sandbox.shop
    order = shop.create_order(n_skus=1)
    record = shop.apply_refund(order.order_id)
    shop.close_refund(record.aftersale_id)
    [item] = keeper.api.list_aftersales(aftersale_id=record.aftersale_id).items
    assert (item.aftersale_status, item.refund_status) == (28, 1)
    detail = keeper.api.aftersale_detail(record.aftersale_id)
    assert (detail.aftersale_status, detail.refund_status) == (28, 1)
    sku = keeper.api.order_detail(order.order_id).raw["sku_order_list"][0]["after_sale_info"]
    assert (sku["after_sale_status"], sku["refund_status"]) == (28, 1)


def test_aftersale_business_errors_are_40004_11000(keeper):
    with pytest.raises(NotFound) as info:
        keeper.api.aftersale_detail("7000000000000000000")
    assert (info.value.code, info.value.sub_code) == (40004, "isv.parameter-invalid:11000")
    with pytest.raises(InvalidParameter) as info:
        keeper.api.list_aftersales(update_start_time=0, update_end_time=10, size=101)
    assert (info.value.code, info.value.business_code) == (40004, 11000)
    with pytest.raises(InvalidParameter) as info:
        keeper.api.list_aftersales(update_start_time=0, update_end_time=10, size=100, page=501)
    assert (info.value.code, info.value.business_code) == (40004, 11000)
