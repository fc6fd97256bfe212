"""Money: exact amounts, one half-up rounding at the currency's minor unit."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slacalc.terms.money import (
    format_money,
    minor_unit,
    minor_units,
    parse_amount,
    parse_currency,
    to_money,
)

D = Decimal


@pytest.mark.parametrize(
    ("currency", "places"),
    [("CNY", 2), ("USD", 2), ("EUR", 2), ("JPY", 0), ("KRW", 0), ("KWD", 3), ("CLF", 4)],
)
def test_minor_unit(currency: str, places: int) -> None:
    assert minor_unit(currency) == places


@pytest.mark.parametrize(
    ("value", "currency", "text"),
    [
        (Fraction(5, 1000), "CNY", "0.01"),  # exactly half a fen: up
        (Fraction(4999, 1000000), "CNY", "0.00"),
        (Fraction(1, 3), "CNY", "0.33"),
        (Fraction(2, 3), "CNY", "0.67"),
        (Fraction(515625, 1000), "USD", "515.63"),  # 515.625: half-up, not half-even (515.62)
        (Fraction(25, 1000), "USD", "0.03"),  # 0.025: half-even would give 0.02
        (Fraction(15625, 2), "JPY", "7813"),  # 7812.5 yen
        (Fraction(25, 2), "JPY", "13"),  # 12.5: half-even would give 12
        (Fraction(49999, 100000), "KRW", "0"),
        (Fraction(1, 2), "KRW", "1"),
        (Fraction(4500000000, 2678400), "JPY", "1680"),  # 1680.107...
        (Fraction(5, 10000), "KWD", "0.001"),  # ISO 4217: the dinar has 1000 fils
        (D("12000.00"), "CNY", "12000.00"),
        (0, "JPY", "0"),
        (0, "CNY", "0.00"),
    ],
)
def test_to_money_rounds_once_half_up(value: Fraction, currency: str, text: str) -> None:
    money = to_money(value, currency)
    assert money == D(text)
    assert format_money(money, currency) == text


def test_round_half_up_is_exact_for_huge_denominators() -> None:
    # 0.005 - 1e-30 must go down; a float would round it up.
    assert minor_units(Fraction(5, 1000) - Fraction(1, 10**30), 2) == 0
    assert minor_units(Fraction(5, 1000) + Fraction(1, 10**30), 2) == 1


@pytest.mark.parametrize(
    ("value", "currency", "text"),
    [
        (D("12000"), "CNY", "12000.00"),
        (D("1500000"), "JPY", "1500000"),
        (D("1E+3"), "USD", "1000.00"),
        (D("0"), "KRW", "0"),
        (D("1.5"), "KWD", "1.500"),
    ],
)
def test_format_money(value: Decimal, currency: str, text: str) -> None:
    assert format_money(value, currency) == text


@pytest.mark.parametrize(
    ("value", "currency", "text"), [(D("100.125"), "CNY", "100.13"), (D("12.5"), "JPY", "13")]
)
def test_format_money_of_an_over_precise_fee_is_half_up(
    value: Decimal, currency: str, text: str
) -> None:
    assert format_money(value, currency) == text


@pytest.mark.parametrize(
    ("text", "value"),
    [("1200", D(1200)), (" 99.5 ", D("99.5")), ("1_200.50", D("1200.50")), ("0", D(0))],
)
def test_parse_amount(text: str, value: Decimal) -> None:
    assert parse_amount(text) == value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "expected a decimal amount such as 1200.00"),
        ("1,200", "expected a decimal amount such as 1200.00"),
        ("¥100", "expected a decimal amount such as 1200.00"),
        ("-1", "must not be negative"),
        ("inf", "expected a decimal amount such as 1200.00"),
        ("NaN", "expected a decimal amount such as 1200.00"),
        ("1e999999999", "amount is too large (at most 15 digits before the decimal point)"),
        ("1e-99999999", "amount has too many decimals (at most 8)"),
        ("9" * 5000, "expected a decimal amount such as 1200.00"),
    ],
)
def test_parse_amount_refuses(text: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_amount(text)
    assert str(info.value) == message


@pytest.mark.parametrize(("text", "code"), [("cny", "CNY"), (" JPY ", "JPY")])
def test_parse_currency(text: str, code: str) -> None:
    assert parse_currency(text) == code


@pytest.mark.parametrize("text", ["", "US", "USDT", "U$D", "12A"])
def test_parse_currency_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="expected an ISO 4217 currency code"):
        parse_currency(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("XYZ", "'XYZ' is not an ISO 4217 currency code"),
        ("JYP", "'JYP' is not an ISO 4217 currency code; did you mean JPY?"),
        ("XAU", "'XAU' is not an ISO 4217 currency code; did you mean XAF?"),
    ],
)
def test_parse_currency_refuses_codes_that_are_not_currencies(text: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_currency(text)
    assert str(info.value) == message


@settings(deadline=None)  # the first call loads Arrow's cast kernels
@given(
    st.lists(st.integers(-(2**63) + 1, 2**63 - 1), max_size=40),
    st.integers(0, 6),
    st.booleans(),
    st.booleans(),
)
def test_decimal_texts_match_python_decimals(
    values: list[int], places: int, strip: bool, wide: bool
) -> None:
    """The Arrow 128-bit path (int64) and the Python path (object) both write what Decimal
    writes for ``value * 10**-places``."""
    import numpy as np

    from slacalc.terms.numbers import decimal_texts

    units = np.array(values, dtype=object if wide else np.int64)
    expected = []
    for v in values:
        d = Decimal(v).scaleb(-places)
        text = f"{d:.{places}f}"
        if strip and "." in text:
            text = text.rstrip("0").rstrip(".")
        expected.append(text)
    assert decimal_texts(units, places, strip=strip).to_pylist() == expected


@settings(deadline=None)
@given(
    st.lists(st.integers(-(10**12), 10**12), min_size=1, max_size=20),
    st.integers(0, 6),
    st.booleans(),
    st.integers(1000, 3000),
    st.sampled_from([0, 1_000_000, 7]),
    st.integers(0, 2**32 - 1),
)
def test_a_common_value_formatted_once_gives_the_same_texts(
    values: list[int], places: int, strip: bool, n: int, common: int, seed: int
) -> None:
    """A long column where many rows hold ``common`` formats it once; the texts are those of
    formatting every value."""
    import numpy as np

    from slacalc.terms import numbers

    rng = np.random.default_rng(seed)
    units = np.where(rng.random(n) < 0.6, common, rng.choice(np.array(values), n))
    got = numbers.decimal_texts(units, places, strip=strip, common=common).to_pylist()
    assert got == numbers._scaled_texts(units, places, strip).to_pylist()


def test_decimal_texts_with_places_per_value() -> None:
    import numpy as np

    from slacalc.terms.numbers import decimal_texts

    texts = decimal_texts(np.array([120000, 120000, 5]), np.array([2, 0, 3]))
    assert texts.to_pylist() == ["1200.00", "120000", "0.005"]


@given(st.integers(0, 10**15), st.integers(1, 10**6))
def test_one_duration_in_seconds_is_the_columns_text(num: int, den: int) -> None:
    from slacalc.terms.numbers import seconds, seconds_texts

    assert str(seconds(Fraction(num, den))) == seconds_texts([num], [den])[0].as_py()


@given(st.integers(0, 10**14), st.integers(1, 10**4))
def test_duration_reads_as_days_hours_minutes_and_rounded_seconds(num: int, den: int) -> None:
    from slacalc.writing.times import duration

    secs = Fraction(num, den) / 10**6
    text = duration(Fraction(num, den))
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    total = sum(Fraction(Decimal(p[:-1])) * units[p[-1]] for p in text.split())
    assert abs(total - secs) <= Fraction(1, 2000)  # the seconds rounded half-up to 3 decimals
    assert text.split()[-1].endswith("s")


@given(st.lists(st.integers(0, 2**70), min_size=1, max_size=30))
def test_the_digit_table_holds_each_multipliers_base_1000_digits(multipliers: list[int]) -> None:
    """Long division takes each price multiplier's base-1000 digits from one table, built by
    numpy when they all fit 63 bits and one by one otherwise: the same digits either way."""
    from slacalc.terms.money import _base1000, _digit_table

    table = _digit_table(multipliers)
    for row, m in zip(table.tolist(), multipliers, strict=True):
        digits = _base1000(m)
        assert row[len(row) - len(digits) :] == digits
        assert not any(row[: len(row) - len(digits)])


def test_numbers_are_ascii_digits() -> None:
    """Decimal reads full-width and other scripts' digits ('１００' is 100): slacalc does not
    guess that a fee or an impact was meant that way."""
    from slacalc.terms.money import parse_amount
    from slacalc.terms.numbers import parse_decimal

    for text in ("１００", "０.５", "٣"):
        with pytest.raises(ValueError):
            parse_decimal(text)
        with pytest.raises(ValueError):
            parse_amount(text)
    assert parse_decimal("100.5") == Decimal("100.5")
