"""Reading: incident logs, contracts, disputes and holiday files into typed values.

:func:`read_incidents` is the one entry point for incident logs: it picks a reader per file by
its format (and, for CSV, whether the bulk reader can vouch for it) and returns one
:class:`~slacalc.reading.table.IncidentTable`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import tzinfo

from slacalc.errors import InputError, Problem, UsageError
from slacalc.reading.cells import COLUMNS, REQUIRED
from slacalc.reading.files import STDIN, open_csv
from slacalc.reading.table import (
    IncidentTable,
    RawPart,
    build_table,
    concat_tables,
    only_customers,
)

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
    tables: list[IncidentTable] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            part = read_part(path, fmt=input_format(path, fmt), progress=progress)
        except InputError as exc:  # a file-level problem: missing, binary, no header
            problems.extend(exc.problems)
            continue
        if customers is not None:
            part = only_customers(part, set(customers))
        table, found = build_table(part, tz, keep_text=keep_text)
        tables.append(table)
        problems.extend(sorted(found, key=lambda p: p.line or 0))
    return concat_tables(tables), problems


def read_part(path: str, *, fmt: str = "csv", progress: Progress | None = None) -> RawPart:
    """One file's incident cells, by the fastest reader that reads it exactly."""
    if fmt == "jsonl":
        from slacalc.reading.jsonl import read_jsonl

        return read_jsonl(path)
    if fmt == "parquet":
        from slacalc.reading.parquet import read_parquet

        return read_parquet(path)
    f = open_csv(path, required=REQUIRED, known=COLUMNS)
    from slacalc.reading import csv_bulk, csv_rows

    if len(f.data) >= csv_bulk.MIN_BYTES:
        part = csv_bulk.read_csv_bulk(f)
        if part is not None:
            return part
    if progress is not None:
        f.on_progress = lambda done, total: progress(f.name, done, total)
    return csv_rows.csv_part(f)


def read_tables(parts: Sequence[RawPart], tz: tzinfo) -> tuple[IncidentTable, list[Problem]]:
    """Tables of parts already read (the importers hand theirs over this way)."""
    tables, problems = [], []
    for part in parts:
        table, found = build_table(part, tz)
        tables.append(table)
        problems.extend(found)
    return concat_tables(tables), problems
