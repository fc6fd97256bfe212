"""`slacalc report`: the month's availability, tiers, breaches, compensation and deadlines."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Annotated

import typer

from slacalc.cli import common as c
from slacalc.cli.common import app
from slacalc.contracts import ContractBook, read_contracts
from slacalc.deadlines import add_data_loss_deadlines
from slacalc.errors import UsageError
from slacalc.incidents import read_incidents
from slacalc.periods import Month
from slacalc.render import (
    FORMULA_CHARS,
    Format,
    choose_format,
    write_csv_rows,
    write_json,
    write_output,
)
from slacalc.report import FIELDS, TEXT_FIELDS, IncidentSource, Report, Terms, compute_report
from slacalc.tables import print_tables, report_tables


@app.command(
    rich_help_panel=c.PANEL_MONTH,
    epilog="Example: slacalc report samples/incidents.csv --contracts samples/contracts.csv "
    "--as-of 2025-07-01 --format csv -o report.csv"
)
@c.boundary
def report(
    incidents: c.IncidentsArg,
    contracts: c.ContractsOpt = None,
    month: c.MonthOpt = None,
    monthly_fee: c.FeeOpt = None,
    sla_target: c.TargetOpt = None,
    policy: c.PolicyOpt = c.DEFAULT_POLICY,
    tz: c.TzOpt = c.DEFAULT_TZ,
    calendar: c.CalendarOpt = c.DEFAULT_CALENDAR,
    holidays: c.HolidaysOpt = None,
    currency: c.CurrencyOpt = c.DEFAULT_CURRENCY,
    as_of: c.AsOfOpt = None,
    format: c.FormatOpt = None,
    output: c.OutputOpt = None,
    fail_on_breach: Annotated[
        bool, typer.Option("--fail-on-breach", help="Exit 3 when any row is breached.")
    ] = False,
    raw_csv: c.RawCsvOpt = False,
) -> None:
    """Availability, SLA tier, breach and compensation per customer, service and month.

    Example: slacalc report samples/incidents.csv --contracts samples/contracts.csv
    """
    progress = c.RunProgress(incidents)
    result = build_report(
        incidents, contracts=contracts, month=month, monthly_fee=monthly_fee,
        sla_target=sla_target, policy=policy, tz=tz, calendar=calendar, holidays=holidays,
        currency=currency, as_of=as_of, progress=progress,
    )  # fmt: skip
    fmt = choose_format(format, output)
    for message in result.warnings:
        c.warn(message)
    if output is None or output == "-":
        progress.close()  # the bar and the output would share the terminal
    progress.stage("writing", 0.9)
    write_output(output, lambda out: render_report(result, fmt, out, raw_csv=raw_csv))
    progress.close()
    if fail_on_breach and result.any_breached():
        raise typer.Exit(3)


@dataclass
class Inputs:
    """What the options and files of a report-like command amount to."""

    log: IncidentSource
    terms: Terms
    contracts: ContractBook | None


def build_inputs(
    incidents: list[str], *, contracts: str | None, monthly_fee: str | None,
    sla_target: str | None, policy: str, tz: str, currency: str, as_of: str | None,
    keep_text: bool = False, progress: c.RunProgress | None = None,
) -> Inputs:  # fmt: skip
    """Options to terms, then the files read (shared by report, explain and validate)."""
    if sum(1 for p in incidents if p == "-") > 1:
        raise UsageError("standard input ('-') can be read only once")
    zone = c.zone(tz)
    pol = c.policy(policy)
    terms = Terms(
        policy=pol,
        tz=zone,
        as_of=c.instant(as_of, zone, "--as-of"),
        currency=c.currency(currency),
        monthly_fee=c.amount(monthly_fee, "--monthly-fee"),
        sla_target=_target(pol, sla_target),
    )
    book = (
        read_contracts(contracts, policy=pol, default_currency=terms.currency)
        if contracts
        else None
    )
    progress = progress or c.RunProgress()
    log = None
    if not keep_text:
        progress.stage("reading (columnar)", 0.05)
        log = _columnar(incidents, zone)
    if log is None:
        log = read_incidents(incidents, zone, keep_text=keep_text, progress=progress)
    progress.stage("computing", 0.7)
    return Inputs(log, terms, book)


def _columnar(paths: list[str], zone) -> IncidentSource | None:
    """The columnar reader for large files (when pyarrow is installed), else None."""
    from slacalc import columnar

    if "-" in paths or not all(os.path.isfile(p) for p in paths):
        return None
    if sum(os.path.getsize(p) for p in paths) < columnar.MIN_BYTES:
        return None
    return columnar.read_columnar(paths, zone)


def build_report(
    incidents: list[str], *, contracts: str | None, month: list[str] | None,
    monthly_fee: str | None, sla_target: str | None, policy: str, tz: str, calendar: str,
    holidays: str | None, currency: str, as_of: str | None,
    progress: c.RunProgress | None = None,
) -> Report:  # fmt: skip
    """Options to a computed report, with its dispute deadlines."""
    months = _months(month)
    cal = c.work_calendar(calendar, holidays)
    inputs = build_inputs(
        incidents, contracts=contracts, monthly_fee=monthly_fee, sla_target=sla_target,
        policy=policy, tz=tz, currency=currency, as_of=as_of, progress=progress,
    )  # fmt: skip
    result = compute_report(inputs.log, inputs.terms, contracts=inputs.contracts, months=months)
    years = add_data_loss_deadlines(result, inputs.log, cal, inputs.terms.tz)
    c.warn_unconfirmed(cal, years)
    return result


def render_report(result: Report, fmt: Format, out, *, raw_csv: bool = False) -> None:
    if fmt is Format.csv:
        if _write_csv_in_bulk(result, out, raw_csv):
            return
        write_csv_rows((row.to_row() for row in result.rows), FIELDS, out, raw=raw_csv,
                       text_columns=TEXT_FIELDS)  # fmt: skip
    elif fmt is Format.json:
        write_json((row.to_dict() for row in result.rows), out)
    else:
        color = hasattr(out, "isatty") and out.isatty()
        print_tables(report_tables(result, color=color), out)


def _write_csv_in_bulk(result: Report, out, raw: bool) -> bool:
    """Write a large report's CSV with the columnar formatter; False when it does not apply."""
    from slacalc import frame

    plan = result.plan
    if plan is None or len(plan) < frame.MIN_ROWS or not frame.available():
        return False
    body = frame.csv_body(plan, raw=raw, formula_chars=FORMULA_CHARS)
    if body is None:
        return False
    text, result.any_breached_seen = body
    out.write(",".join(FIELDS) + "\n")
    out.write(text)
    return True


def _target(policy, text: str | None):
    if text is None:
        return None
    try:
        return policy.parse_target(text)
    except ValueError as exc:
        raise UsageError(f"--sla-target '{text}': {exc}") from None


def _months(texts: list[str] | None) -> list[Month] | None:
    if not texts:
        return None
    months = []
    for text in texts:
        try:
            months.append(Month.parse(text))
        except ValueError as exc:
            raise UsageError(f"--month: {exc}") from None
    return months
