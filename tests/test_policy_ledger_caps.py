"""The ledger's policy keys: ``annual_cap_pct`` and ``customer_cap_pct``, read like ``cap_pct``."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from slacalc.ledger.limits import apply_limits, cap_amount
from slacalc.terms.policy import PolicyError, domain_table, load_policy

BASE = """\
name = "capped"
mode = "credit"
{extra}
[[tiers]]
target = 99.9
credit_pct = 10
"""


def policy_file(tmp_path: Path, extra: str) -> str:
    path = tmp_path / "capped.toml"
    path.write_text(BASE.format(extra=extra))
    return str(path)


def test_the_keys_are_read_exactly(tmp_path: Path) -> None:
    policy = load_policy(policy_file(tmp_path, "annual_cap_pct = 20\ncustomer_cap_pct = 50.5"))
    assert policy.annual_cap_pct == Decimal("20")
    assert policy.customer_cap_pct == Decimal("50.5")
    assert "ledger: credits of 12 months capped at 20 % of 12 months' fees" in policy.rules_text()


def test_without_them_there_is_no_ledger_cap(tmp_path: Path) -> None:
    policy = load_policy(policy_file(tmp_path, ""))
    assert policy.annual_cap_pct is None and policy.customer_cap_pct is None
    assert load_policy("standard").annual_cap_pct is None


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("annual_cap_pct = 0", "key 'annual_cap_pct': must be above 0"),
        ("annual_cap_pct = 101", "key 'annual_cap_pct': must be at most 100"),
        ("customer_cap_pct = -1", "key 'customer_cap_pct': must be above 0"),
        ('customer_cap_pct = "half"', "key 'customer_cap_pct': "),
        ("anual_cap_pct = 20", "did you mean 'annual_cap_pct'?"),
    ],
)
def test_bad_values_are_policy_errors(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message.replace("?", r"\?")):
        load_policy(policy_file(tmp_path, extra))


def test_the_domain_table_names_them() -> None:
    table = domain_table()
    assert "| `annual_cap_pct` | above 0, at most 100; up to 8 decimals |" in table
    assert "| `customer_cap_pct` |" in table


def test_a_cap_is_rounded_down_never_exceeded() -> None:
    assert cap_amount(Decimal("33.33"), Decimal("50"), 2) == Decimal("16.66")
    both = apply_limits(
        Decimal("50.00"),
        places=2,
        monthly_fee=Decimal("100"),
        annual_pct=Decimal("5"),  # 60.00 a year, 30.00 used
        year_others=Decimal("30.00"),
        customer_pct=Decimal("10"),  # 20.00 of 200.00 of fees, 5.00 used
        month_fees=Decimal("200"),
        month_others=Decimal("5.00"),
        capped_by_report=True,
    )
    assert (both.amount, both.cut, both.cut_by) == (
        Decimal("15.00"),
        Decimal("35.00"),
        ("cap_pct", "annual_cap_pct", "customer_cap_pct"),
    )
