#!/usr/bin/env python3
"""A long differential-fuzzing campaign: random reports over the whole documented input domain,
computed by slacalc in memory, in buckets, with fixed-width arithmetic turned off (and on Spark
with --spark), each compared field by field with the independent reference in
tests/reference.py. The test suite runs the same cases, a bounded number of them.

    .venv/bin/python bench/fuzz.py --minutes 30
    .venv/bin/python bench/fuzz.py --minutes 10 --spark

Prints how many cases each run checked and every failure hypothesis shrank (with the case that
reproduces it); exits 1 if any failed. The README quotes the last campaign.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.differential import Drawn, cases, check, run_cli  # noqa: E402

BATCH = 50  # cases per hypothesis run; a new random seed each run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to run")
    parser.add_argument("--spark", action="store_true", help="also --engine spark (slow)")
    args = parser.parse_args()
    runs = ["memory", "buckets", "python-integers"] + (["spark"] if args.spark else [])
    session = _spark() if args.spark else None
    checked: Counter[str] = Counter()
    failures: list[str] = []
    deadline = time.monotonic() + args.minutes * 60
    started = time.monotonic()
    while time.monotonic() < deadline and len(failures) < 20:
        for run in runs:
            if time.monotonic() >= deadline:
                break
            try:
                _batch(run, checked)
            except Exception:  # a shrunk counterexample: keep it and go on
                failures.append(f"[{run}]\n{traceback.format_exc(limit=-3)}")
    if session is not None:
        session.stop()
    minutes = (time.monotonic() - started) / 60
    total = sum(checked.values())
    print(
        f"{total} cases in {minutes:.1f} min: " + ", ".join(f"{n} {k}" for k, n in checked.items())
    )
    for failure in failures:
        print(failure)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


def _batch(run: str, checked: Counter[str]) -> None:
    from slacalc import speed

    examples = BATCH // 10 if run == "spark" else BATCH

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(cases(), st.integers(1, 4))
    def one(drawn: Drawn, buckets: int) -> None:
        with tempfile.TemporaryDirectory() as folder:
            if run == "buckets":
                got = run_cli(drawn, Path(folder), buckets=buckets)
            elif run == "spark":
                got = run_cli(drawn, Path(folder), spark=True)
            elif run == "python-integers":
                saved, speed.LIMIT = speed.LIMIT, 1 << 20
                try:
                    got = run_cli(drawn, Path(folder))
                finally:
                    speed.LIMIT = saved
            else:
                got = run_cli(drawn, Path(folder))
        check(drawn, got, run)
        checked[run] += 1

    one()


def _spark():
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("slacalc-fuzz")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


if __name__ == "__main__":
    sys.exit(main())
