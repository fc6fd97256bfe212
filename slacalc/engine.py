"""The availability engine: merge a key's incidents into one loss timeline and split it by month.

At any instant the loss is the largest ``impact`` among the key's active outage and data-loss
incidents, and 0 inside any maintenance or excluded window. Downtime is the integral of the loss,
so overlapping incidents are never counted twice. Everything is exact: instants are integer
microseconds and partial impacts are Fractions. Cost: one sort per key, O(n log n) overall.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from slacalc.incidents import DOWN_CATEGORIES, Incident, Key
from slacalc.periods import MonthGrid

Loss = Fraction | int
Segment = tuple[int, int, Loss]  # [start, end) in epoch microseconds, loss in (0, 1]
Window = tuple[int, int]


@dataclass(slots=True)
class MonthUsage:
    """What one key used of one month: downtime (loss-weighted), excluded time, incidents."""

    downtime_us: Loss = 0
    excluded_us: int = 0
    incident_count: int = 0
    segments: list[Segment] | None = None  # only when asked for (explain)


def clip(inc: Incident, lo: int, hi: int, as_of: int) -> Window | None:
    """The part of ``inc`` inside ``[lo, hi)`` (ongoing ones end at ``as_of``), or None."""
    s = inc.start if inc.start > lo else lo
    e = inc.end_at(as_of)
    if e > hi:
        e = hi
    return (s, e) if e > s else None


def merge_windows(windows: list[Window]) -> list[Window]:
    """The union of half-open windows, as sorted disjoint windows (touching ones joined)."""
    if not windows:
        return []
    windows = sorted(windows)
    out = []
    cs, ce = windows[0]
    for s, e in windows:
        if s > ce:
            out.append((cs, ce))
            cs, ce = s, e
        elif e > ce:
            ce = e
    out.append((cs, ce))
    return out


def loss_timeline(down: list[tuple[int, int, Loss]], excluded: list[Window]) -> list[Segment]:
    """The merged loss timeline of clipped outage windows and exclusion windows.

    Returns disjoint, sorted segments with a positive loss; neighbours with equal loss are joined.
    """
    if not down:
        return []
    if not excluded and all(loss == 1 for _, _, loss in down):
        # The common case: a plain interval union, no sweep needed.
        down.sort()
        out: list[Segment] = []
        cs, ce, _ = down[0]
        for s, e, _ in down:
            if s > ce:
                out.append((cs, ce, 1))
                cs, ce = s, e
            elif e > ce:
                ce = e
        out.append((cs, ce, 1))
        return out
    events: list[tuple[int, int, Loss]] = []  # (time, +1 start / -1 end, impact or 0 = exclusion)
    for s, e, loss in down:
        events.append((s, 1, loss))
        events.append((e, -1, loss))
    for s, e in excluded:
        events.append((s, 1, 0))
        events.append((e, -1, 0))
    events.sort(key=lambda ev: ev[0])
    active: dict[Loss, int] = {}
    exclusions = 0
    out = []
    i, n = 0, len(events)
    while i < n:
        t = events[i][0]
        while i < n and events[i][0] == t:
            _, step, loss = events[i]
            if loss == 0:
                exclusions += step
            else:
                count = active.get(loss, 0) + step
                if count:
                    active[loss] = count
                else:
                    del active[loss]
            i += 1
        if i == n:
            break
        current = 0 if exclusions or not active else max(active)
        if current:
            nxt = events[i][0]
            if out and out[-1][1] == t and out[-1][2] == current:
                out[-1] = (out[-1][0], nxt, current)
            else:
                out.append((t, nxt, current))
    return out


def key_usage(
    incidents: Sequence[Incident], grid: MonthGrid, as_of: int, *, keep_segments: bool = False
) -> dict[int, MonthUsage]:
    """Per month index of ``grid``, the usage of one key's incidents.

    A month appears when some incident of the key (maintenance included) overlaps it by more
    than zero, even if its downtime is zero.
    """
    lo, hi, edges = grid.start, grid.end, grid.edges
    counts: dict[int, int] = {}  # month -> outage/data-loss rows overlapping it
    touched: set[int] = set()  # months any row overlaps
    down: list[tuple[int, int, Loss]] = []
    excluded: list[Window] = []
    for inc in incidents:
        s, e = inc.start, inc.end
        if e is None:
            e = as_of if as_of > s else s
        if s < lo:
            s = lo
        if e > hi:
            e = hi
        if e <= s:
            continue
        first = bisect_right(edges, s) - 1
        last = first if e <= edges[first + 1] else bisect_right(edges, e - 1) - 1
        if inc.category in DOWN_CATEGORIES:
            down.append((s, e, inc.impact))
            for m in range(first, last + 1):
                counts[m] = counts.get(m, 0) + 1
        else:
            excluded.append((s, e))
            touched.update(range(first, last + 1))
    months = sorted(touched | counts.keys())
    usage = {m: MonthUsage(incident_count=counts.get(m, 0)) for m in months}
    excluded = merge_windows(excluded)
    for s, e, loss in loss_timeline(down, excluded):
        m = bisect_right(edges, s) - 1
        while s < e:
            edge = edges[m + 1]
            piece_end = e if e < edge else edge
            u = usage[m]
            u.downtime_us += (piece_end - s) * loss
            if keep_segments:
                if u.segments is None:
                    u.segments = []
                u.segments.append((s, piece_end, loss))
            s = piece_end
            m += 1
    for s, e in excluded:
        m = bisect_right(edges, s) - 1
        while s < e:
            edge = edges[m + 1]
            piece_end = e if e < edge else edge
            usage[m].excluded_us += piece_end - s
            s = piece_end
            m += 1
    return usage


class ArrayUsage(Mapping[Key, dict[int, MonthUsage]]):
    """The usage of many keys held as arrays, as the columnar reader computes it.

    It reads like the row engine's ``{key: {month: MonthUsage}}`` (entries built on demand),
    and lets bulk code take the arrays as they are: ``cells`` (sorted ``key * n_months +
    month``), ``downtime`` and ``counts``, for keys of outages at impact 1. Other keys are
    kept as the row engine computed them, in ``others``.
    """

    def __init__(
        self,
        keys: list[Key],
        n_months: int,
        cells: Any,
        downtime: Any,
        counts: Any,
        others: dict[Key, dict[int, MonthUsage]],
    ) -> None:
        import numpy as np

        self.key_list = keys
        self.n_months = n_months
        self.cells, self.downtime, self.counts = cells, downtime, counts
        self.others = others
        self._index = {key: i for i, key in enumerate(keys)}
        self._bounds = np.searchsorted(cells // n_months, np.arange(len(keys) + 1)).tolist()

    def __getitem__(self, key: Key) -> dict[int, MonthUsage]:
        if key in self.others:
            return self.others[key]
        i = self._index[key]  # KeyError for a key without incidents, as a dict would
        a, b = self._bounds[i], self._bounds[i + 1]
        return {
            cell % self.n_months: MonthUsage(downtime_us=d, incident_count=n)
            for cell, d, n in zip(self.cells[a:b].tolist(), self.downtime[a:b].tolist(),
                                  self.counts[a:b].tolist(), strict=True)
        }  # fmt: skip

    def __iter__(self) -> Iterator[Key]:
        return iter(self.key_list)

    def __len__(self) -> int:
        return len(self.key_list)

    def months_used(self) -> set[int]:
        import numpy as np

        used = set(np.unique(self.cells % self.n_months).tolist())
        for per_month in self.others.values():
            used.update(per_month)
        return used

    def keys_using(self, months: set[int]) -> list[Key]:
        """The keys with some usage in ``months``, in key order."""
        import numpy as np

        hit = np.zeros(len(self.key_list), dtype=bool)
        in_months = np.isin(self.cells % self.n_months, list(months))
        hit[self.cells[in_months] // self.n_months] = True
        for key, per_month in self.others.items():
            if any(i in per_month for i in months):
                hit[self._index[key]] = True
        return [self.key_list[i] for i in np.flatnonzero(hit).tolist()]


def months_used(usage: Mapping[Key, dict[int, MonthUsage]]) -> set[int]:
    """The month indices some key used."""
    if isinstance(usage, ArrayUsage):
        return usage.months_used()
    return set().union(*usage.values())


def keys_using(usage: Mapping[Key, dict[int, MonthUsage]], months: set[int]) -> list[Key]:
    """The keys with usage in one of ``months``, in the mapping's order."""
    if isinstance(usage, ArrayUsage):
        return usage.keys_using(months)
    return [key for key, per_month in usage.items() if any(i in per_month for i in months)]
