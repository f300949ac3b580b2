"""Benchmark: a sandbox shop with 100,000 after-sales synced from scratch into the default SQLite.

Pull sync over real HTTP against the Douyin sandbox (in this process, on loopback): orders first,
then after-sales, each windowed and split under the platform's caps. Prints records/s and time.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from douyin_sandbox import Sandbox, SandboxConfig, SandboxServer
from server import db, secretbox
from server.douyin import DouyinClient, SelfBuiltShop, TokenKeeper
from server.models import AfterSale, GateEntry, Order, Shop
from server.settings import Settings
from server.sync.shops import load_tokens, save_tokens
from server.sync.worker import ShopSync


def main(aftersales: int = 100_000) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="shipgate-bench-ingest-"))
    settings = Settings.build({"instance_dir": str(workdir / "instance"), "secret_key": "bench"})
    secretbox.install(settings.data_key)  # the shop's secret and tokens are sealed with it
    engine = db.make_engine(settings.resolved_database_url)
    db.upgrade(engine)
    sessions = sessionmaker(engine, expire_on_commit=False)

    config = SandboxConfig(n_orders=0)
    sandbox = Sandbox(config)
    started = time.perf_counter()
    from douyin_sandbox.generate import bulk_aftersales

    bulk_aftersales(sandbox.shop, aftersales, span_seconds=7 * 86400)
    print(
        f"sandbox generated {len(sandbox.shop.aftersales):,} after-sales "
        f"({len(sandbox.shop.orders):,} orders) in {time.perf_counter() - started:.1f} s"
    )
    with Session(engine) as session:
        session.add(Shop(shop_id=config.shop_id, app_key=config.app_key, app_secret=config.app_secret))
        session.commit()

    with SandboxServer(sandbox=sandbox, threads=4) as server:
        client = DouyinClient(server.url, config.app_key, config.app_secret)
        keeper = TokenKeeper(
            client,
            SelfBuiltShop(config.shop_id),
            load=lambda: load_tokens(sessions, config.shop_id),
            save=lambda tokens: save_tokens(sessions, config.shop_id, tokens),
        )
        worker = ShopSync(sessions, config.shop_id, keeper.api, owner="bench", clock=sandbox.shop.now)
        started = time.perf_counter()
        report = worker.run_once()
        elapsed = time.perf_counter() - started
        client.close()
    with Session(engine) as session:
        orders = session.scalar(select(func.count()).select_from(Order))
        stored = session.scalar(select(func.count()).select_from(AfterSale))
        blocked = session.scalar(
            select(func.count()).select_from(GateEntry).where(GateEntry.decision == "BLOCK")
        )
    records = sum(report.records.values())
    rate = records / elapsed if elapsed else 0
    print(
        f"synced {records:,} records ({orders:,} orders, {stored:,} after-sales, {blocked:,} now BLOCK) "
        f"in {elapsed:.1f} s: {rate:,.0f} records/s; windows {report.windows}, splits {report.splits}, "
        f"error {report.error}  (target >= 2,000 records/s)"
    )
    return {"records_per_s": rate, "seconds": elapsed, "records": records}


if __name__ == "__main__":
    main()
