"""The audit trail of one report row as people read it.

A key may have a million incidents: every column is written in bulk (times by pyarrow,
durations by :func:`~slacalc.writing.times.durations`, impacts once per distinct value), and a
long table is aligned plain text (see :data:`slacalc.writing.tables.LARGE`), as the report's is.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from rich.text import Text

from slacalc import speed
from slacalc.computing.explain import Explanation
from slacalc.dates.instants import format_instant
from slacalc.errors import printable
from slacalc.reading.cells import CATEGORIES
from slacalc.terms import rules
from slacalc.writing.tables import Column, Grid
from slacalc.writing.times import durations, local_texts


def explanation_view(ex: Explanation) -> list[Any]:
    """The audit trail, top to bottom in the order of the computation."""
    return [
        _head(ex),
        _incidents(ex),
        *([_exclusions(ex)] if ex.exclusions else []),
        _timeline(ex),
        _formula(ex),
    ]


def _head(ex: Explanation) -> Text:
    row, tz = ex.row, ex.settings.tz
    d = row.to_dict()
    head = Text()
    head.append(printable(f"{row.customer_id} / {row.service} / {row.month}"), style="bold")
    head.append(
        f"\nperiod {format_instant(row.period_start, tz)} .. {format_instant(row.period_end, tz)}"
        f" = {d['period_seconds']} s ({rules.duration(row.period_end - row.period_start)}), "
        f"status {row.status}"
        f"\ncontract: fee {d['monthly_fee']} {row.currency}, committed {row.tier.label} %, "
        + printable(f"policy '{row.policy.name}' ({row.policy.mode})")
    )
    for line in row.policy.rules_text()[:-1]:
        head.append("\npolicy rule: " + printable(line))
    return head


def _incidents(ex: Explanation) -> Grid:
    """Each incident of the key as read (file, line, source) and as counted in the month."""
    t, tz = ex.table, ex.settings.tz
    zone = getattr(tz, "key", str(tz))
    inside = np.flatnonzero(ex.clipped_start >= 0)
    columns = [
        Column("Id"),
        Column("File:line", rank=4),
        Column("Category"),
        Column("Impact", "right"),
        Column("As read", rank=2),
        Column("Counted in the month", compact=_same_month, short="Counted"),
        Column("Excluded", "right", rank=1),
        Column("Note", rank=5),
    ]
    has_source = t.source is not None
    if has_source:  # imported rows name their origin: format and file
        columns.insert(2, Column("Source", rank=3))
    grid = Grid(f"1. Incidents of the key ({zone} local times)", columns)
    n = len(inside)
    index = pa.array(inside, pa.int64())
    ids = pc.if_else(
        pc.equal(_trimmed(t.incident_id.take(index)), ""), "-", _trimmed(t.incident_id.take(index))
    )
    files = pa.array(t.files, pa.string()).take(pa.array(t.file[inside], pa.int32()))
    lines = t.line[inside]
    where = pc.if_else(
        pa.array(lines > 0),
        pc.binary_join_element_wise(files, pa.array(lines, pa.int64()).cast(pa.string()), ":"),
        files,
    )
    category = pa.array(CATEGORIES, pa.string()).take(pa.array(t.category[inside], pa.int32()))
    shares = pa.array([rules.share(v) for v in t.impacts] or ["1"], pa.string())
    impact = shares.take(pa.array(t.impact[inside], pa.int32()))
    counted = pc.binary_join_element_wise(
        local_texts(ex.clipped_start[inside], tz), local_texts(ex.clipped_end[inside], tz), " .. "
    )
    removed = np.asarray(ex.excluded_us)[inside]
    excluded = pc.if_else(pa.array(removed > 0), durations(removed), "")
    notes = pa.array(ex.notes, pa.string()).take(index) if n else pa.array([], pa.string())
    data = [ids, where, category, impact, _as_read(t, index), counted, excluded, notes]
    if has_source:
        data.insert(2, _trimmed(t.source.take(index)))
    grid.extend(data)
    outside = len(t) - n
    if outside:
        grid.caption = f"{outside} other incident(s) of this key fall outside {ex.row.month}"
    return grid


def _as_read(t: Any, index: Any) -> Any:
    """Start and end cells exactly as the file wrote them (``(ongoing)`` for no end)."""
    blank = pa.array([""] * len(index), pa.string())
    start = _trimmed(t.start_text.take(index)) if t.start_text is not None else blank
    end = _trimmed(t.end_text.take(index)) if t.end_text is not None else blank
    end = pc.if_else(pc.equal(end, ""), "(ongoing)", end)
    return pc.binary_join_element_wise(start, end, " .. ")


def _trimmed(values: Any) -> Any:
    return pc.utf8_trim_whitespace(pc.fill_null(values.cast(pa.string()), ""))


def _exclusions(ex: Explanation) -> Grid:
    tz = ex.settings.tz
    grid = Grid(
        "2. Maintenance / excluded time (union)",
        [
            Column("Start", compact=_no_year),
            Column("End", compact=_no_year),
            Column("Length", "right"),
        ],
    )
    spans = np.array(ex.exclusions, dtype=np.int64).reshape(-1, 2)
    grid.extend(
        [
            local_texts(spans[:, 0], tz),
            local_texts(spans[:, 1], tz),
            durations(spans[:, 1] - spans[:, 0]),
        ]
    )
    return grid


def _timeline(ex: Explanation) -> Grid:
    """The merged downtime timeline, from the explanation's segments (the stretches outside
    exclusions), every column written in bulk."""
    row, tz = ex.row, ex.settings.tz
    d = row.to_dict()
    grid = Grid(
        "3. Merged downtime timeline (overlaps counted once, largest impact wins)",
        [
            Column("Start", compact=_no_year),
            Column("End", compact=_no_year),
            Column("Length", "right"),
            Column("Loss", "right"),
            Column("Downtime", "right"),
        ],
    )
    s = ex.segments
    down = ~np.asarray(s.excluded, dtype=bool)
    start = np.asarray(s.start, dtype=np.int64)[down]
    end = np.asarray(s.end, dtype=np.int64)[down]
    loss = np.asarray(s.loss_num)[down]
    length = np.asarray(s.length)[down]
    distinct, index = np.unique(loss, return_inverse=True)
    shares = np.array(
        [rules.share(rules.Fraction(int(v), s.den)) for v in distinct.tolist()] or ["0"],
        dtype=object,
    )
    loss_text = pa.array(shares[index].tolist() if len(loss) else [], pa.string())
    grid.extend(
        [
            local_texts(start, tz),
            local_texts(end, tz),
            durations(end - start),
            loss_text,
            durations(speed.product(loss, length), s.den),
        ]
    )
    grid.add(
        "",
        "",
        "",
        "total",
        f"{rules.duration(row.downtime_us)} = {d['downtime_seconds']} s",
        style="bold",
    )
    return grid


def _formula(ex: Explanation) -> Text:
    formula = Text("4. Availability, tier and compensation\n", style="bold")
    for line in ex.formula():
        formula.append("   " + printable(line) + "\n", style="red" if "BREACHED" in line else None)
    return formula


def _no_year(text: str) -> str:
    """``2025-05-14 07:57:01`` as ``05-14 07:57:01``: the row's month names the year."""
    return text[5:] if len(text) >= 19 and text[4] == "-" else text


def _same_month(text: str) -> str:
    """``2025-05-14 07:57:01 .. 2025-05-14 09:30:00`` as ``05-14 07:57:01 .. 09:30:00``."""
    start, sep, end = text.partition(" .. ")
    if not sep:
        return text
    if start[:10] == end[:10]:
        return f"{_no_year(start)} .. {end[11:]}"
    return f"{_no_year(start)} .. {_no_year(end) if start[:4] == end[:4] else end}"
