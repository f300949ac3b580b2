"""Benchmark: how long from a refund succeeding on Douyin until the gate BLOCKs a scan of the order.

The Douyin sandbox (in this process) pushes signed messages to `shipgate-server serve` (a
subprocess, default SQLite); a client scans the order every 5 ms until the answer is BLOCK.
(a) push path: 200 refunds; (b) poll path: pushes dropped, a pull pass every `interval` seconds.
"""

from __future__ import annotations

import statistics
import threading
import time
import uuid

import httpx
from serverproc import ServerProcess
from sqlalchemy.orm import Session, sessionmaker

from douyin_sandbox import Sandbox, SandboxConfig, SandboxServer
from server.douyin import DouyinClient, SelfBuiltShop, TokenKeeper
from server.models import Shop
from server.sync.shops import load_tokens, save_tokens
from server.sync.worker import ShopSync


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def time_to_block(http: httpx.Client, order_id: str, started: float, timeout: float) -> float:
    while True:
        body = {"scan_id": uuid.uuid4().hex, "code": order_id, "scanned_at": "2026-11-26T09:00:00+08:00"}
        if http.post("/api/v1/scans", json=body).json()["decision"] == "BLOCK":
            return time.perf_counter() - started
        if time.perf_counter() - started > timeout:
            return float("inf")
        time.sleep(0.005)


def main(refunds: int = 200, poll_refunds: int = 20, interval: float = 2.0) -> dict:
    server = ServerProcess(18081)
    config = SandboxConfig(
        n_orders=0, push_url=f"{server.url}/webhooks/douyin", push_retry_delays=(0.05, 0.2, 1.0)
    )
    sandbox = Sandbox(config)
    shop = sandbox.shop
    orders = [shop.create_order(n_skus=1) for _ in range(refunds + poll_refunds)]
    with Session(server.engine) as session:
        session.add(Shop(shop_id=config.shop_id, app_key=config.app_key, app_secret=config.app_secret))
        session.commit()
    token = server.enrol()
    sessions = sessionmaker(server.engine, expire_on_commit=False)
    with SandboxServer(sandbox=sandbox) as douyin, server:
        client = DouyinClient(douyin.url, config.app_key, config.app_secret)
        keeper = TokenKeeper(
            client,
            SelfBuiltShop(config.shop_id),
            load=lambda: load_tokens(sessions, config.shop_id),
            save=lambda tokens: save_tokens(sessions, config.shop_id, tokens),
        )
        worker = ShopSync(sessions, config.shop_id, keeper.api, owner="bench-freshness")
        worker.run_once()  # the orders are known before their refunds
        http = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=5)

        push_times = []
        for order in orders[:refunds]:
            refund = shop.apply_refund(order.order_id)
            started = time.perf_counter()
            shop.succeed_refund(refund.aftersale_id)
            push_times.append(time_to_block(http, order.order_id, started, timeout=10))

        sandbox.faults.update({"push_drop_rate": 1.0})
        stop = threading.Event()

        def poll_loop():
            while not stop.is_set():
                worker.run_once()
                stop.wait(interval)

        poller = threading.Thread(target=poll_loop, daemon=True)
        poller.start()
        poll_times = []
        for order in orders[refunds:]:
            refund = shop.apply_refund(order.order_id)
            time.sleep(interval * 0.37)  # refunds land at different points of the poll cycle
            started = time.perf_counter()
            shop.succeed_refund(refund.aftersale_id)
            poll_times.append(time_to_block(http, order.order_id, started, timeout=interval * 5))
        stop.set()
        poller.join(timeout=30)
        http.close()
        client.close()

    ms = [t * 1000 for t in push_times]
    print(
        f"push path: {len(ms)} refunds, p50 {pct(ms, 0.5):.0f} ms, p99 {pct(ms, 0.99):.0f} ms, "
        f"max {max(ms):.0f} ms  (target p99 <= 500 ms)"
    )
    pm = [t * 1000 for t in poll_times]
    print(
        f"poll path (pushes dropped, pull every {interval:.1f} s): {len(pm)} refunds, p50 {pct(pm, 0.5):.0f} ms, "
        f"p99 {pct(pm, 0.99):.0f} ms; p50 = {statistics.median(pm) / 1000 / interval:.2f} x the poll interval"
    )
    return {"push_p50_ms": pct(ms, 0.5), "push_p99_ms": pct(ms, 0.99), "poll_p50_ms": pct(pm, 0.5)}


if __name__ == "__main__":
    main()
