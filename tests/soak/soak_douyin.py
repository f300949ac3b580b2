"""Scenario e: Douyin storms. The sandbox answers 20000 (service error) and 60000 (rate limit)
storms, expires every token, answers slowly and then too slowly, while its pushes to the real
server are dropped, duplicated and reordered; the shop keeps changing all the while. After the
storms every sandbox order must have the gate verdict the platform's state implies: every refund
ends BLOCK or HOLD."""

from __future__ import annotations

import random
import time
from collections import Counter
from pathlib import Path

import httpx
from platform_truth import expected
from polling import wait_until
from soak_kit import Options, Result, ServerProc, free_port, migrated_engine, sqlite_url
from sqlalchemy.orm import Session, sessionmaker

from douyin_sandbox import Sandbox, SandboxConfig, SandboxServer, TransitionError
from server.douyin import DouyinClient, SelfBuiltShop, TokenKeeper
from server.models import GateEntry, Shop
from server.sync.shops import load_tokens, save_tokens
from server.sync.worker import ShopSync

APP_KEY, APP_SECRET, SHOP_ID = "7000000000000000888", "soak-sandbox-secret", "80000888"
PUSH_FAULTS = {"push_drop_rate": 0.25, "push_duplicate_rate": 0.3, "push_reorder": 3}


class Activity:
    """The shop's business: new orders, refunds asked, agreed, paid, refused, closed, cancels, shipments."""

    def __init__(self, shop, rng: random.Random, *, advance_clock: bool = True):
        self.shop, self.rng, self.advance_clock = shop, rng, advance_clock
        self.done: Counter = Counter()

    def step(self) -> None:
        shop, rng = self.shop, self.rng
        roll = rng.random()
        try:
            if roll < 0.25:
                shop.create_order()
                self.done["order"] += 1
            elif roll < 0.55:
                open_orders = [o for o in shop.orders.values() if o.order_status in (2, 3)]
                order = rng.choice(open_orders)
                shop.apply_refund(order.order_id)
                self.done["refund asked"] += 1
            else:
                pending = [a for a in shop.aftersales.values() if a.status in (6, 7, 11)]
                if not pending:
                    return
                record = rng.choice(pending)
                action = rng.choices(["succeed", "agree", "refuse", "close"], weights=(55, 20, 10, 15))[0]
                getattr(shop, f"{action}_refund")(record.aftersale_id)
                self.done[f"refund {action}"] += 1
        except (TransitionError, IndexError, KeyError):
            self.done["refused by the platform"] += 1
        if self.advance_clock:  # only when the puller runs on the sandbox's clock too
            shop.advance_clock(rng.randint(5, 90))


def verdicts(engine, shop) -> tuple[int, int, list[str]]:
    """(orders right, refunds right, wrong order ids)."""
    with Session(engine) as session:
        gate = {e.order_id: (e.decision, e.reason) for e in session.query(GateEntry)}
    wrong = [o.order_id for o in shop.orders.values() if gate.get(o.order_id) != expected(shop, o)]
    refund_orders = {a.order_id for a in shop.aftersales.values() if a.aftersale_type in (0, 1, 2)}
    right_refunds = sum(1 for oid in refund_orders if oid not in wrong)
    return len(shop.orders) - len(wrong), right_refunds, wrong


def scenario_douyin_storms(workdir: Path, options: Options) -> Result:
    """Douyin sandbox storms while pulling and pushing"""
    result = Result(
        "e", "Douyin storms (20000, 60000, expired tokens, slow) + dropped/duplicated/reordered pushes"
    )
    url = sqlite_url(workdir)
    engine = migrated_engine(url)
    server = ServerProc(workdir, free_port(), url).start()
    config = SandboxConfig(
        app_key=APP_KEY, app_secret=APP_SECRET, shop_id=SHOP_ID, n_orders=int(options.pick(400, 150)),
        push_url=server.url + "/webhooks/douyin", push_retry_delays=(0.05, 0.1, 0.3, 1.0, 2.0),
    )  # fmt: skip
    sandbox = SandboxServer(sandbox=Sandbox(config)).start()
    shop = sandbox.sandbox.shop
    faults = sandbox.sandbox.faults
    with Session(engine) as session:
        session.add(Shop(shop_id=SHOP_ID, name="", app_key=APP_KEY, app_secret=APP_SECRET))
        session.commit()
    sessions = sessionmaker(engine, expire_on_commit=False)
    client = DouyinClient(sandbox.url, APP_KEY, APP_SECRET, timeout=httpx.Timeout(1.0),
                          sleep=lambda s: time.sleep(min(s, 0.05)))  # fmt: skip
    keeper = TokenKeeper(
        client, SelfBuiltShop(SHOP_ID), load=lambda: load_tokens(sessions, SHOP_ID),
        save=lambda tokens: save_tokens(sessions, SHOP_ID, tokens), clock=shop.now,
    )  # fmt: skip
    worker = ShopSync(sessions, SHOP_ID, keeper.api, owner="soak", clock=shop.now)
    activity = Activity(shop, random.Random(11))
    rounds, per_round = int(options.pick(6, 3)), int(options.pick(25, 12))
    phases = [
        ("20000 service errors", {"error_rate": 0.3, "error_next": 5}),
        ("60000 rate limits", {"rate_limit_rate": 0.4, "rate_limit_next": 5}),
        ("tokens expired", {}),
        ("too slow (1.5 s > the 1 s timeout)", {"latency_ms": 1500}),
        ("slow (300 ms)", {"latency_ms": 300}),
    ]
    try:
        first = worker.run_once()
        result.check(first.error is None, f"the first pull failed: {first.error}")
        faults.update(PUSH_FAULTS)
        for name, switches in phases:
            faults.reset()
            faults.update({**PUSH_FAULTS, **switches})
            passes = Counter()
            for _ in range(rounds):
                if name == "tokens expired":
                    sandbox.sandbox.expire_tokens()
                for _ in range(per_round):
                    activity.step()
                report = worker.run_once()
                passes["failed" if report.error else "ok"] += 1
                if report.error:
                    passes[report.error.split(":")[0]] += 1
            wait_until(lambda: sandbox.sandbox.pusher.flush(0.5), 5)
            right, _refunds, _wrong = verdicts(engine, shop)
            result.say(f"{name}: pulls " + ", ".join(f"{k} {v}" for k, v in passes.items())
                       + f"; gate right for {right}/{len(shop.orders)} orders")  # fmt: skip
        faults.reset()
        released = sandbox.sandbox.pusher.release_held()
        wait_until(lambda: sandbox.sandbox.pusher.flush(1), 30)
        right, right_refunds, wrong = verdicts(engine, shop)
        refunds = {a.order_id for a in shop.aftersales.values() if a.aftersale_type in (0, 1, 2)}
        result.say("business: " + ", ".join(f"{k} {v}" for k, v in sorted(activity.done.items())))
        stats = dict(sandbox.sandbox.pusher.stats)
        result.say(
            "pushes: "
            + ", ".join(f"{k} {v}" for k, v in stats.items())
            + f", released from reorder {released}"
        )
        result.say(f"after the storms, before a calm pull: {right}/{len(shop.orders)} orders and "
                   f"{right_refunds}/{len(refunds)} refunded orders right")  # fmt: skip
        calm = 0
        while calm < 5:
            calm += 1
            report = worker.run_once()
            right, right_refunds, wrong = verdicts(engine, shop)
            if report.error is None and not wrong:
                break
        result.say(f"after {calm} calm pull(s): {right}/{len(shop.orders)} orders and "
                   f"{right_refunds}/{len(refunds)} refunded orders right; wrong {wrong[:5]}")  # fmt: skip
        errors = server.errors()
        result.say("server log: " + (", ".join(f"{k} ×{v}" for k, v in errors.most_common(5)) or "no errors"))
        result.check(not wrong, f"{len(wrong)} orders with the wrong gate verdict: {wrong[:5]}")
        result.check(stats.get("given_up", 0) == 0, "the server refused pushes until Douyin gave up")
    finally:
        client.close()
        sandbox.stop()
        server.stop()
        engine.dispose()
    return result
