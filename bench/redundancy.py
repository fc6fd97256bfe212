#!/usr/bin/env python3
"""The redundancy benchmark (issue 22, item 4): a redundancy report against the plain report of
the same log, as whole processes, alternating, medians.

    python bench/redundancy.py --rows 200000 1000000 --repeat 5

On a realistic log with zones (gen_zones.py: gen_realistic.py's log with a zone column, three
zones per key, and its deployments file), two commands are timed:

  * redundancy  slacalc report LOG --policy P --deployments DEPLOY --monthly-fee 100
                --tz Asia/Shanghai --as-of 2025-06-01T00:00:00 -f csv -o OUT
  * plain       slacalc report LOG --policy P-plain --monthly-fee 100 (the same options)

"The plain report of the same log" is the same file (its zone column read, then ignored: every
row downs its whole key) under the same preset with its [redundancy] table taken out
(P-plain: the same tiers, credits and pricing), without --deployments. The difference is what
redundancy costs: reading the deployments file, the zone transform, and the engine on the
key-level rows it makes. The target: redundancy <= 1.5x plain, at every size.

Runs alternate (each repetition, the other one starts), each is a whole process (interpreter,
imports, work, output), timed by spawn_probe.py like the other benchmarks. Medians of the wall
times, peak RSS as the maximum. Exit status 0 when every run succeeded and every ratio meets
the target, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import gen_zones  # noqa: E402
from procs import EngineStats, fmt, grid, ratio, rotated, time_process  # noqa: E402

AS_OF = "2025-06-01T00:00:00"
BILLING_TZ = "Asia/Shanghai"
TARGET = 1.5
PRESETS = BENCH.parent / "slacalc" / "presets"
NAMES = ("redundancy", "plain")


def plain_policy(policy: str, data_dir: Path) -> tuple[Path, Path]:
    """The policy file of ``policy`` (a preset name or a TOML file) and a copy of it without
    its ``[redundancy]`` table, named ``NAME-plain``."""
    source = Path(policy) if policy.endswith(".toml") else PRESETS / f"{policy}.toml"
    text = source.read_text(encoding="utf-8")
    # the table runs from its header to the next header (or the end)
    plain, found = re.subn(r"(?ms)^\[redundancy\]\s*\n.*?(?=^\[|\Z)", "", text)
    if not found:
        raise SystemExit(f"{source}: no [redundancy] table: nothing to compare")
    plain = re.sub(r'(?m)^name\s*=\s*"([^"]*)"', r'name = "\1-plain"', plain, count=1)
    out = data_dir / f"{source.stem}-plain.toml"
    out.write_text(plain, encoding="utf-8")
    return source, out


def command(slacalc: list[str], log: Path, policy: Path, deploy: Path | None, out: Path) -> list:
    cmd = [*slacalc, "report", str(log), "--policy", str(policy), "--monthly-fee", "100"]
    if deploy is not None:
        cmd += ["--deployments", str(deploy)]
    return [*cmd, "--tz", BILLING_TZ, "--as-of", AS_OF, "-f", "csv", "-o", str(out)]


def lines(path: Path) -> int:
    with path.open("rb") as fh:
        return max(sum(1 for _ in fh) - 1, 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[200_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--policy", default="azure-vm", help="a preset with [redundancy]")
    parser.add_argument("--slacalc", default=str(BENCH.parent / ".venv" / "bin" / "slacalc"))
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/slacalc-bench"))
    parser.add_argument("--regen", action="store_true", help="rebuild the cached logs")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--json", type=Path, help="write the raw timings here")
    args = parser.parse_args(argv)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    slacalc = shlex.split(args.slacalc)
    policy, plain = plain_policy(args.policy, args.data_dir)
    ok = True
    table, raw = [], {}
    for rows in args.rows:
        log, deploy = gen_zones.default_paths(rows, args.seed, args.data_dir)
        if args.regen or not (log.exists() and deploy.exists()):
            began = time.perf_counter()
            gen_zones.write(log, deploy, rows, args.seed)
            print(f"generated {rows:,} rows in {time.perf_counter() - began:.1f} s", flush=True)
        out_dir = args.data_dir / f"redundancy-{rows}"
        out_dir.mkdir(exist_ok=True)
        outs = {name: out_dir / f"{name}.csv" for name in NAMES}
        cmds = {
            "redundancy": command(slacalc, log, policy, deploy, outs["redundancy"]),
            "plain": command(slacalc, log, plain, None, outs["plain"]),
        }
        stats = {name: EngineStats() for name in NAMES}
        for rep in range(args.repeat):
            for name in rotated(NAMES, rep):
                time_process(name, cmds[name], out_dir, stats[name], args.timeout)
                if stats[name].failed:
                    print(f"{rows:,} {name}: {stats[name].failed}", file=sys.stderr)
                    ok = False
                    break
            if not ok:
                break
        if not ok:
            break
        red, base = stats["redundancy"].median_wall(), stats["plain"].median_wall()
        r = ratio(red, base)
        ok &= r is not None and r <= TARGET
        table.append(
            [
                f"{rows:,}",
                f"{fmt(base)} s",
                f"{fmt(red)} s",
                fmt(r),
                f"{fmt(stats['plain'].max_rss(), '.0f')}",
                f"{fmt(stats['redundancy'].max_rss(), '.0f')}",
                f"{lines(outs['plain']):,}",
                f"{lines(outs['redundancy']):,}",
            ]
        )
        raw[rows] = {name: s.to_json() for name, s in stats.items()}
        print(f"{rows:,} rows: plain {fmt(base)} s, redundancy {fmt(red)} s, ratio {fmt(r)}")
    print()
    print(
        f"policy {policy.stem} vs {plain.stem}, {args.repeat} runs each, alternating, medians; "
        f"target redundancy / plain <= {TARGET}"
    )
    header = ["rows", "plain", "redundancy", "ratio", "plain MB", "red. MB"]
    print(grid([*header, "plain rows out", "red. rows out"], table))
    if args.json:
        args.json.write_text(json.dumps(raw, indent=2), encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
