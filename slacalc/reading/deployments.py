"""Reading a deployments file: in which zones each (customer, service) runs, over time.

CSV with a header, names matched like the incident log's (case-insensitively, surrounding
spaces ignored, unknown columns ignored; ``resource`` is another name for ``zone``)::

    customer_id,service,zone,from,to
    acme,compute,eu-west-1a,,
    acme,compute,eu-west-1b,,2025-05-20T00:00:00Z
    acme,compute,eu-west-1c,2025-05-20T00:00:00Z,

``from`` and ``to`` are instants (ISO 8601 and the other forms the incident log takes; without
an offset: local time in the billing zone); empty means unbounded. A row says the key runs in
the zone over ``[from, to)``. ``customer_id`` and ``zone`` must not be empty (nor ``*``: a
deployment is one customer's); ``service`` may be empty (a log without services). The
intervals of one (customer, service, zone) must not overlap (touching is fine). Every problem
is a ``FILE:LINE: column 'NAME': ...`` problem, all of them together.

The file is read in bulk (pyarrow) when it can vouch for it, else row by row; either way the
cells are checked as columns, so a file of a million rows is read in well under a second.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from slacalc.dates.instants import from_us, parse_instants
from slacalc.errors import InputError, Problem
from slacalc.model.cells import ALIASES, EVERY_CUSTOMER, MAX_CELL, header_columns
from slacalc.model.table import NO_END, trimmed
from slacalc.reading.files import CsvFile, open_csv

COLUMNS = ("customer_id", "service", "zone", "from", "to")
REQUIRED = ("customer_id",)  # and "zone" (or "resource"): checked with its alias
HEADERS = (*COLUMNS, *ALIASES)
NO_START = int(np.iinfo(np.int64).min)  # a deployment without a 'from': since always
MAX_ROWS = 10_000_000  # far above a cloud's deployments: a runaway file is refused


@dataclass
class Deployments:
    """Deployment intervals as columns, one entry per row of the file, in file order.

    ``customer``, ``service`` and ``zone`` are pyarrow string arrays (trimmed); ``start`` and
    ``end`` int64 epoch microseconds, :data:`NO_START` / ``NO_END`` when unbounded."""

    customer: Any
    service: Any
    zone: Any
    start: Any
    end: Any
    file: str
    line: Any  # int64: each row's line in the file

    def __len__(self) -> int:
        return len(self.start)

    @classmethod
    def of_rows(cls, rows: list[tuple[str, str, str, int | None, int | None]]) -> Deployments:
        """Deployments given as ``(customer, service, zone, from_us, to_us)`` tuples (None:
        unbounded), for a library caller or a test; not checked for overlaps."""
        cols = list(zip(*rows, strict=True)) if rows else [(), (), (), (), ()]
        return cls(
            pa.array(cols[0], pa.string()),
            pa.array(cols[1], pa.string()),
            pa.array(cols[2], pa.string()),
            np.array([NO_START if v is None else v for v in cols[3]], dtype=np.int64),
            np.array([NO_END if v is None else v for v in cols[4]], dtype=np.int64),
            "<deployments>",
            np.arange(2, len(rows) + 2, dtype=np.int64),
        )

    def where(self, i: int) -> str:
        return f"{self.file}:{int(self.line[i])}"

    def take(self, rows: Any) -> Deployments:
        """The rows numbered ``rows`` (in that order)."""
        rows = np.asarray(rows, dtype=np.int64)
        at = pa.array(rows)
        return Deployments(
            self.customer.take(at),
            self.service.take(at),
            self.zone.take(at),
            self.start[rows],
            self.end[rows],
            self.file,
            self.line[rows],
        )


def read_deployments(path: str, tz: tzinfo) -> Deployments:
    """Read a deployments CSV strictly; every problem raised together as an InputError.

    >>> from zoneinfo import ZoneInfo
    >>> d = read_deployments("samples/deployments.csv", ZoneInfo("UTC"))  # doctest: +SKIP
    """
    f = open_csv(path, required=REQUIRED, known=HEADERS)
    if "zone" not in header_columns(f.name, f.header, COLUMNS):
        shown = ", ".join(repr(c) for c in f.header)
        raise InputError(
            Problem(
                f.name, 1, f"missing required column 'zone' (or 'resource') (header has: {shown})"
            )
        )
    cells, lines, problems = _cells(f)
    if len(lines) > MAX_ROWS:
        raise InputError(
            Problem(f.name, None, f"more than {MAX_ROWS} deployments: is this a deployments file?")
        )
    deployments, found = _typed(f.name, cells, lines, tz)
    problems.extend(found)
    if problems:
        problems.sort(key=lambda p: p.line or 0)
        raise InputError(problems)
    return deployments


def _cells(f: CsvFile) -> tuple[dict[str, Any], Any, list[Problem]]:
    """The file's cells as pyarrow string arrays, each row's line, and row-shape problems."""
    from slacalc.reading import csv_bulk

    if len(f.data) >= csv_bulk.MIN_BYTES:
        pieces = csv_bulk.bulk_pieces(f, columns=COLUMNS)
        if pieces is not None:
            try:
                parts = list(pieces)
            except csv_bulk.NotBulk:
                parts = None
            if parts is not None:
                return _joined(parts)
    wanted = header_columns(f.name, f.header, COLUMNS)
    width = len(f.header)
    columns: dict[str, list[str]] = {c: [] for c in wanted}
    lines: list[int] = []
    problems: list[Problem] = []
    for line, _, row in _rows(f, problems):
        if len(row) > width and any(c.strip() for c in row[width:]):
            problems.append(
                Problem(f.name, line, f"row has {len(row)} cells but the header has {width}")
            )
            continue
        lines.append(line)
        for c, i in wanted.items():
            columns[c].append(row[i] if i < len(row) else "")
    cells = {c: pa.array(v, pa.string()) for c, v in columns.items()}
    return cells, np.array(lines, dtype=np.int64), problems


def _rows(f: CsvFile, problems: list[Problem]) -> Iterator[tuple[int, int, list[str]]]:
    try:
        yield from f.rows(problems=problems)
    except InputError as exc:  # a quote never closed: the rows before it still count
        problems.extend(exc.problems)


def _joined(parts: list[Any]) -> tuple[dict[str, Any], Any, list[Problem]]:
    if not parts:
        return {}, np.zeros(0, dtype=np.int64), []
    cells = {
        c: pa.chunked_array([p.cells[c] for p in parts]).combine_chunks() for c in parts[0].cells
    }
    lines = np.concatenate([p.lines for p in parts])
    return cells, lines, [q for p in parts for q in p.problems]


def _typed(
    name: str, cells: dict[str, Any], lines: Any, tz: tzinfo
) -> tuple[Deployments, list[Problem]]:
    """The rows' meaning, checked as columns: blank rows skipped, every bad cell a problem."""
    n = len(lines)
    problems: list[Problem] = []

    def column(c: str) -> Any:
        col = cells.get(c)
        if col is None:
            return pa.array([""], pa.string()).take(pa.array(np.zeros(n, dtype=np.int64)))
        return pc.fill_null(col, "")

    raw = {c: column(c) for c in COLUMNS}
    text = {c: trimmed(raw[c]) for c in ("customer_id", "service", "zone")}
    blank = np.ones(n, dtype=bool)
    for c in COLUMNS:
        blank &= np.asarray(pc.equal(pc.binary_length(trimmed(raw[c])), 0))
    bad = np.zeros(n, dtype=bool)

    def problem(rows: Any, column: str, message: str, values: Any = None) -> None:
        for r in np.asarray(rows).tolist():
            value = None if values is None else values[r].as_py()
            problems.append(Problem(name, int(lines[r]), message, column, value))
            bad[r] = True

    for c in COLUMNS:
        too_long = ~blank & np.asarray(pc.greater(pc.utf8_length(raw[c]), MAX_CELL))
        problem(np.flatnonzero(too_long), c, f"a cell longer than {MAX_CELL} characters")
    for c in ("customer_id", "zone"):
        empty = ~blank & ~bad & np.asarray(pc.equal(pc.binary_length(text[c]), 0))
        problem(np.flatnonzero(empty), c, f"empty: every deployment names its {c}")
        star = ~blank & ~bad & np.asarray(pc.equal(text[c], EVERY_CUSTOMER))
        problem(
            np.flatnonzero(star),
            c,
            f"'*' is not a {c}: a deployment is one customer's, in one zone",
            raw[c],
        )
    times = {}
    for c in ("from", "to"):
        # most deployments run all along: only the cells that hold an instant are parsed
        filled = np.flatnonzero(np.asarray(pc.greater(pc.binary_length(trimmed(raw[c])), 0)))
        us = np.zeros(n, dtype=np.int64)
        empty = np.ones(n, dtype=bool)
        if len(filled):
            got, none, errors = parse_instants(raw[c].take(pa.array(filled)), tz)
            us[filled], empty[filled] = got, none
            for r, msg in sorted(errors.items()):
                row = int(filled[r])
                if not blank[row] and not bad[row]:
                    problem([row], c, msg, raw[c])
        times[c] = (us, empty)
    start = np.where(times["from"][1], NO_START, times["from"][0])
    end = np.where(times["to"][1], NO_END, times["to"][0])
    backwards = np.flatnonzero(~blank & ~bad & (end <= start))
    for r in backwards.tolist():
        shown = from_us(int(start[r]), tz).isoformat()
        problem([r], "to", f"must be after 'from' ({shown})", raw["to"])
    keep = np.flatnonzero(~blank & ~bad)
    index = pa.array(keep)
    d = Deployments(
        text["customer_id"].take(index),
        text["service"].take(index),
        text["zone"].take(index),
        start[keep],
        end[keep],
        name,
        np.asarray(lines, dtype=np.int64)[keep],
    )
    problems.extend(_overlaps(d))
    return d, problems


def _overlaps(d: Deployments) -> list[Problem]:
    """A problem on each row whose interval starts before an earlier-starting interval of its
    (customer, service, zone) ends, naming the line of the one that reaches furthest."""
    if len(d) < 2:
        return []
    unit = _units(d)
    # only the units of two or more rows can overlap (most have one)
    several = np.flatnonzero(np.bincount(unit)[unit] >= 2)
    if not len(several):
        return []
    if len(several) < len(d):
        d = d.take(several)
        unit = unit[several]
    order = np.lexsort((d.start, unit))
    u, s, e = unit[order], d.start[order], d.end[order]
    # The furthest-reaching row so far within each unit: a running maximum of (unit, end rank)
    # packed into one integer, so units never mix (the rank keeps it small).
    ranks = np.argsort(np.argsort(e, kind="stable"), kind="stable")
    best = np.maximum.accumulate(u * len(e) + ranks)
    reach = np.empty(len(e), dtype=np.int64)
    reach[ranks] = np.arange(len(e))  # the sorted position of each end rank
    furthest = reach[best % len(e)]  # the row (in sorted order) of the furthest end so far
    clash = np.flatnonzero((u[1:] == u[:-1]) & (s[1:] < e[furthest[:-1]])) + 1
    out = []
    for i in clash.tolist():
        later, earlier = int(order[i]), int(order[furthest[i - 1]])
        out.append(
            Problem(
                d.file,
                int(d.line[later]),
                f"overlaps the deployment on line {int(d.line[earlier])} in the same zone "
                f"('{d.zone[later].as_py()}' of customer '{d.customer[later].as_py()}', "
                f"service '{d.service[later].as_py()}'): one zone's intervals must not overlap",
                "from",
            )
        )
    return out


def _units(d: Deployments) -> Any:
    """A number per (customer, service, zone) of each row."""
    table = pa.table({"c": d.customer, "s": d.service, "z": d.zone})
    codes = [
        np.asarray(table.column(k).combine_chunks().dictionary_encode().indices) for k in "csz"
    ]
    width_s = int(codes[1].max()) + 1 if len(codes[1]) else 1
    width_z = int(codes[2].max()) + 1 if len(codes[2]) else 1
    combined = (codes[0].astype(np.int64) * width_s + codes[1]) * width_z + codes[2]
    return np.asarray(pa.array(combined).dictionary_encode().indices, dtype=np.int64)
