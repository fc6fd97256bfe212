"""iCalendar maintenance windows: each VEVENT occurrence is a ``maintenance`` row per CATEGORY.

Times are read as RFC 5545 writes them: ``TZID=Zone/Name`` local times (an IANA name, or a zone
the file defines in a VTIMEZONE), UTC times ending in ``Z``, floating times and ``VALUE=DATE``
all-day dates (both local time in the billing zone). An occurrence lasts what RFC 5545 gives
it (3.8.5.3): DTEND - DTSTART as exact elapsed time for date-times, as nominal days for dates;
a DURATION's days and weeks are nominal (same local clock time, 23 or 25 hours across a DST
change) and its hours, minutes and seconds exact. No DTEND or DURATION: a date lasts one day.

Recurrences (RRULE, RDATE, EXDATE) are expanded in the event's own zone; an instance moved or
cancelled by a VEVENT with the same UID and a RECURRENCE-ID is replaced by that VEVENT. The
expansion is bounded (see ``recurrence``): the events of one import make at most
``MAX_CALENDAR_ROWS`` rows (and at most the import's row cap), counted before they are built.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slacalc.errors import InputError, Problem
from slacalc.importing.importer import Context, Importer, Parsed, too_many_rows
from slacalc.importing.reading import SourceFile, decode_text
from slacalc.importing.recurrence import (
    Length,
    Rule,
    SearchBudget,
    SearchSpent,
    expand,
    read_rrule,
)
from slacalc.importing.rfc5545 import (
    Component,
    Property,
    parse_date,
    parse_date_time,
    parse_duration,
    read_calendar,
    split_text_list,
    unescape_text,
)
from slacalc.importing.rows import MAINTENANCE, SourceRow
from slacalc.importing.vtimezone import ZoneError, read_vtimezone

_EARLIEST = datetime.min.replace(tzinfo=UTC)
# The most rows the events of one import may expand to, all together (occurrences times
# CATEGORIES): a few hundred bytes of RRULE must not become a million rows. A real maintenance
# calendar, read for a billing window, makes a few thousand.
MAX_CALENDAR_ROWS = 100_000


class _Bad(ValueError):
    """A problem with one property of an event: its line and message."""

    def __init__(self, line: int | None, message: str, value: str | None = None) -> None:
        super().__init__(message)
        self.line, self.message, self.value = line, message, value
        self.file: str | None = None  # when not the event's own file (an override's)


@dataclass(frozen=True)
class _When:
    """A DATE or DATE-TIME read into an aware datetime (dates at local midnight)."""

    moment: datetime
    is_date: bool


@dataclass
class _Event:
    file: str
    line: int
    uid: str
    component: Component
    zones: dict[str, Component]  # the VTIMEZONEs of its calendar, by TZID
    recurrence_id: Property | None
    version: tuple[int, datetime]  # (SEQUENCE, DTSTAMP): which copy of an event is newest
    overrides: list[_Event] = field(default_factory=list)


def parse(files: Sequence[SourceFile], ctx: Context) -> Parsed:
    parsed = Parsed()
    masters: dict[str, _Event] = {}
    overrides: dict[tuple[str, str], _Event] = {}
    for src in files:
        text = decode_text(src, parsed.problems)
        if text is None:
            continue
        for root in read_calendar(text, src.name, parsed.problems):
            if root.name != "VCALENDAR":
                parsed.problems.append(
                    Problem(src.name, root.line, f"expected BEGIN:VCALENDAR, not BEGIN:{root.name}")
                )
                continue
            zones = {}
            for comp in root.components:
                tzid = comp.first("TZID")
                if comp.name == "VTIMEZONE" and tzid is not None:
                    zones[tzid.value.strip()] = comp
            for comp in root.components:
                if comp.name == "VEVENT":
                    event = _read_event(comp, zones, src.name, parsed.problems)
                    if event is None:
                        continue
                    if event.recurrence_id is None:
                        _keep(masters, event.uid, event, parsed.problems)
                    else:
                        key = (event.uid, event.recurrence_id.value.strip())
                        _keep(overrides, key, event, parsed.problems)
    for (uid, _), override in overrides.items():
        master = masters.get(uid)
        if master is None:
            masters[f"{uid}\x00{override.recurrence_id.value}"] = override  # type: ignore[union-attr]
        else:
            master.overrides.append(override)
    run = _Run(ctx)
    for event in masters.values():
        try:
            parsed.rows.extend(_rows(event, run))
        except _Bad as exc:
            parsed.problems.append(
                Problem(
                    exc.file or event.file,
                    exc.line,
                    f"VEVENT {event.uid}: {exc.message}",
                    value=exc.value,
                )
            )
        except _TooMany as exc:  # stop at once, before more rows are made
            parsed.problems.append(exc.problem)
            raise InputError(parsed.problems) from None
        except SearchSpent as exc:  # the whole import's search is spent: stop here
            parsed.problems.append(Problem(event.file, event.line, f"VEVENT {event.uid}: {exc}"))
            break
        except OverflowError:  # a time so far out that Python's datetime cannot hold it
            parsed.problems.append(
                Problem(
                    event.file,
                    event.line,
                    f"VEVENT {event.uid}: its times reach outside the years 1 to 9999",
                )
            )
    run.budget.settle()
    return parsed


class _TooMany(Exception):
    """The events make more rows than they may: the import stops here."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


class _Run:
    """What the events of one import share: zones, the search budget and the row count."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.budget = SearchBudget()
        self.rows = 0
        self.limit = min(ctx.max_rows, MAX_CALENDAR_ROWS)
        self._zones: dict[int, _Zones] = {}

    def zones(self, event: _Event) -> _Zones:
        """The zones of an event's calendar, read once per calendar."""
        key = id(event.zones)
        if key not in self._zones:
            self._zones[key] = _Zones(event.zones, self.ctx.tz, self.budget)
        return self._zones[key]

    def count(self, rows: int, event: _Event, line: int) -> None:
        """Count rows before they are made; stop the import as soon as there are too many."""
        self.rows += rows
        if self.rows <= self.limit:
            return
        if self.ctx.max_rows <= MAX_CALENDAR_ROWS:
            raise _TooMany(too_many_rows(self.ctx.max_rows, event.file))
        raise _TooMany(
            Problem(
                event.file,
                line,
                f"VEVENT {event.uid}: the events expand to more than {MAX_CALENDAR_ROWS:,} "
                "rows (occurrences times CATEGORIES, all events together) before the window "
                "ends, the most a calendar may make: give a narrower window (--from/--until) "
                "or fix the rules",
            )
        )


def _read_event(
    comp: Component, zones: dict[str, Component], file: str, problems: list[Problem]
) -> _Event | None:
    uid = comp.first("UID")
    if uid is None or not uid.value.strip():
        problems.append(Problem(file, comp.line, "VEVENT has no UID"))
        return None
    sequence = 0
    prop = comp.first("SEQUENCE")
    if prop is not None:
        if not prop.value.strip().isdigit():
            problems.append(
                Problem(file, prop.line, "SEQUENCE is not a whole number", value=prop.value)
            )
            return None
        sequence = int(prop.value)
    stamp = _EARLIEST
    prop = comp.first("DTSTAMP")
    if prop is not None:
        try:
            naive, _ = parse_date_time(prop.value)
            stamp = naive.replace(tzinfo=UTC)
        except ValueError as exc:
            problems.append(Problem(file, prop.line, f"DTSTAMP: {exc}", value=prop.value))
            return None
    return _Event(
        file=file,
        line=comp.line,
        uid=unescape_text(uid.value.strip()),
        component=comp,
        zones=zones,
        recurrence_id=comp.first("RECURRENCE-ID"),
        version=(sequence, stamp),
    )


def _keep(store: dict, key: object, event: _Event, problems: list[Problem]) -> None:
    """Keep the newest copy of an event (SEQUENCE, then DTSTAMP); refuse two that tie."""
    kept = store.get(key)
    if kept is None or event.version > kept.version:
        store[key] = event
    elif event.version == kept.version and kept.component.lines != event.component.lines:
        problems.append(
            Problem(
                event.file,
                event.line,
                f"VEVENT {event.uid} is also at {kept.file}:{kept.line} with the same SEQUENCE "
                "and DTSTAMP but other content; keep one of them",
            )
        )


def _rows(event: _Event, run: _Run) -> list[SourceRow]:
    comp = event.component
    status = comp.first("STATUS")
    if status is not None and status.value.strip().upper() == "CANCELLED":
        return []
    zones = run.zones(event)
    start = _start(comp, zones)
    length = _length(comp, start, zones, event)
    categories = _categories(comp)
    if not categories:
        raise _Bad(comp.line, "has no CATEGORIES: name the services under maintenance there")

    rule: Rule | None = None
    until: datetime | None = None
    rules = comp.all("RRULE")
    if len(rules) > 1:
        raise _Bad(rules[1].line, "has more than one RRULE (deprecated by RFC 5545)")
    if rules:
        try:
            rule = read_rrule(rules[0].value)
            if rule.until is not None:
                until = _until(rule.until, start, zones)
        except ValueError as exc:
            raise _Bad(rules[0].line, str(exc), rules[0].value) from None

    rdates: list[datetime] = []
    for prop in comp.all("RDATE"):
        if (prop.param("VALUE") or "").upper() == "PERIOD":
            raise _Bad(prop.line, "RDATE;VALUE=PERIOD is not supported: use dates or date-times")
        rdates.extend(w.moment for w in _many(prop, zones))
    exdates: set[datetime] = set()
    exdays: set[date] = set()
    for prop in comp.all("EXDATE"):
        for when in _many(prop, zones):
            if when.is_date:
                exdays.add(when.moment.date())
            else:
                exdates.add(when.moment.astimezone(UTC))

    for override in event.overrides:
        rid = override.recurrence_id
        assert rid is not None
        with _in(override):
            if rid.param("RANGE") is not None:
                raise _Bad(rid.line, "RECURRENCE-ID;RANGE=THISANDFUTURE is not supported")
            when = _when(rid, run.zones(override))
        if when.is_date:
            exdays.add(when.moment.date())
        else:
            exdates.add(when.moment.astimezone(UTC))

    window_start, horizon = run.ctx.window if run.ctx.window is not None else (None, None)
    earliest = None if window_start is None else window_start - length.at_most
    spans: list[tuple[datetime, datetime]] = []
    try:
        occurrences = expand(
            start.moment,
            rule,
            until,
            rdates=rdates,
            exdates=frozenset(exdates),
            exdays=frozenset(exdays),
            earliest=earliest,
            horizon=horizon,
            budget=run.budget,
        )
        for moment in occurrences:
            end = _end(length, moment, comp, event)
            if window_start is not None and end <= window_start:
                continue
            run.count(len(categories), event, rules[0].line if rules else comp.line)
            spans.append((moment, end))
    except _Bad:
        raise
    except ValueError as exc:
        line = rules[0].line if rules else comp.line
        raise _Bad(line, str(exc)) from None

    rows = _to_rows(spans, categories, event)
    for override in event.overrides:
        with _in(override):
            rows.extend(_override_rows(override, length, categories, run))
    return rows


def _end(length: Length, start: datetime, comp: Component, event: _Event) -> datetime:
    """When an occurrence starting at ``start`` ends; _Bad when no date can hold it."""
    try:
        return length.end_of(start)
    except ValueError as exc:
        prop = comp.first("DURATION") or comp.first("DTEND") or comp.first("DTSTART")
        line = prop.line if prop is not None else event.line
        raise _Bad(line, str(exc), prop.value if prop is not None else None) from None


@contextmanager
def _in(override: _Event) -> Iterator[None]:
    """Problems raised here are in the override's file, which may not be the master's."""
    try:
        yield
    except _Bad as exc:
        exc.file = override.file
        raise


def _override_rows(
    override: _Event, length: Length, categories: list[str], run: _Run
) -> list[SourceRow]:
    """An instance moved (or cancelled) by a VEVENT with a RECURRENCE-ID: one occurrence."""
    comp = override.component
    status = comp.first("STATUS")
    if status is not None and status.value.strip().upper() == "CANCELLED":
        return []
    zones = run.zones(override)
    start = _start(comp, zones)
    if comp.first("DTEND") is not None or comp.first("DURATION") is not None:
        length = _length(comp, start, zones, override)
    end = _end(length, start.moment, comp, override)
    window_start, horizon = run.ctx.window if run.ctx.window is not None else (None, None)
    if horizon is not None and start.moment >= horizon:
        return []
    if window_start is not None and end <= window_start:
        return []
    categories = _categories(comp) or categories
    run.count(len(categories), override, comp.line)
    return _to_rows([(start.moment, end)], categories, override)


def _to_rows(
    spans: list[tuple[datetime, datetime]], categories: list[str], event: _Event
) -> list[SourceRow]:
    rows = []
    line = event.component.first("DTSTART")
    for start, end in spans:
        zone = start.tzinfo
        start = start.astimezone(UTC).astimezone(zone)  # a DST-gap local time, made real
        for category in categories:
            rows.append(
                SourceRow(
                    start=start,
                    end=end,
                    source_name=category,
                    incident_id=f"{event.uid}@{start.isoformat()}",
                    category=MAINTENANCE,
                    file=event.file,
                    line=line.line if line is not None else event.line,
                )
            )
    return rows


def _categories(comp: Component) -> list[str]:
    names: dict[str, None] = {}
    for prop in comp.all("CATEGORIES"):
        for name in split_text_list(prop.value):
            if name.strip():
                names[name.strip()] = None
    return list(names)


def _start(comp: Component, zones: _Zones) -> _When:
    prop = comp.first("DTSTART")
    if prop is None:
        raise _Bad(comp.line, "has no DTSTART")
    return _when(prop, zones)


def _length(comp: Component, start: _When, zones: _Zones, event: _Event) -> Length:
    dtend, duration = comp.first("DTEND"), comp.first("DURATION")
    if dtend is not None and duration is not None:
        raise _Bad(duration.line, "has both DTEND and DURATION (RFC 5545 allows one)")
    if dtend is not None:
        end = _when(dtend, zones)
        if end.is_date != start.is_date:
            raise _Bad(dtend.line, "DTSTART and DTEND must both be dates or both date-times")
        if end.is_date:
            days = (end.moment.date() - start.moment.date()).days
            if days <= 0:
                raise _Bad(
                    dtend.line, "ends before it starts (DTEND is not after DTSTART)", dtend.value
                )
            return Length(days=days)
        exact = end.moment.astimezone(UTC) - start.moment.astimezone(UTC)
        if exact <= timedelta(0):
            raise _Bad(
                dtend.line, "ends before it starts (DTEND is not after DTSTART)", dtend.value
            )
        return Length(exact=exact)
    if duration is not None:
        try:
            value = parse_duration(duration.value)
        except ValueError as exc:
            raise _Bad(duration.line, str(exc), duration.value) from None
        if value.is_zero:
            raise _Bad(duration.line, "DURATION is zero: a maintenance window needs a length")
        return Length(days=value.days, exact=value.exact)
    if start.is_date:
        return Length(days=1)  # RFC 5545 3.6.1: an all-day event without an end is one day
    raise _Bad(event.line, "has no DTEND or DURATION: a maintenance window needs an end")


def _until(text: str, start: _When, zones: _Zones) -> datetime:
    """The RRULE's UNTIL as an aware instant comparable with the occurrences (3.3.10)."""
    if re.fullmatch(r"\d{8}", text):
        day = parse_date(text)
        zone = start.moment.tzinfo
        if start.is_date:
            return datetime.combine(day, time(0), zone)
        return datetime.combine(day, time(23, 59, 59), zone)  # all of that day
    naive, is_utc = parse_date_time(text)
    if is_utc:
        return naive.replace(tzinfo=UTC)
    return naive.replace(tzinfo=start.moment.tzinfo)  # floating UNTIL: the event's own clock


def _many(prop: Property, zones: _Zones) -> list[_When]:
    """The comma-separated values of an RDATE or EXDATE, each read like a DTSTART."""
    return [
        _when(Property(prop.name, prop.params, value, prop.line), zones)
        for value in prop.value.split(",")
        if value.strip()
    ]


def _when(prop: Property, zones: _Zones) -> _When:
    """A DATE or DATE-TIME property as an aware datetime: TZID, UTC, or the billing zone."""
    kind = (prop.param("VALUE") or "").upper()
    text = prop.value.strip()
    try:
        if kind == "DATE" or (not kind and re.fullmatch(r"\d{8}", text)):
            day = parse_date(text)
            return _computable(_When(datetime.combine(day, time(0), zones.billing), True), prop)
        if kind not in ("", "DATE-TIME"):
            raise ValueError(f"VALUE={kind} is not a date or date-time")
        naive, is_utc = parse_date_time(text)
    except ValueError as exc:
        raise _Bad(prop.line, f"{prop.name}: {exc}", prop.value) from None
    tzid = prop.param("TZID")
    if is_utc:
        if tzid is not None:
            raise _Bad(prop.line, f"{prop.name} is UTC (ends in Z) yet names TZID={tzid}")
        return _When(naive.replace(tzinfo=UTC), False)
    zone = zones.billing if tzid is None else zones.get(tzid, prop.line)
    return _computable(_When(naive.replace(tzinfo=zone), False), prop)


def _computable(when: _When, prop: Property) -> _When:
    """A local time that has an instant: not within a day of the years 1 and 9999's ends."""
    try:
        when.moment.astimezone(UTC)
    except OverflowError:
        raise _Bad(
            prop.line, f"{prop.name}: too close to the year 1 or 9999 to compute", prop.value
        ) from None
    return when


class _Zones:
    """TZIDs to zones: IANA names first, then the calendar's own VTIMEZONE definitions."""

    def __init__(self, defined: dict[str, Component], billing: tzinfo, budget: SearchBudget):
        self.defined, self.billing, self.budget = defined, billing, budget
        self.found: dict[str, tzinfo] = {}

    def get(self, tzid: str, line: int) -> tzinfo:
        tzid = tzid.strip()
        if tzid not in self.found:
            zone = _iana(tzid) or self._vtimezone(tzid, line) or _iana(tzid, suffixes=True)
            if zone is None:
                raise _Bad(
                    line,
                    f"unknown TZID '{tzid}': not an IANA time zone and no VTIMEZONE in the "
                    "file defines it",
                )
            self.found[tzid] = zone
        return self.found[tzid]

    def _vtimezone(self, tzid: str, line: int) -> tzinfo | None:
        comp = self.defined.get(tzid)
        if comp is None:
            return None
        try:
            return read_vtimezone(comp, tzid, self.budget)
        except ZoneError as exc:
            raise _Bad(exc.line, exc.message, exc.value) from None


def _iana(tzid: str, *, suffixes: bool = False) -> tzinfo | None:
    """The IANA zone a TZID names; with ``suffixes`` also the ``/vendor/version/Area/City``
    form some calendar programs write."""
    parts = [p for p in tzid.split("/") if p]
    for i in range(len(parts) if suffixes else 1):
        name = "/".join(parts[i:])
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            continue
    return None


IMPORTER = Importer(
    name="ics",
    summary="iCalendar (RFC 5545) maintenance windows: one row per occurrence and CATEGORY",
    parse=parse,
)
