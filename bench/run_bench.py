"""Benchmark slacalc's `report` against hand-written baselines, as whole processes.

Two shapes of log (--shape):

realistic (issues 8 and 19, see month_end.py): month-end logs with partial impacts,
  maintenance windows, data loss and N/10 customers.  slacalc report -f csv -o OUT runs,
  round-robin, against two hand-written scripts that write the same full report:
  bench/duckdb_report.py and bench/polars_report.py.  The three CSV files must agree byte
  for byte in the 18 columns the scripts write (slacalc adds its policy columns after
  them).  slacalc's time target is against the faster of the two.  slacalc validate and
  slacalc explain (one row) are timed too.  --contracts prices the keys with a generated
  contracts file instead of --monthly-fee 100 --sla-target 99.95.

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

Run with the benchmark venv (duckdb, pandas, numpy, polars):
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
from procs import EngineStats, fmt, grid, ratio, rotated, time_process
from report_diff import ReportDiff, compare_reports

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
        "(default); realistic: the full report against duckdb_report.py and polars_report.py",
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


# ---------------------------------------------------------------- month end (realistic)

# The full report, three ways.  The baselines write the same 18 columns; slacalc adds its
# policy columns after them.
BASELINES = ("duckdb-report", "polars-report")
MONTH_END_REPORTS = ("slacalc", *BASELINES)
FLAT = "slacalc-flat"  # with --contracts: slacalc's report of the same log with --monthly-fee


@dataclass
class MonthEndRun(month_end.MonthEndResult):
    """month_end's result for one size, with one comparison per report against the reference."""

    # (report, reference) -> comparison; the reference is the first baseline with a file
    diffs: dict[tuple[str, str], ReportDiff] = field(default_factory=dict)

    @property
    def agreed(self) -> bool:
        return self.problem is None and all(_agrees(a, d) for (a, _), d in self.diffs.items())

    def faster_baseline(self) -> str | None:
        timed = [(self.median(b), b) for b in BASELINES if self.median(b) is not None]
        return min(timed)[1] if timed else None

    def smaller_peak(self) -> float | None:
        """The smaller of the baselines' peak RSS."""
        peaks = [p for b in BASELINES if (p := self.rss(b)) is not None]
        return min(peaks) if peaks else None


def _agrees(report: str, diff: ReportDiff) -> bool:
    """Byte-identical; slacalc's report may add columns after the baselines' 18 (then every
    row's cells must match theirs, in order)."""
    return diff.identical or (report == "slacalc" and diff.shared > 0)


def _agreement(report: str, reference: str, diff: ReportDiff) -> str:
    if not _agrees(report, diff) and diff.shared:  # the same cells, other bytes
        return "DIFFER: the same cells, not the same bytes (quoting or line endings)"
    return diff.summary(report, reference)


def report_baseline_command(
    name: str, log: Path, contracts: Path | None, out: Path, as_of: str
) -> list[str]:
    """duckdb_report.py or polars_report.py, with the pricing slacalc gets."""
    if name == "duckdb-report":
        return month_end.duckdb_command(log, contracts, out, as_of)
    script = BENCH_DIR / "polars_report.py"
    pricing = month_end._pricing(contracts)
    return [sys.executable, str(script), str(log), *pricing, "--as-of", as_of, "-o", str(out)]


def bench_month_end(args: argparse.Namespace, rows: int, slacalc: list[str] | None) -> MonthEndRun:
    """slacalc report, duckdb_report.py and polars_report.py, round-robin, --repeat times
    (then validate and explain, unless --skip-extras); then the reports compared."""
    log, contracts, gen_s = month_end.ensure_logs(
        rows, args.seed, args.data_dir, contracts=args.contracts, regen=args.regen
    )
    if gen_s is not None:
        print(f"generated {rows} realistic rows in {gen_s:.1f} s -> {log}", file=sys.stderr)
    out_dir = args.data_dir / f"out-realistic-{rows}{'-contracts' if args.contracts else ''}"
    out_dir.mkdir(parents=True, exist_ok=True)
    names = [n for n in MONTH_END_REPORTS if n != "slacalc" or slacalc]
    # with contracts, slacalc's report of the same log with --monthly-fee too (issue 19: the
    # contracts run within 1.2x of it), in the same rotation
    flat = [FLAT] if slacalc and contracts else []
    extras = bool(slacalc) and not args.skip_extras
    if extras:
        names += month_end.EXTRAS
    result = MonthEndRun(rows, log, contracts, gen_s, {n: EngineStats() for n in names + flat})
    outputs = {n: out_dir / f"{n}.csv" for n in MONTH_END_REPORTS if n in result.stats}
    for output in outputs.values():
        output.unlink(missing_ok=True)
    for rep in range(args.repeat):
        for name in rotated([*outputs, *flat], rep):
            if result.stats[name].failed:
                continue
            if name == FLAT:
                out = out_dir / f"{FLAT}.csv"
                cmd = month_end.report_command(slacalc or [], log, None, out, args.as_of)
            elif name == "slacalc":
                cmd = month_end.report_command(
                    slacalc or [], log, contracts, outputs[name], args.as_of
                )
            else:
                cmd = report_baseline_command(name, log, contracts, outputs[name], args.as_of)
            time_process(name, cmd, out_dir, result.stats[name], args.timeout)
        if extras:
            month_end._run_extras(result, slacalc or [], out_dir, outputs, args.as_of, args.timeout)
        print(f"  rows={rows} repeat {rep + 1}/{args.repeat} done", file=sys.stderr, flush=True)
    compare_month_end(result, outputs)
    return result


def compare_month_end(result: MonthEndRun, outputs: dict[str, Path]) -> None:
    """Every report against the reference (the first baseline with a file): byte-identical,
    or, for slacalc, identical in the 18 columns the baselines write.  A report that failed
    or wrote nothing is a problem."""
    missing = {
        name: result.stats[name].failed or "wrote no file"
        for name, path in outputs.items()
        if result.stats[name].failed or not path.exists()
    }
    if missing:
        result.problem = "; ".join(f"{name} {why}" for name, why in missing.items())
    present = [name for name in outputs if name not in missing]
    reference = next((b for b in BASELINES if b in present), None)
    for name in present:
        if name != reference:
            result.diffs[name, reference] = compare_reports(outputs[name], outputs[reference])


def _ratio(a: float | None, b: float | None) -> str:
    return fmt(ratio(a, b))


def render_month_end(results: list[MonthEndRun]) -> str:
    """Medians, peak RSS, slacalc's ratios to each baseline and to the faster one; the targets
    (time against the faster baseline, RSS against DuckDB as issue 8 set it); agreement."""
    times = []
    for r in results:
        slc = r.median("slacalc")
        faster = r.faster_baseline()
        times.append(
            [
                str(r.rows),
                *(fmt(r.median(n)) for n in MONTH_END_REPORTS),
                _ratio(slc, r.median("duckdb-report")),
                _ratio(slc, r.median("polars-report")),
                f"{_ratio(slc, r.median(faster) if faster else None)} ({faster or '-'})",
            ]
        )
    memory = []
    for r in results:
        validate = r.median("validate")
        memory.append(
            [
                str(r.rows),
                *(fmt(r.rss(n), ".0f") for n in MONTH_END_REPORTS),
                _ratio(r.rss("slacalc"), r.rss("duckdb-report")),
                _ratio(r.rss("slacalc"), r.rss("polars-report")),
                fmt(validate),
                _ratio(validate, r.median("slacalc")),
                fmt(r.median("explain")),
            ]
        )
    targets = []
    for r in results:
        report, faster = r.median("slacalc"), r.faster_baseline()
        limit = (
            month_end.BIG_REPORT_RATIO
            if r.rows >= month_end.BIG_LOG_ROWS
            else month_end.REPORT_RATIO
        )
        flat = r.median(FLAT)
        targets.append(
            [
                str(r.rows),
                month_end._target_cell(ratio(report, r.median(faster) if faster else None), limit),
                month_end._target_cell(
                    ratio(r.rss("slacalc"), r.smaller_peak()), month_end.RSS_RATIO
                ),
                month_end._target_cell(ratio(report, flat), month_end.CONTRACTS_RATIO)
                if flat is not None
                else "-",
                month_end._target_cell(
                    ratio(r.median("validate"), report), month_end.VALIDATE_RATIO
                ),
                month_end._target_cell(r.median("explain"), month_end.EXPLAIN_S, " s"),
            ]
        )
    lines = [
        "median wall time (s) of whole processes; ratios = slacalc / baseline",
        grid(
            ["rows", "slacalc s", "duckdb s", "polars s", "/duckdb", "/polars", "/faster"],
            times,
        ),
        "",
        "peak RSS (MB, max over runs); validate and explain (s)",
        grid(
            [
                "rows",
                "slacalc MB",
                "duckdb MB",
                "polars MB",
                "MB /duckdb",
                "MB /polars",
                "validate s",
                "validate/report",
                "explain s",
            ],
            memory,
        ),
        "",
        "targets (issue 19): report time against the faster baseline, peak RSS against the",
        "smaller baseline peak, with --contracts the report against the same log's --monthly-fee",
        "report (slacalc-flat, in the same rotation); validate and explain are set for 1M rows",
        grid(
            ["rows", "report time", "report RSS", "contracts/flat", "validate", "explain"],
            targets,
        ),
        "",
        "agreement of the report CSVs (18 columns, byte for byte)",
    ]
    for r in results:
        what = f"rows={r.rows}" + (" (contracts)" if r.contracts else "")
        if r.explained:
            what += f", explained {'/'.join(r.explained)}"
        lines.append(f"  {what}:")
        for (a, b), diff in r.diffs.items():
            summary = _agreement(a, b, diff).replace("\n", "\n    ")
            lines.append(f"    {a} vs {b}: {summary}")
        if r.problem:
            lines.append(f"    NOT COMPARED: {r.problem}")
        for name, stats in r.stats.items():
            if stats.failed and name not in MONTH_END_REPORTS:
                lines.append(f"    {name} FAILED {stats.failed}")
    return "\n".join(lines)


def month_end_json(results: list[MonthEndRun]) -> list[dict[str, object]]:
    return [
        {
            "rows": r.rows,
            "log": str(r.log),
            "contracts": str(r.contracts) if r.contracts else None,
            "process": {name: s.to_json() for name, s in r.stats.items()},
            "faster_baseline": r.faster_baseline(),
            "explained": r.explained,
            "agreed": r.agreed,
            "problem": r.problem,
            "comparisons": {f"{a} vs {b}": _agreement(a, b, d) for (a, b), d in r.diffs.items()},
        }
        for r in results
    ]


def main_month_end(args: argparse.Namespace, slacalc: list[str] | None) -> int:
    results = [bench_month_end(args, rows, slacalc) for rows in args.rows]
    print(f"\n{args.repeat} run(s) each, slacalc = {shlex.join(slacalc) if slacalc else '-'}")
    print(render_month_end(results))
    if args.json:
        data = month_end_json(results)
        args.json.write_text(json.dumps(data, indent=2), encoding="utf-8")
    failed = any(s.failed for r in results for s in r.stats.values())
    return 1 if failed or not all(r.agreed for r in results) else 0


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
