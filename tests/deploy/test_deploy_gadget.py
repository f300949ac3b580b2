"""deploy/gadget/shipgate-hid-gadget.sh: valid bash, and `up` builds the configfs tree of a boot
keyboard (run against a plain directory with SHIPGATE_CONFIGFS/SHIPGATE_UDC: no module, no mount)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "gadget" / "shipgate-hid-gadget.sh"
UNIT = Path(__file__).resolve().parents[2] / "deploy" / "systemd" / "shipgate-hid-gadget.service"


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, SHIPGATE_CONFIGFS=str(tmp_path / "cfg"), SHIPGATE_UDC="fe980000.usb")
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=30)


def test_the_script_is_valid_bash():
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)
    shellcheck = shutil.which("shellcheck")
    if shellcheck:  # optional lint, as for install-station.sh
        result = subprocess.run([shellcheck, str(SCRIPT)], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stdout


def test_up_builds_a_boot_keyboard_gadget_and_binds_it(tmp_path):
    (tmp_path / "cfg" / "usb_gadget").mkdir(parents=True)
    result = run(tmp_path, "up")
    assert result.returncode == 0, result.stderr
    g = tmp_path / "cfg" / "usb_gadget" / "shipgate"
    hid = g / "functions" / "hid.usb0"
    assert (hid / "protocol").read_text().strip() == "1" and (hid / "subclass").read_text().strip() == "1"
    assert (hid / "report_length").read_text().strip() == "8"
    desc = (hid / "report_desc").read_bytes()
    assert desc[:4] == bytes([0x05, 0x01, 0x09, 0x06]) and desc[-1] == 0xC0  # generic desktop keyboard
    assert len(desc) == 63
    assert (g / "configs" / "c.1" / "hid.usb0").resolve() == hid.resolve()
    assert (g / "UDC").read_text().strip() == "fe980000.usb"
    again = run(tmp_path, "up")  # idempotent while bound
    assert again.returncode == 0 and "already bound" in again.stdout
    assert run(tmp_path, "status").returncode == 0


def test_without_a_device_controller_it_says_what_to_do(tmp_path):
    (tmp_path / "cfg" / "usb_gadget").mkdir(parents=True)
    env = dict(os.environ, SHIPGATE_CONFIGFS=str(tmp_path / "cfg"), SHIPGATE_UDC="")
    if Path("/sys/class/udc").is_dir() and any(Path("/sys/class/udc").iterdir()):
        pytest.skip("this machine has a USB device controller")
    result = subprocess.run(["bash", str(SCRIPT), "up"], capture_output=True, text=True, env=env, timeout=30)
    assert result.returncode == 1 and "dtoverlay=dwc2" in result.stderr


def test_the_unit_runs_the_script_before_the_station():
    text = UNIT.read_text()
    assert "ExecStart=/usr/local/sbin/shipgate-hid-gadget up" in text
    assert "Before=shipgate-station.service" in text and "Type=oneshot" in text
