"""Clearing at the bench: a lead's badge, the slip's QR, then a resolution from the sheet."""

from __future__ import annotations

from datetime import timedelta

import pytest
from factories import make_order, refund
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.clearing import PENDING_FOR, BenchAnswer, handle_bench_code
from server.models import AuditLog, Operator, ScanException, Station
from server.models.users import BenchPending
from server.stations import StationRef, enrol
from shipgate.codes import classify
from shipgate.wire import Decision, Reason


@pytest.fixture
def bench(session, blocked) -> dict:
    """bench-1 (where the order was blocked), a lead, a packer and the exception's scan id."""
    session.add_all(
        [
            Operator(name="李主管", badge="L001", is_lead=True),
            Operator(name="张三", badge="P001"),
            Operator(name="离职", badge="X001", is_lead=True, active=False),
        ]
    )
    session.commit()
    station = session.scalar(select(Station).where(Station.name == "bench-1"))
    exception = session.get(ScanException, blocked[1]["exception_id"])
    return {
        "station": StationRef(station.id, station.name, station.warehouse_id, station.mode),
        "exception": exception,
        "qr": classify(f"SG-EX-{exception.scan_id}"),
        "order_id": blocked[0].order_id,
    }


def scan(session, bench, code: str, badge: str | None = "L001", *, station=None, now=None) -> BenchAnswer:
    answer = handle_bench_code(session, station or bench["station"], badge, classify(code), now=now)
    session.commit()
    return answer


def state_of(session, exception) -> ScanException:
    session.expire_all()
    return session.get(ScanException, exception.id)


def test_a_lead_clears_with_the_qr_then_a_resolution(session, bench):
    first = scan(session, bench, f"SG-EX-{bench['exception'].scan_id}")
    assert (first.decision, first.reason, first.message) == (
        "HOLD",
        "awaiting_resolution",
        "请扫描处理方式",
    )
    assert first.order_id == bench["order_id"] and first.exception_id == bench["exception"].id
    done = scan(session, bench, "SG-RS-moved_to_refund_shelf")
    assert (done.decision, done.reason, done.message) == (
        "PASS",
        "exception_cleared",
        "已清除异常：放入退款区",
    )
    exception = state_of(session, bench["exception"])
    assert (exception.status, exception.resolution, exception.cleared_by) == (
        "cleared",
        "moved_to_refund_shelf",
        "operator:L001",
    )
    audit = session.scalar(select(AuditLog).where(AuditLog.action == "exception.clear"))
    assert audit.actor == "operator:L001" and audit.detail["via"] == "bench:bench-1"
    assert session.get(BenchPending, bench["station"].id) is None


@pytest.mark.parametrize(
    ("badge", "message"),
    [(None, "请先扫描主管工牌"), ("P001", "只有本仓主管可以清除异常"), ("X001", "只有本仓主管可以清除异常")],
)
def test_only_an_active_lead_may_clear(session, bench, badge, message):
    for code in (f"SG-EX-{bench['exception'].scan_id}", "SG-RS-misscan"):
        answer = scan(session, bench, code, badge)
        assert (answer.decision, answer.reason, answer.message) == ("HOLD", "not_lead", message)
    assert state_of(session, bench["exception"]).status == "open"
    assert session.scalar(select(BenchPending)) is None


def test_a_lead_of_another_warehouse_may_not_clear(session, bench):
    south = enrol(session, "south-1", "south")[0]
    session.add(Operator(name="南仓主管", badge="L002", is_lead=True, warehouse_id=south.warehouse_id))
    session.commit()
    answer = scan(session, bench, f"SG-EX-{bench['exception'].scan_id}", "L002")
    assert answer.reason == "not_lead"


def test_a_resolution_needs_a_qr_first_and_the_qr_waits_two_minutes(session, bench, clock):
    assert scan(session, bench, "SG-RS-misscan").message == "请先扫描异常单上的二维码"
    start = clock.now()
    scan(session, bench, f"SG-EX-{bench['exception'].scan_id}", now=start)
    late = scan(session, bench, "SG-RS-misscan", now=start + PENDING_FOR + timedelta(seconds=1))
    assert (late.decision, late.reason) == ("HOLD", "no_pending")
    assert state_of(session, bench["exception"]).status == "open"
    scan(session, bench, f"SG-EX-{bench['exception'].scan_id}", now=start)
    in_time = scan(session, bench, "SG-RS-misscan", now=start + PENDING_FOR - timedelta(seconds=1))
    assert in_time.decision == "PASS"


def test_the_waiting_qr_belongs_to_its_station_and_its_lead(session, bench):
    other_station = enrol(session, "bench-2", "main")[0]
    session.add(Operator(name="王主管", badge="L003", is_lead=True))
    session.commit()
    scan(session, bench, f"SG-EX-{bench['exception'].scan_id}")
    ref = StationRef(other_station.id, other_station.name, other_station.warehouse_id, other_station.mode)
    assert scan(session, bench, "SG-RS-misscan", station=ref).reason == "no_pending"
    assert scan(session, bench, "SG-RS-misscan", "L003").reason == "no_pending"
    assert scan(session, bench, "SG-RS-misscan").reason == "exception_cleared"


def test_the_waiting_state_is_in_the_database_for_every_server_process(engine, bench):
    with Session(engine) as one:
        scan(one, bench, f"SG-EX-{bench['exception'].scan_id}")
    with Session(engine) as other:  # another process: nothing shared but the database
        assert scan(other, bench, "SG-RS-partial_item_removed").message == "已清除异常：已取出退款商品"


def test_bad_resolutions_are_refused_and_the_qr_keeps_waiting(session, bench):
    scan(session, bench, f"SG-EX-{bench['exception'].scan_id}")
    cases = [
        ("SG-RS-override_release", "invalid_code", "强制放行只能由管理员在后台操作"),
        ("SG-RS-nonsense", "invalid_code", "无法识别的处理方式"),
        (
            "SG-RS-refund_closed_release",
            "resolution_refused",
            "订单当前仍被拦截或暂停，不能选择“退款已关闭可发货”",
        ),
    ]
    for code, reason, message in cases:
        answer = scan(session, bench, code)
        assert (answer.decision, answer.reason, answer.message) == ("HOLD", reason, message)
    assert state_of(session, bench["exception"]).status == "open"
    assert scan(session, bench, "SG-RS-moved_to_refund_shelf").decision == "PASS"


def test_refund_closed_release_once_the_gate_passes(session, station_scan, bench):
    order = make_order(session)
    after_sale = refund(session, order, status=6, refund_status=1)
    held = station_scan(order.order_id)
    refund(
        session,
        order,
        aftersale_id=after_sale.aftersale_id,
        status=28,
        refund_status=4,
        update_time=1_700_000_500,
    )
    scan(session, bench, f"SG-EX-{held['scan_id']}")
    answer = scan(session, bench, "SG-RS-refund_closed_release")
    assert (answer.decision, answer.message) == ("PASS", "已清除异常：退款已关闭可发货")


def test_unknown_and_already_cleared_slips(session, bench):
    assert scan(session, bench, "SG-EX-no-such-scan").message == "未找到该异常单"
    scan(session, bench, f"SG-EX-{bench['exception'].scan_id}")
    scan(session, bench, "SG-RS-misscan")
    again = scan(session, bench, f"SG-EX-{bench['exception'].scan_id}")
    assert (again.decision, again.reason, again.message) == ("HOLD", "no_exception", "该异常已清除")


def test_cleared_in_the_console_meanwhile(session, bench):
    from server.clearing import clear

    scan(session, bench, f"SG-EX-{bench['exception'].scan_id}")
    clear(session, bench["exception"].id, "misscan", actor="user:lead", via="console")
    session.commit()
    answer = scan(session, bench, "SG-RS-moved_to_refund_shelf")
    assert (answer.reason, answer.message) == ("no_exception", "该异常已清除")
    assert state_of(session, bench["exception"]).cleared_by == "user:lead"
    assert session.scalar(select(BenchPending)) is None


def test_badges(session, bench):
    assert scan(session, bench, "SG-OP-L001", None) == BenchAnswer(
        Decision.PASS, Reason.SIGNED_IN, "已登录", None, None
    )
    assert scan(session, bench, "SG-OP-P001", None).message == "已登录"  # names nobody
    for badge in ("SG-OP-X001", "SG-OP-NOBODY"):
        answer = scan(session, bench, badge, None)
        assert (answer.decision, answer.reason) == ("HOLD", "unknown_badge")


def test_another_badge_drops_the_waiting_qr(session, bench):
    scan(session, bench, f"SG-EX-{bench['exception'].scan_id}")
    scan(session, bench, "SG-OP-P001", "L001")
    assert session.scalar(select(BenchPending)) is None


def test_no_other_kind_of_code_is_handled(session, bench):
    answer = scan(session, bench, bench["order_id"])
    assert (answer.decision, answer.reason) == ("HOLD", "invalid_code")


def test_a_clearing_note_with_a_buyer_phone_number_is_refused(as_lead, blocked, snapshot):
    from server.models import ScanException

    _order, answer = blocked
    before = snapshot(ScanException)
    response = as_lead.post(
        f"/exceptions/{answer['exception_id']}/clear", {"resolution": "misscan", "note": "买家 138-1234-5678"}
    )
    assert response.status_code == 400 and "电话号码" in response.get_data(as_text=True)
    assert snapshot(ScanException) == before
