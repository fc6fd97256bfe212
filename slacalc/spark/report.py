"""The monthly report on Spark: the same rows, bytes and warnings as ``slacalc report``.

Spark only moves rows; every rule stays in slacalc. The rows are grouped in buckets of
customers by a hash of the name (a customer's ``*`` contract gets rows only when none of its
keys used it, so all of a customer's keys must meet) and each bucket goes through
:func:`slacalc.model.table.build_table` and :func:`slacalc.computing.report.compute_report`
on an executor in one call, with the bucket's contracts beside it (a cogroup, so a customer
without incidents still gets its rows). A customer ``*`` row reaches each bucket holding a
customer :meth:`ContractBook.customers_of` names, once, through a broadcast join.

A run is three passes over the log: the services of the ``*`` rows; a summary of each group
(the problems of its rows, its months, its late ends, an unpriced key), so every error is
raised and the months of the whole log are known before any row is computed; then the rows,
each group computed for those months.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from slacalc.computing.report import SPANNED, LogFacts
from slacalc.dates.months import Month, check_span
from slacalc.errors import InputError, Problem, UsageError
from slacalc.model.cells import READ_COLUMNS
from slacalc.model.contracts import ContractBook
from slacalc.model.settings import Settings
from slacalc.reading.contracts import COLUMNS as CONTRACT_COLUMNS
from slacalc.reading.contracts import REQUIRED as CONTRACT_REQUIRED
from slacalc.reading.contracts import contracts_of_rows
from slacalc.spark.groups import (
    BAD_USAGE,
    BUCKET,
    CONTRACT,
    CUSTOMER,
    ERROR,
    FILE,
    GROUP,
    LATE,
    MONTH,
    NOTE,
    OWN,
    PROBLEM,
    ROWS,
    SERVICE,
    STAR_GROUP,
    SUMMARY,
    Extras,
    report_rows,
    summary,
    text_batches,
)

ORDER = ("customer_id", "service", "month")


@dataclass
class SparkReport:
    """The report's rows as a Spark DataFrame (not yet computed), its months and warnings."""

    frame: Any  # pyspark.sql.DataFrame: the report's fields, in order, sorted by ORDER
    months: list[Month]
    warnings: list[str] = field(default_factory=list)
    contracts: ContractBook | None = None


def report_frame(
    incidents: Any,
    contracts: Any,
    settings: Settings,
    *,
    months: Sequence[Month] | None = None,
    warnings: list[str] | None = None,
) -> Any:
    """The report of ``incidents`` as a Spark DataFrame: :data:`slacalc.computing.fields.FIELDS`
    in order, with the values ``slacalc report`` writes (text; ``breached`` and ``capped``
    booleans, ``incident_count`` a long), sorted by customer, service and month.

    ``contracts`` is a DataFrame of the contracts CSV's columns, a :class:`ContractBook` or
    None; ``warnings``, if given, receives what the CLI would warn about. Problems in the input
    raise :class:`InputError` before the DataFrame is returned.

    >>> frame = report_frame(spark.read.csv("incidents.csv", header=True),  # doctest: +SKIP
    ...                      spark.read.csv("contracts.csv", header=True), settings)
    """
    result = spark_report(incidents, contracts, settings, months=months)
    if warnings is not None:
        warnings.extend(result.warnings)
    return result.frame


def spark_report(
    incidents: Any,
    contracts: Any,
    settings: Settings,
    *,
    months: Sequence[Month] | None = None,
    contracts_name: str = "contracts",
    contracts_folder: Path = Path("."),
    buckets: int | None = None,
    work: Any = None,
) -> SparkReport:
    """:func:`report_frame`, with the months and warnings beside the frame.

    ``contracts_name`` names a contracts DataFrame in messages; ``contracts_folder`` is where
    the policy files its ``policy`` column names are found. Customers are computed in
    ``buckets`` groups (default: twice the cluster's parallelism, or the log's number of input
    partitions if more, so a group is about one input split). ``work`` (a
    :class:`~slacalc.computing.partitioned.BucketWork` holding the deployments and request
    counts, shipped to the executors) adds zones, counts and composites to each group's steps.
    """
    from pyspark.sql import functions as F

    from slacalc.spark.frames import incident_columns

    book = contract_book(contracts, settings, name=contracts_name, folder=contracts_folder)
    frame = incident_columns(incidents, "incidents")
    if buckets is None:
        parallel = frame.sparkSession.sparkContext.defaultParallelism
        buckets = max(2 * parallel, frame.rdd.getNumPartitions())
    text = _text(frame)
    star = text.filter(F.col(CUSTOMER) == STAR_GROUP)
    services = sorted(
        (r[FILE], r[SERVICE]) for r in star.groupBy(SERVICE).agg(F.min(FILE).alias(FILE)).collect()
    )
    targets = [(s, c) for _, s in services for c in book.customers_of(s)] if book else []
    keyed = _keyed(text, [s for _, s in services], targets, buckets)
    contracts_list = book.contracts if book is not None else None
    extras = _extras(text.sparkSession, work, book, buckets)
    if extras is not None and extras.owners:
        keyed = _with_groups(keyed, sorted(set(extras.owners.values())))
    found = _grouped(
        keyed,
        book,
        partial(summary, settings=settings, book=contracts_list, months=months, extras=extras),
        SUMMARY,
        buckets,
    ).toArrow()
    facts = _check(found)
    notes = _notes(found)
    chosen = sorted(set(months)) if months else _months(found, work)
    if not chosen:
        frame = text.sparkSession.createDataFrame([], _ddl(ROWS))
        return SparkReport(frame, [], facts.warnings(settings.as_of, months=False), book)
    if not months:
        _check_span(chosen)
    if book is not None:
        facts.nobody.extend((f, s) for f, s in services if not book.customers_of(s))
    warnings = [*notes, *facts.warnings(settings.as_of, months=True)]
    rows = _grouped(
        keyed.filter(F.col(BUCKET) >= 0),
        book,
        partial(report_rows, settings=settings, book=contracts_list, months=chosen, extras=extras),
        ROWS,
        buckets,
    )
    return SparkReport(rows.orderBy(*ORDER), chosen, warnings, book)


def _extras(spark: Any, work: Any, book: ContractBook | None, buckets: int) -> Extras | None:
    """The groups' extra steps: ``work``, each deployments' and counts' customer's bucket (by
    the same hash as the log's rows), and the book's composites."""
    composites = dict(book.composites) if book is not None else {}
    if work is None and not composites:
        return None
    from pyspark.sql import functions as F

    customers = sorted(set(work.customers())) if work is not None else []
    owners: dict[str, int] = {}
    if customers:
        frame = spark.createDataFrame([(c,) for c in customers], f"{GROUP} string")
        picked = frame.select(GROUP, _bucket(F.col(GROUP), buckets).alias(BUCKET)).collect()
        owners = {r[GROUP]: r[BUCKET] for r in picked}
    return Extras(work, owners, composites)


def _with_groups(keyed: Any, wanted: list[int]) -> Any:
    """``keyed`` with a blank row (skipped by the reader, never a problem: not the group's
    own) in each of the ``wanted`` buckets, so that every bucket holding a customer of the
    request counts is computed, though it has no incident and no contract."""
    from pyspark.sql import functions as F

    blanks = keyed.sparkSession.createDataFrame([(b,) for b in wanted], f"{BUCKET} int")
    blanks = blanks.withColumn(OWN, F.lit(False)).withColumn(FILE, F.lit(""))
    return keyed.unionByName(blanks, allowMissingColumns=True)


def _notes(found: pa.Table) -> list[str]:
    """The zone warnings the groups found, by file and message (Spark keeps no lines)."""
    rows = [r for r in found.to_pylist() if r["kind"] == NOTE]
    notes = [Problem(r["file"], None, r["message"], r["column"], r["value"]) for r in rows]
    return [str(p) for p in sorted(notes, key=lambda p: (p.file, p.message, p.value or ""))]


def contract_book(
    contracts: Any, settings: Settings, *, name: str = "contracts", folder: Path = Path(".")
) -> ContractBook | None:
    """A contracts DataFrame (the contracts CSV's columns) read with
    :func:`read_contracts`' checks; a :class:`ContractBook` or None as it is."""
    if contracts is None or isinstance(contracts, ContractBook):
        return contracts
    from pyspark.sql import functions as F

    names = [n.lstrip("\ufeff").strip().lower() for n in contracts.columns]
    missing = [c for c in CONTRACT_REQUIRED if c not in names]
    if missing:
        header = ", ".join(repr(c) for c in contracts.columns) or "nothing"
        raise InputError(
            Problem(name, None, f"missing required column '{missing[0]}' (header has: {header})")
        )
    known = [c for c in CONTRACT_COLUMNS if c in names]
    frame = contracts.toDF(*names).select(*[F.col(c).cast("string") for c in known])
    rows = (r.asDict() for r in frame.collect())
    return contracts_of_rows(
        name,
        ((None, r) for r in rows if any((v or "").strip() for v in r.values())),
        policy=settings.policy,
        default_currency=settings.currency,
        folder=folder,
    )


def _text(frame: Any) -> Any:
    """Every known column as text, with the trimmed customer and service (on the executors)."""
    known = [c for c in READ_COLUMNS if c in frame.columns]
    names = [*known, FILE, CUSTOMER, SERVICE]
    return frame.mapInArrow(
        partial(text_batches, columns=known), ", ".join(f"{n} string" for n in names)
    )


def _keyed(text: Any, services: list[str], targets: list[tuple[str, str]], buckets: int) -> Any:
    """Each row with the bucket that takes it: its customer's; a ``*`` row goes to bucket -1
    (once, for its problems and months) and, once each, to every bucket holding a customer it
    reaches, by a broadcast join on (customer ``*``, service)."""
    from pyspark.sql import functions as F

    if not services:
        return text.withColumn(OWN, F.lit(True)).withColumn(
            BUCKET, _bucket(F.col(CUSTOMER), buckets)
        )
    spark = text.sparkSession
    reach = spark.createDataFrame(
        [(STAR_GROUP, s, c) for s, c in targets],
        f"{CUSTOMER} string, {SERVICE} string, {GROUP} string",
    )
    copies = (
        reach.select(CUSTOMER, SERVICE, _bucket(F.col(GROUP), buckets).alias(BUCKET))
        .distinct()
        .withColumn(OWN, F.lit(False))
    )
    once = spark.createDataFrame(
        [(STAR_GROUP, s, -1, True) for s in services],
        f"{CUSTOMER} string, {SERVICE} string, {BUCKET} int, {OWN} boolean",
    )
    keyed = text.join(F.broadcast(once.unionByName(copies)), on=[CUSTOMER, SERVICE], how="left")
    return keyed.select(
        *[c for c in text.columns if c not in (CUSTOMER, SERVICE)],
        F.coalesce(F.col(BUCKET), _bucket(F.col(CUSTOMER), buckets)).alias(BUCKET),
        F.coalesce(F.col(OWN), F.lit(True)).alias(OWN),
    )


def _bucket(customer: Any, buckets: int) -> Any:
    """A customer's bucket: Spark's hash of the name, modulo the number of buckets."""
    from pyspark.sql import functions as F

    return F.pmod(F.hash(customer), F.lit(buckets)).cast("int")


def _grouped(
    keyed: Any, book: ContractBook | None, func: Callable, schema: pa.Schema, buckets: int
) -> Any:
    """``func(key, rows, contracts)`` on every bucket of customers, its contracts beside it."""
    from pyspark.sql import functions as F

    ddl = _ddl(schema)
    if book is None:
        return keyed.groupBy(BUCKET).applyInArrow(_alone(func), ddl)
    spark = keyed.sparkSession
    numbers = [(c.customer_id, i) for i, c in enumerate(book.contracts)]
    contracts = spark.createDataFrame(numbers, f"{GROUP} string, {CONTRACT} int").select(
        _bucket(F.col(GROUP), buckets).alias(BUCKET), CONTRACT
    )
    return (
        keyed.groupBy(BUCKET)
        .cogroup(contracts.groupBy(BUCKET))
        .applyInArrow(partial(_paired, func=func), ddl)
    )


def _alone(func: Callable) -> Callable[[tuple, pa.Table], pa.Table]:
    """``func`` for a group without contracts. A plain function with full type hints: pyspark
    4.3 infers the kind of an Arrow function from its hints, and fails on a ``partial``."""

    def run(key: tuple, rows: pa.Table) -> pa.Table:
        return func(key, rows, None)

    return run


def _paired(key: tuple, rows: pa.Table, contracts: pa.Table, *, func: Callable) -> pa.Table:
    return func(key, rows, contracts)


def _ddl(schema: pa.Schema) -> str:
    kinds = {pa.string(): "string", pa.bool_(): "boolean", pa.int64(): "bigint"}
    return ", ".join(f"`{f.name}` {kinds[f.type]}" for f in schema)


def _check(found: pa.Table) -> LogFacts:
    """Raise the summaries' problems as ``slacalc report`` would (those of the files first,
    then a key without a price); return the late ends they found."""
    rows = found.to_pylist()

    def problems(kind: str) -> list[Problem]:
        return sorted(
            (
                Problem(r["file"], None, r["message"], r["column"], r["value"])
                for r in rows
                if r["kind"] == kind
            ),
            key=lambda p: (p.file, p.column or "", p.value or "", p.message),
        )

    if reading := problems(PROBLEM):
        raise InputError(reading)
    if bad_usage := [r["message"] for r in rows if r["kind"] == BAD_USAGE]:
        raise UsageError(sorted(bad_usage)[0])
    if errors := problems(ERROR):
        star = [p for p in errors if p.value == STAR_GROUP]
        raise InputError(star[:1] or errors)
    facts = LogFacts()
    late = [r for r in rows if r["kind"] == LATE]
    shown = sorted(ref for r in late for ref in json.loads(r["value"]))
    facts.add_late_count(sum(r["count"] for r in late), shown)
    return facts


def _months(found: pa.Table, work: Any = None) -> list[Month]:
    """The months the groups' incidents touch, and the request counts'."""
    rows = found.filter(pc.equal(found.column("kind"), MONTH))
    months = {Month(n // 12, n % 12 + 1) for n in rows.column("count").to_pylist()}
    return sorted(months.union(work.include if work is not None else ()))


def _check_span(months: list[Month]) -> None:
    check_span(months[0], months[-1], SPANNED)
