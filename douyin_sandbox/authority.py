"""The sandbox's token authority: auth codes, token.create, token.refresh, and token checks.

Rules as the platform states them: an access token lives `token_ttl` (7 days), a refresh token
`refresh_token_ttl` (14 days). Refreshing (or creating again) more than an hour before expiry
returns the same tokens; within the last hour returns new ones and the old stay valid one more
hour; after expiry returns new ones and the old are dead. Auth codes are single-use, 10 minutes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from douyin_sandbox.config import SandboxConfig
from douyin_sandbox.protocol import GatewayError

GRACE = 3600


@dataclass
class Grant:
    access_token: str
    refresh_token: str
    expires_at: int
    refresh_expires_at: int


class TokenAuthority:
    """Not thread-safe on its own: the gateway calls it under the shop's lock."""

    def __init__(self, config: SandboxConfig, new_token: Callable[[], str]) -> None:
        self.config = config
        self._new_token = new_token
        self.by_access: dict[str, Grant] = {}
        self.by_refresh: dict[str, Grant] = {}
        self.current: Grant | None = None
        self._codes: dict[str, int] = {}  # auth code -> expiry

    def mint_auth_code(self, now: int) -> str:
        """An auth code as the merchant's authorisation redirect would carry (single use)."""
        code = self._new_token().replace("-", "")
        self._codes[code] = now + self.config.auth_code_ttl
        return code

    def create(self, params: dict[str, Any], now: int) -> dict[str, Any]:
        """token.create: authorization_self (shop_id or test_shop) or authorization_code."""
        grant_type = str(params.get("grant_type") or "")
        if grant_type == "authorization_self":
            shop_id = str(params.get("shop_id") or "")
            if not shop_id and str(params.get("test_shop") or "") != "1":
                raise GatewayError.missing("shop_id")
            if shop_id and shop_id != str(self.config.shop_id):
                raise GatewayError(30001, "dop.authorization-closed", f"店铺 {shop_id} 未授权该应用")
        elif grant_type == "authorization_code":
            code = str(params.get("code") or "")
            if not code:
                raise GatewayError.missing("code")
            expiry = self._codes.pop(code, None)
            if expiry is None or now >= expiry:
                raise GatewayError(50001, "dop.token-generate-failed:code-expired", "授权码已过期或已使用")
        else:
            raise GatewayError.invalid("grant_type")
        return self._answer(self._same_or_new(self.current, now), now)

    def refresh(self, params: dict[str, Any], now: int) -> dict[str, Any]:
        """token.refresh with grant_type refresh_token."""
        if str(params.get("grant_type") or "") != "refresh_token":
            raise GatewayError.invalid("grant_type")
        refresh_token = str(params.get("refresh_token") or "")
        if not refresh_token:
            raise GatewayError.missing("refresh_token")
        grant = self.by_refresh.get(refresh_token)
        if grant is None or now >= grant.refresh_expires_at:
            raise GatewayError(
                50001, "dop.token-generate-failed:token-expired", "refresh_token 已过期或不存在"
            )
        if grant is not self.current:  # an old grant within its last hour: hand out the newest
            grant = self.current or grant
        return self._answer(self._same_or_new(grant, now), now)

    def check(self, access_token: str, now: int) -> None:
        """Raise the platform's error unless the access token is alive."""
        if not access_token:
            raise GatewayError(40001, "isv.access-token-missing", "缺少 access_token")
        grant = self.by_access.get(access_token)
        if grant is None:
            raise GatewayError(40003, "isv.access-token-no-existed", "access_token 不存在")
        if now >= grant.expires_at:
            raise GatewayError(40003, "isv.access-token-expired", "access_token 已过期")

    def expire_all(self, now: int) -> int:
        """Fault switch: every access token issued so far expires now. Returns how many."""
        for grant in self.by_access.values():
            grant.expires_at = min(grant.expires_at, now)
        return len(self.by_access)

    def _same_or_new(self, grant: Grant | None, now: int) -> Grant:
        if grant is not None and grant.expires_at - now > GRACE:
            return grant
        fresh = Grant(
            access_token=self._new_token(),
            refresh_token=self._new_token(),
            expires_at=now + self.config.token_ttl,
            refresh_expires_at=now + self.config.refresh_token_ttl,
        )
        if grant is not None:
            if now < grant.expires_at:  # last hour: the old pair lives one more hour
                grant.expires_at = now + GRACE
                grant.refresh_expires_at = min(grant.refresh_expires_at, now + GRACE)
            else:  # expired: the old pair is dead
                self.by_access.pop(grant.access_token, None)
                self.by_refresh.pop(grant.refresh_token, None)
        self.by_access[fresh.access_token] = fresh
        self.by_refresh[fresh.refresh_token] = fresh
        self.current = fresh
        return fresh

    def _answer(self, grant: Grant, now: int) -> dict[str, Any]:
        return {
            "access_token": grant.access_token,
            "refresh_token": grant.refresh_token,
            "expires_in": max(0, grant.expires_at - now),
            "scope": "SCOPE",
            "shop_id": int(self.config.shop_id),
            "shop_name": self.config.shop_name,
            "token_type": 0,
        }
