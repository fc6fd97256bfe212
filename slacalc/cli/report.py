"""`slacalc report`: the month's availability, tiers, breaches, compensation and deadlines."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import Annotated, Any, TextIO

import typer

from slacalc.cli import common as c
from slacalc.cli.common import app
from slacalc.computing.fields import FIELDS, NUMBER_FIELDS, TEXT_FIELDS
from slacalc.computing.partitioned import PartitionedReport, memory_needed, report_in_buckets
from slacalc.computing.report import Report, compute_report
from slacalc.reading import read_incidents
from slacalc.reading.contracts import read_contracts
from slacalc.writing.csvjson import write_columns_csv, write_columns_json
from slacalc.writing.formats import Format, choose_format
from slacalc.writing.output import write_output


class Engine(StrEnum):
    """Where ``report`` computes."""

    memory = "memory"
    spark = "spark"


@app.command(
    rich_help_panel=c.PANEL_MONTH,
    epilog="Example: slacalc report samples/incidents.csv --contracts samples/contracts.csv "
    "--as-of 2025-07-01 --format csv -o report.csv",
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
    input_format: c.InputFormatOpt = None,
    format: c.FormatOpt = None,
    output: c.OutputOpt = None,
    fail_on_breach: Annotated[
        bool, typer.Option("--fail-on-breach", help="Exit 3 when any row is breached.")
    ] = False,
    raw_csv: c.RawCsvOpt = False,
    memory: c.MemoryOpt = None,
    engine: Annotated[
        Engine,
        typer.Option(
            "--engine",
            help="Where to compute: 'memory' (this process) or 'spark' (a Spark cluster, CSV or "
            "Parquet inputs on any path Spark reads; writes CSV, JSON or -o DIR.parquet).",
        ),
    ] = Engine.memory,
    spark_master: Annotated[
        str | None,
        typer.Option(
            "--spark-master",
            help="With --engine spark: the master URL (default: spark-submit's, else local[*]).",
            metavar="URL",
        ),
    ] = None,
) -> None:
    """Availability, SLA tier, breach and compensation per customer, service and month.

    Example: slacalc report samples/incidents.csv --contracts samples/contracts.csv
    """
    if spark_master is not None and engine is not Engine.spark:
        raise c.UsageError("--spark-master goes with --engine spark")
    months = c.months(month)
    settings = c.settings(
        policy_name=policy,
        tz=tz,
        as_of=as_of,
        currency_code=currency,
        monthly_fee=monthly_fee,
        sla_target=sla_target,
        calendar=calendar,
        holidays=holidays,
    )
    if engine is Engine.spark:
        from slacalc.cli.report_spark import spark_report

        spark_report(
            incidents,
            contracts=contracts,
            settings=settings,
            months=months,
            input_format=input_format,
            fmt=format,
            output=output,
            raw_csv=raw_csv,
            fail_on_breach=fail_on_breach,
            master=spark_master,
        )
        return
    fmt = choose_format(format, output)
    budget = c.memory_budget(memory)
    book = (
        read_contracts(contracts, policy=settings.policy, default_currency=settings.currency)
        if contracts
        else None
    )
    needed = memory_needed(incidents)
    bucketed = fmt is not Format.table and needed is not None and needed > budget
    progress = c.RunProgress(() if bucketed else incidents)  # a bar for the in-memory stages
    with contextlib.ExitStack() as stack:
        stack.enter_context(progress)  # the bar goes, however the run ends
        result: Report | PartitionedReport
        if bucketed:  # larger than the budget: read as a stream, a bucket of customers at a time
            result = stack.enter_context(
                report_in_buckets(
                    incidents,
                    settings,
                    budget=budget,
                    contracts=book,
                    months=months,
                    fmt=input_format,
                )
            )
        else:
            progress.stage("reading", 0.05)
            table = read_incidents(incidents, settings.tz, fmt=input_format, progress=progress)
            progress.stage("computing", 0.7)
            result = compute_report(table, settings, contracts=book, months=months)
        for message in result.warnings:
            c.warn(message)
        years = result.calendar_years(deadlines=fmt is Format.table)
        c.warn_unconfirmed(settings.work_calendar, years)
        progress.before_output(output)
        progress.stage("writing", 0.9)
        write_output(
            output,
            lambda out: render_report(result, fmt, out, raw_csv=raw_csv),
            inputs=[*incidents, *([contracts] if contracts else [])],
            stream=bucketed,  # every value is computed already; the text need not fit in memory
        )
        progress.close()
        breached = result.any_breached()
    if fail_on_breach and breached:
        raise typer.Exit(3)


def render_report(
    result: Report | PartitionedReport, fmt: Format, out: TextIO, *, raw_csv: bool = False
) -> None:
    if fmt in (Format.csv, Format.json):
        render_columns(result.text_parts(), fmt, out, raw_csv=raw_csv)
    else:  # rich is imported only for people
        from slacalc.writing.report_view import report_tables
        from slacalc.writing.tables import print_tables

        print_tables(report_tables(result), out)


def render_columns(
    parts: Iterable[Callable[[], dict[str, Any]]], fmt: Format, out: TextIO, *, raw_csv: bool
) -> None:
    """The report's fields, given as pieces of columns (:meth:`Report.text_parts`), as CSV or
    JSON."""
    if fmt is Format.csv:
        write_columns_csv(parts, FIELDS, out, text_fields=TEXT_FIELDS, raw=raw_csv)
    else:
        write_columns_json(parts, FIELDS, NUMBER_FIELDS, out)


@app.command(
    rich_help_panel=c.PANEL_MONTH,
    epilog="Example: slacalc compare samples/incidents.csv --contracts samples/contracts.csv "
    "--policy standard --policy aws-ec2-region --as-of 2025-07-01 -f csv",
)
@c.boundary
def compare(
    incidents: c.IncidentsArg,
    policy: Annotated[
        list[str],
        typer.Option(
            "--policy",
            help="A policy to price under (repeat it: two or more). A preset name or a TOML file.",
            metavar="NAME|FILE",
        ),
    ],
    contracts: c.ContractsOpt = None,
    month: c.MonthOpt = None,
    monthly_fee: c.FeeOpt = None,
    sla_target: c.TargetOpt = None,
    tz: c.TzOpt = c.DEFAULT_TZ,
    calendar: c.CalendarOpt = c.DEFAULT_CALENDAR,
    holidays: c.HolidaysOpt = None,
    currency: c.CurrencyOpt = c.DEFAULT_CURRENCY,
    as_of: c.AsOfOpt = None,
    input_format: c.InputFormatOpt = None,
    format: c.FormatOpt = None,
    output: c.OutputOpt = None,
    raw_csv: c.RawCsvOpt = False,
) -> None:
    """The same months priced under several policies, side by side, with totals.

    Each contract keeps its fee and currency and is priced under each policy at its committed
    target, or the policy's default tier where the policy has no such tier.

    Example: slacalc compare samples/incidents.csv --contracts samples/contracts.csv
    --policy standard --policy aws-ec2-region --policy azure-vm
    """
    from slacalc.computing.compare import compare as price_under
    from slacalc.writing.compare_view import render_comparison

    policies = [c.policy(name) for name in policy]  # a bad one is named first
    if len(policy) < 2:
        raise c.UsageError("--policy: give two or more policies to compare")
    fmt = choose_format(format, output)
    months = c.months(month)
    settings = c.settings(
        policy_name=policy[0],
        tz=tz,
        as_of=as_of,
        currency_code=currency,
        monthly_fee=monthly_fee,
        sla_target=None,
        calendar=calendar,
        holidays=holidays,
    )
    if sla_target is not None:
        settings = c.with_target(settings, sla_target)
    book = (
        read_contracts(contracts, policy=settings.policy, default_currency=settings.currency)
        if contracts
        else None
    )
    table = read_incidents(incidents, settings.tz, fmt=input_format)
    result = price_under(table, settings, policies, contracts=book, months=months)
    for message in result.reports[0].warnings:
        c.warn(message)
    write_output(
        output,
        lambda out: render_comparison(result, fmt, out, raw=raw_csv),
        inputs=[*incidents, *([contracts] if contracts else [])],
    )
