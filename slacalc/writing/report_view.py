"""The report as people read it: the rows, the totals per currency, the dispute deadlines.

Formatting only: every figure is the report's own text (``Report.text``) or a rule's text form.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from slacalc.computing.report import Deadline, Report
from slacalc.dates.instants import from_us
from slacalc.terms import money
from slacalc.writing.tables import Column, Grid
from slacalc.writing.times import durations, short_duration


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
    """The report table, the totals per currency and the dispute deadlines.

    The rows' cells are made a column at a time (300,000 rows in well under a second), from
    the report's own text and the rules' text forms."""
    tz = report.settings.tz
    name = getattr(tz, "key", str(tz))
    t = report.text
    n = len(report)
    cols = report.cols
    breached = np.asarray(cols["breached"], dtype=bool)
    due, year = _due_texts(report, breached)
    used = cols["terms"].contracts
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
        # never dropped (with colour off, NO_COLOR or a pipe, a breach must still show in the
        # row): a narrow terminal shows it as "!"
        Column("Breached", "center", compact=_breach_mark, short="!"),
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
    if n:
        owed = pc.binary_join_element_wise(t["compensation"], t["currency"], " ")
        cells = [
            t["customer_id"],
            t["service"],
            t["month"],
            t["availability_pct"],
            pc.binary_join_element_wise(t["tier_band"], t["sla_target_pct"], " / "),
            _durations(cols["down"], cols["den"]),
            pc.if_else(t["capped"], pc.binary_join_element_wise(owed, "cap", " "), owed),
            due,
            t["status"],
            pc.if_else(t["breached"], "yes", "no"),
            pc.binary_join_element_wise(t["monthly_fee"], t["currency"], " "),
            durations(cols["excluded"]),
            t["incident_count"].cast(pa.string()),
        ]
        if credit:
            cells.append(t["credit_pct"])
        if claims:
            cells.append(t["claim_status"])
        if len(policies) > 1:
            cells.append(t["policy"])
        grid.extend(cells, styles=["bold red" if b else None for b in breached.tolist()])
    parts: list[Any] = [grid]
    totals = report.totals()
    if totals:
        counts = report.breached_counts()
        by_currency = Grid(
            "Compensation by currency",
            [Column("Currency"), Column("Breached rows", "right"), Column("Total", "right")],
        )
        for currency, total in totals.items():
            by_currency.add(
                currency, str(counts.get(currency, 0)), money.format_money(total, currency)
            )
        parts.append(by_currency)
    if report.deadlines:
        parts.append(deadline_table(report.deadlines, tz))
    return parts


def _due_texts(report: Report, breached: Any) -> tuple[Any, str]:
    """Each breached row's compensation due time (its level-1 deadline's, which the report
    computed), as :func:`compact_times` writes them, empty for the other rows; and the year it
    leaves out. Rows of a month share their due time: each month's is written once."""
    n_months = max(len(report.months), 1)
    month_of = np.arange(len(breached)) % n_months
    months = sorted(set(month_of[breached].tolist()))
    due = {d.reference: d.due_at for d in report.deadlines if d.level == 1}
    texts, year = compact_times([due[report.months[m].text] for m in months], report.settings.tz)
    by_month = [""] * n_months
    for m, text in zip(months, texts, strict=True):
        by_month[m] = text
    cells = pa.array(by_month, pa.string()).take(pa.array(month_of))
    return pc.if_else(pa.array(breached), cells, ""), year


def _durations(num: Any, den: Any) -> Any:
    """:func:`~slacalc.writing.times.durations` of ``num / den``, ``den`` one number or one per
    row (rows with the same denominator written together)."""
    if np.ndim(den) == 0:
        return durations(num, int(den))
    den = np.asarray(den)
    num = np.asarray(num)
    values, groups = np.unique(den, return_inverse=True)
    order = np.argsort(groups, kind="stable")
    pieces = [durations(num[groups == g], int(d)) for g, d in enumerate(values.tolist())]
    texts = pa.concat_arrays(pieces) if pieces else pa.array([], pa.string())
    return texts.take(pa.array(np.argsort(order)))


def _breach_mark(text: str) -> str:
    """``yes`` as ``!``, ``no`` as nothing: the Breached column in one character."""
    return "!" if text == "yes" else ""


def _joined(text: str) -> str:
    """``<99.95 / 99.99`` as ``<99.95/99.99``."""
    return text.replace(" / ", "/")


def deadline_table(deadlines: list[Deadline], tz: tzinfo) -> Grid:
    """The dispute settlement deadlines, in due order (ties broken by customer, service and
    reference, so the input's row order never changes the output)."""
    name = getattr(tz, "key", str(tz))
    ordered = sorted(deadlines, key=Deadline.sort_key)
    # one year for both columns: the header names it when every time falls in it
    times, year = compact_times([d.opened_at for d in ordered] + [d.due_at for d in ordered], tz)
    opened, due = times[: len(ordered)], times[len(ordered) :]
    grid = Grid(
        f"Dispute settlement deadlines (times in {name})",
        [
            Column("Level"),
            Column("Category", rank=2),
            Column("Customer"),
            Column("Service"),
            Column("Reference"),
            Column(f"Opened {year}".strip(), rank=1),
            Column(f"Due {year}".strip()),
        ],
    )
    for d, o, u in zip(ordered, opened, due, strict=True):
        grid.add(str(d.level), d.category, d.customer_id, d.service, d.reference, o, u)
    return grid
