"""Tables: rich for small grids, aligned plain text for large ones."""

from __future__ import annotations

from rich.table import Table

from slacalc import tables
from slacalc.tables import Grid


def grid(n: int) -> Grid:
    g = Grid("T", [("Name", "left"), ("Amount", "right")])
    for i in range(n):
        g.add("客户" if i == 0 else f"c{i}", str(i * 10), style="bold red" if i == 1 else None)
    return g


def test_small_grids_are_rich_tables() -> None:
    assert isinstance(grid(3).render(color=False), Table)


def test_large_grids_are_aligned_plain_text() -> None:
    text = grid(tables.LARGE + 1).render(color=False)
    assert isinstance(text, str)
    lines = text.splitlines()
    assert lines[:4] == ["T", "Name   Amount", "─────  ──────", "客户        0"]
    assert lines[4] == "c1         10"  # wide characters count two columns
    assert len(lines) == 3 + tables.LARGE + 1


def test_breached_rows_are_red_only_on_a_terminal() -> None:
    plain = grid(tables.LARGE + 1).render(color=False)
    colored = grid(tables.LARGE + 1).render(color=True)
    assert "\x1b[" not in plain
    assert colored.splitlines()[4] == "\x1b[1;31mc1         10\x1b[0m"
