"""The incident log as Parquet: the CSV log's columns, read in bulk by pyarrow.

Columns are matched by name, case-insensitively, and only the known ones are read. Text columns
are taken as they are; timestamp columns are written out as ISO 8601 (UTC with ``Z`` when the
column has a zone, local wall clock when it has none, which then means the billing zone, as in
CSV), to the microsecond (finer units are floored, as CSV's extra digits are dropped); numbers
as their shortest exact text (``0.3`` of a float column is ``0.3``). Every cell then goes
through the same rules as a CSV cell. A row's "line" is its 1-based row number.

A file that is not Parquet, is cut short, or holds a known column of a type that cannot be
text (a list, a struct; numbers where timestamps belong) is refused whole, with what it is.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from slacalc.errors import InputError, Problem
from slacalc.model.cells import READ_COLUMNS, REQUIRED, column_of
from slacalc.model.table import RawPart
from slacalc.reading.files import STDIN

_TIMES = frozenset({"start", "end"})


def read_parquet(path: str) -> RawPart:
    """One Parquet incident log's cells."""
    return next(parquet_parts(path))


def parquet_parts(path: str, rows: int | None = None) -> Iterator[RawPart]:
    """A Parquet incident log's cells, ``rows`` rows at a time (all at once when None): a log
    larger than memory is read a batch at a time. At least one part."""
    name = "<stdin>" if path == STDIN else path
    done = 0
    for table in _read_tables(path, name, rows):
        cells = {}
        problems: list[Problem] = []
        for column in READ_COLUMNS:
            field = table.schema.get_field_index(column)
            if field < 0:
                continue
            try:
                cells[column] = column_text(column, table.column(field).combine_chunks())
            except (TypeError, pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                kind = table.schema.field(field).type
                problems.append(Problem(name, None, f"{kind} values: {_reason(exc)}", column))
        if problems:
            raise InputError(problems)
        n = table.num_rows
        yield RawPart(
            name=name, lines=np.arange(done + 1, done + n + 1, dtype=np.int64), cells=cells
        )
        done += n


def wanted_columns(
    parquet: Any, name: str, key_of: Callable[[str], str | None], required: Sequence[str]
) -> dict[str, str]:
    """The columns of an opened Parquet file that ``key_of`` knows (None: not one), by
    the name they stand for: InputError when one is there twice or one of ``required`` is
    missing."""
    names = parquet.schema_arrow.names
    wanted: dict[str, str] = {}
    problems = []
    for actual in names:
        key = key_of(actual)
        if key is None:
            continue
        if key in wanted:
            problems.append(Problem(name, None, f"column '{key}' appears more than once"))
        wanted[key] = actual
    missing = [c for c in required if c not in wanted]
    if missing:
        problems.append(
            Problem(
                name,
                None,
                f"missing required column '{missing[0]}' (columns: "
                f"{', '.join(repr(n) for n in names) or 'none'})",
            )
        )
    if problems:
        raise InputError(problems)
    return wanted


def _read_tables(path: str, name: str, rows: int | None) -> Iterator[pa.Table]:
    """The file's known columns, renamed to their normalised names, whole or ``rows`` rows at
    a time (at least one table); InputError saying why not."""
    with opened(path, name) as parquet:
        wanted = wanted_columns(parquet, name, column_of, REQUIRED)
        columns = list(wanted.values())
        try:
            if rows is None:
                yield parquet.read(columns=columns, use_threads=True).rename_columns(list(wanted))
                return
            empty = True
            for batch in parquet.iter_batches(batch_size=rows, columns=columns):
                empty = False
                yield pa.Table.from_batches([batch]).rename_columns(list(wanted))
            if empty:
                yield (
                    parquet.schema_arrow.empty_table().select(columns).rename_columns(list(wanted))
                )
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise InputError(
                Problem(name, None, f"a damaged Parquet file (cut short?): {_reason(exc)}")
            ) from None


@contextlib.contextmanager
def opened(path: str, name: str) -> Iterator[Any]:
    """A Parquet file (``-``: standard input) as pyarrow's ``ParquetFile``, closed after the
    ``with``; InputError saying why it cannot be read (missing, a folder, not Parquet)."""
    import pyarrow.parquet as pq

    try:
        if path == STDIN:
            stream = getattr(sys.stdin, "buffer", None)
            handle: Any = io.BytesIO(stream.read() if stream is not None else b"")
        else:
            handle = open(path, "rb")  # noqa: SIM115 - closed below, after pyarrow read it
    except FileNotFoundError:
        raise InputError(Problem(name, None, "no such file")) from None
    except IsADirectoryError:
        raise InputError(Problem(name, None, "is a directory, not a Parquet file")) from None
    except OSError as exc:
        raise InputError(Problem(name, None, f"cannot read: {exc.strerror}")) from None
    with handle:
        try:
            parquet = pq.ParquetFile(handle)
        except (pa.ArrowException, OSError, ValueError) as exc:
            handle.seek(0)
            starts_right = handle.read(4) == b"PAR1"
            raise InputError(Problem(name, None, _not_parquet(str(exc), starts_right))) from None
        yield parquet


def _not_parquet(reason: str, starts_right: bool) -> str:
    if "size is 0 bytes" in reason:
        return "empty file: expected a Parquet incident log"
    if starts_right:  # Parquet's opening bytes, but no valid footer: cut short or damaged
        return f"a damaged Parquet file (cut short?): {_reason_of(reason)}"
    if "magic bytes" in reason:
        return (
            "not a Parquet file (no Parquet footer): a CSV or JSON Lines log needs a .csv or "
            ".jsonl name, or --input-format csv|jsonl"
        )
    return f"a damaged Parquet file (cut short?): {_reason_of(reason)}"


def _reason(exc: Exception) -> str:
    return _reason_of(str(exc))


def _reason_of(text: str) -> str:
    return text.split("\n")[0]


def column_text(column: str, col: Any) -> Any:
    """A column as the text a CSV cell would hold (null stays null: an empty cell).

    Raises TypeError for a type that has no text form in ``column``.
    """
    kind = col.type
    if pa.types.is_dictionary(kind):
        col = col.dictionary_decode()
        kind = col.type
    if pa.types.is_null(kind):
        return pa.nulls(len(col), pa.string())
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or _is_view(kind):
        return pc.cast(col, pa.string())
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        try:
            return pc.cast(col, pa.string())
        except pa.ArrowInvalid:
            raise TypeError("not UTF-8 text") from None
    if pa.types.is_timestamp(kind):
        return _timestamp_text(col)
    if pa.types.is_date(kind):
        return pc.strftime(pc.cast(col, pa.timestamp("s")), format="%Y-%m-%d")
    number = (
        pa.types.is_floating(kind)
        or pa.types.is_integer(kind)
        or pa.types.is_decimal(kind)
        or pa.types.is_boolean(kind)
    )
    if number and column in _TIMES:
        raise TypeError("expected timestamps, or ISO 8601 text such as 2025-05-14T07:57:01+08:00")
    if pa.types.is_floating(kind):
        values = col.to_numpy(zero_copy_only=False)
        valid = np.asarray(col.is_valid())
        return pa.array(
            [
                np.format_float_positional(v, unique=True, trim="-") if ok else None
                for v, ok in zip(values, valid, strict=True)
            ],
            pa.string(),
        )
    if number:
        return pc.cast(col, pa.string())
    raise TypeError("expected text, timestamps or numbers")


def _timestamp_text(col: Any) -> Any:
    """ISO 8601 text of a timestamp column, to the microsecond (finer units floored)."""
    kind = col.type
    if kind.unit == "ns":
        ns = np.asarray(pc.cast(col, pa.int64()).fill_null(0))
        col = pa.array(ns // 1000, pa.int64(), mask=~np.asarray(col.is_valid())).cast(
            pa.timestamp("us", kind.tz)
        )
    elif kind.unit != "us":
        col = pc.cast(col, pa.timestamp("us", kind.tz))
    if kind.tz is not None:
        col = pc.cast(col, pa.timestamp("us", "UTC"))
    # %S writes the microseconds too; whole seconds read better without ".000000".
    text = pc.replace_substring_regex(
        pc.strftime(col, format="%Y-%m-%dT%H:%M:%S"), pattern=r"\.0{6}$", replacement=""
    )
    return text if kind.tz is None else pc.binary_join_element_wise(text, "Z", "")


def _is_view(kind: Any) -> bool:
    check = getattr(pa.types, "is_string_view", None)
    return bool(check and check(kind))
