"""One owner per device: only the module named for a device imports its library."""

from __future__ import annotations

import ast
from pathlib import Path

STATION = Path(__file__).resolve().parents[2] / "station"
# library -> the station modules allowed to import it (each opens its own device only)
OWNERS = {
    "serial": {"scanner.py", "light.py"},  # the scanner's port; the tower light's port
    "escpos": {"printer.py"},
    "usb": set(),
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", None) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.add(str(node.args[0].value).split(".")[0])
    return names


def test_each_device_library_has_its_owners_only():
    found: dict[str, set[str]] = {library: set() for library in OWNERS}
    for path in STATION.glob("*.py"):
        for library in _imports(path) & OWNERS.keys():
            found[library].add(path.name)
    assert found == OWNERS


def test_the_light_module_does_not_touch_the_scanner():
    assert "station.scanner" not in (STATION / "light.py").read_text()
