"""The availability engine: one exact, array-level computation for every incident table.

At any instant a key's loss is the largest ``impact`` among its active outage and data-loss
incidents, and 0 inside any of its maintenance or excluded windows. Downtime is the integral of
the loss over each calendar month, so overlapping incidents are never counted twice.

The computation is a sweep over the incidents' start and end events, done with numpy on whole
columns: events sorted by (key, time) once; for each impact level ``v`` a running sum of +1/-1
counts the incidents at ``>= v`` active after each event, so the loss between two events is
``sum over levels of (v_k - v_(k-1)) x [an incident at >= v_k is active]`` and 0 where an
exclusion is active. The segments between events, cut at month edges, are summed per (key,
month). Everything is integer arithmetic: instants are microseconds, losses are integers over the
common denominator of the impacts, and sums and products whose bound does not fit ``int64`` use
Python integers (:mod:`slacalc.speed`).

:func:`cell_totals` is a pure function from an incident table (any subset of keys) to a table of
(key, month) cells, so it runs the same on a whole log, a bucket of keys or a Spark partition.
Per-month outage rules (minimum outage length, rounding up) apply to each maximal interval of
nonzero loss, and service hours change how a stretch of time is measured (:class:`Measure`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import partial
from itertools import accumulate, pairwise
from math import lcm
from typing import Any

import numpy as np

from slacalc import speed
from slacalc.dates import months
from slacalc.model.cells import DOWN_CODES
from slacalc.model.table import IncidentTable
from slacalc.terms.outages import OutageRules


class Measure:
    """How much of a stretch of time counts: all of it, or only the part inside service hours.

    ``windows`` are sorted, disjoint ``[start, end)`` instants of service time; ``None`` means
    every instant counts. :meth:`at` is the counted time before each instant, so the counted
    length of ``[a, b)`` is ``at(b) - at(a)``.
    """

    def __init__(self, windows: Any = None) -> None:
        self.windows = None
        if windows is not None:
            w = np.asarray(windows, dtype=np.int64).reshape(-1, 2)
            self.windows = w
            self._cum = np.concatenate([[0], np.cumsum(w[:, 1] - w[:, 0])])

    def at(self, t: Any) -> Any:
        if self.windows is None:
            return t
        if not len(self.windows):  # no service time at all: nothing counts
            return np.zeros(np.shape(t), dtype=np.int64)
        starts, ends = self.windows[:, 0], self.windows[:, 1]
        i = np.searchsorted(starts, t, side="right") - 1
        inside = np.where(
            i >= 0, np.minimum(t, ends[np.maximum(i, 0)]) - starts[np.maximum(i, 0)], 0
        )
        return np.where(i >= 0, self._cum[np.maximum(i, 0)] + inside, 0)

    def length(self, a: Any, b: Any) -> Any:
        if self.windows is None:
            return b - a
        return self.at(b) - self.at(a)


@dataclass
class CellTotals:
    """Per (key, month) cell: downtime, excluded time and incident count.

    ``cells`` are the sorted ``key * n_months + month`` numbers of every cell some incident
    overlaps by more than zero; downtime is ``down_num / down_den`` microseconds.
    """

    n_months: int
    cells: Any
    down_num: Any  # int64 or object array
    down_den: Any  # int, or an object array where outage rules made downtime irregular
    excluded: Any  # int64
    count: Any  # int64: outage/data-loss rows overlapping the cell
    segments: Segments | None = field(default=None)

    def of_key(self, k: int) -> dict[int, tuple[Fraction, int, int]]:
        """``{month: (downtime, excluded, count)}`` of key number ``k`` (slow; for display)."""
        lo, hi = np.searchsorted(self.cells, [k * self.n_months, (k + 1) * self.n_months])
        out = {}
        for i in range(int(lo), int(hi)):
            den = self.down_den if np.ndim(self.down_den) == 0 else self.down_den[i]
            out[int(self.cells[i]) % self.n_months] = (
                Fraction(int(self.down_num[i]), int(den)),
                int(self.excluded[i]),
                int(self.count[i]),
            )
        return out


@dataclass
class Segments:
    """The stretches of constant loss behind the cells, in (key, time) order: what explain
    shows. Runs number the maximal intervals of nonzero loss (-1 inside exclusions)."""

    key: Any
    month: Any
    start: Any
    end: Any
    loss_num: Any  # loss = loss_num / den (0 inside an exclusion)
    den: int
    excluded: Any
    run: Any
    counted: Any  # with outage rules: per run (whole, remainder, length); else None
    length: Any  # counted length of each segment (service time under service hours)

    def __len__(self) -> int:
        return len(self.start)

    def run_counted(self, r: int) -> Fraction:
        """The downtime run ``r`` counts after the outage rules (microseconds)."""
        whole, rest, run_len = self.counted
        return (
            Fraction(int(whole[r]) * int(run_len[r]) + int(rest[r]), int(max(run_len[r], 1)))
            / self.den
        )


def effective_ends(table: IncidentTable, as_of: int, rows: Any = None) -> Any:
    """Each incident's end as counted (of ``rows`` only, when given): ongoing ones and later
    ends stop at ``as_of``, and an incident never ends before it starts."""
    if rows is None:
        return np.maximum(np.minimum(table.end, as_of), table.start)
    return np.maximum(np.minimum(table.end[rows], as_of), table.start[rows])


def cell_totals(
    table: IncidentTable,
    edges: Any,
    as_of: int,
    *,
    measure: Measure | None = None,
    rules: OutageRules | None = None,
    keep_segments: bool = False,
) -> CellTotals:
    """Downtime, excluded time and incident counts of every (key, month) cell.

    ``edges`` are the month boundaries (``edges[m]`` starts month ``m``), ``as_of`` ends ongoing
    incidents. A cell appears when some incident (maintenance included) overlaps it by more than
    zero, even if its downtime is zero.
    """
    measure = measure or Measure()
    edges = np.asarray(edges, dtype=np.int64)
    if not keep_segments and speed.halves(len(table)) and table.n_keys > 1:
        return _in_parts(table, edges, as_of, measure, rules)
    return _cell_totals(table, edges, as_of, measure, rules, keep_segments, None)


def _in_parts(
    table: IncidentTable, edges: Any, as_of: int, measure: Measure, rules: OutageRules | None
) -> CellTotals:
    # Parts of the keys two at a time side by side (every key's months depend on its own
    # incidents only), cut at equal numbers of rows, not keys: keys are numbered as they first
    # appear, so the first half of them (the busier keys) held 63 % of a realistic log's rows.
    # A large log is cut into more parts than two (speed.parts): the engine's scratch grows
    # with the rows of the parts in hand. The rows that count are found once and handed out
    # by part (a stable sort of small part numbers keeps each part's rows in order).
    rows = _live_rows(table, edges, as_of)
    per_key = np.cumsum(np.bincount(table.key, minlength=table.n_keys))
    n_parts = speed.parts(len(table))
    cuts = np.searchsorted(per_key, len(table) * np.arange(1, n_parts) // n_parts) + 1
    bounds = sorted({0, *np.clip(cuts, 1, table.n_keys - 1).tolist(), table.n_keys})
    part_of_key = np.repeat(np.arange(len(bounds) - 1, dtype=np.int16), np.diff(bounds))
    part = part_of_key[table.key[rows]]
    rows = rows[np.argsort(part, kind="stable")]
    ends = np.cumsum(np.bincount(part, minlength=len(bounds) - 1))
    del part
    parts = list(
        speed.in_order(
            partial(_cell_totals, table, edges, as_of, measure, rules, False, rows[lo:hi])
            for lo, hi in pairwise([0, *ends.tolist()])
        )
    )
    if all(np.ndim(p.down_den) == 0 for p in parts):
        # One denominator for all: each part's numerators scaled to the common one.
        den = lcm(*(int(p.down_den) for p in parts))
        nums = [speed.product(p.down_num, den // int(p.down_den)) for p in parts]
        if any(speed.is_wide(n) for n in nums):
            nums = [n.astype(object) for n in nums]
        down_num = np.concatenate(nums)
    else:
        den = np.concatenate(
            [np.broadcast_to(np.asarray(p.down_den, dtype=object), p.cells.shape) for p in parts]
        )
        down_num = np.concatenate([p.down_num.astype(object) for p in parts])
    return CellTotals(
        parts[0].n_months,
        np.concatenate([p.cells for p in parts]),
        down_num,
        den,
        np.concatenate([p.excluded for p in parts]),
        np.concatenate([p.count for p in parts]),
    )


def _cell_totals(
    table: IncidentTable,
    edges: Any,
    as_of: int,
    measure: Measure,
    rules: OutageRules | None,
    keep_segments: bool,
    rows: Any,
) -> CellTotals:
    """:func:`cell_totals` of the table's ``rows`` (some of :func:`_live_rows`; None: all)."""
    n_months = len(edges) - 1
    lo, hi = int(edges[0]), int(edges[-1])
    if rows is None:
        rows = _live_rows(table, edges, as_of)
    key = table.key[rows]
    s, e = _counted_spans(table, edges, as_of, rows)
    down = np.isin(table.category[rows], DOWN_CODES)

    first, last = months.touched(edges, s, e)
    cells = _spread(key * n_months + first, last - first)
    down_cells = _spread(key[down] * n_months + first[down], (last - first)[down])
    size = (int(key.max()) + 1 if len(key) else 0) * n_months
    touched, count = _touched(cells, down_cells, size)

    # The impact levels, ascending, as integers over their common denominator.
    impact_codes = table.impact[rows][down]
    used = np.flatnonzero(np.bincount(impact_codes, minlength=len(table.impacts)))
    values = sorted({Fraction(table.impacts[int(c)]) for c in used.tolist()})
    den = lcm(*(v.denominator for v in values)) if values else 1
    level_of_code = np.zeros(max(len(table.impacts), 1), dtype=np.int64)
    for c in used.tolist():
        level_of_code[c] = values.index(Fraction(table.impacts[c])) + 1
    steps = [int((v - (values[i - 1] if i else 0)) * den) for i, v in enumerate(values)]

    # Events: +1 at a start, -1 at an end; level 0 marks an exclusion window.
    level = np.zeros(len(rows), dtype=np.int32)
    level[down] = level_of_code[impact_codes]
    ev_key, ev_t, ev_step, ev_level = _sorted_events(key, s, e, level, lo, hi)

    # The loss after each event, and whether an exclusion is active (the running counts are
    # at most the number of incidents: int32 halves the memory each pass reads). Levels nest
    # (an incident at >= k + 1 is one at >= k), so the number of levels active is the highest
    # one, and the loss that level's, looked up once.
    zero = np.zeros(1, dtype=np.int32)
    excl_active = np.cumsum(np.where(ev_level == 0, ev_step, zero), dtype=np.int32) > 0
    top = np.zeros(len(ev_t), dtype=np.int8 if len(values) < 127 else np.int32)
    for k in range(1, len(values) + 1):
        active = np.cumsum(np.where(ev_level >= k, ev_step, zero), dtype=np.int32) > 0
        np.add(top, active, out=top, casting="unsafe")
    top[excl_active] = 0
    loss = np.array(list(accumulate([0, *steps])), dtype=np.int64)[top]
    del top

    # Segments between consecutive events of a key, cut at month edges.
    # (only those with a loss or an exclusion: the others count nothing)
    nxt = (ev_key[1:] == ev_key[:-1]) & (ev_t[1:] > ev_t[:-1])
    nxt &= (loss[:-1] > 0) | excl_active[:-1]
    nxt = np.flatnonzero(nxt)
    seg_key, seg_s, seg_e = ev_key[nxt], ev_t[nxt], ev_t[nxt + 1]
    seg_loss, seg_excl = loss[nxt], excl_active[nxt]
    seg_key, seg_m, seg_s, seg_e, seg_loss, seg_excl = _split_at_edges(
        edges, seg_key, seg_s, seg_e, seg_loss, seg_excl, ordered=bool(rules or keep_segments)
    )
    length = measure.length(seg_s, seg_e)
    seg_cell = _positions(touched, seg_key * n_months + seg_m, size)

    # A cell's excluded time and downtime are at most its month's length (times the largest
    # loss, den): the bound of every sum below.
    month_len = int(np.diff(edges).max()) if len(edges) > 1 else 0
    excluded = speed.sums_at(seg_cell[seg_excl], length[seg_excl], len(touched), bound=month_len)

    downs = ~seg_excl
    d_cell, d_s, d_e = seg_cell[downs], seg_s[downs], seg_e[downs]
    d_len, d_loss = length[downs], seg_loss[downs]
    weighted = speed.product(d_len, d_loss)
    down_bound = month_len * den
    down_den: Any = den
    run = None
    counted = None
    if rules or keep_segments:
        run = _runs(d_cell, d_s, d_e)
    if rules:
        room = measure.length(edges[touched % n_months], edges[touched % n_months + 1]) - excluded
        down_num, down_den, counted = _apply_rules(
            rules, d_cell, run, d_len, weighted, den, room, down_bound
        )
    else:
        down_num = speed.sums_at(d_cell, weighted, len(touched), bound=down_bound)

    segments = None
    if keep_segments:
        segments = _segments(
            touched, n_months, seg_cell, seg_s, seg_e, seg_loss, seg_excl, den, run, counted, length
        )
    return CellTotals(n_months, touched, down_num, down_den, excluded, count, segments)


def _counted_spans(
    table: IncidentTable, edges: Any, as_of: int, rows: Any = None
) -> tuple[Any, Any]:
    """Each incident's start and end (of ``rows`` only, when given) as counted: cut to the
    months of ``edges``, ends at ``as_of``."""
    start = table.start if rows is None else table.start[rows]
    return np.maximum(start, edges[0]), np.minimum(effective_ends(table, as_of, rows), edges[-1])


def _live_rows(table: IncidentTable, edges: Any, as_of: int) -> Any:
    """The rows that overlap the months of ``edges`` by more than zero, as counted."""
    s, e = _counted_spans(table, edges, as_of)
    return np.flatnonzero(e > s)


def _touched(cells: Any, down_cells: Any, size: int) -> tuple[Any, Any]:
    """The distinct cells, sorted, and how many outage rows each has: by counting when the
    cells are dense (a hash-free pass), by sorting when they are sparse."""
    if size <= 8 * len(cells) + (1 << 20):
        present = np.bincount(cells, minlength=size)
        touched = np.flatnonzero(present)
        return touched, np.bincount(down_cells, minlength=size)[touched].astype(np.int64)
    touched = sorted_distinct(cells)
    count = np.zeros(len(touched), dtype=np.int64)
    np.add.at(count, np.searchsorted(touched, down_cells), 1)
    return touched, count


def _positions(touched: Any, cells: Any, size: int) -> Any:
    """Where each of ``cells`` (each one of them) is in the sorted ``touched``: through a table
    indexed by cell number when the cells are dense, else by binary search."""
    if size <= 8 * len(cells) + (1 << 20):
        where = np.empty(size, dtype=np.int64)
        where[touched] = np.arange(len(touched))
        return where[cells]
    return np.searchsorted(touched, cells)


def sorted_distinct(values: Any) -> Any:
    """``np.unique(values)`` by sorting: numpy 2.4's ``np.unique`` hashes first, 1.3 s for 1.7M
    distinct integers where a sort takes 0.05 s."""
    values = np.sort(np.asarray(values))
    if not len(values):
        return values
    return values[np.flatnonzero(np.diff(values, prepend=values[0] - 1))]


def _spread(first_cell: Any, extra: Any) -> Any:
    """The cells ``first .. first + extra`` of every row, concatenated."""
    out = [first_cell]
    top = int(extra.max()) if len(extra) else 0
    for k in range(1, top + 1):
        out.append(first_cell[extra >= k] + k)
    return np.concatenate(out)


def _sorted_events(key: Any, s: Any, e: Any, level: Any, lo: int, hi: int) -> tuple:
    """The events of the pieces, sorted by (key, time): ``(key, t, step, level)``, a step of
    +1 at each start and -1 at each end, a level (0: an exclusion) as ``int32``.

    Where every instant is a whole second (as logs write them) and the bound allows, each
    event is packed into one ``int64`` (key, time, level, kind) and numpy sorts the values
    themselves, which is faster than sorting indices and gathering four columns by them
    (:func:`slacalc.speed.packs`). Else the order comes from :func:`_sort_events`. Ties
    (the same key and time) may go any way: the sweep only reads the state after a tie."""
    n = len(key)
    levels = int(level.max()) + 1 if n else 1
    first = int(key.min()) if n else 0
    n_keys = int(key.max()) + 1 - first if n else 1
    packed = speed.packs(n_keys, hi - lo, 2 * levels, s - lo, e - lo)
    if packed is not None:
        unit, width = packed
        base = (key - first) * (width * 2 * levels) + level * 2
        ev = np.concatenate([base + (s - lo) // unit * (2 * levels) + 1, base])
        ev[n:] += (e - lo) // unit * (2 * levels)
        del base
        ev.sort()
        code = (ev % (2 * levels)).astype(np.int32)
        ev //= 2 * levels
        t = ev % width * unit + lo
        ev //= width
        ev += first
        return ev, t, (code & 1) * 2 - 1, code >> 1
    ev_key = np.concatenate([key, key])
    ev_t = np.concatenate([s, e])
    ev_step = np.concatenate([np.ones(n, np.int32), -np.ones(n, np.int32)])
    ev_level = np.concatenate([level, level])
    order = _sort_events(ev_key, ev_t, lo, hi)
    return ev_key[order], ev_t[order], ev_step[order], ev_level[order]


def _sort_events(key: Any, t: Any, lo: int, hi: int) -> Any:
    """The order of events by (key, time): one int64 sort when both fit in 63 bits.

    When they do not (a million keys over a few months of microseconds), the keys are cut into
    ranges that do: a stable radix sort of the range numbers (16-bit) groups the events, and
    each group is one int64 sort, five times faster than sorting on two columns."""
    width = hi - lo + 1
    first = int(key.min()) if len(key) else 0
    n_keys = int(key.max()) + 1 - first if len(key) else 1
    if speed.fits(n_keys * width):
        return np.argsort((key - first) * width + (t - lo))  # ties may go any way
    per_range = speed.LIMIT // width
    if not per_range or n_keys // per_range >= 1 << 15:
        return np.lexsort((t, key))
    ranges = ((key - first) // per_range).astype(np.int16)
    grouped = np.argsort(ranges, kind="stable")
    bounds = np.searchsorted(ranges[grouped], np.arange(int(ranges.max()) + 2))
    order = np.empty_like(grouped)
    for r, (a, b) in enumerate(pairwise(bounds.tolist())):
        rows = grouped[a:b]
        local = (key[rows] - first - r * per_range) * width + (t[rows] - lo)
        order[a:b] = rows[np.argsort(local)]
    return order


def _split_at_edges(
    edges: Any, key: Any, s: Any, e: Any, loss: Any, excl: Any, *, ordered: bool
) -> tuple:
    """Segments cut where a month ends, each piece tagged with its month (kept in (key, time)
    order when ``ordered``; sums do not need it)."""
    m = months.month_of(edges, s)
    # few cross a month's end: most segments end in the month they start in
    cross = np.flatnonzero(e > edges[m + 1])
    if not len(cross):
        return key, m, s, e, loss, excl
    first = e.copy()  # each segment's piece in its own month
    first[cross] = edges[m[cross] + 1]
    parts = [(key, m, s, first, loss, excl)]
    span = months.month_of(edges, e[cross] - 1) - m[cross]
    for k in range(1, int(span.max()) + 1):
        sel = cross[span >= k]
        mk = m[sel] + k
        parts.append(
            (key[sel], mk, edges[mk], np.minimum(e[sel], edges[mk + 1]), loss[sel], excl[sel])
        )
    cols = [np.concatenate(c) for c in zip(*parts, strict=True)]
    if not ordered:
        return tuple(cols)
    order = np.lexsort((cols[2], cols[0]))
    return tuple(c[order] for c in cols)


def _runs(cell: Any, s: Any, e: Any) -> Any:
    """Number the maximal intervals of nonzero loss: segments of one cell that touch."""
    if not len(cell):
        return np.zeros(0, dtype=np.int64)
    new = np.ones(len(cell), dtype=bool)
    new[1:] = (cell[1:] != cell[:-1]) | (s[1:] != e[:-1])
    return np.cumsum(new) - 1


def _apply_rules(
    rules: OutageRules,
    cell: Any,
    run: Any,
    length: Any,
    weighted: Any,
    den: int,
    room: Any,
    bound: int,
) -> tuple[Any, Any, Any]:
    """Downtime per cell after the outage rules, and each run's counted downtime.

    A run (a maximal interval of nonzero loss in a month) of at most ``min_outage_us`` counts 0.
    A run's length rounded up to a multiple of ``round_up_us`` scales its downtime by ``rounded /
    length``, so a partial loss scales with it. A run of one loss level stays an integer over
    ``den``; a run that mixes levels may not, and its cell's downtime becomes a fraction of its
    own (``down_den`` per cell). Rounding up never takes a cell past ``room``, the time its month
    can count (the month, less excluded time): a month is never more than wholly down.
    ``bound`` is the most any cell's downtime numerator can be before rounding (month x den).
    """
    n_cells = len(room)
    n_runs = int(run[-1]) + 1 if len(run) else 0
    run_len = speed.sums_at(run, length, n_runs, bound=bound)
    run_down = speed.sums_at(run, weighted, n_runs, bound=bound)
    run_cell = np.zeros(n_runs, dtype=np.int64)
    run_cell[run] = cell
    scale = run_len.copy()
    if rules.round_up_us:
        scale = -(-run_len // rules.round_up_us) * rules.round_up_us
    if rules.min_outage_us:
        scale = np.where(run_len <= rules.min_outage_us, 0, scale)
    product = speed.product(run_down, scale)
    divisor = np.maximum(run_len, 1)
    whole, rest = product // divisor, product % divisor
    # rounding adds less than one unit per run: at most round_up x den per run to the bound
    grown = bound + n_runs * rules.round_up_us * den
    down_num = speed.narrowed(speed.sums_at(run_cell, whole, n_cells, bound=grown))
    irregular = np.flatnonzero(rest != 0)
    counted = (whole, rest, run_len)
    dens: Any = den
    if len(irregular):
        # Runs that mix loss levels and were rounded: exact fractions for their cells.
        totals: dict[int, Fraction] = {}
        for r in irregular.tolist():
            c = int(run_cell[r])
            totals[c] = totals.get(c, Fraction(0)) + Fraction(int(rest[r]), int(run_len[r]))
        down_num = down_num.astype(object)
        dens = np.full(n_cells, den, dtype=object)
        for c, extra in totals.items():
            value = Fraction(int(down_num[c])) + extra
            down_num[c], dens[c] = value.numerator, value.denominator * den
    # The cap: downtime / dens <= room, i.e. down_num <= room x dens.
    most = speed.product(room, dens)
    over = np.flatnonzero(np.asarray(down_num > most, dtype=bool))
    if len(over):
        down_num = down_num.copy()
        down_num[over] = most[over]
    return down_num, dens, counted


def _segments(
    touched: Any,
    n_months: int,
    cell: Any,
    s: Any,
    e: Any,
    loss: Any,
    excl: Any,
    den: int,
    run: Any,
    counted: Any,
    length: Any,
) -> Segments:
    """Every segment of the cells, in time order, as arrays (for explain)."""
    c = touched[cell]
    run_of = np.full(len(cell), -1, dtype=np.int64)
    run_of[~excl] = run
    return Segments(c // n_months, c % n_months, s, e, loss, den, excl, run_of, counted, length)
