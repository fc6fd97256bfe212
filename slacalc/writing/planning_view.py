"""Budgets and policies as people read them, and as CSV/JSON records."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any, TextIO

from rich.table import Table
from rich.text import Text

from slacalc.computing.budget import FIELDS as BUDGET_FIELDS
from slacalc.computing.budget import BudgetRow
from slacalc.dates.instants import US_PER_SECOND
from slacalc.dates.months import Month
from slacalc.terms.policy import COEFFICIENT, Policy
from slacalc.terms.rules import duration, format_coefficient, format_pct
from slacalc.writing.csvjson import write_csv, write_json
from slacalc.writing.formats import Format
from slacalc.writing.tables import print_tables

TIER_FIELDS = ("target_pct", "coefficient", "credit_pct", "cap_pct", "default")


def render_budget(rows: list[BudgetRow], month: Month, tz: str, fmt: Format, out: TextIO) -> None:
    records = (row.to_dict() for row in rows)
    if fmt is Format.csv:
        write_csv(records, BUDGET_FIELDS, out)
    elif fmt is Format.json:
        write_json(records, out)
    else:
        print_tables([budget_table(rows, month, tz)], out)


def budget_table(rows: list[BudgetRow], month: Month, tz: str) -> Table:
    """One line per target, one column per period, durations for people."""
    table = Table(
        title=f"Allowed downtime ({month} in {tz.strip()})",
        title_justify="left",
        header_style="bold",
    )
    table.add_column("Target %", justify="right")
    by_target: dict[Decimal, list[BudgetRow]] = {}
    for row in rows:
        by_target.setdefault(row.target, []).append(row)
    first = next(iter(by_target.values()), [])
    for row in first:
        table.add_column(_period_header(row), justify="right")
    for target, periods in by_target.items():
        table.add_row(format_pct(target), *(duration(p.allowed_us) for p in periods))
    return table


def _period_header(row: BudgetRow) -> str:
    names = {"day": "Day", "week": "Week", "30d": "30 days", "year": "Year (365d)"}
    return names.get(row.period) or f"{row.period} ({_span(row.period_us)})"


def _span(us: int) -> str:
    """A month's length, compactly: ``30d``, ``30d 23h`` (DST starts), ``30d 1h``."""
    days, rem = divmod(us // US_PER_SECOND, 86_400)
    hours, rem = divmod(rem, 3600)
    minutes = rem // 60  # Lord Howe Island shifts by 30 minutes
    parts = [f"{days}d"]
    if hours:
        parts.append(f"{hours}h")
    if minutes:
        parts.append(f"{minutes}m")
    return " ".join(parts)


def tier_records(policy: Policy) -> Iterator[dict[str, Any]]:
    """The policy's tiers, highest first, as the CSV/JSON records of `slacalc tiers`."""
    for tier in policy.tiers:
        yield {
            "target_pct": tier.label,
            "coefficient": format_coefficient(tier.coefficient),
            "credit_pct": format_pct(tier.credit_pct),
            "cap_pct": format_pct(policy.cap_pct),
            "default": tier.target == policy.default_target,
        }


def render_tiers(policy: Policy, fmt: Format, out: TextIO) -> None:
    if fmt is Format.csv:
        write_csv(tier_records(policy), TIER_FIELDS, out)
    elif fmt is Format.json:
        write_json(tier_records(policy), out)
    else:
        print_tables([_policy_summary(policy), _tiers_table(policy)], out)


def _policy_summary(policy: Policy) -> Text:
    if policy.mode == COEFFICIENT:
        rule = "downtime / month length × monthly fee × coefficient"
    else:
        rule = "credit % × monthly fee"
    default = format_pct(policy.default_target)
    return Text(
        f"Policy {policy.name}: mode {policy.mode}, default tier {default}, "
        f"cap {format_pct(policy.cap_pct)} % of the monthly fee\n"
        f"A breached month costs {rule}, at most the cap."
    )


def _tiers_table(policy: Policy) -> Table:
    table = Table(title="SLA tiers", title_justify="left", header_style="bold")
    for name in ("Target %", "Coefficient", "Credit %", "Cap %", "Default"):
        table.add_column(name, justify="center" if name == "Default" else "right")
    for rec in tier_records(policy):
        table.add_row(
            rec["target_pct"],
            rec["coefficient"],
            rec["credit_pct"],
            rec["cap_pct"],
            "yes" if rec["default"] else "no",
        )
    return table
