"""A shop's Douyin API, built from its database row: client, token keeper, stored tokens."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from sqlalchemy.orm import sessionmaker

from server.douyin.api import ShopApi
from server.douyin.client import DouyinClient
from server.douyin.tokens import AuthorizedShop, SelfBuiltShop, TokenKeeper, TokenSet
from server.models import Shop

# Per-app QPS Douyin allows is a few hundred; stay far below it and share nothing between shops.
DEFAULT_RATE = 20.0


def _ts(value: datetime | None) -> int:
    return int(value.timestamp()) if value else 0


def load_tokens(sessions: sessionmaker, shop_id: str) -> TokenSet | None:
    with sessions() as session:
        shop = session.get(Shop, shop_id)
        if shop is None or not shop.access_token:
            return None
        return TokenSet(
            access_token=shop.access_token,
            refresh_token=shop.refresh_token or "",
            expires_at=_ts(shop.token_expires_at),
            refresh_expires_at=_ts(shop.refresh_expires_at),
            shop_id=shop.shop_id,
            shop_name=shop.name,
        )


def save_tokens(sessions: sessionmaker, shop_id: str, tokens: TokenSet) -> None:
    with sessions() as session:
        shop = session.get(Shop, shop_id)
        shop.access_token = tokens.access_token
        shop.refresh_token = tokens.refresh_token
        shop.token_expires_at = datetime.fromtimestamp(tokens.expires_at, UTC)
        shop.refresh_expires_at = datetime.fromtimestamp(tokens.refresh_expires_at, UTC)
        if tokens.shop_name and not shop.name:
            shop.name = tokens.shop_name
        session.commit()


def shop_api(
    sessions: sessionmaker,
    shop: Shop,
    gateway: str,
    *,
    timeout: httpx.Timeout | None = None,
    max_retries: int = 3,
    transport: httpx.BaseTransport | None = None,
    rate_limit_per_s: float | None = DEFAULT_RATE,
) -> tuple[ShopApi, DouyinClient]:
    """The typed API for one shop and the client behind it (close it when done)."""
    options = {"timeout": timeout} if timeout is not None else {}
    client = DouyinClient(
        gateway,
        shop.app_key,
        shop.app_secret,
        transport=transport,
        max_retries=max_retries,
        rate_limit_per_s=rate_limit_per_s,
        **options,
    )
    identity = AuthorizedShop(shop.auth_code) if shop.auth_code else SelfBuiltShop(shop.shop_id)
    keeper = TokenKeeper(
        client,
        identity,
        load=lambda: load_tokens(sessions, shop.shop_id),
        save=lambda tokens: save_tokens(sessions, shop.shop_id, tokens),
    )
    return keeper.api, client
