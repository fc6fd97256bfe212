"""The incident log as JSON Lines: one object per line, the CSV log's columns as keys.

Keys are matched like CSV headers (case-insensitively, surrounding spaces ignored; unknown keys
are ignored). Values are strings, numbers (read as written: ``0.3`` stays exactly 0.3) or null
(an empty cell); ``start`` and ``end`` are timestamps written as strings. Every line that breaks
one of these rules is a ``FILE:LINE`` problem, and the cells of the others go to
:func:`slacalc.model.table.build_table` like every other reader's, so a bad value gets the
same message it would get in a CSV file. An empty file is a log of no incidents.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from slacalc.errors import Problem
from slacalc.model.cells import MAX_CELL, READ_COLUMNS, REQUIRED, ZONE, column_of
from slacalc.model.table import RawPart
from slacalc.reading.files import read_bytes

# Longer than any line of real incident text: a runaway line is refused before it is parsed.
MAX_LINE = 16 * MAX_CELL
# The columns that hold instants: JSON has no timestamp type, so only text is taken there.
_TIMES = frozenset({"start", "end"})


class _Number(str):
    """A JSON number, kept as the text it was written as (exact: no binary float)."""


class _Object(list):
    """A JSON object as its (key, value) pairs in order: a key written twice stays visible."""


def read_jsonl(path: str) -> RawPart:
    """One JSON Lines incident log's cells, with each object's line number."""
    part = read_json_lines(
        path,
        READ_COLUMNS,
        key_of=column_of,
        required=REQUIRED,
        example='{"start": "2025-05-14T07:57:01+08:00"}',
        what="JSON Lines incident log",
    )
    if not pc.any(pc.greater(pc.binary_length(part.cells[ZONE]), 0)).as_py():
        del part.cells[ZONE]  # no line gives a zone: the log has no zone column
    return part


def read_json_lines(
    path: str,
    columns: Sequence[str],
    *,
    key_of: Callable[[str], str | None],
    required: Sequence[str] = (),
    example: str,
    what: str = "JSON Lines file",
) -> RawPart:
    """One JSON Lines file's cells of ``columns`` (each object's keys matched by ``key_of``:
    None, not a column), by the incident log's rules, with each object's line number. Every
    object lacks none of ``required``; ``example`` is an object such a line holds, and
    ``what`` the kind of file, for the problems."""
    name, data = read_bytes(path)
    text = data.decode("utf-8-sig")
    cells_of: dict[str, list[str]] = {c: [] for c in columns}
    lines: list[int] = []
    problems: list[Problem] = []
    rules = _Rules(key_of, required, example, what)
    # Lines end at LF (CRLF too) and only there: JSON strings may hold U+2028 and friends,
    # which str.splitlines would take for line ends.
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw[:-1] if raw.endswith("\r") else raw
        if not line.strip():
            continue
        cells = _cells(line, name, number, problems, rules)
        if cells is None:
            continue
        lines.append(number)
        for c in columns:
            cells_of[c].append(cells.get(c, ""))
    return RawPart(
        name=name,
        lines=np.array(lines, dtype=np.int64),
        cells={c: pa.array(v, pa.string()) for c, v in cells_of.items()},
        problems=problems,
    )


@dataclass(frozen=True)
class _Rules:
    key_of: Callable[[str], str | None]
    required: Sequence[str]
    example: str
    what: str


def _cells(
    line: str, name: str, number: int, problems: list[Problem], rules: _Rules
) -> dict[str, str] | None:
    """The known cells of one line as text, or None after recording why the line is unusable."""

    def problem(message: str, column: str | None = None, value: str | None = None) -> None:
        problems.append(Problem(name, number, message, column, value))

    if len(line) > MAX_LINE:
        problem(f"a line longer than {MAX_LINE} characters: is this a {rules.what}?")
        return None
    try:
        obj = json.loads(
            line,
            parse_float=_Number,
            parse_int=_Number,
            parse_constant=_constant,
            object_pairs_hook=_Object,
        )
    except RecursionError:
        problem("not JSON: nested too deeply")
        return None
    except json.JSONDecodeError as exc:
        problem(f"not JSON: {exc.msg} at column {exc.colno}; each line must be one JSON object")
        return None
    except ValueError as exc:
        problem(f"not JSON: {exc}")
        return None
    if not isinstance(obj, _Object):
        problem(
            f"expected a JSON object such as {rules.example}, got {_kind(obj)}",
            value=_shown(obj),
        )
        return None
    cells: dict[str, str] = {}
    seen: set[str] = set()
    ok = True
    for key, value in obj:
        column = rules.key_of(key)
        if column is None:
            continue  # unknown keys are ignored, as unknown CSV columns are
        if column in seen:
            problem("appears more than once in the object", column)
            ok = False
            continue
        seen.add(column)
        text = _text(column, value)
        if text is None:
            expected = "a timestamp as a string" if column in _TIMES else "a string or a number"
            problem(f"expected {expected}, not {_kind(value)}", column, _shown(value))
            ok = False
            continue
        cells[column] = text
    for column in rules.required:
        if column not in cells and column not in seen:
            problem(
                f"missing field '{column}': every incident needs one, "
                'such as "start": "2025-05-14T07:57:01+08:00"'
            )
            ok = False
    return cells if ok else None


def _text(column: str, value: Any) -> str | None:
    """A value as the text a CSV cell would hold; None when its JSON type is wrong there."""
    if value is None:
        return ""
    if isinstance(value, _Number):
        return None if column in _TIMES else str(value)
    if isinstance(value, str):
        return value
    return None  # true/false, an object, a list


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if value is True or value is False:
        return "a boolean"
    if isinstance(value, _Number):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, _Object):
        return "an object"
    return "a list"


def _shown(value: Any) -> str:
    """A JSON value as a problem's ``value``: what the line holds there, as JSON."""
    if isinstance(value, str):  # numbers too: their text as written
        return str(value)
    try:
        return json.dumps(_plain(value), ensure_ascii=False)
    except RecursionError:
        return "[nested too deeply to show]"


def _plain(value: Any) -> Any:
    """A parsed value back as plain JSON values (numbers as floats: for display only)."""
    if isinstance(value, _Number):
        return int(value) if value.lstrip("-").isdigit() else float(value)
    if isinstance(value, _Object):
        return {k: _plain(v) for k, v in value}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _constant(text: str) -> str:
    raise ValueError(f"{text} is not a number JSON allows")
