"""Incident logs and contracts as Spark DataFrames with slacalc's column names.

CSV is read with every column as text and with the dialect of Python's ``csv`` module (quote
and escape ``"``, cells as written, quoted line breaks), so each cell holds what slacalc's own
readers would hand to :func:`slacalc.model.table.build_table`. Parquet keeps its types; they
become text on the executors, as :func:`slacalc.reading.parquet.column_text` writes them.
Spark keeps no line numbers: a problem names the file (and the column and value).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from functools import reduce
from typing import Any

import pyarrow as pa

from slacalc.errors import InputError, Problem, UsageError
from slacalc.model.cells import READ_COLUMNS, REQUIRED, header_columns
from slacalc.reading import input_format
from slacalc.reading.files import STDIN
from slacalc.reading.parquet import column_text
from slacalc.spark.groups import FILE

# Python's csv dialect in Spark's words: nothing trimmed, "" escapes a quote, cells may span lines.
CSV_OPTIONS = {
    "header": "true",
    "inferSchema": "false",
    "multiLine": "true",
    "quote": '"',
    "escape": '"',
    "ignoreLeadingWhiteSpace": "false",
    "ignoreTrailingWhiteSpace": "false",
    "encoding": "UTF-8",
    "mode": "PERMISSIVE",
}


def read_csv(spark: Any, path: str) -> Any:
    """A CSV file (or folder, or glob) as Spark reads it for slacalc: every column text."""
    return spark.read.options(**CSV_OPTIONS).csv(path)


def read_incident_frame(spark: Any, paths: Sequence[str], *, fmt: str | None = None) -> Any:
    """The incident logs at ``paths`` (CSV or Parquet; local, ``hdfs://``, ``s3a://``: any
    path Spark reads) as one DataFrame of slacalc's columns and ``_file``; every file-level
    problem (no such file, no ``start`` column, a column of the wrong type) raised together."""
    frames, problems = [], []
    for path in paths:
        if path == STDIN:
            raise UsageError("--engine spark reads files, not standard input ('-')")
        kind = input_format(path, fmt)
        if kind not in ("csv", "parquet"):
            raise UsageError(f"--engine spark reads CSV or Parquet, not {kind} ('{path}')")
        try:
            frame = read_csv(spark, path) if kind == "csv" else spark.read.parquet(path)
        except Exception as exc:  # Spark's AnalysisException and friends: say which file
            problems.append(Problem(path, None, _unreadable(exc)))
            continue
        try:
            frames.append(incident_columns(frame, path, single_file=os.path.isfile(path)))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), frames)


def incident_columns(frame: Any, name: str, *, single_file: bool = False) -> Any:
    """``frame``'s incident columns under slacalc's names (matched case-insensitively, spaces
    ignored) and ``_file``: ``name`` for a single file, else each row's own file. A missing
    ``start`` column, a repeated column or a type with no text form is an InputError."""
    from pyspark.sql import functions as F

    names = [n.lstrip("\ufeff").strip().lower() for n in frame.columns]
    problems = []
    if not names:
        problems.append(Problem(name, None, "empty file: expected a header line with 'start'"))
    try:  # a column named twice (or zone and resource both) is refused, as in a file
        found = header_columns(name, names, READ_COLUMNS)
    except InputError as exc:
        problems.extend(replace(p, line=None) for p in exc.problems)
        found = {}
    missing = [c for c in REQUIRED if c not in names]
    if names and missing:
        header = ", ".join(repr(c) for c in frame.columns)
        problems.append(
            Problem(name, None, f"missing required column '{missing[0]}' (header has: {header})")
        )
    renamed = frame.toDF(*[_column(names, found, i) for i in range(len(names))])
    known = [c for c in READ_COLUMNS if c in found]
    problems.extend(_untyped(renamed, known, name))
    if problems:
        raise InputError(problems)
    if FILE in frame.columns:
        file = F.col(FILE)
    else:
        file = F.lit(name) if single_file else F.input_file_name()
    return renamed.select(*[F.col(c) for c in known], file.alias(FILE))


def _column(names: list[str], found: dict[str, int], i: int) -> str:
    """The name the ``i``-th column goes by: the slacalc column it gives (``resource``:
    ``zone``), else its own (``_file``, columns slacalc does not read)."""
    for column, at in found.items():
        if at == i:
            return column
    return names[i]


def _untyped(frame: Any, columns: Sequence[str], name: str) -> list[Problem]:
    """Columns whose type has no text form (a list, a struct; numbers as timestamps)."""
    from pyspark.sql.pandas.types import to_arrow_type

    problems = []
    for c in columns:
        kind = frame.schema[c].dataType
        try:
            column_text(c, pa.array([], to_arrow_type(kind)))
        except Exception as exc:  # no text form (TypeError), or no Arrow form at all
            problems.append(Problem(name, None, f"{kind.simpleString()} values: {exc}", c))
    return problems


def _unreadable(exc: Exception) -> str:
    condition = getattr(exc, "getCondition", lambda: None)()
    if condition == "PATH_NOT_FOUND":
        return "no such file"
    text = str(exc).strip()
    return f"cannot read: {text.splitlines()[0] if text else type(exc).__name__}"
