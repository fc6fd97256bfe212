"""CSV and JSON for billing scripts: stable columns, safe cells.

Writers only format: every value arrives computed, as records (small outputs) or as columns of
pyarrow text (a report of a million rows). Text that came from the input is guarded against
spreadsheet formulas (a leading ``= + - @``, tab or carriage return gets a ``'``, unless
``raw``), and any cell holding a comma, a quote or a line break, a bare ``\\r`` included, is
quoted, so no cell can split a row.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from decimal import Decimal
from functools import partial
from typing import Any, TextIO

from slacalc import speed

# Whether CSV outputs begin with their header line (``--no-header`` turns it off for a run).
_HEADER: contextvars.ContextVar[bool] = contextvars.ContextVar("csv_header", default=True)


@contextlib.contextmanager
def headers(on: bool) -> Iterator[None]:
    """CSV written inside the block has its header line (``on``) or not (``--no-header``,
    for appending to a file that has one, or for ``sort``)."""
    token = _HEADER.set(on)
    try:
        yield
    finally:
        _HEADER.reset(token)


# A cell starting with one of these is a formula to a spreadsheet (CSV injection).
FORMULA_CHARS = frozenset("=+-@\t\r")
_GUARD = r"^[=+\-@\t\r]"
_QUOTE = r'[,"\r\n]'


def csv_cell(value: Any, *, guard: bool = False) -> str:
    """One CSV cell: booleans as true/false, None empty, guarded text, quoted when needed."""
    if value is None:
        text = ""
    elif value is True or value is False:
        text = "true" if value else "false"
    elif isinstance(value, Decimal):
        text = f"{value:f}"
    else:
        text = str(value)
    if guard and text and text[0] in FORMULA_CHARS:
        text = "'" + text
    if any(c in text for c in ',"\r\n'):
        text = '"' + text.replace('"', '""') + '"'
    return text


def write_csv(
    records: Iterable[dict[str, Any]],
    fields: Sequence[str],
    out: TextIO,
    *,
    text_fields: Collection[str] = (),
    raw: bool = False,
) -> None:
    """Header then one line per record, in ``fields`` order, LF line endings. ``text_fields``
    hold text from the input: guarded against formulas unless ``raw``."""
    guarded = [f in text_fields and not raw for f in fields]
    if _HEADER.get():
        out.write(",".join(csv_cell(f) for f in fields) + "\n")
    for rec in records:
        out.write(
            ",".join(csv_cell(rec[f], guard=g) for f, g in zip(fields, guarded, strict=True)) + "\n"
        )


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # Seconds: at most 3 decimals and far below 2**53, so the float prints the same digits.
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def write_as(
    fmt: Any,
    records: Iterable[dict[str, Any]],
    fields: Sequence[str],
    out: TextIO,
    person: Callable[[], None],
    *,
    json_records: Iterable[dict[str, Any]] | None = None,
    text_fields: Collection[str] = (),
    raw: bool = False,
) -> None:
    """``records`` as ``fmt`` (a :class:`~slacalc.writing.formats.Format`) has them: CSV of
    ``fields``, JSON or JSON Lines (of ``json_records`` when JSON holds them otherwise), or,
    for a table, what ``person`` prints."""
    from slacalc.writing.formats import Format

    if fmt is Format.csv:
        write_csv(records, fields, out, text_fields=text_fields, raw=raw)
    elif fmt in (Format.json, Format.jsonl):
        chosen = records if json_records is None else json_records
        write_json(chosen, out, lines=fmt is Format.jsonl)
    else:
        person()


def write_json(records: Iterable[dict[str, Any]], out: TextIO, *, lines: bool = False) -> None:
    """A JSON list of objects (``lines``: JSON Lines, one compact object per line); seconds as
    numbers, money and percentages as exact strings, and an empty value (``""``, None) as
    ``null`` at any depth, so that ``jq 'select(.x == null)'`` finds it."""
    if lines:
        for rec in records:
            out.write(json.dumps(_nulls(rec), ensure_ascii=False, default=_json_default) + "\n")
        return
    data = [_nulls(r) for r in records]
    json.dump(data, out, ensure_ascii=False, indent=2, default=_json_default)
    out.write("\n")


def _nulls(value: Any) -> Any:
    """``value`` with every empty string, in dicts and lists at any depth, as None."""
    if value == "":
        return None
    if isinstance(value, dict):
        return {k: _nulls(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_nulls(v) for v in value]
    return value


# --- columns of text, for large outputs ------------------------------------------------------


def column_cells(values: Any, *, guard: bool) -> tuple[Any, bool]:
    """A pyarrow column as CSV cells (booleans as true/false), guarded and quoted as needed, and
    whether any cell is quoted.

    The work is done once per distinct value: a report repeats each customer on every month.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if values.type == pa.bool_():
        return pc.if_else(values, "true", "false"), False
    if values.type != pa.string():
        return pc.cast(values, pa.string()), False
    encoded = values.dictionary_encode()
    words = encoded.dictionary
    if guard:
        words = pc.if_else(
            pc.match_substring_regex(words, _GUARD),
            pc.binary_join_element_wise("'", words, ""),
            words,
        )
    quote = pc.match_substring_regex(words, _QUOTE)
    quoted = bool(pc.any(quote).as_py())
    if quoted:
        doubled = pc.replace_substring(words, '"', '""')
        words = pc.if_else(quote, pc.binary_join_element_wise('"', doubled, '"', ""), words)
    return words.take(encoded.indices), quoted


def write_columns_csv(
    parts: Iterable[Callable[[], dict[str, Any]]],
    fields: Sequence[str],
    out: TextIO,
    *,
    text_fields: Collection[str] = (),
    raw: bool = False,
) -> None:
    """``write_csv`` for a large output given as pieces of columns (``parts`` are functions
    that give each piece's pyarrow columns): each piece is formatted in bulk, pieces in
    parallel, and written in order."""

    def encode(part: Callable[[], dict[str, Any]]) -> bytes:
        return csv_piece(part(), fields, text_fields=text_fields, raw=raw)

    if _HEADER.get():
        out.write(",".join(fields) + "\n")
    for data in speed.in_order(partial(encode, p) for p in parts):
        write_bytes(out, data)


def csv_piece(
    columns: dict[str, Any], fields: Sequence[str], *, text_fields: Collection[str], raw: bool
) -> bytes:
    """The CSV lines of one piece of columns, as UTF-8 bytes."""
    import pyarrow.compute as pc

    cells, quoted = [], False
    for f in fields:
        if f in text_fields:
            text, any_quoted = column_cells(columns[f], guard=not raw)
            quoted = quoted or any_quoted
        else:
            text = _plain_cells(columns[f])
        cells.append(text)
    if not len(cells[0]):
        return b""
    if not quoted:
        return _unquoted(cells)  # no cell needs quotes: pyarrow's writer, which checks it
    lines = pc.binary_join_element_wise(*cells, ",")
    return array_bytes(pc.binary_join_element_wise(lines, "\n", ""))


def write_bytes(out: TextIO, data: bytes) -> None:
    """UTF-8 bytes to a text stream: straight to its binary buffer when it has one."""
    buffer = getattr(out, "buffer", None)
    if buffer is not None:
        out.flush()
        buffer.write(data)
    else:
        out.write(data.decode("utf-8"))


def _unquoted(cells: list[Any]) -> bytes:
    """Cells none of which needs quoting, through pyarrow's CSV writer with quoting off (it
    refuses any value with a comma, quote or line break, so nothing can slip through)."""
    import io

    import pyarrow as pa
    import pyarrow.csv as pcsv

    table = pa.table({f"c{i}": c for i, c in enumerate(cells)})
    buffer = io.BytesIO()
    options = pcsv.WriteOptions(include_header=False, quoting_style="none", batch_size=1 << 16)
    pcsv.write_csv(table, buffer, options)
    return buffer.getvalue()


def _plain_cells(values: Any) -> Any:
    """slacalc's own values as cells: booleans as true/false; its words never need quoting."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if values.type == pa.bool_():
        return pc.if_else(values, "true", "false")
    if values.type != pa.string():
        return pc.cast(values, pa.string())
    return values


def array_bytes(lines: Any) -> bytes:
    """A string array's values end to end (its data buffer, copied once)."""
    import numpy as np

    buffers = lines.buffers()
    offsets = np.frombuffer(
        buffers[1], dtype=np.int32, count=len(lines) + 1, offset=lines.offset * 4
    )
    data = buffers[2]
    return bytes(memoryview(data)[int(offsets[0]) : int(offsets[-1])])


def write_columns_json(
    parts: Iterable[Callable[[], dict[str, Any]]],
    fields: Sequence[str],
    numbers: Collection[str],
    out: TextIO,
    *,
    lines: bool = False,
) -> None:
    """``write_json`` for a large output given as pieces of columns: the same text, built in
    bulk (``lines``: JSON Lines). ``numbers`` are written bare, empty text as ``null``."""

    def encode(part: Callable[[], dict[str, Any]]) -> bytes:
        return json_piece(part(), fields, numbers, lines=lines)

    if lines:
        for data in speed.in_order(partial(encode, p) for p in parts):
            if data:
                write_bytes(out, data)
        return
    first = True
    for data in speed.in_order(partial(encode, p) for p in parts):
        if not data:
            continue
        out.write("[\n" if first else ",\n")
        write_bytes(out, data)
        first = False
    out.write("[]\n" if first else "\n]\n")


def json_piece(
    columns: dict[str, Any],
    fields: Sequence[str],
    numbers: Collection[str],
    *,
    lines: bool = False,
) -> bytes:
    """The JSON objects of one piece of columns, separated by commas (no brackets); with
    ``lines``, compact objects each ending its line (JSON Lines)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(columns[fields[0]])
    if not n:
        return b""
    parts: list[Any] = []
    for i, f in enumerate(fields):
        values = columns[f]
        if values.type == pa.bool_():
            token = pc.if_else(values, "true", "false")
        elif f in numbers:
            token = pc.cast(values, pa.string())
        else:
            encoded = pc.cast(values, pa.string()).dictionary_encode()
            quoted = pa.array(
                [
                    json.dumps(v, ensure_ascii=False) if v != "" else "null"
                    for v in encoded.dictionary.to_pylist()
                ],
                pa.string(),
            )
            token = quoted.take(encoded.indices)
        if lines:
            head = "{" if i == 0 else ", "
            parts += [pa.scalar(f"{head}{json.dumps(f)}: "), token]
        else:
            head = "  {\n" if i == 0 else ",\n"
            parts += [pa.scalar(f"{head}    {json.dumps(f)}: "), token]
    if lines:
        rows = pc.binary_join_element_wise(*parts, pa.scalar("}"), "")
        return array_bytes(pc.binary_join_element_wise(rows, "\n", ""))
    rows = pc.binary_join_element_wise(*parts, pa.scalar("\n  }"), "")
    text = array_bytes(pc.binary_join_element_wise(rows, ",\n", ""))
    return text[:-2]
