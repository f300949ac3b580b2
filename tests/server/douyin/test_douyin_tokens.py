"""Token lifecycle: TokenSet from responses, when to refresh, and the keeper with a small fake client."""

from __future__ import annotations

import pytest

from server.douyin.errors import ReauthorizationRequired, TokenExpired, TokenGenerationFailed
from server.douyin.tokens import (
    REFRESH_TOKEN_TTL,
    AuthorizedShop,
    SelfBuiltShop,
    TokenKeeper,
    TokenSet,
    can_refresh,
    is_expired,
    needs_refresh,
)

DAY = 86400


def data(access="a1", refresh="r1", expires_in=7 * DAY, shop_id=80000001):
    return dict(
        access_token=access,
        refresh_token=refresh,
        expires_in=expires_in,
        shop_id=shop_id,
        shop_name="店",
        scope="SCOPE",
    )


def test_tokenset_from_response_uses_remaining_seconds():
    tokens = TokenSet.from_response(data(expires_in=3000), now=1_000_000)
    assert tokens.expires_at == 1_003_000
    assert tokens.refresh_expires_at == 1_000_000 + REFRESH_TOKEN_TTL
    assert tokens.shop_id == "80000001"
    assert "a1" not in repr(tokens) and "r1" not in repr(tokens)
    assert TokenSet.from_dict(tokens.to_dict()) == tokens


def test_same_refresh_token_keeps_its_lifetime():
    first = TokenSet.from_response(data(), now=0)
    again = TokenSet.from_response(data(expires_in=5 * DAY), now=2 * DAY, previous=first)
    assert again.refresh_expires_at == first.refresh_expires_at
    fresh = TokenSet.from_response(data("a2", "r2"), now=2 * DAY, previous=first)
    assert fresh.refresh_expires_at == 2 * DAY + REFRESH_TOKEN_TTL


def test_needs_refresh_and_expiry():
    tokens = TokenSet.from_response(data(expires_in=7200), now=0)
    assert not needs_refresh(tokens, 3599)
    assert needs_refresh(tokens, 3600)
    assert needs_refresh(tokens, 100, ahead=7200)
    assert not is_expired(tokens, 7199) and is_expired(tokens, 7200)
    assert can_refresh(tokens, REFRESH_TOKEN_TTL - 1) and not can_refresh(tokens, REFRESH_TOKEN_TTL)


class FakePlatform:
    """A tiny real implementation of the client seam: token calls plus one API call."""

    def __init__(self, clock):
        self.clock = clock
        self.serial = 0
        self.valid: set[str] = set()
        self.calls: list[tuple[str, str | None]] = []
        self.refresh_fails = False

    def _issue(self, previous=None):
        self.serial += 1
        access, refresh = f"a{self.serial}", f"r{self.serial}"
        self.valid = {access}
        return TokenSet.from_response(data(access, refresh), self.clock(), previous)

    def create_token_self(self, shop_id, test_shop=False, now=None):
        self.calls.append(("create_self", shop_id))
        return self._issue()

    def create_token_code(self, code, now=None):
        self.calls.append(("create_code", code))
        return self._issue()

    def refresh_token(self, refresh_token, previous=None, now=None):
        self.calls.append(("refresh", refresh_token))
        if self.refresh_fails:
            raise TokenGenerationFailed("refresh token expired", code=50001)
        return self._issue(previous)

    def call(self, method, params, access_token):
        self.calls.append((method, access_token))
        if access_token not in self.valid:
            raise TokenExpired("expired", code=40003, sub_code="isv.access-token-expired")
        return {"ok": access_token}


@pytest.fixture
def clock():
    class Clock:
        now = 1_000_000.0

        def __call__(self):
            return self.now

    return Clock()


def test_keeper_creates_saves_and_reuses(clock):
    platform, saved = FakePlatform(clock), []
    keeper = TokenKeeper(platform, SelfBuiltShop("80000001"), save=saved.append, clock=clock)
    assert keeper.access_token() == "a1"
    assert keeper.access_token() == "a1"
    assert [c[0] for c in platform.calls] == ["create_self"]
    assert saved[0].access_token == "a1"


def test_keeper_loads_stored_tokens_and_refreshes_ahead_of_expiry(clock):
    platform = FakePlatform(clock)
    stored = TokenSet.from_response(data("a0", "r0", expires_in=3 * 3600), clock.now)
    keeper = TokenKeeper(platform, SelfBuiltShop("80000001"), load=lambda: stored, clock=clock)
    assert keeper.access_token() == "a0"
    clock.now += 2 * 3600 + 1  # within the last hour
    assert keeper.access_token() == "a1"
    assert platform.calls == [("refresh", "r0")]


def test_call_with_token_refreshes_and_retries_once(clock):
    platform = FakePlatform(clock)
    keeper = TokenKeeper(platform, SelfBuiltShop("80000001"), clock=clock)
    keeper.access_token()
    platform.valid = set()  # the platform expired it early
    platform_issue = platform._issue

    def refresh_token(refresh_token, previous=None, now=None):
        platform.calls.append(("refresh", refresh_token))
        return platform_issue(previous)

    platform.refresh_token = refresh_token
    assert keeper.call_with_token("order.searchList", {}) == {"ok": "a2"}
    assert [c[0] for c in platform.calls] == [
        "create_self",
        "order.searchList",
        "refresh",
        "order.searchList",
    ]


def test_call_with_token_gives_up_after_one_retry(clock):
    platform = FakePlatform(clock)
    keeper = TokenKeeper(platform, SelfBuiltShop("80000001"), clock=clock)
    keeper.access_token()
    platform.call = lambda method, params, token: (_ for _ in ()).throw(TokenExpired("no"))
    with pytest.raises(TokenExpired):
        keeper.call_with_token("order.searchList", {})


def test_self_built_shop_recreates_when_refresh_fails(clock):
    platform = FakePlatform(clock)
    keeper = TokenKeeper(platform, SelfBuiltShop("80000001"), clock=clock)
    keeper.access_token()
    platform.refresh_fails = True
    clock.now += 7 * 86400
    assert keeper.access_token() == "a2"
    assert [c[0] for c in platform.calls] == ["create_self", "refresh", "create_self"]


def test_expired_refresh_token_recreates_without_asking(clock):
    platform = FakePlatform(clock)
    keeper = TokenKeeper(platform, SelfBuiltShop("80000001"), clock=clock)
    keeper.access_token()
    clock.now += REFRESH_TOKEN_TTL + 1
    assert keeper.access_token() == "a2"
    assert [c[0] for c in platform.calls] == ["create_self", "create_self"]


def test_tool_app_uses_its_code_once(clock):
    platform = FakePlatform(clock)
    keeper = TokenKeeper(platform, AuthorizedShop("code-1"), clock=clock)
    assert keeper.access_token() == "a1"
    assert platform.calls == [("create_code", "code-1")]
    platform.refresh_fails = True
    clock.now += 8 * 86400
    with pytest.raises(TokenGenerationFailed):
        keeper.access_token()
    clock.now += REFRESH_TOKEN_TTL
    with pytest.raises(ReauthorizationRequired):
        keeper.access_token()
    assert "code-1" not in repr(AuthorizedShop("code-1"))
