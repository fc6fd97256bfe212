"""Rich tables for people. Formatting only: every figure comes from the core's results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TextIO

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from slacalc.fmt import duration
from slacalc.money import format_money
from slacalc.report import Deadline, Report


def console_for(out: TextIO) -> Console:
    """A console on ``out``: colours on a terminal, plain and wide enough when piped."""
    is_tty = hasattr(out, "isatty") and out.isatty()
    if is_tty:
        return Console(file=out)
    return Console(file=out, width=200, no_color=True, highlight=False, soft_wrap=False,
                   color_system=None)


# Past this many rows a rich Table takes minutes (it measures every cell); larger grids are
# written as aligned plain text, which takes a second for 180,000 rows.
LARGE = 2_000


@dataclass
class Grid:
    """A titled table of text cells, rendered by rich when small and as plain text when large."""

    title: str
    columns: list[tuple[str, str]]  # (header, "left" | "right" | "center")
    rows: list[tuple[list[str], str | None]] = field(default_factory=list)  # (cells, style)

    def add(self, *cells: str, style: str | None = None) -> None:
        self.rows.append((list(cells), style))

    def render(self, *, color: bool) -> Table | str:
        if len(self.rows) <= LARGE:
            table = Table(title=self.title, title_justify="left", header_style="bold")
            for name, justify in self.columns:
                table.add_column(name, justify=justify)  # type: ignore[arg-type]
            for cells, style in self.rows:
                table.add_row(*cells, style=style)
            return table
        return _plain(self, color=color)


def _width(text: str) -> int:
    return len(text) if text.isascii() else cell_len(text)


def _plain(grid: Grid, *, color: bool) -> str:
    headers = [name for name, _ in grid.columns]
    widths = [_width(h) for h in headers]
    for cells, _ in grid.rows:
        for i, cell in enumerate(cells):
            w = _width(cell)
            if w > widths[i]:
                widths[i] = w

    def line(cells: list[str]) -> str:
        out = []
        for (_, justify), cell, width in zip(grid.columns, cells, widths, strict=True):
            pad = " " * (width - _width(cell))
            out.append(pad + cell if justify == "right" else cell + pad)
        return "  ".join(out).rstrip()

    red, reset = ("\x1b[1;31m", "\x1b[0m") if color else ("", "")
    lines = [grid.title, line(headers), "  ".join("─" * w for w in widths)]
    for cells, style in grid.rows:
        text = line(cells)
        lines.append(red + text + reset if style and red else text)
    return "\n".join(lines) + "\n"


def report_tables(report: Report, *, color: bool = False) -> list[Table | str]:
    """The report table, the totals per currency and the dispute deadlines."""
    grid = Grid("SLA report", [
        ("Customer", "left"), ("Service", "left"), ("Month", "left"),
        ("Availability %", "right"), ("Band", "right"), ("Target", "right"),
        ("Downtime", "right"), ("Excluded", "right"), ("Inc.", "right"),
        ("Breached", "center"), ("Fee", "right"), ("Compensation", "right"),
        ("Due", "left"), ("Status", "left"),
    ])  # fmt: skip
    for row in report.rows:
        d = row.to_dict()
        comp = f"{d['compensation']} {row.currency}"
        if row.capped:
            comp += " (cap)"
        grid.add(
            row.customer_id, row.service, d["month"], d["availability_pct"], row.tier_band,
            d["sla_target_pct"], duration(row.downtime_us), duration(row.excluded_us),
            str(row.incident_count), "yes" if row.breached else "no",
            f"{d['monthly_fee']} {row.currency}", comp, d["compensation_due_at"], row.status,
            style="bold red" if row.breached else None,
        )  # fmt: skip
    tables = [grid.render(color=color)]
    totals = report.totals()
    if totals:
        t = Table(title="Compensation by currency", title_justify="left", header_style="bold")
        t.add_column("Currency")
        t.add_column("Breached rows", justify="right")
        t.add_column("Total", justify="right")
        for currency, total in totals.items():
            n = sum(1 for r in report.rows if r.currency == currency and r.breached)
            t.add_row(currency, str(n), format_money(total, currency))
        tables.append(t)
    deadlines = report.deadlines
    if deadlines:
        tables.append(deadline_table(deadlines, color=color))
    return tables


def deadline_table(deadlines: list[Deadline], *, color: bool = False) -> Table | str:
    grid = Grid("Dispute settlement deadlines", [
        (name, "left")
        for name in ("Level", "Category", "Customer", "Service", "Reference", "Opened", "Due")
    ])  # fmt: skip
    for dl in sorted(deadlines, key=lambda d: (d.due_at, d.level, d.customer_id)):
        d = dl.to_dict()
        grid.add(str(dl.level), dl.category, dl.customer_id, dl.service, dl.reference,
                 d["opened_at"], d["due_at"])  # fmt: skip
    return grid.render(color=color)


def print_tables(tables: Sequence[Table | Text | str], out: TextIO) -> None:
    """Rich renderables through a console; plain-text grids written as they are."""
    console = console_for(out)
    for i, table in enumerate(tables):
        if i:
            console.print()
        if isinstance(table, str):
            console.file.write(table)
        else:
            console.print(table)
