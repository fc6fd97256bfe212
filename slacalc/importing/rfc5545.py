"""RFC 5545 (iCalendar) syntax: unfolding, content lines, components and the value types used.

A small, strict reader rather than a dependency. Section numbers refer to RFC 5545.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from slacalc.errors import Problem
from slacalc.importing.rows import FIRST_INSTANT, LAST_INSTANT

MAX_DEPTH = 16  # VCALENDAR > VEVENT > VALARM is 3; VTIMEZONE > STANDARD is 3
_NAME = re.compile(r"[A-Za-z0-9-]+")
_PARAM_TEXT = re.compile(r'[^";:,]*')


@dataclass(frozen=True)
class Property:
    """One content line (3.1): ``NAME;PARAM=a,b:VALUE``. Names are upper case."""

    name: str
    params: dict[str, tuple[str, ...]]
    value: str
    line: int

    def param(self, name: str) -> str | None:
        values = self.params.get(name)
        return values[0] if values else None


@dataclass
class Component:
    """``BEGIN:NAME`` ... ``END:NAME`` with its properties, sub-components and raw lines."""

    name: str
    line: int
    properties: list[Property] = field(default_factory=list)
    components: list[Component] = field(default_factory=list)
    # Its unfolded lines, sub-components included: to hand a VTIMEZONE on, to compare copies.
    lines: list[str] = field(default_factory=list)

    def first(self, name: str) -> Property | None:
        return next((p for p in self.properties if p.name == name), None)

    def all(self, name: str) -> list[Property]:
        return [p for p in self.properties if p.name == name]


def unfold(text: str) -> Iterator[tuple[int, str]]:
    """Logical lines (3.1): a line break followed by one space or tab continues the line.

    Yields ``(number of the line it starts on, text)``; blank lines are skipped.
    """
    current: list[str] = []
    start = 0
    for number, line in enumerate(re.split(r"\r\n|\n|\r", text), start=1):
        if line[:1] in (" ", "\t") and current:
            current.append(line[1:])
            continue
        if current:
            yield start, "".join(current)
        current, start = ([line], number) if line.strip() else ([], number)
    if current:
        yield start, "".join(current)


def _caret_decode(value: str) -> str:
    """RFC 6868 parameter escapes: ``^n`` newline, ``^'`` double quote, ``^^`` caret."""
    if "^" not in value:
        return value
    return re.sub(r"\^([n'^])", lambda m: {"n": "\n", "'": '"', "^": "^"}[m.group(1)], value)


def parse_line(text: str, line: int) -> Property:
    """One content line; ValueError saying what is wrong with it."""
    m = _NAME.match(text)
    if m is None:
        raise ValueError("a content line starts with a property name")
    name, i = m.group().upper(), m.end()
    params: dict[str, tuple[str, ...]] = {}
    while i < len(text) and text[i] == ";":
        m = _NAME.match(text, i + 1)
        if m is None or m.end() >= len(text) or text[m.end()] != "=":
            raise ValueError(f"bad parameter after '{text[: i + 1]}'")
        pname, i = m.group().upper(), m.end() + 1
        values: list[str] = []
        while True:
            if i < len(text) and text[i] == '"':
                close = text.find('"', i + 1)
                if close < 0:
                    raise ValueError(f"parameter {pname} has an unclosed quote")
                values.append(text[i + 1 : close])
                i = close + 1
            else:
                m = _PARAM_TEXT.match(text, i)
                assert m is not None  # the pattern matches the empty string
                values.append(m.group())
                i = m.end()
            if i < len(text) and text[i] == ",":
                i += 1
                continue
            break
        params[pname] = params.get(pname, ()) + tuple(_caret_decode(v) for v in values)
    if i >= len(text) or text[i] != ":":
        raise ValueError(f"expected ':' after the name and parameters of {name}")
    return Property(name, params, text[i + 1 :], line)


def read_calendar(text: str, file: str, problems: list[Problem]) -> list[Component]:
    """The top-level components (VCALENDARs) of a file; problems get the file's line numbers.

    A line that is no content line is reported and skipped; a broken nesting of BEGIN/END
    gives no components at all, rather than events cut in the wrong places.
    """
    roots: list[Component] = []
    stack: list[Component] = []
    for number, logical in unfold(text):
        try:
            prop = parse_line(logical, number)
        except ValueError as exc:
            problems.append(
                Problem(file, number, f"cannot read iCalendar line: {exc}", value=logical)
            )
            continue
        if prop.name == "BEGIN":
            if len(stack) >= MAX_DEPTH:
                problems.append(Problem(file, number, "components nested too deeply"))
                return []
            component = Component(prop.value.strip().upper(), number)
            (stack[-1].components if stack else roots).append(component)
            stack.append(component)
            for open_component in stack:
                open_component.lines.append(logical)
        elif prop.name == "END":
            name = prop.value.strip().upper()
            if not stack or stack[-1].name != name:
                expected = f"END:{stack[-1].name}" if stack else "BEGIN:VCALENDAR first"
                problems.append(
                    Problem(file, number, f"unexpected END:{name}; expected {expected}")
                )
                return []
            for open_component in stack:
                open_component.lines.append(logical)
            stack.pop()
        elif not stack:
            problems.append(
                Problem(file, number, f"{prop.name} outside BEGIN:VCALENDAR ... END:VCALENDAR")
            )
            return []
        else:
            stack[-1].properties.append(prop)
            for open_component in stack:
                open_component.lines.append(logical)
    if stack:
        problems.append(
            Problem(file, stack[-1].line, f"BEGIN:{stack[-1].name} is never ended (END missing)")
        )
        return []  # a broken structure: its events are not what the file meant
    if not roots:
        problems.append(Problem(file, None, "not an iCalendar file: no BEGIN:VCALENDAR"))
    return roots


# --- values (3.3) ---------------------------------------------------------------------------

_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_DATE_TIME = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(Z?)")
_DURATION = re.compile(
    r"([+-]?)P(?:(\d{1,6})W)?(?:(\d{1,6})D)?(?:T(?:(\d{1,7})H)?(?:(\d{1,9})M)?(?:(\d{1,10})S)?)?"
)


def parse_date(text: str) -> date:
    m = _DATE.fullmatch(text.strip())
    if m is None:
        raise ValueError("not a DATE: expected YYYYMMDD")
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError as exc:
        raise ValueError(f"not a DATE: {exc}") from None


def parse_date_time(text: str) -> tuple[datetime, bool]:
    """A DATE-TIME (3.3.5) as a naive datetime and whether it is UTC (a ``Z`` suffix)."""
    m = _DATE_TIME.fullmatch(text.strip())
    if m is None:
        raise ValueError("not a DATE-TIME: expected YYYYMMDDTHHMMSS, optionally ending in Z")
    parts = [int(m.group(i)) for i in range(1, 7)]
    if parts[5] == 60:
        raise ValueError("not a DATE-TIME: leap seconds (second 60) are not supported")
    try:
        return datetime(*parts), bool(m.group(7))  # type: ignore[arg-type]
    except ValueError as exc:
        raise ValueError(f"not a DATE-TIME: {exc}") from None


@dataclass(frozen=True)
class Duration:
    """A DURATION (3.3.6): weeks and days are nominal (local clock), hours to seconds exact."""

    days: int = 0
    exact: timedelta = timedelta(0)

    @property
    def is_zero(self) -> bool:
        return self.days == 0 and not self.exact


def parse_duration(text: str) -> Duration:
    """``P1W``, ``P1D``, ``PT2H30M``, ``P1DT12H``; negative durations are refused here."""
    m = _DURATION.fullmatch(text.strip())
    if m is None or not any(m.group(i) for i in range(2, 7)) or text.strip().endswith("T"):
        raise ValueError("not a DURATION: expected such as PT2H, P1D or P1W")
    if m.group(1) == "-":
        raise ValueError("a negative DURATION cannot be the length of a window")
    weeks, days, hours, minutes, seconds = (int(m.group(i) or 0) for i in range(2, 7))
    value = Duration(
        days=weeks * 7 + days, exact=timedelta(hours=hours, minutes=minutes, seconds=seconds)
    )
    # Nothing longer fits in an incident log (and far longer cannot even be added to a date).
    if timedelta(days=value.days) + value.exact > LAST_INSTANT - FIRST_INSTANT:
        raise ValueError(
            f"DURATION is too long: longer than the years {FIRST_INSTANT.year} to "
            f"{LAST_INSTANT.year} an incident log holds"
        )
    return value


def unescape_text(text: str) -> str:
    """A TEXT value (3.3.11): ``\\\\``, ``\\;``, ``\\,`` and ``\\n`` escapes."""
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) in "nN" else m.group(1), text)


def split_text_list(text: str) -> list[str]:
    """A comma-separated list of TEXT values (CATEGORIES): an escaped comma does not split."""
    parts = re.split(r"(?<!\\),", text.replace("\\\\", "\x00"))
    return [unescape_text(p.replace("\x00", "\\\\")) for p in parts]
