"""Deterministic synthetic incident logs for the slacalc benchmark.

All times are naive local times in the billing zone Asia/Shanghai (UTC+8, no DST),
so local wall-clock arithmetic equals real elapsed time.  The log covers
2025-03-01 .. 2025-05-31; nothing ends after the benchmark's as-of instant
2025-06-01 00:00:00.  Every row is an ``outage`` with impact 1 (empty or ``1``),
so the downtime of a key is the length of the union of its intervals.

Shapes produced (per key = customer_id, service):
  * plain incidents lasting minutes to hours (a few up to two days);
  * staggered overlaps (a second incident starting inside the first, ending later);
  * nested incidents (one inside another), often followed by a third one that
    starts after the nested one ends but inside the outer one -- the case that
    breaks a "compare with previous end" merge and needs a running max (cummax);
  * adjacent incidents (next starts exactly where the previous ended);
  * exact duplicates;
  * incidents spanning a month boundary;
  * ~0.1 % ongoing incidents (empty ``end``), counted up to the as-of instant.

Usage::

    python bench/gen_incidents.py --rows 1000000 -o /tmp/slacalc-bench/incidents-1000000.csv

``--shape realistic`` writes the month-end shape of gen_realistic.py instead (partial impacts,
maintenance windows, data loss, N/10 customers), and ``--contracts FILE`` its contracts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from log_span import DAY, HORIZON, HOUR, LOG_START, MONTH_BOUNDARIES

HEADER = "incident_id,customer_id,service,start,end,category,impact"
SERVICES = ("compute", "storage", "network")
CUSTOMERS_PER_ROW = 1 / 50


P_ONGOING = 0.0012  # per cluster; about 0.1 % of rows
P_MONTH_SPAN = 0.02
P_STAGGERED = 0.10
P_NESTED = 0.05
P_ADJACENT = 0.02
P_DUPLICATE = 0.01

DEFAULT_SEED = 20250601
GENERATOR_VERSION = 1  # bump when the output for a given (rows, seed) changes


ONGOING = -1  # end value of an ongoing incident (empty ``end`` in the CSV)


# One generated row: (start, customer, service, end); times are seconds after
# LOG_START, end ONGOING = still open.  Plain tuples: cheap to build and sort.
Incident = tuple[int, int, int, int]


class _Rng:
    """Fast integer draws on top of a seeded ``random.Random`` (randint is slow in a hot loop)."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed).random

    def between(self, lo: int, hi: int) -> int:
        """Uniform integer in [lo, hi]."""
        return lo + int(self.random() * (hi - lo + 1))


def _duration(rng: _Rng) -> int:
    """Mostly minutes to hours, a few long ones."""
    roll = rng.random()
    if roll < 0.55:
        return rng.between(30, HOUR)
    if roll < 0.95:
        return rng.between(HOUR, 6 * HOUR)
    return rng.between(6 * HOUR, 48 * HOUR)


def _base_interval(rng: _Rng) -> tuple[int, int]:
    """The first incident of a cluster: ongoing, month-spanning or plain."""
    roll = rng.random()
    if roll < P_ONGOING:
        return rng.between(HORIZON - 45 * DAY, HORIZON - 60), ONGOING
    if roll < P_ONGOING + P_MONTH_SPAN:
        boundary = MONTH_BOUNDARIES[int(rng.random() * len(MONTH_BOUNDARIES))]
        return boundary - rng.between(1, 6 * HOUR), boundary + rng.between(1, 6 * HOUR)
    start = rng.between(0, HORIZON - 1)
    return start, min(start + _duration(rng), HORIZON)


def _derived_intervals(rng: _Rng, start: int, end: int) -> list[tuple[int, int]]:
    """Incidents of the same key related to [start, end): overlaps, nesting, etc."""
    out: list[tuple[int, int]] = []
    length = end - start
    if rng.random() < P_STAGGERED and length > 1:
        s2 = rng.between(start + 1, end - 1)
        out.append((s2, min(end + rng.between(1, 2 * HOUR), HORIZON)))
    if rng.random() < P_NESTED and length > 3:
        s2 = rng.between(start + 1, end - 2)
        e2 = rng.between(s2 + 1, end - 1)
        out.append((s2, e2))
        if rng.random() < 0.5 and e2 + 1 < end:
            s3 = rng.between(e2 + 1, end - 1)
            out.append((s3, min(end + rng.between(1, 3 * HOUR), HORIZON)))
    if rng.random() < P_ADJACENT and end < HORIZON:
        out.append((end, min(end + _duration(rng), HORIZON)))
    if rng.random() < P_DUPLICATE:
        out.append((start, end))
    return out


def generate_incidents(rows: int, seed: int = DEFAULT_SEED) -> list[Incident]:
    """Exactly ``rows`` incidents, sorted by start (as a monitoring export would be)."""
    rng = _Rng(seed)
    n_customers = customer_count(rows)
    out: list[Incident] = []
    while len(out) < rows:
        customer = int(rng.random() * n_customers)
        service = int(rng.random() * len(SERVICES))
        start, end = _base_interval(rng)
        out.append((start, customer, service, end))
        if end != ONGOING:
            out.extend((s, customer, service, e) for s, e in _derived_intervals(rng, start, end))
    del out[rows:]
    out.sort()
    return out


def customer_count(rows: int) -> int:
    """Number of distinct customers in a log of ``rows`` incidents (rows / 50)."""
    return max(1, round(rows * CUSTOMERS_PER_ROW))


def _timestamp_formatter() -> tuple[list[str], list[str]]:
    """Lookup tables: day offset -> 'YYYY-MM-DD', second of day -> 'HH:MM:SS'."""
    days = [
        (LOG_START + dt.timedelta(days=d)).strftime("%Y-%m-%d") for d in range(HORIZON // DAY + 2)
    ]
    clock = [f"{s // HOUR:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(DAY)]
    return days, clock


def format_rows(incidents: Iterable[Incident], seed: int, n_customers: int) -> Iterable[str]:
    """CSV lines (without newline) for the incidents, ids numbered in order."""
    days, clock = _timestamp_formatter()
    random01 = random.Random(seed + 1).random
    width = max(5, len(str(n_customers - 1)))

    def ts(t: int) -> str:
        return f"{days[t // DAY]} {clock[t % DAY]}"

    for i, (start, customer, service, end) in enumerate(incidents, start=1):
        end_text = "" if end == ONGOING else ts(end)
        impact = "" if random01() < 0.5 else "1"
        yield (
            f"INC-{i:07d},cust-{customer:0{width}d},{SERVICES[service]},"
            f"{ts(start)},{end_text},outage,{impact}"
        )


def write_incident_log(path: Path, rows: int, seed: int = DEFAULT_SEED) -> Path:
    """Generate ``rows`` incidents and write them as CSV (LF line endings) to ``path``."""
    incidents = generate_incidents(rows, seed)
    n_customers = customer_count(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        fh.write(HEADER + "\n")
        batch: list[str] = []
        for line in format_rows(incidents, seed, n_customers):
            batch.append(line)
            if len(batch) >= 50_000:
                fh.write("\n".join(batch) + "\n")
                batch.clear()
        if batch:
            fh.write("\n".join(batch) + "\n")
    tmp.replace(path)
    return path


def default_path(
    rows: int, seed: int = DEFAULT_SEED, data_dir: Path = Path("/tmp/slacalc-bench")
) -> Path:
    return data_dir / f"incidents-{rows}-s{seed}-v{GENERATOR_VERSION}.csv"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate a synthetic slacalc incident log (CSV).")
    parser.add_argument(
        "--shape",
        choices=("outages", "realistic"),
        default="outages",
        help="outages: every row an outage at impact 1 (N/50 customers); realistic: partial "
        "impacts, maintenance, data loss, N/10 customers (see gen_realistic.py)",
    )
    parser.add_argument(
        "--rows", type=int, default=200_000, help="number of incidents (default 200000)"
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"RNG seed (default {DEFAULT_SEED})"
    )
    parser.add_argument(
        "-o", "--output", type=Path, help="output CSV (default under /tmp/slacalc-bench)"
    )
    parser.add_argument(
        "--contracts",
        type=Path,
        help="realistic shape: also write a contracts CSV covering every key of the log",
    )
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be positive")
    if args.contracts and args.shape != "realistic":
        parser.error("--contracts needs --shape realistic")
    t0 = time.perf_counter()
    if args.shape == "realistic":
        import gen_realistic

        log_path, _ = gen_realistic.default_paths(args.rows, args.seed, Path("/tmp/slacalc-bench"))
        path = args.output or log_path
        gen_realistic.write_incident_log(path, args.rows, args.seed)
        if args.contracts:
            gen_realistic.write_contracts(args.contracts, args.rows, args.seed)
            print(f"wrote contracts to {args.contracts}", file=sys.stderr)
    else:
        path = args.output or default_path(args.rows, args.seed)
        write_incident_log(path, args.rows, args.seed)
    print(f"wrote {args.rows} rows to {path} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
