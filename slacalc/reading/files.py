"""Reading input files the way real exports come: BOM or not, CRLF or LF, stdin, odd headers.

CSV is read strictly: a quote left open is an error on the line where it opened, never a cell
that silently swallows the rest of the file, and a quote closed lines later is never a cell that
silently swallows the rows in between (:func:`quoted_span_problems`, the one rule every CSV
reader applies).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import stat
import sys
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from slacalc import speed
from slacalc.errors import InputError, Problem
from slacalc.model.cells import MAX_CELL

STDIN = "-"
MAX_FILE_BYTES = 16 << 30  # a guard against reading a device or a runaway pipe whole

csv.field_size_limit(MAX_CELL)

# The files a command has read so far (while tracking_inputs is active): its output must never
# overwrite one of them.
_INPUTS: ContextVar[list[str] | None] = ContextVar("slacalc_inputs", default=None)


@contextlib.contextmanager
def tracking_inputs() -> Iterator[list[str]]:
    """Remember every file read inside the block (see :func:`note_input`)."""
    token = _INPUTS.set([])
    try:
        yield _INPUTS.get()  # type: ignore[misc]
    finally:
        _INPUTS.reset(token)


def note_input(path: str) -> None:
    """Record ``path`` as an input of the running command (no-op outside tracking_inputs)."""
    found = _INPUTS.get()
    if found is not None and path != STDIN:
        found.append(path)


def read_small_text(path: str, *, limit: int, what: str, name: str | None = None) -> str:
    """A small whole file (an issuer, a map, a list of ids) as text: at most ``limit`` bytes,
    UTF-8 (BOM or not); each way it cannot be read is an InputError naming ``name`` (default
    the path) and, for ``what`` it should have been, e.g. "an issuer file (TOML)"."""
    from slacalc.errors import printable

    name = name or printable(path)
    note_input(path)  # -o never overwrites it
    if "\x00" in path:
        raise InputError(Problem(name, None, "a path cannot hold a NUL character"))
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except FileNotFoundError:
        raise InputError(Problem(name, None, "no such file")) from None
    except IsADirectoryError:
        raise InputError(Problem(name, None, f"is a folder, not {what}")) from None
    except OSError as exc:
        raise InputError(Problem(name, None, f"cannot read: {exc.strerror}")) from None
    if len(data) > limit:
        size = f"{limit >> 20} MiB" if limit >= 1 << 20 else f"{limit >> 10} KiB"
        raise InputError(Problem(name, None, f"larger than {size}; is it {what}?"))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(Problem(name, line, "not UTF-8 text; save the file as UTF-8")) from None


def inputs_read() -> list[str]:
    """The inputs recorded so far by the running command."""
    return list(_INPUTS.get() or ())


@dataclass
class CsvFile:
    """An input CSV: its display name, normalised header and rows with their own line numbers.

    The rows are decoded and split lazily from the file's bytes, so a large log is never held
    in memory twice over as text.
    """

    name: str
    header: list[str]
    data: Any  # bytes, or a read-only memory map of a large file
    # Called now and then with (bytes read, bytes in all) while rows are read: a progress hook.
    on_progress: Callable[[int, int], None] | None = None
    # Indexes of the columns slacalc reads (None: every column), for quoted_span_problems.
    reads: frozenset[int] | None = None

    def column(self, name: str) -> int | None:
        """Index of a (normalised) column, or None when the file does not have it."""
        try:
            return self.header.index(name)
        except ValueError:
            return None

    def rows(
        self, *, skip_blank: bool = True, problems: list[Problem] | None = None
    ) -> Iterator[tuple[int, int, list[str]]]:
        """Yield ``(line, last_line, cells)`` for every data row (blank lines skipped; rows of
        only separators too unless ``skip_blank`` is false).

        Line numbers are the file's own: the header is line 1, and a quoted cell spanning lines
        gives its row the number of the line it starts on and ``last_line`` the one it ends on.
        A quote that is never closed properly is an :class:`InputError` on the line it opened.
        A row whose quoted value spans lines where :func:`quoted_span_problems` refuses it is
        not yielded: its problems go to ``problems``, or without that list are raised together
        as an :class:`InputError` after the last row (so no caller ever takes a swallowed row).
        """
        raw = _byte_stream(self.data)
        stream = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        reader = csv.reader(stream, strict=True)
        progress, total = self.on_progress, len(self.data)
        reported = False  # a small file never shows a progress bar, not even a full one
        spans: list[Problem] = [] if problems is None else problems
        line = last = 1
        try:
            next(reader)
            last = reader.line_num
            for cells in reader:
                line = last + 1
                last = reader.line_num
                if last > line:  # a quoted value spans lines: rows may hide inside it
                    found = quoted_span_problems(
                        self.name, self.header, line, cells, reads=self.reads
                    )
                    if found:
                        spans.extend(found)
                        continue
                if not line & 0xFFFF:
                    release(self.data)
                    if progress is not None:
                        progress(raw.tell(), total)
                        reported = True
                if not cells:
                    continue
                if skip_blank and not cells[0].strip() and not any(c.strip() for c in cells):
                    continue  # only separators (",,," from spreadsheet exports)
                yield line, last, cells
            if progress is not None and reported:
                progress(total, total)
            if problems is None and spans:
                raise InputError(spans)
        except csv.Error as exc:
            raise InputError(
                Problem(self.name, last + 1, csv_problem(exc, last + 1, reader.line_num))
            ) from None
        except UnicodeDecodeError as exc:
            raise InputError(Problem(self.name, last + 1, f"not UTF-8: {exc.reason}")) from None


_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # as the CSV readers count lines


def quoted_span_problems(
    file: str,
    header: Sequence[str],
    line: int,
    cells: Sequence[str],
    *,
    reads: Collection[int] | None = None,
) -> list[Problem]:
    r"""The problems of a CSV row that starts on ``line`` and holds quoted values that span
    lines; ``[]`` when it may be read. The one rule of every CSV reader (incident logs in rows
    or in bulk, contracts, disputes, holidays, vendor exports):

    A quote that opens a value and closes lines later (``"INC-1`` on line 2, ``...,x"`` at
    the end of line 21) is valid CSV, and every line in between becomes part of the value:
    rows silently vanish. So a value holding a line break is a problem on the line where it
    opened, naming the line where it closed, when

    - its column is one slacalc reads (``reads``: indexes into ``header``; None: every column):
      no timestamp, id, name, level or amount spans lines; or else
    - read with its line breaks as row ends, its row would split into rows: a line between
      the first and the last has as many cells as the header or more, or the first line and
      the last one both have; or else
    - its row does not have the header's width (cells past it that are blank aside).

    Free text that spans lines in a column slacalc ignores (a description, notes) is taken.

    >>> quoted_span_problems("log.csv", ["start", "notes"], 2, ["2025-05-01", "a\nb"], reads=[0])
    []
    >>> [p.message[:41] for p in quoted_span_problems("log.csv", ["start", "id"], 2, ["x", "1\n2"])]
    ['a quoted value runs from line 2 to line 3']
    """
    width = len(header)
    read = frozenset(range(width) if reads is None else reads)
    # The row's cells per line, were every line break inside a value a row end: a value's
    # text counts a cell per comma (a swallowed row holds no quote but doubled ones, so its
    # commas are its separators).
    shape = [0]
    spans: list[tuple[int, int, int]] = []  # (cell, line it opens on, line it closes on)
    at = line
    for i, cell in enumerate(cells):
        if "\n" not in cell and "\r" not in cell:
            shape[-1] += 1
            continue
        pieces = _LINE_BREAK.split(cell)
        shape[-1] += pieces[0].count(",") + 1
        shape.extend(piece.count(",") + 1 for piece in pieces[1:])
        spans.append((i, at, at + len(pieces) - 1))
        at += len(pieces) - 1
    if not spans:
        return []
    inside = [line + k for k in range(1, len(shape) - 1) if shape[k] >= width]
    if inside:
        why = f", and line {inside[0]} in it reads as a row of its own"
    elif shape[0] >= width and shape[-1] >= width:
        why = f", and lines {line} and {at} each read as a row of their own"
    elif len(cells) < width or any(c.strip() for c in cells[width:]):
        why = f", and leaves its row {len(cells)} cells for the header's {width}"
    else:
        why = ""
    problems = []
    for i, opened, closed in spans:
        if i in read or why:
            problems.append(
                Problem(
                    file,
                    opened,
                    f"a quoted value runs from line {opened} to line {closed}"
                    f"{'' if i in read else why}: an unbalanced quote? close it where the value "
                    'ends, or double a quote that is text ("")',
                    header[i] if i < width else None,
                    cells[i],
                )
            )
    return problems


def csv_problem(exc: csv.Error, line: int, reached: int) -> str:
    """What a CSV syntax error means to the person who has to fix the file."""
    text = str(exc)
    if "field larger than field limit" in text:
        return (
            f"a cell longer than {MAX_CELL} characters: is a quote left open, or is this not "
            "an incident log?"
        )
    if "unexpected end of data" in text or "expected after" in text:
        return (
            f"a quote opened on this line is never closed properly (the CSV reader ran on to "
            f'line {reached}: {text}); close it, or double the quotes inside the cell ("")'
        )
    return f"cannot read CSV: {text}"


# Regular files at least this large are mapped into memory rather than read: the bytes then
# live in the page cache once, not in the page cache and again in the process.
MAP_BYTES = 32 << 20


def read_bytes(path: str) -> tuple[str, Any]:
    """Read a whole file (``-`` is standard input), checked to be UTF-8 text (BOM or not).

    A regular file is read at once (a large one comes back as a read-only memory map, a
    bytes-like object); anything else (a pipe, a FIFO, a device such as ``/dev/zero``) a piece
    at a time, stopping at the first NUL byte, at a line longer than a piece, or past
    ``MAX_FILE_BYTES``, so an endless binary stream is refused in a moment.
    """
    name = "<stdin>" if path == STDIN else path
    note_input(path)
    try:
        if path == STDIN:
            stream = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else sys.stdin
            data = _read_stream(stream, name)
        else:
            with open(path, "rb") as fh:
                info = os.fstat(fh.fileno())
                if stat.S_ISREG(info.st_mode) and info.st_size <= MAX_FILE_BYTES:
                    data = _mapped(fh, info.st_size) or fh.read()
                else:
                    data = _read_stream(fh, name)
    except FileNotFoundError:
        raise InputError(Problem(name, None, "no such file")) from None
    except IsADirectoryError:
        raise InputError(Problem(name, None, "is a directory, not a CSV file")) from None
    except OSError as exc:
        raise InputError(Problem(name, None, f"cannot read: {exc.strerror}")) from None
    if isinstance(data, str):  # a text-only stdin (tests, some embedders)
        data = data.encode("utf-8")
    if _find_nul(data) >= 0:
        raise InputError(_binary(name, data))
    try:
        _check_utf8(data)
    except UnicodeDecodeError as exc:
        line = bytes(data[: exc.start]).count(b"\n") + 1
        raise InputError(
            Problem(
                name,
                line,
                f"not UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8, "
                f"e.g. iconv -f latin1 -t utf-8 {path if path != STDIN else 'FILE'}",
            )
        ) from None
    return name, data


def _mapped(fh: Any, size: int) -> Any:
    """A read-only memory map of a large regular file, or None."""
    import mmap

    if size < MAP_BYTES:
        return None
    try:
        return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return None


class _ViewReader(io.RawIOBase):
    """A read-only stream over a bytes-like object, copying only what is read (``io.BytesIO``
    copies a memory map whole)."""

    def __init__(self, data: Any) -> None:
        self._view = memoryview(data)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), len(self._view) - self._pos)
        buffer[:n] = self._view[self._pos : self._pos + n]
        self._pos += n
        return n

    def tell(self) -> int:
        return self._pos


def _byte_stream(data: Any) -> Any:
    return io.BytesIO(data) if isinstance(data, bytes) else io.BufferedReader(_ViewReader(data))


def _find_nul(data: Any, block: int = 16 << 20) -> int:
    """The offset of the first NUL byte, or -1; a large map is searched a block at a time and
    let go after each (a block's smallest byte tells whether to look in it: numpy's reduction
    is 3x faster than a search)."""
    import numpy as np

    raw = np.frombuffer(data, dtype=np.uint8)
    for lo in range(0, len(raw), block):
        if raw[lo : lo + block].min() == 0:
            return data.find(b"\x00", lo, lo + block)
        release(data)
    return -1


release = speed.read_behind  # the pages of a mapped file read so far


_BOM = b"\xef\xbb\xbf"


def _check_utf8(data: Any, block: int = 16 << 20) -> None:
    """Raise UnicodeDecodeError (with the offset in ``data``) unless ``data`` is UTF-8 (after a
    byte-order mark, if it has one).

    Decoded a block at a time, so a large file is never held again as text."""
    import codecs

    import numpy as np

    raw = np.frombuffer(data, dtype=np.uint8)
    view = memoryview(data)
    # a byte-order mark is skipped here, not by the decoder: offsets stay the data's own
    begin = len(_BOM) if bytes(view[: len(_BOM)]) == _BOM else 0
    decoder = codecs.getincrementaldecoder("utf-8")()
    for lo in range(begin, len(view), block):
        # an ASCII block (no byte above 127, found without a copy) needs no decoding
        ascii_only = raw[lo : lo + block].max() < 128
        if ascii_only and not decoder.getstate()[0]:
            release(data)
            continue
        chunk = bytes(view[lo : lo + block])
        release(data)
        held = len(decoder.getstate()[0])  # bytes of a character begun in the block before
        try:
            decoder.decode(chunk, final=lo + block >= len(view))
        except UnicodeDecodeError as exc:
            start = lo - held + exc.start  # the offset in the data, not in the decoder's input
            raise UnicodeDecodeError(
                exc.encoding, exc.object, start, start + exc.end - exc.start, exc.reason
            ) from None
    decoder.decode(b"", final=True)


PIECE = 16 << 20


def _read_stream(stream: Any, name: str) -> bytes | str:
    """A stream read a piece at a time, given up at the first sign it is no incident log."""
    pieces: list[Any] = []
    size = 0
    while True:
        piece = stream.read(PIECE)
        if not piece:
            break
        if isinstance(piece, str):  # a text stream (tests, embedders): read as it is
            return "".join([*pieces, piece, stream.read()])
        pieces.append(piece)
        size += len(piece)
        if b"\x00" in piece:
            raise InputError(_binary(name, b"".join(pieces)))
        if len(piece) == PIECE and b"\n" not in piece and b"\r" not in piece:
            raise InputError(
                Problem(name, None, f"a line longer than {PIECE >> 20} MiB: not an incident log")
            )
        if size > MAX_FILE_BYTES:
            raise InputError(
                Problem(name, None, f"larger than {MAX_FILE_BYTES >> 30} GiB: not an incident log")
            )
    return b"".join(pieces)


def _binary(name: str, data: Any) -> Problem:
    line = bytes(data[: data.find(b"\x00")]).count(b"\n") + 1
    return Problem(name, line, "binary data (a NUL byte): this is not a CSV text file")


def open_csv(path: str, *, required: Iterable[str], known: Iterable[str]) -> CsvFile:
    """Open a CSV and check its header: names are matched case-insensitively, spaces ignored."""
    names = set(known)
    name, data = read_bytes(path)
    text = bytes(data[:65536]).decode("utf-8-sig", errors="replace")
    if not len(data) or not text.strip():
        raise InputError(
            Problem(name, None, f"empty file: expected a header line with {_names(required)}")
        )
    try:
        header_cells = next(csv.reader(io.StringIO(text, newline="")))
    except (csv.Error, StopIteration) as exc:
        raise InputError(Problem(name, 1, f"cannot read the header: {exc}")) from None
    header = [cell.strip().lower() for cell in header_cells]
    problems = []
    seen: set[str] = set()
    for cell in header:
        if cell and cell in seen and cell in names:
            problems.append(Problem(name, 1, f"column '{cell}' appears more than once"))
        seen.add(cell)
    missing = [col for col in required if col not in header]
    if missing:
        problems.append(
            Problem(
                name,
                1,
                f"missing required column {_names(missing)} (header has: "
                f"{', '.join(repr(c) for c in header_cells) or 'nothing'})",
            )
        )
    if problems:
        raise InputError(problems)
    reads = frozenset(i for i, cell in enumerate(header) if cell in names)
    return CsvFile(name=name, header=header, data=data, reads=reads)


def _names(cols: Iterable[str]) -> str:
    return ", ".join(f"'{c}'" for c in cols)
