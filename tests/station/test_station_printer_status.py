"""Printer health by ESC/POS real-time status (DLE EOT n), against a real TCP capture printer."""

from __future__ import annotations

import socket
import threading

import pytest
from polling import wait_until

from station.printer import DeviceSpec, PrinterState, SlipPrinter, decode_status, device_factory
from station.slips import Text
from station.virtual import CapturePrinter

FINE = {1: 0x12, 2: 0x12, 4: 0x12}


@pytest.mark.parametrize(
    ("answers", "state"),
    [
        (FINE, PrinterState.READY),
        ({1: 0x12, 2: 0x12, 4: 0x72}, PrinterState.PAPER_OUT),  # roll paper end (bits 5-6)
        ({1: 0x12, 2: 0x32, 4: 0x12}, PrinterState.PAPER_OUT),  # paper-end stop (bit 5)
        ({1: 0x1A, 2: 0x16, 4: 0x12}, PrinterState.COVER_OPEN),  # offline, cover open (bit 2)
        ({1: 0x1A, 2: 0x12, 4: 0x12}, PrinterState.OFFLINE),  # offline, cause unknown
        ({1: 0x12, 2: 0x12, 4: 0x1E}, PrinterState.PAPER_NEAR_END),  # bits 2-3
        ({}, None),  # no answer: unknown
        ({1: 0xFF}, None),  # not a status byte (bits 0/7 set): ignored
    ],
)
def test_decode_status(answers, state):
    assert decode_status(answers) is state


def _printer(port: int, **kwargs) -> SlipPrinter:
    spec = DeviceSpec(kind="network", host="127.0.0.1", port=port, timeout_s=1.0)
    return SlipPrinter(device_factory(spec), status_queries=True, status_timeout_s=0.3, **kwargs)


def test_a_printer_answering_paper_out_is_an_alarm_after_the_slip():
    capture = CapturePrinter(status={1: 0x12, 2: 0x32, 4: 0x72})
    try:
        printer = _printer(capture.port)
        printer.print_now([Text("测试\n")])
        assert printer.state is PrinterState.PAPER_OUT
        assert printer.status_answers == {1: 0x12, 2: 0x32, 4: 0x72}
        assert capture.wait_for_jobs(1)
        data = capture.output()
        assert "测试".encode("gb18030") in data and data.endswith(b"\x10\x04\x01\x10\x04\x02\x10\x04\x04")
        capture.status = FINE  # paper loaded
        assert printer.check_status() is PrinterState.READY
    finally:
        capture.close()


def test_a_printer_that_never_answers_is_unknown_not_an_alarm():
    capture = CapturePrinter(status=None)
    try:
        printer = _printer(capture.port)
        assert printer.check_status() is PrinterState.UNKNOWN
        printer.print_now([Text("x\n")])
        assert printer.state is PrinterState.READY  # the bytes were taken
        assert printer.check_status() is PrinterState.READY  # silence changes nothing
    finally:
        capture.close()


def test_a_printer_that_stops_taking_bytes_is_offline():
    capture = CapturePrinter(status=FINE)
    printer = _printer(capture.port)
    assert printer.check_status() is PrinterState.READY
    capture.close()
    assert printer.check_status() is PrinterState.OFFLINE


def test_a_printer_that_accepts_but_stops_answering_keeps_its_last_known_state():
    """A listener that takes the connection and never reads or answers (a wedged printer)."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    threading.Thread(target=lambda: held.append(server.accept()[0]), daemon=True).start()
    try:
        printer = _printer(server.getsockname()[1])
        assert printer.check_status() is PrinterState.UNKNOWN
    finally:
        for conn in held:
            conn.close()
        server.close()


def test_the_idle_poll_notices_paper_out_without_a_slip():
    capture = CapturePrinter(status=FINE)
    seen: list[PrinterState] = []
    printer = _printer(capture.port, status_interval_s=0.05, on_state=seen.append)
    printer.start()
    try:
        assert wait_until(lambda: printer.state is PrinterState.READY)
        capture.status = {1: 0x12, 2: 0x32, 4: 0x72}
        assert wait_until(lambda: printer.state is PrinterState.PAPER_OUT)
        assert seen[:2] == [PrinterState.READY, PrinterState.PAPER_OUT]
    finally:
        printer.stop()
        capture.close()
