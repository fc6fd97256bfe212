"""A hand-written DuckDB script that writes slacalc's full report CSV: the benchmark's baseline.

    python bench/duckdb_report.py INCIDENTS --monthly-fee 100 --sla-target 99.95 \\
        --as-of '2025-06-01 00:00:00' -o OUT.csv
    python bench/duckdb_report.py INCIDENTS --contracts CONTRACTS --as-of ... -o OUT.csv

One row per (customer_id, service) key x every reported month (the months any incident
touches), with every column of ``slacalc report --format csv``, sorted by customer_id,
service, month.  The semantics are slacalc's (SPEC.md, standard policy):

  * at any instant a key loses the largest impact among its active outage/data_loss
    incidents, and nothing inside any of its maintenance/excluded windows; downtime is the
    integral of that loss over the month; ongoing incidents end at --as-of;
  * excluded_seconds is the length of the union of the exclusion windows in the month;
    incident_count counts outage/data_loss rows that overlap the month by more than zero;
  * availability is truncated to 4 decimals, tiers and breaches are exact comparisons;
    compensation = downtime / period x fee x coefficient, capped at the fee, rounded once,
    half-up, to the currency's minor unit; compensation_due_at = period end + 72 h;
  * with --contracts an exact (customer, service) contract wins over the customer's `*` one,
    and every contract gets rows (a `*` contract that priced no incident key as service `*`).

All arithmetic is integer: instants in epoch microseconds, impacts in parts per million (so a
downtime is a whole number of 1e-12 s), fees in 1e-4 units, HUGEINT where products need it.

What it assumes (the generated logs guarantee it; slacalc itself is more general): valid
input (slacalc validates, this does not); naive timestamps in Asia/Shanghai, which has no DST,
so naive arithmetic is elapsed time and the offset is always +08:00; impacts with at most 6
decimals as a share (4 as a percentage); fees with at most 4 decimals; customer and service
ids that need no CSV quoting.
"""

from __future__ import annotations

import argparse
import os
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

DEFAULT_AS_OF = "2025-06-01 00:00:00"
UTC_OFFSET = "+08:00"  # Asia/Shanghai, no DST
ZERO_DECIMAL_CURRENCIES = (
    "BIF",
    "CLP",
    "DJF",
    "GNF",
    "ISK",
    "JPY",
    "KMF",
    "KRW",
    "PYG",
    "RWF",
    "UGX",
    "UYI",
    "VND",
    "VUV",
    "XAF",
    "XOF",
    "XPF",
)
# the standard policy: target (percent x 1000), its label, its coefficient (x 100)
TIERS = ((99_999, "99.999", 500), (99_990, "99.99", 250), (99_950, "99.95", 125))
DEFAULT_TARGET = 99_950

INCIDENT_COLUMNS = """{'incident_id': 'VARCHAR', 'customer_id': 'VARCHAR',
    'service': 'VARCHAR', 'start': 'TIMESTAMP', 'end': 'TIMESTAMP',
    'category': 'VARCHAR', 'impact': 'VARCHAR'}"""

# The log's rows that last more than zero; ongoing ones end at as-of (never before their
# start).  Impact in parts per million.
INCIDENTS_SQL = f"""
CREATE TEMP TABLE incidents AS
SELECT * FROM (
    SELECT coalesce(trim(customer_id), '') AS c,
           coalesce(trim(service), '') AS v,
           "start" AS s,
           coalesce("end", greatest("start", $as_of::TIMESTAMP)) AS e,
           coalesce(lower(trim(category)), '') NOT IN ('maintenance', 'excluded') AS down,
           CASE WHEN coalesce(trim(impact), '') = '' THEN 1000000
                WHEN trim(impact) LIKE '%\\%' ESCAPE '\\'
                THEN CAST(CAST(rtrim(trim(impact), '%') AS DECIMAL(18, 4)) * 10000 AS BIGINT)
                ELSE CAST(CAST(trim(impact) AS DECIMAL(18, 6)) * 1000000 AS BIGINT)
           END AS imp
    FROM read_csv($path, header = true, delim = ',', quote = '"', columns = {INCIDENT_COLUMNS})
)
WHERE e > s
"""

# The keys that get rows, with their terms: fee_u (the fee in 1e-4 units), currency, target
# (percent x 1000).
FLAT_KEYS_SQL = """
CREATE TEMP TABLE priced_keys AS
SELECT DISTINCT c, v, $fee::HUGEINT AS fee_u, $currency AS currency, $target AS target
FROM incidents
"""

CONTRACTS_SQL = f"""
CREATE TEMP TABLE contracts AS
SELECT trim(customer_id) AS c,
       coalesce(nullif(trim(service), ''), '*') AS v,
       CAST(CAST(trim(monthly_fee) AS DECIMAL(38, 4)) * 10000 AS HUGEINT) AS fee_u,
       coalesce(nullif(upper(trim(currency)), ''), $currency) AS currency,
       CASE WHEN coalesce(trim(sla_target), '') = '' THEN {DEFAULT_TARGET}
            ELSE CAST(CAST(rtrim(trim(sla_target), '%') AS DECIMAL(9, 3)) * 1000 AS INTEGER)
       END AS target
FROM read_csv($path, header = true, delim = ',', quote = '"', all_varchar = true)
"""

# Incident keys priced by their exact contract, else their customer's "*" contract, else the
# fallback (--monthly-fee, if given).  Then every contract without incidents: exact ones as
# they are, a "*" one that priced no incident key as (customer, "*").
CONTRACT_KEYS_SQL = """
CREATE TEMP TABLE priced_keys AS
WITH keys AS (SELECT DISTINCT c, v FROM incidents),
priced AS (
    SELECT k.c, k.v,
           coalesce(x.fee_u, w.fee_u, $fee::HUGEINT) AS fee_u,
           coalesce(x.currency, w.currency, $currency) AS currency,
           coalesce(x.target, w.target, $target) AS target,
           x.c IS NULL AND w.c IS NOT NULL AS by_wildcard
    FROM keys k
    LEFT JOIN contracts x ON x.c = k.c AND x.v = k.v AND x.v <> '*'
    LEFT JOIN contracts w ON w.c = k.c AND w.v = '*'
)
SELECT c, v, fee_u, currency, target FROM priced
UNION ALL
SELECT c, v, fee_u, currency, target FROM contracts x
WHERE v <> '*' AND NOT EXISTS (SELECT 1 FROM keys k WHERE k.c = x.c AND k.v = x.v)
UNION ALL
SELECT c, v, fee_u, currency, target FROM contracts w
WHERE v = '*' AND NOT EXISTS (SELECT 1 FROM priced p WHERE p.c = w.c AND p.by_wildcard)
"""

# Every incident clipped to each calendar month it overlaps by more than zero.
PIECES_SQL = """
CREATE TEMP TABLE pieces AS
SELECT k, m,
       epoch_us(greatest(s, m)) AS s_us,
       epoch_us(least(e, m + INTERVAL 1 MONTH)) AS e_us,
       down, imp
FROM (
    SELECT t.k, i.s, i.e, i.down, i.imp,
           unnest(generate_series(date_trunc('month', i.s), i.e - INTERVAL 1 MICROSECOND,
                                  INTERVAL 1 MONTH)) AS m
    FROM incidents i JOIN terms t ON t.c = i.c AND t.v = i.v
)
"""

# Per key and month: downtime in pus (1e-12 s = us x ppm), excluded us, incident count.
# A key with one piece in a month (most of them) is that piece.  Otherwise cut the month at
# every start and end of the key's pieces: in each elementary segment the loss is constant,
# 0 if an exclusion window covers it, else the largest impact of the down pieces covering it.
USAGE_SQL = """
CREATE TEMP TABLE usage AS
WITH per_month AS (
    SELECT k, m, count(*) AS n,
           count(*) FILTER (WHERE down) AS incident_count,
           sum(CASE WHEN down THEN imp * (e_us - s_us) ELSE 0 END) AS down_pus,
           sum(CASE WHEN down THEN 0 ELSE e_us - s_us END) AS excl_us
    FROM pieces
    GROUP BY k, m
),
multi AS (
    SELECT p.* FROM pieces p SEMI JOIN per_month g ON g.k = p.k AND g.m = p.m AND g.n > 1
),
cuts AS (
    SELECT k, m, t, lead(t) OVER (PARTITION BY k, m ORDER BY t) AS t2
    FROM (SELECT k, m, s_us AS t FROM multi UNION SELECT k, m, e_us FROM multi)
),
segments AS (
    SELECT g.k, g.m, g.t, g.t2,
           bool_or(NOT p.down) AS excluded,
           coalesce(max(p.imp) FILTER (WHERE p.down), 0) AS loss
    FROM cuts g
    JOIN multi p ON p.k = g.k AND p.m = g.m AND p.s_us <= g.t AND p.e_us >= g.t2
    WHERE g.t2 IS NOT NULL
    GROUP BY g.k, g.m, g.t, g.t2
),
swept AS (
    SELECT k, m,
           sum(CASE WHEN excluded THEN 0 ELSE loss * (t2 - t) END) AS down_pus,
           sum(CASE WHEN excluded THEN t2 - t ELSE 0 END) AS excl_us
    FROM segments
    GROUP BY k, m
)
SELECT g.k, g.m, g.incident_count,
       CAST(CASE WHEN g.n = 1 THEN g.down_pus ELSE s.down_pus END AS BIGINT) AS down_pus,
       CAST(CASE WHEN g.n = 1 THEN g.excl_us ELSE s.excl_us END AS BIGINT) AS excl_us
FROM per_month g LEFT JOIN swept s ON s.k = g.k AND s.m = g.m
"""


def _tier_case(column: str, pick: int) -> str:
    """CASE mapping a target (percent x 1000) to its label (pick 1) or coefficient (pick 2)."""
    whens = " ".join(f"WHEN {tier[0]} THEN {tier[pick]!r}" for tier in TIERS)
    return f"CASE {column} {whens} END"


def _allowed(target: str) -> str:
    """The most downtime (pus) a month of period_us allows at ``target`` (percent x 1000):
    up / period >= target / 100000  <=>  d <= (100000 - target) * 10 * period_us."""
    return f"(100000 - {target}) * 10 * period_us"


def _band() -> str:
    whens = " ".join(f"WHEN d <= {_allowed(str(t))} THEN '{label}'" for t, label, _ in TIERS)
    return f"CASE {whens} ELSE '<{TIERS[-1][1]}' END"


def _fixed(units: str, places: int) -> str:
    """Text of ``units`` of 10**-places with exactly ``places`` decimals."""
    scale = 10**places
    frac = f"lpad(({units} % {scale})::VARCHAR, {places}, '0')"
    return f"({units} // {scale})::VARCHAR || '.' || {frac}"


def _money(units: str) -> str:
    """Text of ``units`` minor units: 2 decimals, or none where ``places`` is 0 (JPY)."""
    units = f"({units})"
    return f"CASE WHEN places = 0 THEN {units}::VARCHAR ELSE {_fixed(units, 2)} END"


def _seconds(ms: str) -> str:
    """Text of ``ms`` milliseconds as seconds, trailing zeros (and the point) dropped."""
    frac = f"rtrim(lpad(({ms} % 1000)::VARCHAR, 3, '0'), '0')"
    whole = f"({ms} // 1000)::VARCHAR"
    return f"CASE WHEN {ms} % 1000 = 0 THEN {whole} ELSE {whole} || '.' || {frac} END"


def _guarded(column: str) -> str:
    """The cell as slacalc writes it: a leading = + - @ tab or CR gets a ' (formula injection);
    an empty one is NULL, which COPY writes as an empty cell (it quotes empty strings)."""
    quoted = f"'''' || {column}"
    return (
        f"CASE WHEN regexp_matches({column}, '^[=+\\-@\\t\\r]') THEN {quoted} "
        f"ELSE nullif({column}, '') END"
    )


# The priced keys numbered in output order (k), so that the per-row work joins and sorts on
# integers; and what the rows of a key share, as text, once per key.
TERMS_SQL = f"""
CREATE TEMP TABLE terms AS
SELECT row_number() OVER (ORDER BY c, v) AS k, c, v,
       {_guarded("c")} AS customer_id,
       {_guarded("v")} AS service,
       CAST(fee_u AS BIGINT) AS fee_u, currency, target, places, scale, coef,
       {_tier_case("target", 1)} AS sla_target_pct,
       CASE coef WHEN 125 THEN '1.25' WHEN 250 THEN '2.50' WHEN 500 THEN '5.00' END
           AS coefficient,
       {_money("(2 * fee_u * scale + 10000) // 20000")} AS monthly_fee,
       {_money("0")} AS no_compensation
FROM (
    SELECT *,
           CASE WHEN currency IN {ZERO_DECIMAL_CURRENCIES} THEN 0 ELSE 2 END AS places,
           CASE WHEN currency IN {ZERO_DECIMAL_CURRENCIES} THEN 1 ELSE 100 END AS scale,
           {_tier_case("target", 2)} AS coef
    FROM priced_keys
)
"""

# One row per key x reported month, in (customer_id, service, month) order.  d: downtime in
# pus; fee_u: fee in 1e-4 units; scale: 10 ** minor unit.  Rounding is half-up:
# (2n + den) // (2 den).  HUGEINT where products can pass 64 bits, only on breached rows.
REPORT_SQL = f"""
COPY (
WITH months AS (
    SELECT DISTINCT m, epoch_us(m + INTERVAL 1 MONTH) - epoch_us(m) AS period_us,
           strftime(m, '%Y-%m') AS month,
           strftime(m + INTERVAL 1 MONTH + INTERVAL 72 HOUR, '%Y-%m-%dT%H:%M:%S')
               || '{UTC_OFFSET}' AS due_at,
           CASE WHEN m + INTERVAL 1 MONTH <= $as_of::TIMESTAMP THEN 'final'
                ELSE 'provisional' END AS status
    FROM usage
),
grid AS (
    SELECT t.*, mo.*,
           coalesce(u.down_pus, 0) AS d,
           coalesce(u.excl_us, 0) AS excl_us,
           coalesce(u.incident_count, 0) AS incident_count,
           coalesce(u.down_pus, 0) > {_allowed("t.target")} AS breached
    FROM terms t CROSS JOIN months mo
    LEFT JOIN usage u ON u.k = t.k AND u.m = mo.m
),
priced AS (
    SELECT *,
           CASE WHEN breached
                THEN fee_u > 0 AND d::HUGEINT * coef > period_us::HUGEINT * 100000000
                ELSE false
           END AS capped
    FROM grid
),
amounts AS (
    SELECT *,
           CASE WHEN NOT breached THEN NULL
                WHEN capped THEN (2 * fee_u::HUGEINT * scale + 10000) // 20000
                ELSE (2 * d::HUGEINT * fee_u * coef * scale
                      + period_us::HUGEINT * 1000000000000)
                     // (period_us::HUGEINT * 2000000000000)
           END AS comp_minor,
           (d + 500000000) // 1000000000 AS down_ms,
           (excl_us + 500) // 1000 AS excl_ms,
           1000000 - (d + period_us - 1) // period_us AS avail_q
    FROM priced
)
SELECT
    customer_id,
    service,
    month,
    period_us // 1000000 AS period_seconds,
    {_seconds("down_ms")} AS downtime_seconds,
    {_seconds("excl_ms")} AS excluded_seconds,
    {_fixed("avail_q", 4)} AS availability_pct,
    {_band()} AS tier_band,
    sla_target_pct,
    CASE WHEN breached THEN 'true' ELSE 'false' END AS breached,
    coefficient,
    monthly_fee,
    CASE WHEN breached THEN {_money("comp_minor")} ELSE no_compensation END AS compensation,
    currency,
    CASE WHEN capped THEN 'true' ELSE 'false' END AS capped,
    incident_count,
    CASE WHEN breached THEN due_at END AS compensation_due_at,
    status
FROM amounts
ORDER BY k, m
) TO '{{out}}' (FORMAT csv, HEADER true, DELIMITER ',', QUOTE '"')
"""


def _target(text: str) -> int:
    """A committed tier such as 99.95 as percent x 1000; exits if it is not a tier."""
    try:
        value = int(Decimal(text.strip().removesuffix("%")) * 1000)
    except InvalidOperation:
        value = -1
    if value not in {t for t, _, _ in TIERS}:
        raise SystemExit(f"--sla-target: not a tier: {text!r} (99.95, 99.99 or 99.999)")
    return value


def write_report(
    incidents: Path,
    out: Path,
    *,
    as_of: str = DEFAULT_AS_OF,
    contracts: Path | None = None,
    monthly_fee: str | None = None,
    sla_target: str | None = None,
    currency: str = "CNY",
    threads: int | None = None,
) -> None:
    """Write the report CSV of ``incidents`` to ``out`` (through a temporary file)."""
    import duckdb

    fee_u = None if monthly_fee is None else int(Decimal(monthly_fee) * 10000)
    target = DEFAULT_TARGET if sla_target is None else _target(sla_target)
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        con.execute(INCIDENTS_SQL, {"path": str(incidents), "as_of": as_of})
        terms = {"fee": fee_u, "currency": currency, "target": target}
        if contracts is None:
            con.execute(FLAT_KEYS_SQL, terms)
        else:
            con.execute(CONTRACTS_SQL, {"path": str(contracts), "currency": currency})
            con.execute(CONTRACT_KEYS_SQL, terms)
        unpriced = con.execute("SELECT c, v FROM priced_keys WHERE fee_u IS NULL").fetchone()
        if unpriced:
            customer, service = unpriced
            raise SystemExit(f"no contract for customer {customer!r} service {service!r}")
        con.execute(TERMS_SQL)
        con.execute(PIECES_SQL)
        con.execute("DROP TABLE incidents")
        con.execute(USAGE_SQL)
        con.execute("DROP TABLE pieces")
        tmp = out.with_name(out.name + ".tmp")
        con.execute(REPORT_SQL.replace("{out}", str(tmp).replace("'", "''")), {"as_of": as_of})
        os.replace(tmp, out)
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write slacalc's report CSV with DuckDB (the benchmark's baseline)."
    )
    parser.add_argument("incidents", type=Path, help="incident log CSV")
    parser.add_argument("--contracts", type=Path, help="contracts CSV")
    parser.add_argument("--monthly-fee", help="fee of keys without a contract")
    parser.add_argument("--sla-target", help="tier of keys without a contract (default 99.95)")
    parser.add_argument("--currency", default="CNY", help="currency of contracts naming none")
    parser.add_argument("--as-of", default=DEFAULT_AS_OF, help="ends ongoing incidents")
    parser.add_argument("--threads", type=int, help="DuckDB threads (default: every core)")
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
        threads=args.threads,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
