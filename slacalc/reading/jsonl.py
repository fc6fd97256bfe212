"""The incident log as JSON Lines: one object per line, the CSV log's columns as keys.

Values may be strings, numbers (read as written: ``0.3`` stays exactly 0.3) or null (empty). A
line that is not a JSON object is a ``FILE:LINE`` problem; the cells then go to
:func:`slacalc.reading.table.build_table` like every other reader's.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa

from slacalc.errors import InputError, Problem
from slacalc.reading.cells import COLUMNS, MAX_CELL, REQUIRED
from slacalc.reading.files import read_bytes
from slacalc.reading.table import RawPart


def read_jsonl(path: str) -> RawPart:
    """One JSON Lines incident log's cells, with each object's line number."""
    name, data = read_bytes(path)
    text = data.decode("utf-8-sig")
    if not text.strip():
        raise InputError(
            Problem(
                name,
                None,
                "empty file: expected one JSON object per line, "
                f"with at least {', '.join(repr(c) for c in REQUIRED)}",
            )
        )
    columns: dict[str, list[str]] = {c: [] for c in COLUMNS}
    lines: list[int] = []
    problems: list[Problem] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if len(line) > 16 * MAX_CELL:
            problems.append(Problem(name, number, "a line longer than a JSON incident can be"))
            continue
        try:
            obj = json.loads(line, parse_float=str, parse_int=str, parse_constant=_constant)
        except (ValueError, RecursionError) as exc:
            problems.append(Problem(name, number, f"not JSON: {_reason(exc)}"))
            continue
        if not isinstance(obj, dict):
            problems.append(
                Problem(
                    name,
                    number,
                    f'expected a JSON object {{"start": ...}}, got {type(obj).__name__}',
                )
            )
            continue
        cells = {str(k).strip().lower(): v for k, v in obj.items()}
        bad = False
        for c in COLUMNS:
            value = cells.get(c)
            if isinstance(value, (dict, list)):
                problems.append(
                    Problem(
                        name,
                        number,
                        "expected text or a number, not "
                        f"{'an object' if isinstance(value, dict) else 'a list'}",
                        c,
                    )
                )
                bad = True
        if "start" not in cells:
            problems.append(Problem(name, number, "missing key 'start'"))
            bad = True
        if bad:
            continue
        lines.append(number)
        for c in COLUMNS:
            value = cells.get(c)
            columns[c].append(
                ""
                if value is None
                else ("true" if value is True else "false" if value is False else str(value))
            )
    present = {c: pa.array(v, pa.string()) for c, v in columns.items()}
    return RawPart(
        name=name, lines=np.array(lines, dtype=np.int64), cells=present, problems=problems
    )


def _constant(text: str) -> str:
    raise ValueError(f"{text} is not a number JSON allows")


def _reason(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return str(exc).split(":")[0]
