"""`slacalc report`: the month's availability, tiers, breaches, compensation and deadlines."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from slacalc import run
from slacalc.cli import common as c
from slacalc.cli.common import app
from slacalc.writing.formats import Format, choose_format


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
def report(
    incidents: c.IncidentsArg,
    opts: c.RunOptions,
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
    parquet = (
        engine is Engine.spark and format is None and (output or "").lower().endswith(".parquet")
    )
    fmt = None if parquet else choose_format(format, output)
    if engine is Engine.spark and format is None and output in (None, "-"):
        fmt = Format.csv  # a table needs the deadlines, which a cluster run does not gather
    progress = c.RunProgress(incidents)
    with (
        progress,
        run.report(
            incidents,
            **opts.run_kwargs(),
            memory=memory,
            engine=engine.value,
            spark_master=spark_master,
            deadlines=fmt is Format.table,
            progress=progress,
        ) as result,
    ):
        c.warn_all(result.warnings)
        progress.before_output(output)
        progress.stage("writing", 0.9)
        result.write(output, fmt, raw_csv=raw_csv)
        progress.close()
        breached = result.any_breached()
    if fail_on_breach and breached:
        raise typer.Exit(3)


@app.command(
    rich_help_panel=c.PANEL_MONTH,
    epilog="Example: slacalc compare samples/incidents.csv --contracts samples/contracts.csv "
    "--policy standard --policy aws-ec2-region --as-of 2025-07-01 -f csv",
)
@c.boundary
@c.run_options(skip=("policy",))
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

    fmt = choose_format(format, output)
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
