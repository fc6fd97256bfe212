"""`slacalc disputes` and `slacalc deadline`: settlement deadlines and where disputes stand."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Annotated, TextIO

import typer
from rich.table import Table
from rich.text import Text

from slacalc.cli import common as c
from slacalc.cli.common import app
from slacalc.computing.disputes import (
    DEADLINE_FIELDS,
    FIELDS,
    DeadlineResult,
    calendar_years_of,
    compute_deadline,
    compute_disputes,
)
from slacalc.dates.instants import from_us
from slacalc.errors import UsageError
from slacalc.reading.disputes import read_disputes
from slacalc.terms.deadlines import DisputeLevel, DisputeResult, DisputeStatus, parse_level
from slacalc.writing.csvjson import write_csv, write_json
from slacalc.writing.formats import Format, choose_format
from slacalc.writing.output import write_output
from slacalc.writing.tables import print_tables

_STATUS_STYLE = {
    DisputeStatus.OVERDUE: "bold red",
    DisputeStatus.ESCALATED: "bold magenta",
    DisputeStatus.RESOLVED_LATE: "yellow",
}
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@app.command(
    "disputes",
    rich_help_panel=c.PANEL_DISPUTES,
    epilog="Example: slacalc disputes samples/disputes.csv --as-of 2026-03-02T12:00:00+08:00 "
    "--format csv -o disputes.csv",
)
@c.boundary
def disputes_cmd(
    disputes: Annotated[
        str,
        typer.Argument(
            help="Disputes CSV: dispute_id, customer_id, level, opened_at, "
            "resolved_at ('-' reads standard input).",
            metavar="DISPUTES",
        ),
    ],
    tz: c.TzOpt = c.DEFAULT_TZ,
    calendar: c.CalendarOpt = c.DEFAULT_CALENDAR,
    holidays: c.HolidaysOpt = None,
    as_of: c.AsOfOpt = None,
    format: c.FormatOpt = None,
    output: c.OutputOpt = None,
    raw_csv: c.RawCsvOpt = False,
) -> None:
    """Due date, escalation date and status of every dispute in a file.

    Level 1 is due after 72 hours, 2 after 5 and 3 after 10 working days; 15 days escalates.

    Example: slacalc disputes samples/disputes.csv --as-of 2026-03-02T12:00:00+08:00
    """
    fmt = choose_format(format, output)
    zone = c.zone(tz)
    cal = c.work_calendar(calendar, holidays)
    moment = from_us(c.instant(as_of, zone, "--as-of"), zone)
    results = compute_disputes(read_disputes(disputes, zone), calendar=cal, tz=zone, as_of=moment)
    c.warn_unconfirmed(cal, calendar_years_of(results))
    title = f"Disputes at {_local(moment)} ({tz.strip()}, {cal.name} calendar)"

    def render(out: TextIO) -> None:
        render_disputes(results, fmt, out, title=title, raw_csv=raw_csv)

    write_output(output, render, inputs=[disputes])


@app.command(
    "deadline",
    rich_help_panel=c.PANEL_DISPUTES,
    epilog="Example: slacalc deadline --level data_loss --opened '2026-02-12 11:00' --format json",
)
@c.boundary
def deadline_cmd(
    level: Annotated[
        str,
        typer.Option(
            "--level",
            "-l",
            help="Dispute level: 1, 2, 3 or sla_breach, data_loss, resource_allocation.",
            metavar="N",
            show_default=False,
        ),
    ],
    opened: Annotated[
        str,
        typer.Option(
            "--opened",
            help="When the dispute opened (naive: billing time zone).",
            metavar="TS",
            show_default=False,
        ),
    ],
    tz: c.TzOpt = c.DEFAULT_TZ,
    calendar: c.CalendarOpt = c.DEFAULT_CALENDAR,
    holidays: c.HolidaysOpt = None,
    format: c.FormatOpt = None,
    output: c.OutputOpt = None,
) -> None:
    """When one dispute must be settled and when it escalates, with the working days counted.

    Example: slacalc deadline --level 2 --opened 2025-09-30T10:00:00+08:00
    """
    fmt = choose_format(format, output)
    lvl = _level(level)
    zone = c.zone(tz)
    opened_at = c.when(opened, zone, "--opened")
    cal = c.work_calendar(calendar, holidays)
    try:
        result = compute_deadline(lvl, opened_at, calendar=cal, tz=zone)
    except (ValueError, OverflowError) as exc:
        raise UsageError(f"--opened '{opened}': no deadline can be computed ({exc})") from None
    c.warn_unconfirmed(cal, result.calendar_years)
    write_output(output, lambda out: render_deadline(result, fmt, out, calendar=cal.name))


def _level(text: str) -> DisputeLevel:
    try:
        return parse_level(text)
    except ValueError as exc:
        raise UsageError(f"--level '{text}': {exc}") from None


# --- rendering -------------------------------------------------------------------------------


def render_disputes(
    results: list[DisputeResult], fmt: Format, out: TextIO, *, title: str, raw_csv: bool = False
) -> None:
    records = (r.to_dict() for r in results)
    if fmt is Format.csv:
        write_csv(records, FIELDS, out, raw=raw_csv, text_fields=("dispute_id", "customer_id"))
    elif fmt is Format.json:
        write_json(records, out)
    else:
        print_tables(disputes_tables(results, title=title), out)


def disputes_tables(results: list[DisputeResult], *, title: str) -> list[Table | Text]:
    """The disputes by due date, late ones highlighted, then a count per status."""
    table = Table(title=title, title_justify="left", header_style="bold")
    for name in (
        "Dispute",
        "Customer",
        "Level",
        "Opened",
        "Due",
        "Escalates",
        "Resolved",
        "Status",
    ):
        table.add_column(name)
    for r in sorted(results, key=lambda r: (r.due_at, r.opened_at, r.dispute_id)):
        table.add_row(
            Text(r.dispute_id),
            Text(r.customer_id),
            f"{r.level} {r.category}",
            _local(r.opened_at),
            _local(r.due_at),
            _local(r.escalation_at),
            "" if r.resolved_at is None else _local(r.resolved_at),
            str(r.status),
            style=_STATUS_STYLE.get(DisputeStatus(r.status)),
        )
    return [table, Text(_summary(results))]


def _summary(results: list[DisputeResult]) -> str:
    counts = Counter(str(r.status) for r in results)
    n = len(results)
    parts = [f"{counts[s]} {s}" for s in DisputeStatus if counts[s]]
    return f"{n} dispute{'s' if n != 1 else ''}" + (": " + ", ".join(parts) if parts else "")


def render_deadline(result: DeadlineResult, fmt: Format, out: TextIO, *, calendar: str) -> None:
    if fmt is Format.csv:
        write_csv([result.to_dict()], DEADLINE_FIELDS, out)
    elif fmt is Format.json:
        write_json([result.to_dict()], out)
    else:
        print_tables([deadline_table(result, calendar=calendar)], out)


def deadline_table(result: DeadlineResult, *, calendar: str) -> Table:
    """A key/value view of one dispute's deadlines, with the working days that were counted."""
    d = result.to_dict()
    table = Table(title="Dispute deadline", title_justify="left", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("level", str(d["level"]))
    table.add_row("category", d["category"])
    table.add_row("opened_at", d["opened_at"])
    table.add_row("due_at", d["due_at"])
    table.add_row("counted", _counted(result, calendar))
    table.add_row("escalation_at", d["escalation_at"])
    return table


def _counted(result: DeadlineResult, calendar: str) -> str:
    if not result.working_days:
        return "72 hours after opening (working days do not matter)"
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


def _local(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%S")
