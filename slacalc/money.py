"""Exact money: decimal amounts, each currency's minor unit, one half-up rounding at the end."""

from __future__ import annotations

import re
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, InvalidOperation
from fractions import Fraction
from functools import lru_cache

# ISO 4217 currencies without a minor unit (0 decimals); every other currency has 2.
_MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(
        ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG",
         "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"),
        0,
    ),
}
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
_CODE = re.compile(r"^[A-Z]{3}$")


def minor_unit(currency: str) -> int:
    """Decimals of money in ``currency``: 0 where ISO 4217 has no minor unit (JPY, KRW), else 2.

    The contract rounds to two decimals unless the currency has none, so the few 3-decimal
    currencies (KWD, BHD, ...) are shown with 2 like the rest.
    """
    return _MINOR_UNITS.get(currency, 2)


def parse_currency(text: str) -> str:
    """An ISO 4217 code, upper-cased. Raises ValueError when it is not three letters."""
    code = text.strip().upper()
    if not _CODE.match(code):
        raise ValueError("expected an ISO 4217 currency code such as CNY, USD or JPY")
    return code


def parse_amount(text: str) -> Decimal:
    """A non-negative, finite decimal amount such as ``1200`` or ``99.5``. Raises ValueError."""
    raw = text.strip().replace("_", "")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError("expected a decimal amount such as 1200.00") from None
    if not value.is_finite():
        raise ValueError("expected a finite decimal amount")
    if value < 0:
        raise ValueError("must not be negative")
    return value


def minor_units(value: Fraction | Decimal | int, places: int) -> int:
    """An exact non-negative value in units of ``10**-places``, rounded half-up."""
    if not isinstance(value, Fraction):
        value = Fraction(value)
    den = value.denominator
    q, r = divmod(value.numerator * 10**places, den)
    if 2 * r >= den:
        q += 1
    return q


def from_minor(units: int, places: int) -> Decimal:
    """``units`` of ``10**-places`` as an exact Decimal (no context precision limit)."""
    return Decimal(units).scaleb(-places, _EXACT)


def round_half_up(value: Fraction | Decimal | int, places: int) -> Decimal:
    """Round an exact non-negative value half-up to ``places`` decimals, exactly."""
    return from_minor(minor_units(value, places), places)


def to_money(value: Fraction | Decimal | int, currency: str) -> Decimal:
    """``value`` rounded once, half-up, to the currency's minor unit."""
    return round_half_up(value, minor_unit(currency))


@lru_cache(maxsize=4096)
def format_money(value: Decimal, currency: str) -> str:
    """Text with exactly the currency's decimals: ``1200.00`` CNY, ``120000`` JPY.

    Integer arithmetic, so no amount is too large for the decimal context's precision.
    """
    places = minor_unit(currency)
    units = minor_units(value.copy_abs(), places)  # copy_abs: no context rounding
    digits = str(units).rjust(places + 1, "0")
    sign = "-" if value < 0 and units else ""
    if not places:
        return sign + digits
    return f"{sign}{digits[:-places]}.{digits[-places:]}"
