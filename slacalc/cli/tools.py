"""`slacalc budget` and `slacalc tiers`: planning aids that need no incident log."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import typer

from slacalc import run
from slacalc.cli import common as c
from slacalc.cli.common import app
from slacalc.dates.instants import to_us
from slacalc.dates.months import Month
from slacalc.errors import UsageError
from slacalc.writing.output import write_output

BudgetMonthOpt = Annotated[
    str | None,
    typer.Option(
        "--month",
        "-m",
        help="Calendar month, YYYY-MM, in the billing time zone. Default: the current month.",
        metavar="YYYY-MM",
    ),
]


@app.command(
    rich_help_panel=c.PANEL_PLANNING,
    epilog="Example: slacalc budget 99.95 99.9 --month 2025-03 --tz America/New_York "
    "--format csv -o budget.csv",
)
@c.boundary
@c.no_header_option
def budget(
    targets: Annotated[
        list[str] | None,
        typer.Argument(
            help="Availability targets in percent (99.95 or 99.95%). Default: the policy's tiers.",
            metavar="PCT",
            show_default=False,
        ),
    ] = None,
    month: BudgetMonthOpt = None,
    tz: c.TzOpt = c.DEFAULT_TZ,
    policy: c.PolicyOpt = c.DEFAULT_POLICY,
    contracts: Annotated[
        str | None,
        typer.Option(
            "--contracts",
            "-c",
            help="Contracts CSV with composite services: the planning estimate of each "
            "composite from its parts' targets, instead of budgets per target.",
            metavar="FILE",
        ),
    ] = None,
    format: c.FormatOpt = None,
    output: c.OutputOpt = None,
) -> None:
    """Allowed downtime per SLA target: per day, week, calendar month, 30 days and 365-day year.

    With --contracts: each composite service's planning estimate from its parts' targets.

    Example: slacalc budget 99.95 --month 2025-06
    """
    from slacalc.computing.budget import composite_estimates, compute_budget
    from slacalc.writing.planning_view import render_budget, render_estimates

    zone = run.as_zone(tz)
    when = _month(month) if month else Month.of(to_us(datetime.now(zone)), zone)
    fmt = c.output_format(format, output)
    if contracts is not None:
        if targets:
            raise UsageError("give targets or --contracts, not both")
        book = run.contract_book(contracts, policy=policy)
        estimates = composite_estimates(book, when, zone)
        write_output(output, lambda out: render_estimates(estimates, when, tz, fmt, out))
        return
    pcts = _targets(targets) if targets else [t.target for t in run.as_policy(policy).tiers]
    rows = compute_budget(pcts, when, zone)
    write_output(output, lambda out: render_budget(rows, when, tz, fmt, out))


@app.command(
    rich_help_panel=c.PANEL_PLANNING,
    epilog="Example: slacalc tiers --policy samples/policy.toml --format json",
)
@c.boundary
@c.no_header_option
def tiers(
    policy: c.PolicyOpt = c.DEFAULT_POLICY,
    format: c.FormatOpt = None,
    output: c.OutputOpt = None,
) -> None:
    """The policy's SLA tiers: coefficients, credit shares, cap and default tier.

    Example: slacalc tiers --policy standard-credit
    """
    from slacalc.writing.planning_view import render_tiers

    pol = run.as_policy(policy)
    fmt = c.output_format(format, output)
    write_output(output, lambda out: render_tiers(pol, fmt, out))


# --- option values ---------------------------------------------------------------------------


def _targets(texts: list[str]) -> list[Decimal]:
    from slacalc.computing.budget import parse_targets

    try:
        return parse_targets(texts)
    except ValueError as exc:
        raise UsageError(f"PCT: {exc}") from None


def _month(text: str) -> Month:
    return run.as_month(text)


@app.command(
    rich_help_panel=c.PANEL_PLANNING,
    epilog="Example: slacalc policies --format csv",
)
@c.boundary
@c.no_header_option
def policies(
    format: c.FormatOpt = None,
    output: c.OutputOpt = None,
) -> None:
    """The policies you can name with --policy: built-ins and the providers' published terms.

    Each preset names its source and the day its terms were read; check them against your own
    contract.

    Example: slacalc policies
    """
    from slacalc.terms.policy import load_policy, policy_names
    from slacalc.writing.planning_view import render_policies

    found = [load_policy(name) for name in policy_names()]
    fmt = c.output_format(format, output)
    write_output(output, lambda out: render_policies(found, fmt, out))
