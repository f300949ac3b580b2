"""The tower light: its bytes on a real pty (pyserial opens the slave, the test reads the master)."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import tty

import pytest
from station_testkit import ORDER_OK, ORDER_REFUNDED

from station.alerts import Alerts, Event, Kind
from station.light import LightBytes, LightState, TowerLight, plan

B = LightBytes()


@pytest.fixture
def pty_pair():
    master, slave = pty.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    yield master, os.ttyname(slave)
    for fd in (master, slave):
        with contextlib.suppress(OSError):
            os.close(fd)


def read_all(master: int, expected: int) -> bytes:
    data = b""
    while len(data) < expected:
        ready, _, _ = select.select([master], [], [], 5)
        if not ready:
            break
        data += os.read(master, 1024)
    return data


def test_plan_latches_red_until_cleared():
    data, state = plan(LightState(), Event(Kind.BLOCK), B)
    assert data == B.off + B.red + B.buzzer and state.latched
    for kind in (Kind.HOLD, Kind.PASS, Kind.PRINTER, Kind.OFFLINE):
        assert plan(state, Event(kind), B) == (b"", state)  # nothing overrides a latched block
    assert plan(state, Event(Kind.CLEAR), B) == (B.off, LightState())
    assert plan(LightState(), Event(Kind.HOLD), B)[0] == B.off + B.yellow
    assert plan(LightState(), Event(Kind.PASS), B) == (B.off + B.green, LightState(green=True))


def test_the_light_bytes_reach_the_port(pty_pair, make_bench):
    master, device = pty_pair
    colours = LightBytes(red=b"\xa1", yellow=b"\xa2", green=b"\xa4", off=b"\xa0", buzzer=b"\xb1")
    light = TowerLight(device, 9600, colours, green_s=0.05)
    parts = make_bench(alerts=Alerts({"light": light}, ack_code="SG-ACK-1"))
    assert light.working
    parts.bench.handle(ORDER_OK)
    assert read_all(master, 4) == b"\xa0" + b"\xa0\xa4" + b"\xa0"  # off; PASS green, off after green_s
    parts.bench.handle(ORDER_REFUNDED)
    assert read_all(master, 3) == b"\xa0\xa1\xb1"  # red + buzzer, latched
    parts.bench.handle(ORDER_OK)  # a PASS does not end the alarm
    parts.bench.handle("SG-ACK-1")  # the acknowledgement code does
    assert read_all(master, 1) == b"\xa0"
    assert not light.state.latched


def test_a_light_that_cannot_be_opened_is_not_working(tmp_path):
    light = TowerLight(str(tmp_path / "no-such-tty"))
    light.start()  # a warning, not a crash
    assert not light.working
    light.announce(Event(Kind.BLOCK))
    assert not light.working and light.state.latched


def test_an_unplugged_light_stops_counting(pty_pair):
    master, device = pty_pair
    light = TowerLight(device)
    light.start()
    assert light.working
    os.close(master)  # the cable is pulled: writes to the pty slave now fail (EIO)
    light.announce(Event(Kind.HOLD))
    assert not light.working
