"""The barcode scanner as a USB keyboard (HID), read through Linux evdev. The only module importing `evdev`.

Most bench scanners are keyboard-wedge devices. `HidScanner` opens the scanner's input device,
grabs it exclusively (EVIOCGRAB: no keystroke reaches the station's console or login prompt),
decodes its key events with `KeyDecoder` and hands each code upward through a callback, like the
serial `station.scanner.Scanner`: same states, same callbacks, same reconnect back-off after an
unplug. The thread starts in `start()`, never in `__init__`.

`KeyDecoder` (pure): key events in, codes out. US layout with Shift (left or right); Enter, keypad
Enter and Tab end a code; keypad digits count as digits; a key that is not part of a code becomes
U+FFFD, so the classifier rejects the code explicitly (HOLD invalid_code) instead of it being
silently shortened.

Devices: "auto" (the first USB keyboard-class device that is not a forward device), a path such
as /dev/input/by-id/usb-…-event-kbd (re-resolved at every reconnect) or "vid:pid" in hex.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import evdev
from evdev import ecodes

from station.scanner import MAX_LINE_BYTES, DeviceReader, ScannerState, is_vid_pid

log = logging.getLogger(__name__)

KEY_UP, KEY_DOWN, KEY_HOLD = 0, 1, 2
TERMINATORS = {ecodes.KEY_ENTER, ecodes.KEY_KPENTER, ecodes.KEY_TAB}
SHIFTS = {ecodes.KEY_LEFTSHIFT, ecodes.KEY_RIGHTSHIFT}
# Keys a scanner may send that carry no character: ignored, not an error.
IGNORED = {ecodes.KEY_LEFTCTRL, ecodes.KEY_RIGHTCTRL, ecodes.KEY_LEFTALT, ecodes.KEY_RIGHTALT,
           ecodes.KEY_CAPSLOCK, ecodes.KEY_NUMLOCK}  # fmt: skip
UNKNOWN = "\ufffd"
# Names of input devices that are forward devices or our own test keyboards, never a scanner.
NOT_SCANNERS = ("ch9329", "hidg", "gadget", "shipgate-forward")


def _us_keys() -> dict[int, tuple[str, str]]:
    """evdev key code -> (plain, shifted) on a US keyboard."""
    keys: dict[int, tuple[str, str]] = {}
    for ch in "abcdefghijklmnopqrstuvwxyz":
        keys[getattr(ecodes, f"KEY_{ch.upper()}")] = (ch, ch.upper())
    for digit, shifted in zip("1234567890", "!@#$%^&*()", strict=True):
        keys[getattr(ecodes, f"KEY_{digit}")] = (digit, shifted)
        keys[getattr(ecodes, f"KEY_KP{digit}")] = (digit, digit)
    symbols = {
        "MINUS": "-_", "EQUAL": "=+", "LEFTBRACE": "[{", "RIGHTBRACE": "]}", "BACKSLASH": "\\|",
        "SEMICOLON": ";:", "APOSTROPHE": "'\"", "GRAVE": "`~", "COMMA": ",<", "DOT": ".>", "SLASH": "/?",
        "SPACE": "  ", "KPMINUS": "--", "KPPLUS": "++", "KPDOT": "..", "KPSLASH": "//", "KPASTERISK": "**",
    }  # fmt: skip
    for name, (plain, shifted) in symbols.items():
        keys[getattr(ecodes, f"KEY_{name}")] = (plain, shifted)
    return keys


US_KEYS = _us_keys()


class KeyDecoder:
    """EV_KEY events (code, value) in, codes out. Survives noise and over-long input."""

    def __init__(self, max_chars: int = MAX_LINE_BYTES) -> None:
        self.max_chars = max_chars
        self._chars: list[str] = []
        self._shift: set[int] = set()
        self._discarding = False
        self.dropped = 0

    def feed(self, code: int, value: int) -> str | None:
        """One key event; the finished code when this event ends one."""
        if code in SHIFTS:
            (self._shift.add if value != KEY_UP else self._shift.discard)(code)
            return None
        if value != KEY_DOWN or code in IGNORED:  # releases and auto-repeat carry nothing
            return None
        if code in TERMINATORS:
            return self._end()
        keys = US_KEYS.get(code)
        self._append(UNKNOWN if keys is None else keys[1 if self._shift else 0])
        return None

    def _append(self, char: str) -> None:
        if self._discarding:
            return
        self._chars.append(char)
        if len(self._chars) > self.max_chars:
            self._chars.clear()
            self._discarding = True
            self.dropped += 1
            log.warning("hid scanner: dropped a code longer than %d keys", self.max_chars)

    def _end(self) -> str | None:
        text, self._chars = "".join(self._chars).strip(), []
        if self._discarding:
            self._discarding = False
            return None
        return text or None


@dataclass(frozen=True)
class InputInfo:
    path: str
    name: str
    vid: int
    pid: int
    usb: bool
    keyboard: bool
    phys: str = ""

    @property
    def is_candidate(self) -> bool:
        """A USB keyboard-class device that is not one of our forward devices."""
        lowered = self.name.lower()
        return self.usb and self.keyboard and not any(word in lowered for word in NOT_SCANNERS)

    def describe(self) -> str:
        kind = "HID keyboard" + ("" if self.is_candidate else " (not a scanner candidate)")
        return f"{self.path}\t{self.vid:04x}:{self.pid:04x}\t-\t{self.name} ({kind})"


def _info(path: str) -> InputInfo | None:
    try:
        device = evdev.InputDevice(path)
    except OSError:
        return None
    try:
        keys = set(device.capabilities().get(ecodes.EV_KEY, ()))
        keyboard = {ecodes.KEY_A, ecodes.KEY_1, ecodes.KEY_ENTER} <= keys
        info = device.info
        return InputInfo(path, device.name or "", info.vendor, info.product, info.bustype == ecodes.BUS_USB,
                         keyboard, device.phys or "")  # fmt: skip
    finally:
        device.close()


def input_devices() -> list[InputInfo]:
    """Keyboard-class input devices (needs read access: the `input` group or the udev rule)."""
    found = (_info(path) for path in evdev.list_devices())
    return sorted((i for i in found if i is not None and i.keyboard), key=lambda i: i.path)


def resolve_input(spec: str, devices: Iterable[InputInfo] | None = None) -> str | None:
    """The event device path for "auto", "vid:pid" or a path (None when nothing matches now)."""
    if spec != "auto" and not is_vid_pid(spec):
        return os.path.realpath(spec) if os.path.exists(spec) else None
    devices = list(input_devices() if devices is None else devices)
    if spec == "auto":
        return next((d.path for d in devices if d.is_candidate), None)
    vid, pid = (int(part, 16) for part in spec.split(":"))
    return next((d.path for d in devices if d.vid == vid and d.pid == pid and d.keyboard), None)


def open_input(path: str) -> Any:
    return evdev.InputDevice(path)


class HidScanner(DeviceReader):
    """Owns the scanner's input device in a thread (grabbed); reports codes and states by callback."""

    thread_name = "hid scanner"

    def __init__(
        self,
        device: str,
        *,
        resolve: Callable[[str], str | None] = resolve_input,
        opener: Callable[[str], Any] = open_input,
        **reader: Any,  # on_code, on_state, backoff_initial_s, backoff_max_s: see DeviceReader
    ) -> None:
        super().__init__(device, **reader)
        self._resolver = resolve
        self._opener = opener

    def _resolve(self) -> str | None:
        return self._resolver(self.device)

    def _open(self, path: str) -> Any:
        device = self._opener(path)
        try:
            device.grab()  # EVIOCGRAB: the keystrokes reach nobody else
        except OSError:
            with contextlib.suppress(OSError):
                device.close()
            raise
        return device

    def _serve(self, device: Any, path: str) -> None:
        self.path = path
        log.info("hid scanner: grabbed %s (%s)", path, getattr(device, "name", ""))
        self._set_state(ScannerState.CONNECTED)
        decoder = KeyDecoder()
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select([device.fd], [], [], 0.2)
                if not ready:
                    continue
                for event in _events(device):
                    if event.type == ecodes.EV_KEY and (code := decoder.feed(event.code, event.value)):
                        self._emit(code)
        except OSError as exc:  # ENODEV: unplugged
            self._lost(path, exc)
        finally:
            self.path = None
            with contextlib.suppress(OSError):
                device.ungrab()
            with contextlib.suppress(OSError):
                device.close()


def _events(device: Any) -> list:
    try:
        return list(device.read())
    except BlockingIOError:
        return []
