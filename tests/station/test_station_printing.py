"""Slips as real ESC/POS bytes: rendered on escpos's Dummy and received by a TCP printer; the
printer going offline; escpos's import side effects kept in check."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from station_testkit import in_order, network_printer

from shipgate.wire import Decision, Waybill, WaybillItem
from station.decision import Outcome, Source, journal_failed
from station.printer import DeviceSpec, PrinterError, PrinterState, SlipPrinter, device_factory, render
from station.slips import (
    CHINESE_ON,
    RED_OFF,
    RED_ON,
    SlipContext,
    block_slip,
    forward_failed_slip,
    hold_slip,
    pass_slip,
    printer_test_slip,
    slip_for,
    wrap,
)

SCAN_ID = "3f2b8c1e-8d7a-4c36-9a51-0f5b8a3c2d10"
CTX = SlipContext("A-01", "A12", "2024-05-01 16:00:00", 80, red=True, buzzer=True)
BLOCK = Outcome(SCAN_ID, "YT1234567890123", Decision.BLOCK, "refunded", "已退款 请勿发货", Source.ONLINE,
                order_id="6920000000000000001", exception_id="17")  # fmt: skip
HOLD = Outcome(SCAN_ID, "6920000000000000013", Decision.HOLD, "partial_refund",
               "部分商品已退款 请取出退款商品：6920000000000000013", Source.OFFLINE,
               order_id="6920000000000000003", sku_order_ids_out=("6920000000000000013",))  # fmt: skip
WAYBILL = Waybill(
    "SF1234567890123", "顺丰速运", "6920000000000000002", (WaybillItem("6920000000000000012", "蓝色T恤 L"),)
)
PASS = Outcome(SCAN_ID, "6920000000000000002", Decision.PASS, "clear", "可发货", Source.ONLINE,
               order_id="6920000000000000002", waybill=WAYBILL)  # fmt: skip

GS_SIZE = b"\x1d!"
INVERT_ON, INVERT_OFF = b"\x1dB\x01", b"\x1dB\x00"
QR_STORE = b"1P0"  # GS ( k ... cn=1 fn=P m=0: store the QR data
QR_PRINT = b"\x1d(k\x03\x001Q0"
CUT = b"\x1dV"
BUZZER = b"\x1bB"


def gb(text: str) -> bytes:
    return text.encode("gb18030")


def red_slip_in_order(data: bytes) -> bool:
    return in_order(
        data,
        CHINESE_ON,
        RED_ON,
        GS_SIZE + b"\x44",  # 5x5 on 80 mm paper
        INVERT_ON,
        gb("已退款"),
        gb("请勿发货"),
        INVERT_OFF,
        RED_OFF,
        gb("原因：已退款 请勿发货"),
        gb("订单号：6920000000000000001"),
        gb("工位：A-01"),
        gb("操作员：A12"),
        gb("时间：2024-05-01 16:00:00"),
        b"\x1d(k",
        QR_STORE + b"SG-EX-" + SCAN_ID.encode(),
        QR_PRINT,
        CUT,
        BUZZER + b"\x03\x09",
    )


def test_block_slip_bytes_in_order():
    assert red_slip_in_order(render(block_slip(BLOCK, CTX)))


def test_block_slip_on_black_only_paper_is_still_huge_and_inverted():
    data = render(block_slip(BLOCK, SlipContext("A-01", None, "t", 58, red=False, buzzer=False)))
    assert RED_ON not in data and BUZZER not in data
    assert in_order(data, CHINESE_ON, GS_SIZE + b"\x33", INVERT_ON, gb("已退款"), INVERT_OFF, CUT)
    assert gb("操作员：未登录") in data


def test_hold_slip_is_distinct():
    data = render(hold_slip(HOLD, CTX))
    assert RED_ON not in data and INVERT_ON not in data
    assert in_order(data, CHINESE_ON, GS_SIZE + b"\x22", gb("暂停发货"), gb("部分商品已退款 请取出退款商品"))
    assert in_order(data, gb("6920000000000000013"), gb("离线判定"), QR_STORE + b"SG-EX-", CUT, BUZZER)


def test_hold_without_scan_id_has_no_qr():
    data = render(slip_for(journal_failed("SF1234567890123", disk_full=True), CTX))
    assert gb("磁盘已满") in data and b"\x1d(k" not in data and gb("本地判定") in data


def test_pass_slip_is_a_check_slip_listing_the_goods_never_a_waybill():
    data = render(pass_slip(PASS, CTX))
    assert in_order(data, CHINESE_ON, gb("可发货"), gb("核对单 非运单"), gb("订单号：6920000000000000002"))
    assert in_order(data, gb("运单号：SF1234567890123"), gb("· 蓝色T恤 L ×1"), CUT)
    assert b"\x1dk" not in data  # no tracking barcode a courier could scan
    assert gb("顺丰速运") not in data  # no carrier banner
    assert RED_ON not in data and BUZZER not in data


def test_pass_slip_without_waybill_says_ok_to_ship():
    data = render(
        pass_slip(
            Outcome(SCAN_ID, "6920000000000000002", Decision.PASS, "clear", "可发货", Source.OFFLINE), CTX
        )
    )
    assert in_order(data, CHINESE_ON, GS_SIZE + b"\x22", gb("可发货"), gb("离线判定"), CUT)
    assert b"\x1dk" not in data


def test_forward_failed_slip_says_the_waybill_did_not_print():
    data = render(forward_failed_slip(PASS, CTX))
    assert in_order(
        data, CHINESE_ON, gb("转发失败"), gb("运单未打印"), gb("订单号：6920000000000000002"), CUT
    )
    assert BUZZER in data and b"\x1dk" not in data


def test_full_width_punctuation_prints_as_gb18030_not_question_marks():
    data = render(printer_test_slip(CTX, "dummy"))
    assert gb("【】、：，。") in data and b"??" not in data


def test_wrap_counts_chinese_as_two_columns():
    assert wrap("订单号：6920000000000000001", 32) == ["订单号：6920000000000000001"]
    assert wrap("", 10) == [""]


def test_wrap_never_splits_an_id_that_fits_on_a_line():
    assert wrap("订单号：6920000000000000001", 24) == ["订单号：", "6920000000000000001"]
    assert wrap("请取出：4900000000000000009、4900000000000000010", 24) == [
        "请取出：",
        "4900000000000000009、",
        "4900000000000000010",
    ]
    assert wrap("x" * 20, 8) == ["xxxxxxxx", "xxxxxxxx", "xxxx"]


def test_network_printer_receives_the_same_bytes(capture_printer):
    printer = network_printer(capture_printer.port)
    printer.print_now(block_slip(BLOCK, CTX))
    assert capture_printer.wait_for_jobs(1)
    assert red_slip_in_order(capture_printer.output())
    assert capture_printer.output() == render(block_slip(BLOCK, CTX))
    assert printer.state is PrinterState.READY and printer.printed == 1


def test_printer_offline_is_a_printer_error_and_a_state(capture_printer):
    states = []
    printer = network_printer(capture_printer.port, on_state=states.append)
    capture_printer.close()
    with pytest.raises(PrinterError):
        printer.print_now(block_slip(BLOCK, CTX))
    assert printer.state is PrinterState.OFFLINE and printer.last_error
    printer.start()
    assert printer.submit(block_slip(BLOCK, CTX))  # the spooler swallows the failure
    assert printer.drain(5) and printer.failed == 2 and printer.is_alive()
    printer.stop()
    assert states == [PrinterState.OFFLINE]


def test_spooler_prints_in_order(capture_printer):
    printer = network_printer(capture_printer.port)
    printer.start()
    for outcome in (BLOCK, HOLD, PASS):
        printer.submit(slip_for(outcome, CTX))
    printer.stop()
    assert capture_printer.wait_for_jobs(3)
    assert in_order(capture_printer.output(), gb("已退款"), gb("暂停发货"), gb("核对单 非运单"))


def test_file_and_dummy_printers(tmp_path):
    path = tmp_path / "lp0"
    path.touch()
    file_printer = SlipPrinter(device_factory(DeviceSpec(kind="file", path=str(path))))
    file_printer.print_now(hold_slip(HOLD, CTX))
    assert gb("暂停发货") in path.read_bytes()

    factory = device_factory(DeviceSpec(kind="dummy"))
    dummy_printer = SlipPrinter(factory)
    dummy_printer.print_now(block_slip(BLOCK, CTX))
    dummy_printer.print_now(hold_slip(HOLD, CTX))
    assert in_order(factory().output, gb("已退款"), gb("暂停发货"))


def test_missing_file_device_is_a_printer_error(tmp_path):
    printer = SlipPrinter(device_factory(DeviceSpec(kind="file", path=str(tmp_path / "no" / "lp0"))))
    with pytest.raises(PrinterError):
        printer.print_now(hold_slip(HOLD, CTX))


def test_escpos_import_leaves_logging_alone_and_pickles_where_told(tmp_path):
    script = (
        "import logging, sys\n"
        "from station.printer import load_escpos\n"
        f"load_escpos({str(tmp_path / 'pickles')!r})\n"
        "assert logging.getLogger().handlers == [], logging.getLogger().handlers\n"
        "assert logging.getLogger().level == logging.WARNING\n"
        "import os; print(os.listdir(os.environ['ESCPOS_CAPABILITIES_PICKLE_DIR']))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "ESCPOS_CAPABILITIES_PICKLE_DIR"}
    env["PYTHONPATH"] = str(Path(__file__).parents[2])
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    assert "capabilities.pickle" in out.stdout
