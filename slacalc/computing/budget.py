"""Downtime budgets: how much downtime an availability target allows per day, week, month, year.

A planning aid, so a target need not be one of the policy's tiers::

    >>> from zoneinfo import ZoneInfo
    >>> rows = compute_budget(parse_targets(["99.95"]), Month(2025, 6), ZoneInfo("Asia/Shanghai"))
    >>> [(r.period, str(r.to_dict()["allowed_downtime_seconds"])) for r in rows]
    [('day', '43.2'), ('week', '302.4'), ('2025-06', '1296'), ('30d', '1296'), ('year', '15768')]
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import tzinfo
from decimal import Decimal
from fractions import Fraction
from typing import Any

from slacalc.dates.instants import US_PER_SECOND
from slacalc.dates.months import Month
from slacalc.errors import InputError, Problem
from slacalc.model.contracts import ContractBook
from slacalc.terms.composite import ESTIMATE_BASIS, Composite
from slacalc.terms.numbers import format_pct, parse_decimal, seconds

FIELDS = ("target_pct", "period", "period_seconds", "allowed_downtime_seconds")
# `budget --contracts`: the planning estimate of each composite service from its parts' targets.
ESTIMATE_FIELDS = (
    "customer_id",
    "service",
    "composite",
    "part_targets",
    "estimate_pct",
    "target_pct",
    "meets_target",
    "period",
    "period_seconds",
    "estimate_downtime_seconds",
    "allowed_downtime_seconds",
    "basis",
)
ESTIMATE_PLACES = 8  # an estimate's percentage, rounded down (never above what it promises)

DAY_US = 86_400 * US_PER_SECOND
# The fixed-length periods, by their names in the output; the calendar month goes between week
# and 30d (see compute_budget).
FIXED_PERIODS: dict[str, int] = {
    "day": DAY_US,
    "week": 7 * DAY_US,
    "30d": 30 * DAY_US,
    "year": 365 * DAY_US,
}

# Plain decimal notation only: "1e2" or "99_95" are more likely typos than targets.
_PCT = re.compile(r"^(\d+(\.\d*)?|\.\d+)$")


@dataclass(frozen=True)
class BudgetRow:
    """The downtime one availability target allows over one period, exactly."""

    target: Decimal  # percent, e.g. 99.95
    period: str  # day, week, YYYY-MM, 30d or year
    period_us: int
    allowed_us: Fraction

    def to_dict(self) -> dict[str, Any]:
        """The spec's fields, in order: the target as text, seconds as Decimals (≤ 3 decimals)."""
        return {
            "target_pct": format_pct(self.target),
            "period": self.period,
            "period_seconds": seconds(self.period_us),
            "allowed_downtime_seconds": seconds(self.allowed_us),
        }


def allowed_us(target: Decimal, period_us: int) -> Fraction:
    """Downtime (microseconds) that keeps availability at ``target`` % over ``period_us``.

    >>> allowed_us(Decimal("99.99"), DAY_US) == 8_640_000
    True
    """
    return period_us * (1 - Fraction(target) / 100)


def compute_budget(targets: Iterable[Decimal], month: Month, tz: tzinfo) -> list[BudgetRow]:
    """Per target, in the given order, the budget of a day, a week, ``month``, 30 days, a year.

    ``month`` is the calendar month in ``tz`` with its real length: a month with a DST change
    is an hour shorter or longer, as in the report's ``period_seconds``.
    """
    start, end = month.bounds(tz)
    periods = [
        ("day", FIXED_PERIODS["day"]),
        ("week", FIXED_PERIODS["week"]),
        (str(month), end - start),
        ("30d", FIXED_PERIODS["30d"]),
        ("year", FIXED_PERIODS["year"]),
    ]
    return [
        BudgetRow(target, name, length, allowed_us(target, length))
        for target in targets
        for name, length in periods
    ]


@dataclass(frozen=True)
class EstimateRow:
    """A composite service's planning estimate from its parts' targets, against its own target,
    over one calendar month. Only an estimate: the report measures the real timelines."""

    customer: str
    service: str
    composite: Composite
    part_targets: tuple[Decimal, ...]  # percent, one per part
    target: Decimal  # the composite's own target, percent
    period: str
    period_us: int

    @property
    def estimate(self) -> Fraction:
        """The estimated availability, as a share (exact)."""
        return self.composite.estimate(tuple(Fraction(t) / 100 for t in self.part_targets))

    def to_dict(self) -> dict[str, Any]:
        estimate = self.estimate
        parts = zip(self.composite.parts, self.part_targets, strict=True)
        return {
            "customer_id": self.customer,
            "service": self.service,
            "composite": self.composite.text(),
            "part_targets": " ".join(f"{p}={format_pct(t)}" for p, t in parts),
            "estimate_pct": _pct_down(estimate * 100),
            "target_pct": format_pct(self.target),
            "meets_target": estimate * 100 >= Fraction(self.target),
            "period": self.period,
            "period_seconds": seconds(self.period_us),
            "estimate_downtime_seconds": seconds(self.period_us * (1 - estimate)),
            "allowed_downtime_seconds": seconds(allowed_us(self.target, self.period_us)),
            "basis": ESTIMATE_BASIS[self.composite.kind],
        }


def composite_estimates(book: ContractBook, month: Month, tz: tzinfo) -> list[EstimateRow]:
    """Every composite service of ``book`` (by customer, then service), its planning estimate
    from its parts' contracted targets over ``month``. A part without a contract has no target
    to estimate from: an error at the composite's contract line."""
    start, end = month.bounds(tz)
    rows = []
    for (customer, service), composite in sorted(book.composites.items()):
        own = book.find(customer, service)  # the row that defines the composite
        assert own is not None
        targets = []
        for part in composite.parts:
            contract = book.find(customer, part)
            if contract is None:
                raise InputError(
                    Problem(
                        own.source,
                        own.line,
                        f"part '{part}' of composite '{service}' has no contract of customer "
                        f"'{customer}': no target to estimate from",
                        "composite",
                        composite.text(),
                    )
                )
            targets.append(contract.tier.target)
        period = (str(month), end - start)
        rows.append(
            EstimateRow(customer, service, composite, tuple(targets), own.tier.target, *period)
        )
    return rows


def _pct_down(value: Fraction) -> str:
    """A percentage rounded down to :data:`ESTIMATE_PLACES` decimals, trailing zeros dropped."""
    units = value.numerator * 10**ESTIMATE_PLACES // value.denominator
    return format_pct(Decimal(units).scaleb(-ESTIMATE_PLACES))


def parse_target(text: str) -> Decimal:
    """``99.95`` or ``99.95%`` → Decimal('99.95'); ValueError unless 0 < target ≤ 100."""
    raw = text.strip().removesuffix("%").strip()
    if not _PCT.match(raw):
        raise ValueError(f"expected a percentage such as 99.95, got '{text}'")
    try:
        value = parse_decimal(raw, max_digits=3, max_places=10)
    except ValueError as exc:
        raise ValueError(f"expected a percentage such as 99.95, got '{text[:40]}': {exc}") from None
    if not 0 < value <= 100:
        raise ValueError(f"a target must be above 0 and at most 100, got '{text}'")
    return value


def parse_targets(texts: Iterable[str]) -> list[Decimal]:
    """Every target read by :func:`parse_target`, in order, repeats dropped."""
    targets: list[Decimal] = []
    for text in texts:
        value = parse_target(text)
        if value not in targets:
            targets.append(value)
    return targets
