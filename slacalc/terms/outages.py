"""What time counts: a policy's service hours as windows of service time, and its rules on each
outage (the minimum length that counts, the rounding up)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class OutageRules:
    """Per-month rules on each maximal interval of nonzero loss (microseconds)."""

    min_outage_us: int = 0  # intervals of at most this length count 0
    round_up_us: int = 0  # lengths are rounded up to a whole multiple

    def __bool__(self) -> bool:
        return bool(self.min_outage_us or self.round_up_us)


def service_windows(hours: Any, first: Any, last: Any, tz: Any, calendar: Any) -> list[tuple]:
    """The service-time windows ``[start, end)`` (epoch microseconds) of the days ``first`` to
    ``last`` (dates) under a policy's service hours, on the report's calendar and in its zone.

    ``days`` is ``all``, ``mon-fri``, or ``working`` (the working-day calendar, make-up days
    included). Clock times are local: a window keeps its wall-clock hours across a DST change.
    """
    from datetime import datetime, timedelta

    from slacalc.dates.instants import to_us

    out = []
    day = first
    while day <= last:
        if (
            hours.days == "all"
            or (hours.days == "mon-fri" and day.weekday() < 5)
            or (hours.days == "working" and calendar.is_working_day(day))
        ):
            start = to_us(datetime.combine(day, hours.start, tzinfo=tz))
            end_day = day + timedelta(days=1) if hours.end_of_day else day
            end = to_us(datetime.combine(end_day, hours.end, tzinfo=tz))
            if end > start:
                out.append((start, end))
        day += timedelta(days=1)
    return out
