"""`make bench`: every benchmark in one run, each printing its figures and ratios.

Benchmarks measure; they never assert timings. Run one part with `make bench PART=gate`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

PARTS = ["gate", "scan_cpu", "ingest", "freshness", "station"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("parts", nargs="*", default=PARTS, help=f"which benchmarks (default all: {PARTS})")
    parser.add_argument("--seconds", type=float, default=10.0, help="load duration per phase")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="gate: run on this PostgreSQL database (emptied first) instead of SQLite",
    )
    parser.add_argument(
        "--processes", type=int, default=1, help="gate: server processes a side, behind nginx"
    )
    parser.add_argument("--rounds", type=int, default=1, help="gate: measure every endpoint this many times")
    parser.add_argument(
        "--profile", metavar="DIR", type=Path, help="gate: py-spy the project under load; stacks into DIR"
    )
    args = parser.parse_args()
    for part in args.parts:
        print(f"\n== {part} ==")
        if part == "gate":
            import gate

            gate.main(
                seconds=args.seconds,
                postgres=args.postgres,
                processes=args.processes,
                rounds=args.rounds,
                profile=args.profile,
            )
        elif part == "scan_cpu":
            import scan_cpu

            scan_cpu.main()
        elif part == "station":
            import station_path

            station_path.main()
        elif part == "freshness":
            import freshness

            freshness.main()
        elif part == "ingest":
            import ingest

            ingest.main()
        else:
            parser.error(f"unknown benchmark {part!r}")


if __name__ == "__main__":
    main()
