"""`python -m douyin_sandbox`: run the sandbox in the foreground (`shipgate-server sandbox` does the same)."""

from __future__ import annotations

import argparse
import logging

from douyin_sandbox.config import DEFAULT_APP_KEY, DEFAULT_APP_SECRET, DEFAULT_SHOP_ID, SandboxConfig
from douyin_sandbox.serve import serve_sandbox


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m douyin_sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--app-key", default=DEFAULT_APP_KEY)
    parser.add_argument("--app-secret", default=DEFAULT_APP_SECRET)
    parser.add_argument("--shop-id", default=DEFAULT_SHOP_ID)
    parser.add_argument(
        "--push-url", default=None, help="webhook to push to, e.g. http://127.0.0.1:8080/webhooks/douyin"
    )
    parser.add_argument("--seed", type=int, default=SandboxConfig.seed)
    parser.add_argument(
        "--orders", type=int, default=SandboxConfig.n_orders, help="orders generated at start"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = SandboxConfig(
        app_key=args.app_key,
        app_secret=args.app_secret,
        shop_id=args.shop_id,
        push_url=args.push_url,
        seed=args.seed,
        n_orders=args.orders,
    )
    serve_sandbox(args.host, args.port, config)


if __name__ == "__main__":
    main()
