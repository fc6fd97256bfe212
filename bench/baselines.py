"""Reference implementations of slacalc's downtime computation, for the benchmark.

Both compute, per (customer_id, service, calendar month), the length of the union
of the key's incident intervals clipped to the month -- the downtime when every
incident is an ``outage`` with impact 1, as in the generated logs.  Ongoing
incidents (empty ``end``) end at ``as_of``.

Timestamps are naive local times in Asia/Shanghai (UTC+8, no DST), so naive
timestamp arithmetic equals real elapsed time and month boundaries are naive
month starts.  Durations are kept as integer microseconds, converted to exact
``Decimal`` seconds for comparison.

Whole-process use (what run_bench.py times)::

    python bench/baselines.py duckdb FILE --as-of '2025-06-01 00:00:00' -o OUT.csv
    python bench/baselines.py pandas FILE --as-of '2025-06-01 00:00:00' -o OUT.csv
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_AS_OF = "2025-06-01 00:00:00"
KEY_COLUMNS = ["customer_id", "service"]

# (customer_id, service, month 'YYYY-MM') -> downtime in seconds (exact)
DowntimeMap = dict[tuple[str, str, str], Decimal]
# (customer_id, service, month, downtime in microseconds)
DowntimeRow = tuple[str, str, str, int]

DUCKDB_SQL = """
WITH incidents AS (
    -- rid: a unique tiebreaker, so that both window passes below order exact
    -- duplicates (same key, start, end) the same way; without it the group flag
    -- can land on the second of two tied rows and glue it to the previous group
    SELECT customer_id, service,
           "start" AS s,
           coalesce("end", CAST($as_of AS TIMESTAMP)) AS e,
           row_number() OVER () AS rid
    FROM read_csv($path, header = true, delim = ',', quote = '"',
                  columns = {'incident_id': 'VARCHAR', 'customer_id': 'VARCHAR',
                             'service': 'VARCHAR', 'start': 'TIMESTAMP',
                             'end': 'TIMESTAMP', 'category': 'VARCHAR',
                             'impact': 'VARCHAR'})
),
flagged AS (
    -- a row opens a new merged group unless it starts inside the running
    -- max end of all earlier rows of its key (running max handles nesting)
    SELECT customer_id, service, s, e, rid,
           CASE WHEN s <= max(e) OVER (
                    PARTITION BY customer_id, service ORDER BY s, e, rid
                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
                THEN 0 ELSE 1 END AS new_group
    FROM incidents
),
numbered AS (
    SELECT customer_id, service, s, e,
           sum(new_group) OVER (
               PARTITION BY customer_id, service ORDER BY s, e, rid
               ROWS UNBOUNDED PRECEDING) AS grp
    FROM flagged
),
merged AS (
    SELECT customer_id, service, min(s) AS s, max(e) AS e
    FROM numbered
    GROUP BY customer_id, service, grp
),
split AS (
    SELECT customer_id, service, month_start,
           greatest(s, month_start) AS cs,
           least(e, month_start + INTERVAL 1 MONTH) AS ce
    FROM (
        SELECT customer_id, service, s, e,
               unnest(generate_series(date_trunc('month', s), e, INTERVAL 1 MONTH)) AS month_start
        FROM merged
    )
)
SELECT customer_id, service, strftime(month_start, '%Y-%m') AS month,
       sum(epoch_us(ce) - epoch_us(cs)) AS downtime_us
FROM split
WHERE ce > cs
GROUP BY customer_id, service, month_start
ORDER BY customer_id, service, month_start
"""


def duckdb_downtime(path: Path, as_of: str = DEFAULT_AS_OF) -> list[DowntimeRow]:
    """Downtime per key and month with DuckDB (in-memory database, default threads)."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        rows = con.execute(DUCKDB_SQL, {"path": str(path), "as_of": as_of}).fetchall()
    finally:
        con.close()
    return [(c, s, m, int(us)) for c, s, m, us in rows]


def _merge_intervals(df: pd.DataFrame) -> pd.DataFrame:
    """Union of each key's intervals: one row per merged interval."""
    df = df.sort_values([*KEY_COLUMNS, "start", "end"], kind="stable", ignore_index=True)
    # running max end of the earlier rows of the same key (cummax, then shift by one)
    running_end = df.groupby(KEY_COLUMNS, observed=True, sort=False)["end"].cummax()
    previous_end = running_end.shift()
    first_of_key = (df["customer_id"] != df["customer_id"].shift()) | (
        df["service"] != df["service"].shift()
    )
    new_group = first_of_key | (df["start"] > previous_end)
    group = new_group.cumsum()
    return df.groupby(group, sort=False).agg(
        customer_id=("customer_id", "first"),
        service=("service", "first"),
        start=("start", "min"),
        end=("end", "max"),
    )


def _split_by_month(merged: pd.DataFrame) -> pd.DataFrame:
    """Clip the merged intervals to each calendar month; downtime in microseconds."""
    import pandas as pd

    first = merged["start"].min().to_period("M").to_timestamp()
    months = pd.date_range(first, merged["end"].max(), freq="MS")
    one_us = pd.Timedelta(1, "us")
    parts = []
    for month_start in months:
        month_end = month_start + pd.offsets.MonthBegin(1)
        overlap = merged["end"].clip(upper=month_end) - merged["start"].clip(lower=month_start)
        hit = overlap > pd.Timedelta(0)
        if not hit.any():
            continue
        part = merged.loc[hit, KEY_COLUMNS].copy()
        part["month"] = month_start.strftime("%Y-%m")
        part["downtime_us"] = (overlap[hit] // one_us).astype("int64")
        parts.append(part)
    split = pd.concat(parts, ignore_index=True)
    return split.groupby([*KEY_COLUMNS, "month"], observed=True, sort=True, as_index=False)[
        "downtime_us"
    ].sum()


def pandas_downtime_frame(path: Path, as_of: str = DEFAULT_AS_OF) -> pd.DataFrame:
    """Downtime per key and month with pandas: columns customer_id, service, month, downtime_us."""
    import pandas as pd

    raw = pd.read_csv(
        path,
        usecols=[*KEY_COLUMNS, "start", "end"],
        dtype={"customer_id": "category", "service": "category", "start": str, "end": str},
        keep_default_na=False,
    )
    fmt = "%Y-%m-%d %H:%M:%S"
    end_text = raw["end"].mask(raw["end"] == "", as_of)
    df = pd.DataFrame(
        {
            "customer_id": raw["customer_id"],
            "service": raw["service"],
            "start": pd.to_datetime(raw["start"], format=fmt),
            "end": pd.to_datetime(end_text, format=fmt),
        }
    )
    return _split_by_month(_merge_intervals(df))


def pandas_downtime(path: Path, as_of: str = DEFAULT_AS_OF) -> list[DowntimeRow]:
    frame = pandas_downtime_frame(path, as_of)
    return [
        (str(c), str(s), m, int(us))
        for c, s, m, us in zip(
            frame["customer_id"],
            frame["service"],
            frame["month"],
            frame["downtime_us"],
            strict=True,
        )
    ]


def micros_to_seconds(us: int) -> Decimal:
    return Decimal(us).scaleb(-6)


def format_seconds(us: int) -> str:
    """Exact decimal seconds, without trailing zeros: 3600, 12.5."""
    whole, frac = divmod(us, 1_000_000)
    return str(whole) if frac == 0 else f"{whole}.{frac:06d}".rstrip("0")


def to_downtime_map(rows: Iterable[DowntimeRow]) -> DowntimeMap:
    """Non-zero downtimes keyed by (customer_id, service, month)."""
    return {(c, s, m): micros_to_seconds(us) for c, s, m, us in rows if us != 0}


def write_downtime_csv(rows: Iterable[DowntimeRow], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["customer_id", "service", "month", "downtime_seconds"])
        writer.writerows((c, s, m, format_seconds(us)) for c, s, m, us in rows)


def read_downtime_csv(path: Path) -> DowntimeMap:
    """Non-zero ``downtime_seconds`` per key from a CSV with customer_id, service, month columns.

    Reads both the baselines' output and slacalc's ``report --format csv`` output.
    """
    out: DowntimeMap = {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for record in csv.DictReader(fh):
            seconds = Decimal(record["downtime_seconds"])
            if seconds != 0:
                out[(record["customer_id"], record["service"], record["month"])] = seconds
    return out


ENGINES = {"duckdb": duckdb_downtime, "pandas": pandas_downtime}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Baseline downtime per (customer, service, month)."
    )
    parser.add_argument("engine", choices=sorted(ENGINES))
    parser.add_argument("incidents", type=Path, help="incident log CSV")
    parser.add_argument(
        "--as-of",
        default=DEFAULT_AS_OF,
        help=f"end of ongoing incidents (default {DEFAULT_AS_OF!r})",
    )
    parser.add_argument("-o", "--output", type=Path, required=True, help="output CSV")
    args = parser.parse_args(argv)
    rows = ENGINES[args.engine](args.incidents, args.as_of)
    write_downtime_csv(rows, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
