"""Request counts per time window (``--requests F``): what request-based availability is
computed from (:mod:`slacalc.computing.error_rate`).

One row per window: ``start``, ``end`` (required), ``customer_id``, ``service`` (the key, as in
an incident log; empty when absent), ``total`` and ``failed`` (required whole numbers,
``total >= failed >= 0``, at most 15 digits). CSV, JSON Lines or Parquet, told apart as
incident logs are (:func:`slacalc.reading.input_format`), opened and checked by the same
helpers (:func:`~slacalc.reading.files.open_csv`, the bulk CSV reader, JSON Lines' number
handling, Parquet's column text), and read strictly: every bad cell is a ``FILE:LINE`` problem,
all of them reported together. Timestamps mean what they mean in an incident log
(:func:`slacalc.dates.instants.parse_instants`): with an offset, that instant; without one,
local time in the billing zone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import tzinfo
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from slacalc.errors import InputError, Problem, UsageError
from slacalc.model.cells import MAX_CELL
from slacalc.model.table import Key, RawPart, index_of, pair_codes, trimmed
from slacalc.reading import input_format
from slacalc.reading.files import STDIN, CsvFile, open_csv

COLUMNS = ("start", "end", "customer_id", "service", "total", "failed")
REQUIRED = ("start", "end", "total", "failed")
COUNT_DIGITS = 15  # request counts below 10**15 per row: sums stay exact and cheap
_ORDER = {c: i for i, c in enumerate(COLUMNS)}  # problems of one row, in column order


@dataclass
class RequestTable:
    """Request counts as columns, one entry per window, in the order read.

    Keys are the distinct (customer_id, service) pairs in order of first appearance; ``key``
    numbers each row's. Instants are epoch microseconds; ``total`` and ``failed`` ``int64``.
    """

    key_customer: Any  # pyarrow string array
    key_service: Any  # pyarrow string array
    key: Any  # int64
    start: Any  # int64 epoch microseconds
    end: Any  # int64 epoch microseconds, > start
    total: Any  # int64, >= failed
    failed: Any  # int64, >= 0
    file: Any  # int32: index into files
    files: list[str]
    line: Any  # int64: the row's line in its file (Parquet: its 1-based row number)

    def __len__(self) -> int:
        return len(self.start)

    @property
    def n_keys(self) -> int:
        return len(self.key_customer)

    @cached_property
    def keys(self) -> list[Key]:
        return list(zip(self.key_customer.to_pylist(), self.key_service.to_pylist(), strict=True))

    def where(self, row: int) -> str:
        """Where a row was read: ``file:line``."""
        return f"{self.files[int(self.file[row])]}:{int(self.line[row])}"

    def take(self, rows: Any) -> RequestTable:
        """The rows numbered ``rows``, keys (and their numbers) kept as they are."""
        rows = np.asarray(rows, dtype=np.int64)
        return self._rows(rows, self.key_customer, self.key_service, self.key[rows])

    def of_keys(self, wanted: Any) -> RequestTable:
        """The rows of the keys ``wanted`` selects (a bool per key), those keys renumbered in
        their order: a table that knows of no other key."""
        wanted = np.asarray(wanted, dtype=bool)
        number = np.cumsum(wanted) - 1
        rows = np.flatnonzero(wanted[self.key])
        keys = pa.array(np.flatnonzero(wanted))
        customers, services = self.key_customer.take(keys), self.key_service.take(keys)
        return self._rows(rows, customers, services, number[self.key[rows]])

    def _rows(self, rows: Any, customers: Any, services: Any, key: Any) -> RequestTable:
        return RequestTable(
            customers,
            services,
            key,
            self.start[rows],
            self.end[rows],
            self.total[rows],
            self.failed[rows],
            self.file[rows],
            self.files,
            self.line[rows],
        )

    @classmethod
    def empty(cls) -> RequestTable:
        z = np.zeros(0, dtype=np.int64)
        s = pa.array([], pa.string())
        return cls(s, s, z, z, z, z, z, z.astype(np.int32), [], z)


def read_requests(paths: Iterable[str], tz: tzinfo, *, fmt: str | None = None) -> RequestTable:
    """Read one or more request-count files into one table; every problem raised together
    (:class:`~slacalc.errors.InputError`)."""
    table, problems = collect_requests(paths, tz, fmt=fmt)
    if problems:
        raise InputError(problems)
    return table


def collect_requests(
    paths: Iterable[str], tz: tzinfo, *, fmt: str | None = None
) -> tuple[RequestTable, list[Problem]]:
    """The good rows of every file, and every problem, in file order."""
    paths = list(paths)
    if sum(1 for p in paths if p == STDIN) > 1:
        raise UsageError("standard input ('-') can be read only once")
    pieces: list[dict[str, Any]] = []
    problems: list[Problem] = []
    files: list[str] = []
    for path in paths:
        try:
            part = _cells(path, input_format(path, fmt))
        except InputError as exc:  # a file-level problem: missing, binary, no header
            problems.extend(exc.problems)
            continue
        typed, found = typed_rows(part, tz)
        typed["file"] = np.full(len(typed["start"]), index_of(files, part.name), np.int32)
        pieces.append(typed)
        problems.extend(sorted([*part.problems, *found], key=lambda p: p.line or 0))
    if not pieces:
        return RequestTable.empty(), problems

    def joined(name: str) -> Any:
        return np.concatenate([p[name] for p in pieces])

    customers, services, key = pair_codes(
        pa.concat_arrays([p["customer_id"] for p in pieces]),
        pa.concat_arrays([p["service"] for p in pieces]),
    )
    table = RequestTable(
        key_customer=customers,
        key_service=services,
        key=np.asarray(key, dtype=np.int64),
        start=joined("start"),
        end=joined("end"),
        total=joined("total"),
        failed=joined("failed"),
        file=joined("file"),
        files=files,
        line=joined("line"),
    )
    return table, problems


def parse_count(text: str) -> int:
    """A request count: a whole number from 0 with at most 15 digits. ValueError otherwise.

    >>> parse_count(" 1200 ")
    1200
    """
    raw = text.strip()
    if not raw:
        raise ValueError("empty: expected a whole number of requests")
    digits = raw.removeprefix("+")
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError("expected a whole number of requests (0 or more), such as 1200")
    if len(digits.lstrip("0")) > COUNT_DIGITS:
        raise ValueError(f"too large (at most {COUNT_DIGITS} digits)")
    return int(digits)


# --- the cells of one file, as text ----------------------------------------------------------


def _cells(path: str, fmt: str) -> RawPart:
    if fmt == "jsonl":
        return _jsonl_cells(path)
    if fmt == "parquet":
        return _parquet_cells(path)
    f = open_csv(path, required=REQUIRED, known=COLUMNS)
    from slacalc.reading import csv_bulk

    if len(f.data) >= csv_bulk.MIN_BYTES:
        pieces = csv_bulk.bulk_pieces(f, columns=COLUMNS)
        if pieces is not None:
            try:
                return _joined_parts(f.name, list(pieces))
            except csv_bulk.NotBulk:
                pass  # the row reader reads it, and says what pyarrow stumbled on
    return _csv_row_cells(f)


def _joined_parts(name: str, parts: list[RawPart]) -> RawPart:
    if not parts:
        return RawPart(name, np.zeros(0, dtype=np.int64), {})
    cells = {
        c: pa.concat_arrays([_combined(p.cells[c]) for p in parts])
        for c in parts[0].cells
        if all(c in p.cells for p in parts)
    }
    return RawPart(name, np.concatenate([np.asarray(p.lines) for p in parts]), cells)


def _combined(col: Any) -> Any:
    return col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col


def _csv_row_cells(f: CsvFile) -> RawPart:
    """The cells of an opened CSV file read row by row (any valid CSV), with every row-shape
    problem collected."""
    width = len(f.header)
    wanted = {c: i for c in COLUMNS if (i := f.column(c)) is not None}
    columns: dict[str, list[str]] = {c: [] for c in wanted}
    lines: list[int] = []
    problems: list[Problem] = []
    spans: list[Problem] = []  # rows refused for a quoted value spanning lines
    try:
        for line, _, cells in f.rows(skip_blank=False, problems=spans):
            n = len(cells)
            if n > width and any(c.strip() for c in cells[width:]):
                problems.append(
                    Problem(f.name, line, f"row has {n} cells but the header has {width}")
                )
                continue
            lines.append(line)
            for c, i in wanted.items():
                columns[c].append(cells[i] if i < n else "")
    except InputError as exc:  # a quote never closed: the rows before it still count
        problems.extend(exc.problems)
    return RawPart(
        f.name,
        np.array(lines, dtype=np.int64),
        {c: pa.array(v, pa.string()) for c, v in columns.items()},
        [*problems, *spans],
    )


def _column_of(key: str) -> str | None:
    """The column a header name or key means (case and surrounding spaces ignored); None
    when it is not one of the counts'."""
    column = key.strip().lower()
    return column if column in _ORDER else None


def _jsonl_cells(path: str) -> RawPart:
    """One JSON Lines file's cells: one object per line, keys matched like CSV headers, counts
    as JSON numbers or strings, timestamps as strings (JSON Lines incident logs' rules)."""
    from slacalc.reading.jsonl import read_json_lines

    return read_json_lines(
        path,
        COLUMNS,
        key_of=_column_of,
        example='{"start": "2025-05-01T00:00:00Z", "end": "2025-05-01T00:05:00Z", '
        '"total": 1200, "failed": 3}',
    )


def _parquet_cells(path: str) -> RawPart:
    """One Parquet file's cells: its columns matched by name, taken as text as the incident
    log's Parquet reader takes them (timestamps to the microsecond, numbers exactly)."""
    from slacalc.reading.parquet import column_text, opened, wanted_columns

    name = "<stdin>" if path == STDIN else path
    with opened(path, name) as parquet:
        wanted = wanted_columns(parquet, name, _column_of, REQUIRED)
        try:
            table = parquet.read(columns=list(wanted.values()), use_threads=True)
        except (pa.ArrowException, OSError, ValueError) as exc:
            reason = str(exc).split("\n")[0]
            raise InputError(
                Problem(name, None, f"a damaged Parquet file (cut short?): {reason}")
            ) from None
    cells = {}
    problems: list[Problem] = []
    for column, actual in wanted.items():
        col = table.column(actual).combine_chunks()
        try:
            cells[column] = column_text(column, col)
        except (TypeError, pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            reason = str(exc).split("\n")[0]
            problems.append(Problem(name, None, f"{col.type} values: {reason}", column))
    if problems:
        raise InputError(problems)
    n = table.num_rows
    return RawPart(name, np.arange(1, n + 1, dtype=np.int64), cells)


# --- from text cells to typed rows -----------------------------------------------------------


def typed_rows(part: RawPart, tz: tzinfo) -> tuple[dict[str, Any], list[Problem]]:
    """The good rows of one file's cells as typed columns (``start``, ``end``, ``total``,
    ``failed``, ``line`` arrays; ``customer_id`` and ``service`` trimmed pyarrow strings), and
    a problem per bad cell. Rows whose cells are all blank are skipped."""
    from slacalc.dates.instants import parse_instants

    n = len(part)
    lines = np.asarray(part.lines, dtype=np.int64)
    raw = {c: _text(part.cells.get(c), n) for c in COLUMNS}
    found: list[tuple[int, int, Problem]] = []
    bad = np.zeros(n, dtype=bool)

    def problem(row: int, column: str | None, message: str, value: str | None = None) -> None:
        order = _ORDER.get(column or "", len(_ORDER))
        found.append(
            (row, order, Problem(part.name, int(lines[row]) or None, message, column, value))
        )
        bad[row] = True

    for c in COLUMNS:
        col = raw[c]
        if pc.any(pc.greater(pc.utf8_length(col), MAX_CELL)).as_py():
            for r in np.flatnonzero(np.asarray(pc.greater(pc.utf8_length(col), MAX_CELL))):
                problem(int(r), c, f"a cell longer than {MAX_CELL} characters")
    blank = np.ones(n, dtype=bool)
    for c in COLUMNS:
        blank &= np.asarray(pc.equal(pc.binary_length(trimmed(raw[c])), 0))

    instants = {}
    for c in ("start", "end"):
        us, empty, errors = parse_instants(raw[c], tz)
        instants[c] = us
        for r in np.flatnonzero(empty & ~blank & ~bad).tolist():
            problem(r, c, "empty timestamp: every window of requests has a start and an end")
        for r, message in errors.items():
            if not bad[r]:
                problem(r, c, message, raw[c][r].as_py())
    counts = {}
    for c in ("total", "failed"):
        counts[c], errors = _counts(raw[c])
        for r, message in errors:
            if not blank[r] and not bad[r]:
                problem(r, c, message, raw[c][r].as_py())
    ok = ~bad & ~blank
    for r in np.flatnonzero(ok & (instants["end"] <= instants["start"])).tolist():
        before = instants["end"][r] < instants["start"][r]
        problem(
            r,
            "end",
            ("ends before it starts" if before else "ends where it starts: a window has a length")
            + f" (start '{raw['start'][r].as_py().strip()}')",
            raw["end"][r].as_py(),
        )
    ok = ~bad & ~blank
    for r in np.flatnonzero(ok & (counts["failed"] > counts["total"])).tolist():
        problem(
            r,
            "failed",
            f"more failed requests than requests in all (total {int(counts['total'][r])})",
            raw["failed"][r].as_py(),
        )
    rows = np.flatnonzero(~bad & ~blank)
    index = pa.array(rows, pa.int64())
    typed = {
        "start": instants["start"][rows],
        "end": instants["end"][rows],
        "total": counts["total"][rows],
        "failed": counts["failed"][rows],
        "line": lines[rows],
        "customer_id": trimmed(raw["customer_id"].take(index)),
        "service": trimmed(raw["service"].take(index)),
    }
    found.sort(key=lambda item: (item[0], item[1]))
    return typed, [p for _, _, p in found]


def _counts(col: Any) -> tuple[Any, list[tuple[int, str]]]:
    """A column of counts as ``int64``, and ``(row, reason)`` of each bad cell: each distinct
    text is read once."""
    encoded = col.dictionary_encode()
    words = encoded.dictionary.to_pylist()
    codes = np.asarray(encoded.indices, dtype=np.int64)
    values = np.zeros(max(len(words), 1), dtype=np.int64)
    wrong: dict[int, str] = {}
    for i, text in enumerate(words):
        try:
            values[i] = parse_count(text)
        except ValueError as exc:
            wrong[i] = str(exc)
    errors = []
    if wrong:
        for r in np.flatnonzero(np.isin(codes, list(wrong))).tolist():
            errors.append((r, wrong[int(codes[r])]))
    return (values[codes] if len(codes) else codes), errors


def _text(col: Any, n: int) -> Any:
    """A column as one pyarrow string array, nulls as "" (an absent column: all "")."""
    if col is None:
        return pa.array([""] * n, pa.string())
    col = _combined(col)
    if col.type != pa.string():
        col = pc.cast(col, pa.string())
    return pc.fill_null(col, "") if col.null_count else col
