"""The incident log as Parquet: the CSV log's columns, read in bulk by pyarrow.

Columns are matched by name, case-insensitively. Text columns are taken as they are; timestamp
columns are written out as ISO 8601 (UTC with ``Z`` when the column has a zone, local wall
clock when it has none, which then means the billing zone, as in CSV); numbers as their
shortest exact text. Every cell then goes through the same rules as a CSV cell. A row's "line"
is its 1-based row number.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from slacalc.errors import InputError, Problem
from slacalc.reading.cells import COLUMNS, REQUIRED
from slacalc.reading.files import STDIN
from slacalc.reading.table import RawPart


def read_parquet(path: str) -> RawPart:
    """One Parquet incident log's cells."""
    import pyarrow.parquet as pq

    name = "<stdin>" if path == STDIN else path
    try:
        if path == STDIN:
            import sys

            table = pq.read_table(pa.BufferReader(sys.stdin.buffer.read()))
        else:
            table = pq.read_table(path)
    except FileNotFoundError:
        raise InputError(Problem(name, None, "no such file")) from None
    except IsADirectoryError:
        raise InputError(Problem(name, None, "is a directory, not a Parquet file")) from None
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        raise InputError(Problem(name, None, f"not a readable Parquet file: {exc}")) from None
    by_name = {}
    for field in table.schema:
        key = field.name.strip().lower()
        if key in by_name and key in COLUMNS:
            raise InputError(Problem(name, None, f"column '{key}' appears more than once"))
        by_name.setdefault(key, field.name)
    missing = [c for c in REQUIRED if c not in by_name]
    if missing:
        raise InputError(
            Problem(
                name,
                None,
                f"missing required column '{missing[0]}' (columns: "
                f"{', '.join(repr(f) for f in table.column_names)})",
            )
        )
    cells = {}
    problems: list[Problem] = []
    for c in COLUMNS:
        if c in by_name:
            try:
                cells[c] = as_text(table.column(by_name[c]).combine_chunks())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError) as exc:
                problems.append(Problem(name, None, f"cannot read as text: {exc}", c))
    n = table.num_rows
    return RawPart(
        name=name, lines=np.arange(1, n + 1, dtype=np.int64), cells=cells, problems=problems
    )


def as_text(col: Any) -> Any:
    """A column as the text a CSV cell would hold (null stays null: an empty cell)."""
    kind = col.type
    if pa.types.is_dictionary(kind):
        col = col.dictionary_decode()
        kind = col.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return pc.cast(col, pa.string())
    if pa.types.is_timestamp(kind):
        us = pc.cast(col, pa.timestamp("us", kind.tz)) if kind.unit != "us" else col
        if kind.tz is not None:
            us = pc.cast(us, pa.timestamp("us", "UTC"))
            text = pc.strftime(us, format="%Y-%m-%dT%H:%M:%S")
            return pc.binary_join_element_wise(text, "Z", "")
        return pc.strftime(us, format="%Y-%m-%dT%H:%M:%S")
    if pa.types.is_date(kind):
        return pc.strftime(pc.cast(col, pa.timestamp("s")), format="%Y-%m-%d")
    if pa.types.is_floating(kind):
        values = [None if v is None else repr(float(v)) for v in col.to_pylist()]
        return pa.array(values, pa.string())
    if pa.types.is_integer(kind) or pa.types.is_decimal(kind) or pa.types.is_boolean(kind):
        return pc.cast(col, pa.string())
    raise TypeError(f"a {kind} column")
