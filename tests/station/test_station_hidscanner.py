"""The HID (keyboard) scanner: the evdev decoding (pure), discovery, a fake input device feeding
synthetic events to the reader (grab, unplug, replug), and a uinput keyboard where the kernel
offers one."""

from __future__ import annotations

import errno
import os

import pytest
from evdev import ecodes
from polling import wait_until
from station_testkit import FakeInputDevice, keystrokes

from station.hidscanner import UNKNOWN, HidScanner, InputInfo, KeyDecoder, resolve_input
from station.scanner import ScannerState

E = ecodes
KEY_OF = {
    **{c: getattr(E, f"KEY_{c.upper()}") for c in "abcdefghijklmnopqrstuvwxyz0123456789"},
    "-": E.KEY_MINUS,
}


def decode(events: list[tuple[int, int]], decoder: KeyDecoder | None = None) -> list[str]:
    decoder = decoder or KeyDecoder()
    return [code for c, v in events if (code := decoder.feed(c, v))]


# -- decoding (pure) ---------------------------------------------------------------------------


def test_us_layout_with_shift():
    assert decode(keystrokes("SF1234567890123")) == ["SF1234567890123"]
    assert decode(keystrokes("sf12")) == ["sf12"]
    assert decode(keystrokes("AB-9", shift=E.KEY_RIGHTSHIFT)) == ["AB-9"]


@pytest.mark.parametrize("end", [E.KEY_ENTER, E.KEY_KPENTER, E.KEY_TAB])
def test_enter_keypad_enter_and_tab_end_a_code(end):
    assert decode(keystrokes("6920000000000000002", end=end) + keystrokes("YT1234567890123", end=end)) == [
        "6920000000000000002",
        "YT1234567890123",
    ]


def test_shift_pressed_while_a_shifted_symbol_is_typed():
    events = [(E.KEY_LEFTSHIFT, 1), (E.KEY_S, 1), (E.KEY_S, 0), (E.KEY_MINUS, 1), (E.KEY_MINUS, 0),
              (E.KEY_LEFTSHIFT, 0), (E.KEY_MINUS, 1), (E.KEY_MINUS, 0), (E.KEY_ENTER, 1)]  # fmt: skip
    assert decode(events) == ["S_-"]


def test_keypad_digits_and_repeats():
    events = [
        (E.KEY_KP6, 1),
        (E.KEY_KP6, 2),
        (E.KEY_KP6, 0),
        (E.KEY_KP9, 1),
        (E.KEY_KP9, 0),
        (E.KEY_KPENTER, 1),
    ]
    assert decode(events) == ["69"]  # auto-repeat (value 2) adds nothing


def test_unknown_keys_make_the_code_invalid_not_shorter():
    events = [(E.KEY_1, 1), (E.KEY_F5, 1), (E.KEY_2, 1), (E.KEY_ENTER, 1)]
    assert decode(events) == [f"1{UNKNOWN}2"]


def test_modifiers_alone_and_empty_lines_give_nothing():
    assert decode([(E.KEY_CAPSLOCK, 1), (E.KEY_LEFTCTRL, 1), (E.KEY_ENTER, 1), (E.KEY_TAB, 1)]) == []


def test_over_long_input_is_dropped_and_decoding_recovers():
    decoder = KeyDecoder(max_chars=8)
    assert decode(keystrokes("1234567890"), decoder) == []
    assert decode(keystrokes("123"), decoder) == ["123"] and decoder.dropped == 1


# -- discovery (pure over given device lists) --------------------------------------------------


def test_auto_picks_the_first_usb_keyboard_that_is_not_a_forward_device():
    devices = [
        InputInfo("/dev/input/event0", "AT Translated Set 2 keyboard", 1, 1, usb=False, keyboard=True),
        InputInfo("/dev/input/event3", "WCH CH9329 Keyboard", 0x1A86, 0xE129, usb=True, keyboard=True),
        InputInfo("/dev/input/event5", "Honeywell Scanner", 0x0C2E, 0x0B61, usb=True, keyboard=True),
        InputInfo("/dev/input/event6", "Other scanner", 0x05E0, 0x1200, usb=True, keyboard=True),
    ]
    assert resolve_input("auto", devices) == "/dev/input/event5"
    assert resolve_input("05e0:1200", devices) == "/dev/input/event6"
    assert resolve_input("ffff:0001", devices) is None
    assert resolve_input("auto", devices[:2]) is None


def test_a_path_is_followed_each_time(tmp_path):
    target = tmp_path / "event7"
    target.write_bytes(b"")
    link = tmp_path / "usb-scanner-event-kbd"
    link.symlink_to(target)
    assert resolve_input(str(link)) == str(target)
    target.unlink()
    assert resolve_input(str(link)) is None


# -- the reader, with a fake input device feeding synthetic events ------------------------------


@pytest.fixture
def fake_hid():
    """A HidScanner whose resolver and opener hand out fake devices; `plugged` says if one is there."""
    state = {"plugged": True, "devices": []}
    codes: list[str] = []

    def opener(path):
        device = FakeInputDevice()
        state["devices"].append(device)
        return device

    scanner = HidScanner(
        "auto",
        on_code=codes.append,
        backoff_initial_s=0.01,
        backoff_max_s=0.05,
        resolve=lambda spec: "/dev/input/event9" if state["plugged"] else None,
        opener=opener,
    )
    yield scanner, state, codes
    scanner.stop()
    for device in state["devices"]:
        device.close()


def test_the_reader_grabs_the_device_and_emits_codes(fake_hid):
    scanner, state, codes = fake_hid
    scanner.start()
    assert wait_until(lambda: scanner.state is ScannerState.CONNECTED)
    device = state["devices"][0]
    assert device.grabbed and scanner.path == "/dev/input/event9"
    device.type(keystrokes("SF1234567890123")[:7])  # a partial code waits for its Enter
    device.type(keystrokes("SF1234567890123")[7:] + keystrokes("6920000000000000002", end=E.KEY_TAB))
    assert wait_until(lambda: len(codes) == 2)
    assert codes == ["SF1234567890123", "6920000000000000002"]


def test_the_reader_survives_unplug_and_replug(fake_hid):
    scanner, state, codes = fake_hid
    scanner.start()
    assert wait_until(lambda: scanner.state is ScannerState.CONNECTED)
    state["plugged"] = False
    state["devices"][0].unplug()
    assert wait_until(lambda: scanner.state is ScannerState.RECONNECTING)
    assert scanner.reconnects == 1
    state["plugged"] = True
    assert wait_until(lambda: scanner.state is ScannerState.CONNECTED and len(state["devices"]) == 2)
    state["devices"][1].type(keystrokes("YT1234567890123"))
    assert wait_until(lambda: codes == ["YT1234567890123"])


def test_a_device_someone_else_grabbed_is_retried(fake_hid):
    scanner, state, codes = fake_hid
    busy = {"left": 2}
    real_grab = FakeInputDevice.grab

    def grab(self):
        if busy["left"]:
            busy["left"] -= 1
            raise OSError(errno.EBUSY, "Device or resource busy")
        real_grab(self)

    FakeInputDevice.grab = grab
    try:
        scanner.start()
        assert wait_until(lambda: scanner.state is ScannerState.CONNECTED)
        assert len(state["devices"]) == 3 and state["devices"][0].closed and state["devices"][2].grabbed
    finally:
        FakeInputDevice.grab = real_grab


# -- a real kernel keyboard (uinput) -----------------------------------------------------------


@pytest.mark.skipif(
    not os.path.exists("/dev/uinput"), reason="/dev/uinput is absent: no virtual keyboards here"
)
def test_a_uinput_keyboard_end_to_end():
    from evdev import UInput

    keys = sorted(set(KEY_OF.values()) | {E.KEY_LEFTSHIFT, E.KEY_ENTER})
    with UInput({E.EV_KEY: keys}, name="shipgate test scanner", bustype=E.BUS_USB) as ui:
        codes: list[str] = []
        scanner = HidScanner(ui.device.path, on_code=codes.append)
        scanner.start()
        try:
            assert wait_until(lambda: scanner.state is ScannerState.CONNECTED)
            for code, value in keystrokes("SF1234567890123"):
                ui.write(E.EV_KEY, code, value)
                ui.syn()
            assert wait_until(lambda: codes == ["SF1234567890123"])
        finally:
            scanner.stop()
