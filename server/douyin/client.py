"""The Douyin open-platform client: sign, send, parse the envelope, retry what is safe to retry.

One httpx.Client (keep-alive) per DouyinClient. Clock, sleep, transport and randomness are
passed in. Secrets, tokens, signatures and parameters never reach a log line or an exception.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from typing import Any

import httpx

from server.douyin import redact
from server.douyin.api import ShopApi
from server.douyin.backoff import Backoff, may_retry
from server.douyin.errors import (
    BadResponse,
    ConnectFailed,
    DouyinError,
    TransportError,
    TransportTimeout,
    data_or_raise,
)
from server.douyin.ratelimit import TokenBucket
from server.douyin.signing import API_VERSION, SignMethod, canonical_param_json, sign_request
from server.douyin.tokens import TokenSet

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=3.0)
TOKEN_METHODS = frozenset({"token.create", "token.refresh"})


def method_path(method: str) -> str:
    """`order.searchList` is served at `/order/searchList`."""
    return "/" + method.strip().replace(".", "/")


class DouyinClient:
    """Calls one Douyin app's APIs through one gateway."""

    def __init__(
        self,
        gateway: str,
        app_key: str,
        app_secret: str,
        *,
        sign_method: str = SignMethod.HMAC_SHA256.value,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.time,
        rate_limit_per_s: float | None = None,
        max_retries: int = 3,
        sleep: Callable[[float], None] = time.sleep,
        backoff: Backoff | None = None,
        rate_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.gateway = gateway.rstrip("/")
        self.app_key = str(app_key)
        self._secret = app_secret
        self.sign_method = SignMethod(sign_method)
        self._clock = clock
        self._sleep = sleep
        self.max_retries = max_retries
        self._backoff = backoff or Backoff(rng=random.Random())
        self._bucket = (
            TokenBucket(rate_limit_per_s, clock=rate_clock, sleep=sleep) if rate_limit_per_s else None
        )
        redact.install()
        self._http = httpx.Client(
            transport=transport,
            timeout=timeout,
            headers={"x-open-no-old-err-code": "1", "User-Agent": "shipgate-douyin/1"},
        )

    def __repr__(self) -> str:
        return f"DouyinClient(gateway={self.gateway!r}, app_key={self.app_key!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DouyinClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(
        self, method: str, params: dict[str, Any] | None, access_token: str | None = None
    ) -> dict[str, Any]:
        """Call one API and return its `data`; raise a DouyinError subclass on failure.

        Transient failures are retried with backoff: any of them for read-only methods, only
        never-sent ones (connect failures, 60000) for writes. See backoff.may_retry.
        """
        param_json = canonical_param_json(params)
        attempt = 0
        while True:
            try:
                return self._call_once(method, param_json, access_token)
            except DouyinError as exc:
                if attempt >= self.max_retries or not may_retry(method, exc):
                    raise
                delay = self._backoff.delay(attempt)
                attempt += 1
                name = type(exc).__name__
                log.warning(
                    "douyin %s failed (%s); retry %d of %d in %.2fs",
                    method,
                    name,
                    attempt,
                    self.max_retries,
                    delay,
                )
                self._sleep(delay)

    def _call_once(self, method: str, param_json: str, access_token: str | None) -> dict[str, Any]:
        if self._bucket is not None:
            self._bucket.acquire()
        timestamp = str(int(self._clock()))
        query = {
            "app_key": self.app_key,
            "method": method,
            "timestamp": timestamp,
            "v": API_VERSION,
            "sign_method": self.sign_method.value,
            "sign": sign_request(self.app_key, self._secret, method, param_json, timestamp, self.sign_method),
        }
        if access_token and method not in TOKEN_METHODS:
            query["access_token"] = access_token
        started = time.monotonic()
        response = self._post(method, query, param_json)
        envelope = self._envelope(method, response)
        elapsed_ms = (time.monotonic() - started) * 1000
        try:
            data = data_or_raise(envelope, method)
        except DouyinError as exc:
            log.info(
                "douyin %s -> %s %s in %.0f ms (log_id %s)",
                method,
                exc.code,
                exc.sub_code,
                elapsed_ms,
                exc.log_id,
            )
            raise
        log.debug("douyin %s ok in %.0f ms (log_id %s)", method, elapsed_ms, envelope.get("log_id", ""))
        return data

    def _post(self, method: str, query: dict[str, str], param_json: str) -> httpx.Response:
        url = self.gateway + method_path(method)
        body = param_json.encode("utf-8")
        try:
            return self._http.post(
                url, params=query, content=body, headers={"Content-Type": "application/json"}
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise ConnectFailed(
                f"cannot connect to the gateway: {type(exc).__name__}", method=method
            ) from None
        except httpx.TimeoutException as exc:
            raise TransportTimeout(f"no answer in time: {type(exc).__name__}", method=method) from None
        except httpx.TransportError as exc:
            raise TransportError(f"transport failure: {type(exc).__name__}", method=method) from None

    @staticmethod
    def _envelope(method: str, response: httpx.Response) -> dict[str, Any]:
        if response.status_code != 200:
            raise BadResponse(f"HTTP {response.status_code} from the gateway", method=method)
        try:
            envelope = json.loads(response.content)
        except ValueError:
            raise BadResponse("the gateway answered with something that is not JSON", method=method) from None
        if not isinstance(envelope, dict):
            raise BadResponse("the gateway's answer is not a JSON object", method=method)
        return envelope

    # Tokens (no access token is sent with these).

    def create_token_self(
        self, shop_id: str, test_shop: bool = False, *, now: float | None = None
    ) -> TokenSet:
        """token.create for a self-built app (自用型). `now` (default: the client's clock) dates the tokens."""
        params: dict[str, Any] = {"code": "", "grant_type": "authorization_self", "shop_id": str(shop_id)}
        if test_shop:
            params["test_shop"] = "1"
        return TokenSet.from_response(self.call("token.create", params), self._now(now))

    def create_token_code(self, code: str, *, now: float | None = None) -> TokenSet:
        """token.create for a tool app (工具型) with the merchant's auth code."""
        data = self.call("token.create", {"code": code, "grant_type": "authorization_code"})
        return TokenSet.from_response(data, self._now(now))

    def refresh_token(
        self, refresh_token: str, previous: TokenSet | None = None, *, now: float | None = None
    ) -> TokenSet:
        """token.refresh. Pass the current TokenSet as `previous` to keep what the response lacks."""
        data = self.call("token.refresh", {"grant_type": "refresh_token", "refresh_token": refresh_token})
        return TokenSet.from_response(data, self._now(now), previous)

    def _now(self, now: float | None) -> float:
        return self._clock() if now is None else now

    def shop_api(self, access_token: str) -> ShopApi:
        """Typed shop APIs bound to one access token (no refresh; see TokenKeeper.api for that)."""
        return ShopApi(lambda method, params: self.call(method, params, access_token))
