"""Request-based availability: a month's error rate as an equivalent downtime, exactly.

Under an :class:`~slacalc.terms.requests.ErrorRateMeasure` the month is cut into intervals of
``interval_seconds``, aligned to the Unix epoch (every day's 00:00 UTC starts one). An
interval's error rate is ``failed / total`` of the request counts of the rows inside it (0 when
it has none), and the month's availability is 100 % minus the mean of its intervals' error
rates. An interval that a month edge cuts (the month starts at a local midnight that is not on
the interval grid: a +05:30 zone and hourly intervals) counts in each month for the part of it
inside that month, with the error rate of the whole interval: each interval weighs what its
time in the month weighs. So

    mean error rate = sum_i w_i x r_i / period,    w_i = the microseconds of interval i in the
                                                   month, sum_i w_i = period

and the month's unavailability is exactly a downtime: ``down = sum_i w_i x r_i`` microseconds
(with ``empty_intervals = "not_counted"``: ``period x sum_i w_i r_i / sum_(i with requests)
w_i``). :func:`request_totals` gives it per (key, month) cell as the engine's
:class:`~slacalc.computing.engine.CellTotals`, ``down_num / down_den`` exact, so tiers, money
and the report follow unchanged: ``1 - down / period`` is the availability.

A row must lie inside one interval: a window that crosses an interval boundary cannot be split
without guessing where its failures fell, so it is a ``FILE:LINE`` problem. Rows of one key in
the same interval are added up (several exports of the same window count several times).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from fractions import Fraction
from math import gcd
from typing import Any

import numpy as np

from slacalc import speed
from slacalc.computing.engine import CellTotals, sorted_distinct
from slacalc.dates import months
from slacalc.dates.instants import format_instant
from slacalc.errors import InputError, Problem
from slacalc.reading.requests import RequestTable
from slacalc.terms.requests import NOT_COUNTED, ErrorRateMeasure, interval_words


@dataclass(frozen=True)
class MonthRequests:
    """What one (key, month) cell's availability was computed from (for explain)."""

    intervals: int  # intervals of the month (those a month edge cuts included)
    partial: int  # of them, cut by a month edge (0, 1 or 2)
    with_requests: int  # intervals with at least one request
    with_errors: int  # intervals with at least one failed request
    total: int  # requests in the month's intervals (a cut interval's in both months)
    failed: int
    error_rate: Fraction  # the month's mean error rate: 1 - availability

    def to_dict(self) -> dict[str, Any]:
        return {
            "intervals": self.intervals,
            "partial_intervals": self.partial,
            "intervals_with_requests": self.with_requests,
            "intervals_with_errors": self.with_errors,
            "total_requests": self.total,
            "failed_requests": self.failed,
            "mean_error_rate_pct": self.error_rate_pct(),
        }

    def error_rate_pct(self, places: int = 8) -> str:
        """The mean error rate in percent, rounded up to ``places`` decimals (so 100 minus it
        never overstates the availability). The exact fraction's terms may run to thousands
        of digits: it is never written out whole."""
        from slacalc.terms.numbers import scaled_text

        rate = self.error_rate * 100 * 10**places
        return scaled_text(-(-rate.numerator // rate.denominator), places)


@dataclass
class RequestCells:
    """The engine's cell totals of request-measured keys, and each cell's counts.

    The arrays run parallel to ``totals.cells`` (sorted ``key x n_months + month``)."""

    totals: CellTotals
    intervals: Any  # int64
    partial: Any  # int64
    with_requests: Any  # int64
    with_errors: Any  # int64
    total: Any  # int64, or an object array of Python integers
    failed: Any
    period: Any  # int64: each cell's month, microseconds

    def detail(self, i: int) -> MonthRequests:
        """Cell ``i``'s counts and mean error rate."""
        t = self.totals
        den = t.down_den if np.ndim(t.down_den) == 0 else t.down_den[i]
        rate = Fraction(int(t.down_num[i]), int(den) * int(self.period[i]))
        return MonthRequests(
            int(self.intervals[i]),
            int(self.partial[i]),
            int(self.with_requests[i]),
            int(self.with_errors[i]),
            int(self.total[i]),
            int(self.failed[i]),
            rate,
        )

    def of_key(self, k: int) -> dict[int, MonthRequests]:
        """``{month: counts}`` of key number ``k`` (slow; for display)."""
        n_months = self.totals.n_months
        cells = self.totals.cells
        lo, hi = np.searchsorted(cells, [k * n_months, (k + 1) * n_months])
        return {int(cells[i]) % n_months: self.detail(i) for i in range(int(lo), int(hi))}


def interval_problems(table: RequestTable, measure: ErrorRateMeasure) -> list[Problem]:
    """A problem for every row whose window crosses an interval boundary."""
    size = measure.interval_us
    crossing = np.flatnonzero((table.end - 1) // size != table.start // size)
    problems = []
    for r in crossing.tolist():
        boundary = (int(table.start[r]) // size + 1) * size
        problems.append(
            Problem(
                table.files[int(table.file[r])],
                int(table.line[r]),
                f"the window crosses the {interval_words(measure.interval_seconds)} interval "
                f"boundary at {format_instant(boundary, UTC)} (intervals start at 00:00 UTC): "
                "give the counts of each interval in a row of its own",
                "end",
                format_instant(int(table.end[r]), UTC),
            )
        )
    return problems


def request_totals(
    table: RequestTable,
    edges: Any,
    measure: ErrorRateMeasure,
    *,
    key_number: Any = None,
) -> RequestCells:
    """Every (key, month) cell with requests rows, as the engine's cell totals: downtime the
    month's mean error rate times its length, exactly; no excluded time; ``count`` the
    intervals with failed requests.

    ``edges`` are the month boundaries (``edges[m]`` starts month ``m``), as for
    :func:`~slacalc.computing.engine.cell_totals`. ``key_number`` numbers the table's keys for
    the cells (``key_number[k]`` for key ``k``; default ``k``): a report whose keys are
    numbered otherwise gets cells in its own numbering. A row crossing an interval boundary
    raises :class:`~slacalc.errors.InputError` (every such row).
    """
    problems = interval_problems(table, measure)
    if problems:
        raise InputError(problems)
    edges = np.asarray(edges, dtype=np.int64)
    n_months = len(edges) - 1
    size = measure.interval_us
    lo, hi = int(edges[0]), int(edges[-1])
    number = table.key if key_number is None else np.asarray(key_number, np.int64)[table.key]

    # The rows of each (key, interval), added up.
    interval = table.start // size
    live = np.flatnonzero((interval * size < hi) & (interval * size + size > lo))
    key, interval = number[live], interval[live]
    order = np.lexsort((interval, key))
    key, interval = key[order], interval[order]
    rows = live[order]
    new = np.ones(len(rows), dtype=bool)
    new[1:] = (key[1:] != key[:-1]) | (interval[1:] != interval[:-1])
    group = np.cumsum(new) - 1
    n_groups = int(group[-1]) + 1 if len(group) else 0
    bound = speed.top(table.total) * max(len(rows), 1)
    total = speed.sums_at(group, table.total[rows], n_groups, bound=bound)
    failed = speed.sums_at(group, table.failed[rows], n_groups, bound=bound)
    g_key, g_start = key[new], interval[new] * size

    # Each interval's piece in each month it overlaps (an interval is at most a day: two).
    first, last = months.touched(edges, np.maximum(g_start, lo), np.minimum(g_start + size, hi))
    pieces = [np.flatnonzero(last >= first)]
    if len(last) and int((last - first).max()) > 0:
        pieces.append(np.flatnonzero(last > first))
    p_group = np.concatenate(pieces)
    p_month = np.concatenate([first[pieces[0]], *(first[p] + 1 for p in pieces[1:])])
    p_from = np.maximum(g_start[p_group], edges[p_month])
    p_to = np.minimum(g_start[p_group] + size, edges[p_month + 1])
    weight = p_to - p_from
    p_cell = g_key[p_group] * n_months + p_month
    cells = sorted_distinct(p_cell)
    at = np.searchsorted(cells, p_cell)
    n_cells = len(cells)
    month = cells % n_months

    p_total, p_failed = total[p_group], failed[p_group]
    busy = np.asarray(p_total > 0, dtype=bool)
    erring = np.asarray(p_failed > 0, dtype=bool)
    with_requests = np.bincount(at[busy], minlength=n_cells).astype(np.int64)
    with_errors = np.bincount(at[erring], minlength=n_cells).astype(np.int64)
    cell_total = speed.sums_at(at, p_total, n_cells, bound=speed.top(total) * 2 * max(n_groups, 1))
    cell_failed = speed.sums_at(
        at, p_failed, n_cells, bound=speed.top(failed) * 2 * max(n_groups, 1)
    )
    period = (edges[1:] - edges[:-1])[month]
    down_num, down_den = _weighted_rates(
        at[erring], weight[erring], p_failed[erring], p_total[erring], n_cells
    )
    if measure.empty_intervals == NOT_COUNTED:
        counted = speed.sums_at(at[busy], weight[busy], n_cells, bound=hi - lo)
        down_num, down_den = _rescaled(down_num, down_den, period, counted)

    # The intervals of each month, from the grid alone: those cut by a month edge included.
    starts, ends = edges[:-1], edges[1:]
    per_month = -(-ends // size) - starts // size
    cut = (starts % size != 0).astype(np.int64) + (ends % size != 0)
    totals = CellTotals(
        n_months,
        cells,
        down_num,
        down_den,
        np.zeros(n_cells, dtype=np.int64),
        with_errors,
    )
    return RequestCells(
        totals,
        per_month[month],
        cut[month],
        with_requests,
        with_errors,
        cell_total,
        cell_failed,
        period,
    )


def _weighted_rates(
    cell: Any, weight: Any, failed: Any, total: Any, n_cells: int
) -> tuple[Any, Any]:
    """``sum of weight x failed / total`` per cell, exactly: ``(num, den)`` arrays.

    Each term is reduced first (most intervals of a month share few distinct totals once
    reduced, and an interval whose requests all failed is a whole number); terms of a cell with
    the same denominator are added as integers; the rest are added a pair at a time, as a
    balanced tree, so the common denominator grows by products, never by repeated gcds.
    """
    failed = speed.exact(failed, speed.top(failed))
    total = speed.exact(total, speed.top(total))
    g = np.gcd(failed, total)
    failed, total = failed // g, total // g
    g = np.gcd(weight, total)
    weight, den = weight // g, total // g
    term = speed.product(weight, failed)
    whole = np.asarray(den == 1, dtype=bool)
    num = speed.sums_at(cell[whole], term[whole], n_cells, bound=speed.top(term) * len(term))
    rest = np.flatnonzero(~whole)
    if not len(rest):
        return speed.narrowed(num), 1
    # per cell, the other terms of one denominator added as integers, then the fractions
    r_cell, r_den, r_term = cell[rest], den[rest], term[rest]
    order = np.argsort(r_cell, kind="stable")
    r_cell, r_den, r_term = r_cell[order], r_den[order], r_term[order]
    num = num.astype(object)
    dens = np.ones(n_cells, dtype=object)
    i = 0
    n = len(r_cell)
    cells_list, dens_list, terms_list = r_cell.tolist(), r_den.tolist(), r_term.tolist()
    while i < n:
        c = cells_list[i]
        j = i
        pairs: dict[int, int] = {}
        while j < n and cells_list[j] == c:
            d = int(dens_list[j])
            pairs[d] = pairs.get(d, 0) + int(terms_list[j])
            j += 1
        s_num, s_den = fraction_sum(list(pairs.items()))
        value = Fraction(s_num, s_den) + int(num[c])
        num[c], dens[c] = value.numerator, value.denominator
        i = j
    return num, dens


def fraction_sum(terms: list[tuple[int, int]]) -> tuple[int, int]:
    """``sum of num / den`` over ``terms`` (``(den, num)`` pairs, dens positive) in lowest
    terms: added a pair at a time as a balanced tree, reduced once.

    >>> fraction_sum([(3, 1), (6, 1), (2, 1)])
    (1, 1)
    """
    pairs = [(num, den) for den, num in terms]
    if not pairs:
        return 0, 1
    while len(pairs) > 1:
        merged = [
            (a * d + c * b, b * d) for (a, b), (c, d) in zip(pairs[0::2], pairs[1::2], strict=False)
        ]
        if len(pairs) % 2:
            merged.append(pairs[-1])
        pairs = merged
    num, den = pairs[0]
    g = gcd(num, den)
    return num // g, den // g


def _rescaled(num: Any, den: Any, period: Any, counted: Any) -> tuple[Any, Any]:
    """``num / den x period / counted`` per cell (0 where ``counted`` is 0): the mean over the
    intervals with requests only, as a downtime over the whole month."""
    n = len(period)
    out_num = np.zeros(n, dtype=object)
    out_den = np.ones(n, dtype=object)
    for i in range(n):
        c = int(counted[i])
        d = int(den) if np.ndim(den) == 0 else int(den[i])
        if c == 0 or int(num[i]) == 0:
            continue
        value = Fraction(int(num[i]) * int(period[i]), d * c)
        out_num[i], out_den[i] = value.numerator, value.denominator
    return out_num, out_den
