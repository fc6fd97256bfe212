"""The month-end benchmark (issue 8): slacalc's full report against DuckDB's, on realistic logs.

For each size: generate (or reuse) a realistic log (gen_realistic.py) and, with
--contracts, its contracts.  Then --repeat times, alternating which goes first:

  * slacalc        slacalc report LOG [--contracts C | --monthly-fee 100 --sla-target 99.95]
                   --tz Asia/Shanghai --as-of ... -f csv -o OUT
  * duckdb-report  python bench/duckdb_report.py LOG [same pricing] --as-of ... -o OUT
  * validate       slacalc validate LOG [--contracts C] --tz ... --as-of ... -f csv
  * explain        slacalc explain LOG --customer C --service S --month M [pricing] ...
                   for one row of the report (a busy key with partial impacts and an
                   exclusion, when there is one)

all as whole processes under spawn_probe.py (wall time, own peak RSS).  Then the two report
files must be identical in the 18 columns the DuckDB script writes (slacalc adds the policy
columns after them): every row, in order, byte for byte; if not, the first differing rows and
the number of differing downtime / compensation / breached values are printed.
"""

from __future__ import annotations

import csv
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import gen_realistic
from procs import BENCH_DIR, EngineStats, fmt, grid, ratio, time_process
from report_diff import ReportDiff, compare_reports

BILLING_TZ = "Asia/Shanghai"
FLAT_PRICING = ("--monthly-fee", "100", "--sla-target", "99.95")
REPORTS = ("slacalc", "duckdb-report")
EXTRAS = ("validate", "explain")

# Issue 8's targets: slacalc/DuckDB wall time at most 1.0 (0.8 from 5M rows on), peak RSS at
# most 2x DuckDB's, validate within 2x the report, explain of one row under 3 s.
BIG_LOG_ROWS = 5_000_000
REPORT_RATIO, BIG_REPORT_RATIO = 1.0, 0.8
RSS_RATIO = 2.0
VALIDATE_RATIO = 2.0
EXPLAIN_S = 3.0


@dataclass
class MonthEndResult:
    rows: int
    log: Path
    contracts: Path | None
    gen_s: float | None
    stats: dict[str, EngineStats]
    explained: tuple[str, str, str] | None = None  # customer, service, month
    diff: ReportDiff | None = None
    problem: str | None = None  # why the outputs could not be compared

    @property
    def agreed(self) -> bool:
        return self.diff is not None and (self.diff.identical or self.diff.shared > 0)

    def median(self, name: str) -> float | None:
        stats = self.stats.get(name)
        return stats.median_wall() if stats else None

    def rss(self, name: str) -> float | None:
        stats = self.stats.get(name)
        return stats.max_rss() if stats else None


# ---------------------------------------------------------------- commands


def _pricing(contracts: Path | None) -> list[str]:
    return ["--contracts", str(contracts)] if contracts else list(FLAT_PRICING)


def report_command(
    slacalc: Sequence[str], log: Path, contracts: Path | None, out: Path, as_of: str
) -> list[str]:
    return [
        *slacalc,
        "report",
        str(log),
        *_pricing(contracts),
        "--tz",
        BILLING_TZ,
        "--as-of",
        as_of,
        "--format",
        "csv",
        "-o",
        str(out),
    ]


def duckdb_command(log: Path, contracts: Path | None, out: Path, as_of: str) -> list[str]:
    script = BENCH_DIR / "duckdb_report.py"
    pricing = _pricing(contracts)
    return [sys.executable, str(script), str(log), *pricing, "--as-of", as_of, "-o", str(out)]


def validate_command(
    slacalc: Sequence[str], log: Path, contracts: Path | None, as_of: str
) -> list[str]:
    extra = ["--contracts", str(contracts)] if contracts else []
    return [
        *slacalc,
        "validate",
        str(log),
        *extra,
        "--tz",
        BILLING_TZ,
        "--as-of",
        as_of,
        "--format",
        "csv",
    ]


def explain_command(
    slacalc: Sequence[str],
    log: Path,
    contracts: Path | None,
    as_of: str,
    row: tuple[str, str, str],
) -> list[str]:
    customer, service, month = row
    return [
        *slacalc,
        "explain",
        str(log),
        "--customer",
        customer,
        "--service",
        service,
        "--month",
        month,
        *_pricing(contracts),
        "--tz",
        BILLING_TZ,
        "--as-of",
        as_of,
    ]


def pick_row(report_csv: Path) -> tuple[str, str, str] | None:
    """A row worth explaining: fractional downtime (a partial impact), excluded time and
    several incidents; else any row with an incident; else the first row."""
    first = busy = None
    with report_csv.open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            row = (r["customer_id"], r["service"], r["month"])
            first = first or row
            if busy is None and r["incident_count"] != "0":
                busy = row
            partial = "." in r["downtime_seconds"]
            if partial and r["excluded_seconds"] != "0" and int(r["incident_count"]) >= 2:
                return row
    return busy or first


# ---------------------------------------------------------------- one size


def ensure_logs(
    rows: int, seed: int, data_dir: Path, *, contracts: bool, regen: bool
) -> tuple[Path, Path | None, float | None]:
    """The realistic log (and contracts) for ``rows``, each generated unless cached;
    (log, contracts or None, seconds spent generating or None)."""
    log, contracts_path = gen_realistic.default_paths(rows, seed, data_dir)
    start = time.perf_counter()
    generated = False
    if regen or not log.exists():
        gen_realistic.write_incident_log(log, rows, seed)
        generated = True
    if contracts and (regen or not contracts_path.exists()):
        gen_realistic.write_contracts(contracts_path, rows, seed)
        generated = True
    elapsed = time.perf_counter() - start if generated else None
    return log, contracts_path if contracts else None, elapsed


def bench_size(
    rows: int,
    slacalc: list[str] | None,
    *,
    seed: int,
    data_dir: Path,
    repeat: int,
    as_of: str,
    contracts: bool,
    extras: bool,
    regen: bool,
    timeout_s: float,
) -> MonthEndResult:
    log, contracts_path, gen_s = ensure_logs(rows, seed, data_dir, contracts=contracts, regen=regen)
    if gen_s is not None:
        print(f"generated {rows} realistic rows in {gen_s:.1f} s -> {log}", file=sys.stderr)
    out_dir = data_dir / f"out-realistic-{rows}{'-contracts' if contracts else ''}"
    out_dir.mkdir(parents=True, exist_ok=True)
    names = list(REPORTS) if slacalc else ["duckdb-report"]
    if slacalc and extras:
        names += EXTRAS
    result = MonthEndResult(rows, log, contracts_path, gen_s, {n: EngineStats() for n in names})
    outputs = {name: out_dir / f"{name}.csv" for name in REPORTS}
    for output in outputs.values():
        output.unlink(missing_ok=True)
    for rep in range(repeat):
        order = list(REPORTS) if rep % 2 == 0 else list(reversed(REPORTS))
        for name in order:
            if name not in result.stats or result.stats[name].failed:
                continue
            if name == "slacalc":
                cmd = report_command(slacalc or [], log, contracts_path, outputs[name], as_of)
            else:
                cmd = duckdb_command(log, contracts_path, outputs[name], as_of)
            time_process(name, cmd, out_dir, result.stats[name], timeout_s)
        if slacalc and extras:
            _run_extras(result, slacalc, out_dir, outputs, as_of, timeout_s)
        print(f"  rows={rows} repeat {rep + 1}/{repeat} done", file=sys.stderr, flush=True)
    _compare(result, outputs)
    return result


def _run_extras(
    result: MonthEndResult,
    slacalc: list[str],
    out_dir: Path,
    outputs: dict[str, Path],
    as_of: str,
    timeout_s: float,
) -> None:
    stats = result.stats
    if not stats["validate"].failed:
        cmd = validate_command(slacalc, result.log, result.contracts, as_of)
        time_process("validate", cmd, out_dir, stats["validate"], timeout_s)
    if result.explained is None:
        source = next((p for p in outputs.values() if p.exists()), None)
        result.explained = pick_row(source) if source else None
    if result.explained is None:
        stats["explain"].failed = "no report row to explain"
    elif not stats["explain"].failed:
        cmd = explain_command(slacalc, result.log, result.contracts, as_of, result.explained)
        time_process("explain", cmd, out_dir, stats["explain"], timeout_s)


def _compare(result: MonthEndResult, outputs: dict[str, Path]) -> None:
    if "slacalc" not in result.stats:
        result.problem = "slacalc skipped"
        return
    missing = [
        f"{name} {result.stats[name].failed or 'did not run'}"
        for name in REPORTS
        if name not in result.stats or result.stats[name].failed or not outputs[name].exists()
    ]
    if missing:
        result.problem = "; ".join(missing)
        return
    result.diff = compare_reports(outputs["slacalc"], outputs["duckdb-report"])


# ---------------------------------------------------------------- printing


def _target_cell(value: float | None, limit: float, unit: str = "x") -> str:
    if value is None:
        return "-"
    verdict = "ok" if value <= limit else "MISS"
    return f"{value:.2f}{unit} (<= {limit:g}{unit}) {verdict}"


def render(results: list[MonthEndResult]) -> str:
    """Times, memory, ratios; the targets of issue 8; agreement of the two reports."""
    header = ["rows", "slacalc s", "duckdb s", "ratio", "slacalc MB", "duckdb MB", "MB ratio"]
    header += ["validate s", "validate/report", "explain s"]
    body = []
    for r in results:
        report, duck = r.median("slacalc"), r.median("duckdb-report")
        rss, duck_rss = r.rss("slacalc"), r.rss("duckdb-report")
        validate = r.median("validate")
        body.append(
            [
                str(r.rows),
                fmt(report),
                fmt(duck),
                fmt(ratio(report, duck)),
                fmt(rss, ".0f"),
                fmt(duck_rss, ".0f"),
                fmt(ratio(rss, duck_rss)),
                fmt(validate),
                fmt(ratio(validate, report)),
                fmt(r.median("explain")),
            ]
        )
    targets = []
    for r in results:
        report, duck = r.median("slacalc"), r.median("duckdb-report")
        limit = BIG_REPORT_RATIO if r.rows >= BIG_LOG_ROWS else REPORT_RATIO
        targets.append(
            [
                str(r.rows),
                _target_cell(ratio(report, duck), limit),
                _target_cell(ratio(r.rss("slacalc"), r.rss("duckdb-report")), RSS_RATIO),
                _target_cell(ratio(r.median("validate"), report), VALIDATE_RATIO),
                _target_cell(r.median("explain"), EXPLAIN_S, " s"),
            ]
        )
    lines = [
        "median wall time (s) of whole processes, peak RSS (MB, max over runs);",
        "ratio = slacalc / duckdb-report",
        grid(header, body),
        "",
        "issue 8 targets (validate and explain are set for 1M rows)",
        grid(["rows", "report time", "report RSS", "validate", "explain"], targets),
        "",
        "agreement of slacalc's and duckdb-report's CSV",
    ]
    for r in results:
        what = f"rows={r.rows}" + (" (contracts)" if r.contracts else "")
        if r.explained:
            what += f", explained {'/'.join(r.explained)}"
        if r.diff is not None:
            lines.append(f"  {what}: {r.diff.summary('slacalc', 'duckdb-report')}")
        else:
            lines.append(f"  {what}: NOT COMPARED: {r.problem}")
        failed = {n: s.failed for n, s in r.stats.items() if s.failed}
        for name, why in failed.items():
            lines.append(f"  rows={r.rows} {name} FAILED {why}")
    return "\n".join(lines)


def results_json(results: list[MonthEndResult]) -> list[dict[str, object]]:
    return [
        {
            "rows": r.rows,
            "log": str(r.log),
            "contracts": str(r.contracts) if r.contracts else None,
            "process": {name: s.to_json() for name, s in r.stats.items()},
            "explained": r.explained,
            "identical": r.agreed,
            "differences": None if r.diff is None else r.diff.summary("slacalc", "duckdb-report"),
        }
        for r in results
    ]


def failed(results: list[MonthEndResult]) -> bool:
    """Whether any run failed or the reports differ (the benchmark's exit status)."""
    return any(
        any(s.failed for s in r.stats.values()) or ("slacalc" in r.stats and not r.agreed)
        for r in results
    )
