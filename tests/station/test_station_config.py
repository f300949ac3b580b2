"""station.toml: every key parsed into frozen dataclasses; every mistake named by file, section and key."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from shipgate.wire import ScanMode
from station.config import ConfigError, LightConfig, ScreenConfig, VoiceConfig, load_config, parse_config

FULL = """
[server]
url = "http://10.0.0.5:8080/"
token = "t0k3n"
insecure_http = true
budget_ms = 250
heartbeat_s = 15
sync_timeout_s = 8

[scanner]
device = "1a86:7523"
baud = 115200
suffix = "CRLF"
frame_gap_ms = 40
reconnect_max_s = 3

[printer]
kind = "network"
host = "10.0.0.9"
port = 9101
width = 58
red = false
buzzer = false
timeout_s = 2

[station]
name = "A-01"
data_dir = "data"
mode = "handover"
replica_max_age_s = 300
stale_policy = "trust"
sync_interval_s = 2

[display]
enabled = false
style = "plain"
"""

MINIMAL = """
[server]
token = "t"
[printer]
kind = "dummy"
[station]
name = "A-01"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "station.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_for(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    return str(info.value)


def test_full_file(tmp_path):
    config = load_config(write(tmp_path, FULL))
    assert config.server.url == "http://10.0.0.5:8080" and config.server.insecure_http is True
    assert config.server.budget_ms == 250 and config.server.heartbeat_s == 15.0
    assert config.scanner.device == "1a86:7523" and config.scanner.suffix == "CRLF"
    assert config.printer.kind == "network" and config.printer.port == 9101 and config.printer.width == 58
    assert config.printer.red is False
    assert config.station.mode is ScanMode.HANDOVER
    assert config.station.data_dir == tmp_path / "data"  # relative to the file
    assert config.station.stale_policy == "trust"
    assert config.display.enabled is False
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.server.token = "x"


def test_defaults(tmp_path):
    config = load_config(write(tmp_path, MINIMAL))
    assert config.server.url == "http://127.0.0.1:8080"
    assert (config.server.budget_ms, config.server.heartbeat_s) == (300, 30.0)
    assert (config.scanner.device, config.scanner.baud, config.scanner.suffix) == ("auto", 9600, "CR")
    assert (config.printer.width, config.printer.red) == (80, True)
    st = config.station
    assert (st.mode, st.replica_max_age_s, st.stale_policy, st.sync_interval_s) == (
        ScanMode.BENCH,
        600,
        "hold",
        5,
    )
    assert st.data_dir == Path("/var/lib/shipgate-station")
    assert config.display.enabled is True


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ('[scanner]\nsuffix = "X"\n', ""),
            'station.toml: [scanner] suffix must be one of CR, LF, CRLF, none (got "X")',
        ),
        (('token = "t"\n', ""), "station.toml: [server] token is required"),
        (('token = "t"\n', 'token = "t"\ntoken_typo = 1\n'), "station.toml: [server] unknown key token_typo"),
        (
            ('token = "t"\n', 'token = "t"\nbudget_ms = "300"\n'),
            '[server] budget_ms must be an integer (got "300")',
        ),
        (
            ('token = "t"\n', 'token = "t"\nbudget_ms = true\n'),
            "[server] budget_ms must be an integer (got true)",
        ),
        (('token = "t"\n', 'token = "t"\nbudget_ms = 5\n'), "[server] budget_ms must be at least 20 (got 5)"),
        (
            ('token = "t"\n', 'token = "t"\nurl = "ftp://x"\n'),
            "[server] url must start with http:// or https://",
        ),
        (
            ('kind = "dummy"\n', 'kind = "laser"\n'),
            "[printer] kind must be one of usb, serial, network, file, dummy",
        ),
        (('kind = "dummy"\n', 'kind = "network"\n'), "[printer] host is required"),
        (
            ('kind = "dummy"\n', 'kind = "usb"\nvendor_id = "zz"\nproduct_id = 1\n'),
            "[printer] vendor_id must be a USB id",
        ),
        (
            ('kind = "dummy"\n', 'kind = "usb"\nhost = "x"\n'),
            '[printer] host is only used with kind = "network"',
        ),
        (
            ('kind = "dummy"\n', 'kind = "dummy"\nwidth = 70\n'),
            "[printer] width must be one of 58, 80 (got 70)",
        ),
        (
            ('name = "A-01"\n', 'name = "A-01"\nmode = "packing"\n'),
            "[station] mode must be one of bench, handover",
        ),
        (
            ('name = "A-01"\n', 'name = "A-01"\nstale_policy = "yolo"\n'),
            "[station] stale_policy must be one of hold",
        ),
        (('name = "A-01"\n', 'name = "  "\n'), "[station] name must be a non-empty string"),
        (("[printer]\n", "[printers]\n"), "station.toml: unknown section [printers]"),
        (('kind = "dummy"\n', ""), "station.toml: [printer] kind is required"),
    ],
)
def test_errors_name_the_key(tmp_path, edit, message):
    old, new = edit
    text = MINIMAL + old if old.startswith("[scanner]") else MINIMAL.replace(old, new, 1)
    assert message in error_for(tmp_path, text)


def test_usb_ids_in_hex(tmp_path):
    text = MINIMAL.replace('kind = "dummy"', 'kind = "usb"\nvendor_id = "0x0416"\nproduct_id = 0x5011')
    config = load_config(write(tmp_path, text))
    assert (config.printer.vendor_id, config.printer.product_id) == (0x0416, 0x5011)


def test_not_toml_and_missing_file(tmp_path):
    assert "station.toml: not valid TOML" in error_for(tmp_path, "[server\n")
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.toml")


def test_parse_config_takes_a_document():
    config = parse_config({"server": {"token": "t"}, "printer": {"kind": "dummy"}, "station": {"name": "B"}})
    assert config.station.name == "B"


def test_the_example_file_parses_with_the_defaults():
    example = Path(__file__).parents[2] / "station" / "station.example.toml"
    config = load_config(example)
    assert config.printer.kind == "network" and config.server.budget_ms == 300
    assert config.station.data_dir == Path("/var/lib/shipgate-station")
    assert (config.screen, config.voice, config.light) == (ScreenConfig(), VoiceConfig(), LightConfig())


def test_alert_sections(tmp_path):
    config = load_config(
        write(
            tmp_path,
            MINIMAL
            + '[screen]\nport = 0\n[voice]\nenabled = true\ndir = "own"\n'
            + '[light]\nkind = "serial"\ndevice = "/dev/tower"\nred = "1b 41"\nack_code = "SG-ACK-1"\n',
        )
    )
    assert config.screen.port == 0 and config.screen.enabled
    assert (
        config.voice.enabled
        and config.voice.dir == tmp_path / "own"
        and config.voice.command == "aplay -q {file}"
    )
    assert (
        config.light.red == b"\x1b\x41"
        and config.light.green == b"\x14"
        and config.light.ack_code == "SG-ACK-1"
    )
    assert config.printer.status and config.printer.status_interval_s == 10


# -- the inline gate: [scanner] kind, [forward], [printer] on_pass -----------------------------


def test_existing_configs_keep_serial_scanning_no_forwarding_and_a_pass_slip(tmp_path):
    config = load_config(write(tmp_path, MINIMAL))
    assert config.scanner.kind == "serial"
    assert config.forward.kind == "none" and config.printer.on_pass == "slip"


def test_forwarding_turns_the_pass_slip_off_by_default(tmp_path):
    config = load_config(write(tmp_path, MINIMAL + '[forward]\nkind = "hidg"\n'))
    assert (config.forward.kind, config.forward.device, config.forward.suffix) == (
        "hidg",
        "/dev/hidg0",
        "enter",
    )
    assert config.printer.on_pass == "none"
    text = (
        MINIMAL.replace('kind = "dummy"', 'kind = "dummy"\non_pass = "slip"') + '[forward]\nkind = "hidg"\n'
    )
    assert load_config(write(tmp_path, text)).printer.on_pass == "slip"


def test_ch9329_and_hid_scanner(tmp_path):
    text = MINIMAL + (
        '[scanner]\nkind = "hid"\ndevice = "/dev/input/by-id/usb-scanner-event-kbd"\n'
        '[forward]\nkind = "ch9329"\ndevice = "/dev/ttyUSB0"\nbaud = 115200\nsuffix = "tab"\nkey_delay_ms = 2\n'
    )
    config = load_config(write(tmp_path, text))
    assert config.scanner.kind == "hid" and config.scanner.device.endswith("event-kbd")
    fc = config.forward
    assert (fc.kind, fc.device, fc.baud, fc.suffix, fc.key_delay_ms) == (
        "ch9329",
        "/dev/ttyUSB0",
        115200,
        "tab",
        2,
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('[forward]\nkind = "usb"\n', '[forward] kind must be one of none, hidg, ch9329 (got "usb")'),
        ('[forward]\nkind = "ch9329"\n', "[forward] device is required"),
        ('[forward]\nkind = "hidg"\nbaud = 9600\n', '[forward] baud is only used with kind = "ch9329"'),
        (
            '[forward]\nkind = "ch9329"\ndevice = "/dev/ttyUSB0"\nbaud = 1234\n',
            "[forward] baud must be one of",
        ),
        ('[forward]\nsuffix = "CR"\n', "[forward] suffix must be one of enter, tab, none"),
        ("[forward]\nkey_delay_ms = -1\n", "[forward] key_delay_ms must be at least 0"),
        ('[scanner]\nkind = "bluetooth"\n', '[scanner] kind must be one of serial, hid (got "bluetooth")'),
        ('[scanner]\nkind = "hid"\nbaud = 9600\n', '[scanner] baud is only used with kind = "serial"'),
    ],
)
def test_inline_gate_mistakes_are_named(tmp_path, extra, message):
    assert message in error_for(tmp_path, MINIMAL + extra)


def test_printer_on_pass_is_checked(tmp_path):
    text = MINIMAL.replace('kind = "dummy"', 'kind = "dummy"\non_pass = "waybill"')
    assert '[printer] on_pass must be one of none, slip (got "waybill")' in error_for(tmp_path, text)


def test_no_forwarding_at_a_handover_station(tmp_path):
    text = MINIMAL.replace('name = "A-01"', 'name = "A-01"\nmode = "handover"') + '[forward]\nkind = "hidg"\n'
    assert '[forward] kind must be "none" at a handover station' in error_for(tmp_path, text)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('[light]\nkind = "serial"\n', "[light] device is required"),
        ('[light]\nred = "zz"\n', "[light] red must be bytes in hex"),
        ('[voice]\ncommand = "aplay"\n', "[voice] command must contain {file}"),
        ("[screen]\nport = 70000\n", "[screen] port must be at most 65535"),
        ("[screen]\nbright = true\n", "[screen] unknown key bright"),
        ('[light]\nkind = "usb"\n', "[light] kind must be one of none, serial"),
    ],
)
def test_alert_settings_errors_name_the_key(tmp_path, extra, message):
    assert message in error_for(tmp_path, MINIMAL + extra)


# -- the token never crosses the network in clear by accident -----------------------------------------


def _server_section(body: str) -> dict:
    import tomllib

    return tomllib.loads(body + '\n[printer]\nkind = "dummy"\n[station]\nname = "A-01"\n')


@pytest.mark.parametrize("url", ["http://10.0.0.5:8080", "http://shipgate.lan", "http://[fd00::1]:8080"])
def test_plain_http_to_another_machine_is_refused_with_a_clear_message(url):
    with pytest.raises(
        ConfigError, match=r"\[server\] url.*http:// to another machine sends the station token"
    ):
        parse_config(_server_section(f'[server]\nurl = "{url}"\ntoken = "t"'))


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080",
                                 "https://shipgate.lan"])  # fmt: skip
def test_https_and_this_machine_need_no_exception(url):
    assert parse_config(_server_section(f'[server]\nurl = "{url}"\ntoken = "t"')).server.url == url


def test_insecure_http_is_an_explicit_choice():
    config = parse_config(
        _server_section('[server]\nurl = "http://10.0.0.5"\ntoken = "t"\ninsecure_http = true')
    )
    assert config.server.insecure_http is True and config.server.verify is True


def test_a_ca_file_is_read_relative_to_the_config_and_must_load(tmp_path):
    (tmp_path / "station.toml").write_text(
        '[server]\nurl = "https://shipgate.lan"\ntoken = "t"\nca_file = "ca.pem"\n'
        '[printer]\nkind = "dummy"\n[station]\nname = "A-01"\n'
    )
    with pytest.raises(ConfigError, match=r"ca_file.*cannot load the CA certificate"):
        load_config(tmp_path / "station.toml")
