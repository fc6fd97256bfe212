"""A report run written as CSV, JSON or a table: the renderers of ``slacalc report -o`` (and
of :meth:`slacalc.run.ReportRun.write`). They format; the run has computed every value."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TextIO

from slacalc.computing.fields import FIELDS, NUMBER_FIELDS, TEXT_FIELDS
from slacalc.writing.csvjson import write_columns_csv, write_columns_json
from slacalc.writing.formats import Format


def render_report(run: Any, fmt: Format, out: TextIO, *, raw_csv: bool = False) -> None:
    """``run`` (a :class:`~slacalc.run.ReportRun`) in ``fmt`` on ``out``."""
    if fmt in (Format.csv, Format.json, Format.jsonl):
        render_columns(run.text_parts(), fmt, out, raw_csv=raw_csv)
    else:  # rich is imported only for people
        from slacalc.writing.report_view import report_tables
        from slacalc.writing.tables import print_tables

        print_tables(report_tables(run.report), out)


def render_columns(
    parts: Iterable[Callable[[], dict[str, Any]]], fmt: Format, out: TextIO, *, raw_csv: bool
) -> None:
    """The report's fields, given as pieces of columns (:meth:`Report.text_parts`), as CSV,
    JSON or JSON Lines."""
    if fmt is Format.csv:
        write_columns_csv(parts, FIELDS, out, text_fields=TEXT_FIELDS, raw=raw_csv)
    else:
        write_columns_json(parts, FIELDS, NUMBER_FIELDS, out, lines=fmt is Format.jsonl)
