"""Calendar months in the billing time zone, as half-open ranges of instants."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, tzinfo
from functools import cached_property
from typing import Any

from slacalc.dates.instants import FIRST_YEAR, LAST_YEAR, from_us, local_midnight_us

_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")

# A report spans at most this many months: an ongoing incident with --as-of centuries ahead is a
# mistake to point out, not a million rows to compute.
MAX_MONTHS = 1200


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month, ``YYYY-MM``."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """``2025-05`` → Month(2025, 5). ValueError otherwise."""
        m = _MONTH.match(text)
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise ValueError(f"expected a month as YYYY-MM, got '{text}'")
        year = int(m.group(1))
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise ValueError(
                f"month '{text.strip()}' is out of the supported range (years {FIRST_YEAR} to "
                f"{LAST_YEAR})"
            )
        return cls(year, int(m.group(2)))

    @classmethod
    def of(cls, us: int, tz: tzinfo) -> Month:
        """The month, in ``tz``, that the instant ``us`` falls in."""
        dt = from_us(us, tz)
        return cls(dt.year, dt.month)

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def bounds(self, tz: tzinfo) -> tuple[int, int]:
        """``[first day 00:00, first day of next month 00:00)`` local, in epoch microseconds."""
        start = local_midnight_us(self.first_day(), tz)
        return start, local_midnight_us(self.next().first_day(), tz)

    @cached_property
    def text(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def __str__(self) -> str:
        return self.text


def months_between(first: Month, last: Month) -> int:
    """How many months ``first..last`` holds, both included."""
    return (last.year - first.year) * 12 + last.month - first.month + 1


def check_span(first: Month, last: Month, what: str) -> None:
    """Refuse more than :data:`MAX_MONTHS` months (``what`` says where they come from)."""
    from slacalc.errors import UsageError

    span = months_between(first, last)
    if span > MAX_MONTHS:
        raise UsageError(
            f"{what} span {span} months ({first}..{last}), more than {MAX_MONTHS}: "
            "check --as-of and the timestamps, or choose months with --month"
        )


def touched(edges: Any, start: Any, end: Any) -> tuple[Any, Any]:
    """The months each interval ``[start, end)`` (epoch microseconds, arrays) touches, as the
    indexes of its first and last month in ``edges`` (``edges[i]`` starts month ``i``): from
    the month holding its start to the month holding its last microsecond. The scalar twin is
    :meth:`MonthGrid.index`."""
    import numpy as np

    return month_of(edges, start), month_of(edges, np.asarray(end) - 1)


def month_of(edges: Any, t: Any) -> Any:
    """The index in ``edges`` of the month holding each instant of ``t`` (-1 before the first
    edge): the one rule :func:`touched` applies to both ends."""
    import numpy as np

    return np.searchsorted(edges, t, side="right") - 1


def month_range(first: Month, last: Month) -> list[Month]:
    """Every month from ``first`` to ``last`` inclusive."""
    months = []
    m = first
    while m <= last:
        months.append(m)
        m = m.next()
    return months


class MonthGrid:
    """Contiguous months ``first..last`` and their boundaries, for fast instant → month lookups.

    ``edges[i]`` is the start of month ``i`` and ``edges[i + 1]`` its end.
    """

    def __init__(self, first: Month, last: Month, tz: tzinfo) -> None:
        self.tz = tz
        self.months = month_range(first, last)
        self.edges = [m.bounds(tz)[0] for m in self.months]
        self.edges.append(self.months[-1].bounds(tz)[1])

    @property
    def start(self) -> int:
        return self.edges[0]

    @property
    def end(self) -> int:
        return self.edges[-1]

    def index(self, us: int) -> int:
        """Index of the month containing ``us`` (which must lie inside the grid)."""
        return bisect_right(self.edges, us) - 1

    def period_us(self, i: int) -> int:
        return self.edges[i + 1] - self.edges[i]
