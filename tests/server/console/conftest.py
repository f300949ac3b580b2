"""Console fixtures: the console's tables registered. Open exceptions made the real way (a station
scan: station_scan, blocked, count, snapshot) and users of each role and the signed-in client are
in tests/server/conftest.py."""

from __future__ import annotations

import server.models.users  # noqa: F401 - registers the console's tables, so the shared wipe clears them
