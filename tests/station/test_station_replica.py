"""The replica: paging sync from the feed, look-ups by every code, codes replaced per order,
the cursor committed with its rows, and staleness (fail closed) on an injected clock."""

from __future__ import annotations

import pytest
from station_testkit import (
    ORDER_OK,
    ORDER_PARTIAL,
    ORDER_REFUNDED,
    SKU_PARTIAL_OUT,
    TOKEN,
    TRACKING_OK,
    TRACKING_REFUNDED,
)

from shipgate.wire import Decision, GateEntry, GateFeed, Reason
from station.client import GateClient, ServerUnreachable
from station.decision import Source
from station.replica import Replica, ReplicaError


@pytest.fixture
def client(gate_server):
    c = GateClient(gate_server.url, TOKEN, sync_timeout_s=2.0)
    yield c
    c.close()


@pytest.fixture
def replica(tmp_path, clock):
    r = Replica(tmp_path / "replica.sqlite3", clock=clock, max_age_s=600)
    yield r
    r.close()


def test_sync_pages_until_more_is_false(replica, client, gate_server, clock):
    for i in range(7):
        gate_server.put(f"69200000000000001{i:02d}", Decision.PASS, Reason.CLEAR, [f"SF10000000000{i:02d}"])
    report = replica.sync(lambda since, limit: client.gate_feed(since, 3))
    assert (report.pages, report.entries, report.version) == (4, 10, 10)
    assert replica.count() == 10 and replica.last_sync == clock.now
    again = replica.sync(client.gate_feed)
    assert (again.pages, again.entries) == (1, 0)


def test_lookup_by_every_code(replica, client):
    replica.sync(client.gate_feed)
    assert replica.lookup(ORDER_REFUNDED).decision is Decision.BLOCK  # the order id itself
    assert replica.lookup(TRACKING_REFUNDED).order_id == ORDER_REFUNDED  # a tracking number
    assert replica.lookup(TRACKING_OK.lower()) .order_id == ORDER_OK  # fmt: skip
    partial = replica.lookup(SKU_PARTIAL_OUT)  # a sku order id
    assert (partial.order_id, partial.decision, partial.reason) == (
        ORDER_PARTIAL,
        Decision.HOLD,
        "partial_refund",
    )
    assert partial.sku_order_ids_out == (SKU_PARTIAL_OUT,)
    assert replica.lookup("6920000000000009999") is None


def test_an_entry_replaces_its_orders_codes(replica, client, gate_server):
    """A tracking number recycled by the courier moves to its new order and leaves the old one."""
    replica.sync(client.gate_feed)
    gate_server.put(ORDER_REFUNDED, Decision.BLOCK, Reason.REFUNDED, ["6920000000000000011"])  # number voided
    gate_server.put("6920000000000000077", Decision.PASS, Reason.CLEAR, [TRACKING_REFUNDED])  # reissued
    replica.sync(client.gate_feed)
    assert replica.lookup(TRACKING_REFUNDED).order_id == "6920000000000000077"
    assert replica.lookup("6920000000000000011").order_id == ORDER_REFUNDED
    gate_server.put(ORDER_REFUNDED, Decision.BLOCK, Reason.REFUNDED, [])
    replica.sync(client.gate_feed)
    assert replica.lookup("6920000000000000011") is None


def test_staleness_holds_by_default(replica, client, clock):
    decision = replica.decide("s1", ORDER_OK)
    assert (decision.decision, decision.reason) == (Decision.HOLD, "stale_replica")  # never synced
    replica.sync(client.gate_feed)
    assert replica.decide("s2", ORDER_OK).decision is Decision.PASS
    assert replica.decide("s3", ORDER_REFUNDED).decision is Decision.BLOCK
    clock.advance(600)
    assert replica.decide("s4", ORDER_OK).decision is Decision.PASS  # exactly max_age: still fresh
    clock.advance(1)
    stale = replica.decide("s5", ORDER_OK)
    assert (stale.decision, stale.reason, stale.message) == (
        Decision.HOLD,
        "stale_replica",
        "离线数据过旧 暂停发货 请联系主管",
    )
    assert stale.source is Source.OFFLINE and stale.gate_version == 3


def test_trust_policy_uses_a_stale_replica(tmp_path, client, clock):
    replica = Replica(tmp_path / "r.sqlite3", clock=clock, max_age_s=600, stale_policy="trust")
    replica.sync(client.gate_feed)
    clock.advance(10_000)
    assert replica.is_stale()
    assert replica.decide("s1", ORDER_REFUNDED).decision is Decision.BLOCK
    assert replica.decide("s2", "6920000000000009999").reason == "unknown_order"  # unknown still holds
    replica.close()


def test_the_clock_jumping_back_counts_as_stale(replica, client, clock):
    replica.sync(client.gate_feed)
    clock.advance(-3600)
    assert replica.age_s() is None and replica.is_stale()


def test_sync_time_is_when_the_sync_started(replica, clock):
    """Signpost: a slow sync does not make the replica look fresher than the data it holds."""
    pages = [
        GateFeed(2, (GateEntry("6920000000000000101", Decision.PASS, Reason.CLEAR, (), (), 1),), 1, True),
        GateFeed(2, (GateEntry("6920000000000000102", Decision.PASS, Reason.CLEAR, (), (), 2),), 2, False),
    ]
    started = clock.now

    def fetch(since, limit):
        clock.advance(30)
        return pages.pop(0)

    replica.sync(fetch)
    assert replica.last_sync == started


def test_cursor_is_committed_with_its_page(replica, tmp_path, clock, client, gate_server):
    """A sync interrupted after one page resumes after that page, and is not marked synced."""
    calls = []

    def flaky(since, limit):
        calls.append(since)
        if len(calls) == 2:
            raise ServerUnreachable("gone")
        return client.gate_feed(since, 2)

    with pytest.raises(ServerUnreachable):
        replica.sync(flaky)
    assert replica.version == 2 and replica.count() == 2 and replica.last_sync is None
    reopened = Replica(tmp_path / "replica.sqlite3", clock=clock)
    assert reopened.version == 2
    reopened.sync(client.gate_feed)
    assert reopened.count() == 3 and reopened.last_sync == clock.now
    reopened.close()


def test_server_behind_us_means_full_resync(replica, client, gate_server):
    replica.sync(client.gate_feed)
    gate_server.entries.clear()
    gate_server.version = 0
    gate_server.put("6920000000000000500", Decision.BLOCK, Reason.CANCELLED, ["SF5000000000000"])
    report = replica.sync(client.gate_feed)
    assert report.reset and replica.count() == 1
    assert replica.lookup(ORDER_REFUNDED) is None


def test_a_feed_that_does_not_advance_is_an_error(replica):
    stuck = GateFeed(9, (), 0, True)
    with pytest.raises(ReplicaError, match="did not advance"):
        replica.sync(lambda since, limit: stuck)


def test_lookups_are_fast(replica):
    """Not a timing assertion: just 2000 look-ups on 5000 entries complete (see tests/bench for numbers)."""
    entries = tuple(
        GateEntry(f"69{i:017d}", Decision.PASS, Reason.CLEAR, (), (f"SF{i:013d}",), i + 1)
        for i in range(5000)
    )
    replica.apply(GateFeed(5000, entries, 5000, False))
    for i in range(0, 5000, 5):
        assert replica.lookup(f"SF{i:013d}").order_id == f"69{i:017d}"
        assert replica.lookup(f"69{i:017d}") is not None


def _files(replica) -> dict:
    """Size and modification time of the replica's database, WAL and shared-memory files: any
    write to them changes one (this process's other threads do not, unlike /proc/self/io)."""
    return {
        p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in replica.path.parent.glob("replica.sqlite3*")
    }


def test_idle_syncs_write_nothing(replica, client, clock):
    replica.sync(client.gate_feed)  # the snapshot
    before = _files(replica)
    assert "replica.sqlite3-wal" in before
    for _ in range(100):  # 100 syncs 5 s apart with nothing new: 500 s
        clock.advance(5)
        replica.sync(client.gate_feed)
    assert _files(replica) == before
    assert replica.age_s() == 0.0  # yet the replica knows it is fresh


def test_the_sync_time_is_stored_with_a_change_or_every_persist_interval(
    tmp_path, client, gate_server, clock
):
    replica = Replica(tmp_path / "r.sqlite3", clock=clock, persist_every_s=900)
    replica.sync(client.gate_feed)
    stored = clock()
    clock.advance(600)
    replica.sync(client.gate_feed)
    replica.close()
    reopened = Replica(tmp_path / "r.sqlite3", clock=clock)
    assert reopened.last_sync == stored  # a restart sees the older time: stale sooner, never fresher
    reopened.close()
    replica = Replica(tmp_path / "r.sqlite3", clock=clock, persist_every_s=900)
    clock.advance(300)  # 900 s since the stored time
    replica.sync(client.gate_feed)
    gate_server.put(ORDER_OK, Decision.BLOCK, Reason.REFUNDED, [TRACKING_OK])
    clock.advance(5)
    replica.sync(client.gate_feed)  # a change stores at once
    replica.close()
    reopened = Replica(tmp_path / "r.sqlite3", clock=clock)
    assert reopened.last_sync == clock()
    reopened.close()
