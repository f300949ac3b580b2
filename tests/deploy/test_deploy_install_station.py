"""deploy/install-station.sh, run for real into a throwaway --prefix.

The system commands it must not call under a prefix (systemctl, useradd, udevadm, apt-get, ...) are
replaced on PATH by stubs that record any call; the test also compares the real system paths the
script would touch before and after.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

SYSTEM_COMMANDS = ("systemctl", "useradd", "usermod", "groupadd", "udevadm", "apt-get", "chown", "dpkg-query")
WATCHED_PATHS = (
    "/etc/shipgate",
    "/etc/systemd/system/shipgate-station.service",
    "/etc/systemd/system/shipgate-kiosk.service",
    "/etc/systemd/system.conf.d/shipgate-watchdog.conf",
    "/etc/chrony/conf.d/shipgate.conf",
    "/etc/udev/rules.d/99-shipgate.rules",
    "/opt/shipgate-station",
    "/var/lib/shipgate-station",
    "/etc/passwd",
    "/etc/group",
)

BASE_ARGS = [
    "--yes",
    "--skip-pip",
    "--no-apt",
    "--server-url",
    "https://shipgate.example.com/",
    "--token",
    'tok-"quoted"-\\-123',
    "--name",
    "打包台-01",
    "--scanner",
    "/dev/scanner",
    "--scanner-suffix",
    "crlf",
    "--printer-kind",
    "network",
    "--printer-host",
    "192.0.2.50",
    "--printer-port",
    "9100",
    "--printer-width",
    "58",
    "--mode",
    "handover",
    "--budget-ms",
    "250",
    "--replica-max-age",
    "600",
]


MINIMAL = ["--server-url", "https://s", "--token", "t", "--printer-kind", "dummy"]


def snapshot() -> dict[str, object]:
    state = {}
    for name in WATCHED_PATHS:
        p = Path(name)
        if p.is_file():
            state[name] = hashlib.sha256(p.read_bytes()).hexdigest()
        elif p.is_dir():
            state[name] = sorted(str(c) for c in p.rglob("*"))
        else:
            state[name] = None
    return state


@pytest.fixture
def stubs(tmp_path) -> tuple[Path, Path]:
    """A bin dir of recording stubs for system commands, and the log they write to."""
    bin_dir, log = tmp_path / "stub-bin", tmp_path / "stub-calls.log"
    bin_dir.mkdir()
    for name in SYSTEM_COMMANDS:
        stub = bin_dir / name
        stub.write_text(f'#!/bin/sh\necho "{name} $*" >> "{log}"\nexit 0\n')
        stub.chmod(0o755)
    return bin_dir, log


@pytest.fixture
def run_install(deploy_dir, stubs, tmp_path):
    bin_dir, _ = stubs

    def run(*args: str, prefix: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
        prefix = prefix or tmp_path / "root"
        environ = {k: v for k, v in os.environ.items() if k != "SHIPGATE_STATION_TOKEN"}
        environ.update(
            PATH=f"{bin_dir}{os.pathsep}{environ.get('PATH', '')}",
            PIP_NO_CACHE_DIR="1",
            PIP_CONFIG_FILE=os.devnull,
            PIP_DISABLE_PIP_VERSION_CHECK="1",
            **(env or {}),
        )
        return subprocess.run(
            ["bash", str(deploy_dir / "install-station.sh"), "--prefix", str(prefix), *args],
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
            env=environ,
        )

    return run


def test_script_is_valid_bash(deploy_dir, which):
    script = deploy_dir / "install-station.sh"
    subprocess.run(["bash", "-n", str(script)], check=True, timeout=10)
    assert os.access(script, os.X_OK), "install-station.sh should be executable"
    shellcheck = which("shellcheck")
    if shellcheck:  # optional lint: Debian package shellcheck
        result = subprocess.run([shellcheck, str(script)], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stdout


def test_help_lists_every_flag(deploy_dir):
    out = subprocess.run(
        ["bash", str(deploy_dir / "install-station.sh"), "--help"],
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    ).stdout
    for flag in (
        "--server-url",
        "--token",
        "--scanner",
        "--printer-kind",
        "--printer-host",
        "--name",
        "--prefix",
        "--no-systemd",
        "--source",
        "--yes",
        "--skip-pip",
        "--offline",
        "--ca-file",
        "--insecure-http",
    ):
        assert flag in out


def a_ca_certificate(path: Path) -> Path:
    """A self-signed CA certificate in PEM (what IT copies from its private CA)."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Warehouse CA")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return path


def test_a_private_ca_is_installed_and_named_in_the_config(run_install, tmp_path):
    station_config = pytest.importorskip("station.config")
    ca = a_ca_certificate(tmp_path / "warehouse-ca.pem")
    result = run_install("--yes", "--skip-pip", "--server-url", "https://shipgate.lan", "--token", "t",
                         "--printer-kind", "dummy", "--ca-file", str(ca))  # fmt: skip
    assert result.returncode == 0, result.stderr
    installed = tmp_path / "root/etc/shipgate/ca.pem"
    assert installed.read_bytes() == ca.read_bytes() and stat.S_IMODE(installed.stat().st_mode) == 0o644
    written = (tmp_path / "root/etc/shipgate/station.toml").read_text()
    assert tomllib.loads(written)["server"]["ca_file"] == "/etc/shipgate/ca.pem"
    # the station's own loader takes it (the path pointed at the staged copy: nothing is in /etc here)
    staged = written.replace('"/etc/shipgate/ca.pem"', f'"{installed}"')
    (tmp_path / "staged.toml").write_text(staged)
    assert station_config.load_config(tmp_path / "staged.toml").server.ca_file == str(installed)


def test_http_to_another_machine_needs_insecure_http(run_install, tmp_path):
    station_config = pytest.importorskip("station.config")
    args = ("--yes", "--skip-pip", "--token", "t", "--printer-kind", "dummy")
    refused = run_install(*args, "--server-url", "http://192.0.2.10:8080")
    assert refused.returncode == 2 and "--insecure-http" in refused.stderr
    assert not (tmp_path / "root/etc/shipgate/station.toml").exists()
    local = run_install(*args, "--server-url", "http://127.0.0.1:8080")
    assert local.returncode == 0, local.stderr
    allowed = run_install(*args, "--server-url", "http://192.0.2.10:8080", "--insecure-http")
    assert allowed.returncode == 0, allowed.stderr
    config = station_config.load_config(tmp_path / "root/etc/shipgate/station.toml")
    assert config.server.url == "http://192.0.2.10:8080" and config.server.insecure_http


def test_prefix_install_writes_config_unit_and_rules_and_nothing_else(
    run_install, stubs, deploy_dir, tmp_path
):
    before = snapshot()
    result = run_install(*BASE_ARGS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert snapshot() == before, "the install changed files outside its prefix"
    _, log = stubs
    assert not log.exists(), f"system commands were called: {log.read_text()}"

    root = tmp_path / "root"
    config_path = root / "etc/shipgate/station.toml"
    assert stat.S_IMODE(config_path.stat().st_mode) == 0o640
    config = tomllib.loads(config_path.read_text(encoding="utf-8"))
    assert config == {
        "server": {"url": "https://shipgate.example.com", "token": 'tok-"quoted"-\\-123', "budget_ms": 250},
        "scanner": {"device": "/dev/scanner", "baud": 9600, "suffix": "CRLF"},
        "printer": {"kind": "network", "host": "192.0.2.50", "port": 9100, "width": 58},
        "station": {
            "name": "打包台-01",
            "mode": "handover",
            "data_dir": "/var/lib/shipgate-station",
            "replica_max_age_s": 600,
        },
    }
    assert "tok-" not in result.stdout + result.stderr, "the token must not be echoed"

    unit = root / "etc/systemd/system/shipgate-station.service"
    assert unit.read_text() == (deploy_dir / "systemd/shipgate-station.service").read_text()
    rules = root / "etc/udev/rules.d/99-shipgate.rules"
    assert rules.read_bytes() == (deploy_dir / "udev/99-shipgate.rules").read_bytes()
    assert (root / "var/lib/shipgate-station").is_dir()
    assert not (root / "opt/shipgate-station").exists(), "--skip-pip must not create the venv"
    kiosk = root / "etc/systemd/system/shipgate-kiosk.service"
    assert kiosk.read_text() == (deploy_dir / "systemd/shipgate-kiosk.service").read_text()
    watchdog = (root / "etc/systemd/system.conf.d/shipgate-watchdog.conf").read_text()
    assert "RuntimeWatchdogSec=15s" in watchdog
    chrony = (root / "etc/chrony/conf.d/shipgate.conf").read_text()
    assert "server shipgate.example.com iburst prefer" in chrony  # the server URL's host


def test_alarm_and_clock_options(run_install, tmp_path):
    args = [a for a in BASE_ARGS]
    result = run_install(
        *args, "--voice", "--light", "/dev/tower-light", "--time-server", "10.0.0.5", "--no-kiosk"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    root = tmp_path / "root"
    config = tomllib.loads((root / "etc/shipgate/station.toml").read_text(encoding="utf-8"))
    assert config["voice"] == {"enabled": True}
    assert config["light"] == {"kind": "serial", "device": "/dev/tower-light"}
    assert not (root / "etc/systemd/system/shipgate-kiosk.service").exists()
    assert "server 10.0.0.5 iburst" in (root / "etc/chrony/conf.d/shipgate.conf").read_text()
    bad = run_install(*args, "--time-server", "x; rm -rf /", prefix=tmp_path / "other")
    assert bad.returncode == 2 and "--time-server" in bad.stderr


def test_usb_printer_ids_become_toml_integers(run_install, tmp_path):
    result = run_install(
        "--yes",
        "--skip-pip",
        "--server-url",
        "https://10.0.0.2:8443",
        "--token",
        "t",
        "--printer-kind",
        "usb",
        "--printer-vid",
        "0x04B8",
        "--printer-pid",
        "e15",
        "--name",
        "bench-02",
        "--scanner",
        "1EAB:8203",
        "--no-udev",
    )
    assert result.returncode == 0, result.stderr
    config = tomllib.loads((tmp_path / "root/etc/shipgate/station.toml").read_text())
    assert config["printer"] == {"kind": "usb", "vendor_id": 0x04B8, "product_id": 0x0E15, "width": 80}
    assert config["scanner"]["device"] == "1eab:8203"
    assert "replica_max_age_s" not in config["station"]
    assert not (tmp_path / "root/etc/udev").exists()


def test_token_from_file_or_environment(run_install, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("from-file-token\n")
    common = ["--yes", "--skip-pip", "--server-url", "https://s", "--printer-kind", "dummy", "--name", "b"]
    assert run_install(*common, "--token-file", str(token_file)).returncode == 0
    config = tomllib.loads((tmp_path / "root/etc/shipgate/station.toml").read_text())
    assert config["server"]["token"] == "from-file-token"
    other = tmp_path / "other"
    result = run_install(*common, prefix=other, env={"SHIPGATE_STATION_TOKEN": "from-env"})
    assert result.returncode == 0, result.stderr
    assert tomllib.loads((other / "etc/shipgate/station.toml").read_text())["server"]["token"] == "from-env"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--token", "t", "--printer-kind", "dummy"], "--server-url is required"),
        (["--server-url", "https://s", "--printer-kind", "dummy"], "token is required"),
        (["--server-url", "ftp://s", "--token", "t", "--printer-kind", "dummy"], "https://"),
        (["--server-url", "https://s", "--token", "t"], "--printer-kind is required"),
        (["--server-url", "https://s", "--token", "t", "--printer-kind", "laser"], "--printer-kind must be"),
        (["--server-url", "https://s", "--token", "t", "--printer-kind", "usb"], "--printer-vid"),
        (["--server-url", "https://s", "--token", "t", "--printer-kind", "network"], "--printer-host"),
        (
            ["--server-url", "https://s", "--token", "t", "--printer-kind", "dummy", "--printer-width", "76"],
            "58 or 80",
        ),
        (
            [
                "--server-url",
                "https://s",
                "--token",
                "t",
                "--printer-kind",
                "dummy",
                "--scanner-suffix",
                "TAB",
            ],
            "CR, LF, CRLF or none",
        ),
        (
            ["--server-url", "https://s", "--token", "t", "--printer-kind", "dummy", "--mode", "ship"],
            "bench or handover",
        ),
        (
            ["--server-url", "https://s", "--token", "t", "--printer-kind", "dummy", "--bogus"],
            "unknown option",
        ),
        (
            [*MINIMAL, "--ca-file", "/nonexistent.pem"],
            "not a readable file",
        ),
        (
            [*MINIMAL, "--ca-file", "/etc/hostname"],
            "no PEM certificate",
        ),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(run_install, tmp_path, args, message):
    result = run_install("--yes", "--skip-pip", "--name", "b", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert not (tmp_path / "root/etc/shipgate/station.toml").exists()
    assert not (tmp_path / "root/etc/systemd").exists()


def test_rerun_backs_up_and_keep_config_keeps(run_install, tmp_path):
    config = tmp_path / "root/etc/shipgate/station.toml"
    assert run_install(*BASE_ARGS).returncode == 0
    first = config.read_bytes()
    assert run_install(*BASE_ARGS[:-2], "--replica-max-age", "900").returncode == 0
    backups = list(config.parent.glob("station.toml.*.bak"))
    assert len(backups) == 1 and backups[0].read_bytes() == first
    assert tomllib.loads(config.read_text())["station"]["replica_max_age_s"] == 900
    second = config.read_bytes()
    # An upgrade: no settings needed, the file is left alone.
    result = run_install("--yes", "--skip-pip", "--keep-config")
    assert result.returncode == 0, result.stderr
    assert config.read_bytes() == second


def test_rerun_keeps_edited_udev_rules(run_install, deploy_dir, tmp_path):
    rules = tmp_path / "root/etc/udev/rules.d/99-shipgate.rules"
    assert run_install(*BASE_ARGS).returncode == 0
    edited = rules.read_text() + 'SUBSYSTEM=="tty", ATTRS{idVendor}=="abcd", SYMLINK+="scanner"\n'
    rules.write_text(edited)
    result = run_install(*BASE_ARGS)
    assert result.returncode == 0, result.stderr
    assert rules.read_text() == edited
    new = rules.with_name("99-shipgate.rules.new")
    assert new.read_bytes() == (deploy_dir / "udev/99-shipgate.rules").read_bytes()


def test_custom_data_dir_and_venv_follow_into_the_unit(run_install, tmp_path):
    result = run_install(*BASE_ARGS, "--data-dir", "/srv/shipgate-data", "--venv", "/opt/sg")
    assert result.returncode == 0, result.stderr
    unit = (tmp_path / "root/etc/systemd/system/shipgate-station.service").read_text()
    assert "ExecStart=/opt/sg/bin/shipgate-station run --config /etc/shipgate/station.toml" in unit
    assert "ReadWritePaths=/srv/shipgate-data\n" in unit
    assert "WorkingDirectory=/srv/shipgate-data\n" in unit
    assert "RequiresMountsFor=/srv/shipgate-data\n" in unit
    config = tomllib.loads((tmp_path / "root/etc/shipgate/station.toml").read_text())
    assert config["station"]["data_dir"] == "/srv/shipgate-data"
    assert (tmp_path / "root/srv/shipgate-data").is_dir()


def build_wheel(
    directory: Path,
    name: str,
    version: str,
    files: dict[str, str],
    metadata: list[str],
    entry_points: str = "",
) -> Path:
    """Write a minimal pure-Python wheel (enough for pip) without needing a build backend."""
    dist = f"{name.replace('-', '_')}-{version}"
    info = f"{dist}.dist-info"
    members = dict(files)
    members[f"{info}/METADATA"] = (
        "\n".join(["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}", *metadata]) + "\n"
    )
    members[f"{info}/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    if entry_points:
        members[f"{info}/entry_points.txt"] = entry_points
    record = []
    for path, text in members.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    record.append(f"{info}/RECORD,,")
    members[f"{info}/RECORD"] = "\n".join(record) + "\n"
    wheel = directory / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, text in members.items():
            zf.writestr(path, text)
    return wheel


@pytest.mark.slow
def test_offline_venv_install_takes_only_the_station_extra(run_install, tmp_path):
    """A real venv and a real pip, offline: the station extra's dependency comes from the wheelhouse;
    the server extra's (flask, absent there) would make pip fail if the script asked for it."""
    wheelhouse = tmp_path / "wheelhouse"
    wheelhouse.mkdir()
    build_wheel(wheelhouse, "sg-station-dep", "1.0", {"sg_station_dep.py": "VALUE = 1\n"}, [])
    source = build_wheel(
        tmp_path,
        "shipgate",
        "0.0.1",
        {"sg_fake_station.py": "def main():\n    print('station-ok')\n"},
        [
            "Provides-Extra: station",
            'Requires-Dist: sg-station-dep; extra == "station"',
            "Provides-Extra: server",
            'Requires-Dist: flask; extra == "server"',
        ],
        "[console_scripts]\nshipgate-station = sg_fake_station:main\n",
    )
    args = [a for a in BASE_ARGS if a != "--skip-pip"]
    result = run_install(
        *args,
        "--source",
        str(source),
        "--offline",
        "--wheelhouse",
        str(wheelhouse),
        "--python",
        sys.executable,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[station]" in result.stdout and "[server" not in result.stdout
    venv = tmp_path / "root/opt/shipgate-station"
    run = subprocess.run([str(venv / "bin/shipgate-station")], capture_output=True, text=True, timeout=30)
    assert run.stdout.strip() == "station-ok"
    listed = subprocess.run(
        [str(venv / "bin/python"), "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    ).stdout
    assert "sg-station-dep==1.0" in listed or "sg_station_dep==1.0" in listed
    assert "flask" not in listed.lower()


@pytest.mark.parametrize(
    "printer_args",
    [
        ["--printer-kind", "network", "--printer-host", "192.0.2.50"],
        ["--printer-kind", "usb", "--printer-vid", "0416", "--printer-pid", "5011"],
        ["--printer-kind", "serial", "--printer-device", "/dev/receipt-printer", "--printer-baud", "19200"],
        ["--printer-kind", "file", "--printer-path", "/dev/usb/lp0"],
        ["--printer-kind", "dummy"],
    ],
)
def test_written_config_is_accepted_by_the_station(run_install, tmp_path, printer_args):
    """The installer and the station agree on station.toml: the station's own loader reads it back."""
    station_config = pytest.importorskip("station.config")
    result = run_install(
        "--yes",
        "--skip-pip",
        "--server-url",
        "https://shipgate.example.com",
        "--token",
        "t0k",
        "--name",
        "bench-09",
        *printer_args,
    )
    assert result.returncode == 0, result.stderr
    config = station_config.load_config(tmp_path / "root/etc/shipgate/station.toml")
    assert config.server.url == "https://shipgate.example.com"
    assert config.printer.kind == printer_args[1]
    assert str(config.station.data_dir) == "/var/lib/shipgate-station"
    if printer_args[1] == "usb":
        assert (config.printer.vendor_id, config.printer.product_id) == (0x0416, 0x5011)
    if printer_args[1] == "serial":
        assert config.printer.baud == 19200


def test_real_root_path_in_a_private_mount_namespace(deploy_dir, stubs, tmp_path, which):
    """The no-prefix path (user, apt, udev reload, systemctl) runs too, but in a mount namespace where
    /etc is a copy and /opt, /var/lib and /run are empty tmpfs: the real system sees nothing. System
    commands are the recording stubs; `/run/systemd/system` exists, so the script believes systemd runs."""
    unshare = which("unshare")
    if os.geteuid() != 0 or unshare is None:
        pytest.skip("needs root and unshare (util-linux) for a private mount namespace")
    bin_dir, log = stubs
    etc_copy = tmp_path / "etc"
    subprocess.run(["cp", "-a", "/etc", str(etc_copy)], check=True, timeout=60)
    args = " ".join(f"'{a}'" for a in BASE_ARGS if a not in ("--no-apt",) and "'" not in a)
    script = f"""
set -e
mount --bind '{etc_copy}' /etc
for d in /opt /var/lib /run; do mount -t tmpfs tmpfs "$d"; done
mkdir -p /run/systemd/system
bash '{deploy_dir / "install-station.sh"}' {args} --token secret-token
stat -c '%a' /var/lib/shipgate-station
"""
    before = snapshot()
    result = subprocess.run(
        [unshare, "--mount", "--propagation", "private", "bash", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"},
    )
    if result.returncode != 0 and "mount" in result.stderr and "permission denied" in result.stderr.lower():
        pytest.skip(f"mounts not permitted here: {result.stderr[-300:]}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert snapshot() == before, "the namespaced install leaked into the real system"
    assert result.stdout.strip().endswith("750")

    calls = log.read_text().splitlines()
    assert any(
        c.startswith("apt-get install -y --no-install-recommends python3-venv libusb-1.0-0") for c in calls
    )
    assert any(
        c.startswith("useradd --system --user-group") and c.endswith(" shipgate-station") for c in calls
    )
    assert "usermod -a -G dialout,lp,input,audio shipgate-station" in calls
    assert "chown shipgate-station:shipgate-station /var/lib/shipgate-station" in calls
    assert any(c.startswith("chown root:shipgate-station /etc/shipgate/.station.toml.") for c in calls)
    assert "udevadm control --reload" in calls
    assert calls[-4:] == [
        "systemctl daemon-reload",
        "systemctl enable shipgate-station.service",
        "systemctl restart shipgate-station.service",
        "systemctl restart shipgate-kiosk.service",  # the screen, once the station serves it
    ]
    for expected in (
        "systemctl enable shipgate-kiosk.service",
        "systemctl set-default graphical.target",
        "systemctl daemon-reexec",  # the watchdog setting takes effect
        "systemctl restart chrony",
    ):
        assert expected in calls, expected
    assert any(
        c.startswith("useradd --system --user-group --create-home") and c.endswith(" shipgate-kiosk")
        for c in calls
    )
    assert any(
        "fonts-noto-cjk" in c and "cage" in c and "espeak-ng" in c
        for c in calls
        if c.startswith("apt-get install")
    )
    assert (etc_copy / "systemd/system/shipgate-kiosk.service").is_file()
    assert "RuntimeWatchdogSec=15s" in (etc_copy / "systemd/system.conf.d/shipgate-watchdog.conf").read_text()
    config = tomllib.loads((etc_copy / "shipgate/station.toml").read_text(encoding="utf-8"))
    assert config["server"]["token"] == "secret-token"
    assert (etc_copy / "systemd/system/shipgate-station.service").is_file()
    assert (etc_copy / "udev/rules.d/99-shipgate.rules").is_file()
