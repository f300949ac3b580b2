"""The pull sync against the sandbox over real HTTP: full, incremental, split windows, storms,
tokens, the lease."""

from __future__ import annotations

from datetime import timedelta

from platform_truth import expected
from sqlalchemy import func, select

from server.models import AfterSale, GateEntry, Order, SyncState
from server.sync import lease


def count(session, model, *where):
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where))


def decision(session, order_id):
    session.expire_all()
    entry = session.get(GateEntry, order_id)
    return (entry.decision, entry.reason) if entry else None


def test_full_then_incremental_sync(make_worker, sandbox, session):
    shop = sandbox.sandbox.shop
    worker = make_worker()
    started = shop.now()  # the sandbox's clock is the wall clock: a pass may cross a second
    report = worker.run_once()
    assert report.error is None
    assert count(session, Order) == len(shop.orders)
    assert count(session, AfterSale) == len(shop.aftersales)
    bookmark = session.get(SyncState, (worker.shop_id, "aftersales")).bookmark
    assert started <= bookmark <= shop.now()

    order = shop.create_order(n_skus=1)
    shop.advance_clock(60)
    refund = shop.apply_refund(order.order_id)
    shop.advance_clock(60)
    shop.succeed_refund(refund.aftersale_id)
    shop.advance_clock(5)
    second = shop.now()
    report = worker.run_once()
    assert report.error is None and report.records["aftersales"] >= 1
    assert decision(session, order.order_id) == ("BLOCK", "refunded")
    session.expire_all()
    assert bookmark < second <= session.get(SyncState, (worker.shop_id, "aftersales")).bookmark <= shop.now()


def test_every_gate_verdict_matches_the_platform(make_worker, sandbox, session):
    shop = sandbox.sandbox.shop
    make_worker().run_once()
    verdicts = {o.order_id: decision(session, o.order_id) for o in shop.orders.values()}
    assert verdicts == {o.order_id: expected(shop, o) for o in shop.orders.values()}
    assert {v for v in verdicts.values()} >= {("PASS", "clear"), ("BLOCK", "refunded")}


def test_windows_split_under_the_result_cap(make_worker, sandbox, session):
    worker = make_worker(order_cap=7, aftersale_cap=5, page_size=5)
    report = worker.run_once()
    assert report.error is None and report.splits > 0
    assert count(session, Order) == len(sandbox.sandbox.shop.orders)
    assert count(session, AfterSale) == len(sandbox.sandbox.shop.aftersales)


def test_the_platforms_own_cap_refusal_splits_the_window(make_worker, sandbox, session):
    """The sandbox refuses to page past its cap with 40004 isv.parameter-invalid:20013, as the
    platform does; a worker whose own cap is larger still gets every record, by splitting."""
    sandbox.sandbox.config.search_result_cap = 10
    worker = make_worker(page_size=5)  # its caps: the platform's documented 50,000
    report = worker.run_once()
    assert report.error is None and report.splits > 0
    assert count(session, Order) == len(sandbox.sandbox.shop.orders) > 10


def test_the_order_cap_is_the_documented_50000():
    from douyin_sandbox import SandboxConfig
    from server.sync.worker import ORDER_CAP

    assert ORDER_CAP == SandboxConfig().search_result_cap == 50_000


def test_a_refund_the_buyer_cancelled_releases_the_order_by_poll(make_worker, sandbox, session):
    """28 with refund_status 1 (never 4): closed without money back, the parcel may ship."""
    shop = sandbox.sandbox.shop
    worker = make_worker()
    order = shop.create_order(n_skus=1)
    refund = shop.apply_refund(order.order_id)
    shop.advance_clock(5)
    worker.run_once()
    assert decision(session, order.order_id) == ("HOLD", "refund_pending")
    shop.advance_clock(60)
    shop.close_refund(refund.aftersale_id)
    shop.advance_clock(5)
    assert worker.run_once().error is None
    session.expire_all()
    row = session.get(AfterSale, refund.aftersale_id)
    assert (row.aftersale_status, row.refund_status) == (28, 1)
    assert decision(session, order.order_id) == ("PASS", "clear") == expected(shop, order)


def test_rate_limit_and_service_error_storms_lose_nothing(make_worker, sandbox, session):
    sandbox.sandbox.faults.update({"error_rate": 0.3, "rate_limit_rate": 0.3})
    worker = make_worker()
    for _ in range(10):  # each pass resumes from the last committed bookmark
        report = worker.run_once()
        if report.error is None:
            break
    assert report.error is None
    sandbox.sandbox.faults.reset()
    assert count(session, AfterSale) == len(sandbox.sandbox.shop.aftersales)
    assert count(session, Order) == len(sandbox.sandbox.shop.orders)


def test_a_failed_pass_records_the_error_and_keeps_the_bookmark(make_worker, sandbox, session):
    worker = make_worker()
    worker.run_once()
    bookmark = session.get(SyncState, (worker.shop_id, "orders")).bookmark
    sandbox.sandbox.shop.advance_clock(600)
    sandbox.sandbox.faults.update({"error_rate": 1.0})
    report = worker.run_once()
    assert report.error and "ServiceError" in report.error
    session.expire_all()
    state = session.get(SyncState, (worker.shop_id, "orders"))
    assert state.bookmark == bookmark and state.last_error


def test_expired_tokens_are_refreshed_and_the_call_retried(make_worker, sandbox, session):
    worker = make_worker()
    worker.run_once()
    sandbox.sandbox.expire_tokens()
    order = sandbox.sandbox.shop.create_order()
    sandbox.sandbox.shop.advance_clock(10)
    assert worker.run_once().error is None
    assert decision(session, order.order_id) == ("PASS", "clear")


def test_only_one_process_syncs_a_shop_and_a_dead_holders_lease_expires(
    make_worker, sessions, session, shop, clock
):
    assert lease.acquire(sessions, shop.shop_id, "process-a", clock.now(), 60)
    report = make_worker(owner="process-b").run_once()
    assert report.skipped and count(session, Order) == 0
    # process-a dies; its lease runs out
    assert lease.acquire(sessions, shop.shop_id, "process-b", clock.now() + timedelta(seconds=61), 60)
    lease.release(sessions, shop.shop_id, "process-b")
    assert make_worker(owner="process-b").run_once().skipped is False
    assert count(session, Order) > 0


def test_lease_is_exclusive_under_a_race(sessions, shop, clock):
    import threading

    results, barrier = [], threading.Barrier(4)

    def contend(owner):
        barrier.wait()
        results.append(lease.acquire(sessions, shop.shop_id, owner, clock.now(), 60))

    threads = [threading.Thread(target=contend, args=(f"p{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 1
