"""The inline gate end to end: the real server on waitress, a bench built from station.toml settings
with [forward], a pty scanner, and a simulated packing PC behind a pty USB gadget or a pty CH9329.
PASS -> exactly the code + Enter arrives; BLOCK, HOLD, garbage, lead and drill codes -> nothing;
server down with a fresh replica -> a good order still forwards, a refunded one does not;
forward device unplugged -> alarm, and the server's scan record says not forwarded."""

from __future__ import annotations

import threading

import pytest
from factories import make_order, refund
from liveserver import LiveServer
from polling import wait_until
from sqlalchemy import select

from server import drills, forwarding
from server.models import Scan
from station.bench import build_bench
from station.config import parse_config
from station.forward import FORWARD_FAILED
from station.scanner import ScannerState
from station.virtualpc import PackingPC, VirtualCh9329, VirtualGadget


@pytest.fixture(params=["hidg", "ch9329"])
def forward_device(request, tmp_path):
    pc = PackingPC()
    kind = request.param
    device = (VirtualGadget if kind == "hidg" else VirtualCh9329)(tmp_path / kind, pc)
    yield kind, device, pc
    device.close()


@pytest.fixture
def inline_bench(tmp_path, live_server, station_token, virtual_scanner, capture_printer, forward_device):
    kind, device, _pc = forward_device
    started = []

    def start(url: str | None = None):
        forward = {"kind": kind, "device": device.path}
        if kind == "ch9329":
            forward["baud"] = 115200
        data = {
            "server": {"url": url or live_server.url, "token": station_token, "budget_ms": 300},
            "scanner": {"device": str(virtual_scanner.path)},
            "printer": {"kind": "network", "host": "127.0.0.1", "port": capture_printer.port},
            "station": {"name": "打包台1", "data_dir": str(tmp_path / "station"), "sync_interval_s": 0.2},
            "display": {"enabled": False},
            "forward": forward,
        }
        bench = build_bench(parse_config(data, base_dir=tmp_path), with_display=False)
        stop = threading.Event()
        bench.start()
        loop = threading.Thread(target=bench.run, args=(stop,), daemon=True)
        loop.start()
        started.append((bench, stop, loop))
        assert wait_until(lambda: bench.scanner.state is ScannerState.CONNECTED)
        return bench

    yield start
    for bench, stop, loop in started:
        stop.set()
        loop.join(5)
        bench.stop()


def forward_state(session, order_id: str) -> list[str | None]:
    session.expire_all()
    return list(
        session.scalars(select(Scan.forward_state).where(Scan.order_id == order_id).order_by(Scan.id))
    )


def test_a_pass_types_exactly_the_code_and_enter(inline_bench, forward_device, virtual_scanner, session):
    _kind, _device, pc = forward_device
    order = make_order(session, tracking_no="SF1234567890123")
    bench = inline_bench()
    virtual_scanner.scan("SF1234567890123")
    assert pc.wait_for(1)
    assert [(r.code, r.end) for r in pc.received] == [("SF1234567890123", "\n")]
    assert pc.typed == ""
    assert wait_until(lambda: forward_state(session, order.order_id) == ["forwarded"], timeout=10)
    assert bench.alarm is None


def test_nothing_but_a_pass_ever_reaches_the_pc(
    inline_bench, forward_device, virtual_scanner, capture_printer, session
):
    _kind, _device, pc = forward_device
    refunded = make_order(session, tracking_no="YT1234567890123")
    refund(session, refunded)
    partial = make_order(session, skus=2)
    refund(session, partial, sku_order_id=partial.skus[0].sku_order_id)
    clear = make_order(session)
    [drill] = drills.issue(session, 1, actor="user:lead")
    session.commit()
    bench = inline_bench()
    for code in ("YT1234567890123", refunded.order_id, partial.order_id, "4899999999999999999", "garbage!!",
                 "SG-OP-LEAD1", "SG-EX-00000000-0000", "SG-RS-released", drill):  # fmt: skip
        virtual_scanner.scan(code)
    assert wait_until(lambda: len(bench.journal.entries()) == 8)  # all but the badge journaled and decided
    assert wait_until(lambda: all(e.decision for e in bench.journal.entries()))
    virtual_scanner.scan(clear.order_id)
    assert pc.wait_for(1)
    assert pc.codes() == [clear.order_id] and pc.reports == 2 * (len(clear.order_id) + 1)


def test_server_down_a_fresh_replica_forwards_a_good_order_and_never_a_refunded_one(
    app, inline_bench, forward_device, virtual_scanner, session
):
    _kind, _device, pc = forward_device
    server = LiveServer(app).start()
    refunded = make_order(session)
    refund(session, refunded)
    clear = make_order(session)
    try:
        bench = inline_bench(url=server.url)
        assert wait_until(lambda: bench.replica.version > 0)
        server.stop()
        virtual_scanner.scan(refunded.order_id)
        virtual_scanner.scan(clear.order_id)
        assert pc.wait_for(1)
        assert wait_until(
            lambda: len(bench.journal.entries()) == 2 and all(e.decision for e in bench.journal.entries())
        )
        assert pc.codes() == [clear.order_id]
        assert [e.source for e in bench.journal.entries()] == ["offline", "offline"]
        server = LiveServer(app, port=server.port).start()  # back: the scans, then the forwarding
        assert wait_until(
            lambda: forward_state(session, clear.order_id) == ["forwarded"], timeout=30
        )  # two uplink cycles and load
        assert forward_state(session, refunded.order_id) == [None]
    finally:
        server.stop()


def test_an_unplugged_forward_device_alarms_and_the_server_knows(
    inline_bench, forward_device, virtual_scanner, capture_printer, session, clock
):
    _kind, device, pc = forward_device
    order = make_order(session)
    bench = inline_bench()
    device.unplug()
    virtual_scanner.scan(order.order_id)
    assert wait_until(lambda: bench.alarm == FORWARD_FAILED)
    assert wait_until(lambda: forward_state(session, order.order_id) == ["failed"], timeout=10)
    assert capture_printer.wait_for_jobs(1) and "转发失败".encode("gb18030") in capture_printer.output()
    [shown] = forwarding.unforwarded_passes(session, None, clock.now())
    assert shown.order_id == order.order_id and shown.state == "failed"

    device.plug()  # fixed: the packer scans again and the waybill prints
    virtual_scanner.scan(order.order_id)
    assert pc.wait_for(1) and pc.codes() == [order.order_id]
    assert wait_until(lambda: forward_state(session, order.order_id) == ["failed", "forwarded"], timeout=10)
    assert forwarding.unforwarded_passes(session, None, clock.now()) == [] and bench.alarm is None


def test_a_keyboard_scanner_grabbed_through_evdev_feeds_the_inline_gate(
    tmp_path, live_server, station_token, session
):
    """[scanner] kind = "hid": synthetic key events from a fake input device (no kernel needed)."""
    from station_testkit import FakeInputDevice, keystrokes

    from station.hidscanner import HidScanner

    refunded = make_order(session, tracking_no="YT1234567890123")
    refund(session, refunded)
    clear = make_order(session, tracking_no="SF1234567890123")
    pc = PackingPC()
    gadget = VirtualGadget(tmp_path / "hidg0", pc)
    data = {
        "server": {"url": live_server.url, "token": station_token},
        "scanner": {"kind": "hid", "device": "auto"},
        "printer": {"kind": "dummy"},
        "station": {"name": "打包台1", "data_dir": str(tmp_path / "station"), "sync_interval_s": 0.2},
        "display": {"enabled": False},
        "forward": {"kind": "hidg", "device": gadget.path},
    }
    bench = build_bench(parse_config(data, base_dir=tmp_path), with_scanner=False, with_display=False)
    device = FakeInputDevice("Honeywell Scanner")
    bench.scanner = HidScanner(
        "auto", on_code=bench.submit, resolve=lambda spec: "/dev/input/event5", opener=lambda path: device
    )
    stop = threading.Event()
    loop = threading.Thread(target=bench.run, args=(stop,), daemon=True)
    try:
        bench.start()
        loop.start()
        assert wait_until(lambda: bench.scanner.state is ScannerState.CONNECTED) and device.grabbed
        device.type(keystrokes("YT1234567890123") + keystrokes("SF1234567890123"))
        assert pc.wait_for(1)
        assert wait_until(lambda: len(bench.journal.entries()) == 2)
        assert pc.codes() == ["SF1234567890123"]
        assert wait_until(
            lambda: forward_state(session, clear.order_id) == ["forwarded"], timeout=30
        )  # two uplink cycles and load
        assert forward_state(session, refunded.order_id) == [None]
    finally:
        stop.set()
        loop.join(5)
        bench.stop()
        gadget.close()
        device.close()
