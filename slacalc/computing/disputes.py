"""Disputes read from a file: their deadlines and statuses at a moment.

Also the one-off deadline of ``slacalc deadline``, with the working days it counted. The rules
themselves (72 hours, 5 / 10 working days, escalation after 15 days) live in
:mod:`slacalc.disputes`.

>>> from zoneinfo import ZoneInfo
>>> sh = ZoneInfo("Asia/Shanghai")
>>> cn = WorkCalendar.create("CN")
>>> dl = compute_deadline(2, datetime(2025, 9, 30, 10, tzinfo=sh), calendar=cn, tz=sh)
>>> dl.to_dict()["due_at"]
'2025-10-14T23:59:59+08:00'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from functools import lru_cache
from typing import Any

from slacalc.dates.workdays import NO_CALENDAR, WorkCalendar
from slacalc.errors import InputError, Problem
from slacalc.reading.disputes import DisputeInput
from slacalc.terms.deadlines import (
    DisputeLevel,
    DisputeResult,
    calendar_years,
    compute_dispute,
    due_at,
    escalation_at,
    parse_level,
)

# The output records, in the spec's order (DisputeResult.to_dict() gives them in this order).
FIELDS = (
    "dispute_id",
    "customer_id",
    "level",
    "category",
    "opened_at",
    "due_at",
    "escalation_at",
    "resolved_at",
    "status",
)
DEADLINE_FIELDS = (
    "level",
    "category",
    "opened_at",
    "due_at",
    "escalation_at",
    "working_days_counted",
    "working_days",
    "make_up_days",
)


def compute_disputes(
    inputs: Iterable[DisputeInput], *, calendar: WorkCalendar, tz: tzinfo, as_of: datetime
) -> list[DisputeResult]:
    """Deadlines and status at ``as_of`` of every dispute, in input order.

    A deadline that cannot be computed (a date past year 9999, a holidays file that leaves no
    working day) is a problem on the row's ``opened_at``; all are raised together.
    """
    results: list[DisputeResult] = []
    problems: list[Problem] = []
    for d in inputs:
        try:
            results.append(
                compute_dispute(
                    d.dispute_id,
                    d.customer_id,
                    d.level,
                    d.opened_at,
                    d.resolved_at,
                    calendar=calendar,
                    tz=tz,
                    as_of=as_of,
                    line=d.line,
                )
            )
        except (ValueError, OverflowError) as exc:
            message = f"no deadline can be computed: {_reason(exc)}"
            problems.append(Problem(d.source, d.line, message, "opened_at", _iso(d.opened_at)))
    if problems:
        raise InputError(problems)
    return results


def _reason(exc: Exception) -> str:
    if isinstance(exc, OverflowError) or "out of range" in str(exc):
        return "the deadline falls outside the years 1-9999"
    return str(exc)


def calendar_years_of(results: Iterable[DisputeResult]) -> set[int]:
    """Every year whose working days some deadline of ``results`` depended on."""
    years: set[int] = set()
    for r in results:
        years |= r.calendar_years
    return years


# --- one dispute: `slacalc deadline` ---------------------------------------------------------


@dataclass(frozen=True)
class DeadlineResult:
    """The deadlines of one dispute and, for levels 2 and 3, the working days counted."""

    level: DisputeLevel
    opened_at: datetime
    due_at: datetime
    escalation_at: datetime
    working_days: tuple[date, ...]  # empty for the 72-hour level
    make_up_days: frozenset[date]  # those of working_days that fall on the weekend (调休)

    @property
    def category(self) -> str:
        return self.level.category

    @property
    def calendar_years(self) -> set[int]:
        """The years whose working days :attr:`due_at` depended on."""
        return calendar_years(self.level, self.opened_at, self.due_at)

    def to_dict(self, *, nested: bool = False) -> dict[str, Any]:
        """The output record (:data:`DEADLINE_FIELDS`): the working days counted (None for
        the 72-hour level, which counts elapsed hours), and those days and the make-up
        working days among them (调休) as ISO dates: space-separated text for CSV, or
        (``nested``, for JSON) lists."""
        days = [d.isoformat() for d in self.working_days]
        make_up = [d.isoformat() for d in self.working_days if d in self.make_up_days]
        counted = self.level.working_days
        return {
            "level": int(self.level),
            "category": self.category,
            "opened_at": _iso(self.opened_at),
            "due_at": _iso(self.due_at),
            "escalation_at": _iso(self.escalation_at),
            "working_days_counted": counted,
            "working_days": days if nested else " ".join(days),
            "make_up_days": make_up if nested else " ".join(make_up),
        }


def compute_deadline(
    level: DisputeLevel | int | str, opened_at: datetime, *, calendar: WorkCalendar, tz: tzinfo
) -> DeadlineResult:
    """When a dispute opened at ``opened_at`` is due and escalates, and which days counted.

    Raises ValueError for an unknown level or a naive ``opened_at``.
    """
    lvl = level if isinstance(level, DisputeLevel) else parse_level(level)
    due = due_at(lvl, opened_at, calendar, tz)
    days: tuple[date, ...] = ()
    if lvl.working_days is not None:
        days = tuple(calendar.working_days_after(opened_at.astimezone(tz).date(), lvl.working_days))
    weekend = weekend_days(calendar)
    return DeadlineResult(
        level=lvl,
        opened_at=opened_at.astimezone(tz),
        due_at=due,
        escalation_at=escalation_at(opened_at, tz),
        working_days=days,
        make_up_days=frozenset(d for d in days if d.weekday() in weekend),
    )


def weekend_days(calendar: WorkCalendar) -> frozenset[int]:
    """The calendar's weekend as ``date.weekday()`` numbers (Saturday-Sunday in most)."""
    return _weekend(calendar.name)


@lru_cache(maxsize=16)
def _weekend(name: str) -> frozenset[int]:
    if name == NO_CALENDAR:
        return frozenset({5, 6})
    import holidays

    return frozenset(holidays.country_holidays(name).weekend)


def _iso(dt: datetime) -> str:
    return dt.isoformat(timespec="seconds")
