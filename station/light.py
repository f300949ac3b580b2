"""The tower light on a serial port (pyserial). The only module that opens the light's device.

BLOCK latches red and the buzzer until a lead clears the exception at the bench or scans the
acknowledgement code (`Kind.CLEAR`); HOLD shows yellow; PASS green for `green_s`, then off;
printer trouble yellow with the buzzer; offline yellow. Nothing but a CLEAR ends a latched red.
The bytes for each colour are settings ([light] red / yellow / green / off / buzzer, hex).

`plan(state, event)` is the pure part: the bytes to write and the new state. `TowerLight` writes
them; a port that cannot be opened or written is retried on the next event, and until it works the
light does not count for the fail-closed rule.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from station.alerts import Event, Kind

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LightBytes:
    red: bytes = b"\x11"
    yellow: bytes = b"\x12"
    green: bytes = b"\x14"
    off: bytes = b"\x21\x22\x24\x28"
    buzzer: bytes = b"\x18"


@dataclass(frozen=True)
class LightState:
    latched: bool = False  # red + buzzer until cleared
    green: bool = False  # a PASS's green, switched off by the timer


def plan(state: LightState, event: Event, b: LightBytes) -> tuple[bytes, LightState]:
    """What to write for an event, and the light's state afterwards."""
    if event.kind is Kind.BLOCK:
        return b.off + b.red + b.buzzer, LightState(latched=True)
    if event.kind is Kind.CLEAR:
        return b.off, LightState()
    if state.latched:
        return b"", state
    match event.kind:
        case Kind.HOLD | Kind.OFFLINE:
            return b.off + b.yellow, LightState()
        case Kind.PRINTER:
            return b.off + b.yellow + b.buzzer, LightState()
        case Kind.PASS:
            return b.off + b.green, LightState(green=True)
    return b"", state


class TowerLight:
    def __init__(
        self,
        device: str,
        baud: int = 9600,
        light_bytes: LightBytes | None = None,
        *,
        green_s: float = 2.0,
        open_port: Any = None,
    ) -> None:
        self.device, self.baud = device, baud
        self.bytes = light_bytes or LightBytes()
        self.green_s = green_s
        self._open_port = open_port or self._serial
        self._port: Any = None
        self._ok = False
        self.state = LightState()
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    @property
    def working(self) -> bool:
        return self._ok

    def start(self) -> None:
        with self._lock:
            self._write(self.bytes.off)

    def stop(self) -> None:
        with self._lock:
            self._cancel_timer()
            if self._port is not None:
                self._write(self.bytes.off)
                self._close()

    def announce(self, event: Event) -> None:
        with self._lock:
            self._cancel_timer()
            data, self.state = plan(self.state, event, self.bytes)
            if data:
                self._write(data)
            if self.state.green and self.green_s > 0:
                self._timer = threading.Timer(self.green_s, self._green_over)
                self._timer.daemon = True
                self._timer.start()

    def _green_over(self) -> None:
        with self._lock:
            if self.state.green:
                self.state = LightState()
                self._write(self.bytes.off)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _write(self, data: bytes) -> None:
        try:
            if self._port is None:
                self._port = self._open_port()
            self._port.write(data)
            self._port.flush()
        except Exception as exc:  # unplugged, no permission, write timeout: the light boundary
            if self._ok or self._port is None:
                log.error("light %s: %s", self.device, exc)
            self._ok = False
            self._close()
            return
        if not self._ok:
            log.info("light %s: working", self.device)
        self._ok = True

    def _close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except Exception:
                log.debug("light: close failed", exc_info=True)

    def _serial(self) -> Any:
        import serial

        return serial.Serial(self.device, self.baud, timeout=1, write_timeout=1, exclusive=True)
