"""`slacalc explain`: the audit trail of one report row."""

from __future__ import annotations

from typing import Annotated

import typer

from slacalc import run
from slacalc.cli import common as c
from slacalc.cli.common import app
from slacalc.writing.csvjson import write_json
from slacalc.writing.formats import ExplainFormat, Format
from slacalc.writing.output import write_output


@app.command(
    "explain",
    rich_help_panel=c.PANEL_MONTH,
    epilog="Example: slacalc explain samples/incidents.csv --contracts samples/contracts.csv "
    "--customer globex --service database --month 2025-05",
)
@c.boundary
@c.run_options(skip=("month",), before="format")
def explain_cmd(
    incidents: c.IncidentsArg,
    customer: Annotated[str, typer.Option("--customer", help="The customer_id to explain.")],
    month: Annotated[
        str, typer.Option("--month", "-m", help="The month, YYYY-MM.", metavar="YYYY-MM")
    ],
    opts: c.RunOptions,
    service: Annotated[
        str | None,
        typer.Option("--service", help="The service (needed when the customer has several)."),
    ] = None,
    format: Annotated[
        ExplainFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="table or json (the audit trail has no flat CSV form). Default: from -o's "
            "extension, else a table.",
            case_sensitive=False,
        ),
    ] = None,
    output: c.OutputOpt = None,
) -> None:
    """How one report row was computed: incidents as read, clipped, merged, excluded, the formula.

    Example: slacalc explain samples/incidents.csv --contracts samples/contracts.csv
    --customer acme --service storage --month 2025-05
    """
    fmt = c.output_format(
        None if format is None else Format(format),
        output,
        pipe=Format.table,
        formats=(Format.table, Format.json),
    )
    if fmt is Format.csv:  # from -o out.csv
        raise c.UsageError("explain writes a table or JSON (-o FILE.json or .txt), not CSV")
    result = run.explain(
        incidents, customer=customer, month=month, service=service, **opts.run_kwargs()
    )

    def render(out) -> None:
        from slacalc.writing.explain_view import explanation_record, explanation_view

        if fmt is Format.json:
            write_json([explanation_record(result)], out)
        else:
            from slacalc.writing.tables import print_tables

            print_tables(explanation_view(result), out)

    write_output(output, render, inputs=[*incidents, *([opts.contracts] if opts.contracts else [])])
