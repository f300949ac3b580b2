"""Headless Chromium for the console's browser tests: Debian's /usr/bin/chromium driven by
Playwright (no browser is downloaded). Shared by tests/server/console and tests/server/incidents."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    expect = sync_playwright = None

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parent / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(
        sync_playwright is None, reason="playwright is not installed (pip install playwright)"
    ),
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing (apt-get install chromium)"
    ),
]


def _real_clock_env() -> dict[str, str] | None:
    """Chromium does not run under libfaketime (`make test-clock`): with the monotonic clock real
    its page loads never finish (its timed waits get the same broken absolute deadlines as Python's
    sleep, see tests/faketime/sitecustomize.py), with it faked they hang. So there the browser
    runs on the real clock; the server it talks to keeps the shifted one."""
    if "faketime" not in os.environ.get("LD_PRELOAD", ""):
        return None
    return {k: v for k, v in os.environ.items() if k != "LD_PRELOAD" and not k.startswith("FAKETIME")}


def launch():
    """Yield a launched headless Chromium (use from a module-scoped fixture)."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, env=_real_clock_env()
        )
        yield chromium
        chromium.close()
