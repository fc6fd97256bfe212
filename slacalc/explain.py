"""The audit trail of one report row: every incident as read, clipped, merged and excluded.

The figures come from the same code as the report (``compute_report`` and ``key_usage``);
nothing here recomputes them another way.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from slacalc.contracts import ContractBook
from slacalc.engine import Segment, Window, clip, key_usage, merge_windows
from slacalc.errors import UsageError
from slacalc.fmt import seconds, share
from slacalc.incidents import DOWN_CATEGORIES, Incident, IncidentLog
from slacalc.money import format_money, minor_unit
from slacalc.periods import Month, MonthGrid
from slacalc.policy import COEFFICIENT, format_pct
from slacalc.report import ReportRow, Terms, compute_report, format_coefficient, touched_months
from slacalc.timeparse import format_instant


@dataclass(frozen=True)
class IncidentTrace:
    """One incident of the explained key, as read and as it counted in the month."""

    incident: Incident
    window: Window | None  # the part inside the month; None when it does not overlap
    excluded_us: int  # outage time inside the month removed by maintenance/exclusion windows
    note: str


@dataclass(frozen=True)
class Explanation:
    """Everything behind one report row."""

    row: ReportRow
    terms: Terms
    traces: list[IncidentTrace]
    timeline: list[Segment]  # merged downtime inside the month
    exclusions: list[Window]  # union of exclusion windows inside the month

    def formula(self) -> list[str]:
        """The compensation worked out with its numbers, one step a line."""
        row, policy = self.row, self.terms.policy
        fee = format_money(row.monthly_fee, row.currency)
        down, period = seconds(row.downtime_us), seconds(row.period_us)
        lines = [
            f"availability = 1 - {down} s / {period} s = {_pct(row.availability)} % "
            f"(shown truncated: {row.to_dict()['availability_pct']} %)",
            f"tier band = {row.tier_band}; committed target = {row.tier.label} % -> "
            + ("BREACHED" if row.breached else "met"),
        ]
        if not row.breached:
            lines.append("compensation = 0 (the committed target is met)")
            return lines
        if policy.mode == COEFFICIENT:
            lines.append(
                f"compensation = {down} s / {period} s x {fee} {row.currency} x "
                f"{format_coefficient(row.tier.coefficient)} = "
                f"{_money_exact(self._uncapped(), row.currency)} {row.currency}"
            )
        else:
            lines.append(
                f"compensation = {fee} {row.currency} x {format_pct(row.tier.credit_pct)} % = "
                f"{_money_exact(self._uncapped(), row.currency)} {row.currency}"
            )
        if row.capped:
            lines.append(
                f"cap = {format_pct(policy.cap_pct)} % of {fee} = "
                f"{_money_exact(self._capped(), row.currency)} {row.currency}: "
                "the cap applies"
            )
        lines.append(
            f"rounded half-up to {minor_unit(row.currency)} decimals: "
            f"{format_money(row.compensation, row.currency)} {row.currency}, due "
            f"{row.to_dict()['compensation_due_at']}"
        )
        return lines

    def _capped(self) -> Fraction:
        row = self.row
        return self.terms.policy.compensation(
            tier=row.tier, fee=row.monthly_fee, downtime_us=row.downtime_us,
            period_us=row.period_us,
        )[0]

    def _uncapped(self) -> Fraction:
        row, policy = self.row, self.terms.policy
        if policy.mode == COEFFICIENT:
            return (
                Fraction(row.downtime_us) / row.period_us * Fraction(row.monthly_fee)
                * Fraction(row.tier.coefficient)
            )  # fmt: skip
        return Fraction(row.monthly_fee) * Fraction(row.tier.credit_pct) / 100

    def to_dict(self) -> dict[str, Any]:
        tz = self.terms.tz
        return {
            "row": self.row.to_dict(),
            "incidents": [
                {
                    "incident_id": t.incident.incident_id,
                    "file": t.incident.source,
                    "line": t.incident.line,
                    "category": t.incident.category,
                    "impact": share(t.incident.impact),
                    "start": t.incident.start_text,
                    "end": t.incident.end_text,
                    "clipped_start": "" if t.window is None else format_instant(t.window[0], tz),
                    "clipped_end": "" if t.window is None else format_instant(t.window[1], tz),
                    "excluded_seconds": seconds(t.excluded_us),
                    "note": t.note,
                }
                for t in self.traces
            ],
            "timeline": [
                {"start": format_instant(s, tz), "end": format_instant(e, tz),
                 "loss": share(loss), "downtime_seconds": seconds((e - s) * loss)}
                for s, e, loss in self.timeline
            ],
            "exclusions": [
                {"start": format_instant(s, tz), "end": format_instant(e, tz),
                 "seconds": seconds(e - s)}
                for s, e in self.exclusions
            ],
            "formula": self.formula(),
        }


def _pct(share: Fraction) -> str:
    """An exact percentage to 8 decimals, marked when it is not exact at that precision."""
    scaled = share * 100 * 10**8
    whole = scaled.numerator // scaled.denominator
    text = _decimal_text(whole, 8)
    return text if whole == scaled else text + "..."


def _decimal_text(whole: int, places: int) -> str:
    sign = "-" if whole < 0 else ""
    digits = str(abs(whole)).rjust(places + 1, "0")
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


def _money_exact(value: Fraction, currency: str) -> str:
    """An unrounded amount with two more decimals than the currency, to show the rounding."""
    places = minor_unit(currency) + 4
    scaled = value * 10**places
    whole = scaled.numerator // scaled.denominator
    text = _decimal_text(whole, places)
    return text if whole == scaled else text + "..."


def explain(
    log: IncidentLog,
    terms: Terms,
    *,
    customer: str,
    service: str | None,
    month: Month,
    contracts: ContractBook | None = None,
) -> Explanation:
    """Explain the report row of (customer, service, month)."""
    services = sorted({svc for (cust, svc) in log.by_key if cust == customer})
    if service is None:
        if len(services) > 1:
            raise UsageError(
                f"customer '{customer}' has incidents on several services "
                f"({', '.join(services)}): choose one with --service"
            )
        service = services[0] if services else "*"
    key = (customer, service)
    incidents = log.by_key.get(key, [])
    sub = IncidentLog(incidents)
    # The months the report would list for this key (every month its incidents touch) plus
    # the one asked for: a key gets a row in each, also in months where it had no incident.
    months = sorted({*touched_months(sub, terms.tz, terms.as_of), month})
    report = compute_report(sub, terms, contracts=contracts, months=months)
    rows = [r for r in report.rows if (r.customer_id, r.service) == key and r.month == month]
    if not rows:
        known = ", ".join(f"{c}/{s}" for c, s in sorted(log.by_key)) or "none"
        raise UsageError(
            f"no report row for customer '{customer}' service '{service}' in {month} "
            f"(keys with incidents: {known})"
        )
    row = rows[0]
    grid = MonthGrid(month, month, terms.tz)
    usage = key_usage(incidents, grid, terms.as_of, keep_segments=True).get(0)
    timeline = (usage.segments if usage else None) or []
    exclusions = merge_windows(
        [w for inc in incidents if inc.category not in DOWN_CATEGORIES
         if (w := clip(inc, grid.start, grid.end, terms.as_of)) is not None]
    )  # fmt: skip
    traces = [_trace(inc, grid, terms.as_of, exclusions, timeline) for inc in incidents]
    traces.sort(key=lambda t: (t.incident.start, t.incident.source, t.incident.line))
    return Explanation(row, terms, traces, timeline, exclusions)


def _trace(
    inc: Incident, grid: MonthGrid, as_of: int, exclusions: list[Window], timeline: list[Segment]
) -> IncidentTrace:
    w = clip(inc, grid.start, grid.end, as_of)
    notes = []
    if inc.end is None:
        notes.append("ongoing: counted up to --as-of")
    if w is None:
        return IncidentTrace(inc, None, 0, "; ".join([*notes, "outside the month"]))
    if w[0] > inc.start or w[1] < inc.end_at(as_of):
        notes.append("clipped to the month")
    removed = 0
    if inc.category in DOWN_CATEGORIES:
        for s, e in exclusions:
            removed += max(0, min(e, w[1]) - max(s, w[0]))
        if removed:
            notes.append("partly inside maintenance/excluded time")
        shared = [
            seg for seg in timeline if seg[0] < w[1] and seg[1] > w[0] and seg[2] != inc.impact
        ]
        if shared and inc.impact != 1:
            notes.append("a larger impact overlaps it: the largest counts")
    else:
        notes.append("excluded from downtime")
    return IncidentTrace(inc, w, removed, "; ".join(notes))
