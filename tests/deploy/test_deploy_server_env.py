"""deploy/server.env.example: documents every server setting, and the server accepts all its values."""

from __future__ import annotations

import dataclasses
import re

import pytest

LINE = re.compile(r"^#?(SHIPGATE_[A-Z0-9_]+)=(.*)$")


def example_values(deploy_dir) -> tuple[dict[str, str], dict[str, str]]:
    """(active settings, commented-out defaults) as written in the example file."""
    active, commented = {}, {}
    for line in (deploy_dir / "server.env.example").read_text(encoding="utf-8").splitlines():
        m = LINE.match(line)
        if m:
            (commented if line.startswith("#") else active)[m.group(1)] = m.group(2)
    return active, commented


def test_example_lists_every_setting(deploy_dir):
    settings = pytest.importorskip("server.settings")
    active, commented = example_values(deploy_dir)
    documented = set(active) | set(commented)
    expected = {
        "SHIPGATE_" + f.name.upper() for f in dataclasses.fields(settings.Settings) if f.name != "extra"
    }
    assert expected - documented == set(), "settings missing from server.env.example"
    assert documented - expected == set(), "server.env.example names settings the server does not know"


def test_server_accepts_every_value_in_the_example(deploy_dir):
    settings = pytest.importorskip("server.settings")
    active, commented = example_values(deploy_dir)
    built = settings.Settings.from_env({**commented, **active})
    assert built.production is True
    assert built.trusted_proxy is True
    assert built.secret_key == active["SHIPGATE_SECRET_KEY"]
    # The commented lines are the defaults: uncommenting them changes nothing.
    defaults = settings.Settings.from_env({**active, "SHIPGATE_INSTANCE_DIR": "/var/lib/shipgate"})
    assert dataclasses.replace(built, extra={}) == dataclasses.replace(defaults, extra={})
    # Production without a secret key is refused: the example's promise holds.
    with pytest.raises(settings.SettingsError):
        settings.Settings.from_env({"SHIPGATE_PRODUCTION": "1"})
