"""The report's CSV in bulk: every row's fields computed and formatted as numpy/pyarrow columns.

A large report has hundreds of thousands of rows, and building a ``ReportRow`` and formatting
it field by field costs more than everything before it. This module computes the same fields
from the same inputs (per-key usage, contracts, month grid) with integer arrays and formats
them with pyarrow's string kernels. It is exact in the same way as the row code: tier tests
against the same per-month integer downtime limits, availability truncated by integer
division, compensation priced by the row code's own pricer (Python integers; numpy's would
overflow). Rows whose downtime is a Fraction (partial impacts) are formatted by
``ReportRow.to_row`` itself. The tests compare the text with the row-by-row CSV byte for byte.
"""

from __future__ import annotations

from typing import Any

from slacalc.engine import ArrayUsage
from slacalc.money import format_money, minor_unit
from slacalc.timeparse import US_PER_SECOND, format_instant

MIN_ROWS = 20_000  # below this the row-by-row writer is as fast



def _quoted_chars() -> frozenset[str]:
    """The characters that make this Python's csv module quote a cell (we must agree)."""
    import csv
    import io

    found = set()
    for c in ',"\r\n\t ;':
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerow([f"a{c}b"])
        if out.getvalue().startswith('"'):
            found.add(c)
    return frozenset(found)


_NEEDS_QUOTES = _quoted_chars()


def available() -> bool:
    """Whether numpy and pyarrow can be imported here."""
    try:
        import numpy  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def csv_body(plan: Any, *, raw: bool, formula_chars: frozenset[str]) -> tuple[str, bool] | None:
    """The CSV lines (no header) of every row of ``plan`` and whether any row is breached.

    None when a month is not a whole number of seconds long (then the row writer does it).
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from slacalc.report import LEVEL1_DELAY_US, format_coefficient

    keys, usage, grid, wanted, terms = plan.keys, plan.usage, plan.grid, plan.wanted, plan.terms
    policy, tiers = terms.policy, terms.policy.tiers
    n_keys, n_months = len(keys), len(wanted)
    n = n_keys * n_months
    if n == 0:
        return "", False

    # Per month: length, the downtime limit of each tier, status and level-1 due date.
    periods = [grid.edges[i + 1] - grid.edges[i] for i in wanted]
    if any(p % US_PER_SECOND for p in periods):
        return None
    limits = np.array(
        [[p * (100 * t.ratio[1] - t.ratio[0]) // (100 * t.ratio[1]) for t in tiers]
         for p in periods],
        dtype=np.int64,
    )  # fmt: skip
    month_ends = [grid.edges[i + 1] for i in wanted]
    month_cols = {
        "month": [grid.months[i].text for i in wanted],
        "period": [str(p // US_PER_SECOND) for p in periods],
        "status": ["provisional" if e > terms.as_of else "final" for e in month_ends],
        "due": [format_instant(e + LEVEL1_DELAY_US, terms.tz) for e in month_ends],
    }

    # Per key: its text cells and its contract's terms.
    key_cols: dict[str, list[str]] = {"customer": [], "service": [], "currency": []}
    terms_text: dict[bool, list[str]] = {False: [], True: []}
    tier_pos = np.empty(n_keys, dtype=np.int64)
    contracts = []
    for k, ((customer, service), contract) in enumerate(keys):
        key_cols["customer"].append(_csv_text(customer, raw, formula_chars))
        key_cols["service"].append(_csv_text(service, raw, formula_chars))
        key_cols["currency"].append(contract.currency)
        tier_pos[k] = tiers.index(contract.tier)
        contracts.append(contract)
        for flag in (False, True):  # sla_target_pct, breached, coefficient, monthly_fee
            terms_text[flag].append(",".join((
                contract.tier.label, "true" if flag else "false",
                format_coefficient(contract.tier.coefficient),
                format_money(contract.monthly_fee, contract.currency),
            )))  # fmt: skip

    # Per row (key-major, month-minor): the usage.
    downtime = np.zeros(n, dtype=np.int64)
    excluded = np.zeros(n, dtype=np.int64)
    count = np.zeros(n, dtype=np.int64)
    fractional: list[int] = []
    column_of = {i: j for j, i in enumerate(wanted)}
    rest = range(n_keys)
    if isinstance(usage, ArrayUsage):
        _scatter_arrays(np, usage, keys, column_of, n_months, downtime, count)
        rest = [k for k, (key, _) in enumerate(keys) if key in usage.others]
        usage = usage.others
    for k in rest:
        key = keys[k][0]
        for i, use in usage.get(key, {}).items():
            j = column_of.get(i)
            if j is None:
                continue
            row = k * n_months + j
            if type(use.downtime_us) is int:
                downtime[row] = use.downtime_us
            else:
                fractional.append(row)
            excluded[row] = use.excluded_us
            count[row] = use.incident_count

    kpos = np.repeat(np.arange(n_keys), n_months)
    mpos = np.tile(np.arange(n_months), n_keys)
    row_limits = limits[mpos]
    # Tiers are highest first, so the limits grow along a row: count the tiers met.
    band = len(tiers) - (downtime[:, None] <= row_limits).sum(axis=1)
    breached = downtime > row_limits[np.arange(n), tier_pos[kpos]]
    period = np.array(periods, dtype=np.int64)[mpos]
    avail = (10**6 * (period - downtime)) // period  # percent x 10^4, truncated toward zero

    units, capped = _compensation(np, policy, contracts, kpos, breached, downtime, period)
    places_of = np.array([minor_unit(c.currency) for c in contracts])[kpos].tolist()
    compensation = [
        _money_text(u, p) for u, p in zip(units.tolist(), places_of, strict=True)
    ]

    def text(values: Any) -> Any:
        return pc.cast(pa.array(values), pa.string())

    def seconds(us: Any) -> Any:
        if not (us % US_PER_SECOND).any():
            return text(us // US_PER_SECOND)
        ms = (us + 500) // 1000  # half-up to milliseconds, as fmt.seconds
        frac = pc.utf8_rtrim(pc.utf8_lpad(text(ms % 1000), 3, "0"), "0")
        whole = text(ms // 1000)
        return pc.if_else(
            pa.array(ms % 1000 != 0), pc.binary_join_element_wise(whole, frac, "."), whole
        )

    by_key, by_month = pa.array(kpos), pa.array(mpos)
    is_breached = pa.array(breached)
    labels = pa.array([t.label for t in tiers] + ["<" + tiers[-1].label])
    false_true = pa.array(["false", "true"])
    cells = [
        pa.array(key_cols["customer"]).take(by_key),
        pa.array(key_cols["service"]).take(by_key),
        pa.array(month_cols["month"]).take(by_month),
        pa.array(month_cols["period"]).take(by_month),
        seconds(downtime),
        seconds(excluded),
        pc.binary_join_element_wise(
            text(avail // 10_000), pc.utf8_lpad(text(avail % 10_000), 4, "0"), "."
        ),
        labels.take(pa.array(band)),
        pc.if_else(
            is_breached,
            pa.array(terms_text[True]).take(by_key),
            pa.array(terms_text[False]).take(by_key),
        ),
        pa.array(compensation, type=pa.string()),
        pa.array(key_cols["currency"]).take(by_key),
        false_true.take(pa.array(capped.astype(np.int64))),
        text(count),
        pc.if_else(is_breached, pa.array(month_cols["due"]).take(by_month), ""),
        pa.array(month_cols["status"]).take(by_month),
    ]
    lines = pc.binary_join_element_wise(*cells, ",").to_pylist()
    for row in fractional:  # partial impacts: the row code itself
        exact_row = plan.row(row // n_months, row % n_months)
        lines[row] = _row_line(exact_row, raw)[:-1]
        breached[row] = exact_row.breached
    lines.append("")
    return "\n".join(lines), bool(breached.any())


def _scatter_arrays(
    np: Any, usage: Any, keys: list[Any], column_of: dict[int, int], n_months: int,
    downtime: Any, count: Any,
) -> None:
    """Copy an ArrayUsage's cells into the rows (key-major, month-minor) of the report."""
    position = np.full(len(usage.key_list) + 1, -1, dtype=np.int64)
    index = {key: i for i, key in enumerate(usage.key_list)}
    for k, (key, _) in enumerate(keys):
        i = index.get(key)
        if i is not None and key not in usage.others:
            position[i] = k
    column = np.full(usage.n_months, -1, dtype=np.int64)
    for i, j in column_of.items():
        column[i] = j
    k = position[usage.cells // usage.n_months]
    j = column[usage.cells % usage.n_months]
    keep = (k >= 0) & (j >= 0)
    rows = k[keep] * n_months + j[keep]
    downtime[rows] = usage.downtime[keep]
    count[rows] = usage.counts[keep]


def _compensation(
    np: Any, policy: Any, contracts: list[Any], kpos: Any, breached: Any, downtime: Any,
    period: Any,
) -> tuple[Any, Any]:
    """Minor units and cap flags of every row, exactly as ``report._pricer`` prices them.

    The products of fees, coefficients and microseconds overflow int64, so the arithmetic is
    done on arrays of Python integers (``dtype=object``): exact, and still one pass in C.
    """
    terms: dict[int, tuple[int, ...]] = {}
    per_downtime = True
    for c in contracts:
        if id(c) not in terms:
            r = policy.ratios(c.tier, c.monthly_fee)
            per_downtime = r.per_downtime
            terms[id(c)] = (10 ** minor_unit(c.currency), r.share_num, r.share_den, r.cap_num,
                            r.cap_den)  # fmt: skip
    per_row = np.array([terms[id(c)] for c in contracts], dtype=object)[kpos]
    scale, share_num, share_den, cap_num, cap_den = (per_row[:, i] for i in range(5))
    if per_downtime:  # downtime / period x fee x coefficient
        num, den = downtime.astype(object) * share_num, period.astype(object) * share_den
    else:  # fee x credit %
        num, den = share_num, share_den
    capped = (num * cap_den > cap_num * den).astype(bool) & breached
    num = np.where(capped, cap_num, num)
    den = np.where(capped, cap_den, den)
    units = np.where(breached, (2 * num * scale + den) // (2 * den), 0)  # half-up
    return units, capped


def _row_line(row: Any, raw: bool) -> str:
    import csv
    import io

    from slacalc.render import csv_cell

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([csv_cell(v, raw=raw) for v in row.to_row()])
    return buffer.getvalue()


def _csv_text(value: str, raw: bool, formula_chars: frozenset[str]) -> str:
    """One text cell as ``render.csv_cell`` guards it and Python's csv module quotes it."""
    if value and not raw and value[0] in formula_chars:
        value = "'" + value
    if not _NEEDS_QUOTES.isdisjoint(value):
        return '"' + value.replace('"', '""') + '"'
    return value


def _money_text(units: int, places: int) -> str:
    """``units`` minor units with exactly ``places`` decimals, as ``money.format_money``."""
    if not places:
        return str(units)
    whole, frac = divmod(units, 10**places)
    return f"{whole}.{frac:0{places}d}"
