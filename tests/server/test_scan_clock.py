"""A scan's time is bounded by the server's clock (server.scanclock), stored with its flag, and
the migration that adds the columns matches the models."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from factories import make_order
from sqlalchemy import inspect, select

from server import db
from server.models import Base, Scan
from server.scanclock import ClockFlag, ScanClock, SentClock, bound
from server.settings import Settings

RECEIVED = datetime(2026, 3, 1, 16, 0, 0, tzinfo=UTC)  # 00:00 in China: the day boundary
BOOT = "3f0c2a4e-0000-4000-8000-000000000001"


def test_an_online_claim_within_the_skew_is_believed():
    t = bound(RECEIVED - timedelta(seconds=30), RECEIVED, ScanClock(True, BOOT, 100.0), allowed_skew_s=120)
    assert (t.scanned_at, t.claimed_at, t.skew_s, t.flag) == (
        RECEIVED - timedelta(seconds=30),
        None,
        -30.0,
        None,
    )


@pytest.mark.parametrize("off_s", [3600, -86400 * 400])
def test_an_online_claim_far_off_takes_the_server_time(off_s):
    claimed = RECEIVED + timedelta(seconds=off_s)
    t = bound(claimed, RECEIVED, ScanClock(True), allowed_skew_s=120)
    assert (t.scanned_at, t.claimed_at, t.skew_s, t.flag) == (
        RECEIVED,
        claimed,
        float(off_s),
        ClockFlag.SKEWED,
    )


def test_an_unsynchronised_clock_is_flagged_but_kept():
    claimed = RECEIVED - timedelta(seconds=5)
    t = bound(claimed, RECEIVED, ScanClock(False), allowed_skew_s=120)
    assert (t.scanned_at, t.flag) == (claimed, ClockFlag.UNSYNCED)
    assert bound(claimed, RECEIVED, ScanClock(None)).flag is None  # an older station says nothing


def test_an_upload_from_the_same_boot_is_checked_by_monotonic_time():
    sent = SentClock(BOOT, 5000.0)
    scanned = ScanClock(True, BOOT, 1400.0)  # 3600 s before the upload
    honest = RECEIVED - timedelta(seconds=3600)
    assert bound(honest, RECEIVED, scanned, sent).flag is None
    assert bound(honest, RECEIVED, scanned, sent).skew_s == 0.0
    wrong = RECEIVED - timedelta(days=2)  # the clock jumped back after the scan
    t = bound(wrong, RECEIVED, scanned, sent)
    assert (t.scanned_at, t.claimed_at, t.flag) == (honest, wrong, ClockFlag.SKEWED)


def test_an_upload_from_an_earlier_boot_can_only_be_checked_against_the_future():
    sent = SentClock("another-boot", 10.0)
    days_ago = RECEIVED - timedelta(days=3)
    t = bound(days_ago, RECEIVED, ScanClock(True, BOOT, 99999.0), sent)
    assert (t.scanned_at, t.skew_s, t.flag) == (days_ago, None, None)
    future = RECEIVED + timedelta(hours=1)
    t = bound(future, RECEIVED, ScanClock(True, BOOT, 1.0), sent)
    assert (t.scanned_at, t.claimed_at, t.flag) == (RECEIVED, future, ClockFlag.SKEWED)


def test_the_app_bounds_with_the_shipped_default(app):
    assert app.extensions["shipgate.gate"].allowed_skew_s == Settings().scan_clock_skew_s == 120


def _stored(session, scan_id: str) -> Scan:
    session.expire_all()
    return session.scalar(select(Scan).where(Scan.scan_id == scan_id))


def test_the_api_stores_the_server_time_and_the_flag(client, auth, session, clock):
    order = make_order(session)
    scan_id = str(uuid.uuid4())
    claimed = clock.now() - timedelta(days=1)  # a Pi 4 without RTC that booted with yesterday's time
    body = {"scan_id": scan_id, "code": order.order_id, "scanned_at": claimed.isoformat(),
            "clock_synced": False, "boot_id": BOOT, "mono_s": 12.5}  # fmt: skip
    assert client.post("/api/v1/scans", json=body, headers=auth).status_code == 200
    row = _stored(session, scan_id)
    assert row.clock_flag == "skewed" and row.claimed_at == claimed
    assert row.scanned_at == row.received_at
    assert row.clock_skew_s == pytest.approx(-86400, abs=60)
    assert (row.clock_synced, row.boot_id, row.mono_s) == (False, BOOT, 12.5)

    near = str(uuid.uuid4())
    body = {**body, "scan_id": near, "scanned_at": clock.now().isoformat()}
    client.post("/api/v1/scans", json=body, headers=auth)
    row = _stored(session, near)
    assert (row.clock_flag, row.claimed_at) == ("unsynced", None)


def test_the_batch_is_checked_by_the_stations_monotonic_clock(client, auth, session, clock):
    order = make_order(session)
    scan_id = str(uuid.uuid4())
    claimed = clock.now() - timedelta(days=30)  # the station's clock is a month behind
    item = {"scan_id": scan_id, "code": order.order_id, "scanned_at": claimed.isoformat(),
            "station_decision": "PASS", "station_reason": "clear",
            "clock_synced": True, "boot_id": BOOT, "mono_s": 1000.0}  # fmt: skip
    body = {"scans": [item], "sent_boot_id": BOOT, "sent_mono_s": 1600.0}  # scanned 600 s before sending
    assert client.post("/api/v1/scans/batch", json=body, headers=auth).status_code == 200
    row = _stored(session, scan_id)
    assert row.clock_flag == "skewed" and row.claimed_at == claimed
    assert (row.received_at - row.scanned_at).total_seconds() == pytest.approx(600, abs=1)


@pytest.mark.parametrize(
    "bad",
    [{"clock_synced": "yes"}, {"mono_s": -1}, {"mono_s": True}, {"boot_id": "x" * 65}, {"boot_id": 7}],
)
def test_bad_clock_fields_are_refused(client, auth, session, bad, clock):
    body = {
        "scan_id": str(uuid.uuid4()),
        "code": "4899999999999999999",
        "scanned_at": clock.now().isoformat(),
        **bad,
    }
    answer = client.post("/api/v1/scans", json=body, headers=auth)
    assert answer.status_code == 400
    assert session.scalar(select(Scan).where(Scan.scan_id == body["scan_id"])) is None


def test_the_migrated_scans_table_matches_the_model(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    assert [d for d in diffs if "scans" in str(d)] == []


def test_downgrade_to_0004_and_up_again(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    db.upgrade(engine)
    assert "clock_flag" in {c["name"] for c in inspect(engine).get_columns("scans")}
    config = db.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0004")
    assert "clock_flag" not in {c["name"] for c in inspect(engine).get_columns("scans")}
    db.upgrade(engine)
    assert "clock_flag" in {c["name"] for c in inspect(engine).get_columns("scans")}


def test_flagged_scans_show_on_the_order_page_and_in_the_review(client, auth, session, as_lead, clock):
    from server.console.labels import CHINA

    order = make_order(session)
    scan_id = str(uuid.uuid4())
    claimed = clock.now() + timedelta(hours=5)
    body = {
        "scan_id": scan_id,
        "code": order.order_id,
        "scanned_at": claimed.isoformat(),
        "clock_synced": False,
    }
    assert client.post("/api/v1/scans", json=body, headers=auth).status_code == 200
    page = as_lead.get(f"/orders/{order.order_id}").get_data(as_text=True)
    assert "工位时钟偏差过大，按服务器时间记录" in page
    month = _stored(session, scan_id).received_at.astimezone(CHINA).strftime("%Y-%m")
    review = as_lead.get(f"/review?month={month}").get_data(as_text=True)
    assert "工位时钟异常的扫描" in review and "bench-1" in review


def test_a_partial_refund_names_the_goods_to_take_out(client, auth, session, clock):
    from factories import refund

    from server.goods import goods_label

    order = make_order(session, skus=3)
    out = order.skus[1]
    refund(session, order, sku_order_id=out.sku_order_id)
    body = {"scan_id": str(uuid.uuid4()), "code": order.order_id, "scanned_at": clock.now().isoformat()}
    answer = client.post("/api/v1/scans", json=body, headers=auth).json
    assert answer["reason"] == "partial_refund"
    assert answer["items_out"] == [goods_label(out.product_name, out.code, out.item_num, out.sku_order_id)]
    assert out.product_name in answer["items_out"][0]
    again = client.post("/api/v1/scans", json=body, headers=auth).json  # the stored answer, the same
    assert again["items_out"] == answer["items_out"]
    assert goods_label("蓝色T恤 L", "TS-BL-L", 2, "1") == "蓝色T恤 L（编码 TS-BL-L）×2"
    assert goods_label("", None, 1, "6920000000000000013") == "商品 6920000000000000013×1"
