"""The CSV incident log read row by row with Python's csv module: any valid CSV at all.

Quoted cells with commas, doubled quotes or line breaks, blank lines, standard input: every file
this reader takes, with each row's own line number. A quoted value that spans lines is taken only
where :func:`slacalc.reading.files.quoted_span_problems` allows it (free text in a column slacalc
ignores, hiding no row). It only collects the cells as text; their meaning comes from
:func:`slacalc.model.table.build_table`, as for every other reader.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pyarrow as pa

from slacalc.errors import InputError, Problem
from slacalc.model.cells import HEADERS, REQUIRED, header_columns
from slacalc.model.table import RawPart
from slacalc.reading.files import CsvFile, open_csv


def read_csv_rows(path: str, *, on_progress: Callable[[int, int], None] | None = None) -> RawPart:
    """One CSV incident log's cells and line numbers (a bad header is an InputError)."""
    f = open_csv(path, required=REQUIRED, known=HEADERS)
    f.on_progress = on_progress
    return csv_part(f)


def csv_part(f: CsvFile) -> RawPart:
    """The cells of an opened CSV file, with every row-shape problem collected."""
    return next(csv_parts(f))


def csv_parts(f: CsvFile, rows: int | None = None) -> Iterator[RawPart]:
    """The cells of an opened CSV file, ``rows`` rows at a time (all at once when None), with
    every row-shape problem collected in the part where it was met. At least one part."""
    name, width = f.name, len(f.header)
    wanted = header_columns(name, f.header)
    columns: dict[str, list[str]] = {c: [] for c in wanted}
    lines: list[int] = []
    problems: list[Problem] = []
    pad = [""] * width

    def part() -> RawPart:
        return RawPart(
            name=name,
            lines=np.array(lines, dtype=np.int64),
            cells={c: pa.array(v, pa.string()) for c, v in columns.items()},
            problems=list(problems),
        )

    spans: list[Problem] = []  # rows refused for a quoted value spanning lines, as met
    try:
        for line, _, cells in f.rows(skip_blank=False, problems=spans):
            if spans:
                problems.extend(spans)
                spans.clear()
            if rows is not None and len(lines) >= rows:
                yield part()
                columns = {c: [] for c in wanted}
                lines, problems = [], []
            n = len(cells)
            if n > width and any(c.strip() for c in cells[width:]):
                problems.append(
                    Problem(name, line, f"row has {n} cells but the header has {width}")
                )
                continue
            if n < width:
                cells = cells + pad[n:]
            lines.append(line)
            for c, i in wanted.items():
                columns[c].append(cells[i])
    except InputError as exc:  # a quote never closed: the rows before it still count
        problems.extend(exc.problems)
    problems.extend(spans)
    yield part()
