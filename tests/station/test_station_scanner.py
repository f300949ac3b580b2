"""The scanner: framing (pure), discovery, and a real pty as the serial port: partial writes, noise,
every suffix, exclusive open, unplug and re-plug through a repointed symlink."""

from __future__ import annotations

import threading
import time

import pytest
import serial
from polling import wait_until

from station.scanner import Framer, PortInfo, Scanner, ScannerState, resolve_device
from station.virtual import VirtualScanner

# -- Framer (pure) ---------------------------------------------------------------------------


def feed_all(framer: Framer, chunks: list[bytes], step: float = 0.001) -> list[str]:
    out, now = [], 0.0
    for chunk in chunks:
        now += step
        out += framer.feed(chunk, now)
    return out


@pytest.mark.parametrize("suffix", ["CR", "LF", "CRLF"])
def test_terminated_framing_survives_partial_reads(suffix):
    end = {"CR": b"\r", "LF": b"\n", "CRLF": b"\r\n"}[suffix]
    stream = b"SF1234567890123" + end + b"6920000000000000001" + end
    chunks = [stream[i : i + 3] for i in range(0, len(stream), 3)]  # split anywhere, even inside CRLF
    assert feed_all(Framer(suffix), chunks) == ["SF1234567890123", "6920000000000000001"]


def test_a_partial_line_waits_for_its_terminator():
    framer = Framer("CR")
    assert framer.feed(b"SF12345", 0.0) == []
    assert framer.feed(b"67890123\r", 5.0) == ["SF1234567890123"]


def test_mismatched_terminator_still_frames():
    assert feed_all(Framer("CR"), [b"AAA\r\nBBB\n"]) == ["AAA", "BBB"]


def test_noise_and_control_characters():
    framer = Framer("CR")
    out = feed_all(
        framer, [b"\x00\x00\r", b"\x02SF1234567890123\x03\r", b"  \r", b"ab\x07cd\r", b"\xff\xfe\r"]
    )
    # Leading/trailing control chars stripped; empty lines dropped; inner control chars kept (the
    # classifier rejects them explicitly); undecodable bytes become U+FFFD (classified invalid).
    assert out == ["SF1234567890123", "ab\x07cd", "\ufffd\ufffd"]


def test_over_long_line_is_dropped_and_framing_recovers():
    framer = Framer("CR", max_bytes=32)
    out = feed_all(framer, [b"9" * 20, b"9" * 20, b"9" * 20, b"\r", b"SF1234567890123\r"])
    assert out == ["SF1234567890123"]
    assert framer.dropped == 1


def test_no_suffix_frames_on_the_inter_character_gap():
    framer = Framer("none", gap_s=0.05)
    assert framer.feed(b"SF12345", 0.00) == []
    assert framer.feed(b"67890123", 0.01) == []
    assert framer.poll(0.03) == []  # not quiet long enough
    assert framer.poll(0.07) == ["SF1234567890123"]
    assert framer.feed(b"6920000000000000001", 1.0) == []
    assert framer.feed(b"SF1234567890123", 1.2) == ["6920000000000000001"]  # a gap inside feed ends a code
    assert framer.poll(1.3) == ["SF1234567890123"]


def test_no_suffix_over_long_dropped():
    framer = Framer("none", gap_s=0.05, max_bytes=8)
    assert framer.feed(b"0123456789", 0.0) == []
    assert framer.poll(0.1) == []
    assert framer.dropped == 1
    assert framer.feed(b"ABC", 0.2) == []
    assert framer.poll(0.3) == ["ABC"]


# -- discovery -------------------------------------------------------------------------------

PORTS = [
    PortInfo("/dev/ttyS0", None, None, None, "ttyS0"),
    PortInfo("/dev/ttyUSB0", 0x1A86, 0x7523, None, "CH340"),
    PortInfo("/dev/ttyACM1", 0x05F9, 0x4204, "S123", "Datalogic"),
    PortInfo("/dev/ttyACM0", 0x0C2E, 0x0B61, "H1", "Honeywell"),
]


def test_resolve_device():
    assert resolve_device("/dev/scanner", PORTS) == "/dev/scanner"  # a path is used as given
    assert resolve_device("auto", PORTS) == "/dev/ttyACM1"  # first ACM in the given order
    assert resolve_device("1a86:7523", PORTS) == "/dev/ttyUSB0"
    assert resolve_device("0C2E:0B61", PORTS) == "/dev/ttyACM0"
    assert resolve_device("dead:beef", PORTS) is None
    assert resolve_device("auto", PORTS[:2]) is None


def test_port_description():
    assert PORTS[2].describe() == "/dev/ttyACM1\t05f9:4204\tS123\tDatalogic (USB CDC ACM)"


# -- a real pty as the port -------------------------------------------------------------------


class Collector:
    def __init__(self) -> None:
        self.codes: list[str] = []
        self.states: list[ScannerState] = []
        self.lock = threading.Lock()

    def code(self, text: str) -> None:
        with self.lock:
            self.codes.append(text)

    def state(self, state: ScannerState) -> None:
        self.states.append(state)


@pytest.fixture
def collector():
    return Collector()


@pytest.fixture
def running_scanner(virtual_scanner, collector):
    scanners = []

    def start(suffix="CR", **kwargs):
        scanner = Scanner(
            virtual_scanner.path,
            on_code=collector.code,
            on_state=collector.state,
            suffix=suffix,
            frame_gap_s=0.04,
            backoff_initial_s=0.02,
            backoff_max_s=0.1,
            **kwargs,
        )
        scanner.start()
        scanners.append(scanner)
        assert wait_until(lambda: scanner.state is ScannerState.CONNECTED)
        return scanner

    yield start
    for scanner in scanners:
        scanner.stop()


@pytest.mark.parametrize(("suffix", "end"), [("CR", b"\r"), ("LF", b"\n"), ("CRLF", b"\r\n")])
def test_pty_framing_with_partial_writes(virtual_scanner, running_scanner, collector, suffix, end):
    running_scanner(suffix)
    data = b"\x00SF1234567890123" + end + b"69200000" + b"00000000001" + end + b"JT123456789012" + end
    for i in range(0, len(data), 5):
        virtual_scanner.write(data[i : i + 5])
        time.sleep(0.002)
    assert wait_until(lambda: len(collector.codes) == 3)
    assert collector.codes == ["SF1234567890123", "6920000000000000001", "JT123456789012"]


def test_pty_no_suffix(virtual_scanner, running_scanner, collector):
    running_scanner("none")
    virtual_scanner.write(b"SF12345")
    virtual_scanner.write(b"67890123")
    assert wait_until(lambda: collector.codes == ["SF1234567890123"])  # the gap ended the code
    virtual_scanner.write(b"6920000000000000001")
    assert wait_until(lambda: collector.codes == ["SF1234567890123", "6920000000000000001"])


def test_pty_over_long_garbage_then_a_good_code(virtual_scanner, running_scanner, collector):
    running_scanner("CR")
    virtual_scanner.write(b"X" * 1000 + b"\r" + b"SF1234567890123\r")
    assert wait_until(lambda: collector.codes == ["SF1234567890123"])


def test_port_is_opened_exclusively(virtual_scanner, running_scanner):
    scanner = running_scanner("CR")
    with pytest.raises(serial.SerialException):
        serial.Serial(scanner.path, exclusive=True)


def test_unplug_backs_off_and_recovers_on_a_new_device(virtual_scanner, running_scanner, collector):
    scanner = running_scanner("CR")
    virtual_scanner.scan("SF1234567890123")
    assert wait_until(lambda: collector.codes == ["SF1234567890123"])

    virtual_scanner.unplug()  # the cable is pulled: the read fails, the port is closed
    virtual_scanner.link.unlink()  # and udev removes the link (else a recycled pty number may open)
    assert wait_until(lambda: scanner.state is ScannerState.RECONNECTING)
    failed = scanner.open_failures
    assert wait_until(lambda: scanner.open_failures >= failed + 3)  # reopen attempts with backoff
    assert scanner.is_alive() and scanner.state is ScannerState.RECONNECTING

    virtual_scanner.plug()  # plugged back in: a new tty behind the same symlink
    assert wait_until(lambda: scanner.state is ScannerState.CONNECTED)
    assert scanner.reconnects == 1
    virtual_scanner.scan("6920000000000000001")
    assert wait_until(lambda: collector.codes == ["SF1234567890123", "6920000000000000001"])
    assert collector.states[:3] == [ScannerState.CONNECTED, ScannerState.RECONNECTING, ScannerState.CONNECTED]


def test_missing_device_at_start_then_appears(tmp_path, collector):
    link = tmp_path / "later"
    scanner = Scanner(str(link), on_code=collector.code, backoff_initial_s=0.02, backoff_max_s=0.05)
    scanner.start()
    try:
        assert wait_until(lambda: scanner.state is ScannerState.RECONNECTING)
        virtual = VirtualScanner(link)
        try:
            assert wait_until(lambda: scanner.state is ScannerState.CONNECTED)
            virtual.scan("SF1234567890123")
            assert wait_until(lambda: collector.codes == ["SF1234567890123"])
        finally:
            scanner.stop()
            virtual.close()
    finally:
        scanner.stop()
    assert scanner.state is ScannerState.DISCONNECTED


def test_thread_starts_in_start_not_init(virtual_scanner, collector):
    before = {t.name for t in threading.enumerate()}
    scanner = Scanner(virtual_scanner.path, on_code=collector.code)
    assert scanner.state is ScannerState.DISCONNECTED
    assert {t.name for t in threading.enumerate()} == before
    scanner.start()
    with pytest.raises(RuntimeError):
        scanner.start()
    scanner.stop()


def test_a_failing_callback_does_not_kill_the_scanner(virtual_scanner):
    seen = []

    def explode(code):
        seen.append(code)
        if len(seen) == 1:
            raise ValueError("boom")

    scanner = Scanner(virtual_scanner.path, on_code=explode)
    scanner.start()
    try:
        assert wait_until(lambda: scanner.state is ScannerState.CONNECTED)
        virtual_scanner.scan("A1")
        virtual_scanner.scan("A2")
        assert wait_until(lambda: seen == ["A1", "A2"])
        assert scanner.is_alive()
    finally:
        scanner.stop()


def test_auto_never_picks_a_tower_light_or_a_serial_bridge():
    light = PortInfo("/dev/ttyACM2", 0x04D8, 0x000A, None, "tower light (CDC)")
    ch9329 = PortInfo("/dev/ttyACM3", 0x1A86, 0x7523, None, "CH340 + CH9329")
    ports = [light, ch9329, *PORTS]
    assert resolve_device("auto", ports, exclude=["/dev/ttyACM2"]) == "/dev/ttyACM1"
    assert resolve_device("auto", [light, ch9329], exclude=["/dev/ttyACM2"]) is None
    assert resolve_device("auto", [light]) == "/dev/ttyACM2"  # not configured as a light: a candidate
    assert resolve_device("/dev/ttyACM2", ports, exclude=["/dev/ttyACM2"]) == "/dev/ttyACM2"  # explicit wins
