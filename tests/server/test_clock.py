"""The business clock (server/clock.py): tests move a ManualClock; rows are stamped from the clock
their session carries; the composition roots read the machine's clock, which time-machine moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import time_machine
from click.testing import CliRunner
from factories import TEST_DATA_KEY, make_order
from sqlalchemy import select

from server.clock import SYSTEM, ManualClock, of
from server.models import Order, Shop, Station, SyncState, Waybill

CHINA = timezone(timedelta(hours=8))
CHINA_MIDNIGHT = datetime(2027, 1, 1, 0, 0, 5, tzinfo=CHINA)  # 16:00:05 UTC on 31 December


def test_a_manual_clock_shows_what_it_was_set_to_until_moved():
    clock = ManualClock(CHINA_MIDNIGHT)
    assert clock.now() == CHINA_MIDNIGHT and clock.now().tzinfo is UTC
    assert clock.now() == datetime(2026, 12, 31, 16, 0, 5, tzinfo=UTC)
    assert clock.advance(seconds=61) == CHINA_MIDNIGHT + timedelta(seconds=61) == clock.now()
    clock.set(CHINA_MIDNIGHT - timedelta(days=1))
    assert clock.now() == CHINA_MIDNIGHT - timedelta(days=1)
    with pytest.raises(ValueError, match="time zone"):
        clock.set(datetime(2027, 1, 1))


def test_rows_are_stamped_from_the_sessions_clock_not_the_machines(session, clock):
    assert of(session) is clock
    clock.set(CHINA_MIDNIGHT)
    record = make_order(session, tracking_no="SF1234567890555")
    order = session.get(Order, record.order_id)
    assert order.synced_at == CHINA_MIDNIGHT
    assert session.scalar(select(Waybill.issued_at)) == CHINA_MIDNIGHT
    assert session.get(Shop, order.shop_id).created_at == CHINA_MIDNIGHT

    clock.advance(minutes=5)
    order.pay_amount = 990
    session.commit()
    assert order.synced_at == CHINA_MIDNIGHT + timedelta(minutes=5)  # touched on update

    clock.advance(minutes=5)
    order.synced_at = given = CHINA_MIDNIGHT - timedelta(hours=1)
    session.commit()
    assert order.synced_at == given  # a value set explicitly is kept


def test_an_update_that_changes_nothing_does_not_touch(session, clock):
    clock.set(CHINA_MIDNIGHT)
    order = session.get(Order, make_order(session).order_id)
    clock.advance(hours=1)
    order.pay_amount = order.pay_amount  # no net change
    session.commit()
    assert order.synced_at == CHINA_MIDNIGHT


def test_the_app_reads_the_clock_it_was_given(app, clock, session, station_token, auth):
    clock.set(CHINA_MIDNIGHT)
    answer = app.test_client().post("/api/v1/heartbeat", json={}, headers=auth).json
    assert answer["server_time"] == CHINA_MIDNIGHT.astimezone(UTC).isoformat()
    session.expire_all()
    assert session.scalar(select(Station.last_seen_at)) == CHINA_MIDNIGHT


def test_the_cli_root_reads_the_machine_clock(engine, session, tmp_path):
    """`shipgate-server` builds the system clock: at 00:00:05 China time a stream whose bookmark
    is 30 s old lags 30 s (time-machine moves the machine's clock for this process only)."""
    from server.cli import main

    record = make_order(session)
    bookmark = int(CHINA_MIDNIGHT.timestamp()) - 30
    session.add(SyncState(shop_id=record.shop_id, stream="orders", bookmark=bookmark, records_total=1))
    session.commit()
    env = {
        "SHIPGATE_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "SHIPGATE_INSTANCE_DIR": str(tmp_path / "instance"),
        "SHIPGATE_DATA_KEY": TEST_DATA_KEY,  # the shop's secret was sealed with the suite's key
    }
    with time_machine.travel(CHINA_MIDNIGHT, tick=False):
        assert SYSTEM.now() == CHINA_MIDNIGHT
        result = CliRunner().invoke(main, ["sync", "status"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"{record.shop_id}\torders\tlag 30 s" in result.output
