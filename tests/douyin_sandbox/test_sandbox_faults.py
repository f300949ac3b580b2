"""The client against the sandbox's fault switches over real HTTP: storms, retries, no secrets in logs."""

from __future__ import annotations

import logging

import httpx
import pytest

from server.douyin import DouyinClient, InterceptTarget
from server.douyin.errors import ApiOffline, RateLimited, ServiceError

DAY = 86400


def test_a_20000_storm_is_ridden_out_with_backoff(keeper, sandbox, sleeps, now):
    keeper.access_token()
    sandbox.faults.update({"error_next": 3})
    page = keeper.api.list_aftersales(update_start_time=now - DAY, update_end_time=now)
    assert page.page == 0
    assert len(sleeps) == 3 and sleeps == sorted(sleeps)


def test_a_60000_storm_longer_than_the_retries_surfaces(keeper, sandbox, sleeps, now):
    keeper.access_token()
    sandbox.faults.update({"rate_limit_next": 10})
    with pytest.raises(RateLimited) as info:
        keeper.api.search_orders(update_time_start=now - DAY, update_time_end=now)
    assert info.value.sub_code == "isv.traffic-limited" and info.value.log_id
    assert len(sleeps) == 3
    assert sandbox.faults.settings.rate_limit_next == 6


def test_intercept_is_not_retried_on_20000(keeper, sandbox, sleeps):
    shop = sandbox.shop
    order = shop.create_order(n_skus=1)
    parcel = shop.ship(order.order_id)
    record = shop.apply_refund(order.order_id)
    keeper.access_token()
    sandbox.faults.update({"error_next": 1})
    target = InterceptTarget(parcel.carrier.code, parcel.tracking_no)
    with pytest.raises(ServiceError):
        keeper.api.apply_logistics_intercept(record.aftersale_id, [target])
    assert sleeps == []
    assert keeper.api.apply_logistics_intercept(record.aftersale_id, [target]).success_count == 1


def test_offline_methods(keeper, server, now):
    keeper.access_token()
    httpx.post(server.url + "/sandbox/faults", json={"offline_methods": ["afterSale.List"]})
    with pytest.raises(ApiOffline):
        keeper.api.list_aftersales(update_start_time=now - DAY, update_end_time=now)
    httpx.post(server.url + "/sandbox/faults", json={"reset": True})
    assert keeper.api.list_aftersales(update_start_time=now - DAY, update_end_time=now).page == 0


def test_error_rate_with_a_seed_is_survivable(keeper, sandbox, sleeps, now):
    keeper.access_token()
    sandbox.faults.update({"error_rate": 0.3, "rate_limit_rate": 0.1, "seed": 3})
    pages = [
        keeper.api.search_orders(update_time_start=now - 30 * DAY, update_time_end=now, page=page, size=10)
        for page in range(5)
    ]
    assert [p.page for p in pages] == list(range(5))  # every page arrived...
    assert sleeps  # ...because the client backed off and retried the calls the faults failed


def test_nothing_secret_reaches_the_logs(caplog, server, sandbox, sleeps, now):
    caplog.set_level(logging.DEBUG)
    config = sandbox.config
    code = sandbox.mint_auth_code()
    with DouyinClient(server.url, config.app_key, config.app_secret, sleep=sleeps) as client:
        tokens = client.create_token_code(code)
        sandbox.faults.update({"error_next": 1, "rate_limit_next": 1})
        client.shop_api(tokens.access_token).search_orders(update_time_start=now - DAY, update_time_end=now)
        fresh = client.refresh_token(tokens.refresh_token)
        with pytest.raises(RateLimited) as info:
            sandbox.faults.update({"rate_limit_next": 9})
            client.call("order.orderDetail", {"shop_order_id": "1"}, fresh.access_token)
    text = caplog.text + str(info.value) + repr(info.value) + repr(tokens)
    assert "retry" in caplog.text and "HTTP Request" in caplog.text
    for secret in (config.app_secret, code, tokens.access_token, tokens.refresh_token, fresh.access_token):
        assert secret not in text
    assert "sign=***" in caplog.text and "access_token=***" in caplog.text
