"""`slacalc report`: the month's availability, tiers, breaches, compensation and deadlines."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from slacalc import run
from slacalc.cli import common as c
from slacalc.cli.common import app
from slacalc.writing.formats import Format


class TotalsBy(StrEnum):
    """What ``report --totals`` adds up beside the currency."""

    customer = "customer"


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
@c.run_options()
@c.no_header_option
def report(
    incidents: Annotated[
        list[str] | None,
        typer.Argument(
            help="Incident log files ('-' reads standard input); none with --requests only.",
            metavar="[INCIDENTS]...",
        ),
    ] = None,
    opts: c.RunOptions = None,  # type: ignore[assignment]
    format: c.FormatOpt = None,
    output: c.OutputOpt = None,
    fail_on_breach: Annotated[
        bool,
        typer.Option(
            "--fail-on-breach",
            help="Exit 3 when any row is breached (one stderr line says how many).",
        ),
    ] = False,
    totals: Annotated[
        bool,
        typer.Option(
            "--totals",
            help="Write the totals instead of the rows: breached rows and compensation per "
            "currency (per customer and currency with --by customer).",
        ),
    ] = False,
    by: Annotated[
        TotalsBy | None,
        typer.Option("--by", help="With --totals: 'customer' adds a row per customer."),
    ] = None,
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
    parquet = (
        engine is Engine.spark and format is None and (output or "").lower().endswith(".parquet")
    )
    fmt = None if parquet else c.output_format(format, output)
    if engine is Engine.spark and format is None and output in (None, "-"):
        fmt = Format.csv  # a table needs the deadlines, which a cluster run does not gather
    incidents = incidents or []
    if not incidents and not opts.requests:
        raise c.UsageError("give the incident logs (or request counts with --requests FILE)")
    progress = c.RunProgress(incidents)
    if by is not None and not totals:
        raise c.UsageError("--by goes with --totals")
    if totals and parquet:
        raise c.UsageError("--totals writes a table, CSV or JSON, not Parquet")
    with (
        progress,
        run.report(
            incidents,
            **opts.run_kwargs(),
            memory=memory,
            engine=engine.value,
            spark_master=spark_master,
            deadlines=fmt is Format.table and not totals,
            progress=progress,
        ) as result,
    ):
        c.warn_all(result.warnings)
        progress.before_output(output)
        progress.stage("writing", 0.9)
        if totals:
            _write_totals(result, fmt or Format.csv, output, by, raw_csv, opts)
        else:
            result.write(output, fmt, raw_csv=raw_csv)
        progress.close()
        breached = result.breached_rows() if fail_on_breach else 0
    if breached:
        c.err(f"{breached} breached row{'s' * (breached != 1)} (--fail-on-breach: exit 3)")
        raise typer.Exit(3)


def _write_totals(result, fmt: Format, output, by, raw_csv: bool, opts: c.RunOptions) -> None:
    from slacalc.writing.output import write_output
    from slacalc.writing.totals_out import render_totals

    found = result.totals(by=None if by is None else by.value)
    write_output(
        output,
        lambda out: render_totals(found, fmt, out, by=by, raw_csv=raw_csv),
        inputs=result.inputs,
    )


@app.command(
    rich_help_panel=c.PANEL_MONTH,
    epilog="Example: slacalc compare samples/incidents.csv --contracts samples/contracts.csv "
    "--policy standard --policy aws-ec2-region --as-of 2025-07-01 -f csv",
)
@c.boundary
@c.run_options(skip=("policy",))
@c.no_header_option
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
    opts: c.RunOptions,
    format: c.FormatOpt = None,
    output: c.OutputOpt = None,
    raw_csv: c.RawCsvOpt = False,
    memory: c.MemoryOpt = None,
) -> None:
    """The same months priced under several policies, side by side, with totals.

    Each contract keeps its fee and currency and is priced under each policy at its committed
    target, or the policy's default tier where the policy has no such tier.

    Example: slacalc compare samples/incidents.csv --contracts samples/contracts.csv
    --policy standard --policy aws-ec2-region --policy azure-vm
    """
    from slacalc.writing.compare_view import render_comparison
    from slacalc.writing.output import write_output

    fmt = c.output_format(format, output)
    with run.compare(
        incidents,
        policy,
        **opts.run_kwargs(),
        memory=memory,
    ) as result:
        c.warn_all(result.warnings)
        write_output(
            output,
            lambda out: render_comparison(result, fmt, out, raw=raw_csv),
            inputs=[*incidents, *([opts.contracts] if opts.contracts else [])],
            stream=fmt is Format.csv,
        )
