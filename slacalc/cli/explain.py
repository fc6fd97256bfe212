"""`slacalc explain`: the audit trail of one report row."""

from __future__ import annotations

from typing import Annotated

import typer

from slacalc import run
from slacalc.cli import common as c
from slacalc.cli.common import app
from slacalc.reading import read_incidents
from slacalc.reading.contracts import read_contracts
from slacalc.writing.csvjson import write_json
from slacalc.writing.formats import Format, choose_format
from slacalc.writing.output import write_output


@app.command(
    "explain",
    rich_help_panel=c.PANEL_MONTH,
    epilog="Example: slacalc explain samples/incidents.csv --contracts samples/contracts.csv "
    "--customer globex --service database --month 2025-05",
)
@c.boundary
def explain_cmd(
    incidents: c.IncidentsArg,
    customer: Annotated[str, typer.Option("--customer", help="The customer_id to explain.")],
    month: Annotated[
        str, typer.Option("--month", "-m", help="The month, YYYY-MM.", metavar="YYYY-MM")
    ],
    service: Annotated[
        str | None,
        typer.Option("--service", help="The service (needed when the customer has several)."),
    ] = None,
    contracts: c.ContractsOpt = None,
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
) -> None:
    """How one report row was computed: incidents as read, clipped, merged, excluded, the formula.

    Example: slacalc explain samples/incidents.csv --contracts samples/contracts.csv
    --customer acme --service storage --month 2025-05
    """
    fmt = choose_format(format, output)
    if fmt is Format.csv:
        raise c.UsageError("explain prints a table or JSON; --format csv is not available")
    wanted = run.as_month(month)
    settings = run.settings(
        policy_name=policy,
        tz=tz,
        as_of=as_of,
        currency_code=currency,
        monthly_fee=monthly_fee,
        sla_target=sla_target,
        calendar=calendar,
        holidays=holidays,
    )
    book = (
        read_contracts(contracts, policy=settings.policy, default_currency=settings.currency)
        if contracts
        else None
    )
    from slacalc.computing.explain import explain

    # Only the customer's rows (and the customer-wide rows of "*") are typed: a large log is
    # explained in the time it takes to read it.
    table = read_incidents(
        incidents, settings.tz, keep_text=True, fmt=input_format, customers=[customer, "*"]
    )
    result = explain(
        table, settings, customer=customer, service=service, month=wanted, contracts=book
    )

    def render(out) -> None:
        from slacalc.writing.explain_view import explanation_record, explanation_view

        if fmt is Format.json:
            write_json([explanation_record(result)], out)
        else:
            from slacalc.writing.tables import print_tables

            print_tables(explanation_view(result), out)

    write_output(output, render, inputs=[*incidents, *([contracts] if contracts else [])])
