"""The sandbox's settings: one app, one shop, and the platform's limits. Passed in, never read from env."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_APP_KEY = "7000000000000000001"
DEFAULT_APP_SECRET = "sandbox-secret-0000000000000000"  # a sandbox only: printed at start
DEFAULT_SHOP_ID = "80000001"


@dataclass
class SandboxConfig:
    app_key: str = DEFAULT_APP_KEY
    app_secret: str = DEFAULT_APP_SECRET
    shop_id: str = DEFAULT_SHOP_ID
    shop_name: str = "沙盒示例旗舰店"
    push_url: str | None = None
    seed: int = 20240601
    n_orders: int = 200  # generated at start over the last `history_days`
    history_days: int = 30
    start_time: int | None = None  # business "now" at start (Unix s); default: the wall clock
    # Tokens.
    token_ttl: int = 7 * 86400
    refresh_token_ttl: int = 14 * 86400
    auth_code_ttl: int = 600
    # Gateway rules.
    timestamp_skew: int = 600
    max_page_size: int = 100
    search_result_cap: int = 50_000  # order.searchList: 20013 past this many results ("最多支持查询5万")
    aftersale_page_cap: int = 50_000  # afterSale.List: page * size must stay within this
    search_window_days: int = 90  # order.searchList: 20022 for older windows
    # Pushes.
    push_retry_delays: tuple[float, ...] = (0.2, 1.0, 5.0, 15.0, 60.0)
    push_timeout: float = 5.0
    push_batch_size: int = 1
    push_history: int = 1000  # how many recent pushes GET /sandbox/pushes shows
