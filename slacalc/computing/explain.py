"""The audit trail of one report row: every incident as read, clipped, merged and excluded, the
rules that applied and the formula with its numbers.

The figures come from the report's own code (:func:`compute_report` for the row, the engine's
segments for the timeline); nothing here computes them another way.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from slacalc.computing.engine import Measure, OutageRules, Segments, effective_ends, usage
from slacalc.computing.report import ReportRow, Settings, compute_report
from slacalc.dates.instants import US_PER_SECOND, format_instant
from slacalc.dates.months import Month, MonthGrid
from slacalc.errors import UsageError
from slacalc.reading.cells import CATEGORIES, DOWN_CODES, EVERY_CUSTOMER
from slacalc.reading.contracts import ContractBook
from slacalc.reading.table import NO_END, IncidentTable
from slacalc.terms import rules
from slacalc.terms.policy import BASE_MINUS_EXCLUDED, COEFFICIENT


@dataclass
class Explanation:
    """Everything behind one report row (incidents and segments as arrays: a key may have a
    million of them)."""

    row: ReportRow
    settings: Settings
    table: IncidentTable  # the key's incidents (customer-wide ones included), in time order
    clipped_start: Any  # per incident: the part inside the month, -1 when outside
    clipped_end: Any
    excluded_us: Any  # per incident: its time inside the month removed by exclusions
    notes: list[str]
    segments: Segments  # the month's stretches of constant loss, exclusions included
    period_note: str = ""

    @property
    def exclusions(self) -> list[tuple[int, int]]:
        """The union of exclusion windows inside the month."""
        s = self.segments
        out: list[tuple[int, int]] = []
        for a, b in zip(s.start[s.excluded].tolist(), s.end[s.excluded].tolist(), strict=True):
            if out and out[-1][1] == a:
                out[-1] = (out[-1][0], b)
            else:
                out.append((a, b))
        return out

    def timeline(self) -> list[tuple[int, int, Fraction, Fraction]]:
        """The merged downtime timeline: ``(start, end, loss, downtime)`` per stretch."""
        s = self.segments
        down = ~s.excluded
        return [
            (a, b, Fraction(int(v), s.den), Fraction(int(v), s.den) * int(n))
            for a, b, v, n in zip(
                s.start[down].tolist(),
                s.end[down].tolist(),
                s.loss_num[down].tolist(),
                s.length[down].tolist(),
                strict=True,
            )
        ]

    def runs(self) -> list[tuple[int, int, int, Fraction, Fraction]]:
        """Per maximal interval of nonzero loss: ``(start, end, length, downtime, counted)``;
        they differ only where outage rules apply."""
        s = self.segments
        down = np.flatnonzero(~s.excluded)
        out = []
        for r in np.unique(s.run[down]).tolist():
            sel = down[s.run[down] == r]
            weighted = sum(
                Fraction(int(v), s.den) * int(n)
                for v, n in zip(s.loss_num[sel].tolist(), s.length[sel].tolist(), strict=True)
            )
            counted = s.run_counted(r) if s.counted is not None else weighted
            out.append(
                (
                    int(s.start[sel[0]]),
                    int(s.end[sel[-1]]),
                    int(s.length[sel].sum()),
                    weighted,
                    counted,
                )
            )
        return out

    def formula(self) -> list[str]:
        """The availability, tier and compensation worked out with their numbers, a step a line."""
        row, policy = self.row, self.row.policy
        cur = row.currency
        fee = rules.format_money(row.monthly_fee, cur)
        down, period = rules.seconds(row.downtime_us), rules.seconds(row.period_us)
        lines = []
        if self.period_note:
            lines.append(self.period_note)
        if policy.has_outage_rules:
            runs = self.runs()
            raw = sum((r[3] for r in runs), Fraction(0))
            ignored = sum(1 for r in runs if r[4] == 0 and r[3] != 0)
            rounded = sum((r[4] for r in runs), Fraction(0))
            at_most = (
                f" (rounded up to {rules.seconds(rounded)} s, more than the month can count: "
                "downtime stops at the month's time less excluded time)"
                if rounded > row.downtime_us
                else ""
            )
            lines.append(
                f"outage rules ({'; '.join(policy.rules_text()[:2])}): {len(runs)} interval(s), "
                f"{ignored} ignored; downtime {rules.seconds(raw)} s counts "
                f"{down} s{at_most}"
            )
        base = f"{period} s"
        if policy.availability_base == BASE_MINUS_EXCLUDED:
            base = f"({period} s - {rules.seconds(row.excluded_us)} s excluded)"
        lines += [
            f"availability = 1 - {down} s / {base} = {_pct(row.availability)} % "
            f"(shown truncated: {row.fields['availability_pct']} %)",
            f"tier band = {row.tier_band}; committed target = {row.tier.label} % -> "
            + ("BREACHED" if row.breached else "met"),
        ]
        if not row.breached:
            lines.append("compensation = 0 (the committed target is met)")
            return lines
        fee_r = rules.ratio(row.monthly_fee)
        if policy.mode == COEFFICIENT:
            d = rules.ratio(row.downtime_us)
            x, m, t = rules.coefficient_price(
                d[0], d[1], row.base_us, fee_r, rules.ratio(row.tier.coefficient or 0)
            )
            num, den = x * m, t
            lines.append(
                f"compensation = {down} s / {base} x {fee} {cur} x "
                f"{row.fields['coefficient']} = {_money_exact(Fraction(num, den), cur)} {cur}"
            )
        else:
            pct = row.credit_pct
            if pct is None:
                lines.append("compensation = 0: no band of the tier covers this availability")
                return lines
            band = next(b for b in reversed(row.tier.bands) if b.credit_pct == pct)
            x, m, t = rules.credit_price(fee_r, rules.ratio(pct))
            num, den = x * m, t
            lines.append(
                f"band: availability below {rules.format_pct(band.below)} % -> credit "
                f"{rules.format_pct(pct)} %; compensation = {fee} {cur} x "
                f"{rules.format_pct(pct)} % = {_money_exact(Fraction(num, den), cur)} {cur}"
            )
        if row.capped:
            cap = Fraction(*rules.cap_of(fee_r, rules.ratio(policy.cap_pct)))
            lines.append(
                f"cap = {rules.format_pct(policy.cap_pct)} % of {fee} = "
                f"{_money_exact(cap, cur)} {cur}: the cap applies"
            )
        if policy.min_credit and row.compensation == 0:
            lines.append(
                f"below the minimum credit of {rules.format_pct(policy.min_credit)} "
                f"{cur}: no credit is issued"
            )
        lines.append(
            f"rounded half-up to {rules.minor_unit(cur)} decimals: "
            f"{row.fields['compensation']} {cur} as {policy.credit_form}, due "
            f"{row.fields['compensation_due_at']}"
        )
        if row.claim_opens is not None:
            closes = row.fields["claim_closes_at"] or "never"
            lines.append(
                f"claim window: {row.fields['claim_opens_at']} .. {closes} "
                f"({row.claim_status} at --as-of)"
            )
        return lines

    def to_dict(self) -> dict[str, Any]:
        tz = self.settings.tz
        t = self.table
        incidents = []
        for i in range(len(t)):
            inc = t.incident(i)
            cs, ce = int(self.clipped_start[i]), int(self.clipped_end[i])
            incidents.append(
                {
                    "incident_id": inc.incident_id,
                    "file": inc.source,
                    "line": inc.line,
                    "category": inc.category,
                    "impact": rules.share(inc.impact),
                    "start": inc.start_text,
                    "end": inc.end_text,
                    "clipped_start": "" if cs < 0 else format_instant(cs, tz),
                    "clipped_end": "" if cs < 0 else format_instant(ce, tz),
                    "excluded_seconds": rules.seconds(int(self.excluded_us[i])),
                    "note": self.notes[i],
                }
            )
        return {
            "row": self.row.to_dict(),
            "incidents": incidents,
            "timeline": [
                {
                    "start": format_instant(s, tz),
                    "end": format_instant(e, tz),
                    "loss": rules.share(loss),
                    "downtime_seconds": rules.seconds(d),
                }
                for s, e, loss, d in self.timeline()
            ],
            "exclusions": [
                {
                    "start": format_instant(s, tz),
                    "end": format_instant(e, tz),
                    "seconds": rules.seconds(e - s),
                }
                for s, e in self.exclusions
            ],
            "formula": self.formula(),
        }


def _pct(value: Fraction) -> str:
    """An exact percentage to 8 decimals, marked when it is not exact at that precision."""
    scaled = value * 100 * 10**8
    whole = scaled.numerator // scaled.denominator
    text = _decimal_text(whole, 8)
    return text if whole == scaled else text + "..."


def _decimal_text(whole: int, places: int) -> str:
    sign = "-" if whole < 0 else ""
    digits = str(abs(whole)).rjust(places + 1, "0")
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


def _money_exact(value: Fraction, currency: str) -> str:
    """An unrounded amount with four more decimals than the currency, to show the rounding."""
    places = rules.minor_unit(currency) + 4
    scaled = value * 10**places
    whole = scaled.numerator // scaled.denominator
    text = _decimal_text(whole, places)
    return text if whole == scaled else text + "..."


def explain(
    table: IncidentTable,
    settings: Settings,
    *,
    customer: str,
    service: str | None,
    month: Month,
    contracts: ContractBook | None = None,
) -> Explanation:
    """Explain the report row of (customer, service, month)."""
    services = sorted({svc for (cust, svc) in table.keys if cust == customer})
    if service is None:
        if len(services) > 1:
            raise UsageError(
                f"customer '{customer}' has incidents on several services "
                f"({', '.join(services)}): choose one with --service"
            )
        service = services[0] if services else "*"
    key = (customer, service)
    rows = table.rows_of(key)
    star = table.rows_of((EVERY_CUSTOMER, service)) if contracts is not None else rows[:0]
    sub = table.take(np.concatenate([rows, star]))
    report = compute_report(sub, settings, contracts=contracts, include=[month])
    try:
        k = report.keys.index(key)
        j = report.months.index(month)
    except ValueError:
        known = ", ".join(f"{c}/{s}" for c, s in sorted(table.keys)[:20]) or "none"
        raise UsageError(
            f"no report row for customer '{customer}' service '{service}' in {month} "
            f"(keys with incidents: {known})"
        ) from None
    row = report.row(k * len(report.months) + j)
    policy = row.policy
    grid = MonthGrid(month, month, settings.tz)
    measure = Measure()
    note = ""
    if policy.service_hours is not None:
        first, last = month.first_day(), month.next().first_day()
        from datetime import timedelta

        measure = Measure(
            rules.service_windows(
                policy.service_hours,
                first,
                last - timedelta(days=1),
                settings.tz,
                settings.work_calendar,
            )
        )
        note = (
            f"period = service time in the month ({policy.service_hours.text()}): "
            f"{rules.seconds(row.period_us)} s"
        )
    # The key's incidents as one key (customer-wide ones merge with its own, as in the report).
    merged = sub.relabel(key)
    result = usage(
        merged,
        grid.edges,
        settings.as_of,
        measure=measure,
        rules=OutageRules(
            policy.min_outage_seconds * US_PER_SECOND, policy.round_up_seconds * US_PER_SECOND
        )
        or None,
        keep_segments=True,
    )
    order = np.lexsort((merged.line, merged.start))
    is_star = np.concatenate([np.zeros(len(rows), bool), np.ones(len(star), bool)])[order]
    merged = merged.take(order)
    segments = result.segments
    assert segments is not None
    cs, ce, excluded, notes = _traces(merged, grid, settings.as_of, segments, is_star)
    return Explanation(row, settings, merged, cs, ce, excluded, notes, segments, note)


def _traces(
    table: IncidentTable, grid: MonthGrid, as_of: int, seg: Segments, is_star: Any
) -> tuple:
    """Per incident: its part inside the month, its time removed by exclusions, a note."""
    lo, hi = grid.start, grid.end
    end = effective_ends(table, as_of)
    cs = np.maximum(table.start, lo)
    ce = np.minimum(end, hi)
    inside = ce > cs
    cs = np.where(inside, cs, -1)
    ce = np.where(inside, ce, -1)
    ex = seg.excluded
    ex_s, ex_e = seg.start[ex], seg.end[ex]
    covered = Measure(np.stack([ex_s, ex_e], axis=1)) if len(ex_s) else None
    down = np.isin(table.category, DOWN_CODES)
    removed = np.zeros(len(table), dtype=np.int64)
    if covered is not None:
        removed = np.where(inside & down, covered.length(np.maximum(cs, lo), np.maximum(ce, lo)), 0)
    notes = []
    impacts = table.impacts
    top_loss = Fraction(int(seg.loss_num.max()), seg.den) if len(seg) else Fraction(0)
    for i in range(len(table)):
        parts = ["customer-wide (*) incident"] if is_star[i] else []
        if table.end[i] == NO_END:
            parts.append("ongoing: counted up to --as-of")
        elif table.end[i] > as_of:
            parts.append("ends after --as-of: counted up to it")
        if not inside[i]:
            parts.append("outside the month")
            notes.append("; ".join(parts))
            continue
        if cs[i] > table.start[i] or ce[i] < end[i]:
            parts.append("clipped to the month")
        if not down[i]:
            parts.append(f"{CATEGORIES[int(table.category[i])]}: excluded from downtime")
        else:
            if removed[i]:
                parts.append("partly inside maintenance/excluded time")
            impact = impacts[int(table.impact[i])]
            if impact != 1 and top_loss > impact:
                parts.append("a larger impact may overlap it: the largest counts")
        notes.append("; ".join(parts))
    return cs, ce, removed, notes
