"""One running sandbox: the shop, its token authority, the fault switches and the push sender,
plus the dispatch of gateway calls to the method handlers."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import httpx

from douyin_sandbox import aftersales_api, events, orders_api
from douyin_sandbox.authority import TokenAuthority
from douyin_sandbox.config import SandboxConfig
from douyin_sandbox.faults import Faults
from douyin_sandbox.generate import populate
from douyin_sandbox.protocol import GatewayError, RawCall, check_call, envelope, new_log_id
from douyin_sandbox.pusher import PushSender
from douyin_sandbox.shop import SandboxShop

Handler = Callable[["Sandbox", dict[str, Any]], dict[str, Any]]

# method -> (handler, needs an access token)
METHODS: dict[str, tuple[Handler, bool]] = {
    "token.create": (lambda sb, p: sb.tokens.create(p, sb.shop.now()), False),
    "token.refresh": (lambda sb, p: sb.tokens.refresh(p, sb.shop.now()), False),
    "order.searchList": (lambda sb, p: orders_api.search_list(sb.shop, p), True),
    "order.orderDetail": (lambda sb, p: orders_api.order_detail(sb.shop, p), True),
    "afterSale.List": (lambda sb, p: aftersales_api.list_aftersales(sb.shop, p), True),
    "afterSale.Detail": (lambda sb, p: aftersales_api.aftersale_detail(sb.shop, p), True),
    "afterSale.applyLogisticsIntercept": (
        lambda sb, p: aftersales_api.apply_logistics_intercept(sb.shop, p),
        True,
    ),
}


class Sandbox:
    """Build with a config; start() starts the push sender thread, stop() ends it."""

    def __init__(
        self,
        config: SandboxConfig | None = None,
        *,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        push_transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.config = config or SandboxConfig()
        self.shop = SandboxShop(self.config, wall_clock=wall_clock)
        self.faults = Faults(seed=self.config.seed)
        self.tokens = TokenAuthority(self.config, new_token=self.shop.ids.token)
        self.pusher = PushSender(
            self.config.app_key,
            self.config.app_secret,
            self.config.push_url,
            faults=self.faults,
            new_msg_id=self.shop.ids.msg_id,
            retry_delays=self.config.push_retry_delays,
            timeout=self.config.push_timeout,
            batch_size=self.config.push_batch_size,
            history=self.config.push_history,
            transport=push_transport,
            verify_time=lambda: events.rfc3339(self.shop.wall_now()),
        )
        self.shop.sinks.append(lambda tag, data: self.pusher.submit(tag.value, data))
        self._sleep = sleep
        self._log_rng = random.Random(self.config.seed)
        populate(self.shop, self.config.n_orders, self.config.history_days)

    def start(self) -> Sandbox:
        self.pusher.start()
        return self

    def stop(self) -> None:
        self.pusher.stop()

    def mint_auth_code(self) -> str:
        with self.shop.lock:
            return self.tokens.mint_auth_code(self.shop.now())

    def expire_tokens(self) -> int:
        with self.shop.lock:
            return self.tokens.expire_all(self.shop.now())

    def dispatch(self, call: RawCall, *, legacy: bool) -> dict[str, Any]:
        """Answer one gateway call with its envelope (never raises for the caller's mistakes)."""
        with self.shop.lock:
            log_id = new_log_id(self.shop.wall_now(), self._log_rng)
        try:
            if self.faults.latency():
                self._sleep(self.faults.latency())
            params = check_call(
                call,
                app_key=self.config.app_key,
                app_secret=self.config.app_secret,
                now=self.shop.wall_now(),
                skew=self.config.timestamp_skew,
            )
            if call.method not in METHODS:
                raise GatewayError.invalid("method", f"不存在的接口 {call.method}")
            fault = self.faults.gateway_fault(call.method)
            if fault is not None:
                raise fault
            handler, needs_token = METHODS[call.method]
            with self.shop.lock:
                if needs_token:
                    self.tokens.check(call.access_token, self.shop.now())
                data = handler(self, params)
            return envelope(data, log_id, legacy=legacy)
        except GatewayError as error:
            return envelope(None, log_id, legacy=legacy, error=error)
