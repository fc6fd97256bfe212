"""The working-day calendar: which days count when a deadline is "N working days" away.

Built on the ``holidays`` package, which knows the public holidays of many countries and, for
those that move weekends around (China's 调休, Russia's переносы, ...), the weekend days that
become working days. A ``--holidays`` file of ``date,kind`` rows overrides it day by day.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from functools import cached_property, lru_cache
from types import MappingProxyType
from typing import Any

from slacalc.errors import InputError, Problem, UsageError

NO_CALENDAR = "none"

# Monday=0 ... Sunday=6, as date.weekday() counts.
_PLAIN_WEEKEND = frozenset({5, 6})

# A search that finds no working day in this many days is a broken calendar (say, an overrides
# file that turned a whole country's year off), not a deadline: stop instead of looping.
_MAX_SEARCH_DAYS = 5 * 366

# Held while a country's module is imported under a stand-in package (see _country_class).
_IMPORT_LOCK = threading.Lock()


class Overrides(dict[date, bool]):
    """Per-day overrides of a calendar (True: a working day) and where they were read: the file
    and each day's line, so that a calendar they break can say which file broke it."""

    def __init__(
        self,
        days: Mapping[date, bool] | None = None,
        *,
        source: str | None = None,
        lines: Mapping[date, int] | None = None,
    ) -> None:
        super().__init__(days or {})
        self.source = source
        self.lines: dict[date, int] = dict(lines or {})


class NoWorkingDay(InputError, ValueError):
    """A count of working days that cannot end: the calendar has no working day for years."""

    # An input error (exit 1, naming the holidays file) and still a ValueError: a caller that
    # turns a deadline it cannot compute into a row problem (the disputes log) keeps doing so.

    def __init__(self, problem: Problem, reason: str) -> None:
        super().__init__(problem)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


class WorkCalendar:
    """Working days of one country (or plain Monday-Friday), with per-day overrides.

    Build one with :meth:`create`; the constructor is internal.

    >>> cal = WorkCalendar.create("CN")
    >>> cal.is_working_day(date(2025, 10, 11))  # a Saturday made a working day (调休)
    True
    >>> cal.add_working_days(date(2025, 9, 30), 1)  # National Day week is off
    datetime.date(2025, 10, 9)
    """

    def __init__(self, name: str, overrides: Mapping[date, bool]) -> None:
        self.name = name
        self.overrides: Mapping[date, bool] = MappingProxyType(dict(overrides))
        # Where the overrides were read (an Overrides from a holidays file), for messages.
        self.source: str | None = getattr(overrides, "source", None)
        self._lines: Mapping[date, int] = getattr(overrides, "lines", {})
        self._override_years = frozenset(d.year for d in self.overrides)
        # Non-working days per year, before overrides. Years are filled lazily because the
        # holidays package computes lunar festivals year by year and most runs need one or two.
        self._off_days: dict[int, frozenset[date]] = {}

    @cached_property
    def _entity(self) -> Any:
        """The holidays package's calendar, built on first use (it costs a tenth of a second,
        and a report that counts no working day never needs it)."""
        if self.name == NO_CALENDAR:
            return None
        return _country_class(self.name)()

    @cached_property
    def _confirmed(self) -> tuple[int, int] | None:
        entity = self._entity
        return _confirmed_years(entity) if entity is not None else None

    @classmethod
    def create(
        cls, calendar: str = "CN", overrides: Mapping[date, bool] | None = None
    ) -> WorkCalendar:
        """The calendar of country code ``calendar`` (any case), or ``"none"`` for Monday-Friday.

        ``overrides`` maps a date to True (a working day) or False (a day off); it wins over the
        country's calendar and the weekend (an :class:`Overrides` read from a file also names
        the file in errors). An unknown code is a :class:`UsageError`.
        """
        code = calendar.strip()
        cleaned = _clean_overrides(overrides or {})
        if isinstance(overrides, Overrides):
            cleaned = Overrides(cleaned, source=overrides.source, lines=overrides.lines)
        if code.lower() == NO_CALENDAR:
            return cls(NO_CALENDAR, cleaned)
        code = code.upper()
        # Checked against the package's own list: country_holidays() would also accept names of
        # unrelated classes in its module (e.g. "HolidayBase"). China, the default, needs no look.
        if code != "CN" and code not in _supported_codes():
            raise UsageError(
                f"unknown calendar '{calendar}': use a country code known to the holidays "
                "package (such as CN, US, DE, GB), or 'none' for plain Monday-Friday; list them "
                'with: python -c "import holidays; '
                'print(sorted(holidays.list_supported_countries()))"'
            )
        return cls(code, cleaned)

    def __repr__(self) -> str:
        return f"WorkCalendar({self.name!r}, overrides={len(self.overrides)})"

    def is_working_day(self, d: date) -> bool:
        """Whether ``d`` is a working day: overrides first, then holidays, make-up days, weekend."""
        override = self.overrides.get(d)
        if override is not None:
            return override
        off = self._off_days.get(d.year)
        if off is None:
            off = self._off_days[d.year] = self._build_year(d.year)
        return d not in off

    def add_working_days(self, d: date, n: int) -> date:
        """The ``n``-th working day strictly after ``d`` (``n`` >= 1).

        ``d`` itself never counts, even when it is a working day or a make-up Saturday. A
        calendar with no working day in the 1830 days searched (or none before the year 9999
        ends) raises :class:`NoWorkingDay`, an input error naming the holidays file.

        >>> WorkCalendar.create("none").add_working_days(date(2025, 10, 3), 1)  # a Friday
        datetime.date(2025, 10, 6)
        """
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        day = d
        found = 0
        searched = 0
        while found < n:
            if day == date.max:
                raise self._no_working_day(day - timedelta(days=searched), searched)
            day += timedelta(days=1)
            searched += 1
            if self.is_working_day(day):
                found += 1
                searched = 0
            elif searched > _MAX_SEARCH_DAYS:
                raise self._no_working_day(day - timedelta(days=searched), _MAX_SEARCH_DAYS)
        return day

    def _no_working_day(self, after: date, days: int) -> NoWorkingDay:
        """The error of a search that found no working day in the ``days`` days after ``after``:
        on the first day off the overrides gave in that stretch, when a file gave them."""
        reason = (
            f"no working day in the {days} days after {after} in calendar '{self.name}': "
            "check the holidays file"
        )
        if self.source is None:
            return NoWorkingDay(Problem(f"calendar '{self.name}'", None, reason), reason)
        last = after + timedelta(days=days)
        off = [d for d, working in self.overrides.items() if not working and after < d <= last]
        first = min(off, default=None)
        message = (
            f"with the days off this file lists, calendar '{self.name}' has no working day in "
            f"the {days} days after {after}: a deadline counted in working days would never come"
        )
        if first is None:
            return NoWorkingDay(Problem(self.source, None, message), reason)
        line = self._lines.get(first)
        return NoWorkingDay(Problem(self.source, line, message, "date", str(first)), reason)

    def working_days_after(self, d: date, n: int) -> list[date]:
        """The ``n`` working days strictly after ``d``, in order: the days a deadline counts.

        The last one is :meth:`add_working_days` ``(d, n)``.

        >>> cal = WorkCalendar.create("CN")
        >>> [str(x) for x in cal.working_days_after(date(2025, 9, 30), 3)]
        ['2025-10-09', '2025-10-10', '2025-10-11']
        """
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        days: list[date] = []
        day = d
        for _ in range(n):
            day = self.add_working_days(day, 1)
            days.append(day)
        return days

    @property
    def last_confirmed_year(self) -> int | None:
        """The last year whose make-up workdays the calendar data holds, or None if it has none.

        The ``holidays`` package knows a moved-weekend country's announced years and silently
        guesses the later ones (without make-up days), so deadlines there may be off by days.
        """
        return None if self._confirmed is None else self._confirmed[1]

    def unconfirmed_years(self, years: Iterable[int]) -> list[int]:
        """The years among ``years`` whose working days are a guess, sorted, each once.

        A year is a guess when the country moves weekends around (it has make-up workdays in the
        ``holidays`` data) but the data does not cover that year: after
        :attr:`last_confirmed_year` (not announced yet) or before the first year it covers.
        A year with at least one date in the overrides counts as confirmed: the user supplied
        that year's calendar. A country that never moves weekends, and ``none``, guess nothing.

        Countries that stopped moving weekends (in holidays 0.109, e.g. UA after 2022, AM after
        2021, BG after 2016) are reported for every later year; an overrides file silences it.
        """
        years = set(years)
        if not years or self._confirmed is None:  # no year asked: the package is not loaded
            return []
        first, last = self._confirmed
        return sorted(
            {y for y in years if not first <= y <= last and y not in self._override_years}
        )

    def _build_year(self, year: int) -> frozenset[date]:
        start = date(year, 1, 1)
        days = [start + timedelta(days=i) for i in range((date(year, 12, 31) - start).days + 1)]
        entity = self._entity
        if entity is None:
            return frozenset(d for d in days if d.weekday() in _PLAIN_WEEKEND)
        # A make-up day may be announced with the next year's holidays (China moved
        # 2005-12-31 for New Year 2006), so that year must be loaded too.
        if year < date.max.year:
            _ = date(year + 1, 1, 1) in entity
        # The entity's own rule, so a country's weekend (Fri-Sat in some) and make-up days
        # are read exactly as the package means them.
        return frozenset(d for d in days if not entity.is_working_day(d))


@lru_cache(maxsize=1)
def _supported_codes() -> frozenset[str]:
    """``holidays.list_supported_countries()``, read from the package's registry.

    The same codes (alpha-2, alpha-3 and aliases such as UK), without importing every country
    module as that function does: a report run should not pay 50 ms to check ``--calendar``.
    """
    try:
        from holidays.registry import COUNTRIES
    except ImportError:  # an older layout: ask the slow way
        import holidays

        return frozenset(holidays.list_supported_countries())
    return frozenset(
        code
        for names in COUNTRIES.values()
        for code in names[1:]
        if code.isupper() and len(code) <= 3
    )


def _country_class(code: str) -> Any:
    """The holidays package's class for country ``code``, importing that country's module only.

    ``holidays.country_holidays`` imports ``holidays.countries``, whose ``__init__`` imports
    all 250 country modules: 0.16 s of every run that counts working days, for one calendar.
    The package's registry names the module; it is imported under a bare stand-in for the
    ``holidays.countries`` package, which is then removed (a later ``import holidays.countries``
    runs the real one, and finds this module already loaded).
    """
    import importlib
    import importlib.util
    import sys
    import types

    import holidays

    found = _registry_entry(code)
    spec = importlib.util.find_spec("holidays.countries") if found is not None else None
    if (
        found is None
        or spec is None
        or spec.submodule_search_locations is None
        or "holidays.countries" in sys.modules  # loaded already: nothing to save
    ):
        return type(holidays.country_holidays(code))  # the package's own way
    module_name, class_name = found
    stand_in = types.ModuleType("holidays.countries")
    stand_in.__path__ = list(spec.submodule_search_locations)
    stand_in.__spec__ = spec
    with _IMPORT_LOCK:
        sys.modules.setdefault("holidays.countries", stand_in)
        try:
            module = importlib.import_module(f"holidays.countries.{module_name}")
        finally:
            if sys.modules.get("holidays.countries") is stand_in:
                del sys.modules["holidays.countries"]
    return getattr(module, class_name)


def _registry_entry(code: str) -> tuple[str, str] | None:
    """``(module, class name)`` of a country code in the holidays package's registry, or None
    (an unknown code, or a package without that registry)."""
    try:
        from holidays.registry import COUNTRIES
    except ImportError:
        return None
    return next(
        ((module, names[0]) for module, names in COUNTRIES.items() if code in names[1:]), None
    )


def _confirmed_years(entity: Any) -> tuple[int, int] | None:
    """First and last year with make-up workdays in the entity's data, or None if it has none.

    A make-up workday is a "substituted" entry in the package's ``special_*_holidays`` tables:
    ``(to_month, to_day, from_month, from_day[, from_year])``; plain special holidays have 3 items.
    """
    if not getattr(entity, "has_substituted_holidays", False):
        return None
    years = [
        year
        for name in dir(entity)
        if name.startswith("special_") and name.endswith("_holidays")
        for year, entries in _as_dict(getattr(entity, name, None)).items()
        if any(len(entry) >= 4 for entry in _entries(entries))
    ]
    return (min(years), max(years)) if years else None


def _as_dict(value: Any) -> dict[int, Any]:
    return value if isinstance(value, dict) else {}


def _entries(entries: Any) -> list[tuple[Any, ...]]:
    # One entry may stand alone ((m, d, name)) or come in a tuple of entries.
    if isinstance(entries, (tuple, list)) and entries and isinstance(entries[0], tuple):
        return list(entries)
    return [entries] if isinstance(entries, tuple) else []


def _clean_overrides(overrides: Mapping[date, bool]) -> dict[date, bool]:
    # A datetime key would never equal the plain dates looked up, so reduce it to its date.
    return {
        (d.date() if isinstance(d, datetime) else d): bool(working)
        for d, working in overrides.items()
    }


def unconfirmed_warnings(calendar: WorkCalendar, years: Iterable[int]) -> list[str]:
    """A warning per year whose make-up working days ``calendar`` only guesses."""
    return [
        f"the {calendar.name} working-day calendar for {year} is not confirmed (the holidays "
        f"package guesses years whose make-up working days are unpublished; last confirmed: "
        f"{calendar.last_confirmed_year}): deadlines that count working days in {year} may "
        "move; give --holidays FILE with that year's official days to be sure"
        for year in calendar.unconfirmed_years(sorted(years))
    ]
