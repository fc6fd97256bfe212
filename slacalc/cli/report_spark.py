"""`slacalc report --engine spark`: the report computed on Spark, written as the default engine
writes it.

CSV and JSON are formatted on the driver by the same writers as ``slacalc report`` (the same
bytes); ``-o DIR.parquet`` (without ``--format``) has Spark write a Parquet folder instead, the
rows never passing through the driver. Without ``--format`` or ``-o``, CSV goes to stdout (a
table needs the report's deadlines, which a cluster run does not gather).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import typer

from slacalc.cli import common as c
from slacalc.cli.report import render_columns
from slacalc.computing.report import Settings
from slacalc.dates.months import Month
from slacalc.errors import UsageError, printable
from slacalc.reading.contracts import read_contracts
from slacalc.writing.formats import Format, choose_format
from slacalc.writing.output import OutputError, write_output

PIECE_ROWS = 1 << 17
INSTALL = "pip install 'slacalc[spark]'"


def spark_report(
    incidents: list[str],
    *,
    contracts: str | None,
    settings: Settings,
    months: list[Month] | None,
    input_format: str | None,
    fmt: Format | None,
    output: str | None,
    raw_csv: bool,
    fail_on_breach: bool,
    master: str | None,
) -> None:
    """Run the report on Spark and write it; exit 3 on a breach with ``fail_on_breach``."""
    parquet = fmt is None and output is not None and output.lower().endswith(".parquet")
    if not parquet:
        fmt = choose_format(fmt, output) if fmt is not None or output not in (None, "-") else None
        if fmt is Format.table:
            raise UsageError(
                "--engine spark writes csv or json (or -o DIR.parquet), not a table: give "
                "--format csv|json"
            )
        fmt = fmt or Format.csv
    try:
        import pyspark  # noqa: F401 - only to say how to get it
    except ImportError:
        raise UsageError(f"--engine spark needs pyspark: {INSTALL}") from None
    from slacalc.spark import read_csv, read_incident_frame, spark_report, spark_session

    spark, started = spark_session(master)
    try:
        book: Any = None
        if contracts == "-" or (contracts and os.path.isfile(contracts)):
            book = read_contracts(
                contracts, policy=settings.policy, default_currency=settings.currency
            )
        elif contracts:
            book = read_csv(spark, contracts)
        frame = read_incident_frame(spark, incidents, fmt=input_format)
        result = spark_report(
            frame,
            book,
            settings,
            months=months,
            contracts_name=contracts or "contracts",
        )
        for message in result.warnings:
            c.warn(message)
        c.warn_unconfirmed(settings.work_calendar, _claim_years(result, settings))
        inputs = [*incidents, *([contracts] if contracts else [])]
        if parquet:
            assert output is not None
            breached = _write_parquet(result.frame, output, inputs)
        else:
            assert fmt is not None
            with _SortedRows(spark, result.frame) as rows:
                write_output(
                    output,
                    lambda out: render_columns(rows, fmt, out, raw_csv=raw_csv),
                    inputs=inputs,
                    stream=True,
                )
                breached = rows.breached
    finally:
        if started:
            spark.stop()
    if fail_on_breach and breached:
        raise typer.Exit(3)


class _SortedRows:
    """The report's rows on the driver, in order, as pieces of columns for the writers, noting
    whether any row is breached. On a local master Spark writes the sorted rows to a temporary
    Parquet folder (its part files are in order) that is read back a piece at a time, so the
    driver never holds the report whole; on a cluster the rows are collected."""

    def __init__(self, spark: Any, frame: Any) -> None:
        self.spark, self.frame = spark, frame
        self.folder: str | None = None
        self.breached = False

    def __enter__(self) -> _SortedRows:
        if self.spark.sparkContext.master.startswith("local"):
            self.folder = tempfile.mkdtemp(prefix="slacalc-spark-")
            self.frame.write.mode("overwrite").parquet(self.folder)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __iter__(self) -> Iterator[Callable[[], dict[str, Any]]]:
        for batch in self._batches():
            yield partial(self._piece, batch)

    def _batches(self) -> Iterator[Any]:
        import pyarrow.parquet as pq

        if self.folder is None:
            yield from self.frame.toArrow().to_batches(PIECE_ROWS)
            return
        for name in sorted(os.listdir(self.folder)):
            if name.startswith("part-") and name.endswith(".parquet"):
                part = pq.ParquetFile(os.path.join(self.folder, name))
                yield from part.iter_batches(PIECE_ROWS)

    def _piece(self, batch: Any) -> dict[str, Any]:
        from slacalc.spark.groups import ROWS

        table = pa.Table.from_batches([batch]).cast(ROWS)
        if table.num_rows and pc.any(table.column("breached")).as_py():
            self.breached = True
        return {name: table.column(name).combine_chunks() for name in table.column_names}


def _write_parquet(frame: Any, output: str, inputs: Sequence[str]) -> bool:
    """The rows as a Parquet folder (replaced whole); whether any row is breached."""
    name = printable(output)
    if os.path.isfile(output):
        raise UsageError(f"cannot write '{name}': a Parquet report is a folder, and this is a file")
    real = os.path.realpath(output)
    for path in inputs:
        if os.path.exists(path) and os.path.realpath(path) == real:
            raise UsageError(f"-o '{name}' is the input '{printable(path)}': refusing to overwrite")
    try:
        frame.write.mode("overwrite").parquet(output)
    except Exception as exc:  # Spark's errors: a folder it cannot write
        text = str(exc).strip()
        raise OutputError(
            f"cannot write '{name}': {text.splitlines()[0] if text else type(exc).__name__}"
        ) from None
    return bool(frame.filter("breached").limit(1).count())


def _claim_years(result: Any, settings: Settings) -> set[int]:
    """The years whose working days the claim windows count (as Report.calendar_years does
    without deadlines): the month after each reported month, if a policy counts them."""
    contracts = list(result.contracts.contracts) if result.contracts is not None else []
    if settings.fallback is not None:
        contracts.append(settings.fallback)
    counts = any(
        p.claim_window is not None and p.claim_window.opens_after_working_days
        for p in {id(x.policy): x.policy for x in contracts}.values()
    )
    return {m.next().year for m in result.months} if counts else set()
