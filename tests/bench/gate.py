"""Benchmark: the gate decision API against /healthz on the same server, over real HTTP.

Loads 100,000 orders (10% refunded) into a fresh default SQLite database, starts
`shipgate-server serve` on loopback, drives POST /api/v1/scans with 16 keep-alive clients,
then GET /healthz the same way, and prints decisions/s, p50/p99 and the throughput ratio.
"""

from __future__ import annotations

import json
import random
import time

from loadgen import http_request, run_load
from serverproc import ServerProcess
from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from server.clock import SYSTEM
from server.decision import AfterSaleFacts, OrderFacts, evaluate
from server.models import AfterSale, Counter, GateCode, GateEntry, Order, Shop, SkuOrder, Waybill

SHOP = "10437917"


def load_orders(engine, n: int, refunded_share: float = 0.10, seed: int = 7) -> tuple[list[str], list[str]]:
    """Bulk-load n one-sku orders with a tracking number each; returns (order ids, tracking numbers)."""
    rng = random.Random(seed)
    now = SYSTEM.now()
    orders, skus, waybills, after_sales, entries, codes = [], [], [], [], [], []
    order_ids, tracking = [], []
    for i in range(n):
        order_id = f"48{i:017d}"
        sku_id = f"49{i:017d}"
        tracking_no = f"SF{i:013d}"
        refunded = rng.random() < refunded_share
        orders.append(
            {
                "order_id": order_id,
                "shop_id": SHOP,
                "order_status": 4 if refunded else 2,
                "main_status": 21 if refunded else 2,
                "update_time": 1_700_000_000 + i,
                "synced_at": now,
            }
        )
        skus.append({"sku_order_id": sku_id, "order_id": order_id, "product_name": "商品", "item_num": 1})
        waybills.append(
            {"tracking_no": tracking_no, "company": "顺丰速运", "order_id": order_id, "issued_at": now}
        )
        facts_after_sales = ()
        if refunded:
            after_sales.append(
                {
                    "aftersale_id": f"70{i:017d}",
                    "order_id": order_id,
                    "sku_order_id": sku_id,
                    "aftersale_type": 2,
                    "aftersale_status": 12,
                    "refund_status": 3,
                    "refund_amount": 8900,
                    "update_time": 1_700_000_100 + i,
                    "synced_at": now,
                }
            )
            facts_after_sales = (AfterSaleFacts(sku_id, 2, 12, 3),)
        verdict = evaluate(
            OrderFacts(
                order_id, orders[-1]["order_status"], orders[-1]["main_status"], (sku_id,), facts_after_sales
            )
        )
        entries.append(
            {
                "order_id": order_id,
                "shop_id": SHOP,
                "decision": verdict.decision.value,
                "reason": verdict.reason.value,
                "sku_out": [],
                "codes": sorted([sku_id, tracking_no]),
                "version": i + 1,
                "updated_at": now,
            }
        )
        codes += [{"code": c, "order_id": order_id} for c in (order_id, sku_id, tracking_no)]
        order_ids.append(order_id)
        tracking.append(tracking_no)
    with Session(engine) as session:
        session.add(Shop(shop_id=SHOP, name="压测小店", app_key="k", app_secret="s"))
        session.flush()
        for model, rows in (
            (Order, orders),
            (SkuOrder, skus),
            (Waybill, waybills),
            (AfterSale, after_sales),
            (GateEntry, entries),
            (GateCode, codes),
        ):
            for start in range(0, len(rows), 5000):
                session.execute(insert(model), rows[start : start + 5000])
        session.execute(update(Counter).where(Counter.name == "gate").values(value=n))
        session.commit()
    return order_ids, tracking


def main(orders: int = 100_000, seconds: float = 10.0, connections: int = 16) -> dict:
    server = ServerProcess(18080)
    started = time.perf_counter()
    order_ids, tracking = load_orders(server.engine, orders)
    token = server.enrol()
    print(f"loaded {orders:,} orders (10% refunded) in {time.perf_counter() - started:.1f} s")
    with server:
        host = f"127.0.0.1:{server.port}"
        rng = random.Random(11)
        codes = [
            rng.choice(order_ids) if rng.random() < 0.5 else rng.choice(tracking) for _ in range(200_000)
        ]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

        def scan_request(n: int) -> bytes:
            body = json.dumps(
                {
                    "scan_id": f"bench-{n}",
                    "code": codes[n % len(codes)],
                    "scanned_at": "2026-11-26T09:00:00+08:00",
                }
            ).encode()
            return http_request("POST", "/api/v1/scans", host, body, headers)

        def health_request(_n: int) -> bytes:
            return http_request("GET", "/healthz", host)

        def decided(body: bytes) -> bool:
            return b'"decision"' in body

        run_load("warm-up", "127.0.0.1", server.port, health_request, connections=connections, seconds=1)
        scans = run_load(
            "POST /api/v1/scans",
            "127.0.0.1",
            server.port,
            scan_request,
            connections=connections,
            seconds=seconds,
            check=decided,
        )
        health = run_load(
            "GET /healthz", "127.0.0.1", server.port, health_request, connections=connections, seconds=seconds
        )
    ratio = scans.rate / health.rate if health.rate else 0.0
    print(scans.line())
    print(health.line())
    print(
        f"decision/healthz throughput ratio: {ratio:.2f}  (targets: >= 1,200 decisions/s, p99 <= 25 ms, ratio >= 0.6)"
    )
    return {
        "decisions_per_s": scans.rate,
        "p50_ms": scans.pct(0.5),
        "p99_ms": scans.pct(0.99),
        "ratio": ratio,
        "errors": scans.errors,
    }


if __name__ == "__main__":
    main()
