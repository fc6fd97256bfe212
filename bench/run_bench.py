"""Benchmark slacalc's `report` against hand-written baselines, as whole processes.

Two shapes of log (--shape):

realistic (issue 8, see month_end.py): month-end logs with partial impacts,
  maintenance windows, data loss and N/10 customers.  slacalc report -f csv -o OUT runs
  against bench/duckdb_report.py, a DuckDB script that writes the same full report;
  the two CSV files must be byte-identical.  slacalc validate and slacalc explain (one
  row) are timed too.  --contracts prices the keys with a generated contracts file
  instead of --monthly-fee 100 --sla-target 99.95.

outages (the default, which the project README's figures use): every row an outage at
  impact 1.  For each --rows size, --repeat times, round-robin (to spread machine noise
  evenly):

  * slacalc        whole process: slacalc report FILE --format csv -o OUT ...
  * duckdb, pandas whole process: python bench/baselines.py ENGINE FILE -o OUT
  * duckdb, pandas in process:    the same functions called in this interpreter,
                                  timed from reading the CSV to the fetched result

  then checks that every engine's downtime per (customer_id, service, month) agrees
  exactly (Decimal), over the non-zero entries.

Wall times are medians.  Every whole process is started by spawn_probe.py, a
tiny interpreter that spawns it and os.wait4()s that one child: its own wall
time and peak RSS (ru_maxrss), not a max over all children and not inflated by
this benchmark's own memory (see spawn_probe.py).

Exit status: 0 all agree, 1 a disagreement or a failed run.  If slacalc is not
installed it is skipped.

Run with the benchmark venv (duckdb, pandas, numpy):
    /tmp/benchvenv/bin/python bench/run_bench.py --shape realistic --rows 200000 1000000
    /tmp/benchvenv/bin/python bench/run_bench.py --rows 100000 200000 1000000
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shlex
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import baselines
import gen_incidents
import month_end
from procs import EngineStats, fmt, grid, ratio, time_process

BENCH_DIR = Path(__file__).resolve().parent
# tried in order when --slacalc is not given; then slacalc on PATH
SLACALC_CANDIDATES = (Path("/work/main/.venv/bin/slacalc"), Path("/tmp/venv/bin/slacalc"))
DEFAULT_DATA_DIR = Path("/tmp/slacalc-bench")
BILLING_TZ = "Asia/Shanghai"
ZERO = Decimal(0)
REFERENCE = "duckdb (in-process)"

PROCESS_ENGINES = ("slacalc", "duckdb", "pandas")
INPROC_ENGINES = ("duckdb", "pandas")
InprocFn = Callable[[Path, str], list[baselines.DowntimeRow]]
INPROC_FUNCS: dict[str, InprocFn] = {
    "duckdb": baselines.duckdb_downtime,
    "pandas": baselines.pandas_downtime,
}


@dataclass
class SizeResult:
    rows: int
    data_path: Path
    gen_s: float | None
    process: dict[str, EngineStats]
    inproc: dict[str, EngineStats]
    agreement: dict[str, str] = field(default_factory=dict)  # engine -> "OK" / problem


# ---------------------------------------------------------------- processes


def slacalc_command(slacalc: Sequence[str], data: Path, out: Path, as_of: str) -> list[str]:
    return [
        *slacalc,
        "report",
        str(data),
        "--monthly-fee",
        "100",
        "--sla-target",
        "99.95",
        "--tz",
        BILLING_TZ,
        "--as-of",
        as_of,
        "--format",
        "csv",
        "-o",
        str(out),
    ]


def baseline_command(engine: str, data: Path, out: Path, as_of: str) -> list[str]:
    script = BENCH_DIR / "baselines.py"
    return [sys.executable, str(script), engine, str(data), "--as-of", as_of, "-o", str(out)]


def resolve_slacalc(option: str | None, skip: bool) -> list[str] | None:
    """The slacalc command (argv prefix), or None when it is to be skipped."""
    if skip:
        return None
    if option:
        return shlex.split(option)
    for candidate in SLACALC_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return [str(candidate)]
    found = shutil.which("slacalc")
    return [found] if found else None


# ---------------------------------------------------------------- one size


def ensure_data(rows: int, seed: int, data_dir: Path, regen: bool) -> tuple[Path, float | None]:
    """The incident log for ``rows``, generated unless cached; (path, generation seconds)."""
    path = gen_incidents.default_path(rows, seed, data_dir)
    if path.exists() and not regen:
        return path, None
    start = time.perf_counter()
    gen_incidents.write_incident_log(path, rows, seed)
    return path, time.perf_counter() - start


def _time_inproc(
    fn: InprocFn, data: Path, as_of: str, stats: EngineStats
) -> list[baselines.DowntimeRow]:
    start = time.perf_counter()
    rows = fn(data, as_of)
    stats.wall_s.append(time.perf_counter() - start)
    return rows


def bench_size(args: argparse.Namespace, rows: int, slacalc: list[str] | None) -> SizeResult:
    data, gen_s = ensure_data(rows, args.seed, args.data_dir, args.regen)
    if gen_s is not None:
        print(f"generated {rows} rows in {gen_s:.1f} s -> {data}", file=sys.stderr)
    out_dir = args.data_dir / f"out-{rows}"
    out_dir.mkdir(parents=True, exist_ok=True)
    engines = [e for e in PROCESS_ENGINES if e != "slacalc" or slacalc is not None]
    result = SizeResult(
        rows,
        data,
        gen_s,
        {e: EngineStats() for e in engines},
        {e: EngineStats() for e in INPROC_ENGINES},
    )
    inproc_rows: dict[str, list[baselines.DowntimeRow]] = {}
    for rep in range(args.repeat):
        for engine in engines:
            stats = result.process[engine]
            if stats.failed:
                continue
            out = out_dir / f"{engine}.csv"
            if engine == "slacalc" and slacalc is not None:
                cmd = slacalc_command(slacalc, data, out, args.as_of)
            else:
                cmd = baseline_command(engine, data, out, args.as_of)
            time_process(engine, cmd, out_dir, stats, args.timeout)
        for engine in INPROC_ENGINES:
            got = _time_inproc(INPROC_FUNCS[engine], data, args.as_of, result.inproc[engine])
            if rep == 0:
                inproc_rows[engine] = got
        print(f"  rows={rows} repeat {rep + 1}/{args.repeat} done", file=sys.stderr, flush=True)
    result.agreement = check_agreement(result, out_dir, inproc_rows)
    return result


# ---------------------------------------------------------------- agreement


def diff_maps(
    reference: baselines.DowntimeMap, other: baselines.DowntimeMap, limit: int = 10
) -> list[str]:
    """Human-readable differences (first ``limit``), empty when equal."""
    problems: list[str] = []
    for key in sorted(reference.keys() | other.keys()):
        ref, got = reference.get(key, ZERO), other.get(key, ZERO)
        if ref != got:
            problems.append(f"{'/'.join(key)}: {REFERENCE} {ref} s, this engine {got} s")
            if len(problems) >= limit:
                break
    return problems


def check_agreement(
    result: SizeResult, out_dir: Path, inproc_rows: dict[str, list[baselines.DowntimeRow]]
) -> dict[str, str]:
    """Compare every engine's output with the in-process DuckDB result."""
    reference = baselines.to_downtime_map(inproc_rows["duckdb"])
    outcomes: dict[str, str] = {}
    candidates: dict[str, Callable[[], baselines.DowntimeMap]] = {
        "pandas (in-process)": lambda: baselines.to_downtime_map(inproc_rows["pandas"]),
    }
    for engine, stats in result.process.items():
        label = engine if engine == "slacalc" else f"{engine} (process)"
        if stats.failed:
            outcomes[label] = f"FAILED {stats.failed}"
            continue
        candidates[label] = functools.partial(
            baselines.read_downtime_csv, out_dir / f"{engine}.csv"
        )
    for label, load in candidates.items():
        try:
            problems = diff_maps(reference, load())
        except (OSError, KeyError, ValueError, ArithmeticError) as exc:
            problems = [f"cannot read output: {exc!r}"]
        outcomes[label] = "OK" if not problems else "DIFFERS\n      " + "\n      ".join(problems)
    return outcomes


# ---------------------------------------------------------------- report


def _medians(r: SizeResult) -> dict[str, float | None]:
    slc = r.process.get("slacalc")
    return {
        "slacalc": slc.median_wall() if slc else None,
        "duckdb proc": r.process["duckdb"].median_wall(),
        "duckdb in": r.inproc["duckdb"].median_wall(),
        "pandas proc": r.process["pandas"].median_wall(),
        "pandas in": r.inproc["pandas"].median_wall(),
    }


def render_times(results: list[SizeResult]) -> str:
    """Median wall seconds per engine, and peak RSS (MB) of the whole processes."""
    header = ["rows", "slacalc", "duckdb proc", "duckdb in", "pandas proc", "pandas in"]
    header += ["slacalc MB", "duckdb MB", "pandas MB"]
    body = []
    for r in results:
        times = [fmt(t) for t in _medians(r).values()]
        rss = [r.process[e].max_rss() if e in r.process else None for e in PROCESS_ENGINES]
        body.append([str(r.rows), *times, *(fmt(m, ".0f") for m in rss)])
    return grid(header, body)


def render_ratios(results: list[SizeResult]) -> str:
    """slacalc median / baseline median: process vs process, and vs the in-process query."""
    columns = ["duckdb proc", "duckdb in", "pandas proc", "pandas in"]
    header = ["rows", *(f"slacalc/{b}" for b in columns)]
    body = []
    for r in results:
        med = _medians(r)
        body.append([str(r.rows), *(fmt(ratio(med["slacalc"], med[b]), ".1f") for b in columns)])
    return grid(header, body)


def results_json(results: list[SizeResult]) -> list[dict[str, object]]:
    return [
        {
            "rows": r.rows,
            "data": str(r.data_path),
            "process": {e: s.to_json() for e, s in r.process.items()},
            "in_process": {e: s.to_json() for e, s in r.inproc.items()},
            "agreement": r.agreement,
        }
        for r in results
    ]


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--shape",
        choices=("outages", "realistic"),
        default="outages",
        help="outages: downtime of impact-1 outages against the DuckDB and pandas baselines "
        "(default); realistic: the full report against duckdb_report.py",
    )
    parser.add_argument(
        "--rows", type=int, nargs="+", default=[200_000], help="log sizes (default 200000)"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per engine and size (default 3)"
    )
    parser.add_argument(
        "--seed", type=int, default=gen_incidents.DEFAULT_SEED, help="generator seed"
    )
    parser.add_argument(
        "--as-of", default=baselines.DEFAULT_AS_OF, help="end of ongoing incidents (local time)"
    )
    parser.add_argument(
        "--slacalc",
        help="slacalc command, shell-split (default: the first of "
        f"{', '.join(map(str, SLACALC_CANDIDATES))} that exists, else slacalc on PATH)",
    )
    parser.add_argument("--skip-slacalc", action="store_true", help="run the baselines only")
    parser.add_argument(
        "--contracts",
        action="store_true",
        help="realistic: price with a generated contracts file, not --monthly-fee 100",
    )
    parser.add_argument(
        "--skip-extras", action="store_true", help="realistic: do not time validate and explain"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help="logs and outputs (default %(default)s)",
    )
    parser.add_argument("--regen", action="store_true", help="regenerate logs even if cached")
    parser.add_argument(
        "--timeout", type=float, default=1800, help="seconds before a process run is killed"
    )
    parser.add_argument("--json", type=Path, help="also write the raw measurements as JSON")
    args = parser.parse_args(argv)
    if args.repeat < 1 or any(n < 1 for n in args.rows):
        parser.error("--rows and --repeat must be positive")
    if args.shape == "outages" and (args.contracts or args.skip_extras):
        parser.error("--contracts and --skip-extras go with --shape realistic")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    slacalc = resolve_slacalc(args.slacalc, args.skip_slacalc)
    if slacalc is None:
        reason = "--skip-slacalc" if args.skip_slacalc else "not found; pass --slacalc CMD"
        print(f"slacalc SKIPPED ({reason}); running the baselines only", file=sys.stderr)
    if args.shape == "realistic":
        return main_month_end(args, slacalc)
    return main_outages(args, slacalc)


def main_month_end(args: argparse.Namespace, slacalc: list[str] | None) -> int:
    results = [
        month_end.bench_size(
            rows,
            slacalc,
            seed=args.seed,
            data_dir=args.data_dir,
            repeat=args.repeat,
            as_of=args.as_of,
            contracts=args.contracts,
            extras=not args.skip_extras,
            regen=args.regen,
            timeout_s=args.timeout,
        )
        for rows in args.rows
    ]
    print(f"\n{args.repeat} run(s) each, slacalc = {shlex.join(slacalc) if slacalc else '-'}")
    print(month_end.render(results))
    if args.json:
        data = month_end.results_json(results)
        args.json.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return 1 if month_end.failed(results) else 0


def main_outages(args: argparse.Namespace, slacalc: list[str] | None) -> int:
    results: list[SizeResult] = []
    for rows in args.rows:
        result = bench_size(args, rows, slacalc)
        results.append(result)
    ok = True
    print("\nagreement: downtime per (customer, service, month), exact, non-zero entries,")
    print("compared with in-process DuckDB")
    for r in results:
        for label, outcome in r.agreement.items():
            print(f"  rows={r.rows} {label}: {outcome}")
            ok = ok and outcome == "OK"
    if slacalc is None:
        print("  slacalc: SKIPPED")
    print(f"\nmedian wall time of {args.repeat} run(s), seconds (proc = whole process,")
    print("in = in this interpreter, CSV read to result); MB = peak RSS of the process")
    print(render_times(results))
    print("\nratios of the medians (slacalc is always a whole process)")
    print(render_ratios(results))
    if args.json:
        args.json.write_text(json.dumps(results_json(results), indent=2), encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
