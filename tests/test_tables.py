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


# --- fitting a terminal ----------------------------------------------------------------------


def report_like() -> Grid:
    g = Grid(
        "R",
        [
            Column("Customer"),
            Column("Band / target", "right", compact=lambda t: t.replace(" / ", "/"), short="B/T"),
            Column("Downtime", "right", compact=lambda t: t.removesuffix(" 0s")),
            Column("Fee", "right", rank=2),
            Column("Status", rank=1),
        ],
    )
    g.add("acme", "<99.95 / 99.99", "20m 0s", "12000.00 CNY", "provisional", style="bold red")
    g.add("globex-corporation", "99.999 / 99.95", "1d 9h", "1800.00 USD", "final")
    return g


def test_boxed_when_everything_fits_compact_when_not() -> None:
    wide = render_text([report_like()], width=120)
    assert "┃" in wide and "Band / target" in wide and "20m 0s" in wide
    assert "not shown" not in wide
    narrow = render_text([report_like()], width=50)
    assert "┃" not in narrow and "│" not in narrow  # the compact layout has no vertical rules
    assert "<99.95/99.99       20m\n" in narrow and "B/T" in narrow
    assert "(not shown" in narrow and "-f csv" in narrow
    for width in (30, 40, 50, 60, 70):
        text = render_text([report_like()], width=width)
        assert "…" not in text
        notes = [line for line in text.splitlines() if line.startswith("(")]
        assert len(notes) <= 1 and all(len(n) <= width for n in notes)


def test_the_note_always_fits_on_one_line() -> None:
    from slacalc.writing.tables import dropped_note

    names = ["Due 2025", "Status", "Breached", "Fee", "Excluded", "Inc.", "Credit %", "Claim"]
    for width in (20, 40, 60, 80, 100):
        note = dropped_note(names, width)
        assert len(note) <= width or note.startswith("(8 columns")
        assert "-f csv" in note


def test_large_grids_fit_too_and_match_the_small_layout() -> None:
    big = report_like()
    for i in range(tables.LARGE):
        big.add(f"c{i}", "99.95 / 99.95", "1m 0s", "1.00 CNY", "final")
    text = render_text([big], width=50)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 50
    assert "(not shown" in lines[-1] and "Fee" in lines[-1]
    assert lines[1].split() == ["Customer", "B/T", "Downtime"]  # Fee, then Status, gave way
    assert "1m" in lines[5] and "1m 0s" not in text


def test_piped_grids_wider_than_the_page_are_never_wrapped() -> None:
    import io

    from slacalc.writing.tables import print_tables

    g = Grid("W", [Column("A"), Column("B")])
    g.add("a" * 150, "b" * 150)
    out = io.StringIO()
    print_tables([g], out)
    assert any("a" * 150 in line and "b" * 150 in line for line in out.getvalue().splitlines())


def test_columns_of_pyarrow_text_and_rows_mix() -> None:
    import pyarrow as pa

    g = Grid("T", [Column("A"), Column("B", "right")])
    g.extend([pa.array(["x", "yy"]), ["1", "22"]])
    g.add("z", "333")
    assert g.rows == [(["x", "1"], None), (["yy", "22"], None), (["z", "333"], None)]
    assert "│ yy │  22 │" in render_text([g], width=80)


def test_rich_text_and_tables_from_other_views_are_escaped() -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(title="t\x1b]0;x\x07")
    table.add_column("c")
    table.add_row("\x1b[2Jcell")
    text = render_text([table, Text("line one\nbell\x07"), "raw\x9b"], width=80)
    assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text
    assert "\\x1b[2Jcell" in text and "\\x1b]0;x\\x07" in text and "raw\\x9b" in text


def test_the_bulk_escape_matches_printable_for_every_character() -> None:
    """The pyarrow pre-check and the one-value escape agree on every character up to U+FFFF
    (and a few above): a table escapes exactly what a message does."""
    import pyarrow as pa

    from slacalc.errors import printable
    from slacalc.writing.tables import _may_hold_controls, _shown_column

    chars = [chr(c) for c in range(0x10000) if not 0xD800 <= c <= 0xDFFF]
    chars += ["\U0001f600", "\U000e0001"]
    shown = _shown_column(pa.array(chars), None).to_pylist()
    assert shown == [printable(c) for c in chars]
    escaped = [c for c in chars if printable(c) != c]
    assert all(_may_hold_controls(pa.array([f"x{c}y"])) for c in escaped)
