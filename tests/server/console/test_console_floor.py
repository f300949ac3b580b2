"""The floor view: station health, Douyin sync health, today's counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from factories import ensure_shop, make_order
from sqlalchemy import select

from server.console import labels
from server.models import Station, SyncState

HEALTH = {
    "software_version": "0.1.0",
    "replica_version": 42,
    "replica_age_s": 3.5,
    "scanner": "connected",
    "printer": "offline",
    "queue_depth": 7,
    "rss_bytes": 52_428_800,
    "mode": "bench",
    "operator": "P001",
}


def test_stations_show_their_last_heartbeat(as_lead, client, auth, session):
    assert client.post("/api/v1/heartbeat", json=HEALTH, headers=auth).status_code == 200
    text = as_lead.get("/floor").get_data(as_text=True)
    row = text[text.index('data-station="bench-1"') :].split("</tr>")[0]
    for fragment in ("在线", "0.1.0", "42", "3 秒", "正常", "离线", ">7<", "50 MB", "P001", "main"):
        assert fragment in row, fragment


def test_a_station_silent_for_90_seconds_is_offline(as_lead, session, station_token, clock):
    station = session.scalar(select(Station).where(Station.name == "bench-1"))
    station.last_seen_at = clock.now() - timedelta(seconds=91)
    session.commit()
    row = (
        as_lead.get("/floor/live").get_data(as_text=True).split('data-station="bench-1"')[1].split("</tr>")[0]
    )
    assert "离线" in row and "1 分 31 秒前" in row


def test_sync_health_per_shop(as_lead, session, clock):
    ensure_shop(session)
    now = clock.now()
    session.add_all(
        [
            SyncState(
                shop_id="10437917",
                stream="aftersales",
                bookmark=int(now.timestamp()) - 30,
                last_success_at=now,
            ),
            SyncState(
                shop_id="10437917",
                stream="orders",
                bookmark=int(now.timestamp()) - 7200,
                last_error="rate limited",
                last_error_at=now,
            ),
        ]
    )
    session.commit()
    text = as_lead.get("/floor").get_data(as_text=True)
    assert "测试小店" in text and "售后" in text and "订单" in text
    assert "2 小时 0 分" in text and "rate limited" in text and "row-error" in text


def test_todays_counts_per_warehouse(as_lead, session, station_scan, blocked):
    station_scan(make_order(session).order_id)
    station_scan("garbage!")
    tile = as_lead.get("/floor").get_data(as_text=True).split("<h3>main</h3>")[1].split("</dl>")[0]
    numbers = [part.split("</dd>")[0] for part in tile.split("<dd>")[1:]]
    assert numbers == ["3", "1", "1", "2"]  # scans, blocks, holds, exceptions open


def test_midnight_is_china_midnight():
    now = datetime(2027, 1, 1, 17, 0, tzinfo=UTC)  # 01:00 the next day in China
    start = labels.start_of_today(now)
    assert start.astimezone(labels.CHINA).hour == 0 and start <= now and now - start == timedelta(hours=1)


def test_a_bound_lead_sees_only_their_warehouse(web, make_user, session, station_token):
    make_user("south-lead", warehouse="south")
    web.login("south-lead")
    text = web.get("/floor").get_data(as_text=True)
    assert 'data-station="bench-1"' not in text and "<h3>main</h3>" not in text
