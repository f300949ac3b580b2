"""Token lifecycle over real HTTP: create (self-built and by auth code), refresh rules, expiry."""

from __future__ import annotations

import httpx
import pytest

from server.douyin import AuthorizedShop, SelfBuiltShop, TokenKeeper
from server.douyin.errors import PermissionDenied, TokenExpired, TokenGenerationFailed

HOUR, DAY = 3600, 86400


def test_create_self_built(client, sandbox):
    tokens = client.create_token_self(sandbox.config.shop_id)
    assert tokens.shop_id == sandbox.config.shop_id and tokens.shop_name == sandbox.config.shop_name
    assert 7 * DAY - 3 <= tokens.expires_at - sandbox.shop.now() <= 7 * DAY
    assert (
        client.create_token_self(sandbox.config.shop_id, test_shop=True).access_token == tokens.access_token
    )
    with pytest.raises(PermissionDenied):
        client.create_token_self("12345")


def test_create_with_an_auth_code_from_the_control_api(client, server):
    code = httpx.get(server.url + "/sandbox/auth_code").json()["code"]
    tokens = client.create_token_code(code)
    assert tokens.access_token
    with pytest.raises(TokenGenerationFailed) as info:
        client.create_token_code(code)  # single use
    assert info.value.sub_code == "dop.token-generate-failed:code-expired"


def test_auth_codes_expire_after_ten_minutes(client, sandbox):
    code = sandbox.mint_auth_code()
    sandbox.shop.advance_clock(601)
    with pytest.raises(TokenGenerationFailed):
        client.create_token_code(code)


def test_refresh_more_than_an_hour_before_expiry_returns_the_same_tokens(client, sandbox):
    first = client.create_token_self(sandbox.config.shop_id, now=sandbox.shop.now())
    sandbox.shop.advance_clock(3 * DAY)
    again = client.refresh_token(first.refresh_token, previous=first, now=sandbox.shop.now())
    assert (again.access_token, again.refresh_token) == (first.access_token, first.refresh_token)
    assert again.expires_at == pytest.approx(first.expires_at, abs=2)


def test_refresh_in_the_last_hour_gives_new_tokens_and_the_old_live_one_more_hour(client, sandbox):
    first = client.create_token_self(sandbox.config.shop_id, now=sandbox.shop.now())
    sandbox.shop.advance_clock(7 * DAY - 30 * 60)
    fresh = client.refresh_token(first.refresh_token, previous=first, now=sandbox.shop.now())
    assert fresh.access_token != first.access_token and fresh.refresh_token != first.refresh_token
    assert fresh.expires_at - sandbox.shop.now() >= 7 * DAY - 3
    api_old, api_new = client.shop_api(first.access_token), client.shop_api(fresh.access_token)
    now = sandbox.shop.now()
    assert api_old.search_orders(update_time_start=now - DAY, update_time_end=now).page == 0
    sandbox.shop.advance_clock(HOUR - 60)
    assert api_old.search_orders(update_time_start=now - DAY, update_time_end=now).page == 0
    sandbox.shop.advance_clock(120)
    with pytest.raises(TokenExpired):
        api_old.search_orders(update_time_start=now - DAY, update_time_end=now)
    assert api_new.search_orders(update_time_start=now - DAY, update_time_end=now).page == 0


def test_refresh_after_expiry_gives_new_tokens_and_the_old_are_dead(client, sandbox):
    first = client.create_token_self(sandbox.config.shop_id, now=sandbox.shop.now())
    sandbox.shop.advance_clock(7 * DAY + 10)
    with pytest.raises(TokenExpired) as info:
        client.call("order.orderDetail", {"shop_order_id": "1"}, first.access_token)
    assert info.value.sub_code == "isv.access-token-expired"
    fresh = client.refresh_token(first.refresh_token, previous=first, now=sandbox.shop.now())
    assert fresh.access_token != first.access_token
    with pytest.raises(TokenExpired) as info:
        client.call("order.orderDetail", {"shop_order_id": "1"}, first.access_token)
    assert info.value.sub_code == "isv.access-token-no-existed"
    with pytest.raises(TokenGenerationFailed):
        client.refresh_token(first.refresh_token)


def test_refresh_token_dies_after_fourteen_days(client, sandbox):
    first = client.create_token_self(sandbox.config.shop_id, now=sandbox.shop.now())
    sandbox.shop.advance_clock(14 * DAY + 1)
    with pytest.raises(TokenGenerationFailed):
        client.refresh_token(first.refresh_token)


def test_keeper_refreshes_and_retries_once_when_the_fault_expires_tokens(client, server, sandbox, now):
    saved = []
    keeper = TokenKeeper(
        client, SelfBuiltShop(sandbox.config.shop_id), save=saved.append, clock=sandbox.shop.now
    )
    first = keeper.access_token()
    answer = httpx.post(server.url + "/sandbox/faults", json={"expire_tokens": True}).json()
    assert answer["expired_tokens"] >= 1
    page = keeper.api.search_orders(update_time_start=now - DAY, update_time_end=now)
    assert page.page == 0
    assert keeper.access_token() != first
    assert [t.access_token for t in saved][-1] == keeper.access_token()


def test_keeper_refreshes_ahead_of_expiry(keeper, sandbox):
    first = keeper.access_token()
    sandbox.shop.advance_clock(6 * DAY)
    assert keeper.access_token() == first
    sandbox.shop.advance_clock(DAY - 20 * 60)  # 20 minutes left
    assert keeper.access_token() != first


def test_keeper_for_a_tool_app(client, sandbox):
    keeper = TokenKeeper(client, AuthorizedShop(sandbox.mint_auth_code()), clock=sandbox.shop.now)
    now = sandbox.shop.now()
    assert keeper.api.list_aftersales(update_start_time=now - DAY, update_end_time=now).page == 0
