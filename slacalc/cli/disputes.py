"""`slacalc disputes` and `slacalc deadline`: settlement deadlines and where disputes stand."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, TextIO

import typer

from slacalc import run
from slacalc.cli import common as c
from slacalc.cli.common import app
from slacalc.dates.instants import from_us
from slacalc.dates.workdays import unconfirmed_warnings
from slacalc.errors import UsageError
from slacalc.writing.output import write_output

if TYPE_CHECKING:
    from slacalc.terms.deadlines import DisputeLevel


@app.command(
    "disputes",
    rich_help_panel=c.PANEL_DISPUTES,
    epilog="Example: slacalc disputes samples/disputes.csv --as-of 2026-03-02T12:00:00+08:00 "
    "--format csv -o disputes.csv",
)
@c.boundary
@c.no_header_option
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
    from slacalc.computing.disputes import calendar_years_of, compute_disputes
    from slacalc.reading.disputes import read_disputes
    from slacalc.writing.dispute_view import local_text, render_disputes

    fmt = c.output_format(format, output)
    zone = run.as_zone(tz)
    cal = run.as_calendar(calendar, holidays)
    moment = from_us(run.as_instant(as_of, zone, "--as-of"), zone)
    results = compute_disputes(read_disputes(disputes, zone), calendar=cal, tz=zone, as_of=moment)
    c.warn_all(unconfirmed_warnings(cal, calendar_years_of(results)))
    title = f"Disputes at {local_text(moment)} ({tz.strip()}, {cal.name} calendar)"

    def render(out: TextIO) -> None:
        render_disputes(results, fmt, out, title=title, raw_csv=raw_csv)

    write_output(output, render, inputs=[disputes])


@app.command(
    "deadline",
    rich_help_panel=c.PANEL_DISPUTES,
    epilog="Example: slacalc deadline --level data_loss --opened '2026-02-12 11:00' --format json",
)
@c.boundary
@c.no_header_option
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
    from slacalc.computing.disputes import compute_deadline
    from slacalc.writing.dispute_view import render_deadline

    fmt = c.output_format(format, output)
    lvl = _level(level)
    zone = run.as_zone(tz)
    opened_at = run.as_datetime(opened, zone, "--opened")
    cal = run.as_calendar(calendar, holidays)
    try:
        result = compute_deadline(lvl, opened_at, calendar=cal, tz=zone)
    except (ValueError, OverflowError) as exc:
        raise UsageError(f"--opened '{opened}': no deadline can be computed ({exc})") from None
    c.warn_all(unconfirmed_warnings(cal, result.calendar_years))
    write_output(output, lambda out: render_deadline(result, fmt, out, calendar=cal.name))


def _level(text: str) -> DisputeLevel:
    from slacalc.terms.deadlines import parse_level

    try:
        return parse_level(text)
    except ValueError as exc:
        raise UsageError(f"--level '{text}': {exc}") from None
