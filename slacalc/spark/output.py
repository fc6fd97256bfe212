"""A report run on Spark (:func:`slacalc.run.report` with ``engine="spark"``): the session, the
report's frame, and its rows brought back to the driver in order for slacalc's own writers, or
written by Spark as a Parquet folder.

On a local master Spark writes the sorted rows to a temporary Parquet folder (its part files are
in order) that is read back a piece at a time, so the driver never holds the report whole; on a
cluster the rows are collected (the driver holds the report, never the log).
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

from slacalc.dates.months import Month
from slacalc.dates.workdays import unconfirmed_warnings
from slacalc.errors import UsageError, printable
from slacalc.model.settings import Settings
from slacalc.writing.output import OutputError

PIECE_ROWS = 1 << 17
INSTALL = "pip install 'slacalc[spark]'"


def spark_run(
    incidents: Sequence[str],
    contracts: str | None,
    settings: Settings,
    months: list[Month] | None,
    input_format: str | None,
    master: str | None,
    *,
    work: Any = None,
    book: Any = None,
) -> tuple[SparkRows, list[Month], list[str]]:
    """The report of ``incidents`` computed on Spark: its rows (close them when done: they
    hold the session this call started), months and warnings. ``work``: zones, counts and
    composites (:func:`slacalc.spark.report.spark_report`); ``book``: the contracts file read
    already (a local file or standard input)."""
    try:
        import pyspark  # noqa: F401 - only to say how to get it
    except ImportError:
        raise UsageError(f"--engine spark needs pyspark: {INSTALL}") from None
    from slacalc.reading.contracts import read_contracts
    from slacalc.spark.frames import read_csv, read_incident_frame
    from slacalc.spark.report import spark_report
    from slacalc.spark.session import spark_session

    spark, started = spark_session(master)
    rows: SparkRows | None = None
    try:
        if book is None and (contracts == "-" or (contracts and os.path.isfile(contracts))):
            book = read_contracts(
                contracts, policy=settings.policy, default_currency=settings.currency
            )
        elif book is None and contracts:
            book = read_csv(spark, contracts)
        frame = read_incident_frame(spark, list(incidents), fmt=input_format)
        result = spark_report(
            frame,
            book,
            settings,
            months=months,
            contracts_name=contracts or "contracts",
            work=work,
        )
        rows = SparkRows(spark, result, settings, started)
        warnings = [
            *result.warnings,
            *unconfirmed_warnings(settings.work_calendar, rows.calendar_years()),
        ]
        return rows, result.months, warnings
    except BaseException:
        if rows is not None:
            rows.close()
        elif started:
            spark.stop()
        raise


class SparkRows:
    """The rows of a Spark report, in order, as pieces of text columns for the writers."""

    def __init__(self, spark: Any, result: Any, settings: Settings, started: bool) -> None:
        self.spark, self.result, self.settings, self.started = spark, result, settings, started
        self.frame = result.frame
        self.folder: str | None = None
        self._breached: bool | None = None

    def text_parts(self) -> Iterator[Callable[[], dict[str, Any]]]:
        if self.spark.sparkContext.master.startswith("local") and self.folder is None:
            self.folder = tempfile.mkdtemp(prefix="slacalc-spark-")
            self.frame.write.mode("overwrite").parquet(self.folder)
        seen = False
        for batch in self._batches():
            seen = seen or bool(
                batch.num_rows and pc.any(batch.column("breached")).as_py()  # type: ignore[arg-type]
            )
            yield partial(self._piece, batch)
        self._breached = seen

    def any_breached(self) -> bool:
        if self._breached is None:
            self._breached = bool(self.frame.filter("breached").limit(1).count())
        return self._breached

    def calendar_years(self, *, deadlines: bool = False) -> set[int]:
        """The years whose working days the claim windows count (as Report.calendar_years does
        without deadlines): the month after each reported month, if a policy counts them."""
        result, settings = self.result, self.settings
        contracts = list(result.contracts.contracts) if result.contracts is not None else []
        if settings.fallback is not None:
            contracts.append(settings.fallback)
        counts = any(
            p.claim_window is not None and p.claim_window.opens_after_working_days
            for p in {id(x.policy): x.policy for x in contracts}.values()
        )
        return {m.next().year for m in result.months} if counts else set()

    def close(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
        if self.started:
            self.started = False
            self.spark.stop()

    def _batches(self) -> Iterator[Any]:
        import pyarrow.parquet as pq

        if self.folder is None:
            yield from self.frame.toArrow().to_batches(PIECE_ROWS)
            return
        for name in sorted(os.listdir(self.folder)):
            if name.startswith("part-") and name.endswith(".parquet"):
                part = pq.ParquetFile(os.path.join(self.folder, name))
                yield from part.iter_batches(PIECE_ROWS)

    @staticmethod
    def _piece(batch: Any) -> dict[str, Any]:
        from slacalc.computing.fields import ARROW_SCHEMA

        table = pa.Table.from_batches([batch]).cast(ARROW_SCHEMA)
        return {name: table.column(name).combine_chunks() for name in table.column_names}


def write_parquet(rows: SparkRows, output: str, inputs: Sequence[str]) -> None:
    """The rows as a Parquet folder written by Spark (replaced whole)."""
    name = printable(output)
    if os.path.isfile(output):
        raise UsageError(f"cannot write '{name}': a Parquet report is a folder, and this is a file")
    real = os.path.realpath(output)
    for path in inputs:
        if os.path.exists(path) and os.path.realpath(path) == real:
            raise UsageError(f"-o '{name}' is the input '{printable(path)}': refusing to overwrite")
    try:
        rows.frame.write.mode("overwrite").parquet(output)
    except Exception as exc:  # Spark's errors: a folder it cannot write
        text = str(exc).strip()
        raise OutputError(
            f"cannot write '{name}': {text.splitlines()[0] if text else type(exc).__name__}"
        ) from None
