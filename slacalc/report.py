"""The monthly report: per customer, service and month, availability, tier, breach, compensation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cached_property, lru_cache
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from slacalc.contracts import WILDCARD, Contract, ContractBook
from slacalc.engine import MonthUsage, keys_using, months_used
from slacalc.errors import InputError, Problem
from slacalc.fmt import seconds, truncated_pct_of
from slacalc.incidents import DATA_LOSS, Incident, IncidentLog, Key
from slacalc.money import format_money, from_minor, minor_unit, minor_units, to_money
from slacalc.periods import Month, MonthGrid
from slacalc.policy import Policy, Tier, format_pct
from slacalc.timeparse import US_PER_SECOND, format_instant

LEVEL1_DELAY_US = 72 * 3600 * US_PER_SECOND

FIELDS = (
    "customer_id", "service", "month", "period_seconds", "downtime_seconds", "excluded_seconds",
    "availability_pct", "tier_band", "sla_target_pct", "breached", "coefficient", "monthly_fee",
    "compensation", "currency", "capped", "incident_count", "compensation_due_at", "status",
)  # fmt: skip


# Positions of the fields whose text comes from the input (guarded against CSV injection);
# the rest are slacalc's own numbers, dates and words.
TEXT_FIELDS = (FIELDS.index("customer_id"), FIELDS.index("service"))


@dataclass(slots=True)
class ReportRow:
    """One (customer, service, month) of the report, with exact values inside."""

    customer_id: str
    service: str
    month: Month
    period_start: int  # epoch microseconds
    period_end: int
    downtime_us: Fraction | int
    excluded_us: int
    tier_band: str
    tier: Tier
    breached: bool
    monthly_fee: Decimal
    compensation: Decimal  # already rounded to the currency's minor unit
    currency: str
    capped: bool
    incident_count: int
    compensation_due: int | None  # epoch microseconds
    status: str
    tz: ZoneInfo

    @property
    def period_us(self) -> int:
        return self.period_end - self.period_start

    @property
    def availability(self) -> Fraction:
        """Exactly ``1 - downtime / period``."""
        return 1 - Fraction(self.downtime_us) / self.period_us

    def to_dict(self) -> dict[str, Any]:
        """The spec's fields, in order: numbers for seconds and counts, text for the rest."""
        return dict(zip(FIELDS, self.to_row(), strict=True))

    def to_row(self) -> list[Any]:
        """The values of ``FIELDS``, in order (what CSV and JSON print)."""
        period = self.period_end - self.period_start
        up, total = _uptime_ratio(self.downtime_us, period)
        currency = self.currency
        due = self.compensation_due
        return [
            self.customer_id,
            self.service,
            self.month.text,
            seconds(period),
            seconds(self.downtime_us),
            seconds(self.excluded_us),
            truncated_pct_of(up, total),
            self.tier_band,
            self.tier.label,
            self.breached,
            format_coefficient(self.tier.coefficient),
            format_money(self.monthly_fee, currency),
            format_money(self.compensation, currency),
            currency,
            self.capped,
            self.incident_count,
            "" if due is None else format_instant(due, self.tz),
            self.status,
        ]


def _uptime_ratio(downtime_us: Fraction | int, period_us: int) -> tuple[int, int]:
    """Availability as integers ``(up, total)``: ``up / total = 1 - downtime / period``."""
    if type(downtime_us) is int:
        return period_us - downtime_us, period_us
    n, m = downtime_us.numerator, downtime_us.denominator  # type: ignore[union-attr]
    return period_us * m - n, period_us * m


@lru_cache(maxsize=256)
def format_coefficient(value: Decimal) -> str:
    """At least two decimals, as the policy document writes them: 1.25, 2.50, 5.00."""
    text = format_pct(value)
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


@dataclass(frozen=True)
class Deadline:
    """A settlement deadline the report opens: level 1 per breached row, level 2 per data loss."""

    level: int
    category: str
    customer_id: str
    service: str
    reference: str  # the month (level 1) or the incident id / file line (level 2)
    opened_at: int
    due_at: int
    tz: ZoneInfo

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "category": self.category,
            "customer_id": self.customer_id,
            "service": self.service,
            "reference": self.reference,
            "opened_at": format_instant(self.opened_at, self.tz),
            "due_at": format_instant(self.due_at, self.tz),
        }


@dataclass
class RowPlan:
    """What the rows of a report are made of: priced keys, their usage, the months."""

    keys: list[tuple[Key, Contract]]
    usage: Mapping[Key, dict[int, MonthUsage]]
    grid: MonthGrid
    wanted: list[int]  # month indices of the grid, ascending
    terms: Terms

    def rows(self) -> list[ReportRow]:
        return _rows(self.keys, self.usage, self.grid, self.wanted, self.terms)

    def row(self, k: int, j: int) -> ReportRow:
        """The row of the ``k``-th key and ``j``-th wanted month."""
        return _rows([self.keys[k]], self.usage, self.grid, [self.wanted[j]], self.terms)[0]

    def __len__(self) -> int:
        return len(self.keys) * len(self.wanted)


class Report:
    """The rows of a report, the deadlines they open and what the user should be warned of.

    Rows are built on first use, so a large report written as CSV in bulk (``frame``) never
    builds them one by one.
    """

    def __init__(
        self,
        rows: list[ReportRow] | None = None,
        *,
        plan: RowPlan | None = None,
        warnings: list[str] | None = None,
    ) -> None:
        self._rows = rows
        self.plan = plan
        self.any_breached_seen: bool | None = None  # set by a bulk writer that saw every row
        self.extra_deadlines: list[Deadline] = []  # level 2 (data loss)
        self.warnings = warnings or []

    @property
    def rows(self) -> list[ReportRow]:
        if self._rows is None:
            self._rows = self.plan.rows() if self.plan is not None else []
        return self._rows

    def any_breached(self) -> bool:
        if self.any_breached_seen is not None:
            return self.any_breached_seen
        return any(row.breached for row in self.rows)

    def periods_by_key(self) -> dict[Key, list[tuple[int, int]]]:
        """The reported periods of every key, without building the rows."""
        if self.plan is None or self._rows is not None:
            out: dict[Key, list[tuple[int, int]]] = {}
            for r in self.rows:
                out.setdefault((r.customer_id, r.service), []).append(
                    (r.period_start, r.period_end)
                )
            return out
        edges = self.plan.grid.edges
        spans = [(edges[i], edges[i + 1]) for i in self.plan.wanted]
        return {key: spans for key, _ in self.plan.keys}

    @property
    def deadlines(self) -> list[Deadline]:
        """Level 1 for every breached row (72 h after its period), then the extra ones."""
        return [*_level1_deadlines(self.rows), *self.extra_deadlines]

    def totals(self) -> dict[str, Decimal]:
        """Compensation per currency, in the order currencies first appear."""
        out: dict[str, Decimal] = {}
        for row in self.rows:
            out[row.currency] = out.get(row.currency, Decimal(0)) + row.compensation
        return out


@dataclass(frozen=True)
class Terms:
    """Report-wide settings: policy, zone, the moment of truth, and fallbacks for contracts."""

    policy: Policy
    tz: ZoneInfo
    as_of: int  # epoch microseconds: ongoing incidents end here; later months are provisional
    currency: str = "CNY"
    monthly_fee: Decimal | None = None  # --monthly-fee: for keys without a contract
    sla_target: Tier | None = None  # --sla-target: with --monthly-fee

    @cached_property
    def fallback(self) -> Contract | None:
        """The terms of ``--monthly-fee`` and ``--sla-target``, for keys without a contract."""
        if self.monthly_fee is None:
            return None
        tier = self.sla_target or self.policy.default_tier
        return Contract("", "", self.monthly_fee, self.currency, tier)


class IncidentSource(Protocol):
    """What the report needs of a log: ``IncidentLog`` rows, or ``columnar.ColumnarLog``."""

    def span(self, as_of: int) -> tuple[int, int] | None: ...
    def usage(self, grid: MonthGrid, as_of: int) -> Mapping[Key, dict[int, MonthUsage]]: ...
    def first_incident(self, key: Key) -> Incident: ...
    def incidents_of(self, category: str) -> list[Incident]: ...


def touched_months(log: IncidentLog, tz: ZoneInfo, as_of: int) -> list[Month]:
    """Every month (in ``tz``) that some incident of the log overlaps by more than zero."""
    spans = [(inc.start, inc.end_at(as_of)) for inc in log]
    spans = [(s, e) for s, e in spans if e > s]
    if not spans:
        return []
    grid = MonthGrid(
        Month.of(min(s for s, _ in spans), tz), Month.of(max(e for _, e in spans) - 1, tz), tz
    )
    hit: set[int] = set()
    for s, e in spans:
        first, last = grid.index(s), grid.index(e - 1)
        hit.update(range(first, last + 1))
    return [grid.months[i] for i in sorted(hit)]


def compute_report(
    log: IncidentSource,
    terms: Terms,
    *,
    contracts: ContractBook | None = None,
    months: list[Month] | None = None,
) -> Report:
    """Compute the report rows for ``months`` (default: every month an incident touches)."""
    tz, as_of = terms.tz, terms.as_of
    if months:
        months = sorted(set(months))
        grid = MonthGrid(months[0], months[-1], tz)
        wanted = {grid.months.index(m) for m in months}
    else:
        span = log.span(as_of)
        if span is None:
            return Report(rows=[], warnings=[
                "no incident lasts more than zero in any month, and no --month was given: "
                "there is no month to report"
            ])  # fmt: skip
        grid = MonthGrid(Month.of(span[0], tz), Month.of(span[1] - 1, tz), tz)
    usage = log.usage(grid, as_of)
    if not months:
        wanted = months_used(usage)  # every month an incident touches
    keys = _row_keys(keys_using(usage, wanted), log, terms, contracts)
    return Report(plan=RowPlan(keys, usage, grid, sorted(wanted), terms))


def _row_keys(
    used: list[Key],
    log: IncidentSource,
    terms: Terms,
    book: ContractBook | None,
) -> list[tuple[Key, Contract]]:
    """Every key that gets rows, with the contract that prices it; unpriced keys are an error."""
    chosen: dict[Key, Contract] = {}
    problems = []
    covered: set[int] = set()  # ids of wildcard contracts that priced some incident key
    for key in used:
        contract = book.find(*key) if book is not None else None
        if contract is None:
            contract = terms.fallback
        if contract is None:
            first = log.first_incident(key)
            hint = "add it to --contracts or give --monthly-fee" if book else (
                "give --contracts FILE or --monthly-fee AMOUNT")
            problems.append(
                Problem(first.source, first.line,
                        f"no contract for customer '{key[0]}' service '{key[1]}': {hint}",
                        "customer_id", key[0])
            )
            continue
        if contract.is_wildcard:
            covered.add(id(contract))
        chosen[key] = contract
    if problems:
        raise InputError(problems)
    if book is not None:
        for c in book.contracts:
            if not c.is_wildcard:
                chosen.setdefault((c.customer_id, c.service), c)
            elif id(c) not in covered:
                chosen.setdefault((c.customer_id, WILDCARD), c)
    return sorted(chosen.items(), key=lambda kv: kv[0])


def _rows(
    keys: list[tuple[Key, Contract]],
    usage: Mapping[Key, dict[int, MonthUsage]],
    grid: MonthGrid,
    wanted: list[int],
    terms: Terms,
) -> list[ReportRow]:
    """One row per key and wanted month, in that order (the hot loop of a large report)."""
    policy, tz, as_of = terms.policy, terms.tz, terms.as_of
    tiers = policy.tiers
    lowest = "<" + tiers[-1].label
    labels = [t.label for t in tiers]
    months = []
    for i in wanted:
        start, end = grid.edges[i], grid.edges[i + 1]
        period = end - start
        # The most whole microseconds of downtime each tier allows in this period: comparing
        # an integer downtime against them is the exact tier test without any division.
        limits = []
        for tier in tiers:
            num, den = tier.ratio
            limits.append(period * (100 * den - num) // (100 * den))
        status = "provisional" if end > as_of else "final"
        due = end + LEVEL1_DELAY_US
        months.append((i, grid.months[i], start, end, period, limits, status, due))
    rows = []
    append = rows.append
    no_usage: dict[int, MonthUsage] = {}
    n_tiers = len(tiers)
    for (customer_id, service), contract in keys:
        per_month = usage.get((customer_id, service), no_usage)
        tier, fee, currency = contract.tier, contract.monthly_fee, contract.currency
        position = tiers.index(tier)
        price = _pricer(policy, tier, fee, currency)
        places = minor_unit(currency)
        zero = _zero(currency)
        for i, month, start, end, period, limits, status, due in months:
            use = per_month.get(i)
            if use is None:
                downtime, excluded, count = 0, 0, 0
            else:
                downtime, excluded, count = use.downtime_us, use.excluded_us, use.incident_count
            if type(downtime) is int:
                band = lowest
                for k in range(n_tiers):
                    if downtime <= limits[k]:
                        band = labels[k]
                        break
                breached = downtime > limits[position]
            else:
                up, total = _uptime_ratio(downtime, period)
                band = policy.band_of(up, total)
                breached = not tier.met_by(up, total)
            if breached:
                units, capped = price(downtime, period)
                append(ReportRow(
                    customer_id, service, month, start, end, downtime, excluded, band, tier,
                    True, fee, from_minor(units, places), currency, capped, count, due, status,
                    tz,
                ))  # fmt: skip
            else:
                append(ReportRow(
                    customer_id, service, month, start, end, downtime, excluded, band, tier,
                    False, fee, zero, currency, False, count, None, status, tz,
                ))  # fmt: skip
    return rows


def _pricer(policy: Policy, tier: Tier, fee: Decimal, currency: str):
    """``(downtime_us, period_us) -> (compensation in minor units, capped)`` for one contract.

    Exactly ``to_money(policy.compensation(...))``, with the contract's ratios worked out once
    and integer downtimes priced without building Fractions.
    """
    places = minor_unit(currency)
    scale = 10**places
    r = policy.ratios(tier, fee)
    share_num, share_den, cap_num, cap_den = r.share_num, r.share_den, r.cap_num, r.cap_den
    fixed = None
    if not r.per_downtime:  # a credit does not depend on the downtime
        exact, capped = policy.compensation(tier=tier, fee=fee, downtime_us=0, period_us=1)
        fixed = (minor_units(exact, places), capped)

    def price(downtime: Fraction | int, period: int) -> tuple[int, bool]:
        if fixed is not None:
            return fixed
        if type(downtime) is not int:
            exact, capped = policy.compensation(
                tier=tier, fee=fee, downtime_us=downtime, period_us=period
            )
            return minor_units(exact, places), capped
        num, den = downtime * share_num, period * share_den
        capped = num * cap_den > cap_num * den
        if capped:
            num, den = cap_num, cap_den
        q, r = divmod(num * scale, den)
        if 2 * r >= den:
            q += 1
        return q, capped

    return price


@lru_cache(maxsize=64)
def _zero(currency: str) -> Decimal:
    return to_money(0, currency)


def _level1_deadlines(rows: list[ReportRow]) -> list[Deadline]:
    return [
        Deadline(1, "sla_breach", r.customer_id, r.service, str(r.month), r.period_end,
                 r.compensation_due, r.tz)  # type: ignore[arg-type]
        for r in rows
        if r.breached
    ]


def data_loss_incidents(log: IncidentSource, report: Report) -> list[Incident]:
    """The data-loss incidents of the reported keys that start inside a reported period."""
    periods = report.periods_by_key()
    return [
        inc for inc in log.incidents_of(DATA_LOSS)
        if any(s <= inc.start < e for s, e in periods.get(inc.key, ()))
    ]  # fmt: skip

