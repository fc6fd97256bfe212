"""Writers for CSV and JSON, the one format switch, and atomic output files.

Renderers only format: every value they print was computed by the core and arrives through a
result's ``to_dict()``.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, TextIO

from slacalc.errors import UsageError

# A cell starting with one of these is a formula to a spreadsheet (CSV injection).
FORMULA_CHARS = frozenset("=+-@\t\r")


class Format(StrEnum):
    """Output formats shared by every command."""

    table = "table"
    csv = "csv"
    json = "json"


def choose_format(fmt: Format | None, output: str | None) -> Format:
    """``--format`` if given, else the output file's extension, else a table."""
    if fmt is not None:
        return fmt
    if output and output != "-":
        ext = Path(output).suffix.lower()
        if ext == ".csv":
            return Format.csv
        if ext == ".json":
            return Format.json
        if ext not in (".txt", ""):
            raise UsageError(
                f"cannot tell the format of '{output}' from its extension: "
                "use .csv, .json or .txt, or give --format"
            )
    return Format.table


def csv_cell(value: Any, *, raw: bool = False) -> str:
    """One CSV cell: booleans as true/false, None empty, text guarded against formulas."""
    kind = type(value)
    if kind is str:
        if value and not raw and value[0] in FORMULA_CHARS:
            return "'" + value
        return value
    if kind is bool:
        return "true" if value else "false"
    if value is None:
        return ""
    if kind is Decimal:
        return f"{value:f}"
    return str(value)


def write_csv(
    records: Iterable[dict[str, Any]], fields: Sequence[str], out: TextIO, *, raw: bool = False
) -> None:
    """Header then one line per record, in ``fields`` order, with LF line endings."""
    write_csv_rows(([rec[f] for f in fields] for rec in records), fields, out, raw=raw)


def write_csv_rows(
    rows: Iterable[list[Any]],
    fields: Sequence[str],
    out: TextIO,
    *,
    raw: bool = False,
    text_columns: Sequence[int] | None = None,
) -> None:
    """``write_csv`` for rows that are already lists of values in ``fields`` order.

    With ``text_columns`` (the positions holding text from the input), only those cells are
    guarded and the others are converted by type alone: the fast path for large reports.
    """
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(fields)
    if text_columns is None:
        cell = csv_cell
        writer.writerows([cell(v, raw=raw) for v in row] for row in rows)
        return

    def cells(row: list[Any]) -> list[Any]:
        for i, value in enumerate(row):
            kind = type(value)
            if kind is bool:
                row[i] = "true" if value else "false"
            elif kind is Decimal:
                row[i] = f"{value:f}"
        if not raw:
            for i in text_columns:
                value = row[i]
                if value and value[0] in FORMULA_CHARS:
                    row[i] = "'" + value
        return row

    writer.writerows(map(cells, rows))


def _json_number(value: Any) -> Any:
    if isinstance(value, Decimal):
        # Seconds: at most 3 decimals and far below 2**53, so the float prints the same digits.
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def write_json(records: Iterable[dict[str, Any]], out: TextIO) -> None:
    """A JSON list of objects; seconds as numbers, money and percentages as strings."""
    json.dump(list(records), out, ensure_ascii=False, indent=2, default=_json_number)
    out.write("\n")


def write_output(output: str | None, write: Callable[[TextIO], None]) -> None:
    """Run ``write`` on stdout, or on a file that appears whole or not at all.

    The file is written next to its destination and renamed into place only after ``write``
    returned, so a failed run leaves neither a partial file nor a stale temporary one.
    """
    if output is None or output == "-":
        # Rendered whole first: a failure half-way prints nothing rather than half a CSV.
        buffer = io.StringIO()
        write(_TtyLike(buffer, sys.stdout))
        sys.stdout.write(buffer.getvalue())
        sys.stdout.flush()
        return
    target = Path(output)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"cannot write '{output}': folder '{folder}' does not exist")
    if target.is_dir():
        raise UsageError(f"cannot write '{output}': it is a directory")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            write(fh)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


class _TtyLike(io.TextIOBase):
    """A text buffer that answers ``isatty`` like the stream it will be copied to."""

    def __init__(self, buffer: io.StringIO, like: TextIO) -> None:
        self._buffer = buffer
        self._like = like

    def write(self, text: str) -> int:
        return self._buffer.write(text)

    def isatty(self) -> bool:
        return hasattr(self._like, "isatty") and self._like.isatty()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
