"""What runs on Spark's executors: cells to text, and a bucket of customers through slacalc.

Nothing here imports pyspark: each function takes and returns pyarrow tables, and the report's
rules stay in :mod:`slacalc.model.table` and :func:`slacalc.computing.report.compute_report`.
A group (``BUCKET``) holds the rows of the customers whose name hashes to it (``GROUP`` = the
customer), with one copy of each customer ``*`` row whose service a contract of the bucket
covers (``OWN`` false: counted, never reported as problems twice), or, in bucket -1, every
customer ``*`` row once (``OWN`` true). A bucket of many customers is one call of the report,
not one per customer: a call costs milliseconds whatever its size.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from slacalc.computing.fields import ARROW_SCHEMA, FIELDS
from slacalc.computing.report import compute_report, late_ends
from slacalc.dates.months import Month
from slacalc.errors import InputError, Problem, UsageError
from slacalc.model.cells import COLUMNS, EVERY_CUSTOMER
from slacalc.model.contracts import Contract, ContractBook
from slacalc.model.settings import Settings
from slacalc.model.table import IncidentTable, RawPart, build_table, concat_tables
from slacalc.reading.parquet import column_text

FILE = "_file"  # the file each row came from
CUSTOMER = "_customer"  # customer_id and service as slacalc reads them (trimmed)
SERVICE = "_service"
GROUP = "_group"  # the customer whose group takes the row
BUCKET = "_bucket"  # the bucket of customers (hash of GROUP) computed together; -1: '*' rows
ROW = "_row"  # a row's number in the log (to send a '*' row to a bucket once)
OWN = "_own"  # the row belongs to its group (not a copy of a customer '*' row)
CONTRACT = "_contract"  # on the contracts side: the contract's number in the book
STAR_GROUP = EVERY_CUSTOMER

# Kinds of what a group's summary says.
PROBLEM, ERROR, BAD_USAGE, MONTH, LATE = "problem", "error", "usage", "month", "late"
SUMMARY = pa.schema(
    [
        ("kind", pa.string()),
        ("file", pa.string()),
        ("message", pa.string()),
        ("column", pa.string()),
        ("value", pa.string()),
        ("count", pa.int64()),
    ]
)
# The report's columns as Report.text holds them.
ROWS = ARROW_SCHEMA


def text_batches(
    batches: Iterator[pa.RecordBatch], columns: Sequence[str]
) -> Iterator[pa.RecordBatch]:
    """Each batch's known ``columns`` as the text a CSV cell would hold (Parquet's typed values
    as :func:`slacalc.reading.parquet.column_text` writes them), with the file, and the
    customer and service trimmed as :func:`build_table` reads them."""
    for batch in batches:
        cells = {c: column_text(c, batch.column(c)) for c in columns}
        n = batch.num_rows
        out = dict(cells)
        out[FILE] = pc.fill_null(batch.column(FILE).cast(pa.string()), "")
        out[CUSTOMER] = _trimmed(cells.get("customer_id"), n)
        out[SERVICE] = _trimmed(cells.get("service"), n)
        yield pa.RecordBatch.from_pydict(out)


def _trimmed(col: Any, n: int) -> Any:
    if col is None:
        return pa.array([""] * n, pa.string())
    return pc.utf8_trim_whitespace(pc.fill_null(col, ""))


def summary(
    key: tuple,
    rows: pa.Table,
    contracts: pa.Table | None,
    *,
    settings: Settings,
    book: list[Contract] | None,
    months: Sequence[Month] | None,
) -> pa.Table:
    """What the driver needs of one group before the report: the problems of its own rows,
    its months (those its incidents touch, or the chosen ones), its late ends, and the errors
    ``compute_report`` raises for it (an unpriced key)."""
    found: dict[str, list[Any]] = {name: [] for name in SUMMARY.names}

    def add(kind: str, file: str = "", message: str = "", **more: Any) -> None:
        values = {"kind": kind, "file": file, "message": message, **more}
        for name in SUMMARY.names:
            found[name].append(values.get(name))

    own, problems, table = _tables(rows, settings)
    for p in problems:
        add(PROBLEM, p.file, p.message, column=p.column, value=p.value)
    late = late_ends(own, settings.as_of)
    if len(late):
        shown = [_reference(own, r) for r in late[:10].tolist()]
        add(LATE, value=json.dumps(shown), count=len(late))
    if not problems:
        try:
            report = compute_report(
                table, settings, contracts=_book(contracts, book), months=months
            )
        except InputError as exc:
            for p in exc.problems:
                add(ERROR, p.file, p.message, column=p.column, value=p.value)
        except UsageError as exc:
            add(BAD_USAGE, message=str(exc))
        else:
            for m in report.months:
                add(MONTH, count=m.year * 12 + m.month - 1)
    return pa.table(found, schema=SUMMARY)


def report_rows(
    key: tuple,
    rows: pa.Table,
    contracts: pa.Table | None,
    *,
    settings: Settings,
    book: list[Contract] | None,
    months: Sequence[Month],
) -> pa.Table:
    """One customer's rows of the report, for the months of the whole report."""
    _, _, table = _tables(rows, settings)
    report = compute_report(table, settings, contracts=_book(contracts, book), months=months)
    text = report.text
    return pa.table([text[f] for f in FIELDS], schema=ROWS)


def _book(contracts: pa.Table | None, book: list[Contract] | None) -> ContractBook | None:
    """The group's contracts, in the book's order (None: the report has no contracts)."""
    if book is None:
        return None
    if contracts is None or not contracts.num_rows:
        return ContractBook([])
    numbers = sorted(contracts.column(CONTRACT).to_pylist())
    return ContractBook([book[i] for i in numbers])


def _tables(rows: pa.Table, settings: Settings) -> tuple[IncidentTable, list[Problem], Any]:
    """The group's own rows as a table and their problems, and the table of all its rows."""
    if not rows.num_rows:
        empty = IncidentTable.empty()
        return empty, [], empty
    own_mask = rows.column(OWN)
    own, problems = _table(rows.filter(own_mask), settings)
    copies, _ = _table(rows.filter(pc.invert(own_mask)), settings)
    return own, problems, concat_tables([own, copies])


def _table(rows: pa.Table, settings: Settings) -> tuple[IncidentTable, list[Problem]]:
    """The rows read as slacalc reads a file, one part per file (Spark keeps no lines)."""
    if not rows.num_rows:
        return IncidentTable.empty(), []
    files = rows.column(FILE)
    tables, problems = [], []
    for name in sorted(pc.unique(files).to_pylist()):
        part_rows = rows.filter(pc.equal(files, name))
        cells = {
            c: part_rows.column(c).combine_chunks() for c in COLUMNS if c in part_rows.column_names
        }
        n = part_rows.num_rows
        part = RawPart(name, np.zeros(n, dtype=np.int64), cells)
        table, found = build_table(part, settings.tz)
        tables.append(table)
        problems.extend(found)
    return concat_tables(tables), problems


def _reference(table: IncidentTable, row: int) -> str:
    """How a warning names an incident without a line number: its file and id."""
    file = table.files[int(table.file[row])]
    ident = (table.incident_id[row].as_py() or "").strip()
    return f"{file} ({ident})" if ident else file
