"""Tables for people. Formatting only: every figure comes from the core's results.

On a terminal a table fits its width. When every column fits in its full form, it is a boxed
table; otherwise the table takes its compact layout (no vertical rules, shorter forms of the
cells: ``34m 10s`` for ``0h 34m 10s``, ``<99.95/99.95``), and columns that still do not fit are
dropped, lowest rank first, with a one-line note naming them and pointing to ``-f csv``.
Nothing shown is cut with an ellipsis. Piped output keeps every column in its full form, 200
columns wide. Cells are :class:`rich.text.Text`, never markup, and control characters from the
data are shown escaped (as they are in anything else :func:`print_tables` prints).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from slacalc.errors import printable
from slacalc.writing.csvjson import array_bytes

PIPE_WIDTH = 200

# Past this many rows a rich Table takes minutes (it measures every cell); larger grids are
# written as aligned plain text, which takes a second for 180,000 rows.
LARGE = 2_000

# What a layout costs beyond its cells: the boxed table draws "│ " before and " │" after each
# cell (3 per column, plus the last rule); the compact one puts two spaces between columns.
BOXED, COMPACT = "boxed", "compact"


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
    # A shorter form of a cell for narrow terminals: the same value, fewer characters.
    compact: Callable[[str], str] | None = None
    short: str | None = None  # a shorter header for narrow terminals

    def __post_init__(self) -> None:
        # A header may quote data (a policy's name): escaped like every cell.
        self.header = printable(self.header)
        if self.short is not None:
            self.short = printable(self.short)


@dataclass
class Grid:
    """A titled table of text cells that fits the terminal it is printed on. Its title,
    caption, headers and cells are shown with their control characters escaped.

    Cells are held a column at a time (a million-row timeline is formatted in bulk); ``add``
    appends one row, ``extend`` whole columns.
    """

    title: str
    columns: list[Column]
    caption: str | None = None
    every_field: str = "-f csv"  # the format that has every column (named when some are left out)
    # Each column's cells, in pieces: lists of text (``add``) and pyarrow string arrays.
    data: list[list[Any]] = field(default_factory=list)
    styles: list[str | None] = field(default_factory=list)  # one per row

    def __post_init__(self) -> None:
        if not self.data:
            self.data = [[] for _ in self.columns]

    def __len__(self) -> int:
        return len(self.styles)

    def add(self, *cells: str, style: str | None = None) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"{len(cells)} cells for {len(self.columns)} columns")
        for pieces, text in zip(self.data, cells, strict=True):
            if not pieces or not isinstance(pieces[-1], list):
                pieces.append([])
            pieces[-1].append(text)
        self.styles.append(style)

    def extend(
        self,
        columns: Sequence[Any],
        *,
        style: str | None = None,
        styles: Sequence[str | None] | None = None,
    ) -> None:
        """Append rows given as columns of equal length (lists or pyarrow string arrays), in
        one ``style`` or each in its own (``styles``)."""
        n = len(columns[0]) if len(columns) else 0
        if len(columns) != len(self.columns) or any(len(c) != n for c in columns):
            raise ValueError("one column of equal length per grid column")
        if styles is not None and len(styles) != n:
            raise ValueError("one style per row")
        for pieces, texts in zip(self.data, columns, strict=True):
            pieces.append(texts if not isinstance(texts, tuple) else list(texts))
        self.styles.extend([style] * n if styles is None else styles)

    def column(self, i: int) -> Any:
        """Column ``i``'s cells as one pyarrow string array."""
        import pyarrow as pa

        pieces = [p if isinstance(p, pa.Array) else pa.array(p, pa.string()) for p in self.data[i]]
        if not pieces:
            return pa.array([], pa.string())
        return pieces[0] if len(pieces) == 1 else pa.concat_arrays(pieces)

    @property
    def rows(self) -> list[tuple[list[str], str | None]]:
        """The rows as ``(cells, style)`` (slow for large grids; for tests)."""
        columns = [self.column(i).to_pylist() for i in range(len(self.columns))]
        return [([c[j] for c in columns], self.styles[j]) for j in range(len(self))]

    def render(self, *, width: int | None = None, color: bool = False) -> list[Any]:
        """The grid fitted to ``width`` (None: piped, every column in full), then a note of the
        columns left out."""
        large = len(self) > LARGE
        n = len(self.columns)
        full = self._cells()
        full_widths = _widths(self.columns, full, compact=False)
        if width is None:
            if large:
                return [self._plain(full, full_widths, range(n), color=color)]
            return [self._table(full)]
        if not large and _need(full_widths, range(n), BOXED) <= width:
            return [self._table(full)]
        cells = self._cells(compact=True)
        widths = _widths(self.columns, cells, compact=True)
        if not large and _need(widths, range(n), BOXED) <= width:
            return [self._table(cells, compact_headers=True)]
        shown = self._fit(widths, width)
        out: list[Any] = [
            self._plain(cells, widths, shown, color=color, compact_headers=True)
            if large
            else self._table(cells, shown, layout=COMPACT, compact_headers=True)
        ]
        dropped = [self.columns[i].header for i in range(n) if i not in shown]
        if dropped:
            out.append(Text(dropped_note(dropped, width, self.every_field), style="dim"))
        return out

    def natural_width(self) -> int:
        """The width of the boxed table with every column in full, none of them wrapped."""
        widths = _widths(self.columns, self._cells(), compact=False)
        return _need(widths, range(len(self.columns)), BOXED)

    def _cells(self, *, compact: bool = False) -> list[Any]:
        """Each column's cells as shown (compact forms on request), escaped: pyarrow string
        arrays, each distinct value worked on once."""
        return [
            _shown_column(self.column(i), c.compact if compact else None)
            for i, c in enumerate(self.columns)
        ]

    def _fit(self, widths: list[int], width: int) -> list[int]:
        """The columns shown in the compact layout: all, less the highest ranks that do not
        fit (ties: the rightmost goes first)."""
        shown = list(range(len(self.columns)))
        while _need(widths, shown, COMPACT) > width:
            droppable = [i for i in shown if self.columns[i].rank > 0]
            if not droppable:
                break
            shown.remove(max(droppable, key=lambda i: (self.columns[i].rank, i)))
        return shown

    def _header(self, column: Column, compact: bool) -> str:
        return (column.short or column.header) if compact else column.header

    def _table(
        self,
        cells: list[Any],
        shown: Sequence[int] | None = None,
        *,
        layout: str = BOXED,
        compact_headers: bool = False,
    ) -> Table:
        shown = range(len(self.columns)) if shown is None else shown
        options: dict[str, Any] = {"box": box.HEAVY_HEAD}
        if layout == COMPACT:
            options = {
                "box": box.SIMPLE_HEAD,
                "show_edge": False,
                "pad_edge": False,
                "collapse_padding": True,
            }
        table = Table(
            title=printable(self.title),
            title_justify="left",
            header_style="bold",
            caption=None if self.caption is None else printable(self.caption),
            **options,
        )
        for i in shown:
            c = self.columns[i]
            table.add_column(
                self._header(c, compact_headers),
                justify=c.justify,  # type: ignore[arg-type]
                no_wrap=False,
                overflow="fold",
            )
        texts = [cells[i].to_pylist() for i in shown]
        for j, style in enumerate(self.styles):
            table.add_row(*(Text(column[j]) for column in texts), style=style)
        return table

    def _plain(
        self,
        cells: list[Any],
        widths: list[int],
        shown: Sequence[int],
        *,
        color: bool,
        compact_headers: bool = False,
    ) -> str:
        """Aligned plain text: each column padded to its width in bulk, two spaces between."""
        import pyarrow as pa
        import pyarrow.compute as pc

        cols = [self.columns[i] for i in shown]
        headers = [self._header(c, compact_headers) for c in cols]
        sizes = [widths[i] for i in shown]
        padded = [
            _padded(cells[i], w, right=c.justify == "right")
            for i, c, w in zip(shown, cols, sizes, strict=True)
        ]

        def line(texts: list[str]) -> str:
            out = []
            for c, text, w in zip(cols, texts, sizes, strict=True):
                pad = " " * (w - _width(text))
                out.append(pad + text if c.justify == "right" else text + pad)
            return "  ".join(out).rstrip()

        head = [printable(self.title), line(headers), "  ".join("─" * w for w in sizes)]
        body = ""
        if len(self) and padded:
            lines = pc.utf8_rtrim(pc.binary_join_element_wise(*padded, "  "), characters=" ")
            if color and any(self.styles):
                marked = pa.array([bool(s) for s in self.styles])
                red = pc.binary_join_element_wise("\x1b[1;31m", lines, "\x1b[0m", "")
                lines = pc.if_else(marked, red, lines)
            body = array_bytes(pc.binary_join_element_wise(lines, "\n", "")).decode("utf-8")
        elif len(self):
            body = "\n" * len(self)
        tail = f"{printable(self.caption)}\n" if self.caption else ""
        return "\n".join(head) + "\n" + body + tail


# Control characters as RE2 (pyarrow) sees them: the same set as errors.printable's.
_CONTROL_RE2 = r"[\x00-\x1f\x7f-\x{9f}\x{61c}\x{200e}\x{200f}\x{2028}-\x{202e}\x{2066}-\x{2069}]"


def _shown_column(texts: Sequence[str], form: Callable[[str], str] | None) -> Any:
    """A column's cells as a pyarrow string array: its compact ``form`` (if any) and
    :func:`printable` applied to each distinct value once."""
    import pyarrow as pa
    import pyarrow.compute as pc

    values = texts if isinstance(texts, pa.Array) else pa.array(texts, pa.string())
    if values.type != pa.string():
        values = values.cast(pa.string())
    if not len(values):
        return values
    values = pc.fill_null(values, "")
    if form is None and not _may_hold_controls(values):
        return values
    encoded = values.dictionary_encode()
    words = encoded.dictionary.to_pylist()
    if form is not None:
        words = [form(w) for w in words]
    fixed = pa.array([printable(w) for w in words], pa.string())
    return fixed.take(encoded.indices)


def _may_hold_controls(values: Any) -> bool:
    """Whether a string array may hold a character :func:`printable` escapes: a scan of its
    UTF-8 bytes for C0 controls, DEL and the lead bytes of C1 and bidi controls (0xc2, 0xd8,
    0xe2), then, only if one is there, the exact expression."""
    import numpy as np
    import pyarrow.compute as pc

    data = values.buffers()[2]
    if data is None:
        return False
    raw = np.frombuffer(data, dtype=np.uint8)
    if not ((raw < 0x20) | (raw == 0x7F) | (raw == 0xC2) | (raw == 0xD8) | (raw == 0xE2)).any():
        return False
    return bool(pc.any(pc.match_substring_regex(values, _CONTROL_RE2)).as_py())


def _padded(values: Any, width: int, *, right: bool) -> Any:
    """Cells padded with spaces to ``width`` terminal columns (wide characters count two)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pc.all(pc.string_is_ascii(values)).as_py() is not False:
        return (pc.ascii_lpad if right else pc.ascii_rpad)(values, width=width, padding=" ")
    encoded = values.dictionary_encode()
    words = encoded.dictionary.to_pylist()
    pads = [" " * (width - _width(w)) for w in words]
    fixed = [p + w if right else w + p for w, p in zip(words, pads, strict=True)]
    return pa.array(fixed, pa.string()).take(encoded.indices)


def _widths(columns: list[Column], cells: list[Any], *, compact: bool) -> list[int]:
    """Each column's width in terminal columns: its header's or its widest cell's."""
    import pyarrow.compute as pc

    widths = []
    for c, values in zip(columns, cells, strict=True):
        w = cell_len((c.short or c.header) if compact else c.header)
        if len(values):
            if pc.all(pc.string_is_ascii(values)).as_py() is not False:
                w = max(w, pc.max(pc.utf8_length(values)).as_py() or 0)
            else:
                w = max(w, *(_width(t) for t in values.unique().to_pylist()))
        widths.append(w)
    return widths


def _need(widths: list[int], shown: Sequence[int], layout: str) -> int:
    """Terminal columns a layout of the ``shown`` columns takes."""
    if layout == BOXED:
        return sum(widths[i] + 3 for i in shown) + 1
    return sum(widths[i] for i in shown) + 2 * max(len(shown) - 1, 0)


def dropped_note(names: list[str], width: int, every_field: str = "-f csv") -> str:
    """One line, at most ``width`` wide, naming the columns left out and the format that has
    them (``every_field``: ``-f csv``, or ``-f json`` for explain, which has no CSV)."""
    listed = ", ".join(names)
    for text in (
        f"(not shown to fit {width} columns: {listed}; {every_field} has every field)",
        f"(not shown: {listed}; {every_field} has every field)",
        f"(not shown: {listed}; see {every_field})",
    ):
        if cell_len(text) <= width:
            return text
    return f"({len(names)} columns not shown; see {every_field})"


def _width(text: str) -> int:
    return len(text) if text.isascii() else cell_len(text)


def safe(part: Any) -> Any:
    """A renderable with the control characters of its text escaped, line breaks apart (Grids
    escape their own): tables and text built elsewhere print through here, so no view can
    forget."""
    if isinstance(part, str):
        return "\n".join(printable(line) for line in part.split("\n"))
    if isinstance(part, Text):
        plain = part.plain
        clean = safe(plain)
        if clean == plain:
            return part
        return Text(clean, style=part.style, justify=part.justify)
    if isinstance(part, Table):
        if part.title is not None:
            part.title = safe(part.title)
        if part.caption is not None:
            part.caption = safe(part.caption)
        for column in part.columns:
            column.header = safe(column.header)
            column._cells = [safe(c) for c in column._cells]
    return part


def _items(part: Any, width: int | None, color: bool) -> list[tuple[Any, int | None]]:
    """What a part prints as: renderables, each with the width to print it at (piped, a grid
    wider than the page is printed whole, never wrapped)."""
    if isinstance(part, Grid):
        wide = part.natural_width() if width is None and len(part) <= LARGE else None
        return [(item, wide) for item in part.render(width=width, color=color)]
    return [(safe(part), None)]


def print_tables(parts: Sequence[Any], out: TextIO) -> None:
    """Grids (fitted to a terminal), rich renderables and plain text, a blank line between.
    Their data is escaped here; an output that escapes what is written to a terminal takes
    them as they are (``out.raw``), colours included."""
    out = getattr(out, "raw", out)
    console = console_for(out)
    width = console.width if is_terminal(out) else None
    _print(parts, console, width, color=console.is_terminal)


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
    _print(parts, console, width, color=False)
    return buffer.getvalue()


def _print(parts: Sequence[Any], console: Console, width: int | None, *, color: bool) -> None:
    first = True
    for part in parts:
        for j, (item, wide) in enumerate(_items(part, width, color)):
            if not first and j == 0:
                console.print()
            first = False
            if isinstance(item, str):
                console.file.write(item)
            elif wide is not None and wide > console.width:
                page, console.width = console.width, wide
                try:
                    console.print(item)
                finally:
                    console.width = page
            else:
                console.print(item)
