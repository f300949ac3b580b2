"""The handover point: manifests per courier, packed but never handed over, timelines, the funnel."""

from datetime import UTC, datetime, timedelta

from factories import make_order, refund

from server import handover
from server.stations import enrol

DAY = datetime(2026, 11, 26, tzinfo=UTC)


def scan(client, token, code, scan_id, mode="bench", at="2026-11-26T09:00:00+08:00"):
    body = {"scan_id": scan_id, "code": code, "scanned_at": at, "mode": mode}
    return client.post("/api/v1/scans", json=body, headers={"Authorization": f"Bearer {token}"}).json


def test_manifest_per_courier_and_the_never_handed_over_list(client, session, station_token, clock):
    _gate, gate_token = enrol(session, "交接口", "main", mode="handover")
    session.commit()
    sf = [make_order(session, tracking_no=f"SF12345678901{i:02d}") for i in range(3)]
    yt = make_order(session, tracking_no="YT1234567890123")
    left = make_order(session, tracking_no="SF1234567890199")
    for i, order in enumerate([*sf, yt, left]):
        scan(client, station_token, order.order_id, f"pack-{i}")
    for i, order in enumerate([*sf, yt]):
        scan(client, gate_token, order.tracking[0][0], f"hand-{i}", mode="handover")
    scan(client, gate_token, sf[0].tracking[0][0], "hand-again", mode="handover")  # scanned twice
    now = clock.now()
    pickups = handover.manifest(session, None, now - timedelta(hours=1), now + timedelta(hours=1))
    assert {(p.courier, p.count) for p in pickups} == {("顺丰速运", 4)}  # the factory's company for all
    missing = handover.not_handed_over(session, None, now - timedelta(hours=1), now + timedelta(hours=1))
    assert [s.order_id for s in missing] == [left.order_id]
    line = handover.timeline(session, sf[0].order_id)
    assert line.packed_at is not None and line.handed_over_at is not None and line.shipped_at is None


def test_courier_falls_back_to_the_tracking_pattern():
    assert handover.courier_of("YT1234567890123", None) == "YTO"
    assert handover.courier_of("YT1234567890123", "圆通速递") == "圆通速递"


def test_funnel_counts_where_refunds_were_stopped(client, session, station_token, clock):
    _gate, gate_token = enrol(session, "交接口", "main", mode="handover")
    session.commit()
    clock.set(clock.now().replace(microsecond=0))  # the server's time, on a whole second
    start = clock.now() - timedelta(days=1)
    end = clock.now() + timedelta(days=1)
    now_s = int(clock.now().timestamp())
    at_bench, at_gate, never = (
        make_order(session),
        make_order(session, tracking_no="SF1234567890300"),
        make_order(session),
    )
    scan(client, station_token, at_gate.order_id, "p-1")  # packed before the refund
    for order in (at_bench, at_gate, never):
        refund(session, order, update_time=now_s - 60)
    scan(client, station_token, at_bench.order_id, "p-2")  # blocked at packing
    scan(client, gate_token, "SF1234567890300", "h-1", mode="handover")  # blocked at handover
    result = handover.funnel(session, None, start, end)
    assert (result.reached, result.blocked_at_packing, result.blocked_at_handover) == (2, 1, 1)
    assert len(result.time_to_block_s) == 2 and result.median_time_to_block_s >= 60
