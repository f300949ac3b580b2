"""order.searchList / order.orderDetail over real HTTP, and the shop's order transitions."""

from __future__ import annotations

import re

import httpx
import pytest

from douyin_sandbox import SandboxConfig, SandboxShop, TransitionError
from douyin_sandbox.generate import populate
from server.douyin.errors import InvalidParameter, NotFound, ResultCapExceeded, WindowTooOld, WrongShop
from shipgate.codes import CodeKind, classify

DAY = 86400


def test_generated_shop_is_deterministic_and_realistic():
    config = SandboxConfig(n_orders=300, start_time=1_800_000_000)
    shops = []
    for _ in range(2):
        shop = SandboxShop(config)
        populate(shop, config.n_orders, config.history_days)
        shops.append(shop)
    assert list(shops[0].orders) == list(shops[1].orders)
    shop = shops[0]
    statuses = {o.order_status for o in shop.orders.values()}
    assert {2, 3, 4, 5} <= statuses
    assert {21, 22} & {o.main_status for o in shop.orders.values()}
    assert {1, 2, 3} == {len(o.skus) for o in shop.orders.values()}
    for order in shop.orders.values():
        assert re.fullmatch(r"\d{19}", order.order_id)
        assert all(re.fullmatch(r"\d{19}", s.sku_order_id) for s in order.skus)
        assert all(s.product_name and s.category for s in order.skus)
        for parcel in order.parcels:
            code = classify(parcel.tracking_no)
            assert code.kind is CodeKind.TRACKING_NO, parcel.tracking_no
    carriers = {classify(p.tracking_no).carrier for o in shop.orders.values() for p in o.parcels}
    assert len(carriers) >= 4


def test_search_pages_through_a_window_in_update_order(keeper, now):
    api = keeper.api
    seen, page = [], 0
    while True:
        result = api.search_orders(update_time_start=now - 30 * DAY, update_time_end=now, page=page, size=7)
        seen += result.orders
        if (page + 1) * 7 >= result.total:
            break
        page += 1
    assert len(seen) == result.total == 60
    times = [o.update_time for o in seen]
    assert times == sorted(times)
    assert len({o.order_id for o in seen}) == 60
    desc = api.search_orders(update_time_start=now - 30 * DAY, update_time_end=now, order_asc=False, size=5)
    assert [o.update_time for o in desc.orders] == sorted(times, reverse=True)[:5]


def test_windows_are_inclusive_and_by_create_time(keeper, sandbox):
    order = sandbox.shop.create_order()
    now = order.create_time
    api = keeper.api
    exact = api.search_orders(create_time_start=now, create_time_end=now, order_by="create_time")
    assert order.order_id in {o.order_id for o in exact.orders}
    later = api.search_orders(create_time_start=now + 1, create_time_end=now + 10, order_by="create_time")
    assert order.order_id not in {o.order_id for o in later.orders}


def test_filters_status_and_tracking_number(keeper, sandbox):
    shop = sandbox.shop
    order = shop.create_order()
    parcel = shop.ship(order.order_id, carrier="shunfeng")
    now = shop.now()
    api = keeper.api
    by_tracking = api.search_orders(
        update_time_start=now - DAY, update_time_end=now, tracking_no=parcel.tracking_no
    )
    assert [o.order_id for o in by_tracking.orders] == [order.order_id]
    assert by_tracking.orders[0].parcels[0].company == "shunfeng"
    assert by_tracking.orders[0].parcels[0].sku_order_ids == tuple(s.sku_order_id for s in order.skus)
    waiting = api.search_orders(
        update_time_start=now - 30 * DAY, update_time_end=now, order_status=2, size=100
    )
    assert waiting.orders and all(o.order_status == 2 for o in waiting.orders)
    shipped = api.search_orders(
        update_time_start=now - 30 * DAY, update_time_end=now, order_status=[3, 5], size=100
    )
    assert {o.order_status for o in shipped.orders} <= {3, 5}
    assert waiting.total + shipped.total < 61 + 1


def test_page_size_cap_and_window_limits(keeper, now):
    api = keeper.api
    # Every one is 40004 isv.parameter-invalid:<n>, as the platform sends them.
    with pytest.raises(InvalidParameter) as info:
        api.search_orders(update_time_start=now - DAY, update_time_end=now, size=101)
    assert (info.value.code, info.value.business_code) == (40004, 20008)
    with pytest.raises(ResultCapExceeded) as info:  # the cap is 50,000 results ("最多支持查询5万")
        api.search_orders(update_time_start=now - DAY, update_time_end=now, size=100, page=500)
    assert (info.value.code, info.value.business_code) == (40004, 20013)
    assert (
        api.search_orders(update_time_start=now - DAY, update_time_end=now, size=100, page=499).orders == ()
    )
    with pytest.raises(WindowTooOld) as info:
        api.search_orders(update_time_start=now - 91 * DAY, update_time_end=now)
    assert (info.value.code, info.value.business_code) == (40004, 20022)
    with pytest.raises(InvalidParameter):
        api.search_orders(update_time_start=now, update_time_end=now - 10)
    with pytest.raises(InvalidParameter) as info:
        keeper.call_with_token("order.searchList", {"page": 0, "size": 10})  # no time window at all
    assert (info.value.code, info.value.business_code) == (40004, 20011)
    api.search_orders(update_time_start=now - DAY, order_status=2, main_status=2)  # one element: fine
    with pytest.raises(InvalidParameter) as info:
        keeper.call_with_token(
            "order.searchList",
            {"page": 0, "size": 10, "update_time_start": now - DAY, "combine_status": [{}, {}]},
        )
    assert (info.value.code, info.value.business_code) == (40004, 20012)


def test_order_detail(keeper, sandbox):
    order = next(o for o in sandbox.shop.orders.values() if len(o.skus) > 1)
    detail = keeper.api.order_detail(order.order_id)
    assert detail.order_id == order.order_id
    assert [s.sku_order_id for s in detail.sku_orders] == [s.sku_order_id for s in order.skus]
    assert all(s.parent_order_id == order.order_id for s in detail.sku_orders)
    assert detail.raw["order_status_desc"]
    with pytest.raises(NotFound) as info:
        keeper.api.order_detail("6900000000000000000")
    assert (info.value.code, info.value.sub_code) == (40004, "isv.parameter-invalid:20014")
    with pytest.raises(WrongShop) as info:  # the only one of these that is 50002
        keeper.api.order_detail(sandbox.shop.add_foreign_order())
    assert (info.value.code, info.value.sub_code) == (50002, "isv.business-failed:20015")


def test_refund_before_shipping_closes_the_order_and_moves_update_time(keeper, sandbox):
    shop = sandbox.shop
    order = shop.create_order(n_skus=1)
    created = order.update_time
    record = shop.apply_refund(order.order_id)
    assert record.aftersale_type == 2 and record.status == 6
    shop.advance_clock(60)
    assert keeper.api.order_detail(order.order_id).update_time == created  # no main-status change yet
    shop.succeed_refund(record.aftersale_id)
    detail = keeper.api.order_detail(order.order_id)
    assert (detail.order_status, detail.main_status) == (4, 21)
    assert detail.raw["order_status_desc"] == "已关闭"
    assert detail.update_time == created + 60
    line = detail.sku_orders[0]
    assert (line.after_sale_status, line.refund_status, line.order_status, line.main_status) == (12, 3, 4, 21)


def test_partial_refund_of_a_multi_item_order(keeper, sandbox):
    shop = sandbox.shop
    order = shop.create_order(n_skus=2)
    record = shop.apply_refund(order.order_id, sku_order_id=order.skus[1].sku_order_id)
    shop.succeed_refund(record.aftersale_id)
    detail = keeper.api.order_detail(order.order_id)
    assert detail.order_status == 2
    assert [(s.order_status, s.main_status) for s in detail.sku_orders] == [(2, 2), (4, 21)]


def test_refund_after_shipping_is_main_status_22(keeper, sandbox):
    shop = sandbox.shop
    order = shop.create_order(n_skus=1)
    shop.ship(order.order_id)
    record = shop.apply_refund(order.order_id)
    assert record.aftersale_type == 1
    shop.succeed_refund(record.aftersale_id)
    detail = keeper.api.order_detail(order.order_id)
    assert (detail.order_status, detail.main_status) == (4, 22)
    assert detail.sku_orders[0].after_sale_type == 1


def test_cancel_ship_and_deliver_transitions(sandbox):
    shop = sandbox.shop
    order = shop.create_order()
    shop.cancel(order.order_id)
    assert (order.order_status, order.main_status) == (4, 4)
    with pytest.raises(TransitionError):
        shop.ship(order.order_id)
    with pytest.raises(TransitionError):
        shop.cancel(order.order_id)
    other = shop.create_order(n_skus=2)
    shop.ship(other.order_id, sku_order_ids=[other.skus[0].sku_order_id])
    assert other.order_status == 101
    shop.ship(other.order_id)
    assert other.order_status == 3 and len(other.parcels) == 2
    shop.deliver(other.order_id)
    assert other.order_status == 5
    with pytest.raises(TransitionError):
        shop.cancel(other.order_id)


def test_forced_shipment_of_a_refunded_order_leaves_the_status(sandbox):
    shop = sandbox.shop
    order = shop.create_order(n_skus=1)
    shop.succeed_refund(shop.apply_refund(order.order_id).aftersale_id)
    with pytest.raises(TransitionError):
        shop.ship(order.order_id)
    parcel = shop.ship(order.order_id, force=True)
    assert order.order_status == 4 and shop.order_for_tracking(parcel.tracking_no) is order


def test_reissued_tracking_number_resolves_to_its_new_order(keeper, sandbox, server):
    shop = sandbox.shop
    first, second = shop.create_order(), shop.create_order()
    parcel = shop.ship(first.order_id)
    answer = httpx.post(
        f"{server.url}/sandbox/tracking/{parcel.tracking_no}/reissue", json={"order_id": second.order_id}
    )
    assert answer.status_code == 200
    assert answer.json()["logistics_info"][0]["tracking_no"] == parcel.tracking_no
    now = shop.now()
    found = keeper.api.search_orders(
        update_time_start=now - DAY, update_time_end=now, tracking_no=parcel.tracking_no
    )
    assert [o.order_id for o in found.orders] == [second.order_id]
    assert keeper.api.order_detail(first.order_id).order_status == 2
    assert (
        httpx.get(f"{server.url}/sandbox/tracking/{parcel.tracking_no}").json()["order_id"] == second.order_id
    )
