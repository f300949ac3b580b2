"""`make soak`: reliability and security under failure, every scenario bounded, loopback only.

    python tests/soak/run.py                  all scenarios (about ten minutes)
    python tests/soak/run.py --quick          the same, scaled down (a few minutes)
    python tests/soak/run.py a d --partition-s 30
    python tests/soak/run.py --list

Each scenario ends with its own check that nothing was lost or duplicated (every scan journaled
on a station is on the server exactly once; every sandbox refund ends BLOCK/HOLD in the gate),
prints its figures, and the run ends with a summary. Exit status 1 if any check failed.
Needs: root (tmpfs for the disk-full scenario), PostgreSQL on 127.0.0.1:5432 (its own database
`shipgate_soak`; the database restart scenario restarts the whole local cluster), nginx.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for path in (HERE, ROOT / "tests", ROOT / "tests" / "bench", ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from soak_kit import Options, Result  # noqa: E402


def scenarios() -> dict:
    import soak_douyin
    import soak_fuzz
    import soak_scale
    import soak_server
    import soak_station

    return {
        "a": soak_server.scenario_server_kill,
        "b": soak_server.scenario_database_restart,
        "c": soak_station.scenario_station_kill,
        "d": soak_station.scenario_partition,
        "e": soak_douyin.scenario_douyin_storms,
        "f": soak_station.scenario_disk_full,
        "g": soak_station.scenario_clock_skew,
        "h": soak_scale.scenario_scale_out,
        "i": soak_scale.scenario_slow_loris,
        "j": soak_fuzz.scenario_fuzz,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("only", nargs="*", help="scenario letters (default: all)")
    parser.add_argument("--quick", action="store_true", help="scaled-down durations")
    parser.add_argument(
        "--partition-s", type=float, default=None, help="partition length (default 60, quick 5)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directories (logs, journals)")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    args = parser.parse_args(argv)
    table = scenarios()
    if args.list:
        for key, function in table.items():
            print(f"{key}  {function.__module__}.{function.__name__}")
        return 0
    unknown = [k for k in args.only if k not in table]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)} (see --list)")
    partition = args.partition_s if args.partition_s is not None else (5.0 if args.quick else 60.0)
    options = Options(quick=args.quick, partition_s=partition, keep=args.keep)
    root = Path(tempfile.mkdtemp(prefix="shipgate-soak-"))
    logging.basicConfig(
        filename=root / "soak.log",
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s",
    )
    print(f"shipgate soak ({'quick' if args.quick else 'full'}), work directory {root}", flush=True)
    results: list[Result] = []
    started = time.monotonic()
    for key in args.only or list(table):
        workdir = root / key
        workdir.mkdir()
        print(f"\n== {key}. {table[key].__doc__ or table[key].__name__} ==", flush=True)
        begun = time.monotonic()
        try:
            result = table[key](workdir, options)
        except Exception as exc:  # noqa: BLE001 - one broken scenario must not hide the others
            result = Result(key, table[key].__name__)
            result.check(False, f"{type(exc).__name__}: {exc}")
            traceback.print_exc()
        result.seconds = time.monotonic() - begun
        print(f"  -> {result.status} ({result.seconds:.0f} s)", flush=True)
        results.append(result)
    summary(results, time.monotonic() - started)
    if not args.keep and all(r.status != "FAIL" for r in results):
        shutil.rmtree(root, ignore_errors=True)
    else:
        print(f"logs and journals kept in {root}")
    return 1 if any(r.status == "FAIL" for r in results) else 0


def summary(results: list[Result], seconds: float) -> None:
    print(f"\n== summary ({seconds / 60:.1f} min) ==")
    for r in results:
        print(f"{r.status:4}  {r.key}. {r.title}  [{r.seconds:.0f} s]")
        if r.skipped:
            print(f"        skipped: {r.skipped}")
        for line in r.lines:
            print(f"        {line}")
        for failure in r.failures:
            print(f"        FAILED: {failure}")


if __name__ == "__main__":
    sys.exit(main())
