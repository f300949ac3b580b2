"""Forwarding to the packing PC: the key-report encoder (pure) and the USB gadget forwarder against
a regular file and a pty read by the simulated packing PC (unplug and replug included)."""

from __future__ import annotations

import string

import pytest

from shipgate.codes import CodeKind
from shipgate.wire import Decision
from station.decision import Outcome, Source
from station.forward import (
    RELEASE,
    ForwardError,
    ForwardState,
    HidgForwarder,
    Unencodable,
    decode_reports,
    forwards,
    key_report,
    key_reports,
)

# -- the encoder (pure) ------------------------------------------------------------------------


def test_letters_digits_and_shift_follow_the_usage_table():
    assert key_report("a") == bytes([0, 0, 0x04, 0, 0, 0, 0, 0])
    assert key_report("z") == bytes([0, 0, 0x1D, 0, 0, 0, 0, 0])
    assert key_report("A") == bytes([0x02, 0, 0x04, 0, 0, 0, 0, 0])  # left Shift
    assert key_report("1") == bytes([0, 0, 0x1E, 0, 0, 0, 0, 0])
    assert key_report("9") == bytes([0, 0, 0x26, 0, 0, 0, 0, 0])
    assert key_report("0") == bytes([0, 0, 0x27, 0, 0, 0, 0, 0])
    assert key_report("-") == bytes([0, 0, 0x2D, 0, 0, 0, 0, 0])
    assert key_report("_") == bytes([0x02, 0, 0x2D, 0, 0, 0, 0, 0])
    assert key_report("!") == bytes([0x02, 0, 0x1E, 0, 0, 0, 0, 0])


def test_each_key_is_pressed_then_released_and_the_suffix_follows():
    reports = key_reports("SF1", "enter")
    assert reports == [
        bytes([2, 0, 0x16, 0, 0, 0, 0, 0]), RELEASE,  # S
        bytes([2, 0, 0x09, 0, 0, 0, 0, 0]), RELEASE,  # F
        bytes([0, 0, 0x1E, 0, 0, 0, 0, 0]), RELEASE,  # 1
        bytes([0, 0, 0x28, 0, 0, 0, 0, 0]), RELEASE,  # Enter
    ]  # fmt: skip
    assert key_reports("11", "tab")[-2] == bytes([0, 0, 0x2B, 0, 0, 0, 0, 0])
    assert len(key_reports("6920000000000000002", "none")) == 38  # no suffix key
    assert all(len(r) == 8 for r in key_reports("6920000000000000002"))


def test_a_repeated_character_is_released_in_between():
    reports = key_reports("00", "none")
    assert reports == [key_report("0"), RELEASE, key_report("0"), RELEASE]


@pytest.mark.parametrize("char", ["中", "\x07", "\r", "é", "\u3000"])
def test_characters_a_us_keyboard_cannot_type_are_refused(char):
    with pytest.raises(Unencodable):
        key_reports(f"SF{char}1")


def test_unknown_suffix_is_refused():
    with pytest.raises(ValueError):
        key_reports("1", "CR")


def test_every_printable_ascii_character_round_trips():
    text = "".join(ch for ch in string.printable if ch not in "\t\n\r\x0b\x0c")
    assert decode_reports(key_reports(text, "enter")) == text + "\n"


def test_decoding_refuses_a_report_of_the_wrong_size():
    with pytest.raises(ValueError):
        decode_reports([b"\x00" * 7])


def _outcome(decision: Decision, scan_id: str | None = "s1") -> Outcome:
    return Outcome(scan_id, "6920000000000000002", decision, "clear", "", Source.ONLINE)


@pytest.mark.parametrize("kind", [CodeKind.ORDER_ID, CodeKind.TRACKING_NO])
def test_only_a_pass_of_a_parcel_code_is_forwarded(kind):
    assert forwards(_outcome(Decision.PASS), kind)
    assert not forwards(_outcome(Decision.BLOCK), kind)
    assert not forwards(_outcome(Decision.HOLD), kind)
    assert not forwards(_outcome(Decision.PASS, scan_id=None), kind)  # not journaled: never


@pytest.mark.parametrize(
    "kind", [CodeKind.BADGE, CodeKind.EXCEPTION, CodeKind.RESOLUTION, CodeKind.DRILL, CodeKind.INVALID]
)
def test_lead_drill_and_garbage_codes_are_never_forwarded_even_on_pass(kind):
    assert not forwards(_outcome(Decision.PASS), kind)


# -- the gadget forwarder ----------------------------------------------------------------------


def test_hidg_writes_the_reports_to_a_file(tmp_path):
    device = tmp_path / "hidg0"
    device.write_bytes(b"")
    forwarder = HidgForwarder(str(device))
    forwarder.forward("SF1234567890123")
    forwarder.close()
    assert device.read_bytes() == b"".join(key_reports("SF1234567890123", "enter"))


def test_hidg_waits_key_delay_between_reports(tmp_path):
    device = tmp_path / "hidg0"
    device.write_bytes(b"")
    pauses: list[float] = []
    forwarder = HidgForwarder(str(device), suffix="tab", key_delay_s=0.004, sleep=pauses.append)
    forwarder.forward("12")
    assert pauses == [0.004] * 5  # between 6 reports
    assert decode_reports(_split(device.read_bytes())) == "12\t"


def test_hidg_on_a_pty_types_the_code_into_the_packing_pc(gadget, packing_pc):
    forwarder = HidgForwarder(gadget.path)
    forwarder.forward("SF1234567890123")
    forwarder.forward("6920000000000000002")
    assert packing_pc.wait_for(2)
    assert packing_pc.codes() == ["SF1234567890123", "6920000000000000002"]
    assert {r.end for r in packing_pc.received} == {"\n"}
    assert packing_pc.received[0].first_report_at <= packing_pc.received[0].last_report_at
    forwarder.close()


def test_hidg_unplugged_fails_and_works_again_after_replug(gadget, packing_pc):
    forwarder = HidgForwarder(gadget.path)
    forwarder.forward("1111")
    assert packing_pc.wait_for(1)
    gadget.unplug()
    with pytest.raises(ForwardError):
        forwarder.forward("2222")
    assert forwarder.state is ForwardState.FAILED
    gadget.plug()
    forwarder.forward("3333")
    assert packing_pc.wait_for(2) and packing_pc.codes() == ["1111", "3333"]
    assert forwarder.state is ForwardState.READY
    forwarder.close()


def test_hidg_missing_device_is_a_forward_error(tmp_path):
    with pytest.raises(ForwardError, match="hidg0"):
        HidgForwarder(str(tmp_path / "hidg0")).forward("1")


def test_hidg_unencodable_code_sends_nothing(tmp_path):
    device = tmp_path / "hidg0"
    device.write_bytes(b"")
    with pytest.raises(Unencodable):
        HidgForwarder(str(device)).forward("SF中")
    assert device.read_bytes() == b""


def _split(data: bytes) -> list[bytes]:
    return [data[i : i + 8] for i in range(0, len(data), 8)]
