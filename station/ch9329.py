"""The WCH CH9329 serial-to-USB-keyboard module. The only module opening its serial port.

A mini-PC without a USB device-mode port types into the packing PC through a CH9329: the station
writes one frame per key report on a serial port, the chip presents a USB keyboard to the PC.

Frame (pure functions below):  57 AB | address | command | length | data | checksum
    command 0x02 = keyboard data, length 8, data = the boot-keyboard report; the checksum is the
    sum of every preceding byte, low 8 bits.
Reply: 57 AB | address | command | 0x01 | status | checksum; success is command 0x82 with status
    0x00; the chip answers an error with command 0xC2 (0x02 | 0xC0) and a status byte naming it.
A missing, short, corrupt or failed reply is a `ForwardError`: the code may not have arrived.
"""

from __future__ import annotations

import contextlib
import termios
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import serial

from station.forward import REPORT_LEN, ForwardError, ForwardState, key_reports, send_paced

HEAD = b"\x57\xab"
CMD_KEYBOARD = 0x02
REPLY_OK = CMD_KEYBOARD | 0x80
REPLY_ERROR = CMD_KEYBOARD | 0xC0
REPLY_LEN = 7
STATUS_TEXT = {
    0x00: "success",
    0xE1: "serial receive timeout",
    0xE2: "bad frame head",
    0xE3: "bad command",
    0xE4: "bad checksum",
    0xE5: "bad parameter",
    0xE6: "frame valid but execution failed",
}


def checksum(data: bytes) -> int:
    return sum(data) & 0xFF


def keyboard_frame(report: bytes, address: int = 0x00) -> bytes:
    """The frame that sends one 8-byte keyboard report."""
    if len(report) != REPORT_LEN:
        raise ValueError(f"a keyboard report is {REPORT_LEN} bytes (got {len(report)})")
    body = HEAD + bytes((address, CMD_KEYBOARD, REPORT_LEN)) + report
    return body + bytes((checksum(body),))


@dataclass(frozen=True)
class Frame:
    address: int
    command: int
    data: bytes


class BadFrame(ValueError):
    """Bytes that are not a well-formed CH9329 frame."""


def parse_frame(raw: bytes) -> Frame:
    """Decode one whole frame (a request or a reply), checking head, length and checksum."""
    if len(raw) < 6 or raw[:2] != HEAD:
        raise BadFrame(f"not a CH9329 frame: {raw.hex(' ')}")
    length = raw[4]
    if len(raw) != 6 + length:
        raise BadFrame(f"frame length {len(raw)} does not match its length byte {length}")
    if checksum(raw[:-1]) != raw[-1]:
        raise BadFrame(f"bad checksum {raw[-1]:02x} (expected {checksum(raw[:-1]):02x})")
    return Frame(raw[2], raw[3], bytes(raw[5:-1]))


def reply_frame(status: int = 0x00, address: int = 0x00) -> bytes:
    """The chip's answer to a keyboard frame (what the simulated CH9329 sends)."""
    command = REPLY_OK if status == 0 else REPLY_ERROR
    body = HEAD + bytes((address, command, 1, status))
    return body + bytes((checksum(body),))


def check_reply(raw: bytes, address: int = 0x00) -> None:
    """Raise ForwardError unless raw is the chip's success reply to a keyboard frame."""
    if len(raw) < REPLY_LEN:
        what = "no reply" if not raw else f"short reply {raw.hex(' ')}"
        raise ForwardError(f"CH9329: {what}")
    try:
        frame = parse_frame(raw)
    except BadFrame as exc:
        raise ForwardError(f"CH9329: corrupt reply: {exc}") from None
    status = frame.data[0] if frame.data else -1
    if frame.address != address or frame.command not in (REPLY_OK, REPLY_ERROR) or len(frame.data) != 1:
        raise ForwardError(f"CH9329: unexpected reply {raw.hex(' ')}")
    if frame.command != REPLY_OK or status != 0:
        raise ForwardError(f"CH9329: error {status:02x} ({STATUS_TEXT.get(status, 'unknown status')})")


class Ch9329Forwarder:
    """Types a code through a CH9329 on a serial port; every frame's reply is read and checked.

    The port is opened at the first code and kept open; any failure closes it and the next code
    reopens it (a replugged USB-serial adapter comes back under its by-id path).
    """

    def __init__(
        self,
        device: str,
        *,
        baud: int = 9600,
        suffix: str = "enter",
        key_delay_s: float = 0.0,
        address: int = 0x00,
        reply_timeout_s: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.device = device
        self.baud = baud
        self.suffix = suffix
        self.key_delay_s = key_delay_s
        self.address = address
        # A reply is 7 bytes after a 14-byte frame: ~22 ms at 9600 baud; allow the chip (and a busy
        # station) slack before calling it silent.
        self.reply_timeout_s = reply_timeout_s or max(0.5, 21 * 10 / baud * 4)
        self.description = f"ch9329 {device} @ {baud}"
        self.state = ForwardState.READY
        self._sleep = sleep
        self._port: serial.Serial | None = None
        self._lock = threading.Lock()

    def forward(self, code: str) -> None:
        frames = [keyboard_frame(r, self.address) for r in key_reports(code, self.suffix)]
        with self._lock:
            try:
                port = self._open()
                port.reset_input_buffer()  # a late reply from an earlier failure must not count
                send_paced(frames, lambda frame: self._send(port, frame), self.key_delay_s, self._sleep)
            except (serial.SerialException, OSError, termios.error, ForwardError) as exc:
                self._close()
                self.state = ForwardState.FAILED
                raise ForwardError(f"{self.device}: {exc}") from exc
            self.state = ForwardState.READY

    def _send(self, port: serial.Serial, frame: bytes) -> None:
        port.write(frame)
        check_reply(port.read(REPLY_LEN), self.address)

    def _open(self) -> serial.Serial:
        if self._port is None:
            self._port = serial.Serial(
                self.device, self.baud, timeout=self.reply_timeout_s, write_timeout=1.0, exclusive=True
            )
        return self._port

    def _close(self) -> None:
        if self._port is not None:
            with contextlib.suppress(Exception):
                self._port.close()
            self._port = None

    def close(self) -> None:
        with self._lock:
            self._close()
