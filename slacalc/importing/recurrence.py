"""Recurrence (RFC 5545 3.3.10, 3.8.5): RRULE, RDATE and EXDATE expanded, bounded.

Occurrences keep the event's local clock time across DST changes: the rule is expanded on the
wall clock of the event's zone, and a local time that falls in a DST gap is read with the offset
before the gap (3.3.5), as ``zoneinfo`` does (``fold=0``).

The search is bounded, in time and in work:

- it walks the rule's periods (days, weeks, months or years, INTERVAL apart) only up to a
  horizon: the window's end (``--until``), else the rule's UNTIL, else the last day slacalc
  reads (``LAST_INSTANT``, in 2199), past which nothing can be written;
- a rule without COUNT that is read for a window starts at the period of the window, not at
  DTSTART (COUNT counts from DTSTART, so those rules walk from there);
- each period offers the few days its BYxxx parts name (BYMONTHDAY 15 is one day a month, not
  thirty to filter); a ``SearchBudget`` shared by all the rules of one import (events and
  VTIMEZONEs) is charged a step per time of every day offered, and ``PERIOD_STEPS`` per week,
  month or year visited (one per day: a day costs less): a rule that rarely or never occurs
  costs at most its periods up to the horizon, and a file of many rules stops at
  ``MAX_STEPS``, a second or two of work;
- only DAILY and coarser frequencies are taken (a maintenance window does not repeat every
  hour, minute or second), and rules that can plainly never occur are refused when read.

python-dateutil's ``rrule`` walks up to the year 9999 looking for an occurrence that never
comes; it stays in the tests, as the oracle these occurrences are checked against.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from slacalc.importing.mapping import suggest
from slacalc.importing.rows import LAST_INSTANT

MAX_STEPS = 1_000_000  # the search steps one import's recurrences may take, all together
PERIOD_STEPS = 4  # what visiting a week, month or year costs, in steps (a day: one)
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
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # index = date.weekday()
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
# The search stops this far past the horizon's local date: a local clock is at most a day
# (and a bit) away from UTC, and an occurrence may start just before the horizon.
_MARGIN = timedelta(days=2)
_LAST_DAY = date(9999, 12, 31) - timedelta(days=400)  # never reached: dates stay computable


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
        """The end of an occurrence starting at ``start``; ValueError past the year 9999."""
        try:
            end = local_plus_days(start, self.days) if self.days else start
            return plus_exact(end, self.exact) if self.exact else end
        except OverflowError:
            raise ValueError("the occurrence would end after the year 9999") from None

    @property
    def at_most(self) -> timedelta:
        """An upper bound of its elapsed time (a nominal day lasts at most 25 hours)."""
        return timedelta(hours=25) * self.days + self.exact


class SearchSpent(Exception):
    """The recurrence search of an import took all the steps it may."""


class SearchBudget:
    """The search steps (periods visited, candidate times examined) the recurrences of one
    import may still take."""

    def __init__(self, limit: int = MAX_STEPS) -> None:
        self.limit = self.left = limit

    def settle(self) -> None:
        """The search is over: what zones still compute (the years of the rows made, as they
        are compared and written) is bounded by those rows, and no longer charged."""
        self.left = self.limit = 1 << 62

    def spend(self, steps: int) -> None:
        self.left -= steps
        if self.left < 0:
            raise SearchSpent(
                f"the recurrences of this import need more than {self.limit:,} search steps "
                "(periods visited and times examined) (a rule that rarely or never occurs, or "
                "a very wide window): fix the rule or narrow the window (--from/--until)"
            )


@dataclass(frozen=True)
class Rule:
    """A checked RRULE, its BY parts as numbers. ``by_day`` holds (ordinal, weekday) pairs,
    ordinal 0 for every such weekday of the period; weekdays count from Monday = 0."""

    freq: str
    interval: int = 1
    count: int | None = None
    until: str | None = None  # the UNTIL text: its meaning depends on DTSTART (3.3.10)
    by_month: tuple[int, ...] = ()
    by_week_no: tuple[int, ...] = ()
    by_year_day: tuple[int, ...] = ()
    by_month_day: tuple[int, ...] = ()
    by_day: tuple[tuple[int, int], ...] = ()
    by_hour: tuple[int, ...] = ()
    by_minute: tuple[int, ...] = ()
    by_second: tuple[int, ...] = ()
    by_set_pos: tuple[int, ...] = ()
    week_start: int = 0


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
    interval = 1
    if "INTERVAL" in parts:
        interval = _positive(parts["INTERVAL"], "INTERVAL", limit=10_000)
    numbers: dict[str, list[int]] = {}
    for key, (low, high, signed) in _RANGES.items():
        if key in parts:
            numbers[key] = _numbers(parts[key], key, low, high, signed)
    by_day: list[tuple[int, int]] = []
    if "BYDAY" in parts:
        # A numbered weekday counts within the month with FREQ=MONTHLY or with BYMONTH, else
        # within the year (3.3.10): a month has at most 5 of each weekday, a year 53.
        in_month = freq == "MONTHLY" or "BYMONTH" in parts
        most = 5 if in_month else 53
        for token in parts["BYDAY"].split(","):
            m = _BYDAY.fullmatch(token)
            if m is None:
                raise ValueError(f"BYDAY value '{token}' is not a weekday such as MO, 1MO or -1FR")
            ordinal = 0
            if m.group(2) is not None:
                if freq not in ("MONTHLY", "YEARLY") or "BYWEEKNO" in parts:
                    raise ValueError(
                        f"BYDAY={token}: a numbered weekday needs FREQ=MONTHLY or YEARLY (RFC 5545)"
                    )
                ordinal = int(m.group(2))
                if not 1 <= ordinal <= most:
                    within = "a month has" if in_month else "a year has"
                    raise ValueError(
                        f"BYDAY value '{token}' is out of range: {within} at most {most} of each "
                        f"weekday (1{m.group(3)} to {most}{m.group(3)}, or -1{m.group(3)} to "
                        f"-{most}{m.group(3)} from the end)"
                    )
                if m.group(1) == "-":
                    ordinal = -ordinal
            by_day.append((ordinal, WEEKDAYS.index(m.group(3))))
    if "WKST" in parts and parts["WKST"] not in WEEKDAYS:
        raise ValueError(f"WKST '{parts['WKST']}' is not a weekday (MO ... SU)")
    _check_rfc_combinations(freq, parts)
    if "BYMONTHDAY" in numbers:
        months = numbers.get("BYMONTH", list(range(1, 13)))
        if not any(abs(d) <= _MONTH_DAYS[m] for m in months for d in numbers["BYMONTHDAY"]):
            raise ValueError("the rule can never occur: no month it names has the days it names")
    return Rule(
        freq=freq,
        interval=interval,
        count=count,
        until=parts.get("UNTIL"),
        by_month=_sorted(numbers.get("BYMONTH")),
        by_week_no=_sorted(numbers.get("BYWEEKNO")),
        by_year_day=_sorted(numbers.get("BYYEARDAY")),
        by_month_day=_sorted(numbers.get("BYMONTHDAY")),
        by_day=tuple(sorted(set(by_day))),
        by_hour=_sorted(numbers.get("BYHOUR")),
        by_minute=_sorted(numbers.get("BYMINUTE")),
        by_second=_sorted(numbers.get("BYSECOND")),
        by_set_pos=_sorted(numbers.get("BYSETPOS")),
        week_start=WEEKDAYS.index(parts.get("WKST", "MO")),
    )


def _sorted(values: list[int] | None) -> tuple[int, ...]:
    return tuple(sorted(set(values))) if values else ()


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


# --- the search -----------------------------------------------------------------------------


def occurrences(
    rule: Rule,
    dtstart: datetime,
    *,
    last: date,
    budget: SearchBudget,
    first: date | None = None,
) -> Iterator[datetime]:
    """The rule's own occurrences at or after ``dtstart``, in order, as naive local times.

    The search visits the periods from the one holding ``first`` (default: DTSTART's) to the
    last one starting on or before ``last``; COUNT and UNTIL are the caller's to apply.
    """
    return RuleSearch(rule, dtstart, budget).run(first, last)


class RuleSearch:
    """One rule on one DTSTART: its periods, and the candidate days each offers. Keep one to
    search it again and again (a VTIMEZONE, year by year)."""

    def __init__(self, rule: Rule, dtstart: datetime, budget: SearchBudget) -> None:
        dtstart = dtstart.replace(tzinfo=None)
        self.rule, self.dtstart, self.budget = rule, dtstart, budget
        months, month_days, by_day = rule.by_month, rule.by_month_day, rule.by_day
        if not (rule.by_week_no or rule.by_year_day or month_days or by_day):
            # What DTSTART gives a rule that names no day (3.3.10: "taken from DTSTART").
            if rule.freq == "YEARLY":
                months, month_days = months or (dtstart.month,), (dtstart.day,)
            elif rule.freq == "MONTHLY":
                month_days = (dtstart.day,)
            elif rule.freq == "WEEKLY":
                by_day = ((0, dtstart.weekday()),)
        self.months, self.month_days = frozenset(months), frozenset(month_days)
        self.year_days = frozenset(rule.by_year_day)
        self.week_numbers = frozenset(rule.by_week_no)
        self.every = frozenset(wd for n, wd in by_day if n == 0)
        self.numbered = tuple((n, wd) for n, wd in by_day if n != 0)
        self.times = sorted(
            time(h, m, s)
            for h in rule.by_hour or (dtstart.hour,)
            for m in rule.by_minute or (dtstart.minute,)
            for s in rule.by_second or (dtstart.second,)
        )

    # Periods are numbered from DTSTART's: period k starts k * INTERVAL units later.
    def _period(self, k: int) -> tuple[int, int] | None:
        """Period ``k`` as ordinals [start, end), None past the last computable date."""
        rule, d0 = self.rule, self.dtstart.date()
        step = k * rule.interval
        try:
            if rule.freq == "DAILY":
                start = d0.toordinal() + step
                return start, start + 1
            if rule.freq == "WEEKLY":
                start = d0.toordinal() - (d0.weekday() - rule.week_start) % 7 + 7 * step
                return start, start + 7
            if rule.freq == "MONTHLY":
                year, month0 = divmod(d0.year * 12 + d0.month - 1 + step, 12)
                start = date(year, month0 + 1, 1).toordinal()
                return start, start + calendar.monthrange(year, month0 + 1)[1]
            year = d0.year + step
            return date(year, 1, 1).toordinal(), date(year + 1, 1, 1).toordinal()
        except ValueError:  # past the year 9999
            return None

    def _first_period(self, first: date | None) -> int:
        if first is None:
            return 0
        rule, d0 = self.rule, self.dtstart.date()
        if rule.freq == "DAILY":
            units = (first - d0).days
        elif rule.freq == "WEEKLY":
            week0 = d0 - timedelta(days=(d0.weekday() - rule.week_start) % 7)
            units = (first - week0).days // 7
        elif rule.freq == "MONTHLY":
            units = (first.year - d0.year) * 12 + first.month - d0.month
        else:
            units = first.year - d0.year
        return max(0, units // rule.interval)

    def run(self, first: date | None, last: date) -> Iterator[datetime]:
        """The occurrences from the period holding ``first`` (None: DTSTART's) to the last
        period starting on or before ``last``, as naive local times."""
        last_ordinal = min(last, _LAST_DAY).toordinal()
        k = self._first_period(first)
        if self.rule.freq == "DAILY":
            yield from self._daily(k, last_ordinal)
            return
        while True:
            period = self._period(k)
            if period is None or period[0] > last_ordinal:
                return
            offered = self._offered(*period)
            self.budget.spend(PERIOD_STEPS + len(offered) * len(self.times))
            days = sorted(d for d in offered if self._keeps(d))
            found = [datetime.combine(date.fromordinal(d), t) for d in days for t in self.times]
            if self.rule.by_set_pos and found:
                n = len(found)
                picked = {
                    found[p - 1 if p > 0 else n + p] for p in self.rule.by_set_pos if -n <= p <= n
                }
                found = sorted(picked)
            for moment in found:
                if moment >= self.dtstart:
                    yield moment
            k += 1

    def _daily(self, k: int, last_ordinal: int) -> Iterator[datetime]:
        """FREQ=DAILY, the one frequency with a period per day: its filters (BYMONTH,
        BYMONTHDAY, BYDAY; RFC 5545 allows no other day part with it) tested in one loop."""
        interval, times, budget = self.rule.interval, self.times, self.budget
        months, month_days, every = self.months, self.month_days, self.every
        ordinal = self.dtstart.date().toordinal() + k * interval
        spent = 0
        while ordinal <= last_ordinal:
            spent += 1
            if spent >= 1024:  # charged in batches: a call per day would cost more than the day
                budget.spend(spent)
                spent = 0
            day = ordinal
            ordinal += interval
            if every and _weekday(day) not in every:
                continue
            if months or month_days:
                when = date.fromordinal(day)
                if months and when.month not in months:
                    continue
                if month_days:
                    length = calendar.monthrange(when.year, when.month)[1]
                    if when.day not in month_days and when.day - length - 1 not in month_days:
                        continue
            spent += len(times) - 1
            this = date.fromordinal(day)
            for t in times:
                moment = datetime.combine(this, t)
                if moment >= self.dtstart:
                    yield moment
        budget.spend(spent)

    def _offered(self, start: int, end: int) -> set[int]:
        """The candidate days of a period: those its most selective BY part names."""
        inside = range(start, end)
        if self.month_days:
            found = set()
            for year, month in _months_of(start, end):
                if self.months and month not in self.months:
                    continue
                length = calendar.monthrange(year, month)[1]
                base = date(year, month, 1).toordinal() - 1
                for day in self.month_days:
                    day = day if day > 0 else length + day + 1
                    if 1 <= day <= length and base + day in inside:
                        found.add(base + day)
            return found
        if self.year_days:
            found = set()
            for year in _years_of(start, end):
                length = 366 if calendar.isleap(year) else 365
                base = date(year, 1, 1).toordinal() - 1
                for day in self.year_days:
                    day = day if day > 0 else length + day + 1
                    if 1 <= day <= length and base + day in inside:
                        found.add(base + day)
            return found
        if self.week_numbers:
            found = set()
            for year in range(date.fromordinal(start).year - 1, date.fromordinal(end).year + 1):
                week1, weeks = _week_one(year, self.rule.week_start)
                for number in self.week_numbers:
                    number = number if number > 0 else weeks + number + 1
                    if 1 <= number <= weeks:
                        monday = week1 + 7 * (number - 1)
                        found.update(d for d in range(monday, monday + 7) if d in inside)
            return found
        if self.every or self.numbered:
            found = set(self._numbered(start, end))
            for weekday in self.every:
                found.update(range(start + (weekday - _weekday(start)) % 7, end, 7))
            return found
        return set(inside)

    def _numbered(self, start: int, end: int) -> Iterator[int]:
        """The days of numbered weekdays (1MO, -1FR) in a period, counted in its months when
        the rule is MONTHLY or has BYMONTH, else in its years."""
        if not self.numbered:
            return
        if self.rule.freq == "MONTHLY" or self.months:
            spans = []
            for year, month in _months_of(start, end):
                if not self.months or month in self.months:
                    first = date(year, month, 1).toordinal()
                    spans.append((first, first + calendar.monthrange(year, month)[1]))
        else:
            spans = [
                (date(y, 1, 1).toordinal(), date(y + 1, 1, 1).toordinal())
                for y in _years_of(start, end)
            ]
        for low, high in spans:
            for n, weekday in self.numbered:
                if n > 0:
                    day = low + (weekday - _weekday(low)) % 7 + 7 * (n - 1)
                else:
                    day = high - 1 - (_weekday(high - 1) - weekday) % 7 + 7 * (n + 1)
                if low <= day < high and start <= day < end:
                    yield day

    def _keeps(self, ordinal: int) -> bool:
        day = date.fromordinal(ordinal)
        if self.months and day.month not in self.months:
            return False
        if self.month_days:
            length = calendar.monthrange(day.year, day.month)[1]
            if day.day not in self.month_days and day.day - length - 1 not in self.month_days:
                return False
        if self.year_days:
            number = ordinal - date(day.year, 1, 1).toordinal() + 1
            length = 366 if calendar.isleap(day.year) else 365
            if number not in self.year_days and number - length - 1 not in self.year_days:
                return False
        if self.week_numbers and not self._in_weeks(ordinal):
            return False
        return not (
            (self.every or self.numbered)
            and day.weekday() not in self.every
            and ordinal not in set(self._numbered(ordinal, ordinal + 1))
        )

    def _in_weeks(self, ordinal: int) -> bool:
        """Whether the day lies in one of the BYWEEKNO weeks of its week-numbering year."""
        year = date.fromordinal(ordinal).year + 1
        week1, weeks = _week_one(year, self.rule.week_start)
        if ordinal < week1:
            year -= 1
            week1, weeks = _week_one(year, self.rule.week_start)
            if ordinal < week1:
                year -= 1
                week1, weeks = _week_one(year, self.rule.week_start)
        number = (ordinal - week1) // 7 + 1
        return number in self.week_numbers or number - weeks - 1 in self.week_numbers


def _weekday(ordinal: int) -> int:
    return (ordinal + 6) % 7  # date.fromordinal(1) (1 January of year 1) is a Monday


def _months_of(start: int, end: int) -> list[tuple[int, int]]:
    """(year, month) of every month that has a day in [start, end)."""
    first, last = date.fromordinal(start), date.fromordinal(end - 1)
    months = []
    for index in range(first.year * 12 + first.month - 1, last.year * 12 + last.month):
        year, month0 = divmod(index, 12)
        months.append((year, month0 + 1))
    return months


def _years_of(start: int, end: int) -> range:
    return range(date.fromordinal(start).year, date.fromordinal(end - 1).year + 1)


def _week_one(year: int, week_start: int) -> tuple[int, int]:
    """The ordinal of the first day of week 1 of ``year`` (the first week with at least four
    of its days in the year, 3.3.10) and how many weeks the year has."""

    def start_of(y: int) -> int:
        jan1 = date(y, 1, 1).toordinal()
        ahead = (week_start - _weekday(jan1)) % 7  # days to the first week start of the year
        return jan1 + ahead - 7 if ahead >= 4 else jan1 + ahead

    first = start_of(year)
    return first, (start_of(year + 1) - first) // 7


# --- an event's occurrences -----------------------------------------------------------------


def expand(
    dtstart: datetime,
    rule: Rule | None,
    until: datetime | None,
    *,
    rdates: Iterable[datetime] = (),
    exdates: frozenset[datetime] = frozenset(),
    exdays: frozenset[date] = frozenset(),
    earliest: datetime | None = None,
    horizon: datetime | None = None,
    budget: SearchBudget,
) -> Iterator[datetime]:
    """The start of every occurrence: DTSTART, the RRULE's and the RDATEs, less the EXDATEs
    (instants, compared in UTC, or local dates), before ``horizon``, each once.

    ``dtstart`` and ``until`` are aware; ``exdates`` are UTC instants. ``earliest`` (aware) is
    the earliest start that still matters (the window's start less the occurrence's length):
    a rule without COUNT starts its search there. ``horizon`` is the window's end; without
    one the search ends at UNTIL, or for COUNT at ``LAST_INSTANT``. ValueError when the rule
    has no end and no horizon, or when its COUNT or UNTIL reaches past ``LAST_INSTANT`` without
    a horizon; SearchSpent when the search spends ``budget``. Occurrences come stream by
    stream (DTSTART, the RDATEs, the rule's), not in time order.
    """
    streams: list[Iterable[datetime]] = [[dtstart], rdates]
    short: list[int] = []  # set when a COUNT is not reached before the search ends
    if rule is not None:
        if rule.count is None and until is None and horizon is None:
            raise ValueError(
                "RRULE has neither COUNT nor UNTIL: give a window (--from/--until) to expand it"
            )
        if horizon is None and until is not None and until > LAST_INSTANT:
            raise ValueError(
                f"RRULE UNTIL is after {LAST_INSTANT:%Y-%m-%d}, the last day slacalc reads: "
                "give a window (--from/--until) to expand it"
            )
        bound = min((t for t in (until, horizon, LAST_INSTANT) if t is not None), key=_utc)
        # Local dates from UTC ones: the margin covers any offset, without asking the zone.
        zone = dtstart.tzinfo
        last = (_utc(bound) + _MARGIN).date()
        first = None
        if rule.count is None and earliest is not None:
            first = (_utc(earliest) - _MARGIN).date()
        found = occurrences(rule, dtstart, last=last, budget=budget, first=first)
        reach = LAST_INSTANT if horizon is None else None
        streams.append(_limited(found, zone, rule.count, until, reach, short))
    seen: set[datetime] = set()
    for stream in streams:
        for moment in stream:
            instant = _utc(moment)
            if instant in seen:
                continue  # DTSTART, the rule and an RDATE may name the same instant
            seen.add(instant)
            if horizon is not None and instant >= horizon:
                continue
            if instant in exdates or moment.date() in exdays:
                continue
            yield moment
    if short and horizon is None:
        assert rule is not None and rule.count is not None
        raise ValueError(
            f"RRULE COUNT={rule.count} is not reached by {LAST_INSTANT:%Y-%m-%d}, the last day "
            f"slacalc reads ({short[0]} occurrence{'s' * (short[0] != 1)} by then): give a "
            "window (--from/--until) to expand it, or fix the rule"
        )


def _limited(
    found: Iterator[datetime],
    zone: object,
    count: int | None,
    until: datetime | None,
    reach: datetime | None,
    short: list[int],
) -> Iterator[datetime]:
    """The rule's occurrences as aware times, cut at COUNT or UNTIL, and at ``reach`` (the last
    instant slacalc reads, when no window ends the search) where ``short`` notes a COUNT that
    was not reached."""
    n = 0
    for local in found:
        moment = local.replace(tzinfo=zone)  # type: ignore[arg-type]
        if until is not None and _utc(moment) > _utc(until):
            return
        if reach is not None and _utc(moment) > reach:
            break
        yield moment
        n += 1
        if count is not None and n >= count:
            return
    if count is not None:
        short.append(n)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
