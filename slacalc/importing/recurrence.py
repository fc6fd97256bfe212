"""Recurrence (RFC 5545 3.3.10, 3.8.5): RRULE, RDATE and EXDATE expanded with dateutil, bounded.

Occurrences keep the event's local clock time across DST changes: the rule is expanded on the
wall clock of the event's zone (``dateutil.rrule`` on an aware ``dtstart``), and a local time
that falls in a DST gap is read with the offset before the gap (3.3.5), as ``zoneinfo`` does.

Expansion is bounded: a rule must end (COUNT or UNTIL) or be cut by a window, only DAILY and
coarser frequencies are taken (a maintenance window does not repeat every hour, minute or
second), rules that can never occur are refused before dateutil would search for them until the
year 9999, and no event may yield more than ``MAX_OCCURRENCES`` occurrences.
"""

from __future__ import annotations

import calendar
import heapq
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from dateutil import rrule as dateutil_rrule

from slacalc.importing.mapping import suggest

MAX_OCCURRENCES = 100_000
MAX_SPAN = timedelta(days=200 * 366)  # how far a rule with only COUNT may reach
FREQS = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
REFUSED_FREQS = ("SECONDLY", "MINUTELY", "HOURLY")
PARTS = (
    "FREQ",
    "UNTIL",
    "COUNT",
    "INTERVAL",
    "BYSECOND",
    "BYMINUTE",
    "BYHOUR",
    "BYDAY",
    "BYMONTHDAY",
    "BYYEARDAY",
    "BYWEEKNO",
    "BYMONTH",
    "BYSETPOS",
    "WKST",
)
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# Each BY part with the range of its values (negative too where the RFC allows it).
_RANGES = {
    "BYSECOND": (0, 59, False),
    "BYMINUTE": (0, 59, False),
    "BYHOUR": (0, 23, False),
    "BYMONTHDAY": (1, 31, True),
    "BYYEARDAY": (1, 366, True),
    "BYWEEKNO": (1, 53, True),
    "BYMONTH": (1, 12, False),
    "BYSETPOS": (1, 366, True),
}
_BYDAY = re.compile(r"([+-]?)(\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)")
_MONTH_DAYS = {m: 29 if m == 2 else calendar.monthrange(2001, m)[1] for m in range(1, 13)}


def local_plus_days(moment: datetime, days: int) -> datetime:
    """``days`` nominal days later: the same local clock time (3.3.6), DST or not."""
    return (moment + timedelta(days=days)).astimezone(UTC).astimezone(moment.tzinfo)


def plus_exact(moment: datetime, delta: timedelta) -> datetime:
    """``delta`` of elapsed time later, on the clock of ``moment``'s zone."""
    return (moment.astimezone(UTC) + delta).astimezone(moment.tzinfo)


@dataclass(frozen=True)
class Length:
    """How long each occurrence lasts: nominal days, then exact time (3.3.6, 3.8.5.3)."""

    days: int = 0
    exact: timedelta = timedelta(0)

    def end_of(self, start: datetime) -> datetime:
        end = local_plus_days(start, self.days) if self.days else start
        return plus_exact(end, self.exact) if self.exact else end


@dataclass(frozen=True)
class Rule:
    """A checked RRULE: its parts (UNTIL apart, as text) and COUNT."""

    parts: dict[str, str]
    until: str | None
    count: int | None

    def dateutil_text(self) -> str:
        return ";".join(f"{k}={v}" for k, v in self.parts.items())


def read_rrule(value: str) -> Rule:
    """Check an RRULE value against RFC 5545 and the bounds above; ValueError says why not."""
    parts: dict[str, str] = {}
    for piece in value.strip().split(";"):
        key, eq, text = piece.partition("=")
        key, text = key.strip().upper(), text.strip().upper()
        if not eq or not text:
            raise ValueError(f"RRULE part '{piece}' is not NAME=VALUE")
        if key not in PARTS:
            raise ValueError(f"unknown RRULE part '{key}'{suggest(key, PARTS)}")
        if key in parts:
            raise ValueError(f"RRULE part {key} is given twice")
        parts[key] = text
    freq = parts.get("FREQ")
    if freq is None:
        raise ValueError("RRULE has no FREQ")
    if freq in REFUSED_FREQS:
        raise ValueError(
            f"FREQ={freq} is refused: a maintenance window repeats at most DAILY "
            "(list the times of day with BYHOUR/BYMINUTE instead)"
        )
    if freq not in FREQS:
        raise ValueError(f"unknown FREQ '{freq}'{suggest(freq, FREQS)}")
    if "COUNT" in parts and "UNTIL" in parts:
        raise ValueError("RRULE has both COUNT and UNTIL (RFC 5545 allows one)")
    count = None
    if "COUNT" in parts:
        count = _positive(parts["COUNT"], "COUNT")
    if "INTERVAL" in parts:
        _positive(parts["INTERVAL"], "INTERVAL", limit=10_000)
    numbers: dict[str, list[int]] = {}
    for key, (low, high, signed) in _RANGES.items():
        if key in parts:
            numbers[key] = _numbers(parts[key], key, low, high, signed)
    if "BYDAY" in parts:
        for token in parts["BYDAY"].split(","):
            m = _BYDAY.fullmatch(token)
            if m is None or (m.group(2) is not None and not 1 <= int(m.group(2)) <= 53):
                raise ValueError(f"BYDAY value '{token}' is not a weekday such as MO, 1MO or -1FR")
            if m.group(2) is not None and (
                freq not in ("MONTHLY", "YEARLY") or "BYWEEKNO" in parts
            ):
                raise ValueError(
                    f"BYDAY={token}: a numbered weekday needs FREQ=MONTHLY or YEARLY (RFC 5545)"
                )
    if "WKST" in parts and parts["WKST"] not in WEEKDAYS:
        raise ValueError(f"WKST '{parts['WKST']}' is not a weekday (MO ... SU)")
    _check_rfc_combinations(freq, parts)
    if "BYMONTHDAY" in numbers:
        months = numbers.get("BYMONTH", list(range(1, 13)))
        if not any(abs(d) <= _MONTH_DAYS[m] for m in months for d in numbers["BYMONTHDAY"]):
            raise ValueError("the rule can never occur: no month it names has the days it names")
    until = parts.pop("UNTIL", None)
    parts.pop("COUNT", None)
    return Rule(parts=parts, until=until, count=count)


def _check_rfc_combinations(freq: str, parts: dict[str, str]) -> None:
    if "BYWEEKNO" in parts and freq != "YEARLY":
        raise ValueError("BYWEEKNO needs FREQ=YEARLY (RFC 5545)")
    if "BYYEARDAY" in parts and freq in ("DAILY", "WEEKLY", "MONTHLY"):
        raise ValueError(f"BYYEARDAY cannot be used with FREQ={freq} (RFC 5545)")
    if "BYMONTHDAY" in parts and freq == "WEEKLY":
        raise ValueError("BYMONTHDAY cannot be used with FREQ=WEEKLY (RFC 5545)")
    if "BYSETPOS" in parts and freq not in ("MONTHLY", "YEARLY"):
        raise ValueError("BYSETPOS is taken with FREQ=MONTHLY or YEARLY only")


def _positive(text: str, key: str, limit: int | None = None) -> int:
    if not text.isdigit() or int(text) < 1 or (limit is not None and int(text) > limit):
        bound = f" up to {limit}" if limit else ""
        raise ValueError(f"{key} must be a whole number from 1{bound}, not '{text}'")
    return int(text)


def _numbers(text: str, key: str, low: int, high: int, signed: bool) -> list[int]:
    values = []
    for token in text.split(","):
        if not re.fullmatch(r"[+-]?\d{1,3}", token):
            raise ValueError(f"{key} value '{token}' is not a number")
        n = int(token)
        if not (low <= n <= high or (signed and -high <= n <= -low)):
            sign = f" or -{high}..-{low}" if signed else ""
            raise ValueError(f"{key} value {n} is out of range ({low}..{high}{sign})")
        values.append(n)
    return values


def expand(
    dtstart: datetime,
    rule: Rule | None,
    until: datetime | None,
    *,
    rdates: Iterable[datetime] = (),
    exdates: frozenset[datetime] = frozenset(),
    exdays: frozenset[date] = frozenset(),
    horizon: datetime | None = None,
) -> Iterator[datetime]:
    """The start of every occurrence, in order: DTSTART, the RRULE's and the RDATEs, less the
    EXDATEs (instants, compared in UTC, or local dates), up to but not at ``horizon``.

    ``dtstart`` and ``until`` are aware; ``exdates`` are UTC instants. ValueError when the rule
    has no end and no horizon, or yields more than MAX_OCCURRENCES.
    """
    streams: list[Iterable[datetime]] = [[dtstart], sorted(rdates, key=_utc)]
    counted = _Counter()
    reach_limited = False
    if rule is not None:
        text = rule.dateutil_text()
        stop: datetime | None = None
        if rule.count is not None:
            # COUNT counts from DTSTART, so the rule runs whole and is cut here, at the
            # horizon or, without one, 200 years on.
            text += f";COUNT={rule.count}"
            stop = horizon
            if stop is None:
                stop, reach_limited = plus_exact(dtstart, MAX_SPAN), True
            bound = None
        else:
            bound = min((t for t in (until, horizon) if t is not None), default=None, key=_utc)
            if bound is None:
                raise ValueError(
                    "RRULE has neither COUNT nor UNTIL: give a window (--from/--until) to expand it"
                )
            if horizon is None and _utc(bound) - _utc(dtstart) > MAX_SPAN:
                raise ValueError(
                    "RRULE UNTIL is more than 200 years after DTSTART: give a window "
                    "(--from/--until) to expand it"
                )
        try:
            expanded = dateutil_rrule.rrulestr(text, dtstart=dtstart)
            if bound is not None:
                expanded = expanded.replace(until=bound.astimezone(UTC))
        except (ValueError, TypeError, OverflowError) as exc:
            raise ValueError(f"cannot expand RRULE: {exc}") from None
        streams.append(counted.through(expanded, stop))

    previous: datetime | None = None
    seen = 0
    for moment in heapq.merge(*streams, key=_utc):
        seen += 1
        if seen > MAX_OCCURRENCES:
            raise ValueError(
                f"the event recurs more than {MAX_OCCURRENCES} times before the window ends; "
                "narrow the window or fix the rule"
            )
        instant = _utc(moment)
        if instant == previous:
            continue  # DTSTART, the rule and an RDATE may name the same instant
        previous = instant
        if horizon is not None and instant >= _utc(horizon):
            break
        if instant in exdates or moment.date() in exdays:
            continue
        yield moment
    if reach_limited and counted.stopped:
        raise ValueError(
            f"RRULE COUNT={rule.count} reaches more than 200 years past DTSTART: give a window "
            "(--from/--until) to expand it"
        )


class _Counter:
    """Passes a rule's occurrences on up to ``stop``, noting whether it had to stop there."""

    def __init__(self) -> None:
        self.stopped = False

    def through(self, items: Iterable[datetime], stop: datetime | None) -> Iterator[datetime]:
        try:
            for item in items:
                if stop is not None and _utc(item) > _utc(stop):
                    self.stopped = True
                    return
                yield item
        except (ValueError, OverflowError) as exc:  # dateutil past year 9999, and the like
            raise ValueError(f"cannot expand RRULE: {exc}") from None


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
