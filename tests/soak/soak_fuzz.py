"""Scenario j: the fuzz suite (tests/fuzz) with the `soak` Hypothesis profile: many more
generated inputs than `make test` runs, on SQLite, bounded by a timeout."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from soak_kit import ROOT, Options, Result


def scenario_fuzz(workdir: Path, options: Options) -> Result:
    """the fuzz suite with the soak profile"""
    profile = "fuzz" if options.quick else "soak"
    result = Result("j", f"fuzz suite, Hypothesis profile {profile!r} (SQLite)")
    env = {**os.environ, "SHIPGATE_FUZZ_PROFILE": profile}
    env.pop("SHIPGATE_TEST_POSTGRES_URL", None)  # bounded: SQLite only (make test covers PostgreSQL)
    command = [sys.executable, "-m", "pytest", "tests/fuzz", "-q", "-p", "no:cacheprovider",
               "--hypothesis-show-statistics"]  # fmt: skip
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=400)
    except subprocess.TimeoutExpired:
        result.check(False, "the fuzz suite did not finish within 400 s")
        return result
    (workdir / "pytest.log").write_text(done.stdout + done.stderr)
    examples = sum(int(n) for n in re.findall(r"- (\d+) passing", done.stdout))
    summary = [line for line in done.stdout.splitlines() if re.search(r"\d+ (passed|failed)", line)]
    result.say(
        f"{summary[-1].strip('= ') if summary else 'no summary'}; {examples:,} generated inputs passed"
    )
    result.check(done.returncode == 0, f"pytest exited {done.returncode} (see {workdir / 'pytest.log'})")
    return result
