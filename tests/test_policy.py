"""Policies: the built-in ones, TOML files read exactly, and bad files."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from slacalc.errors import UsageError
from slacalc.terms import tiers
from slacalc.terms.policy import PolicyError, load_policy

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
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    return str(info.value).splitlines()


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
    assert str(info.value).startswith(f"unknown policy '{name}'")
    assert "use one of standard, standard-credit" in str(info.value)


def test_unknown_policy_suggests_the_closest_name() -> None:
    with pytest.raises(UsageError, match="did you mean 'standard-credit'"):
        load_policy("standard-credt")


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


def band_of(policy_name: str, availability: Fraction) -> str:
    """The band label of an availability, through the rules the report uses."""
    p = load_policy(policy_name)
    # availability = 1 - down / base: as integers over the availability's denominator
    base, down = availability.denominator, availability.denominator - availability.numerator
    (position,) = tiers.band_positions([down], 1, [base], p.targets)
    return tiers.band_labels(p.labels)[int(position)]


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
    assert band_of("standard", availability) == band


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
    # today's format, one credit_pct, is one band below the tier's target
    assert [(b.below, b.credit_pct) for b in p.default_tier.bands] == [(D("99.99"), D("40.5"))]


def test_defaults_of_a_minimal_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[[tiers]]\ntarget = 99.9\ncoefficient = 1\ncredit_pct = 5\n"
        "[[tiers]]\ntarget = 99\ncoefficient = 1\ncredit_pct = 1\n",
        "minimal.toml",
    )
    p = load_policy(path)
    assert (p.name, p.mode, p.cap_pct) == ("minimal", "coefficient", D(100))
    assert p.default_target == D(99)  # the lowest tier


AWS = """name = "aws-like"
mode = "credit"
default_target = 99.99
min_outage_seconds = 60
round_up_seconds = 60
min_credit = "1.00"
credit_form = "voucher"
availability_base = "period-minus-excluded"
service_hours = { days = "working", from = "08:00", to = "20:00" }

[claim_window]
opens_after_working_days = 5
closes_after_days = 60

[[tiers]]
target = 99.99
coefficient = 2.50
bands = [ { below = 99.99, credit_pct = 10 }, { below = 99.0, credit_pct = 30 },
          { below = 95.0, credit_pct = 100 } ]
"""


def test_a_band_table_and_every_rule(tmp_path: Path) -> None:
    p = load_policy(write(tmp_path, AWS))
    (tier,) = p.tiers
    assert [(b.below, b.credit_pct) for b in tier.bands] == [
        (D("99.99"), D(10)),
        (D("99.0"), D(30)),
        (D("95.0"), D(100)),
    ]
    assert (p.min_outage_seconds, p.round_up_seconds, p.min_credit) == (60, 60, D("1.00"))
    assert (p.credit_form, p.availability_base) == ("voucher", "period-minus-excluded")
    assert p.service_hours is not None and p.service_hours.text() == "working days 08:00-20:00"
    assert p.claim_window is not None
    assert (p.claim_window.opens_after_working_days, p.claim_window.closes_after_days) == (5, 60)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name='x'\n", ["key 'tiers': expected at least one [[tiers]] table with a target"]),
        (
            "mode='bonus'\n[[tiers]]\ntarget=99.9\ncoefficient=1\ncredit_pct=5\n",
            ["key 'mode': expected one of 'coefficient', 'credit' (value 'bonus')"],
        ),
        (
            "default_target=99.9\n[[tiers]]\ntarget=99.95\ncoefficient=1\ncredit_pct=5\n",
            ["key 'default_target': is not the target of any tier (tiers: 99.95)"],
        ),
        (
            "[[tiers]]\ntarget=99.95\ncoefficient=1\ncredit_pct=5\n[[tiers]]\ntarget=99.950\n"
            "coefficient=1\ncredit_pct=5\n",
            ["key 'tiers': two tiers have the same target"],
        ),
        (
            "cap=50\n[[tiers]]\ntarget=99.9\ncoefficient=1\ncredit_pct=5\n",
            [
                "key 'cap': unknown key; did you mean 'cap_pct'? (known: annual_cap_pct, "
                "availability_base, cap_pct, claim_window, credit_form, customer_cap_pct, "
                "default_target, empty_intervals, interval_seconds, measure, min_credit, "
                "min_outage_seconds, mode, name, note, read_on, redundancy, round_up_seconds, "
                "service_hours, source, terms_dated, tiers, title)"
            ],
        ),
        (
            "[[tiers]]\ntarget=99.9\ncoefficent=1\ncredit_pct=5\n",
            [
                "key 'tiers[1].coefficent': unknown key; did you mean 'coefficient'? (known: "
                "bands, coefficient, credit_pct, target)",
                "key 'tiers[1]': missing 'coefficient' (the policy's mode is 'coefficient')",
            ],
        ),
        (
            "cap_pct=-1\n[[tiers]]\ntarget=101\ncoefficient=-1\ncredit_pct='x'\n",
            [
                "key 'cap_pct': must be above 0 (value '-1')",
                "key 'tiers[1].target': must be at most 100 (value '101')",
                "key 'tiers[1].coefficient': must be at least 0 (value '-1')",
                "key 'tiers[1].credit_pct': not a number (value 'x')",
            ],
        ),
        (
            "cap_pct=true\n[[tiers]]\ntarget=0\ncoefficient=1\ncredit_pct=5\n",
            [
                "key 'cap_pct': expected a number, got true/false",
                "key 'tiers[1].target': must be above 0 (value '0')",
            ],
        ),
        (
            "cap_pct=nan\n[[tiers]]\ntarget=99\ncoefficient=1\ncredit_pct=5\n",
            ["key 'cap_pct': not a finite number (value 'NaN')"],
        ),
        (
            "cap_pct=1e999999999\n[[tiers]]\ntarget=99\ncoefficient=1\ncredit_pct=5\n",
            [
                "key 'cap_pct': too large (at most 15 digits before the decimal point) (value "
                "'1E+999999999')"
            ],
        ),
        (
            "mode='credit'\n[[tiers]]\ntarget=99.9\nbands=[{below=95, credit_pct=10}, "
            "{below=99, credit_pct=30}]\n",
            [
                "key 'tiers[1].bands[2].below': bands must be listed from the highest 'below' "
                "down, without repeats (99 after 95)"
            ],
        ),
        (
            "mode='credit'\n[[tiers]]\ntarget=99.9\nbands=[{below=99.95, credit_pct=10}]\n",
            [
                "key 'tiers[1].bands[1].below': 99.95 is above the tier's target 99.9: "
                "availability there is not a breach"
            ],
        ),
        (
            "mode='credit'\n[[tiers]]\ntarget=99.9\nbands=[{below=99, credit_pct=150}]\n",
            ["key 'tiers[1].bands[1].credit_pct': must be at most 100 (value '150')"],
        ),
        (
            "mode='credit'\n[[tiers]]\ntarget=99.9\nbands=[{below=99, credit=15}]\n",
            [
                "key 'tiers[1].bands[1].credit': unknown key; did you mean 'credit_pct'? (known: "
                "below, credit_pct)",
                "key 'tiers[1].bands[1]': missing 'credit_pct'",
            ],
        ),
        (
            "mode='credit'\n[[tiers]]\ntarget=99.9\n",
            ["key 'tiers[1]': missing 'bands' or 'credit_pct' (the policy's mode is 'credit')"],
        ),
        (
            "min_outage_seconds='60'\n[[tiers]]\ntarget=99\ncoefficient=1\n",
            ["key 'min_outage_seconds': expected a whole number, got str"],
        ),
        (
            "service_hours={days='weekdays', from='8:00'}\n[[tiers]]\ntarget=99\ncoefficient=1\n",
            [
                "key 'service_hours.days': expected one of 'all', 'working', 'mon-fri' (value "
                "'weekdays')",
                "key 'service_hours.from': expected a clock time \"HH:MM\" (value '8:00')",
            ],
        ),
        (
            "[claim_window]\ncloses_after_days=60\ncloses_after_months=2\n[[tiers]]\ntarget=99\n"
            "coefficient=1\n",
            ["key 'claim_window': give closes_after_days or closes_after_months, not both"],
        ),
    ],
)
def test_bad_policy_files(tmp_path: Path, text: str, expected: list[str]) -> None:
    path = write(tmp_path, text)
    assert problems(path) == [f"policy file '{path}': {line}" for line in expected]


def test_invalid_toml_says_where(tmp_path: Path) -> None:
    path = write(tmp_path, "name = 'x'\nmode = \n")
    (line,) = problems(path)
    assert line.startswith(f"policy file '{path}': not valid TOML")
    assert "line 2" in line


def test_toml_nested_5000_deep_is_refused_at_once(tmp_path: Path) -> None:
    import time

    path = write(tmp_path, "x = " + "[" * 5000 + "]" * 5000 + "\n")
    started = time.monotonic()
    (line,) = problems(path)
    assert time.monotonic() - started < 1
    assert line.startswith(f"policy file '{path}': ")


def test_non_utf8_policy(tmp_path: Path) -> None:
    path = write(tmp_path, b"name = 'caf\xe9'\n")
    assert problems(path) == [f"policy file '{path}': not UTF-8 text"]


def test_a_policy_number_of_thousands_of_digits_is_a_policy_error(tmp_path) -> None:
    """tomllib raises a plain ValueError past Python's 4300-digit limit: still exit 2."""
    from slacalc.terms.policy import PolicyError, read_policy_file

    path = tmp_path / "big.toml"
    path.write_text(f'name = "big"\nmode = "credit"\ncap_pct = {"9" * 5000}\n', encoding="utf-8")
    with pytest.raises(PolicyError, match="too long"):
        read_policy_file(path)
