"""One owner per device: each device module is the only importer of its library for its device,
and the forward devices are opened nowhere else (read from the sources, so it holds for every path)."""

from __future__ import annotations

import ast
from pathlib import Path

STATION = Path(__file__).resolve().parents[2] / "station"

# library -> the modules allowed to import it, each opening its own device only
OWNERS = {
    "serial": {
        "scanner.py",  # the serial scanner's port
        "ch9329.py",  # the CH9329 keyboard module's port (the inline gate)
        "light.py",  # the tower light's port
    },
    "escpos": {"printer.py"},  # the slip printer
    "evdev": {"hidscanner.py"},  # the keyboard (HID) scanner
    "usb": set(),  # pyusb only through python-escpos (printer.py)
}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
        elif _is_import_module_call(node):  # importlib.import_module("escpos.printer")
            roots.add(node.args[0].value.split(".")[0])
    return roots


def _is_import_module_call(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
        and bool(node.args)
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    )


def test_each_device_library_has_its_owners_only():
    for path in sorted(STATION.glob("*.py")):
        for library in imported_roots(path) & OWNERS.keys():
            assert path.name in OWNERS[library], f"station/{path.name} imports {library}"


def test_the_owners_do_import_their_library():
    for library, owners in OWNERS.items():
        for name in owners:
            assert library in imported_roots(STATION / name), (name, library)


def test_the_gadget_device_is_written_only_by_forward_py():
    writers = [p.name for p in STATION.glob("*.py") if "os.O_WRONLY" in p.read_text(encoding="utf-8")]
    assert writers == ["forward.py"]


def test_the_light_module_does_not_touch_the_scanner():
    assert "station.scanner" not in (STATION / "light.py").read_text(encoding="utf-8")
