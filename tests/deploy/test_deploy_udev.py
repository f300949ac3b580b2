"""deploy/udev/99-shipgate.rules: udev parses it, and it names the devices the docs and station.toml use.

udev itself checks the file with `udevadm verify` (systemd 253+) or, on older udev, by `udevadm test`
in a private mount namespace where /etc/udev/rules.d is a temporary directory (nothing outside changes).
A syntax check in Python runs everywhere as well.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

MATCH_KEYS = {
    "ACTION",
    "DEVPATH",
    "KERNEL",
    "KERNELS",
    "NAME",
    "SYMLINK",
    "SUBSYSTEM",
    "SUBSYSTEMS",
    "DRIVER",
    "DRIVERS",
    "ATTR",
    "ATTRS",
    "SYSCTL",
    "TAG",
    "TAGS",
    "ENV",
    "CONST",
    "TEST",
    "PROGRAM",
    "RESULT",
}
ASSIGN_KEYS = {
    "NAME",
    "SYMLINK",
    "OWNER",
    "GROUP",
    "MODE",
    "SECLABEL",
    "ATTR",
    "SYSCTL",
    "ENV",
    "TAG",
    "RUN",
    "LABEL",
    "GOTO",
    "IMPORT",
    "OPTIONS",
}
ENTRY = re.compile(
    r'\s*(?P<key>[A-Z_]+)(?:\{(?P<attr>[^}]+)\})?\s*(?P<op>==|!=|\+=|-=|:=|=)\s*"(?P<val>[^"]*)"\s*'
)


def rule_lines(path: Path) -> list[tuple[int, str]]:
    lines = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if raw.strip() and not raw.lstrip().startswith("#"):
            lines.append((number, raw))
    return lines


def parse_rule(line: str) -> list[tuple[str, str | None, str, str]]:
    """Split one rule into (key, attr, op, value); raise ValueError on anything udev would reject."""
    entries, pos = [], 0
    while True:
        m = ENTRY.match(line, pos)
        if not m:
            raise ValueError(f"cannot parse from column {pos + 1}: {line[pos:]!r}")
        key, attr, op, val = m.group("key", "attr", "op", "val")
        if op in ("==", "!=") and key not in MATCH_KEYS:
            raise ValueError(f"{key} cannot be matched")
        if op not in ("==", "!=") and key not in ASSIGN_KEYS:
            raise ValueError(f"{key} cannot be assigned")
        if key in ("ATTR", "ATTRS", "ENV") and not attr:
            raise ValueError(f"{key} needs {{name}}")
        entries.append((key, attr, op, val))
        pos = m.end()
        if pos == len(line):
            return entries
        if line[pos] != ",":
            raise ValueError(f"expected ',' at column {pos + 1}: {line[pos:]!r}")
        pos += 1


@pytest.fixture(scope="module")
def rules_path(deploy_dir) -> Path:
    return deploy_dir / "udev" / "99-shipgate.rules"


@pytest.fixture(scope="module")
def rules(rules_path) -> list[list[tuple[str, str | None, str, str]]]:
    parsed = []
    for number, line in rule_lines(rules_path):
        try:
            parsed.append(parse_rule(line))
        except ValueError as exc:
            pytest.fail(f"{rules_path.name}:{number}: {exc}")
    return parsed


def test_python_syntax_check_rejects_bad_rules():
    with pytest.raises(ValueError):
        parse_rule('SUBSYSTEM=="tty", FOO="1"')
    with pytest.raises(ValueError):
        parse_rule('SUBSYSTEM=="tty" SYMLINK+="scanner"')
    with pytest.raises(ValueError):
        parse_rule('SUBSYSTEM=="tty", ATTRS{idVendor}=1eab')
    assert parse_rule('SUBSYSTEM=="tty", SYMLINK+="scanner"')


def test_rules_name_the_devices_station_toml_uses(rules):
    def assigns(rule, key, val):
        return any(k == key and op in ("=", "+=") and v == val for k, _, op, v in rule)

    scanner = [r for r in rules if assigns(r, "SYMLINK", "scanner")]
    printer = [r for r in rules if assigns(r, "SYMLINK", "receipt-printer")]
    assert scanner and printer
    for rule in scanner:
        assert assigns(rule, "GROUP", "dialout")
        assert ("ENV", "ID_MM_DEVICE_IGNORE", "=", "1") in rule
    usb_printers = [r for r in rules if ("SUBSYSTEM", None, "==", "usb") in r and assigns(r, "GROUP", "lp")]
    assert usb_printers
    for rule in usb_printers:
        assert any(k == "MODE" and v in ("0660", "0664") for k, _, _, v in rule)
    for rule in rules:
        for key, attr, _, val in rule:
            if key == "ATTRS" and attr in ("idVendor", "idProduct"):
                assert re.fullmatch(r"[0-9a-f]{4}", val), f"USB ids are 4 lowercase hex digits: {val!r}"


def test_rules_mark_their_example_ids(rules_path):
    text = rules_path.read_text(encoding="utf-8")
    assert "EXAMPLE" in text and "ADJUST" in text


def udevadm_has_verify(udevadm: str) -> bool:
    probe = subprocess.run([udevadm, "verify", "--help"], capture_output=True, text=True, timeout=10)
    return probe.returncode == 0


def test_udev_parses_the_rules(which, rules_path, tmp_path):
    udevadm = which("udevadm")
    if udevadm is None:
        pytest.skip("udevadm not installed (Debian package: udev); the Python syntax check still ran")
    if udevadm_has_verify(udevadm):
        result = subprocess.run(
            [udevadm, "verify", str(rules_path)], capture_output=True, text=True, timeout=30
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return
    # udev < 253: parse through `udevadm test` with our file as the only local rules file. A broken file
    # beside it proves the parser speaks up.
    unshare, mount = which("unshare"), which("mount")
    if os.geteuid() != 0 or unshare is None or mount is None:
        pytest.skip("udevadm has no 'verify' and a private mount namespace needs root and unshare")
    rules_dir = tmp_path / "rules.d"
    rules_dir.mkdir()
    (rules_dir / rules_path.name).write_bytes(rules_path.read_bytes())
    (rules_dir / "98-broken.rules").write_text('SUBSYSTEM=="tty", NOSUCHKEY="1"\n')
    script = f'{mount} --bind "$1" /etc/udev/rules.d && exec {udevadm} test /sys/devices/virtual/mem/null'
    result = subprocess.run(
        [unshare, "--mount", "--propagation", "private", "sh", "-c", script, "sh", str(rules_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = result.stdout + result.stderr
    if "Reading rules file: /etc/udev/rules.d/98-broken.rules" not in output:
        pytest.skip(f"could not run udevadm test in a private mount namespace: {output[-500:]}")
    assert "98-broken.rules:1" in output, "udevadm test reports nothing: the check would be vacuous"
    complaints = [line for line in output.splitlines() if f"{rules_path.name}:" in line]
    assert complaints == [], "\n".join(complaints)
