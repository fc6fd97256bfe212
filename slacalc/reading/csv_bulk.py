"""The CSV incident log read in bulk by pyarrow's multithreaded CSV reader, a piece at a time.

It takes a file only when it can vouch that pyarrow sees exactly the rows and cells Python's
csv module would, with each row's line number its index plus two: no blank lines, no lone
carriage returns, no quoted cell spanning lines, no line longer than a cell may be. Anything
else goes to :mod:`slacalc.reading.csv_rows`, which takes a quoted value spanning lines only
where :func:`slacalc.reading.files.quoted_span_problems` allows it: so a log with a quote that
swallows rows gets the same error at any size. Either way the cells go to the same
:func:`slacalc.model.table.build_table`, so the choice changes the speed, never the result.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

from slacalc import speed
from slacalc.model.cells import MAX_CELL, READ_COLUMNS, header_columns
from slacalc.model.table import RawPart
from slacalc.reading.files import CsvFile, release

# Below this many bytes the row reader is as fast.
MIN_BYTES = 1 << 20
_BLOCK = 16 << 20  # bytes scanned at a time: the checks never hold a copy of a whole file
# Bytes of the file typed at a time: a large log is never held as text whole, only its typed
# table grows. Pieces are typed two at a time, on two threads.
PIECE_BYTES = 16 << 20


class NotBulk(Exception):
    """pyarrow read the file otherwise than Python's csv module would: the row reader reads it."""


def bulk_pieces(
    f: CsvFile,
    piece_bytes: int | None = None,
    columns: tuple[str, ...] = READ_COLUMNS,
    *,
    meanwhile: bool = False,
    coded: Collection[str] = (),
) -> Iterator[RawPart] | None:
    """The cells (of ``columns``: an incident log's by default) of an opened CSV file through
    pyarrow, a piece of about ``piece_bytes`` (default :data:`PIECE_BYTES`) at a time; None
    when the checks show the row reader must read it. The pieces raise :class:`NotBulk` if
    pyarrow's rows turn out to differ after all (nothing is lost: the file is still open and is
    read again by the row reader). The columns among ``coded`` come as dictionary arrays when
    :func:`slacalc.speed.coded_cells` says so (pyarrow's reader threads number the distinct
    words as they parse), the others as string arrays.

    With ``meanwhile`` (for a caller that reads the file whole and drops every piece on
    :class:`NotBulk`), the checks (a scan of the whole file) run on a thread of their own
    while pyarrow reads, instead of before it, and the last piece raises :class:`NotBulk` if
    they fail (4-7 % of a 200k-1M-row report); and a file of up to
    :data:`slacalc.speed.WHOLE_FILE_BYTES` is parsed as one piece by pyarrow's multithreaded
    reader (:func:`slacalc.speed.parse_whole`)."""
    size = piece_bytes or PIECE_BYTES
    if not meanwhile:
        shape = _shape(f.data)
        if shape is None:
            return None
        return _pieces(f, lambda: shape, size, columns, coded)
    checked = speed.meanwhile(partial(_shape, f.data))
    if speed.parse_whole(len(f.data)):
        return _whole(f, checked, columns, coded)
    return _pieces(f, checked, size, columns, coded, split=True)


def _options(
    f: CsvFile, columns: tuple[str, ...], coded: Collection[str], **read: Any
) -> tuple[dict[str, Any], Any]:
    """pyarrow's options for reading ``columns`` of ``f`` as text cells exactly as written (the
    header is the file's own, so columns are taken by position; those of ``coded`` as
    dictionaries of their words, when :func:`slacalc.speed.coded_cells`), and the columns'
    positions."""
    wanted = header_columns(f.name, f.header, columns)
    words = pa.dictionary(pa.int32(), pa.string()) if speed.coded_cells() else pa.string()
    options = {
        "read_options": pcsv.ReadOptions(
            column_names=[f"c{i}" for i in range(len(f.header))],
            use_threads=True,
            encoding="utf8",
            **{"skip_rows": 1, **read},
        ),
        "parse_options": pcsv.ParseOptions(
            quote_char='"',
            double_quote=True,
            newlines_in_values=False,
            ignore_empty_lines=False,
        ),
        "convert_options": pcsv.ConvertOptions(
            column_types={f"c{i}": words if c in coded else pa.string() for c, i in wanted.items()},
            include_columns=[f"c{i}" for i in wanted.values()],
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    }
    return options, wanted


def _whole(
    f: CsvFile,
    shape: Callable[[], _Shape | None],
    columns: tuple[str, ...],
    coded: Collection[str],
) -> Iterator[RawPart]:
    """The file's cells as one piece, parsed by pyarrow's multithreaded reader."""
    options, wanted = _options(f, columns, coded)
    try:
        table = pcsv.read_csv(pa.BufferReader(pa.py_buffer(f.data)), **options)
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        raise NotBulk from exc
    release(f.data)  # the bytes are cells now
    checked = shape()
    n = table.num_rows
    if checked is None or n != checked.rows:
        raise NotBulk  # some line was not a row as Python reads it: let the row reader say why
    if n:
        # the columns as pyarrow's threads parsed them, in chunks: each half of the typing joins
        # its own share, on its own thread
        cells = {c: table.column(f"c{i}") for c, i in wanted.items()}
        yield RawPart(name=f.name, lines=np.arange(2, n + 2, dtype=np.int64), cells=cells)


def _pieces(
    f: CsvFile,
    shape: Callable[[], _Shape | None],
    piece_bytes: int,
    columns: tuple[str, ...],
    coded: Collection[str],
    *,
    split: bool = False,
) -> Iterator[RawPart]:
    """The file's cells a piece at a time, in order, from pyarrow's streaming reader (which
    parses one block at a time). With ``split`` (a caller that holds every piece), the second
    half of the file, from a line start, is parsed by a reader of its own on a thread of its
    own while the first half's pieces are typed: parsing is no longer one core's work."""
    data = pa.py_buffer(f.data)
    cut = _middle(f.data) if split and speed.THREADS > 1 else None
    options, wanted = _options(f, columns, coded, block_size=piece_bytes)
    if cut is None:
        halves = [_batches(data, options)]
    else:
        rest, _ = _options(f, columns, coded, block_size=piece_bytes, skip_rows=0)
        first_rows = speed.meanwhile(partial(_rows_before, f.data, cut))
        halves = [
            _batches(data.slice(0, cut), options),
            speed.ahead(_batches(data.slice(cut), rest)),
        ]
    done = 0
    try:
        for half, batches in enumerate(halves):
            if half:
                done = first_rows()
            for batch in batches:
                if cut is None:  # (with two readers, one's pages may be the other's next block)
                    release(f.data)  # the piece's bytes are cells now
                n = batch.num_rows
                if not n:
                    continue
                cells = {c: batch.column(f"c{i}") for c, i in wanted.items()}
                lines = np.arange(done + 2, done + n + 2, dtype=np.int64)
                done += n
                yield RawPart(name=f.name, lines=lines, cells=cells)
    finally:
        for batches in halves:  # a reader still parsing ahead stops
            close = getattr(batches, "close", None)
            if close is not None:
                close()
    release(f.data)
    checked = shape()
    if checked is None or done != checked.rows:
        raise NotBulk  # some line was not a row as Python reads it: let the row reader say why


def _batches(data: Any, options: dict[str, Any]) -> Iterator[Any]:
    """The record batches of pyarrow's streaming reader; :class:`NotBulk` if it stumbles."""
    try:
        reader = pcsv.open_csv(pa.BufferReader(data), **options)
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        raise NotBulk from exc
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            return
        except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
            raise NotBulk from exc
        yield batch


def _middle(data: Any) -> int | None:
    """The offset of the first line start at or after the middle of ``data`` (None: none)."""
    at = data.find(b"\n", len(data) // 2)
    return at + 1 if 0 <= at < len(data) - 1 else None


def _rows_before(data: Any, cut: int) -> int:
    """How many data rows (lines after the header) end before offset ``cut``, a line start."""
    raw = np.frombuffer(data, dtype=np.uint8, count=cut)
    breaks = sum(int(np.count_nonzero(raw[lo : lo + _BLOCK] == 10)) for lo in range(0, cut, _BLOCK))
    return breaks - 1


@dataclass
class _Shape:
    rows: int  # data rows (lines after the header)


def _shape(data: Any) -> _Shape | None:
    """The number of data rows, if pyarrow and Python's csv module read ``data`` alike line for
    line; None otherwise. Scanned a block at a time."""
    raw = np.frombuffer(data, dtype=np.uint8)
    size = len(raw)
    newlines = 0
    carriage = 0
    crlf = 0
    quotes_open = False  # an odd number of quotes so far: a quoted cell runs on
    last_break = -1  # offset of the previous line break
    longest = 0
    first_break = -1
    for lo in range(0, size, _BLOCK):
        block = raw[lo : lo + _BLOCK]
        breaks = np.flatnonzero(block == 10)
        breaks += lo
        # carriage returns and quotes are looked for first (at memchr's speed): most logs have
        # neither, and their work is skipped
        returns = data.find(b"\r", max(lo - 2, 0), lo + _BLOCK) >= 0
        if returns:
            cr = np.flatnonzero(block == 13) + lo
            carriage += len(cr)
            if len(cr):
                after = cr + 1
                inside = after < size
                crlf += int(np.count_nonzero(raw[after[inside]] == 10))
        if len(breaks):
            if first_break < 0:
                first_break = int(breaks[0])
            gaps = np.diff(breaks, prepend=last_break)
            longest = max(longest, int(gaps.max()))
            # blank lines: a break right after a break, or after a "\r" that follows one
            if np.any((gaps == 1) & (breaks > 0)):
                return None
            if returns:
                prev = raw[np.maximum(breaks - 1, 0)]
                two_back = raw[np.maximum(breaks - 2, 0)]
                if np.any((prev == 13) & (two_back == 10) & (breaks > 1)):
                    return None
            last_break = int(breaks[-1])
            newlines += len(breaks)
        quotes = (
            np.flatnonzero(block == 34)
            if data.find(b'"', lo, lo + _BLOCK) >= 0
            else np.zeros(0, dtype=np.intp)
        )
        if len(quotes):
            # every line must close the quotes it opens: an even count before each break
            counts = np.searchsorted(quotes + lo, breaks) if len(breaks) else np.zeros(0)
            parity = (counts + int(quotes_open)) % 2
            if len(breaks) and parity.any():
                return None
            if not _quotes_in_place(raw, quotes + lo, int(quotes_open)):
                return None
            quotes_open = (len(quotes) + int(quotes_open)) % 2 == 1
        elif quotes_open and len(breaks):
            return None
        release(data)
    if quotes_open or carriage != crlf:
        return None  # a quote never closed, or a lone CR (a row end for one reader only)
    longest = max(longest, size - 1 - last_break)
    if longest > MAX_CELL:
        return None  # a line (so maybe a cell) longer than a cell may be: the row reader says
    if first_break < 0 or first_break + 1 >= size:
        return _Shape(0)
    ends_with_break = raw[-1] == 10
    return _Shape(newlines - 1 + (0 if ends_with_break else 1))


_BOM = b"\xef\xbb\xbf"
# The bytes a quote may follow when it opens a cell (a comma, a line end, a closing quote), and
# those it may come before when it closes one (a comma, a line end, an opening quote).
_BEFORE_OPENING = np.isin(np.arange(256), [44, 10, 34])
_AFTER_CLOSING = np.isin(np.arange(256), [44, 10, 13, 34])


def _quotes_in_place(raw: Any, at: Any, before: int) -> bool:
    """Whether each quote at offsets ``at`` (with ``before`` quotes, mod 2, since its line
    began) is where a quote of CSV syntax may be: an opening one (an even count before it) at
    the start of a cell, or right after a closing one (a doubled quote); a closing one (an odd
    count) before a comma, a line end, the end of the data or another quote (doubled).

    Then the quotes pair off as Python's csv module reads them, and an even count on every
    line proves that no quoted value spans lines. A quote that fails this (text such as
    ``5"`` or ``x"y`` in an unquoted cell, which Python reads as text) could shift the pairing
    and hide a value spanning lines behind even counts: the row reader reads such a file."""
    size = len(raw)
    opening, closing = at[before % 2 :: 2], at[1 - before % 2 :: 2]
    if len(opening):
        first = int(opening[0])  # the start of the data (after a BOM) is a cell's start
        data_start = first == 0 or (first == 3 and bytes(raw[:3]) == _BOM)
        if not _BEFORE_OPENING[raw[opening[int(data_start) :] - 1]].all():
            return False
    if len(closing):
        last = int(closing[-1])  # a quote that ends the data closes its cell
        inside = closing[:-1] if last == size - 1 else closing
        if not _AFTER_CLOSING[raw[inside + 1]].all():
            return False
    return True
