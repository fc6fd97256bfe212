"""Time `slacalc explain` on one key with many incidents (default: a million), as a whole process.

    python tests/scale_explain.py [ROWS]

Builds a May 2025 log of ROWS short, overlapping incidents of one key (a share with partial
impact, one in 97 a maintenance window), then times `explain` writing its table to a file and
reports the phases measured in process. Not part of the test suite (it takes tens of seconds);
tests/test_explain.py::test_explain_scales runs the same at 100,000 rows.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def write_log(path: Path, rows: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    base = 1746028800  # 2025-05-01 00:00 +08:00
    with path.open("w", encoding="utf-8") as fh:
        fh.write("start,end,customer_id,service,incident_id,category,impact\n")
        for i in range(rows):
            s = base + rng.randrange(0, 31 * 86400 - 600)
            e = s + rng.randrange(1, 300)
            start = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(s + 8 * 3600))
            end = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(e + 8 * 3600))
            category = "maintenance" if i % 97 == 0 else "outage"
            impact = "" if i % 5 else "0.5"
            fh.write(f"{start},{end},acme,compute,INC-{i},{category},{impact}\n")


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "key.csv"
        write_log(log, rows)
        out = Path(folder) / "explain.txt"
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "slacalc",
                "explain",
                str(log),
                "--monthly-fee",
                "100",
                "--as-of",
                "2025-07-01",
                "--customer",
                "acme",
                "--month",
                "2025-05",
                "-o",
                str(out),
            ],
            check=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        took = time.perf_counter() - started
        print(f"{rows:,} incidents: explain took {took:.1f} s, {out.stat().st_size >> 20} MB")


if __name__ == "__main__":
    main()
