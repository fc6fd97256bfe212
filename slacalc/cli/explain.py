"""`slacalc explain`: the audit trail of one report row."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from slacalc.cli import common as c
from slacalc.cli.common import app
from slacalc.cli.report import build_inputs
from slacalc.explain import Explanation, explain
from slacalc.fmt import duration, share
from slacalc.periods import Month
from slacalc.render import Format, choose_format, write_json, write_output
from slacalc.tables import print_tables
from slacalc.timeparse import format_instant, format_local


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
    month: Annotated[str, typer.Option("--month", "-m", help="The month, YYYY-MM.",
                                       metavar="YYYY-MM")],
    service: Annotated[
        str | None, typer.Option("--service", help="The service (needed when the customer "
                                 "has several).")
    ] = None,
    contracts: c.ContractsOpt = None,
    monthly_fee: c.FeeOpt = None,
    sla_target: c.TargetOpt = None,
    policy: c.PolicyOpt = c.DEFAULT_POLICY,
    tz: c.TzOpt = c.DEFAULT_TZ,
    currency: c.CurrencyOpt = c.DEFAULT_CURRENCY,
    as_of: c.AsOfOpt = None,
    format: c.FormatOpt = None,
    output: c.OutputOpt = None,
) -> None:
    """How one report row was computed: incidents as read, clipped, merged, excluded, the formula.

    Example: slacalc explain samples/incidents.csv --contracts samples/contracts.csv
    --customer acme --service storage --month 2025-05
    """
    inputs = build_inputs(
        incidents, contracts=contracts, monthly_fee=monthly_fee, sla_target=sla_target,
        policy=policy, tz=tz, currency=currency, as_of=as_of, keep_text=True,
    )  # fmt: skip
    try:
        wanted = Month.parse(month)
    except ValueError as exc:
        raise c.UsageError(f"--month: {exc}") from None
    result = explain(
        inputs.log, inputs.terms, customer=customer, service=service, month=wanted,
        contracts=inputs.contracts,
    )  # fmt: skip
    fmt = choose_format(format, output)
    if fmt is Format.csv:
        raise c.UsageError("explain prints a table or JSON; --format csv is not available")

    def render(out) -> None:
        if fmt is Format.json:
            write_json([result.to_dict()], out)
        else:
            print_tables(explanation_view(result), out)

    write_output(output, render)


def explanation_view(ex: Explanation) -> list:
    """The audit trail as rich renderables, top to bottom in the order of the computation."""
    row, tz = ex.row, ex.terms.tz
    d = row.to_dict()
    head = Text()
    head.append(f"{row.customer_id} / {row.service} / {row.month}", style="bold")
    head.append(
        f"\nperiod {format_instant(row.period_start, tz)} .. {format_instant(row.period_end, tz)}"
        f" = {d['period_seconds']} s ({duration(row.period_us)}), status {row.status}"
        f"\ncontract: fee {d['monthly_fee']} {row.currency}, committed {row.tier.label} %, "
        f"policy '{ex.terms.policy.name}' ({ex.terms.policy.mode})"
    )
    parts: list = [head]
    inc = Table(title=f"1. Incidents of the key ({tz.key} local times)", title_justify="left",
                header_style="bold")
    for name in ("Id", "File:line", "Category", "Impact", "As read", "Counted in the month",
                 "Excluded", "Note"):
        inc.add_column(name, no_wrap=name in ("As read", "Counted in the month", "File:line"))
    outside = 0
    for t in ex.traces:
        i = t.incident
        if t.window is None:
            outside += 1
            continue
        inc.add_row(
            i.incident_id or "-", f"{i.source}:{i.line}", i.category, share(i.impact),
            f"{i.start_text} .. {i.end_text or '(ongoing)'}",
            f"{format_local(t.window[0], tz)} .. {format_local(t.window[1], tz)}",
            duration(t.excluded_us) if t.excluded_us else "", t.note,
        )  # fmt: skip
    if outside:
        inc.caption = f"{outside} other incident(s) of this key fall outside {row.month}"
    parts.append(inc)
    if ex.exclusions:
        exc = Table(title="2. Maintenance / excluded time (union)", title_justify="left",
                    header_style="bold")
        for name in ("Start", "End", "Length"):
            exc.add_column(name)
        for s, e in ex.exclusions:
            exc.add_row(format_local(s, tz), format_local(e, tz), duration(e - s))
        parts.append(exc)
    tl = Table(title="3. Merged downtime timeline (overlaps counted once, largest impact wins)",
               title_justify="left", header_style="bold")
    for name in ("Start", "End", "Length", "Loss", "Downtime"):
        tl.add_column(name)
    for s, e, loss in ex.timeline:
        tl.add_row(format_local(s, tz), format_local(e, tz), duration(e - s), share(loss),
                   duration((e - s) * loss))
    tl.add_row("", "", "", "total", f"{duration(row.downtime_us)} = {d['downtime_seconds']} s",
               style="bold")
    parts.append(tl)
    formula = Text("4. Availability, tier and compensation\n", style="bold")
    for line in ex.formula():
        formula.append("   " + line + "\n", style="red" if "BREACHED" in line else None)
    parts.append(formula)
    return parts
