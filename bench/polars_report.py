"""A hand-written Polars script that writes slacalc's full report CSV: the second baseline.

    python bench/polars_report.py INCIDENTS --monthly-fee 100 --sla-target 99.95 \\
        --as-of '2025-06-01 00:00:00' -o OUT.csv
    python bench/polars_report.py INCIDENTS --contracts CONTRACTS --as-of ... -o OUT.csv

The same report as duckdb_report.py, byte for byte, with the same semantics (read its
docstring): one row per priced (customer_id, service) key x every reported month, the 18
columns of ``slacalc report --format csv``, sorted by customer_id, service, month.

How:

  * the log is read as text; timestamps are parsed with one fixed format, impacts become
    parts per million (ppm), categories a downtime flag;
  * customers and services are ranked once among their distinct names, so a key is an integer
    (customer rank x services + service rank) that sorts as (customer_id, service), and all the
    per-row work after that is on integers;
  * every incident is clipped to the calendar months it overlaps (most lie in one);
  * one event sweep: each piece gives a +1 event at its start and a -1 at its end, sorted by
    (key x month, time).  A running count per impact level, and one for exclusions, says which
    levels are active between two events; the loss there is the largest active level, 0 while
    an exclusion is active.  Every piece ends inside its own (key, month), so all counts are 0
    again after each group's last event: the running sums need no partition;
  * the priced keys x the reported months, with their usage, become the text columns.

Amounts are integers: microseconds x ppm (1e-12 s) in Int64 (a month's downtime stays below
2.7e18), fees in 1e-4 units, Int128 for the compensation products; decimal text comes from
Decimal columns, never from floats.

Assumptions, as duckdb_report.py's: valid input; naive timestamps in Asia/Shanghai (no DST, so
naive arithmetic is elapsed time and the offset is always +08:00), written
``YYYY-MM-DD HH:MM:SS`` as the generator writes them; impacts with at most 6 decimals as a
share (4 as a percentage); fees with at most 4 decimals; ids that need no CSV quoting.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
from duckdb_report import DEFAULT_AS_OF, DEFAULT_TARGET, TIERS, UTC_OFFSET, ZERO_DECIMAL_CURRENCIES
from duckdb_report import _target as tier_target

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
PPM = 1_000_000  # parts per million, and microseconds per second
EXCLUSION = -1  # the level of maintenance/excluded pieces in the sweep
WILDCARD = "*"
EPOCH = datetime(1970, 1, 1)
TERM_COLUMNS = ("fee_u", "currency", "target")
USAGE_COLUMNS = ("row", "down_pus", "excl_us", "incident_count")


# ---------------------------------------------------------------- rules as expressions


def _given(column: str) -> pl.Expr:
    """A text cell, trimmed; null when empty."""
    text = pl.col(column).str.strip_chars()
    return pl.when(text != "").then(text)


def _us(column: str) -> pl.Expr:
    """A naive timestamp as epoch microseconds."""
    return pl.col(column).str.strptime(pl.Datetime("us"), TIMESTAMP_FORMAT).dt.epoch("us")


def _ppm(column: str) -> pl.Expr:
    """An impact (empty = 1, ``0.3``, ``30%``) in parts per million."""
    text = _given(column)
    share = text.str.strip_suffix("%").cast(pl.Decimal(18, 6))
    per = pl.when(text.str.ends_with("%")).then(10_000).otherwise(PPM)
    return (share * per).cast(pl.Int64).fill_null(PPM)


def _month(us: pl.Expr) -> pl.Expr:
    """The month of an instant, numbered year x 12 + month - 1."""
    when = us.cast(pl.Datetime("us"))
    return when.dt.year().cast(pl.Int64) * 12 + when.dt.month().cast(pl.Int64) - 1


def _month_start(month: pl.Expr) -> pl.Expr:
    """The first instant (epoch us) of a month numbered as by _month."""
    return pl.datetime(month // 12, month % 12 + 1, 1, time_unit="us").dt.epoch("us")


def _fixed(units: pl.Expr, places: int) -> pl.Expr:
    """Text of ``units`` of 10**-places with exactly ``places`` decimals.  Exact: a Decimal
    quotient keeps the dividend's scale, which holds every digit here."""
    return (units.cast(pl.Decimal(38, places)) / 10**places).cast(pl.String)


def _seconds(ms: pl.Expr) -> pl.Expr:
    """Text of milliseconds as seconds, trailing zeros (and the point) dropped."""
    return _fixed(ms, 3).str.strip_chars_end("0").str.strip_chars_end(".")


def _money(units: pl.Expr) -> pl.Expr:
    """Text of minor units: 2 decimals, or none where ``places`` is 0 (JPY)."""
    return pl.when(pl.col("places") == 0).then(units.cast(pl.String)).otherwise(_fixed(units, 2))


def _guarded(cell: pl.Expr) -> pl.Expr:
    """The cell as slacalc writes it: a leading = + - @ tab or CR gets a ' (formula
    injection); an empty one is null, which the CSV writer leaves empty."""
    risky = cell.str.slice(0, 1).is_in(["=", "+", "-", "@", "\t", "\r"])
    return pl.when(risky).then(pl.concat_str(pl.lit("'"), cell)).when(cell != "").then(cell)


def _allowed(target: pl.Expr | int) -> pl.Expr:
    """The most downtime (1e-12 s) a month of period_us allows at ``target`` (percent x 1000):
    up / period >= target / 100000  <=>  d <= (100000 - target) * 10 * period_us."""
    return (100_000 - target) * 10 * pl.col("period_us")


def _tier(target: pl.Expr, pick: int) -> pl.Expr:
    """A target (percent x 1000) as its label (pick 1) or coefficient x 100 (pick 2)."""
    return target.replace_strict([t[0] for t in TIERS], [t[pick] for t in TIERS])


# ---------------------------------------------------------------- reading


def read_incidents(path: Path, as_of_us: int) -> pl.DataFrame:
    """The log's rows that last more than zero: customer and service as written, start and end
    in epoch us (ongoing ones end at as-of, never before their start), whether the row is
    downtime (not maintenance/excluded) and its impact in ppm."""
    log = (
        pl.scan_csv(path, infer_schema=False)
        .select("customer_id", "service", "start", "end", "category", "impact")
        .collect()
    )
    category = pl.col("category").fill_null("").str.strip_chars().str.to_lowercase()
    start = _us("start")
    return (
        log.lazy()
        .select(
            c=pl.col("customer_id").fill_null(""),
            v=pl.col("service").fill_null(""),
            s=start,
            e=pl.coalesce(_us("end"), pl.max_horizontal(start, pl.lit(as_of_us))),
            down=_per_distinct(log, "category", ~category.is_in(["maintenance", "excluded"])),
            imp=_per_distinct(log, "impact", _ppm("impact")),
        )
        .filter(pl.col("e") > pl.col("s"))
        .collect()
    )


def _per_distinct(frame: pl.DataFrame, column: str, expr: pl.Expr) -> pl.Expr:
    """``expr`` of ``column``, computed once per distinct text (a log has a handful)."""
    distinct = frame.select(pl.col(column).unique())
    values = distinct.select(expr).to_series()
    return pl.col(column).replace_strict(distinct[column], values)


def read_contracts(path: Path, currency: str) -> pl.DataFrame:
    """Contract rows: customer, service (``*`` when empty), fee in 1e-4 units, currency
    (``currency`` when empty), target in percent x 1000 (the default tier when empty)."""
    fee = pl.col("monthly_fee").str.strip_chars().cast(pl.Decimal(38, 4)) * 10_000
    target = _given("sla_target").str.strip_chars_end("%").cast(pl.Decimal(9, 3)) * 1000
    return (
        pl.scan_csv(path, infer_schema=False)
        .select(
            c=pl.col("customer_id").str.strip_chars().fill_null(""),
            v=_given("service").fill_null(WILDCARD),
            fee_u=fee.cast(pl.Int64),
            currency=_given("currency").str.to_uppercase().fill_null(currency),
            target=target.cast(pl.Int64).fill_null(DEFAULT_TARGET),
        )
        .collect()
    )


# ---------------------------------------------------------------- keys and terms


def _ranked(raw: pl.Series, extra: pl.Series) -> tuple[pl.DataFrame, pl.Series]:
    """Names in output order: (each distinct text as written -> rank of its trimmed name; the
    names by rank).  ``extra`` holds names that only the contracts use."""
    trimmed = pl.DataFrame({"raw": raw}).with_columns(name=pl.col("raw").str.strip_chars())
    names = pl.concat([trimmed["name"], extra.cast(pl.String)]).unique().sort()
    ranks = pl.DataFrame({"name": names}).with_row_index("rank")
    raw_to_rank = trimmed.join(ranks, on="name").select("raw", pl.col("rank").cast(pl.Int64))
    return raw_to_rank, names


def _priced_keys(
    keys: pl.DataFrame,
    contracts: pl.DataFrame | None,
    flat: dict[str, pl.Expr],
    names: dict[str, pl.Series],
) -> pl.LazyFrame:
    """(key, fee_u, currency, target) of every key that gets rows.

    Flat: the incident keys.  Contracts: an incident key takes its exact contract, else its
    customer's ``*`` one, else the flat terms; then every exact contract without incidents,
    and every ``*`` contract that priced no incident key, as service ``*``."""
    if contracts is None:
        return keys.lazy().with_columns(**flat)
    n_services = len(names["v"])
    # contract names are trimmed and among the ranked names already
    rank = {col: pl.lit(names[col]).search_sorted(pl.col(col)).cast(pl.Int64) for col in names}
    rows = contracts.select(
        "v", *TERM_COLUMNS, c_rank=rank["c"], key=rank["c"] * n_services + rank["v"]
    )
    exact = rows.lazy().filter(pl.col("v") != WILDCARD).select("key", *TERM_COLUMNS)
    wild = rows.lazy().filter(pl.col("v") == WILDCARD).select("key", "c_rank", *TERM_COLUMNS)
    matched = (
        keys.lazy()
        .with_columns(c_rank=pl.col("key") // n_services)
        .join(exact.with_columns(exact=True), on="key", how="left")
        .join(wild.drop("key").with_columns(wild=True), on="c_rank", how="left", suffix="_w")
        .select(
            "key",
            "c_rank",
            by_wildcard=pl.col("exact").is_null() & pl.col("wild").is_not_null(),
            **{col: pl.coalesce(col, f"{col}_w", flat[col]) for col in TERM_COLUMNS},
        )
        .collect()
    )
    used_wild = matched.lazy().filter("by_wildcard").select("c_rank")
    return pl.concat(
        [
            matched.lazy().select("key", *TERM_COLUMNS),
            exact.join(keys.lazy(), on="key", how="anti"),
            wild.join(used_wild, on="c_rank", how="anti").select("key", *TERM_COLUMNS),
        ]
    )


def key_terms(
    incidents: pl.DataFrame,
    contracts: pl.DataFrame | None,
    *,
    fee_u: int | None,
    currency: str,
    target: int,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(the incidents, their customer and service replaced by k, the position of their key in
    the output; the priced keys in that order, with what the rows of a key share)."""
    no_names = pl.Series([], dtype=pl.String)
    c_extra = no_names if contracts is None else contracts["c"]
    v_extra = no_names if contracts is None else contracts["v"]
    c_raw, c_names = _ranked(incidents["c"].unique(), c_extra)
    v_raw, v_names = _ranked(incidents["v"].unique(), v_extra)
    n_services = len(v_names)
    incidents = (
        incidents.lazy()
        .join(c_raw.lazy().rename({"raw": "c", "rank": "c_rank"}), on="c")
        .join(v_raw.lazy().rename({"raw": "v", "rank": "v_rank"}), on="v")
        .select(
            pl.exclude("c", "v", "c_rank", "v_rank"),
            key=pl.col("c_rank") * n_services + pl.col("v_rank"),
        )
        .collect()
    )
    flat = {
        "fee_u": pl.lit(fee_u, pl.Int64),
        "currency": pl.lit(currency),
        "target": pl.lit(target, pl.Int64),
    }
    keys = incidents.select(pl.col("key").unique())
    priced = _priced_keys(keys, contracts, flat, {"c": c_names, "v": v_names})
    terms = (
        priced.sort("key")
        .with_columns(
            c=pl.lit(c_names).gather(pl.col("key") // n_services),
            v=pl.lit(v_names).gather(pl.col("key") % n_services),
        )
        .collect()
    )
    unpriced = terms.filter(pl.col("fee_u").is_null())
    if len(unpriced):
        row = unpriced.row(0, named=True)
        raise SystemExit(f"no contract for customer {row['c']!r} service {row['v']!r}")
    k_of_key = _positions(terms["key"], len(c_names) * n_services)
    incidents = incidents.with_columns(k=pl.lit(k_of_key).gather("key")).drop("key")
    zero_decimal = pl.col("currency").is_in(ZERO_DECIMAL_CURRENCIES)
    terms = terms.with_columns(
        places=pl.when(zero_decimal).then(0).otherwise(2),
        scale=pl.when(zero_decimal).then(1).otherwise(100),
        coef=_tier(pl.col("target"), 2),
    ).select(
        "fee_u",
        "currency",
        "target",
        "places",
        "scale",
        "coef",
        customer_id=_guarded(pl.col("c")),
        service=_guarded(pl.col("v")),
        sla_target_pct=_tier(pl.col("target"), 1),
        coefficient=_fixed(pl.col("coef"), 2),
        # half-up to the minor unit: (2n + den) // (2 den)
        monthly_fee=_money((2 * pl.col("fee_u") * pl.col("scale") + 10_000) // 20_000),
        no_compensation=_money(pl.lit(0)),
    )
    return incidents, terms


def _positions(values: pl.Series, size: int) -> pl.Series:
    """A dense lookup table of ``size``: at each of ``values`` (distinct) its position in
    ``values``, elsewhere -1."""
    positions = pl.int_range(len(values), dtype=pl.Int64, eager=True)
    return pl.repeat(-1, size, dtype=pl.Int64, eager=True).scatter(values, positions)


# ---------------------------------------------------------------- months and the sweep


def clip_to_months(incidents: pl.DataFrame) -> pl.DataFrame:
    """Every incident clipped to each calendar month it overlaps by more than zero."""
    by_month = incidents.lazy().with_columns(m=_month(pl.col("s")), last=_month(pl.col("e") - 1))
    spans = (
        by_month.filter(pl.col("m") != pl.col("last"))
        .with_columns(m=pl.int_ranges("m", pl.col("last") + 1))
        .explode("m")
        .with_columns(
            s=pl.max_horizontal("s", _month_start(pl.col("m"))),
            e=pl.min_horizontal("e", _month_start(pl.col("m") + 1)),
        )
    )
    return pl.concat([by_month.filter(pl.col("m") == pl.col("last")), spans]).drop("last").collect()


def reported_months(pieces: pl.DataFrame, as_of_us: int) -> pl.DataFrame:
    """The months any piece falls in, in order, with what their rows share."""
    start = _month_start(pl.col("m"))
    end = _month_start(pl.col("m") + 1)
    due = end.cast(pl.Datetime("us")) + pl.duration(hours=72)
    return (
        pieces.lazy()
        .select(pl.col("m").unique().sort())
        .select(
            "m",
            start_us=start,
            period_us=end - start,
            month=start.cast(pl.Datetime("us")).dt.strftime("%Y-%m"),
            due_at=pl.concat_str(due.dt.strftime("%Y-%m-%dT%H:%M:%S"), pl.lit(UTC_OFFSET)),
            status=pl.when(end <= as_of_us).then(pl.lit("final")).otherwise(pl.lit("provisional")),
        )
        .collect()
    )


def usage(pieces: pl.DataFrame, months: pl.DataFrame, *, whole_seconds: bool) -> pl.DataFrame:
    """Per report row (k x number of months + month position): downtime in 1e-12 s, excluded
    us and incident count, by one event sweep over all keys.

    ``whole_seconds``: every instant is a whole second, so (row, time) packs into one Int64
    sort key when it fits (one integer sort is about twice as fast as a two-column one)."""
    if pieces.is_empty():
        return pl.DataFrame(schema=dict.fromkeys(USAGE_COLUMNS, pl.Int64))
    n_months = len(months)
    first = months["m"].min()
    month_position = _positions(months["m"] - first, months["m"].max() - first + 1)
    row = pl.col("k") * n_months + pl.lit(month_position).gather(pl.col("m") - first)
    base = pieces.lazy().select(
        row=row, level=pl.when("down").then("imp").otherwise(EXCLUSION), s="s", e="e"
    )
    events = pl.concat(
        [
            base.select("row", "level", t="s", step=pl.lit(1, pl.Int32)),
            base.select("row", "level", t="e", step=pl.lit(-1, pl.Int32)),
        ]
    )
    t0 = months["start_us"].min()
    span_s = (months["start_us"].max() + months["period_us"].max() - t0) // PPM + 1
    n_rows = (pieces["k"].max() + 1) * n_months
    if whole_seconds and n_rows * span_s < 2**63:
        events = events.sort(pl.col("row") * span_s + (pl.col("t") - t0) // PPM)
    else:
        events = events.sort("row", "t")

    def active(level: int) -> pl.Expr:
        return (pl.col("step") * (pl.col("level") == level)).cum_sum() > 0

    levels = sorted(pieces.filter("down")["imp"].unique().to_list())
    loss = pl.lit(0)
    for level in levels:  # the largest active level wins: it is tested first
        loss = pl.when(active(level)).then(level).otherwise(loss)
    loss = pl.when(active(EXCLUSION)).then(0).otherwise(loss)
    # Ties in time give zero-length segments.  After a group's last event every count is 0,
    # so its (meaningless) length to the next group's first event is multiplied by 0.
    length = (pl.col("t").shift(-1) - pl.col("t")).fill_null(0)
    return (
        events.with_columns(
            pus=loss * length,
            excl=pl.when(active(EXCLUSION)).then(length).otherwise(0),
            started=(pl.col("step") == 1) & (pl.col("level") != EXCLUSION),
        )
        .group_by("row")
        .agg(
            down_pus=pl.col("pus").sum(),
            excl_us=pl.col("excl").sum(),
            incident_count=pl.col("started").sum().cast(pl.Int64),
        )
        .collect()
    )


# ---------------------------------------------------------------- the report


def report(terms: pl.DataFrame, months: pl.DataFrame, used: pl.DataFrame) -> pl.LazyFrame:
    """The 18 columns, one row per priced key x reported month, in (key, month) order: row i
    is key i // months, month i % months; a row without usage has zeros."""
    n_months = len(months)
    n_rows = len(terms) * n_months
    i = pl.int_range(n_rows, dtype=pl.Int64, eager=True)
    zeros = pl.zeros(n_rows, pl.Int64, eager=True)
    amounts = {col: zeros.clone().scatter(used["row"], used[col]) for col in USAGE_COLUMNS[1:]}
    grid = pl.concat(
        [
            terms.lazy().select(pl.all().gather(i // n_months)),
            months.lazy().select(pl.all().gather(i % n_months)),
            pl.LazyFrame(amounts),
        ],
        how="horizontal",
    )
    d, period = pl.col("down_pus"), pl.col("period_us")
    wide = {name: pl.col(name).cast(pl.Int128) for name in ("down_pus", "period_us", "fee_u")}
    breached = d > _allowed(pl.col("target"))
    # capped: compensation above the fee, d (1e-12 s) / (period_us x 1e6) x coef / 100 > 1
    over_fee = wide["down_pus"] * pl.col("coef") > wide["period_us"] * 10**8
    capped = breached & (pl.col("fee_u") > 0) & over_fee
    # compensation in minor units, half-up once: (2n + den) // (2 den)
    den = wide["period_us"] * 10**12
    prorated = 2 * wide["down_pus"] * pl.col("fee_u") * pl.col("coef") * pl.col("scale")
    at_fee = (2 * pl.col("fee_u") * pl.col("scale") + 10_000) // 20_000
    comp_minor = pl.when("capped").then(at_fee).otherwise((prorated + den) // (2 * den))
    band = pl.lit(f"<{TIERS[-1][1]}")
    for value, label, _ in reversed(TIERS):  # the highest tier met wins: it is tested first
        band = pl.when(d <= _allowed(value)).then(pl.lit(label)).otherwise(band)
    availability = PPM - (d + period - 1) // period  # percent x 10_000, truncated
    return grid.with_columns(breached=breached, capped=capped).select(
        "customer_id",
        "service",
        "month",
        period_seconds=period // PPM,
        downtime_seconds=_seconds((d + 500_000_000) // 1_000_000_000),
        excluded_seconds=_seconds((pl.col("excl_us") + 500) // 1000),
        availability_pct=_fixed(availability, 4),
        tier_band=band,
        sla_target_pct="sla_target_pct",
        breached="breached",
        coefficient="coefficient",
        monthly_fee="monthly_fee",
        compensation=pl.when("breached")
        .then(_money(comp_minor.cast(pl.Int64)))
        .otherwise("no_compensation"),
        currency="currency",
        capped="capped",
        incident_count="incident_count",
        compensation_due_at=pl.when("breached").then("due_at"),
        status="status",
    )


def write_report(
    incidents: Path,
    out: Path,
    *,
    as_of: str = DEFAULT_AS_OF,
    contracts: Path | None = None,
    monthly_fee: str | None = None,
    sla_target: str | None = None,
    currency: str = "CNY",
) -> None:
    """Write the report CSV of ``incidents`` to ``out`` (through a temporary file)."""
    as_of_us = (datetime.fromisoformat(as_of) - EPOCH) // timedelta(microseconds=1)
    fee_u = None if monthly_fee is None else int(Decimal(monthly_fee) * 10000)
    target = DEFAULT_TARGET if sla_target is None else tier_target(sla_target)
    log = read_incidents(incidents, as_of_us)
    contract_rows = None if contracts is None else read_contracts(contracts, currency)
    log, terms = key_terms(log, contract_rows, fee_u=fee_u, currency=currency, target=target)
    pieces = clip_to_months(log)
    del log
    months = reported_months(pieces, as_of_us)
    used = usage(pieces, months, whole_seconds=as_of_us % PPM == 0)
    del pieces
    tmp = out.with_name(out.name + ".tmp")
    report(terms, months, used).sink_csv(tmp)
    os.replace(tmp, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write slacalc's report CSV with Polars (the benchmark's second baseline)."
    )
    parser.add_argument("incidents", type=Path, help="incident log CSV")
    parser.add_argument("--contracts", type=Path, help="contracts CSV")
    parser.add_argument("--monthly-fee", help="fee of keys without a contract")
    parser.add_argument("--sla-target", help="tier of keys without a contract (default 99.95)")
    parser.add_argument("--currency", default="CNY", help="currency of contracts naming none")
    parser.add_argument("--as-of", default=DEFAULT_AS_OF, help="ends ongoing incidents")
    parser.add_argument("-o", "--output", type=Path, required=True, help="output CSV")
    args = parser.parse_args(argv)
    if args.contracts is None and args.monthly_fee is None:
        parser.error("give --contracts FILE or --monthly-fee AMOUNT")
    write_report(
        args.incidents,
        args.output,
        as_of=args.as_of,
        contracts=args.contracts,
        monthly_fee=args.monthly_fee,
        sla_target=args.sla_target,
        currency=args.currency,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
