"""`shipgate-station` subcommands in-process (run is exercised as a process in test_station_service),
the latency helper for tests/bench, and the station's import boundary."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from station_testkit import ORDER_OK, ORDER_REFUNDED, TOKEN, in_order

from station import cli
from station.bench import build_bench
from station.config import load_config
from station.forwardlog import ForwardLog
from station.virtual import measure_scan_to_print

REPO = Path(__file__).parents[2]


@pytest.fixture(autouse=True)
def _keep_pytest_logging(monkeypatch):
    monkeypatch.setattr(cli, "configure_logging", lambda level: None)


def station_toml(tmp_path, gate_server, printer_port, *, scanner="auto", extra="") -> Path:
    path = tmp_path / "station.toml"
    path.write_text(
        f"""
[server]
url = "{gate_server.url}"
token = "{TOKEN}"
[scanner]
device = "{scanner}"
[printer]
kind = "network"
host = "127.0.0.1"
port = {printer_port}
width = 58
[station]
name = "B-07"
data_dir = "data"
{extra}
""",
        encoding="utf-8",
    )
    return path


def test_check_prints_one_decision(tmp_path, gate_server, capture_printer, capsys):
    config = station_toml(tmp_path, gate_server, capture_printer.port)
    assert cli.main(["check", ORDER_REFUNDED, "--config", str(config)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("BLOCK refunded 已退款 请勿发货\n") and "source:   online" in out
    assert cli.main(["check", ORDER_OK, "--config", str(config)]) == 0
    assert "waybill:  顺丰速运 SF1234567890123" in capsys.readouterr().out
    assert cli.main(["check", "garbage", "--config", str(config)]) == 3
    assert capture_printer.jobs == []  # check prints nothing on paper


def test_bad_config_exits_2_naming_the_key(tmp_path, gate_server, capsys):
    config = station_toml(tmp_path, gate_server, 9100, extra='stale_policy = "maybe"')
    assert cli.main(["check", ORDER_OK, "--config", str(config)]) == 2
    assert (
        'station.toml: [station] stale_policy must be one of hold, trust (got "maybe")'
        in capsys.readouterr().err
    )


def test_test_print(tmp_path, gate_server, capture_printer, capsys):
    config = station_toml(tmp_path, gate_server, capture_printer.port)
    assert cli.main(["test-print", "--config", str(config)]) == 0
    assert capture_printer.wait_for_jobs(1)
    assert in_order(
        capture_printer.output(), "打印测试".encode("gb18030"), b"\x1br\x01", "工位：B-07".encode("gb18030")
    )
    capture_printer.close()
    assert cli.main(["test-print", "--config", str(config)]) == 1
    assert "test print failed" in capsys.readouterr().err


def test_list_ports(capsys):
    assert cli.main(["list-ports"]) == 0
    assert capsys.readouterr().out


def test_console_script_entry_point():
    out = subprocess.run(
        [sys.executable, "-m", "station.cli", "--version"],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        check=True,
    )
    assert out.stdout.startswith("shipgate-station ")


def test_measure_scan_to_print(tmp_path, gate_server, capture_printer):
    def build(scanner_path: str, printer_port: int):
        config = load_config(station_toml(tmp_path, gate_server, printer_port, scanner=scanner_path))
        return build_bench(config, with_display=False)

    latencies = measure_scan_to_print(build, [ORDER_REFUNDED, ORDER_OK, "junk"], workdir=tmp_path)
    # One slip per code (a code without one raises), each measured from its scan: no bound on how
    # fast, which is the benchmark's business (make bench), not a test's.
    assert len(latencies) == 3 and all(s > 0 for s in latencies)


def test_station_never_imports_the_server_flask_or_sqlalchemy():
    script = (
        "import sys\n"
        "import station.bench, station.cli, station.service, station.virtual, station.printer\n"
        "station.printer.load_escpos(sys.argv[1])\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'server', 'flask', 'sqlalchemy', 'waitress'})\n"
        "assert not bad, bad\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    subprocess.run([sys.executable, "-c", script, str(REPO / ".pytest_cache")], env=env, check=True)


def test_run_with_an_unwritable_data_dir_fails_clearly(tmp_path, gate_server, caplog, monkeypatch):
    monkeypatch.setattr("station.service.install_signal_handlers", lambda stop: None)  # keep pytest's
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    config = station_toml(tmp_path, gate_server, 9100, extra="sync_interval_s = 1\n# data_dir below wins\n")
    text = config.read_text().replace('data_dir = "data"', f'data_dir = "{blocker}/data"')
    config.write_text(text)
    assert cli.main(["run", "--config", str(config)]) == 1
    assert "cannot start the station" in caplog.text


def test_check_never_types_into_the_packing_pc(tmp_path, gate_server, capture_printer, gadget, packing_pc):
    config = station_toml(tmp_path, gate_server, capture_printer.port)
    config.write_text(config.read_text() + f'[forward]\nkind = "hidg"\ndevice = "{gadget.path}"\n')
    assert cli.main(["check", ORDER_OK, "--config", str(config)]) == 0
    log = ForwardLog(tmp_path / "data" / "journal.sqlite3")
    assert log.pending() == [] and packing_pc.reports == 0  # nothing typed, nothing even attempted


def test_list_ports_lists_hid_keyboards_too(monkeypatch, capsys):
    from station.hidscanner import InputInfo

    devices = [
        InputInfo("/dev/input/event5", "Honeywell Scanner", 0x0C2E, 0x0B61, usb=True, keyboard=True),
        InputInfo("/dev/input/event3", "WCH CH9329", 0x1A86, 0xE129, usb=True, keyboard=True),
    ]
    monkeypatch.setattr("station.hidscanner.input_devices", lambda: devices)
    assert cli.main(["list-ports"]) == 0
    out = capsys.readouterr().out
    assert "/dev/input/event5\t0c2e:0b61\t-\tHoneywell Scanner (HID keyboard)" in out
    assert "WCH CH9329 (HID keyboard (not a scanner candidate))" in out
