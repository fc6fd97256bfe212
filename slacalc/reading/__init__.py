"""Reading: incident logs, contracts, disputes and holiday files into typed values.

:func:`read_incidents` is the one entry point for incident logs: it picks a reader per file by
its format (and, for CSV, whether the bulk reader can vouch for it) and returns one
:class:`~slacalc.model.table.IncidentTable`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from datetime import tzinfo
from functools import partial

import numpy as np

from slacalc import speed
from slacalc.errors import InputError, Problem, UsageError
from slacalc.model.cells import HEADERS, REQUIRED
from slacalc.model.table import (
    CODED,
    IncidentTable,
    RawPart,
    build_table,
    concat_tables,
    only_customers,
)
from slacalc.reading.files import STDIN, open_csv

# A progress hook: (file name, bytes read, bytes in the file).
Progress = Callable[[str, int, int], None]

INPUT_FORMATS = ("csv", "jsonl", "parquet")
_EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}


def input_format(path: str, given: str | None = None) -> str:
    """The format of an incident file: ``given``, else from the extension, else CSV."""
    if given:
        fmt = given.strip().lower()
        if fmt not in INPUT_FORMATS:
            raise UsageError(
                f"--input-format '{given}': expected one of {', '.join(INPUT_FORMATS)}"
            )
        return fmt
    if path == STDIN:
        return "csv"
    lower = path.lower()
    for ext, fmt in _EXTENSIONS.items():
        if lower.endswith(ext) or lower.endswith(ext + ".gz"):
            return fmt
    return "csv"


def read_incidents(
    paths: Iterable[str],
    tz: tzinfo,
    *,
    keep_text: bool = False,
    fmt: str | None = None,
    progress: Progress | None = None,
    customers: Iterable[str] | None = None,
) -> IncidentTable:
    """Read one or more incident logs into one table; every problem raised together.

    >>> from zoneinfo import ZoneInfo
    >>> table = read_incidents(["samples/incidents.csv"], ZoneInfo("Asia/Shanghai"))
    >>> len(table), table.keys[0]
    (14, ('acme', 'compute'))
    """
    table, problems = collect_incidents(
        paths, tz, keep_text=keep_text, fmt=fmt, progress=progress, customers=customers
    )
    if problems:
        raise InputError(problems)
    speed.phase_done()  # the text read and parsed is gone: its memory goes back
    return table


def collect_incidents(
    paths: Iterable[str],
    tz: tzinfo,
    *,
    keep_text: bool = False,
    fmt: str | None = None,
    progress: Progress | None = None,
    customers: Iterable[str] | None = None,
) -> tuple[IncidentTable, list[Problem]]:
    """Read what can be read: the good rows of every file, and every problem, in file order.

    With ``customers``, only the rows of those customers are typed (and checked): what
    ``explain`` needs of a large log."""
    paths = list(paths)
    if sum(1 for p in paths if p == STDIN) > 1:
        raise UsageError("standard input ('-') can be read only once")
    wanted = None if customers is None else set(customers)
    tables: list[IncidentTable] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            table, found = _read_file(
                path,
                tz,
                fmt=input_format(path, fmt),
                progress=progress,
                keep_text=keep_text,
                customers=wanted,
            )
        except InputError as exc:  # a file-level problem: missing, binary, no header
            problems.extend(exc.problems)
            continue
        tables.append(table)
        problems.extend(sorted(found, key=lambda p: p.line or 0))
    return concat_tables(tables), problems


def _read_file(
    path: str,
    tz: tzinfo,
    *,
    fmt: str,
    progress: Progress | None,
    keep_text: bool,
    customers: set[str] | None,
) -> tuple[IncidentTable, list[Problem]]:
    """One file's table and problems, by the fastest reader that reads it exactly."""
    if fmt == "jsonl":
        from slacalc.reading.jsonl import read_jsonl

        return build_pieces(iter([read_jsonl(path)]), tz, keep_text, customers)
    if fmt == "parquet":
        from slacalc.reading.parquet import read_parquet

        return build_pieces(iter([read_parquet(path)]), tz, keep_text, customers)
    f = open_csv(path, required=REQUIRED, known=HEADERS)
    from slacalc.reading import csv_bulk, csv_rows

    if len(f.data) >= csv_bulk.MIN_BYTES:
        pieces = csv_bulk.bulk_pieces(f, meanwhile=True, coded=CODED)
        if pieces is not None:
            try:
                return build_pieces(pieces, tz, keep_text, customers)
            except csv_bulk.NotBulk:
                pass  # the row reader reads it, and says what pyarrow stumbled on
    if progress is not None:
        f.on_progress = lambda done, total: progress(f.name, done, total)
    return build_pieces(iter([csv_rows.csv_part(f)]), tz, keep_text, customers)


def build_pieces(
    pieces: Iterator[RawPart],
    tz: tzinfo,
    keep_text: bool = False,
    customers: set[str] | None = None,
) -> tuple[IncidentTable, list[Problem]]:
    """The table of a file read in pieces: each piece typed as soon as it is read, two at a time
    on two threads (numpy and pyarrow release the GIL), so only the pieces in hand are ever
    held as text. The tables are joined in order."""
    first = next(pieces, None)
    if first is None:
        return IncidentTable.empty(), []
    second = next(pieces, None)
    if second is None:  # one piece: typed on two threads if it is large
        return build_table(_only(first, customers), tz, keep_text=keep_text)
    done = list(
        typed_pieces(
            iter([first, second]),
            pieces,
            tz=tz,
            keep_text=keep_text,
            customers=customers,
        )
    )
    return concat_tables([t for t, _ in done]), [p for _, found in done for p in found]


def typed_pieces(
    *sources: Iterator[RawPart],
    tz: tzinfo,
    keep_text: bool = False,
    customers: set[str] | None = None,
) -> Iterator[tuple[IncidentTable, list[Problem]]]:
    """Each piece's table and problems, in order, typed two at a time on two threads: a log
    read as a stream is never held whole, as text or as a table."""
    from itertools import chain

    def build(part: RawPart) -> tuple[IncidentTable, list[Problem]]:
        return build_table(_only(part, customers), tz, keep_text=keep_text, threads=False)

    yield from speed.in_order(partial(build, piece) for piece in chain(*sources))


class Reread(Exception):
    """The bulk reader met, part-way through a CSV file, rows it cannot vouch for: read the
    log again with the row reader for ``path``."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


# A stream is read in smaller pieces than a file read whole: less in hand at once.
STREAM_BYTES = 4 << 20  # bytes per piece (the row reader: rows of about that many bytes)


def stream_incidents(
    paths: Iterable[str],
    tz: tzinfo,
    *,
    fmt: str | None = None,
    row_reader: Collection[str] = (),
    piece_bytes: int = STREAM_BYTES,
    keep_text: bool = False,
) -> Iterator[tuple[IncidentTable, list[Problem]]]:
    """Every file's rows as a stream of typed pieces, in order, each with its problems: a log
    of any size, never held whole. A file-level problem (missing, binary, no header) comes as
    a piece with no rows. CSV files in ``row_reader`` go to the row reader; if the bulk reader
    gives up on a file part-way, :class:`Reread` is raised to start again so. pyarrow holds
    about 30 pieces of ``piece_bytes`` at a time (read ahead, parsed, typed): the memory a
    stream needs."""
    paths = list(paths)
    if sum(1 for p in paths if p == STDIN) > 1:
        raise UsageError("standard input ('-') can be read only once")

    def parts() -> Iterator[RawPart]:
        for path in paths:
            try:
                yield from _file_parts(
                    path, input_format(path, fmt), path in row_reader, piece_bytes
                )
            except InputError as exc:
                name = "<stdin>" if path == STDIN else path
                yield RawPart(name, np.zeros(0, dtype=np.int64), {}, list(exc.problems))

    return typed_pieces(parts(), tz=tz, keep_text=keep_text)


def _file_parts(path: str, fmt: str, rows_only: bool, piece_bytes: int) -> Iterator[RawPart]:
    if fmt == "jsonl":
        from slacalc.reading.jsonl import read_jsonl

        yield read_jsonl(path)
        return
    if fmt == "parquet":
        from slacalc.reading.parquet import parquet_parts

        yield from parquet_parts(path, max(1000, piece_bytes // 80))
        return
    f = open_csv(path, required=REQUIRED, known=HEADERS)
    from slacalc.reading import csv_bulk, csv_rows

    if not rows_only and len(f.data) >= csv_bulk.MIN_BYTES:
        pieces = csv_bulk.bulk_pieces(f, piece_bytes, coded=CODED)
        if pieces is not None:
            try:
                yield from pieces
            except csv_bulk.NotBulk:
                raise Reread(path) from None
            return
    yield from csv_rows.csv_parts(f, max(1000, piece_bytes // 80))


def _only(part: RawPart, customers: set[str] | None) -> RawPart:
    return part if customers is None else only_customers(part, customers)


def read_tables(parts: Sequence[RawPart], tz: tzinfo) -> tuple[IncidentTable, list[Problem]]:
    """Tables of parts already read (the importers hand theirs over this way)."""
    return build_pieces(iter(parts), tz)
