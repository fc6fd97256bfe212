"""slacalc's own incident log written out: CSV, JSON Lines or Parquet.

What ``slacalc import`` writes, for ``validate``, ``report`` and ``explain`` to read back into
the same table whichever of the three it is. Columns, in this order: ``start, end,
customer_id, service, incident_id, category, impact, source``.

- Timestamps are ISO 8601 with the offset the source gave them, to the second (or the
  microsecond when they have one); an ongoing incident has an empty ``end`` (JSON ``null``).
- ``impact`` is the exact decimal share (``0.3``, ``1``): a JSON number, a Parquet decimal.
- CSV guards the text taken from the sources (``customer_id, service, incident_id, source``)
  against spreadsheet formulas unless ``raw``, and quotes any cell with a comma, quote or line
  break, as every slacalc CSV does (:func:`slacalc.writing.csvjson.csv_cell`).
- Parquet holds typed columns: ``start``/``end`` as ``timestamp[us, UTC]`` (the instant; the
  source's offset is not kept), ``impact`` as a decimal, the rest as strings. It is binary, so
  it is written to a file (atomically, like every ``-o``) or to a pipe, never to a terminal.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol, TextIO

from slacalc.errors import UsageError
from slacalc.model.cells import COLUMNS
from slacalc.terms.numbers import share
from slacalc.writing.csvjson import write_csv
from slacalc.writing.output import (
    STDOUT,
    OutputError,
    refuse_folder_name,
    standard_stream,
    write_output,
)

FIELDS = COLUMNS
# The cells whose text comes from the sources: guarded against spreadsheet formulas in CSV.
TEXT_FIELDS = ("customer_id", "service", "incident_id", "source")


class LogFormat(StrEnum):
    """The formats of slacalc's own incident log."""

    csv = "csv"
    jsonl = "jsonl"
    parquet = "parquet"


# The names `read_incidents` reads in the same format (tests check they agree).
EXTENSIONS = {
    ".csv": LogFormat.csv,
    ".txt": LogFormat.csv,
    ".jsonl": LogFormat.jsonl,
    ".ndjson": LogFormat.jsonl,
    ".parquet": LogFormat.parquet,
    ".pq": LogFormat.parquet,
}


class LogRow(Protocol):
    """One incident as the log holds it (:class:`slacalc.importing.ImportedRow` is one)."""

    @property
    def start(self) -> datetime: ...
    @property
    def end(self) -> datetime | None: ...
    @property
    def customer_id(self) -> str: ...
    @property
    def service(self) -> str: ...
    @property
    def incident_id(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def impact(self) -> Fraction | int: ...
    @property
    def source(self) -> str: ...


def log_format(fmt: LogFormat | str | None, output: str | None) -> LogFormat:
    """``--format`` if given, else the extension of ``-o``, else CSV."""
    if fmt is not None:
        try:
            return LogFormat(str(fmt).lower())
        except ValueError:
            raise UsageError(f"--format '{fmt}': expected one of {', '.join(LogFormat)}") from None
    if output is None or output == STDOUT:
        return LogFormat.csv
    suffix = Path(output).suffix.lower()
    if suffix not in EXTENSIONS:
        raise UsageError(
            f"cannot tell the format of '{output}' from its extension: use "
            f"{', '.join(EXTENSIONS)}, or give --format {'|'.join(LogFormat)}"
        )
    return EXTENSIONS[suffix]


def timestamp_text(moment: datetime) -> str:
    """ISO 8601 with the offset: ``2025-03-04T10:05:00+00:00``, microseconds when there are.

    An offset with seconds (local mean time of old dates) is written in UTC: ISO 8601 offsets
    are hours and minutes.
    """
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError("the incident log's times must be aware")
    if offset % timedelta(minutes=1):
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="microseconds" if moment.microsecond else "seconds")


def impact_text(impact: Fraction | int) -> str:
    """The exact decimal text of an impact (``0.3``, ``1``)."""
    text = share(impact)
    if "/" in text:
        raise ValueError(f"impact {impact} has no exact decimal form")
    return text


def log_records(rows: Iterable[LogRow]) -> Iterable[dict[str, str | None]]:
    """Each row's cells as text, ``end`` None while ongoing."""
    for row in rows:
        yield {
            "start": timestamp_text(row.start),
            "end": None if row.end is None else timestamp_text(row.end),
            "customer_id": row.customer_id,
            "service": row.service,
            "incident_id": row.incident_id,
            "category": row.category,
            "impact": impact_text(row.impact),
            "source": row.source,
        }


def write_log_csv(rows: Iterable[LogRow], out: TextIO, *, raw: bool = False) -> None:
    """The log as CSV: a header, then one line per row."""
    write_csv(log_records(rows), FIELDS, out, text_fields=TEXT_FIELDS, raw=raw)


def write_log_jsonl(rows: Iterable[LogRow], out: TextIO) -> None:
    """The log as JSON Lines: one object per line, keys in the CSV's column order."""
    for record in log_records(rows):
        items = []
        for field in FIELDS:
            value = record[field]
            if value is None:
                token = "null"
            elif field == "impact":
                token = value  # an exact decimal is a JSON number as it stands
            else:
                token = json.dumps(value, ensure_ascii=False)
            items.append(f"{json.dumps(field)}: {token}")
        out.write("{" + ", ".join(items) + "}\n")


def log_table(rows: Sequence[LogRow]) -> Any:
    """The log as a pyarrow table of typed columns (see the module's notes)."""
    import pyarrow as pa

    from slacalc.dates.instants import to_us

    impacts = [Decimal(impact_text(r.impact)) for r in rows]
    places = max([1, *(-int(d.as_tuple().exponent) for d in impacts)])
    moment = pa.timestamp("us", tz="UTC")
    return pa.table(
        {
            "start": pa.array([to_us(r.start) for r in rows], pa.int64()).cast(moment),
            "end": pa.array(
                [None if r.end is None else to_us(r.end) for r in rows], pa.int64()
            ).cast(moment),
            "customer_id": pa.array([r.customer_id for r in rows], pa.string()),
            "service": pa.array([r.service for r in rows], pa.string()),
            "incident_id": pa.array([r.incident_id for r in rows], pa.string()),
            "category": pa.array([r.category for r in rows], pa.string()),
            "impact": pa.array(impacts, pa.decimal128(places + 1, places)),
            "source": pa.array([r.source for r in rows], pa.string()),
        }
    )


def log_parquet(rows: Sequence[LogRow]) -> bytes:
    """The log as the bytes of a Parquet file."""
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(log_table(rows), buffer)
    return buffer.getvalue()


def write_incident_log(
    rows: Iterable[LogRow],
    output: str | None,
    *,
    fmt: LogFormat,
    raw: bool = False,
    inputs: Iterable[str] = (),
) -> None:
    """Write the log to stdout (``None`` or ``-``) or ``output``, atomically, in ``fmt``.

    Never overwrites one of ``inputs``. Parquet is refused on a terminal (it is binary).
    """
    rows = list(rows)
    if fmt is LogFormat.parquet:
        write_binary(output, log_parquet(rows), inputs=inputs)
    elif fmt is LogFormat.jsonl:
        write_output(output, lambda out: write_log_jsonl(rows, out), inputs=inputs)
    else:
        write_output(output, lambda out: write_log_csv(rows, out, raw=raw), inputs=inputs)


# --- binary output: what write_output does for text ------------------------------------------


def write_binary(output: str | None, data: bytes, *, inputs: Iterable[str] = ()) -> None:
    """``data`` to stdout (not a terminal) or to ``output``: a temporary file beside it renamed
    into place once complete, so a failed run leaves no file and no partial file. A symlink is
    followed, an existing file keeps its permissions, a FIFO or device is written into, and an
    input of the same run is never overwritten."""
    which = 1 if output is None or output == STDOUT else standard_stream(output)
    if which == 1:
        _to_stdout(data)
        return
    assert output is not None
    if which is not None:  # stdin's or stderr's file: never replaced by binary data
        raise UsageError(
            f"-o '{output}' is this run's standard {'input' if which == 0 else 'error'}: "
            "refusing to overwrite it"
        )
    refuse_folder_name(output)
    target = Path(os.path.realpath(output))
    _refuse_inputs(output, target, inputs)
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise UsageError(f"cannot write '{output}': {exc.strerror}") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise UsageError(f"cannot write '{output}': it is a directory")
    if info is not None and not stat.S_ISREG(info.st_mode):
        _guarded(output, lambda: target.write_bytes(data))
        return
    folder = target.parent
    if not folder.is_dir():
        raise UsageError(f"cannot write '{output}': folder '{folder}' does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise UsageError(f"cannot write '{output}': {exc.strerror} (in '{folder}')") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, stat.S_IMODE(info.st_mode) if info is not None else 0o666 & ~mask)
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write '{output}': {exc.strerror or exc}") from None
        raise


def _to_stdout(data: bytes) -> None:
    if sys.stdout is None:
        raise OutputError("cannot write to standard output: it is closed")
    if sys.stdout.isatty():
        raise UsageError(
            "Parquet is binary and is not shown on a terminal: give -o FILE.parquet, "
            "pipe it on, or choose --format csv|jsonl"
        )
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        raise UsageError("Parquet needs a binary standard output: give -o FILE.parquet")
    _guarded("standard output", lambda: (buffer.write(data), buffer.flush()))


def _guarded(where: str, write: Callable[[], Any]) -> None:
    try:
        write()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise OutputError(f"cannot write '{where}': {exc.strerror or exc}") from None


def _refuse_inputs(output: str, target: Path, inputs: Iterable[str]) -> None:
    for path in inputs:
        if path == STDOUT or not os.path.exists(path):
            continue
        with contextlib.suppress(OSError):
            if os.path.samefile(path, target):
                raise UsageError(
                    f"-o '{output}' is the input file '{path}': refusing to "
                    "overwrite what is being read"
                )
