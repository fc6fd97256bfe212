"""Beyond memory: one large realistic log through the three ways slacalc computes a report.

    python bench/scale.py --rows 20000000 --memory 2G --slacalc .venv/bin/slacalc

runs, on the same log, alternated, ``--repeat`` times each:

* ``memory``: the whole log in this process (``--memory`` set far above what it needs);
* ``buckets``: read as a stream into customer buckets on disk, within ``--memory``;
* ``spark``: ``--engine spark --spark-master local[2]`` (skipped with ``--no-spark``).

Each is timed as a whole process; peak memory is the largest sum of the resident memory of
the process and all its descendants (Spark's JVM and Python workers count), sampled every
50 ms. The three outputs must be the same bytes. The log comes from gen_realistic.py and is
kept in ``--data-dir`` between runs.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import gen_realistic  # noqa: E402

AS_OF = "2025-06-01"


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and every descendant."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        child, parent = int(entry), int(fields[1])
        children.setdefault(parent, []).append(child)
        rss[child] = int(fields[21]) * page
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo.extend(children.get(p, []))
    return total


def timed(cmd: list[str], out: Path, log: Path) -> tuple[float, int, int]:
    """(wall seconds, peak tree RSS bytes, exit code) of ``cmd``."""
    start = time.perf_counter()
    with log.open("wb") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss(proc.pid))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = proc.wait()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    return wall, peak[0], code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--seed", type=int, default=20250601)
    parser.add_argument("--memory", default="2G", help="the bucketed run's --memory")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--slacalc", default="slacalc", help="the slacalc command to time")
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/slacalc-bench"))
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the measurements as JSON")
    args = parser.parse_args(argv)

    log, _ = gen_realistic.default_paths(args.rows, args.seed, args.data_dir)
    if not log.exists():
        print(f"generating {log} ...", file=sys.stderr)
        gen_realistic.write_incident_log(log, args.rows, args.seed)
    out_dir = args.data_dir / f"scale-{args.rows}"
    out_dir.mkdir(parents=True, exist_ok=True)
    common = [args.slacalc, "report", str(log), "--monthly-fee", "100", "--sla-target"]
    common += ["99.95", "--as-of", AS_OF, "-f", "csv"]
    runs = {
        "memory": ["--memory", "1T"],
        "buckets": ["--memory", args.memory],
    }
    if not args.no_spark:
        runs["spark"] = ["--engine", "spark", "--spark-master", "local[2]"]
    figures: dict[str, dict[str, list[float]]] = {n: {"wall_s": [], "peak_mb": []} for n in runs}
    for _ in range(args.repeat):
        for name, extra in runs.items():
            out = out_dir / f"{name}.csv"
            wall, peak, code = timed(
                [*common, *extra, "-o", str(out)], out, out_dir / f"{name}.stderr"
            )
            if code != 0:
                print(f"{name}: exit {code}, see {out_dir / (name + '.stderr')}", file=sys.stderr)
                return 1
            figures[name]["wall_s"].append(wall)
            figures[name]["peak_mb"].append(peak / 2**20)
            print(f"{name}: {wall:.1f} s, peak {peak / 2**20:.0f} MB", file=sys.stderr)
    same = {
        name: filecmp.cmp(out_dir / "memory.csv", out_dir / f"{name}.csv", shallow=False)
        for name in runs
    }
    size = log.stat().st_size / 2**20
    print(f"\n{args.rows:,} rows ({size:,.0f} MB of CSV), medians of {args.repeat}:\n")
    print("| run | wall s | peak MB (process tree) | same bytes as memory |")
    print("|---|---:|---:|---|")
    for name in runs:
        wall = statistics.median(figures[name]["wall_s"])
        peak = max(figures[name]["peak_mb"])
        label = f"{name} (--memory {args.memory})" if name == "buckets" else name
        print(f"| {label} | {wall:.1f} | {peak:,.0f} | {'yes' if same[name] else 'NO'} |")
    if args.json:
        args.json.write_text(json.dumps({"rows": args.rows, "runs": figures, "same": same}))
    return 0 if all(same.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
