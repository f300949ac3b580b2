"""The floor view shows the benches' printer health, alert channels and clocks (issue 14), and
hides the sync workers' internal lease row."""

from __future__ import annotations

from factories import ensure_shop

from server.models import SyncState
from server.sync.lease import LEASE_STREAM

HEALTH = {
    "software_version": "0.1.0",
    "replica_version": 42,
    "replica_age_s": 3.5,
    "scanner": "connected",
    "printer": "paper_out",
    "queue_depth": 0,
    "rss_bytes": 52_428_800,
    "mode": "bench",
    "operator": "P001",
    "screen": "ok",
    "voice": "down",
    "light": "off",
    "clock_synced": "no",
    "disk_written_bytes": 4096,
}


def _row(as_lead) -> str:
    text = as_lead.get("/floor").get_data(as_text=True)
    return text[text.index('data-station="bench-1"') :].split("</tr>")[0]


def test_printer_out_of_paper_and_alert_channels_on_the_floor(as_lead, client, auth):
    reply = client.post("/api/v1/heartbeat", json=HEALTH, headers=auth)
    assert reply.status_code == 200 and reply.json["station"] == "bench-1"  # the enrolled name
    row = _row(as_lead)
    assert 'class="state bad" data-printer="paper_out">缺纸' in row
    assert 'class="state ok" data-channel="screen">屏幕' in row
    assert 'class="state bad" data-channel="voice">语音' in row
    assert 'data-channel="light"' not in row  # not configured on this bench
    assert "时钟未同步" in row


def test_a_bad_alert_field_is_refused(client, auth):
    answer = client.post("/api/v1/heartbeat", json={**HEALTH, "disk_written_bytes": "lots"}, headers=auth)
    assert answer.status_code == 400


def test_the_lease_row_is_not_a_sync(as_lead, session, clock):
    ensure_shop(session)
    now = clock.now()
    session.add_all(
        [
            SyncState(
                shop_id="10437917", stream="orders", bookmark=int(now.timestamp()), last_success_at=now
            ),
            SyncState(shop_id="10437917", stream=LEASE_STREAM, bookmark=0, last_error="held by worker-2"),
        ]
    )
    session.commit()
    text = as_lead.get("/floor").get_data(as_text=True)
    sync_table = text.split("抖店同步")[1]
    assert "订单" in sync_table and LEASE_STREAM not in sync_table and "held by worker-2" not in sync_table


def test_people_by_name_never_by_actor_string(as_lead, client, auth, session):
    from server.console.people import label
    from server.models import Operator

    session.add(Operator(name="王五", badge="L001", is_lead=True))
    session.commit()
    assert label("operator:L001", {"L001": "王五"}) == "王五（工牌 L001）"
    assert label("operator:L404", {}) == "工牌 L404"
    assert label("user:lead", {}) == "lead" and label("system", {}) == "系统"
    assert (
        client.post("/api/v1/heartbeat", json={**HEALTH, "operator": "L001"}, headers=auth).status_code == 200
    )
    row = _row(as_lead)
    assert "王五（工牌 L001）" in row and "operator:" not in row


def test_the_queue_names_the_goods_of_a_partial_refund(as_lead, session, station_scan):
    from factories import make_order, refund

    order = make_order(session, skus=2)
    refund(session, order, sku_order_id=order.skus[0].sku_order_id)
    assert station_scan(order.order_id)["reason"] == "partial_refund"
    text = as_lead.get("/").get_data(as_text=True)
    row = text[text.index(f'data-order="{order.order_id}"') :].split("</tr>")[0]
    assert f"取出：{order.skus[0].product_name}" in row
    assert order.skus[1].product_name not in row
