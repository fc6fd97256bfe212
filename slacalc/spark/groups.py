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
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from slacalc.computing.fields import ARROW_SCHEMA, FIELDS
from slacalc.computing.report import compute_report, late_ends
from slacalc.dates.months import Month
from slacalc.errors import InputError, Problem, UsageError
from slacalc.model.cells import EVERY_CUSTOMER, READ_COLUMNS
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
NOTE = "note"  # a zone row's time in no deployment (a warning)
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


@dataclass(frozen=True)
class Extras:
    """What a group computes beyond the engine: zones, request counts, composite services
    (``work``, a :class:`~slacalc.computing.partitioned.BucketWork`), the bucket of each
    customer of the deployments and counts (``owners``, by Spark's hash), and the book's
    composites."""

    work: Any = None
    owners: dict[str, int] = field(default_factory=dict)
    composites: dict[tuple[str, str], Any] = field(default_factory=dict)

    def mine(self, bucket: int) -> Any:
        """Which of some customers (a string array) are ``bucket``'s, as bools."""

        def pick(customers: Any) -> Any:
            owners = self.owners
            names = customers.to_pylist()
            return np.array([owners.get(c) == bucket for c in names], dtype=bool)

        return pick


def _report(
    key: tuple,
    table: IncidentTable,
    book: ContractBook | None,
    settings: Settings,
    months: Sequence[Month] | None,
    extras: Extras | None,
) -> tuple[Any, list[Problem]]:
    """The group's report (through ``extras``' steps when given) and its zone warnings."""
    if extras is None or extras.work is None:
        return compute_report(table, settings, contracts=book, months=months), []
    bucket = _bucket_of(key)
    return extras.work.report(table, book, extras.mine(bucket), months)


def _bucket_of(key: tuple) -> int:
    value = key[0]
    return int(value.as_py() if hasattr(value, "as_py") else value)


def summary(
    key: tuple,
    rows: pa.Table,
    contracts: pa.Table | None,
    *,
    settings: Settings,
    book: list[Contract] | None,
    months: Sequence[Month] | None,
    extras: Extras | None = None,
) -> pa.Table:
    """What the driver needs of one group before the report: the problems of its own rows,
    its months (those its incidents touch, or the chosen ones), its late ends, the errors
    ``compute_report`` raises for it (an unpriced key), and the warnings of its zone rows in
    no deployment (the ``*`` rows', once, in the group of ``*`` rows)."""
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
            part_book = _book(contracts, book, extras)
            report, notes = _report(key, table, part_book, settings, months, extras)
            if extras is not None and extras.work is not None and _bucket_of(key) < 0:
                notes = extras.work.stars(own)
        except InputError as exc:
            for p in exc.problems:
                add(ERROR, p.file, p.message, column=p.column, value=p.value)
        except UsageError as exc:
            add(BAD_USAGE, message=str(exc))
        else:
            for m in report.months:
                add(MONTH, count=m.year * 12 + m.month - 1)
            for p in notes:
                add(NOTE, p.file, p.message, column=p.column, value=p.value)
    return pa.table(found, schema=SUMMARY)


def report_rows(
    key: tuple,
    rows: pa.Table,
    contracts: pa.Table | None,
    *,
    settings: Settings,
    book: list[Contract] | None,
    months: Sequence[Month],
    extras: Extras | None = None,
) -> pa.Table:
    """One customer's rows of the report, for the months of the whole report."""
    _, _, table = _tables(rows, settings)
    part_book = _book(contracts, book, extras)
    report, _ = _report(key, table, part_book, settings, months, extras)
    text = report.text
    return pa.table([text[f] for f in FIELDS], schema=ROWS)


def _book(
    contracts: pa.Table | None, book: list[Contract] | None, extras: Extras | None = None
) -> ContractBook | None:
    """The group's contracts, in the book's order, with their customers' composites (None:
    the report has no contracts)."""
    if book is None:
        return None
    if contracts is None or not contracts.num_rows:
        return ContractBook([])
    numbers = sorted(contracts.column(CONTRACT).to_pylist())
    mine = [book[i] for i in numbers]
    composites = {}
    if extras is not None and extras.composites:
        customers = {c.customer_id for c in mine}
        composites = {k: v for k, v in extras.composites.items() if k[0] in customers}
    return ContractBook(mine, composites=composites)


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
            c: part_rows.column(c).combine_chunks()
            for c in READ_COLUMNS
            if c in part_rows.column_names
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
