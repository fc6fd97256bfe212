"""One incident log written in every format slacalc reads, for tests that must hold for all."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

FORMATS = ("csv-rows", "csv-bulk", "jsonl", "parquet")
EXTENSIONS = {"csv-rows": ".csv", "csv-bulk": ".csv", "jsonl": ".jsonl", "parquet": ".parquet"}


def write_log(folder: Path, text: str, fmt: str, name: str = "incidents") -> Path:
    """The CSV log ``text`` (header first) as a file of format ``fmt``.

    JSON Lines keeps every value a string and drops empty cells (a missing key is an empty
    cell); Parquet stores every column as text, empty cells as nulls.
    """
    path = folder / (name + EXTENSIONS[fmt])
    if fmt.startswith("csv"):
        path.write_text(text, encoding="utf-8")
        return path
    rows = list(csv.DictReader(io.StringIO(text)))
    if fmt == "jsonl":
        path.write_text(
            "".join(json.dumps({k: v for k, v in r.items() if v != ""}) + "\n" for r in rows),
            encoding="utf-8",
        )
    else:
        header = next(csv.reader(io.StringIO(text)))
        table = pa.table({h: pa.array([r[h] or None for r in rows], pa.string()) for h in header})
        pq.write_table(table, path)
    return path
