"""Disputes and one dispute's deadline as people read them, and as CSV/JSON records."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import TextIO

from rich.table import Table
from rich.text import Text

from slacalc.computing.disputes import DEADLINE_FIELDS, FIELDS, DeadlineResult
from slacalc.terms import deadlines
from slacalc.terms.deadlines import DisputeResult, DisputeStatus
from slacalc.writing.csvjson import write_as
from slacalc.writing.formats import Format
from slacalc.writing.tables import Column, Grid, print_tables
from slacalc.writing.times import compact_clock

_STATUS_STYLE = {
    DisputeStatus.OVERDUE: "bold red",
    DisputeStatus.ESCALATED: "bold magenta",
    DisputeStatus.RESOLVED_LATE: "yellow",
}
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def render_disputes(
    results: list[DisputeResult], fmt: Format, out: TextIO, *, title: str, raw_csv: bool = False
) -> None:
    write_as(
        fmt,
        (r.to_dict() for r in results),
        FIELDS,
        out,
        lambda: print_tables(disputes_tables(results, title=title), out),
        text_fields=("dispute_id", "customer_id"),
        raw=raw_csv,
    )


def disputes_tables(results: list[DisputeResult], *, title: str) -> list[Grid | Text]:
    """The disputes by due date, late ones highlighted, then a count per status.

    The order is total (due, opening, id, customer, level, resolution), so the input's row
    order never changes the table. On a narrow terminal the level is shown by its number and
    times without the year they share; the opening, escalation and resolution times give way
    first.
    """
    ordered = sorted(results, key=_order)
    opened = [local_text(r.opened_at) for r in ordered]
    due = [local_text(r.due_at) for r in ordered]
    escalates = [local_text(r.escalation_at) for r in ordered]
    resolved = ["" if r.resolved_at is None else local_text(r.resolved_at) for r in ordered]
    grid = Grid(
        title,
        [
            Column("Dispute"),
            Column("Customer"),
            Column("Level", compact=lambda text: text.split(" ", 1)[0]),
            _time_column("Opened", opened, rank=1),
            _time_column("Due", due),
            _time_column("Escalates", escalates, rank=2),
            _time_column("Resolved", resolved, rank=3),
            Column("Status"),
        ],
    )
    for r, o, d, e, x in zip(ordered, opened, due, escalates, resolved, strict=True):
        grid.add(
            r.dispute_id,
            r.customer_id,
            f"{r.level} {r.category}",
            o,
            d,
            e,
            x,
            str(r.status),
            style=_STATUS_STYLE.get(DisputeStatus(r.status)),
        )
    return [grid, Text(_summary(results))]


def _order(r: DisputeResult) -> tuple:
    resolved = "" if r.resolved_at is None else r.resolved_at.isoformat()
    return (r.due_at, r.opened_at, r.dispute_id, r.customer_id, int(r.level), resolved)


def _time_column(header: str, texts: list[str], *, rank: int = 0) -> Column:
    compact, year = compact_clock(texts)
    return Column(header, rank=rank, compact=compact, short=f"{header} {year}" if year else None)


def _summary(results: list[DisputeResult]) -> str:
    counts = Counter(str(r.status) for r in results)
    n = len(results)
    parts = [f"{counts[s]} {s}" for s in DisputeStatus if counts[s]]
    return f"{n} dispute{'s' if n != 1 else ''}" + (": " + ", ".join(parts) if parts else "")


def render_deadline(result: DeadlineResult, fmt: Format, out: TextIO, *, calendar: str) -> None:
    write_as(
        fmt,
        [result.to_dict()],
        DEADLINE_FIELDS,
        out,
        lambda: print_tables([deadline_table(result, calendar=calendar)], out),
        json_records=[result.to_dict(nested=True)],
    )


def deadline_table(result: DeadlineResult, *, calendar: str) -> Table:
    """A key/value view of one dispute's deadlines, with the working days that were counted."""
    d = result.to_dict()
    table = Table(title="Dispute deadline", title_justify="left", show_header=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    table.add_row("level", str(d["level"]))
    table.add_row("category", d["category"])
    table.add_row("opened_at", d["opened_at"])
    table.add_row("due_at", d["due_at"])
    table.add_row("counted", _counted(result, calendar))
    table.add_row("escalation_at", d["escalation_at"])
    return table


def _counted(result: DeadlineResult, calendar: str) -> str:
    if not result.working_days:
        return f"{deadlines.LEVEL1_HOURS} hours after opening (working days do not matter)"
    days = result.working_days
    n = len(days)
    head = f"{n} working day{'s' if n != 1 else ''} ({calendar} calendar): "
    previous = (None, *days[:-1])
    listed = (
        _day(day, prev, result.make_up_days) for prev, day in zip(previous, days, strict=True)
    )
    return head + ", ".join(listed)


def _day(day: date, prev: date | None, make_up: frozenset[date]) -> str:
    # Within one year the year is said once: 2025-10-09, 10-10, 10-11 ...
    text = day.isoformat() if prev is None or prev.year != day.year else day.strftime("%m-%d")
    if day in make_up:
        text += f" (make-up {_DAY_NAMES[day.weekday()]})"
    return text


def local_text(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%S")
