"""The engine's speed paths give the slow paths' numbers: events sorted as packed values (whole
seconds or microseconds, or by an index sort when they do not fit), segments cut at month edges,
cells found through a table or by binary search."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slacalc import speed
from slacalc.computing import engine
from slacalc.model.table import IncidentTable

DAY = 86_400_000_000
EDGES = np.array([0, 31 * DAY, 61 * DAY, 92 * DAY], dtype=np.int64)  # three months
IMPACTS: list[Fraction | int] = [1, Fraction(3, 10), Fraction(1, 2)]


def table_of(rows: list[tuple[int, int, int, int, int]]) -> IncidentTable:
    """(key, start, length, category, impact code) rows as a table; category 0 outage, 1
    maintenance (an exclusion), 3 data loss."""
    n = len(rows)
    keys = sorted({r[0] for r in rows})
    key = np.array([keys.index(r[0]) for r in rows], dtype=np.int64)
    start = np.array([r[1] for r in rows], dtype=np.int64)
    return IncidentTable(
        key_customer=pa.array([f"c{k}" for k in keys], pa.string()),
        key_service=pa.array(["compute"] * len(keys), pa.string()),
        key=key,
        start=start,
        end=start + np.array([r[2] for r in rows], dtype=np.int64),
        category=np.array([r[3] for r in rows], dtype=np.int8),
        impact=np.array([r[4] for r in rows], dtype=np.int32),
        impacts=IMPACTS,
        file=np.zeros(n, dtype=np.int32),
        files=["t.csv"],
        line=np.arange(2, n + 2, dtype=np.int64),
        incident_id=pa.array([f"i{i}" for i in range(n)], pa.string()),
    )


def totals(table: IncidentTable, off: str) -> tuple:
    with pytest.MonkeyPatch.context() as m:
        m.setattr(speed, "_OFF", frozenset(off.split(",")) - {""})
        got = engine.cell_totals(table, EDGES, 92 * DAY)
    return (
        got.cells.tolist(),
        [Fraction(int(n), int(got.down_den)) for n in got.down_num.tolist()],
        got.excluded.tolist(),
        got.count.tolist(),
    )


_ROWS = st.lists(
    st.tuples(
        st.integers(0, 5),  # key
        st.integers(0, 92 * DAY - 1),  # start
        st.integers(0, 40 * DAY),  # length: some cross one or two month edges
        st.sampled_from([0, 0, 1, 3]),
        st.integers(0, 2),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(rows=_ROWS, whole=st.booleans())
def test_packed_events_give_the_index_sorts_numbers(
    rows: list[tuple[int, int, int, int, int]], whole: bool
) -> None:
    if whole:  # whole seconds: packed in seconds; else in microseconds
        rows = [(k, s - s % 1_000_000, n - n % 1_000_000, c, i) for k, s, n, c, i in rows]
    table = table_of(rows)
    assert totals(table, "") == totals(table, "packed,threads")


def test_events_that_do_not_fit_a_packed_value_take_the_index_sort() -> None:
    key = np.array([0, 1 << 40], dtype=np.int64)  # keys too far apart to pack with time
    s = np.array([5, 7], dtype=np.int64)
    e = np.array([9, 8], dtype=np.int64)
    level = np.array([1, 0], dtype=np.int32)
    assert speed.packs(int(key[-1]) + 1, 10**12, 4, s, e) is None
    ev_key, ev_t, step, lvl = engine._sorted_events(key, s, e, level, 0, 10**12)
    assert ev_key.tolist() == [0, 0, 1 << 40, 1 << 40]
    assert ev_t.tolist() == [5, 9, 7, 8]
    assert step.tolist() == [1, -1, 1, -1]
    assert lvl.tolist() == [1, 1, 0, 0]


@pytest.mark.parametrize(
    ("offsets", "unit"),
    [([np.array([0, 2_000_000])], 1_000_000), ([np.array([0, 2_000_001])], 1)],
)
def test_events_are_packed_in_seconds_only_when_every_instant_is_whole(
    offsets: list, unit: int
) -> None:
    assert speed.packs(3, 10 * 1_000_000, 4, *offsets) == (unit, 10 * 1_000_000 // unit + 1)


def test_segments_crossing_two_month_edges_are_cut_into_three_pieces() -> None:
    key = np.array([0, 0], dtype=np.int64)
    s = np.array([DAY, 40 * DAY], dtype=np.int64)
    e = np.array([70 * DAY, 41 * DAY], dtype=np.int64)
    got = engine._split_at_edges(
        EDGES, key, s, e, np.array([1, 2]), np.array([False, True]), ordered=True
    )
    assert [c.tolist() for c in got] == [
        [0, 0, 0, 0],
        [0, 1, 1, 2],
        [DAY, 31 * DAY, 40 * DAY, 61 * DAY],
        [31 * DAY, 61 * DAY, 41 * DAY, 70 * DAY],
        [1, 1, 2, 1],
        [False, False, True, False],
    ]


@pytest.mark.parametrize("size", [10, 1 << 30])  # a table, then a binary search
def test_cells_are_found_densely_or_by_search(size: int) -> None:
    touched = np.array([1, 4, 9], dtype=np.int64)
    assert engine._positions(touched, np.array([9, 1, 4, 4]), size).tolist() == [2, 0, 1, 1]
