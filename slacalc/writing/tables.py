"""Tables for people. Formatting only: every figure comes from the core's results.

On a terminal a table fits its width: columns are ranked, and those that do not fit are dropped
(lowest rank first) with a one-line note naming them; nothing shown is cut with an ellipsis.
Piped output keeps every column. Cells are :class:`rich.text.Text`, never markup, and control
characters from the data are shown escaped.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from slacalc.errors import printable

PIPE_WIDTH = 200

# Past this many rows a rich Table takes minutes (it measures every cell); larger grids are
# written as aligned plain text, which takes a second for 180,000 rows.
LARGE = 2_000


def is_terminal(out: TextIO) -> bool:
    try:
        return hasattr(out, "isatty") and out.isatty()
    except ValueError:
        return False


def console_for(out: TextIO) -> Console:
    """A console on ``out``: colours on a terminal, plain and wide when piped."""
    if is_terminal(out):
        return Console(file=out, highlight=False, markup=False, emoji=False)
    return Console(
        file=out,
        width=PIPE_WIDTH,
        no_color=True,
        highlight=False,
        soft_wrap=False,
        color_system=None,
        markup=False,
        emoji=False,
    )


def cell(text: Any) -> Text:
    """Data as a table cell: shown as it is, never as markup, control characters escaped."""
    return Text(printable(str(text)))


@dataclass
class Column:
    header: str
    justify: str = "left"  # left, right or center
    rank: int = 0  # 0: always shown; higher ranks are dropped first when space runs out


@dataclass
class Grid:
    """A titled table of text cells that fits the terminal it is printed on."""

    title: str
    columns: list[Column]
    rows: list[tuple[list[str], str | None]] = field(default_factory=list)  # (cells, style)
    caption: str | None = None

    def add(self, *cells: str, style: str | None = None) -> None:
        self.rows.append((list(cells), style))

    def render(self, *, width: int | None = None, color: bool = False) -> list[Any]:
        """The grid, fitted to ``width`` (None: every column), then a note of what was left out."""
        shown = list(range(len(self.columns)))
        dropped: list[str] = []
        if width is not None:
            shown, dropped = self._fit(width)
        out: list[Any] = [
            self._table(shown) if len(self.rows) <= LARGE else self._plain(shown, color=color)
        ]
        if dropped:
            out.append(
                Text(
                    f"(not shown to fit {width} columns: {', '.join(dropped)}; "
                    "-f csv has every field)",
                    style="dim",
                )
            )
        return out

    def _widths(self) -> list[int]:
        widths = [cell_len(c.header) for c in self.columns]
        for cells, _ in self.rows:
            for i, text in enumerate(cells):
                w = _width(printable(text))
                if w > widths[i]:
                    widths[i] = w
        return widths

    def _fit(self, width: int) -> tuple[list[int], list[str]]:
        widths = self._widths()
        shown = list(range(len(self.columns)))
        plain = len(self.rows) > LARGE
        while True:
            need = (
                sum(widths[i] + 2 for i in shown) - 2
                if plain
                else sum(widths[i] + 3 for i in shown) + 1
            )
            droppable = [i for i in shown if self.columns[i].rank > 0]
            if need <= width or not droppable:
                break
            worst = max(droppable, key=lambda i: (self.columns[i].rank, i))
            shown.remove(worst)
        dropped = [self.columns[i].header for i in range(len(self.columns)) if i not in shown]
        return shown, dropped

    def _table(self, shown: list[int]) -> Table:
        table = Table(
            title=self.title,
            title_justify="left",
            header_style="bold",
            box=box.HEAVY_HEAD,
            caption=self.caption,
        )
        for i in shown:
            c = self.columns[i]
            table.add_column(
                c.header,
                justify=c.justify,
                no_wrap=False,  # type: ignore[arg-type]
                overflow="fold",
            )
        for cells, style in self.rows:
            table.add_row(*(cell(cells[i]) for i in shown), style=style)
        return table

    def _plain(self, shown: list[int], *, color: bool) -> str:
        cols = [self.columns[i] for i in shown]
        widths = [cell_len(c.header) for c in cols]
        rows = [([printable(cells[i]) for i in shown], style) for cells, style in self.rows]
        for cells, _ in rows:
            for j, text in enumerate(cells):
                w = _width(text)
                if w > widths[j]:
                    widths[j] = w

        def line(cells: list[str]) -> str:
            out = []
            for c, text, w in zip(cols, cells, widths, strict=True):
                pad = " " * (w - _width(text))
                out.append(pad + text if c.justify == "right" else text + pad)
            return "  ".join(out).rstrip()

        red, reset = ("\x1b[1;31m", "\x1b[0m") if color else ("", "")
        lines = [self.title, line([c.header for c in cols]), "  ".join("─" * w for w in widths)]
        for cells, style in rows:
            text = line(cells)
            lines.append(red + text + reset if style and red else text)
        if self.caption:
            lines.append(self.caption)
        return "\n".join(lines) + "\n"


def _width(text: str) -> int:
    return len(text) if text.isascii() else cell_len(text)


def print_tables(parts: Sequence[Any], out: TextIO) -> None:
    """Grids (fitted to a terminal), rich renderables and plain text, a blank line between."""
    console = console_for(out)
    width = console.width if is_terminal(out) else None
    first = True
    for part in parts:
        items = (
            part.render(width=width, color=console.is_terminal)
            if isinstance(part, Grid)
            else [part]
        )
        for j, item in enumerate(items):
            if not first and j == 0:
                console.print()
            first = False
            if isinstance(item, str):
                console.file.write(item)
            else:
                console.print(item)


def render_text(parts: Sequence[Any], *, width: int = PIPE_WIDTH) -> str:
    """The tables as a terminal ``width`` columns wide would show them (for tests and docs)."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        no_color=True,
        color_system=None,
        highlight=False,
        markup=False,
        emoji=False,
    )
    first = True
    for part in parts:
        items = part.render(width=width) if isinstance(part, Grid) else [part]
        for j, item in enumerate(items):
            if not first and j == 0:
                console.print()
            first = False
            if isinstance(item, str):
                buffer.write(item)
            else:
                console.print(item)
    return buffer.getvalue()
