#!/usr/bin/env python3
"""What each of slacalc's speed tricks is worth: the realistic month-end report, with all of
slacalc/speed.py's tricks on and with each one turned off (SLACALC_SPEED_OFF), as whole
processes, round-robin, medians; every output must be the same bytes.

    python bench/tricks.py --rows 1000000 --repeat 3 --slacalc .venv/bin/slacalc

A trick whose "off" run is not slower than "all on" does not pay and should go.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shlex
import statistics
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

from procs import grid, rotated, run_process  # noqa: E402

from slacalc.speed import TRICKS  # noqa: E402

AS_OF = "2025-06-01T00:00:00"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--slacalc", default=str(BENCH.parent / ".venv" / "bin" / "slacalc"))
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/slacalc-bench"))
    parser.add_argument("--contracts", action="store_true", help="price with a contracts file")
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    log = args.data_dir / f"realistic-{args.rows}.csv"
    contracts = args.data_dir / f"realistic-{args.rows}-contracts.csv"
    if not log.exists() or (args.contracts and not contracts.exists()):
        import gen_incidents

        gen_incidents.main(
            ["--shape", "realistic", "--rows", str(args.rows), "-o", str(log)]
            + (["--contracts", str(contracts)] if args.contracts else [])
        )
    pricing = (
        ["--contracts", str(contracts)]
        if args.contracts
        else ["--monthly-fee", "100", "--sla-target", "99.95"]
    )
    variants = ["all on", *TRICKS]
    times: dict[str, list[float]] = {v: [] for v in variants}
    peaks: dict[str, list[float]] = {v: [] for v in variants}
    outputs: dict[str, Path] = {}
    for rep in range(args.repeat):
        for variant in rotated(variants, rep):
            out = args.data_dir / f"tricks-{variant.replace(' ', '-')}.csv"
            cmd = [*shlex.split(args.slacalc), "report", str(log), *pricing]
            cmd += ["--as-of", AS_OF, "-f", "csv", "-o", str(out)]
            os.environ["SLACALC_SPEED_OFF"] = "" if variant == "all on" else variant
            run = run_process(cmd, out.with_suffix(".out"), out.with_suffix(".err"), 600)
            if run.exit_code != 0:
                print(f"{variant}: exit {run.exit_code}", file=sys.stderr)
                return 1
            times[variant].append(run.wall_s)
            peaks[variant].append(run.maxrss_mb)
            outputs[variant] = out
    base = statistics.median(times["all on"])
    same = all(filecmp.cmp(outputs["all on"], p, shallow=False) for p in outputs.values())
    rows = []
    for v in variants:
        t = statistics.median(times[v])
        worth = "" if v == "all on" else f"{(t / base - 1) * 100:+.0f} %"
        rows.append([v, f"{t:.2f} s", worth, f"{max(peaks[v]):.0f} MB", TRICKS.get(v, "")])
    print(f"{args.rows:,} realistic rows, {args.repeat} runs each, medians, round-robin")
    print(grid(["off", "wall", "vs all on", "peak", "what"], rows))
    print("outputs: the same bytes" if same else "outputs DIFFER")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
