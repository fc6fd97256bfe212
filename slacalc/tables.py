"""Rich tables for people. Formatting only: every figure comes from the core's results."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

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


def report_tables(report: Report) -> list[Table]:
    """The report table, the totals per currency and the dispute deadlines."""
    table = Table(title="SLA report", title_justify="left", header_style="bold")
    for name, justify in (
        ("Customer", "left"), ("Service", "left"), ("Month", "left"),
        ("Availability %", "right"), ("Band", "right"), ("Target", "right"),
        ("Downtime", "right"), ("Excluded", "right"), ("Inc.", "right"),
        ("Breached", "center"), ("Fee", "right"), ("Compensation", "right"),
        ("Due", "left"), ("Status", "left"),
    ):  # fmt: skip
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in report.rows:
        d = row.to_dict()
        comp = f"{d['compensation']} {row.currency}"
        if row.capped:
            comp += " (cap)"
        table.add_row(
            row.customer_id, row.service, d["month"], d["availability_pct"], row.tier_band,
            d["sla_target_pct"], duration(row.downtime_us), duration(row.excluded_us),
            str(row.incident_count), "yes" if row.breached else "no",
            f"{d['monthly_fee']} {row.currency}", comp, d["compensation_due_at"], row.status,
            style="bold red" if row.breached else None,
        )  # fmt: skip
    tables = [table]
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
        tables.append(deadline_table(deadlines))
    return tables


def deadline_table(deadlines: list[Deadline]) -> Table:
    t = Table(title="Dispute settlement deadlines", title_justify="left", header_style="bold")
    for name in ("Level", "Category", "Customer", "Service", "Reference", "Opened", "Due"):
        t.add_column(name)
    for dl in sorted(deadlines, key=lambda d: (d.due_at, d.level, d.customer_id)):
        d = dl.to_dict()
        t.add_row(str(dl.level), dl.category, dl.customer_id, dl.service, dl.reference,
                  d["opened_at"], d["due_at"])
    return t


def print_tables(tables: Sequence[Table | Text | str], out: TextIO) -> None:
    console = console_for(out)
    for i, table in enumerate(tables):
        if i:
            console.print()
        console.print(table)
