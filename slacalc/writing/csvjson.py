"""CSV and JSON for billing scripts: stable columns, safe cells.

Writers only format: every value arrives computed, as records (small outputs) or as columns of
pyarrow text (a report of a million rows). Text that came from the input is guarded against
spreadsheet formulas (a leading ``= + - @``, tab or carriage return gets a ``'``, unless
``raw``), and any cell holding a comma, a quote or a line break, a bare ``\\r`` included, is
quoted, so no cell can split a row.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from decimal import Decimal
from typing import Any, TextIO

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


def write_json(records: Iterable[dict[str, Any]], out: TextIO) -> None:
    """A JSON list of objects; seconds as numbers, money and percentages as strings."""
    json.dump(list(records), out, ensure_ascii=False, indent=2, default=_json_default)
    out.write("\n")


# --- columns of text, for large outputs ------------------------------------------------------


def column_cells(values: Any, *, guard: bool) -> Any:
    """A pyarrow column as CSV cells (booleans as true/false), guarded and quoted as needed.

    The work is done once per distinct value: a report repeats each customer on every month.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if values.type == pa.bool_():
        return pc.if_else(values, "true", "false")
    if values.type != pa.string():
        return pc.cast(values, pa.string())
    encoded = values.dictionary_encode()
    words = encoded.dictionary
    if guard:
        words = pc.if_else(
            pc.match_substring_regex(words, _GUARD),
            pc.binary_join_element_wise("'", words, ""),
            words,
        )
    quote = pc.match_substring_regex(words, _QUOTE)
    if pc.any(quote).as_py():
        doubled = pc.replace_substring(words, '"', '""')
        words = pc.if_else(quote, pc.binary_join_element_wise('"', doubled, '"', ""), words)
    return words.take(encoded.indices)


def write_columns_csv(
    columns: dict[str, Any],
    fields: Sequence[str],
    out: TextIO,
    *,
    text_fields: Collection[str] = (),
    raw: bool = False,
) -> None:
    """``write_csv`` for columns of pyarrow values, joined into lines in bulk."""
    import pyarrow.compute as pc

    out.write(",".join(fields) + "\n")
    if not len(columns[fields[0]]):
        return
    cells = [column_cells(columns[f], guard=f in text_fields and not raw) for f in fields]
    lines = pc.binary_join_element_wise(*cells, ",")
    out.write("\n".join(lines.to_pylist()))
    out.write("\n")


def write_columns_json(
    columns: dict[str, Any], fields: Sequence[str], numbers: Collection[str], out: TextIO
) -> None:
    """``write_json`` for columns: the same text, built in bulk. ``numbers`` are written bare."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(columns[fields[0]])
    if not n:
        out.write("[]\n")
        return
    parts = []
    for i, f in enumerate(fields):
        values = columns[f]
        if values.type == pa.bool_():
            token = pc.if_else(values, "true", "false")
        elif f in numbers:
            token = pc.cast(values, pa.string())
        else:
            encoded = pc.cast(values, pa.string()).dictionary_encode()
            quoted = pa.array(
                [json.dumps(v, ensure_ascii=False) for v in encoded.dictionary.to_pylist()],
                pa.string(),
            )
            token = quoted.take(encoded.indices)
        head = "  {\n" if i == 0 else ",\n"
        parts.append(pa.scalar(f"{head}    {json.dumps(f)}: "))
        parts.append(token)
    parts.append(pa.scalar("\n  }"))
    rows = pc.binary_join_element_wise(*parts, "")
    out.write("[\n" + ",\n".join(rows.to_pylist()) + "\n]\n")
