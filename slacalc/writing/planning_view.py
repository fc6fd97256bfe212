"""Budgets and policies as people read them, and as CSV/JSON records."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any, TextIO

from rich.table import Table
from rich.text import Text

from slacalc.computing.budget import ESTIMATE_FIELDS, BudgetRow, EstimateRow, allowed_us
from slacalc.computing.budget import FIELDS as BUDGET_FIELDS
from slacalc.dates.instants import US_PER_SECOND
from slacalc.dates.months import Month
from slacalc.errors import printable
from slacalc.terms.money import format_coefficient
from slacalc.terms.numbers import format_pct
from slacalc.terms.policy import COEFFICIENT, Policy
from slacalc.writing.csvjson import write_as
from slacalc.writing.formats import Format
from slacalc.writing.tables import cell, print_tables
from slacalc.writing.times import duration

# The founding contract's fields, then the band table of the real-terms issue.
TIER_FIELDS = ("target_pct", "coefficient", "credit_pct", "cap_pct", "default", "bands")
POLICY_FIELDS = ("name", "mode", "default_target", "title", "source", "read_on", "origin")


def render_budget(rows: list[BudgetRow], month: Month, tz: str, fmt: Format, out: TextIO) -> None:
    records = (row.to_dict() for row in rows)
    write_as(
        fmt, records, BUDGET_FIELDS, out, lambda: print_tables([budget_table(rows, month, tz)], out)
    )


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


def render_estimates(
    rows: list[EstimateRow], month: Month, tz: str, fmt: Format, out: TextIO
) -> None:
    """`budget --contracts`: each composite's planning estimate, labelled as one."""
    records = (row.to_dict() for row in rows)
    write_as(
        fmt,
        records,
        ESTIMATE_FIELDS,
        out,
        lambda: print_tables([estimates_table(rows, month, tz), Text(ESTIMATE_NOTE)], out),
    )


ESTIMATE_NOTE = (
    "Planning estimates, not measurements: serial and redundant estimates assume the parts "
    "fail independently. `slacalc report` composes the real timelines of a month."
)


def estimates_table(rows: list[EstimateRow], month: Month, tz: str) -> Table:
    table = Table(
        title=f"Composite services: planning estimates ({month} in {tz.strip()})",
        title_justify="left",
        header_style="bold",
    )
    for name in ("Customer", "Service", "Composite", "Parts' targets %", "Estimate %"):
        table.add_column(name, overflow="fold", justify="right" if "%" in name else "left")
    table.add_column("Target %", justify="right")
    table.add_column("Meets target", justify="center")
    table.add_column("Estimated downtime", justify="right")
    table.add_column("Allowed", justify="right")
    for row in rows:
        rec = row.to_dict()
        table.add_row(
            cell(rec["customer_id"]),
            cell(rec["service"]),
            cell(rec["composite"]),
            cell(rec["part_targets"]),
            rec["estimate_pct"],
            rec["target_pct"],
            "yes" if rec["meets_target"] else "no",
            duration(row.period_us * (1 - row.estimate)),
            duration(allowed_us(row.target, row.period_us)),
        )
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


def tier_records(policy: Policy, *, nested: bool = False) -> Iterator[dict[str, Any]]:
    """The policy's tiers, highest first, as the records of `slacalc tiers`: a credit band
    list as ``<99.95:10 <99:25`` text for CSV, or (``nested``, for JSON) as a list of
    ``{"below": "99.95", "credit_pct": "10"}``; no coefficient is None (empty in CSV, null in
    JSON)."""
    for tier in policy.tiers:
        bands: Any = tier.bands_text()
        if nested:
            bands = [
                {"below": format_pct(b.below), "credit_pct": format_pct(b.credit_pct)}
                for b in tier.bands
            ]
        yield {
            "target_pct": tier.label,
            "coefficient": None
            if tier.coefficient is None
            else format_coefficient(tier.coefficient),
            "credit_pct": format_pct(tier.credit_pct),
            "cap_pct": format_pct(policy.cap_pct),
            "default": tier.target == policy.default_target,
            "bands": bands,
        }


def render_tiers(policy: Policy, fmt: Format, out: TextIO) -> None:
    write_as(
        fmt,
        tier_records(policy),
        TIER_FIELDS,
        out,
        lambda: print_tables([_policy_summary(policy), _tiers_table(policy)], out),
        json_records=tier_records(policy, nested=True),
    )


def _policy_summary(policy: Policy) -> Text:
    if policy.mode == COEFFICIENT:
        rule = "downtime / month length × monthly fee × coefficient"
    else:
        rule = "the credit % of the lowest band the availability falls under × monthly fee"
    default = format_pct(policy.default_target)
    lines = [
        f"Policy {policy.name}: mode {policy.mode}, default tier {default}, "
        f"cap {format_pct(policy.cap_pct)} % of the monthly fee",
        f"A breached month costs {rule}, at most the cap.",
    ]
    if policy.title:
        lines.insert(1, policy.title)
    if policy.source:
        read = f" (read {policy.read_on})" if policy.read_on else ""
        lines.append(f"Source: {policy.source}{read}")
    lines += [f"Rule: {line}" for line in policy.rules_text()]
    # escaped before rich sees it (a Text drops some control characters, hiding them)
    return Text("\n".join(printable(line) for line in lines))


def _tiers_table(policy: Policy) -> Table:
    table = Table(title="SLA tiers", title_justify="left", header_style="bold")
    for name in ("Target %", "Coefficient", "Credit % by band", "Cap %", "Default"):
        table.add_column(name, justify="center" if name == "Default" else "right")
    for rec in tier_records(policy):
        table.add_row(
            rec["target_pct"],
            rec["coefficient"] or "",
            rec["bands"].replace(" ", ", ") if " " in rec["bands"] else rec["credit_pct"],
            rec["cap_pct"],
            "yes" if rec["default"] else "no",
        )
    return table


def policy_records(policies: list[Policy]) -> list[dict[str, Any]]:
    """One record per policy, for `slacalc policies`."""
    return [
        {
            "name": p.name,
            "mode": p.mode,
            "default_target": format_pct(p.default_target),
            "title": p.title,
            "source": p.source,
            "read_on": p.read_on,
            "origin": p.origin if p.origin in ("built-in", "preset") else "file",
        }
        for p in policies
    ]


def render_policies(policies: list[Policy], fmt: Format, out: TextIO) -> None:
    records = policy_records(policies)
    write_as(fmt, records, POLICY_FIELDS, out, lambda: print_tables(_policies_tables(records), out))


def _policies_tables(records: list[dict[str, Any]]) -> list[Any]:
    table = Table(title="Policies", title_justify="left", header_style="bold")
    for name in ("Name", "Mode", "Default", "Terms", "Source", "Read on"):
        table.add_column(name, overflow="fold")
    for r in records:
        table.add_row(
            cell(r["name"]),
            r["mode"],
            r["default_target"],
            cell(r["title"]),
            cell(r["source"]),
            cell(r["read_on"]),
        )
    note = (
        "Presets are providers' published terms: check them against your own contract before "
        "you rely on them."
    )
    return [table, Text(note)]
