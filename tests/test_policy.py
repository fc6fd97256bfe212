"""Policies: the built-in ones, TOML files read exactly, and bad files."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from slacalc.errors import InputError, UsageError
from slacalc.policy import load_policy

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = Path(__file__).parent.parent / "samples"
D = Decimal


def write(tmp_path: Path, text: str | bytes, name: str = "policy.toml") -> str:
    path = tmp_path / name
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return str(path)


def problems(path: str) -> list[str]:
    with pytest.raises(InputError) as info:
        load_policy(path)
    return info.value.lines()


# --- built-ins ---------------------------------------------------------------------------------


def test_standard() -> None:
    p = load_policy("standard")
    assert (p.name, p.mode, p.default_target, p.cap_pct) == (
        "standard",
        "coefficient",
        D("99.95"),
        D(100),
    )
    assert [(t.target, t.coefficient, t.credit_pct) for t in p.tiers] == [
        (D("99.999"), D("5.00"), D(50)),
        (D("99.99"), D("2.50"), D(25)),
        (D("99.95"), D("1.25"), D(5)),
    ]
    assert [t.label for t in p.tiers] == ["99.999", "99.99", "99.95"]


def test_standard_credit() -> None:
    p = load_policy(" standard-credit ")
    assert (p.name, p.mode, p.default_target, p.cap_pct) == (
        "standard-credit",
        "credit",
        D("99.95"),
        D(100),
    )
    assert [t.credit_pct for t in p.tiers] == [D(50), D(25), D(5)]


@pytest.mark.parametrize("name", ["Standard", "premium", "nope.toml", ""])
def test_unknown_policy_is_a_usage_error(name: str) -> None:
    with pytest.raises(UsageError) as info:
        load_policy(name)
    assert str(info.value) == (
        f"unknown policy '{name}': use one of standard, standard-credit or a TOML file"
    )


@pytest.mark.parametrize(
    ("text", "target"),
    [("99.95", "99.95"), ("99.950", "99.95"), (" 99.99% ", "99.99"), ("99.999", "99.999")],
)
def test_parse_target(text: str, target: str) -> None:
    assert load_policy("standard").parse_target(text).target == D(target)


@pytest.mark.parametrize("text", ["99.9", "100", "abc", ""])
def test_parse_target_refuses(text: str) -> None:
    with pytest.raises(ValueError) as info:
        load_policy("standard").parse_target(text)
    assert str(info.value) == (
        "not a tier of policy 'standard': expected one of 99.999, 99.99, 99.95"
    )


# --- tier bands are exact ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("availability", "band"),
    [
        (Fraction(1), "99.999"),
        (Fraction(99999, 100000), "99.999"),
        (Fraction(99999, 100000) - Fraction(1, 10**15), "99.99"),
        (Fraction(9999, 10000), "99.99"),
        (Fraction(9995, 10000), "99.95"),
        (Fraction(9995, 10000) - Fraction(1, 10**15), "<99.95"),
        (Fraction(0), "<99.95"),
    ],
)
def test_band_is_exact(availability: Fraction, band: str) -> None:
    assert load_policy("standard").band(availability) == band


# --- compensation maths (pre-rounding) ----------------------------------------------------------


def test_coefficient_compensation() -> None:
    p = load_policy("standard")
    tier = p.tier(D("99.99"))
    # 1296 s of a 2,592,000 s month on a 1000 fee at 2.50: 1296/2592000 * 2500 = 1.25
    amount, capped = p.compensation(
        tier=tier, fee=D(1000), downtime_us=1296 * 10**6, period_us=2_592_000 * 10**6
    )
    assert (amount, capped) == (Fraction(5, 4), False)


def test_coefficient_compensation_capped() -> None:
    p = load_policy("standard")
    tier = p.tier(D("99.999"))
    # half the month at 5.00 would be 2.5 fees: capped at 100 % of the fee
    amount, capped = p.compensation(tier=tier, fee=D(1000), downtime_us=50, period_us=100)
    assert (amount, capped) == (Fraction(1000), True)


def test_credit_compensation_ignores_downtime() -> None:
    p = load_policy("standard-credit")
    for downtime in (1, 10**9):
        amount, capped = p.compensation(
            tier=p.tier(D("99.99")), fee=D("4500.00"), downtime_us=downtime, period_us=10**12
        )
        assert (amount, capped) == (Fraction(1125), False)  # 25 % of 4500


# --- TOML files ------------------------------------------------------------------------------


def test_sample_premium_policy() -> None:
    p = load_policy(str(SAMPLES / "policy.toml"))
    assert (p.name, p.mode, p.default_target, p.cap_pct) == (
        "premium",
        "coefficient",
        D("99.99"),
        D(50),
    )
    assert [(t.target, t.coefficient, t.credit_pct) for t in p.tiers] == [
        (D("99.999"), D("5.00"), D(50)),
        (D("99.99"), D("2.50"), D(25)),
        (D("99.95"), D("1.25"), D(5)),
    ]
    # the cap bites at 50 %: 0.4 of the month at 2.50 is a whole fee
    amount, capped = p.compensation(
        tier=p.tier(D("99.99")), fee=D(1000), downtime_us=4, period_us=10
    )
    assert (amount, capped) == (Fraction(500), True)


def test_numbers_are_read_exactly() -> None:
    p = load_policy(str(FIXTURES / "policy_exact_numbers.toml"))
    (tier,) = p.tiers
    for value, text in (
        (tier.target, "99.9"),
        (tier.coefficient, "0.1"),
        (tier.credit_pct, "0.3"),
        (p.cap_pct, "33.3"),
        (p.default_target, "99.9"),
    ):
        assert isinstance(value, Decimal)
        assert value == D(text)  # a float would be 0.1000000000000000055...


def test_credit_policy_file_sorts_tiers_highest_first() -> None:
    p = load_policy(str(FIXTURES / "policy_credit.toml"))
    assert (p.name, p.mode, p.default_target, p.cap_pct) == (
        "credit-30",
        "credit",
        D("99.99"),
        D(30),
    )
    assert [t.target for t in p.tiers] == [D("99.99"), D("99.95")]
    assert p.default_tier.credit_pct == D("40.5")
    # 40.5 % of 200 is 81, above the 30 % cap (60)
    amount, capped = p.compensation(tier=p.default_tier, fee=D(200), downtime_us=1, period_us=2)
    assert (amount, capped) == (Fraction(60), True)


def test_defaults_of_a_minimal_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[[tiers]]\ntarget = 99.9\ncoefficient = 1\ncredit_pct = 5\n"
                 "[[tiers]]\ntarget = 99\ncoefficient = 1\ncredit_pct = 1\n",
                 "minimal.toml")  # fmt: skip
    p = load_policy(path)
    assert (p.name, p.mode, p.cap_pct) == ("minimal", "coefficient", D(100))
    assert p.default_target == D(99)  # the lowest tier


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name='x'\n", ["column 'tiers': expected at least one [[tiers]] table with target, "
                        "coefficient, credit_pct"]),
        ("mode='bonus'\n[[tiers]]\ntarget=99.9\ncoefficient=1\ncredit_pct=5\n",
         ["column 'mode': expected one of coefficient, credit (value 'bonus')"]),
        ("default_target=99.9\n[[tiers]]\ntarget=99.95\ncoefficient=1\ncredit_pct=5\n",
         ["column 'default_target': is not the target of any tier (value '99.9')"]),
        ("[[tiers]]\ntarget=99.95\ncoefficient=1\ncredit_pct=5\n[[tiers]]\ntarget=99.950\ncoefficient=1\ncredit_pct=5\n",
         ["column 'tiers': two tiers have the same target"]),
        ("cap_pct=-1\n[[tiers]]\ntarget=101\ncoefficient=-1\ncredit_pct='x'\n", [
            "column 'cap_pct': expected a finite number >= 0 (value '-1')",
            "column 'tiers[1].coefficient': expected a finite number >= 0 (value '-1')",
            "column 'tiers[1].credit_pct': expected a number (value 'x')",
            "column 'tiers[1].target': a target is a percentage, at most 100 (value '101')",
        ]),
        ("cap_pct=true\n[[tiers]]\ntarget=0\ncoefficient=1\ncredit_pct=5\n", [
            "column 'cap_pct': expected a number (value 'True')",
            "column 'tiers[1].target': expected a finite number > 0 (value '0')",
        ]),
        ("[[tiers]]\ntarget=99.9\ncoefficent=1\ncredit_pct=5\n",
         ["column 'tiers[1]': missing coefficient: every tier states target, coefficient and "
          "credit_pct"]),
        ("cap_pct=nan\n[[tiers]]\ntarget=99\ncoefficient=1\ncredit_pct=5\n",
         ["column 'cap_pct': expected a finite number >= 0 (value 'NaN')"]),
    ],
)  # fmt: skip
def test_bad_policy_files(tmp_path: Path, text: str, expected: list[str]) -> None:
    path = write(tmp_path, text)
    n = len(expected)
    assert problems(path) == [
        *(f"{path}: {line}" for line in expected),
        f"{n} problem{'s' if n != 1 else ''} found",
    ]


def test_invalid_toml_says_where(tmp_path: Path) -> None:
    path = write(tmp_path, "name = 'x'\nmode = \n")
    (line, count) = problems(path)
    assert line.startswith(f"{path}")
    assert "not valid TOML" in line
    assert "line 2" in line
    assert count == "1 problem found"


def test_non_utf8_policy(tmp_path: Path) -> None:
    path = write(tmp_path, b"name = 'caf\xe9'\n")
    assert problems(path) == [f"{path}: not UTF-8 text", "1 problem found"]
