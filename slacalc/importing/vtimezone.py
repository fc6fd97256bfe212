"""A VTIMEZONE (RFC 5545 3.6.5) as a ``tzinfo``, computing only the years it is asked about.

Each STANDARD or DAYLIGHT observance starts at its DTSTART (local time, before the change,
so at TZOFFSETFROM) and again at every RRULE and RDATE occurrence; from each onset the offset
is TZOFFSETTO. Outlook writes rules that start in 1601: the onsets of a year are computed when
a time of that year is looked up (the rule's period of that year, not every year since 1601),
kept, and the latest onset before a time is found from its year down. A local time in a gap
or an overlap is read as ``zoneinfo`` reads it (PEP 495): ``fold=0`` takes the offset before
the change.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from slacalc.importing.recurrence import Rule, RuleSearch, SearchBudget, read_rrule
from slacalc.importing.rfc5545 import Component, Property, parse_date, parse_date_time

_OFFSET = re.compile(r"([+-])(\d{2})(\d{2})(\d{2})?")
_LAST_YEAR = 2201  # the onsets slacalc ever needs: its last year, and a margin
_STRIDE = 32  # years searched at once when looking back for the last onset


class ZoneError(ValueError):
    """A VTIMEZONE that cannot be read: the line and value at fault."""

    def __init__(self, line: int, message: str, value: str | None = None) -> None:
        super().__init__(message)
        self.line, self.message, self.value = line, message, value


def parse_utc_offset(text: str) -> timedelta:
    """A UTC-OFFSET value (3.3.14): ``+0100``, ``-0330``, ``+053000``. Hours 00-23, minutes and
    seconds 00-59, never normalised (``+0099`` is refused, not read as +01:39); ``-0000`` is
    not allowed. Raises ValueError saying what was expected."""
    m = _OFFSET.fullmatch(text.strip())
    if m is None:
        raise ValueError("not a UTC offset: expected +HHMM or -HHMM, such as +0100")
    hours, minutes, seconds = int(m.group(2)), int(m.group(3)), int(m.group(4) or 0)
    if hours > 23 or minutes > 59 or seconds > 59:
        raise ValueError("UTC offset out of range: hours 00-23, minutes and seconds 00-59")
    offset = timedelta(hours=hours, minutes=minutes, seconds=seconds)
    if m.group(1) == "-":
        if not offset:
            raise ValueError("UTC offset -0000 is not allowed (RFC 5545 3.3.14): write +0000")
        offset = -offset
    return offset


@dataclass(eq=False)
class _Observance:
    """One STANDARD or DAYLIGHT part: its onsets, as UTC instants (naive), year by year."""

    is_dst: bool
    before: timedelta  # TZOFFSETFROM
    after: timedelta  # TZOFFSETTO
    name: str | None
    start: datetime  # DTSTART, local time at ``before``
    rule: Rule | None
    until: datetime | None  # the rule's UNTIL as a UTC instant (naive)
    fixed: list[datetime]  # DTSTART and the RDATEs, as sorted UTC instants
    budget: SearchBudget
    years: dict[int, list[datetime]] = field(default_factory=dict)
    floors: dict[int, datetime | None] = field(default_factory=dict)
    counted: dict[int, list[datetime]] | None = None  # a COUNT rule's onsets, by year
    search: RuleSearch | None = None

    def latest(self, instant: datetime) -> datetime | None:
        """The last onset at or before ``instant`` (a naive UTC time), None before the first."""
        found = None
        i = bisect_right(self.fixed, instant)
        if i:
            found = self.fixed[i - 1]
        if self.rule is not None:
            year = min((instant + self.before).year, _LAST_YEAR)
            if self.until is not None:
                year = min(year, (self.until + self.before).year)
            onsets = self._year(year)
            j = bisect_right(onsets, instant)
            ruled = onsets[j - 1] if j else self._floor(year - 1)
            if ruled is not None and (found is None or ruled > found):
                found = ruled
        return found

    def between(self, low: datetime, high: datetime) -> list[datetime]:
        """The onsets with ``low < instant <= high`` (naive UTC), in order."""
        found = self.fixed[bisect_right(self.fixed, low) : bisect_right(self.fixed, high)]
        if self.rule is not None:
            for year in range((low + self.before).year, (high + self.before).year + 1):
                if self.until is not None and year > (self.until + self.before).year:
                    break
                found += [t for t in self._year(year) if low < t <= high]
        return sorted(found)

    def _floor(self, year: int) -> datetime | None:
        """The last rule onset in ``year`` or before, each year's answer kept."""
        pending, result = [], None
        while year >= self.start.year:
            if year in self.floors:
                result = self.floors[year]
                break
            pending.append(year)
            onsets = self._year(year)
            if onsets:
                result = onsets[-1]
                break
            year -= 1
        for seen in pending:
            self.floors[seen] = result
        return result

    def _year(self, year: int) -> list[datetime]:
        """The rule's onsets whose local time falls in ``year``, as sorted UTC instants. A
        year not yet known is searched with the ``_STRIDE`` years before it, in one go."""
        if year not in self.years:
            assert self.rule is not None
            if self.rule.count is not None:
                if self.counted is None:
                    self.counted = self._count_all()
                self.years[year] = self.counted.get(year, [])
                return self.years[year]
            if self.search is None:
                self.search = RuleSearch(self.rule, self.start, self.budget)
            low = max(self.start.year, year - _STRIDE + 1)
            found: dict[int, list[datetime]] = {y: [] for y in range(low, year + 1)}
            for local in self.search.run(date(low, 1, 1), date(year, 12, 31)):
                onset = local - self.before
                if local.year in found and (self.until is None or onset <= self.until):
                    found[local.year].append(onset)
            self.years.update(found)
            self.years.setdefault(year, [])
        return self.years[year]

    def _count_all(self) -> dict[int, list[datetime]]:
        """A COUNT rule counts from DTSTART: its onsets, all of them, once."""
        assert self.rule is not None and self.rule.count is not None
        by_year: dict[int, list[datetime]] = {}
        search = RuleSearch(self.rule, self.start, self.budget)
        found = search.run(None, date(_LAST_YEAR, 12, 31))
        for n, local in enumerate(found):
            if n >= self.rule.count:
                break
            by_year.setdefault(local.year, []).append(local - self.before)
        return by_year


@dataclass(frozen=True)
class _Change:
    """One onset: its UTC instant (naive), the observance from then on, and the local times
    from which a wall-clock reading is past it (with ``fold=0``, with ``fold=1``)."""

    instant: datetime
    observance: _Observance
    past: tuple[datetime, datetime]


class VTimezone(tzinfo):
    """The zone a VTIMEZONE defines. Only the years looked up are computed, each once: the
    observance in force as the year begins and the onsets within it."""

    def __init__(self, tzid: str, observances: list[_Observance]) -> None:
        self.tzid = tzid
        self._observances = observances
        # Before any onset: the offset the first onset changes from.
        self._initial = min(observances, key=lambda o: o.fixed[0])
        self._years: dict[int, tuple[_Observance | None, list[_Change]]] = {}
        self._seen: dict[tuple[datetime, int], _Observance | None] = {}

    def __repr__(self) -> str:
        return f"VTimezone({self.tzid!r})"

    def _year(self, year: int) -> tuple[_Observance | None, list[_Change]]:
        """The observance in force a little before ``year`` (UTC) and the onsets from then to a
        little after it, in order: enough for any local time of the year."""
        if year not in self._years:
            # (OverflowError in the years 1 and 9999, as for any zone.)
            low = datetime(year, 1, 1) - timedelta(days=2)
            high = datetime(year, 12, 31) + timedelta(days=3)
            first: tuple[_Observance | None, datetime | None] = (None, None)
            changes = []
            for obs in self._observances:
                onset = obs.latest(low)
                if onset is not None and (first[1] is None or onset > first[1]):
                    first = (obs, onset)
                for instant in obs.between(low, high):
                    wall = (
                        instant + max(obs.before, obs.after),
                        instant + min(obs.before, obs.after),
                    )
                    changes.append(_Change(instant, obs, wall))
            changes.sort(key=lambda c: c.instant)
            self._years[year] = (first[0], changes)
        return self._years[year]

    def _local(self, dt: datetime) -> _Observance | None:
        """The observance of a local time: an onset applies from its later reading of the
        clock with ``fold=0`` (a gap or overlap reads with the offset before), its earlier
        with ``fold=1``."""
        local = dt.replace(tzinfo=None)
        key = (local, dt.fold)
        found = self._seen.get(key, self)
        if found is not self:
            return found  # type: ignore[return-value]
        first, changes = self._year(local.year)
        found = first
        for change in reversed(changes):
            if local >= change.past[dt.fold]:
                found = change.observance
                break
        if len(self._seen) >= 4096:  # datetime arithmetic asks again and again: keep a few
            self._seen.clear()
        self._seen[key] = found
        return found

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        if dt is None:
            return None
        obs = self._local(dt)
        return self._initial.before if obs is None else obs.after

    def dst(self, dt: datetime | None) -> timedelta | None:
        if dt is None:
            return None
        obs = self._local(dt)
        return obs.after - obs.before if obs is not None and obs.is_dst else timedelta(0)

    def tzname(self, dt: datetime | None) -> str | None:
        obs = self._local(dt) if dt is not None else None
        return obs.name if obs is not None else self.tzid

    def fromutc(self, dt: datetime) -> datetime:
        if dt.tzinfo is not self:
            raise ValueError("fromutc: dt.tzinfo is not self")
        instant = dt.replace(tzinfo=None)
        obs, changes = self._year(instant.year)
        repeated = False
        for change in reversed(changes):
            if instant >= change.instant:
                obs = change.observance
                # Just after a change that turns the clock back, the clock reads its hour again.
                repeated = obs.after < obs.before and instant < change.instant + (
                    obs.before - obs.after
                )
                break
        if obs is None:
            return (instant + self._initial.before).replace(tzinfo=self)
        return (instant + obs.after).replace(tzinfo=self, fold=int(repeated))


def read_vtimezone(comp: Component, tzid: str, budget: SearchBudget) -> VTimezone:
    """The zone of a VTIMEZONE component; ZoneError names the line at fault."""
    observances = []
    for part in comp.components:
        if part.name in ("STANDARD", "DAYLIGHT"):
            observances.append(_observance(part, tzid, budget))
    if not observances:
        raise ZoneError(comp.line, f"VTIMEZONE {tzid} has no STANDARD or DAYLIGHT part")
    return VTimezone(tzid, observances)


def _observance(part: Component, tzid: str, budget: SearchBudget) -> _Observance:
    where = f"VTIMEZONE {tzid} {part.name}"
    offsets = []
    for name in ("TZOFFSETFROM", "TZOFFSETTO"):
        prop = part.first(name)
        if prop is None:
            raise ZoneError(part.line, f"{where} has no {name}")
        try:
            offsets.append(parse_utc_offset(prop.value))
        except ValueError as exc:
            raise ZoneError(prop.line, f"{where} {name}: {exc}", prop.value) from None
    before, after = offsets
    dtstart = part.first("DTSTART")
    if dtstart is None:
        raise ZoneError(part.line, f"{where} has no DTSTART")
    start = _local_time(dtstart, where)
    fixed = [start - before]
    for prop in part.all("RDATE"):
        if (prop.param("VALUE") or "").upper() == "PERIOD":
            raise ZoneError(prop.line, f"{where} RDATE;VALUE=PERIOD is not supported")
        for value in prop.value.split(","):
            if value.strip():
                one = Property(prop.name, prop.params, value, prop.line)
                fixed.append(_local_time(one, where) - before)
    rule = until = None
    rules = part.all("RRULE")
    if len(rules) > 1:
        raise ZoneError(rules[1].line, f"{where} has more than one RRULE")
    if rules:
        prop = rules[0]
        try:
            rule = read_rrule(prop.value)
            if rule.freq != "YEARLY":
                raise ValueError("only FREQ=YEARLY rules are taken (a zone changes once a year)")
            if rule.until is not None:
                until = _until(rule.until, before)
        except ValueError as exc:
            raise ZoneError(prop.line, f"{where} RRULE: {exc}", prop.value) from None
    names = part.all("TZNAME")
    return _Observance(
        is_dst=part.name == "DAYLIGHT",
        before=before,
        after=after,
        name=names[0].value.strip() if names else None,
        start=start,
        rule=rule,
        until=until,
        fixed=sorted(fixed),
        budget=budget,
    )


def _local_time(prop: Property, where: str) -> datetime:
    """A DTSTART or RDATE of an observance: a local date-time (3.6.5)."""
    try:
        naive, is_utc = parse_date_time(prop.value)
    except ValueError as exc:
        raise ZoneError(prop.line, f"{where} {prop.name}: {exc}", prop.value) from None
    if is_utc:
        raise ZoneError(
            prop.line,
            f"{where} {prop.name} must be a local time (RFC 5545 3.6.5), not UTC",
            prop.value,
        )
    return naive


def _until(text: str, before: timedelta) -> datetime:
    """An observance rule's UNTIL as a UTC instant: UTC as RFC 5545 asks, else local time."""
    if re.fullmatch(r"\d{8}", text):
        return datetime.combine(parse_date(text), time(23, 59, 59)) - before
    naive, is_utc = parse_date_time(text)
    return naive if is_utc else naive - before
