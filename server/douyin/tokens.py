"""Access-token lifecycle: a pure TokenSet, when to refresh, and a keeper that does it.

Douyin's rules: access tokens live 7 days (`expires_in` is the REMAINING seconds), refresh tokens
14 days. Refreshing more than an hour before expiry returns the same tokens; within the last hour
it returns new ones and the old stay valid one more hour; after expiry the old ones are dead.
The keeper refreshes `ahead` seconds before expiry (default one hour, so it gets new tokens).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from server.douyin.api import ShopApi
from server.douyin.errors import ReauthorizationRequired, TokenExpired, TokenGenerationFailed

if TYPE_CHECKING:
    from server.douyin.client import DouyinClient

log = logging.getLogger(__name__)

REFRESH_TOKEN_TTL = 14 * 86400
REFRESH_AHEAD = 3600


@dataclass(frozen=True)
class TokenSet:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: int  # Unix seconds
    refresh_expires_at: int
    shop_id: str
    shop_name: str

    @classmethod
    def from_response(cls, data: dict[str, Any], now: float, previous: TokenSet | None = None) -> TokenSet:
        """Build from token.create / token.refresh data received at `now`.

        The refresh token's lifetime is not in the response: 14 days from when it was first
        seen (kept from `previous` when the platform handed back the same refresh token).
        """
        refresh_token = str(data["refresh_token"])
        if previous is not None and previous.refresh_token == refresh_token:
            refresh_expires_at = previous.refresh_expires_at
        else:
            refresh_expires_at = int(now) + REFRESH_TOKEN_TTL
        return cls(
            access_token=str(data["access_token"]),
            refresh_token=refresh_token,
            expires_at=int(now) + int(data["expires_in"]),
            refresh_expires_at=refresh_expires_at,
            shop_id=str(data.get("shop_id") or (previous.shop_id if previous else "")),
            shop_name=str(data.get("shop_name") or (previous.shop_name if previous else "")),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TokenSet:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})


def needs_refresh(tokens: TokenSet, now: float, ahead: int = REFRESH_AHEAD) -> bool:
    """True once the access token has `ahead` seconds or less to live."""
    return now >= tokens.expires_at - ahead


def is_expired(tokens: TokenSet, now: float) -> bool:
    return now >= tokens.expires_at


def can_refresh(tokens: TokenSet, now: float) -> bool:
    """True while the refresh token is still alive."""
    return now < tokens.refresh_expires_at


@dataclass(frozen=True)
class SelfBuiltShop:
    """A self-built app (自用型) authorised for one shop: token.create with the shop id."""

    shop_id: str
    test_shop: bool = False


@dataclass(frozen=True)
class AuthorizedShop:
    """A tool app (工具型): token.create with the merchant's auth code (single use, 10 minutes)."""

    code: str = field(repr=False)


ShopIdentity = SelfBuiltShop | AuthorizedShop


class TokenKeeper:
    """Hands out a valid access token for one shop and keeps it fresh.

    `load()` returns the stored TokenSet (or None) and `save(tokens)` stores a new one, so the
    caller decides where tokens live (the server keeps them in its database). Thread-safe.
    """

    def __init__(
        self,
        client: DouyinClient,
        shop: ShopIdentity,
        *,
        load: Callable[[], TokenSet | None] = lambda: None,
        save: Callable[[TokenSet], None] = lambda tokens: None,
        clock: Callable[[], float] = time.time,
        refresh_ahead: int = REFRESH_AHEAD,
    ) -> None:
        self._client = client
        self._shop = shop
        self._load = load
        self._save = save
        self._clock = clock
        self._ahead = refresh_ahead
        self._tokens: TokenSet | None = None
        self._lock = threading.RLock()
        self._code_used = False
        self._quiet_until = 0.0  # after a refresh that handed back the same token, wait a bit

    @property
    def api(self) -> ShopApi:
        """Typed shop APIs that go through call_with_token."""
        return ShopApi(self.call_with_token)

    def tokens(self) -> TokenSet:
        """The current tokens, created or refreshed first when needed."""
        with self._lock:
            tokens = self._tokens or self._load()
            now = self._clock()
            if tokens is None:
                tokens = self._create()
            elif needs_refresh(tokens, now, self._ahead) and (
                is_expired(tokens, now) or now >= self._quiet_until
            ):
                tokens = self._refresh(tokens)
            self._tokens = tokens
            return tokens

    def access_token(self) -> str:
        return self.tokens().access_token

    def refresh(self, stale_access_token: str | None = None) -> TokenSet:
        """Refresh now (after the platform said the token expired).

        If another thread already replaced `stale_access_token`, its result is reused.
        """
        with self._lock:
            tokens = self._tokens or self._load()
            if tokens is None:
                tokens = self._create()
            elif stale_access_token is None or tokens.access_token == stale_access_token:
                tokens = self._refresh(tokens)
            self._tokens = tokens
            return tokens

    def call_with_token(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Call with the shop's token; on TokenExpired refresh once and retry once."""
        token = self.access_token()
        try:
            return self._client.call(method, params, token)
        except TokenExpired:
            log.info("douyin access token of shop %s rejected as expired; refreshing", self._shop_label())
            fresh = self.refresh(stale_access_token=token)
            return self._client.call(method, params, fresh.access_token)

    def _shop_label(self) -> str:
        if self._tokens is not None:
            return self._tokens.shop_id
        return self._shop.shop_id if isinstance(self._shop, SelfBuiltShop) else "(by auth code)"

    def _create(self) -> TokenSet:
        if isinstance(self._shop, SelfBuiltShop):
            tokens = self._client.create_token_self(
                self._shop.shop_id, test_shop=self._shop.test_shop, now=self._clock()
            )
        else:
            if self._code_used:
                raise ReauthorizationRequired(
                    "the auth code was already used: the merchant must authorise again"
                )
            self._code_used = True
            tokens = self._client.create_token_code(self._shop.code, now=self._clock())
        self._save(tokens)
        log.info("douyin tokens created for shop %s (%s)", tokens.shop_id, tokens.shop_name)
        return tokens

    def _refresh(self, tokens: TokenSet) -> TokenSet:
        now = self._clock()
        if not can_refresh(tokens, now):
            log.warning("douyin refresh token of shop %s has expired", tokens.shop_id)
            return self._create()
        try:
            fresh = self._client.refresh_token(tokens.refresh_token, previous=tokens, now=now)
        except TokenGenerationFailed:
            if isinstance(self._shop, SelfBuiltShop):
                log.warning("douyin token refresh failed for shop %s; creating anew", tokens.shop_id)
                return self._create()
            raise
        if fresh.access_token == tokens.access_token:
            # More than an hour left by the platform's clock: same tokens back. Do not ask again at once.
            self._quiet_until = now + 60
        self._save(fresh)
        log.info("douyin tokens refreshed for shop %s", fresh.shop_id)
        return fresh
