"""The Douyin sandbox is a development tool: the running server never imports it.

Each check runs in a fresh interpreter, so what the test process itself imported (the sandbox, for
other tests) cannot hide or fake an import.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_create_app_and_a_request_do_not_import_the_sandbox(tmp_path):
    result = _run(
        f"""
        import sys
        from server.app import create_app
        from server.settings import Settings

        settings = Settings.build({{
            "instance_dir": {str(tmp_path / "instance")!r},
            "secret_key": "k",
            "douyin_gateway": "http://127.0.0.1:9",
        }})
        app = create_app(settings)
        assert app.test_client().get("/healthz").status_code in (200, 503)
        loaded = sorted(name for name in sys.modules if name.split(".")[0] == "douyin_sandbox")
        print("LOADED", loaded)
        """
    )
    assert result.returncode == 0, result.stderr
    assert "LOADED []" in result.stdout, result.stdout


def test_no_server_module_but_the_demo_imports_the_sandbox():
    # Import every module of the server package (the demo alone may load the sandbox, and the
    # CLI only inside its `sandbox` and `demo` commands).
    result = _run(
        """
        import importlib, pkgutil, sys
        import server

        names = [m.name for m in pkgutil.walk_packages(server.__path__, "server.")
                 if not m.name.startswith("server.migrations") and m.name != "server.demo"]
        for name in names:
            importlib.import_module(name)
        assert "server.cli" in sys.modules and "server.webhooks" in sys.modules
        loaded = sorted(name for name in sys.modules if name.split(".")[0] == "douyin_sandbox")
        print("MODULES", len(names), "LOADED", loaded)
        """
    )
    assert result.returncode == 0, result.stderr
    assert "LOADED []" in result.stdout, result.stdout


def test_the_demo_still_finds_the_sandbox():
    result = _run(
        """
        import sys
        import server.demo
        print("LOADED", "douyin_sandbox" in sys.modules)
        """
    )
    assert result.returncode == 0, result.stderr
    assert "LOADED True" in result.stdout
