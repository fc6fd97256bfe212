"""Reading vendor exports: files or stdin, JSON with paths in its messages, strict timestamps.

Every reader here collects problems instead of raising at the first one, and names where each
problem is: ``FILE: $.incidents[3].resolved_at: ...`` for a JSON document, ``FILE:LINE: ...``
for JSON Lines, CSV and iCalendar.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sys
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

from slacalc.dates.instants import RANGE_MESSAGE, parse_datetime
from slacalc.errors import InputError, Problem
from slacalc.reading.files import quoted_span_problems

STDIN = "-"
STDIN_NAME = "<stdin>"


@dataclass(frozen=True)
class SourceFile:
    """One input file, read whole: its display name (the path as given) and its bytes."""

    name: str
    data: bytes

    @property
    def basename(self) -> str:
        return self.name if self.name == STDIN_NAME else os.path.basename(self.name)


# An export is parsed whole in memory (a JSON document): a guard against a device or a runaway
# pipe (/dev/zero, /dev/urandom), and against files no month of one source comes near.
MAX_SOURCE_BYTES = 1 << 30
_PIECE = 1 << 20


def read_source(path: str) -> SourceFile:
    """Read ``path`` (``-`` is standard input) as bytes, or raise InputError saying why not.

    Read a piece at a time, and given up at the first NUL byte (no export format holds one) or
    past ``MAX_SOURCE_BYTES``: an endless binary stream is refused in a moment."""
    name = STDIN_NAME if path == STDIN else path
    try:
        if path == STDIN:
            stream = getattr(sys.stdin, "buffer", None)  # None: a text-only stdin (tests)
            data = sys.stdin.read().encode("utf-8") if stream is None else _bounded(stream, name)
        else:
            with open(path, "rb") as fh:
                data = _bounded(fh, name)
    except FileNotFoundError:
        raise InputError(Problem(name, None, "no such file")) from None
    except IsADirectoryError:
        raise InputError(Problem(name, None, "is a directory, not a file")) from None
    except OSError as exc:
        raise InputError(Problem(name, None, f"cannot read: {exc.strerror}")) from None
    return SourceFile(name, data)


def _bounded(stream: Any, name: str) -> bytes:
    pieces: list[bytes] = []
    size = 0
    while True:
        piece = stream.read(_PIECE)
        if not piece:
            return b"".join(pieces)
        if b"\x00" in piece:
            line = b"".join(pieces).count(b"\n") + piece[: piece.find(b"\x00")].count(b"\n") + 1
            raise InputError(Problem(name, line, "binary data (a NUL byte): not an export"))
        pieces.append(piece)
        size += len(piece)
        if size > MAX_SOURCE_BYTES:
            raise InputError(
                Problem(
                    name,
                    None,
                    f"larger than {MAX_SOURCE_BYTES >> 30} GiB: not an export of one source; "
                    "export less at a time",
                )
            )


def decode_text(src: SourceFile, problems: list[Problem]) -> str | None:
    """The file as text (UTF-8, BOM or not), or None after recording where it is not UTF-8."""
    try:
        return src.data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = src.data[: exc.start].count(b"\n") + 1
        problems.append(
            Problem(
                src.name,
                line,
                f"not UTF-8 text (byte 0x{src.data[exc.start]:02x} at offset {exc.start}); "
                "save the file as UTF-8",
            )
        )
        return None


# --- JSON -----------------------------------------------------------------------------------


def loads_json(text: str) -> Any:
    """``json.loads`` whose every failure (syntax, nesting, huge numbers) is a ValueError."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{exc.msg} at line {exc.lineno}, column {exc.colno}") from None


def show(value: Any) -> str:
    """A JSON value as a problem's ``value``: strings as they are, the rest as JSON."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):  # pragma: no cover - json values always dump
        return repr(value)


MISSING: Any = object()


@dataclass
class JsonProblems:
    """Problems of one JSON document (``line`` set for one line of a JSON Lines file)."""

    file: str
    line: int | None = None
    found: list[Problem] = field(default_factory=list)

    def add(self, path: str, message: str, value: Any = MISSING) -> None:
        shown = None if value is MISSING else show(value)
        self.found.append(Problem(self.file, self.line, f"{path}: {message}", value=shown))

    def field(
        self,
        obj: dict[str, Any],
        key: str,
        path: str,
        kind: type | tuple[type, ...] = str,
        *,
        required: bool = True,
        nullable: bool = False,
    ) -> Any:
        """``obj[key]`` checked to be of ``kind``; MISSING (after a problem) when it is not.

        An absent optional field, or null where ``nullable``, gives None.
        """
        where = f"{path}.{key}"
        if key not in obj:
            if required:
                self.add(where, "missing field")
                return MISSING
            return None
        value = obj[key]
        if value is None:
            if nullable or not required:
                return None
            self.add(where, f"is null; expected {_kind_name(kind)}")
            return MISSING
        if isinstance(value, bool) and bool not in _kinds(kind):
            self.add(where, f"expected {_kind_name(kind)}", value)
            return MISSING
        if not isinstance(value, kind):
            self.add(where, f"expected {_kind_name(kind)}", value)
            return MISSING
        if kind is str and not value.strip():
            self.add(where, "is empty", value)
            return MISSING
        return value

    def timestamp(
        self, obj: dict[str, Any], key: str, path: str, *, required: bool = True
    ) -> datetime | Any | None:
        """A JSON timestamp field with a UTC offset; None when absent/null and not required."""
        text = self.field(obj, key, path, str, required=required, nullable=not required)
        if text is None or text is MISSING:
            return text
        try:
            return parse_timestamp(text)
        except ValueError as exc:
            self.add(f"{path}.{key}", str(exc), text)
            return MISSING


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


_KIND_NAMES = {str: "a string", int: "an integer", list: "a list", dict: "an object"}


def _kind_name(kind: type | tuple[type, ...]) -> str:
    return " or ".join(_KIND_NAMES.get(k, k.__name__) for k in _kinds(kind))


def json_lines(text: str) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` for every non-blank line of a JSON Lines file."""
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.strip()
        if line:
            yield number, line


# --- timestamps ------------------------------------------------------------------------------

_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"\s*(?:([Zz])|([+-])(\d{2}):?(\d{2}))?"
)
EXAMPLE = "2025-05-14T07:57:01Z"


def parse_timestamp(text: str, naive_tz: tzinfo | None = None) -> datetime:
    """An ISO 8601 / RFC 3339 timestamp. Without a UTC offset it is local time in ``naive_tz``,
    or an error when no zone is given. Digits past microseconds (Alertmanager writes
    nanoseconds) are dropped. Raises ValueError saying what was expected.
    """
    m = _ISO.fullmatch(text.strip())
    if m is None:
        expected = "ISO 8601" + ("" if naive_tz is not None else " with a UTC offset")
        raise ValueError(f"not a timestamp: expected {expected}, such as {EXAMPLE}")
    return _from_match(m, naive_tz)


def utc_offset(sign: str, hours: int, minutes: int) -> timezone:
    """A timestamp's UTC offset, as RFC 3339 and the incident log's reader take it: hours 00 to
    23, minutes 00 to 59. Never normalised: +00:99 is an error, not +01:39."""
    if minutes > 59:
        raise ValueError(
            f"not a timestamp: the UTC offset's minutes must be below 60 "
            f"({sign}{hours:02d}:{minutes:02d} is not a real offset)"
        )
    if hours > 23:
        raise ValueError(
            f"not a timestamp: the UTC offset is out of range (at most ±23:59, not "
            f"{sign}{hours:02d}:{minutes:02d})"
        )
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(-offset if sign == "-" else offset)


def _from_match(m: re.Match[str], naive_tz: tzinfo | None) -> datetime:
    year, month, day, hour, minute = (int(m.group(i)) for i in range(1, 6))
    second = int(m.group(6) or 0)
    micro = int((m.group(7) or "0")[:6].ljust(6, "0"))
    zone: tzinfo | None
    if m.group(8):
        zone = UTC
    elif m.group(9):
        zone = utc_offset(m.group(9), int(m.group(10)), int(m.group(11)))
    elif naive_tz is not None:
        zone = naive_tz
    else:
        raise ValueError(f"timestamp has no UTC offset; expected one, such as {EXAMPLE}")
    try:
        value = datetime(year, month, day, hour, minute, second, micro, tzinfo=zone)
    except ValueError as exc:
        raise ValueError(f"not a timestamp: {exc}") from None
    if zone is naive_tz and naive_tz is not None:
        value = _real_local_time(value, naive_tz)
    return value


def _real_local_time(value: datetime, zone: tzinfo) -> datetime:
    """A local time in a gap or overlap read by the RFC 5545 rule, as zoneinfo's fold=0 does."""
    try:
        return value.astimezone(UTC).astimezone(zone)
    except OverflowError:  # the first or last hours Python can hold, moved past them
        raise ValueError(f"not a timestamp: {RANGE_MESSAGE}") from None


def parse_timestamp_lenient(text: str, naive_tz: tzinfo) -> datetime:
    """ISO 8601 first, then any other form the incident log's own reader takes
    (:func:`slacalc.dates.instants.parse_datetime`: python-dateutil without guessing, so a form
    whose day and month could swap, or that lacks a date field, a zone name or a bad offset,
    is refused).
    """
    m = _ISO.fullmatch(text.strip())
    if m is not None:
        return _from_match(m, naive_tz)
    try:
        value = parse_datetime(text, naive_tz)
    except (ValueError, OverflowError) as exc:
        raise ValueError(str(exc)) from None
    if value.tzinfo is naive_tz:
        value = _real_local_time(value, naive_tz)
    return value


# --- CSV -------------------------------------------------------------------------------------


def normalise_header(cell: str) -> str:
    """``" Created On "`` -> ``created_on``: how export headers are matched."""
    return re.sub(r"[\s\-]+", "_", cell.strip().lower())


def csv_rows(
    src: SourceFile,
    text: str,
    problems: list[Problem],
    *,
    reads: Collection[str] | None = None,
) -> Iterator[tuple[int, list[str]]]:
    """``(line number, cells)`` of every non-blank CSV row; the header row is line 1's row.

    ``reads``: the (normalised) header names the importer reads; a quoted value spanning lines
    is refused there, and elsewhere too if rows hide in it (None: every column is read). See
    :func:`slacalc.reading.files.quoted_span_problems`, the rule every CSV reader shares."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    read_at: frozenset[int] | None = None
    last = 0
    try:
        for cells in reader:
            line = last + 1
            last = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = [c.strip() for c in cells]
                if reads is not None:
                    names = set(reads)
                    read_at = frozenset(
                        i for i, c in enumerate(cells) if normalise_header(c) in names
                    )
            elif last > line:
                found = quoted_span_problems(src.name, header, line, cells, reads=read_at)
                if found:
                    problems.extend(found)
                    continue
            yield line, cells
    except csv.Error as exc:
        problems.append(Problem(src.name, reader.line_num, f"cannot read CSV: {exc}"))
