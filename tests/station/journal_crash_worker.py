"""A station process to kill: used by test_station_journal.py (not a test module itself).

python journal_crash_worker.py scan DATA_DIR SERVER_URL COUNT
    journal and decide COUNT scans (offline if the server is away), printing each code once
    its handle() returned; the parent SIGKILLs us mid-burst.
python journal_crash_worker.py upload DATA_DIR SERVER_URL
    upload the journal's queue; the parent SIGKILLs us mid-upload.
"""

from __future__ import annotations

import sys
from pathlib import Path

from station.bench import Bench
from station.client import GateClient
from station.journal import Journal
from station.replica import Replica
from station.uplink import LinkStatus, Uplink

TOKEN = "station-test-token"


def main() -> None:
    phase, data_dir, url = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    client = GateClient(url, TOKEN, budget_s=0.3, sync_timeout_s=10.0)
    replica = Replica(data_dir / "replica.sqlite3")
    journal = Journal(data_dir / "journal.sqlite3")
    if phase == "scan":
        bench = Bench(None, client, replica, journal, None, None, station_name="crash", mode="bench")
        print("ready", flush=True)
        for i in range(int(sys.argv[4])):
            code = f"69{i:017d}"
            bench.handle(code)
            print(code, flush=True)
    else:
        uplink = Uplink(client, replica, journal, LinkStatus(), status=dict)
        print("ready", flush=True)
        uplink.upload_pending()
        print("done", flush=True)


if __name__ == "__main__":
    main()
