"""The CH9329: frames and replies (pure), and the forwarder against a pty that plays the chip
(decodes frames, checks sums, replies; or stays silent, or answers an error)."""

from __future__ import annotations

import pytest

from station.ch9329 import (
    BadFrame,
    Ch9329Forwarder,
    check_reply,
    checksum,
    keyboard_frame,
    parse_frame,
    reply_frame,
)
from station.forward import RELEASE, ForwardError, ForwardState, key_report
from station.virtualpc import PackingPC, VirtualCh9329

# -- frames (pure) -----------------------------------------------------------------------------


def test_keyboard_frame_matches_the_datasheet_example():
    # "a" pressed, then released: the examples of WCH's CH9329 serial protocol.
    assert keyboard_frame(key_report("a")).hex(" ") == "57 ab 00 02 08 00 00 04 00 00 00 00 00 10"
    assert keyboard_frame(RELEASE).hex(" ") == "57 ab 00 02 08 00 00 00 00 00 00 00 00 0c"


def test_checksum_is_the_low_byte_of_the_sum():
    assert checksum(b"\xff\x02") == 0x01
    assert keyboard_frame(key_report("Z"), address=0x01)[-1] == checksum(
        keyboard_frame(key_report("Z"), 1)[:-1]
    )


def test_parse_frame_checks_head_length_and_sum():
    frame = parse_frame(keyboard_frame(key_report("A")))
    assert (frame.address, frame.command, frame.data) == (0, 0x02, key_report("A"))
    good = keyboard_frame(RELEASE)
    with pytest.raises(BadFrame, match="checksum"):
        parse_frame(good[:-1] + bytes([good[-1] ^ 1]))
    with pytest.raises(BadFrame):
        parse_frame(b"\x57\xac" + good[2:])
    with pytest.raises(BadFrame, match="length"):
        parse_frame(good[:-2] + good[-1:])


def test_frame_refuses_a_report_of_the_wrong_size():
    with pytest.raises(ValueError):
        keyboard_frame(b"\x00" * 7)


def test_replies():
    assert reply_frame(0).hex(" ") == "57 ab 00 82 01 00 85"
    check_reply(reply_frame(0))
    with pytest.raises(ForwardError, match="no reply"):
        check_reply(b"")
    with pytest.raises(ForwardError, match="short"):
        check_reply(reply_frame(0)[:5])
    with pytest.raises(ForwardError, match="e4"):
        check_reply(reply_frame(0xE4))
    with pytest.raises(ForwardError, match="corrupt"):
        check_reply(reply_frame(0)[:-1] + b"\x00")
    with pytest.raises(ForwardError, match="unexpected"):
        check_reply(reply_frame(0, address=3))


# -- the forwarder against a pty playing the chip ----------------------------------------------


@pytest.fixture
def chip(tmp_path):
    made = []

    def make(**kwargs) -> VirtualCh9329:
        device = VirtualCh9329(tmp_path / f"ch9329-{len(made)}", PackingPC(), **kwargs)
        made.append(device)
        return device

    yield make
    for device in made:
        device.close()


@pytest.mark.parametrize("baud", [9600, 115200])
def test_the_code_arrives_with_enter_and_every_frame_is_answered(chip, baud):
    device = chip()
    forwarder = Ch9329Forwarder(device.path, baud=baud)
    forwarder.forward("SF1234567890123")
    assert device.pc.wait_for(1)
    assert device.pc.codes() == ["SF1234567890123"]
    assert device.frames == 2 * 16 and device.bad_frames == 0
    forwarder.forward("6920000000000000002")
    assert device.pc.wait_for(2) and device.pc.codes()[1] == "6920000000000000002"
    forwarder.close()


def test_a_silent_chip_is_an_error(chip):
    device = chip(silent=True)
    forwarder = Ch9329Forwarder(device.path, reply_timeout_s=0.05)
    with pytest.raises(ForwardError, match="no reply"):
        forwarder.forward("1234")
    assert forwarder.state is ForwardState.FAILED
    assert device.frames == 1  # it stopped at the first unanswered frame


def test_an_error_reply_is_an_error(chip):
    device = chip(status=0xE6)
    with pytest.raises(ForwardError, match="execution failed"):
        Ch9329Forwarder(device.path).forward("1234")
    assert device.pc.codes() == []


def test_unplugged_then_replugged(chip):
    device = chip()
    forwarder = Ch9329Forwarder(device.path)
    forwarder.forward("1111")
    device.unplug()
    with pytest.raises(ForwardError):
        forwarder.forward("2222")
    device.plug()
    forwarder.forward("3333")
    assert device.pc.wait_for(2) and device.pc.codes() == ["1111", "3333"]
    forwarder.close()


def test_a_missing_port_is_an_error(tmp_path):
    with pytest.raises(ForwardError):
        Ch9329Forwarder(str(tmp_path / "nothing")).forward("1")
