"""The report as people read it: the rows, the totals per currency, the dispute deadlines.

Formatting only: every figure is the report's own text (``Report.text``) or a rule's text form.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from slacalc.computing.report import Deadline, Report
from slacalc.dates.instants import from_us
from slacalc.terms import rules
from slacalc.writing.tables import Column, Grid
from slacalc.writing.times import short_duration


def compact_times(instants: list[int | None], tz: tzinfo) -> tuple[list[str], str]:
    """Local times as short as they can be read unambiguously: ``06-04 00:00`` when every one
    falls in the same year (named in the returned header note), seconds only when some have
    them. The zone is the report's, named in the table's title."""
    dts = [None if us is None else from_us(us, tz) for us in instants]
    real = [d for d in dts if d is not None]
    years = {d.year for d in real}
    seconds = any(d.second or d.microsecond for d in real)
    fmt = ("%m-%d %H:%M" if len(years) == 1 else "%Y-%m-%d %H:%M") + (":%S" if seconds else "")
    note = str(next(iter(years))) if len(years) == 1 else ""
    return ["" if d is None else d.strftime(fmt) for d in dts], note


def report_tables(report: Report) -> list[Any]:
    """The report table, the totals per currency and the dispute deadlines."""
    tz = report.settings.tz
    name = getattr(tz, "key", str(tz))
    t = report.text
    n = len(report)
    due_us = [
        rules.level1_due(report.ends[i % max(len(report.months), 1)])
        if report.cols["breached"][i]
        else None
        for i in range(n)
    ]
    due, year = compact_times(due_us, tz)
    used = report.cols["terms"].contracts
    policies = {c.policy.name for c in used}
    claims = any(c.policy.claim_window is not None for c in used)
    credit = any(c.policy.mode != "coefficient" for c in used)
    columns = [
        Column("Customer"),
        Column("Service"),
        Column("Month"),
        Column("Avail. %", "right"),
        Column("Band / target", "right", compact=_joined, short="Band/target"),
        Column("Downtime", "right", compact=short_duration),
        Column("Compensation", "right"),
        Column(f"Due {year}".strip(), rank=1),
        Column("Status", rank=2),
        Column("Breached", "center", rank=3),
        Column("Fee", "right", rank=4),
        Column("Excluded", "right", rank=5, compact=short_duration),
        Column("Inc.", "right", rank=6),
    ]
    if credit:
        columns.append(Column("Credit %", "right", rank=7))
    if claims:
        columns.append(Column("Claim", rank=8))
    if len(policies) > 1:
        columns.append(Column("Policy", rank=9))
    grid = Grid(f"SLA report (times in {name})", columns)
    values = {k: v.to_pylist() for k, v in t.items()}
    cols = report.cols
    for i in range(n):
        breached = values["breached"][i]
        comp = f"{values['compensation'][i]} {values['currency'][i]}"
        if values["capped"][i]:
            comp += " cap"
        cells = [
            values["customer_id"][i],
            values["service"][i],
            values["month"][i],
            values["availability_pct"][i],
            f"{values['tier_band'][i]} / {values['sla_target_pct'][i]}",
            rules.duration(rules.Fraction(int(cols["down"][i]), int(_den(cols, i)))),
            comp,
            due[i],
            values["status"][i],
            "yes" if breached else "no",
            f"{values['monthly_fee'][i]} {values['currency'][i]}",
            rules.duration(int(cols["excluded"][i])),
            str(values["incident_count"][i]),
        ]
        if credit:
            cells.append(values["credit_pct"][i])
        if claims:
            cells.append(values["claim_status"][i])
        if len(policies) > 1:
            cells.append(values["policy"][i])
        grid.add(*cells, style="bold red" if breached else None)
    parts: list[Any] = [grid]
    totals = report.totals()
    if totals:
        counts = report.breached_counts()
        money = Grid(
            "Compensation by currency",
            [Column("Currency"), Column("Breached rows", "right"), Column("Total", "right")],
        )
        for currency, total in totals.items():
            money.add(currency, str(counts.get(currency, 0)), rules.format_money(total, currency))
        parts.append(money)
    if report.deadlines:
        parts.append(deadline_table(report.deadlines, tz))
    return parts


def _joined(text: str) -> str:
    """``<99.95 / 99.99`` as ``<99.95/99.99``."""
    return text.replace(" / ", "/")


def _den(cols: dict[str, Any], i: int) -> int:
    den = cols["den"]
    return int(den) if not hasattr(den, "__len__") else int(den[i])


def deadline_table(deadlines: list[Deadline], tz: tzinfo) -> Grid:
    """The dispute settlement deadlines, in due order (ties broken by customer, service and
    reference, so the input's row order never changes the output)."""
    name = getattr(tz, "key", str(tz))
    ordered = sorted(deadlines, key=Deadline.sort_key)
    opened, _ = compact_times([d.opened_at for d in ordered], tz)
    due, _ = compact_times([d.due_at for d in ordered], tz)
    opened_full = [from_us(d.opened_at, tz).year for d in ordered]
    grid = Grid(
        f"Dispute settlement deadlines (times in {name})",
        [
            Column("Level"),
            Column("Category", rank=2),
            Column("Customer"),
            Column("Service"),
            Column("Reference"),
            Column("Opened", rank=1),
            Column("Due"),
        ],
    )
    del opened_full
    for d, o, u in zip(ordered, opened, due, strict=True):
        grid.add(str(d.level), d.category, d.customer_id, d.service, d.reference, o, u)
    return grid
