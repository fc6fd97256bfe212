"""Downtime budgets: exact allowed downtime per target and period."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from slacalc.computing.budget import FIELDS, BudgetRow, allowed_us, compute_budget, parse_targets
from slacalc.dates.instants import US_PER_SECOND
from slacalc.dates.months import Month

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
S = US_PER_SECOND


def by_period(rows: list[BudgetRow]) -> dict[str, BudgetRow]:
    return {row.period: row for row in rows}


def test_periods_in_order_per_target() -> None:
    rows = compute_budget([Decimal("99.99"), Decimal("99.95")], Month(2025, 6), SH)
    assert [(str(r.target), r.period) for r in rows] == [
        (t, p) for t in ("99.99", "99.95") for p in ("day", "week", "2025-06", "30d", "year")
    ]


def test_june_shanghai_9995_is_1296_seconds() -> None:
    row = by_period(compute_budget([Decimal("99.95")], Month(2025, 6), SH))["2025-06"]
    assert row.period_us == 30 * 86400 * S
    assert row.allowed_us == 1296 * S
    assert row.to_dict() == {
        "target_pct": "99.95",
        "period": "2025-06",
        "period_seconds": Decimal(2592000),
        "allowed_downtime_seconds": Decimal(1296),
    }


def test_fixed_periods() -> None:
    rows = by_period(compute_budget([Decimal("99.99")], Month(2025, 6), SH))
    assert rows["day"].period_us == 86400 * S
    assert rows["day"].allowed_us == Fraction(864, 100) * S
    assert str(rows["day"].to_dict()["allowed_downtime_seconds"]) == "8.64"
    assert rows["week"].period_us == 604800 * S
    assert rows["30d"].period_us == 2592000 * S
    assert rows["year"].period_us == 365 * 86400 * S


def test_five_nines_year_is_315_36_seconds() -> None:
    row = by_period(compute_budget([Decimal("99.999")], Month(2025, 1), SH))["year"]
    assert row.allowed_us == Fraction(31536, 100) * S
    assert row.to_dict()["allowed_downtime_seconds"] == Decimal("315.36")


def test_dst_spring_month_is_an_hour_short() -> None:
    row = by_period(compute_budget([Decimal("99.95")], Month(2025, 3), NY))["2025-03"]
    assert row.period_us == (31 * 86400 - 3600) * S == 2674800 * S
    assert row.allowed_us == Fraction(13374, 10) * S
    d = row.to_dict()
    assert (d["period_seconds"], str(d["allowed_downtime_seconds"])) == (2674800, "1337.4")


def test_dst_autumn_month_is_an_hour_long() -> None:
    row = by_period(compute_budget([Decimal("99.95")], Month(2025, 11), NY))["2025-11"]
    assert row.period_us == (30 * 86400 + 3600) * S


def test_month_length_follows_the_zone() -> None:
    # Shanghai has no DST: March is 31 whole days there.
    row = by_period(compute_budget([Decimal("99.95")], Month(2025, 3), SH))["2025-03"]
    assert row.period_us == 31 * 86400 * S


def test_full_target_allows_nothing() -> None:
    assert allowed_us(Decimal(100), 86400 * S) == 0


def test_seconds_rounded_half_up_to_three_decimals() -> None:
    # 99.99999 % of a day is 8.64 ms exactly, shown as 0.009 s.
    row = by_period(compute_budget([Decimal("99.99999")], Month(2025, 6), SH))["day"]
    assert row.allowed_us == 8640
    assert row.to_dict()["allowed_downtime_seconds"] == Decimal("0.009")


def test_fields_are_the_spec_fields() -> None:
    row = compute_budget([Decimal("99.950")], Month(2025, 6), SH)[0]
    assert tuple(row.to_dict()) == FIELDS
    assert row.to_dict()["target_pct"] == "99.95"


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["99.95"], ["99.95"]),
        (["99.95%"], ["99.95"]),
        ([" 99.99 % "], ["99.99"]),
        (["100"], ["100"]),
        (["99.5", "99.999"], ["99.5", "99.999"]),
        (["99.9", "99.90", "99.9%"], ["99.9"]),
        ([".5"], ["0.5"]),
    ],
)
def test_parse_targets(texts: list[str], expected: list[str]) -> None:
    assert parse_targets(texts) == [Decimal(e) for e in expected]


@pytest.mark.parametrize(
    "text", ["", "%", "abc", "99,95", "0", "0.0", "-5", "100.001", "101%", "1e2", "nan", "inf"]
)
def test_parse_targets_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_targets(["99.95", text])
