"""Tables: rich for small grids, aligned plain text for large ones, fitted to the terminal."""

from __future__ import annotations

from rich.table import Table

from slacalc.writing import tables
from slacalc.writing.tables import Column, Grid, render_text


def grid(n: int) -> Grid:
    g = Grid("T", [Column("Name"), Column("Amount", "right")])
    for i in range(n):
        g.add("客户" if i == 0 else f"c{i}", str(i * 10), style="bold red" if i == 1 else None)
    return g


def test_small_grids_are_rich_tables() -> None:
    (table,) = grid(3).render()
    assert isinstance(table, Table)


def test_large_grids_are_aligned_plain_text() -> None:
    (text,) = grid(tables.LARGE + 1).render(color=False)
    assert isinstance(text, str)
    lines = text.splitlines()
    assert lines[:4] == ["T", "Name   Amount", "─────  ──────", "客户        0"]
    assert lines[4] == "c1         10"  # wide characters count two columns
    assert len(lines) == 3 + tables.LARGE + 1


def test_breached_rows_are_red_only_on_a_terminal() -> None:
    (plain,) = grid(tables.LARGE + 1).render(color=False)
    (colored,) = grid(tables.LARGE + 1).render(color=True)
    assert "\x1b[" not in plain
    assert colored.splitlines()[4] == "\x1b[1;31mc1         10\x1b[0m"


def wide_grid() -> Grid:
    g = Grid(
        "Wide",
        [Column("Key"), Column("Value", "right"), Column("Extra", rank=2), Column("More", rank=1)],
    )
    g.add("customer-with-a-long-name", "99.9234", "x" * 30, "y" * 20)
    return g


def test_columns_that_do_not_fit_are_dropped_by_rank_with_a_note() -> None:
    text = render_text([wide_grid()], width=60)
    assert "customer-with-a-long-name" in text and "99.9234" in text
    assert "x" * 30 not in text  # rank 2 goes first
    assert "(not shown to fit 60 columns: Extra" in text
    assert "…" not in text
    assert max(len(line) for line in text.splitlines() if not line.startswith("(")) <= 60


def test_everything_shows_when_there_is_room() -> None:
    text = render_text([wide_grid()], width=200)
    assert "x" * 30 in text and "y" * 20 in text
    assert "not shown" not in text


def test_data_is_never_markup_and_never_control_characters() -> None:
    g = Grid("T", [Column("Name")])
    for name in (
        "[/x]",
        "[legacy]acme",
        "[link=https://evil]click[/link]",
        "bell\x07",
        "\x1b]0;title\x07",
        "csi\x9b31m",
    ):
        g.add(name)
    text = render_text([g], width=80)
    assert "[/x]" in text and "[legacy]acme" in text and "[link=https://evil]click[/link]" in text
    assert "\x07" not in text and "\x1b" not in text and "\x9b" not in text
    assert "bell\\x07" in text and "\\x1b]0;title\\x07" in text
