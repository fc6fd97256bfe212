"""The CSV incident log read in bulk by pyarrow's multithreaded CSV reader.

It takes a file only when it can vouch that pyarrow sees exactly the rows and cells Python's csv
module would, with each row's line number its index plus two: no blank lines, no lone carriage
returns, no quoted cell spanning lines, no line longer than a cell may be. Anything else returns
None and :mod:`slacalc.reading.csv_rows` reads the file. Either way the cells go to the same
:func:`slacalc.reading.table.build_table`, so the choice changes the speed, never the result.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

from slacalc.reading.cells import COLUMNS, MAX_CELL
from slacalc.reading.files import CsvFile
from slacalc.reading.table import RawPart

# Below this many bytes the row reader is as fast.
MIN_BYTES = 1 << 20


def read_csv_bulk(f: CsvFile) -> RawPart | None:
    """The cells of an opened CSV file through pyarrow, or None when the row reader must read it.

    ``f.data`` is released once pyarrow has the file, so a large log is not held twice.
    """
    data: bytes = f.data
    if not _plain(data):
        return None
    body_start = _body_start(data)
    lines = 0
    if body_start < len(data):
        lines = data.count(b"\n", body_start) + (0 if data.endswith(b"\n") else 1)
    width = len(f.header)
    names = [f"c{i}" for i in range(width)]
    wanted = {c: i for c in COLUMNS if (i := f.column(c)) is not None}
    source = pa.py_buffer(data)
    f.data = b""
    try:
        table = pcsv.read_csv(
            pa.BufferReader(source),
            read_options=pcsv.ReadOptions(
                column_names=names,
                skip_rows=1,
                use_threads=True,
                block_size=4 << 20,
                encoding="utf8",
            ),
            parse_options=pcsv.ParseOptions(
                quote_char='"',
                double_quote=True,
                newlines_in_values=False,
                ignore_empty_lines=False,
            ),
            convert_options=pcsv.ConvertOptions(
                column_types={f"c{i}": pa.string() for i in wanted.values()},
                include_columns=[f"c{i}" for i in wanted.values()],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException, OSError):
        f.data = data
        return None
    del source
    n = table.num_rows
    if n != lines:
        f.data = data
        return None  # some line was not a row as Python reads it: let the row reader say why
    cells = {c: table.column(f"c{i}").combine_chunks() for c, i in wanted.items()}
    del table
    return RawPart(name=f.name, lines=np.arange(2, n + 2, dtype=np.int64), cells=cells)


def _body_start(data: bytes) -> int:
    """The offset just after the header line."""
    end = data.find(b"\n")
    return len(data) if end < 0 else end + 1


def _plain(data: bytes) -> bool:
    """Whether pyarrow and Python's csv module read ``data`` alike, line for line."""
    if b"\n\n" in data or b"\n\r\n" in data or data.endswith(b"\n\r"):
        return False  # blank lines: Python skips them but counts them
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return False  # a lone CR ends a row for one reader and not for the other
    if len(data) <= MAX_CELL:
        return b'"' not in data or _quotes_close_on_their_line(data)
    return _short_lines(data) and (b'"' not in data or _quotes_close_on_their_line(data))


def _short_lines(data: bytes) -> bool:
    """No line is longer than a cell may be (so no cell is)."""
    raw = np.frombuffer(data, dtype=np.uint8)
    breaks = np.flatnonzero(raw == 10)
    edges = np.concatenate([[-1], breaks, [len(raw)]])
    return bool(np.diff(edges).max() <= MAX_CELL)


def _quotes_close_on_their_line(data: bytes) -> bool:
    """Every line holds an even number of quotes: no quoted cell runs on to the next line."""
    raw = np.frombuffer(data, dtype=np.uint8)
    quotes = np.flatnonzero(raw == 34)
    breaks: Any = np.flatnonzero(raw == 10)
    before = np.searchsorted(quotes, breaks)  # quotes before each line break
    if len(before) and (before % 2).any():
        return False
    return len(quotes) % 2 == 0
