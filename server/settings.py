"""The one place that maps SHIPGATE_* environment variables (and an optional config file) to settings.

Everything below the composition roots (create_app, the CLI) takes a Settings object or the
values it needs; nothing else reads the environment.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

DEFAULT_GATEWAY = "https://openapi-fxg.jinritemai.com"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class Settings:
    database_url: str = ""
    instance_dir: str = "instance"
    secret_key: str = field(default="", repr=False)  # never in a log line or a traceback
    data_key: str = field(
        default="", repr=False
    )  # encrypts shop secrets and tokens at rest (server/secretbox.py)
    data_key_file: str = ""
    douyin_gateway: str = DEFAULT_GATEWAY
    host: str = "127.0.0.1"
    port: int = 8080
    threads: int = 8
    connection_limit: int = 1000  # waitress: open connections per process (nginx in front takes the rest)
    max_body_bytes: int = 1_048_576
    lookup_budget_ms: int = 800
    sync_interval_s: float = 30.0
    sync_overlap_s: int = 300
    handover_cutoff: str = "18:00"  # local time after which packed-but-not-handed-over parcels are flagged
    drill_every_h: float = 24.0  # a station without a passed drill for this long is overdue
    scan_clock_skew_s: float = (
        120.0  # a scan's time further than this from the server's is replaced and flagged
    )
    trusted_proxy: bool = False
    robot_hosts: str = ""  # comma-separated hosts group robots may post to besides WeCom/DingTalk/Feishu
    log_level: str = "INFO"
    production: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def robot_host_list(self) -> tuple[str, ...]:
        return tuple(h.strip().lower() for h in self.robot_hosts.split(",") if h.strip())

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        path = Path(self.instance_dir).resolve() / "shipgate.sqlite3"
        return f"sqlite:///{path}"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Defaults, then the file named by SHIPGATE_CONFIG (TOML), then SHIPGATE_* variables."""
        environ = dict(os.environ if environ is None else environ)
        values: dict[str, object] = {}
        config_file = environ.get("SHIPGATE_CONFIG")
        if config_file:
            try:
                values.update(tomllib.loads(Path(config_file).read_text("utf-8")))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise SettingsError(f"SHIPGATE_CONFIG={config_file}: {exc}") from exc
        for f in fields(cls):
            key = "SHIPGATE_" + f.name.upper()
            if key in environ:
                values[f.name] = environ[key]
        return cls.build(values)

    @classmethod
    def build(cls, values: dict[str, object]) -> Settings:
        known = {f.name: f for f in fields(cls)}
        converted: dict[str, object] = {}
        for name, raw in values.items():
            if name not in known:
                raise SettingsError(f"unknown setting {name!r} (SHIPGATE_{name.upper()})")
            converted[name] = _convert(name, known[name].type, raw)
        settings = cls(**converted)
        if not settings.secret_key:
            if settings.production:
                raise SettingsError("SHIPGATE_SECRET_KEY must be set when SHIPGATE_PRODUCTION=1")
            converted["secret_key"] = _instance_file(Path(settings.instance_dir) / "secret_key", _hex_key)
        if not settings.data_key:
            converted["data_key"] = _data_key(settings)
        return cls(**converted)


def _convert(name: str, kind: object, raw: object) -> object:
    try:
        if kind in ("int", int):
            return int(raw)
        if kind in ("float", float):
            return float(raw)
        if kind in ("bool", bool):
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(raw)
        return raw if isinstance(raw, dict) else str(raw)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"SHIPGATE_{name.upper()}: cannot read {raw!r} as {kind}") from exc


def _hex_key() -> str:
    return secrets.token_hex(32)


def _data_key(settings: Settings) -> str:
    """SHIPGATE_DATA_KEY_FILE (must exist), or in development a key made once in the instance
    folder. Production without either fails closed: secrets are never stored under a made-up key."""
    from server.secretbox import new_key

    if settings.data_key_file:
        try:
            return Path(settings.data_key_file).read_text("ascii").strip()
        except OSError as exc:
            raise SettingsError(f"SHIPGATE_DATA_KEY_FILE={settings.data_key_file}: {exc}") from exc
    if settings.production:
        raise SettingsError(
            "SHIPGATE_DATA_KEY or SHIPGATE_DATA_KEY_FILE must be set when SHIPGATE_PRODUCTION=1"
            " (make one with `shipgate-server data-key`)"
        )
    return _instance_file(Path(settings.instance_dir) / "data_key", new_key)


def _instance_file(path: Path, make) -> str:
    """A key kept in the instance folder, made once, created 0600 (never a fixed default, never
    world-readable, not even for a moment)."""
    try:
        return path.read_text("ascii").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_text("ascii").strip()
    key = make()
    with os.fdopen(fd, "w") as file:
        file.write(key)
    return key
