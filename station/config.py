"""station.toml -> frozen dataclasses, validated once, at start-up.

Only the composition root (cli.py / bench.build_bench) calls `load_config`; every other module takes
plain values or objects. A bad or missing setting raises `ConfigError` with a message naming the
file, the section and the key, e.g.

    station.toml: [scanner] suffix must be one of CR, LF, CRLF, none (got "X")

Unknown sections and keys are errors too (a typo must not silently fall back to a default).
"""

from __future__ import annotations

import ipaddress
import json
import ssl
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from shipgate.wire import ScanMode
from station.decision import StalePolicy

SUFFIXES = ("CR", "LF", "CRLF", "none")
PRINTER_KINDS = ("usb", "serial", "network", "file", "dummy")
SCANNER_KINDS = ("serial", "hid")
FORWARD_KINDS = ("none", "hidg", "ch9329")
FORWARD_SUFFIXES = ("enter", "tab", "none")
ON_PASS = ("none", "slip")
CH9329_BAUDS = (1200, 2400, 4800, 9600, 14400, 19200, 38400, 57600, 115200)
DISPLAY_STYLES = ("auto", "ansi", "plain")
PAPER_WIDTHS = (58, 80)


class ConfigError(Exception):
    """A setting is missing or wrong; the message names the key and is meant for IT."""


@dataclass(frozen=True)
class ServerConfig:
    url: str
    token: str
    budget_ms: int = 300
    heartbeat_s: float = 30.0
    sync_timeout_s: float = 10.0
    insecure_http: bool = False  # allow http:// to a host that is not this machine (the token goes in clear)
    ca_file: str | None = None  # PEM file of the CA that signed the server's certificate (a private CA)

    @property
    def verify(self) -> ssl.SSLContext | bool:
        """What the HTTP client checks the server's certificate against: the CA file, else the
        system's trust store."""
        return ssl.create_default_context(cafile=self.ca_file) if self.ca_file else True


@dataclass(frozen=True)
class ScannerConfig:
    kind: str = "serial"  # serial | hid (a keyboard-class input device, read through evdev)
    device: str = "auto"
    baud: int = 9600
    suffix: str = "CR"
    frame_gap_ms: int = 50
    reconnect_max_s: float = 5.0


@dataclass(frozen=True)
class PrinterConfig:
    kind: str
    host: str | None = None
    port: int = 9100
    vendor_id: int | None = None
    product_id: int | None = None
    device: str | None = None
    baud: int = 9600
    path: str | None = None
    width: int = 80
    red: bool = True
    buzzer: bool = True
    profile: str | None = None
    timeout_s: float = 3.0
    on_pass: str = "slip"  # none | slip (可发货 check slip); default none when forwarding is on
    status: bool = True  # ask DLE EOT (network, serial, usb)
    status_interval_s: float = 10.0


@dataclass(frozen=True)
class StationConfig:
    name: str | None  # None: the name the station was enrolled with (from the server, cached)
    data_dir: Path
    mode: ScanMode = ScanMode.BENCH
    replica_max_age_s: float = 600.0
    stale_policy: StalePolicy = StalePolicy.HOLD
    sync_interval_s: float = 5.0


@dataclass(frozen=True)
class DisplayConfig:
    enabled: bool = True
    style: str = "auto"


@dataclass(frozen=True)
class ForwardConfig:
    """[forward]: typing a PASS into the packing PC as a USB keyboard (the inline gate)."""

    kind: str = "none"  # none | hidg | ch9329
    device: str = "/dev/hidg0"
    baud: int = 9600
    suffix: str = "enter"
    key_delay_ms: int = 0


@dataclass(frozen=True)
class ScreenConfig:
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 8765


@dataclass(frozen=True)
class VoiceConfig:
    enabled: bool = False
    command: str = "aplay -q {file}"
    dir: Path | None = None  # the merchant's own recordings, tried before the generated prompts
    prompts_dir: Path | None = None  # the generated prompts (default: <data_dir>/voice)
    on_pass: bool = False


# Defaults: the common single-byte USB-serial tower lights (e.g. Adafruit 5125).
LIGHT_DEFAULTS = {"red": "11", "yellow": "12", "green": "14", "off": "21 22 24 28", "buzzer": "18"}


@dataclass(frozen=True)
class LightConfig:
    kind: str = "none"
    device: str | None = None
    baud: int = 9600
    red: bytes = bytes.fromhex(LIGHT_DEFAULTS["red"])
    yellow: bytes = bytes.fromhex(LIGHT_DEFAULTS["yellow"])
    green: bytes = bytes.fromhex(LIGHT_DEFAULTS["green"])
    off: bytes = bytes.fromhex(LIGHT_DEFAULTS["off"])
    buzzer: bytes = bytes.fromhex(LIGHT_DEFAULTS["buzzer"])
    green_s: float = 2.0
    ack_code: str | None = None


@dataclass(frozen=True)
class Config:
    server: ServerConfig
    scanner: ScannerConfig
    printer: PrinterConfig
    station: StationConfig
    display: DisplayConfig
    forward: ForwardConfig = ForwardConfig()
    screen: ScreenConfig = ScreenConfig()
    voice: VoiceConfig = VoiceConfig()
    light: LightConfig = LightConfig()


def load_config(path: str | Path) -> Config:
    """Read and validate a station.toml. Relative data_dir/path settings are relative to the file."""
    path = Path(path)
    label = path.name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{label}: cannot read {path}: {exc.strerror or exc}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{label}: not valid TOML: {exc}") from exc
    return parse_config(data, source=label, base_dir=path.resolve().parent)


def parse_config(
    data: dict[str, Any], *, source: str = "station.toml", base_dir: Path | None = None
) -> Config:
    """Validate an already-parsed TOML document."""
    base_dir = base_dir or Path.cwd()
    known = {"server", "scanner", "printer", "station", "display", "forward"}
    known |= {"screen", "voice", "light"}
    for name in data:
        if name not in known:
            raise ConfigError(
                f"{source}: unknown section [{name}] (expected one of {', '.join(sorted(known))})"
            )
    sections = {}
    for name in known:
        value = data.get(name, {})
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: [{name}] must be a table")
        sections[name] = _Section(source, name, value)
    forward = _forward(sections["forward"])
    config = Config(
        server=_server(sections["server"], base_dir),
        scanner=_scanner(sections["scanner"]),
        printer=_printer(sections["printer"], base_dir, forwarding=forward.kind != "none"),
        station=_station(sections["station"], base_dir),
        display=_display(sections["display"]),
        forward=forward,
        screen=_screen(sections["screen"]),
        voice=_voice(sections["voice"], base_dir),
        light=_light(sections["light"]),
    )
    for section in sections.values():
        section.reject_unknown()
    if forward.kind != "none" and config.station.mode is ScanMode.HANDOVER:
        raise ConfigError(
            f'{source}: [forward] kind must be "none" at a handover station (no packing PC there)'
        )
    if forward.kind == "ch9329" and config.light.kind == "serial" and config.light.device == forward.device:
        raise ConfigError(
            f"{source}: [light] device and [forward] device are the same port ({forward.device})"
        )
    return config


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _server(s: _Section, base_dir: Path) -> ServerConfig:
    url = s.string("url", default="http://127.0.0.1:8080")
    if not url.startswith(("http://", "https://")):
        raise s.error("url", "must start with http:// or https://", url)
    insecure = s.boolean("insecure_http", default=False)
    if url.startswith("http://") and not insecure and not _loopback(urlsplit(url).hostname or ""):
        raise s.error(
            "url",
            "http:// to another machine sends the station token in clear: use https:// (README, TLS"
            " between stations and the server) or set insecure_http = true on a trusted network",
            url,
        )
    ca_file = s.string("ca_file", default="") or None
    if ca_file is not None:
        ca_file = str(base_dir / ca_file)
        try:
            ssl.create_default_context(cafile=ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise s.error("ca_file", f"cannot load the CA certificate: {exc}", ca_file) from exc
    return ServerConfig(
        url=url.rstrip("/"),
        token=s.string("token"),
        budget_ms=s.integer("budget_ms", default=300, low=20, high=10_000),
        heartbeat_s=s.number("heartbeat_s", default=30.0, low=1, high=3600),
        sync_timeout_s=s.number("sync_timeout_s", default=10.0, low=0.5, high=300),
        insecure_http=insecure,
        ca_file=ca_file,
    )


def _scanner(s: _Section) -> ScannerConfig:
    kind = s.choice("kind", SCANNER_KINDS, default="serial")
    if kind == "hid":
        for key in ("baud", "suffix", "frame_gap_ms"):
            if key in s.values:
                raise s.error(
                    key, 'is only used with kind = "serial" (a HID scanner ends codes with Enter or Tab)'
                )
    return ScannerConfig(
        kind=kind,
        device=s.string("device", default="auto"),
        baud=s.integer("baud", default=9600, low=300, high=4_000_000),
        suffix=s.choice("suffix", SUFFIXES, default="CR"),
        frame_gap_ms=s.integer("frame_gap_ms", default=50, low=5, high=2000),
        reconnect_max_s=s.number("reconnect_max_s", default=5.0, low=0.1, high=300),
    )


_PRINTER_KEYS_BY_KIND = {
    "host": "network",
    "port": "network",
    "vendor_id": "usb",
    "product_id": "usb",
    "device": "serial",
    "baud": "serial",
    "path": "file",
}


def _printer(s: _Section, base_dir: Path, *, forwarding: bool = False) -> PrinterConfig:
    kind = s.choice("kind", PRINTER_KINDS)
    for key, owner in _PRINTER_KEYS_BY_KIND.items():
        if key in s.values and owner != kind:
            raise s.error(key, f'is only used with kind = "{owner}"')
    values: dict[str, Any] = {"kind": kind}
    if kind == "network":
        values["host"] = s.string("host")
        values["port"] = s.integer("port", default=9100, low=1, high=65535)
    elif kind == "usb":
        values["vendor_id"] = s.hex_id("vendor_id")
        values["product_id"] = s.hex_id("product_id")
    elif kind == "serial":
        values["device"] = s.string("device")
        values["baud"] = s.integer("baud", default=9600, low=300, high=4_000_000)
    elif kind == "file":
        values["path"] = str(base_dir / s.string("path"))
    values["width"] = s.integer("width", default=80, choices=PAPER_WIDTHS)
    values["red"] = s.boolean("red", default=True)
    values["buzzer"] = s.boolean("buzzer", default=True)
    values["profile"] = s.string("profile", default=None)
    values["timeout_s"] = s.number("timeout_s", default=3.0, low=0.1, high=60)
    values["on_pass"] = s.choice("on_pass", ON_PASS, default="none" if forwarding else "slip")
    values["status"] = s.boolean("status", default=True)
    values["status_interval_s"] = s.number("status_interval_s", default=10.0, low=1, high=3600)
    return PrinterConfig(**values)


def _station(s: _Section, base_dir: Path) -> StationConfig:
    mode = s.choice("mode", tuple(m.value for m in ScanMode), default=ScanMode.BENCH.value)
    return StationConfig(
        name=s.string("name", default=None),
        data_dir=base_dir / s.string("data_dir", default="/var/lib/shipgate-station"),
        mode=ScanMode(mode),
        replica_max_age_s=s.number("replica_max_age_s", default=600.0, low=1, high=30 * 86400),
        stale_policy=StalePolicy(
            s.choice("stale_policy", tuple(StalePolicy), default=StalePolicy.HOLD.value)
        ),
        sync_interval_s=s.number("sync_interval_s", default=5.0, low=0.05, high=3600),
    )


def _display(s: _Section) -> DisplayConfig:
    return DisplayConfig(
        enabled=s.boolean("enabled", default=True),
        style=s.choice("style", DISPLAY_STYLES, default="auto"),
    )


def _forward(s: _Section) -> ForwardConfig:
    kind = s.choice("kind", FORWARD_KINDS, default="none")
    if kind != "ch9329" and "baud" in s.values:
        raise s.error("baud", 'is only used with kind = "ch9329"')
    default_device = "/dev/hidg0" if kind != "ch9329" else _MISSING  # a CH9329's port must be named
    return ForwardConfig(
        kind=kind,
        device=s.string("device", default=default_device),
        baud=s.integer("baud", default=9600, choices=CH9329_BAUDS),
        suffix=s.choice("suffix", FORWARD_SUFFIXES, default="enter"),
        key_delay_ms=s.integer("key_delay_ms", default=0, low=0, high=1000),
    )


def _screen(s: _Section) -> ScreenConfig:
    return ScreenConfig(
        enabled=s.boolean("enabled", default=True),
        host=s.string("host", default="127.0.0.1"),
        port=s.integer("port", default=8765, low=0, high=65535),
    )


def _voice(s: _Section, base_dir: Path) -> VoiceConfig:
    command = s.string("command", default="aplay -q {file}")
    if "{file}" not in command:
        raise s.error("command", "must contain {file}", command)
    own = s.string("dir", default=None)
    prompts = s.string("prompts_dir", default=None)
    return VoiceConfig(
        enabled=s.boolean("enabled", default=False),
        command=command,
        dir=None if own is None else base_dir / own,
        prompts_dir=None if prompts is None else base_dir / prompts,
        on_pass=s.boolean("on_pass", default=False),
    )


def _light(s: _Section) -> LightConfig:
    kind = s.choice("kind", ("none", "serial"), default="none")
    values: dict[str, Any] = {"kind": kind}
    if kind == "serial":
        values["device"] = s.string("device")
        values["baud"] = s.integer("baud", default=9600, low=300, high=4_000_000)
    for key, default in LIGHT_DEFAULTS.items():
        values[key] = s.hex_bytes(key, default)
    values["green_s"] = s.number("green_s", default=2.0, low=0, high=60)
    values["ack_code"] = s.string("ack_code", default=None)
    return LightConfig(**values)


_MISSING = object()


class _Section:
    """One TOML table, with typed getters that name the key in every error."""

    def __init__(self, source: str, name: str, values: dict[str, Any]) -> None:
        self.source = source
        self.name = name
        self.values = values
        self.seen: set[str] = set()

    def error(self, key: str, problem: str, got: Any = _MISSING) -> ConfigError:
        text = f"{self.source}: [{self.name}] {key} {problem}"
        if got is not _MISSING:
            text += f" (got {_show(got)})"
        return ConfigError(text)

    def reject_unknown(self) -> None:
        for key in self.values:
            if key not in self.seen:
                raise ConfigError(f"{self.source}: [{self.name}] unknown key {key}")

    def _get(self, key: str, default: Any) -> Any:
        self.seen.add(key)
        if key in self.values:
            return self.values[key]
        if default is _MISSING:
            raise self.error(key, "is required")
        return default

    def string(self, key: str, default: Any = _MISSING) -> Any:
        value = self._get(key, default)
        if value is default:
            return value
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, "must be a non-empty string", value)
        return value.strip()

    def choice(self, key: str, choices: tuple[str, ...], default: Any = _MISSING) -> str:
        value = self._get(key, default)
        if value not in choices:
            raise self.error(key, f"must be one of {', '.join(choices)}", value)
        return value

    def integer(self, key: str, default: Any = _MISSING, *, low=None, high=None, choices=None) -> int:
        value = self._get(key, default)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.error(key, "must be an integer", value)
        if choices is not None and value not in choices:
            raise self.error(key, f"must be one of {', '.join(map(str, choices))}", value)
        _check_range(self, key, value, low, high)
        return value

    def number(self, key: str, default: Any = _MISSING, *, low=None, high=None) -> float:
        value = self._get(key, default)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise self.error(key, "must be a number", value)
        _check_range(self, key, value, low, high)
        return float(value)

    def boolean(self, key: str, default: Any = _MISSING) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, "must be true or false", value)
        return value

    def hex_bytes(self, key: str, default: str) -> bytes:
        """Bytes written as hex, spaces allowed: "11", "1b 40"."""
        value = self._get(key, default)
        try:
            data = bytes.fromhex(value) if isinstance(value, str) else b""
        except ValueError:
            data = b""
        if not data:
            raise self.error(key, 'must be bytes in hex, e.g. "11" or "1b 40"', value)
        return data

    def hex_id(self, key: str) -> int:
        """A USB id: 0x0416, "0416", "0x0416" (hex) or a plain integer."""
        value = self._get(key, _MISSING)
        try:
            number = value if isinstance(value, int) and not isinstance(value, bool) else int(str(value), 16)
        except ValueError:
            raise self.error(key, "must be a USB id such as 0x0416", value) from None
        _check_range(self, key, number, 0, 0xFFFF)
        return number


def _check_range(section: _Section, key: str, value: float, low, high) -> None:
    if low is not None and value < low:
        raise section.error(key, f"must be at least {low}", value)
    if high is not None and value > high:
        raise section.error(key, f"must be at most {high}", value)


def _show(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)
