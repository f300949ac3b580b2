"""The systemd units in deploy/systemd: systemd itself checks them, then their promises are read back.

`systemd-analyze verify --root=DIR` loads each unit the way the manager would, inside a throwaway root
that holds a copy of the distribution's units and a stub for every binary the units run, so the
ExecStart paths resolve exactly as written (/opt/shipgate/bin/..., /opt/shipgate-station/bin/...).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

UNIT_NAMES = (
    "shipgate-server.service",
    "shipgate-server@.service",
    "shipgate-sync.service",
    "shipgate-station.service",
)
EXEC_KEYS = ("ExecStart", "ExecStartPre", "ExecStartPost", "ExecStop", "ExecStopPost", "ExecReload")
SYSTEM_UNIT_DIRS = (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system"))


def parse_unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    """Parse a unit file into {section: [(key, value), ...]}, keeping repeated keys in order."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        assert current is not None, f"{path.name}: setting outside a section: {raw!r}"
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: not KEY=VALUE: {raw!r}"
        current.append((key.strip(), value.strip()))
    return sections


def values(unit: dict, section: str, key: str) -> list[str]:
    return [v for k, v in unit.get(section, []) if k == key]


def value(unit: dict, section: str, key: str) -> str | None:
    found = values(unit, section, key)
    return found[-1] if found else None


@pytest.fixture(scope="module")
def systemd_analyze(which) -> str:
    tool = which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze not installed (Debian package: systemd)")
    return tool


@pytest.fixture(scope="module")
def units(deploy_dir) -> dict[str, dict]:
    return {name: parse_unit(deploy_dir / "systemd" / name) for name in UNIT_NAMES}


def make_root(root: Path, unit_files: list[Path]) -> None:
    """A throwaway root for `systemd-analyze --root`: system units, our units, stub binaries."""
    system_dir = next((d for d in SYSTEM_UNIT_DIRS if d.is_dir() and not d.is_symlink()), None)
    if system_dir is None:
        pytest.skip("no systemd unit directory (/usr/lib/systemd/system) to verify against")
    shutil.copytree(system_dir, root / "usr/lib/systemd/system", symlinks=True)
    etc = root / "etc/systemd/system"
    etc.mkdir(parents=True)
    for unit_file in unit_files:
        shutil.copy(unit_file, etc / unit_file.name)
        for section in parse_unit(unit_file).values():
            for key, command in section:
                if key in EXEC_KEYS:
                    binary = command.lstrip("-@:+!").split()[0]
                    assert binary.startswith("/"), f"{unit_file.name}: {key} needs an absolute path"
                    stub = root / binary.lstrip("/")
                    stub.parent.mkdir(parents=True, exist_ok=True)
                    stub.write_text("#!/bin/sh\nexit 0\n")
                    stub.chmod(0o755)


def instance_name(unit_name: str) -> str:
    return unit_name.replace("@.", "@8081.")


def verify(tool: str, root: Path, unit_names: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [tool, "verify", f"--root={root}", *map(instance_name, unit_names)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_units_pass_systemd_analyze_verify(systemd_analyze, deploy_dir, tmp_path):
    unit_files = sorted((deploy_dir / "systemd").glob("*.service"))
    assert {f.name for f in unit_files} >= set(UNIT_NAMES)
    make_root(tmp_path, unit_files)
    result = verify(systemd_analyze, tmp_path, [f.name for f in unit_files])
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # verify exits 0 on warnings such as an unknown key or a bad value: any word about our units fails.
    complaints = [line for line in output.splitlines() if "shipgate" in line]
    assert complaints == [], output


def test_verify_harness_catches_broken_units(systemd_analyze, tmp_path):
    """The check above is not vacuous: a missing binary fails, a misspelt key is reported."""
    broken = tmp_path / "src" / "shipgate-broken.service"
    broken.parent.mkdir()
    broken.write_text("[Service]\nExecStart=/opt/shipgate/bin/shipgate-server serve\nProtectSystm=strict\n")
    root = tmp_path / "root"
    make_root(root, [broken])
    (root / "opt/shipgate/bin/shipgate-server").unlink()
    result = verify(systemd_analyze, root, ["shipgate-broken.service"])
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "ProtectSystm" in output


@pytest.mark.parametrize(
    ("unit_name", "limit"),
    [
        ("shipgate-server.service", 2.0),
        ("shipgate-server@.service", 2.0),
        ("shipgate-sync.service", 2.0),
        ("shipgate-station.service", 3.0),  # keeps /dev, its groups and netlink for the scanner and printer
    ],
)
def test_units_stay_hardened(systemd_analyze, deploy_dir, tmp_path, unit_name, limit):
    make_root(tmp_path, [deploy_dir / "systemd" / unit_name])
    result = subprocess.run(
        [
            systemd_analyze,
            "security",
            "--offline=true",
            f"--root={tmp_path}",
            "--no-pager",
            instance_name(unit_name),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if "--offline" in result.stderr and "unrecognized" in result.stderr:
        pytest.skip("this systemd-analyze has no offline security scoring (systemd < 250)")
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout + result.stderr)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) <= limit, result.stdout


def test_server_units_run_the_documented_commands(units):
    for name, expected in [
        ("shipgate-server.service", "/opt/shipgate/bin/shipgate-server serve --host 127.0.0.1 --port 8080"),
        ("shipgate-server@.service", "/opt/shipgate/bin/shipgate-server serve --host 127.0.0.1 --port %i"),
        ("shipgate-sync.service", "/opt/shipgate/bin/shipgate-server sync"),
    ]:
        unit = units[name]
        assert value(unit, "Service", "ExecStart") == expected, name
        assert value(unit, "Service", "User") == "shipgate", name
        assert value(unit, "Service", "EnvironmentFile") == "/etc/shipgate/server.env", name
        assert "SHIPGATE_INSTANCE_DIR=/var/lib/shipgate" in values(unit, "Service", "Environment"), name
        assert value(unit, "Service", "StateDirectory") == "shipgate", name
        assert value(unit, "Service", "ReadWritePaths") == "/var/lib/shipgate", name
        for key, want in [
            ("NoNewPrivileges", "yes"),
            ("ProtectSystem", "strict"),
            ("PrivateTmp", "yes"),
            ("ProtectHome", "yes"),
            ("PrivateDevices", "yes"),
        ]:
            assert value(unit, "Service", key) == want, (name, key)
    assert value(units["shipgate-sync.service"], "Service", "Restart") == "always"


def test_station_unit_keeps_the_bench_alive_and_its_devices_reachable(units):
    unit = units["shipgate-station.service"]
    service = dict(unit["Service"])  # last value wins, as in systemd
    assert service["ExecStart"] == (
        "/opt/shipgate-station/bin/shipgate-station run --config /etc/shipgate/station.toml"
    )
    assert service["Type"] == "notify"
    assert service["WatchdogSec"] == "30"
    assert service["Restart"] == "always"
    assert service["RestartSec"] == "2"
    assert value(unit, "Unit", "StartLimitIntervalSec") == "0"
    assert service["User"] == "shipgate-station"
    assert set(service["SupplementaryGroups"].split()) >= {"dialout", "lp"}
    assert service["StateDirectory"] == "shipgate-station"
    assert service["ProtectSystem"] == "strict"
    assert "/var/lib/shipgate-station" in service["ReadWritePaths"].split()
    runtime = "/run/" + service["RuntimeDirectory"]
    pickle_dir = next(
        v.split("=", 1)[1]
        for v in values(unit, "Service", "Environment")
        if v.startswith("ESCPOS_CAPABILITIES_PICKLE_DIR=")
    )
    assert pickle_dir == runtime or pickle_dir.startswith(runtime + "/"), "pickle dir must be writable"
    # Each of these would hide the scanner and printer from the station.
    assert service.get("PrivateDevices", "no") == "no"
    assert service.get("PrivateUsers", "no") == "no"
    assert service.get("ProtectClock", "no") == "no"
    assert "DeviceAllow" not in service
    assert service.get("DevicePolicy", "auto") == "auto"


def test_kiosk_shows_the_bench_screen_on_tty1(deploy_dir):
    from station.config import ScreenConfig

    unit = parse_unit(deploy_dir / "systemd" / "shipgate-kiosk.service")
    command = value(unit, "Service", "ExecStart")
    cage, _, browser = command.partition(" -- ")
    assert cage.startswith("/usr/bin/cage ")
    assert browser.startswith("/usr/bin/chromium --kiosk ")
    screen = ScreenConfig()
    assert browser.endswith(f" http://{screen.host}:{screen.port}/")  # the station's default [screen]
    assert value(unit, "Service", "TTYPath") == "/dev/tty1"
    assert "getty@tty1.service" in values(unit, "Unit", "Conflicts")
    assert value(unit, "Service", "Restart") == "always"
    assert value(unit, "Service", "User") == "shipgate-kiosk"
    assert value(unit, "Install", "WantedBy") == "graphical.target"


def test_the_hardware_watchdog_fits_the_pi(deploy_dir):
    conf = parse_unit(deploy_dir / "systemd" / "system.conf.d" / "shipgate-watchdog.conf")
    runtime = value(conf, "Manager", "RuntimeWatchdogSec")
    assert runtime.endswith("s") and 0 < int(runtime[:-1]) <= 15  # the Pi's watchdog caps near 15 s
    assert value(conf, "Manager", "RebootWatchdogSec")


def test_station_unit_may_read_the_clock_state_and_play_sound(units):
    unit = units["shipgate-station.service"]
    filters = values(unit, "Service", "SystemCallFilter")
    assert filters[-1] == "adjtimex"  # after the deny list, so it is allowed again (read-only use)
    assert "audio" in value(unit, "Service", "SupplementaryGroups").split()
