"""Money: ISO 4217 currencies and their minor units, fees, the coefficient and credit prices,
caps, and money as text. Amounts are exact (integers, ``Fraction``, ``Decimal``) and rounded
once, half-up, to the currency's minor unit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from math import gcd
from typing import Any

from slacalc import speed
from slacalc.terms.numbers import (
    EXACT,
    decimal_texts,
    format_pct,
    half_up,
    parse_decimal,
    ratio,
)

# ISO 4217 (list one, 2025): every active code and its minor unit. Codes absent here (typos such
# as JYP, funds and metals without a minor unit such as XAU) are refused.
_TWO_DECIMALS = """
AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD
CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP
GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD
MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP
PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT
TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG
"""


_NO_DECIMALS = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"


_THREE_DECIMALS = "BHD IQD JOD KWD LYD OMR TND"


_FOUR_DECIMALS = "CLF UYW"


_MINOR_UNITS: dict[str, int] = {
    code: places
    for codes, places in (
        (_TWO_DECIMALS, 2),
        (_NO_DECIMALS, 0),
        (_THREE_DECIMALS, 3),
        (_FOUR_DECIMALS, 4),
    )
    for code in codes.split()
}


_CODE = re.compile(r"^[A-Z]{3}$")


CURRENCY_SYMBOLS = {
    "CNY": "¥",
    "JPY": "¥",
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "KRW": "₩",
    "HKD": "HK$",
    "TWD": "NT$",
    "SGD": "S$",
    "INR": "₹",
}


def minor_unit(currency: str) -> int:
    """Decimals of money in ``currency`` by ISO 4217: JPY 0, CNY 2, KWD 3, CLF 4."""
    return _MINOR_UNITS.get(currency, 2)


def parse_currency(text: str) -> str:
    """An active ISO 4217 code, upper-cased. Raises ValueError naming what is wrong."""
    code = text.strip().upper()
    if not _CODE.match(code):
        raise ValueError("expected an ISO 4217 currency code such as CNY, USD or JPY")
    if code not in _MINOR_UNITS:
        import difflib

        swapped = [c for c in _MINOR_UNITS if sorted(c) == sorted(code)]  # JYP -> JPY
        close = swapped or difflib.get_close_matches(code, _MINOR_UNITS, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise ValueError(f"'{code}' is not an ISO 4217 currency code{hint}")
    return code


def parse_amount(text: str) -> Decimal:
    """A non-negative amount such as ``1200`` or ``99.5`` (below 10**15). Raises ValueError."""
    try:
        value = parse_decimal(text, max_digits=15, max_places=8)
    except ValueError as exc:
        reason = str(exc)
        if reason.startswith("not a"):
            raise ValueError("expected a decimal amount such as 1200.00") from None
        raise ValueError(
            f"amount {'has ' if reason.startswith('too many') else 'is '}{reason}"
        ) from None
    if value < 0:
        raise ValueError("must not be negative")
    return value


def minor_units(value: Fraction | Decimal | int, places: int) -> int:
    """An exact non-negative value in units of ``10**-places``, rounded half-up."""
    num, den = ratio(value)
    return half_up(num * 10**places, den)


def from_minor(units: int, places: int) -> Decimal:
    """``units`` of ``10**-places`` as an exact Decimal."""
    return Decimal(units).scaleb(-places, EXACT)


def to_money(value: Fraction | Decimal | int, currency: str) -> Decimal:
    """``value`` rounded once, half-up, to the currency's minor unit."""
    places = minor_unit(currency)
    return from_minor(minor_units(value, places), places)


def money_texts(units: Any, places: Any) -> Any:
    """Minor units as money text with the currency's decimals: ``1200.00``, ``120000``."""
    return decimal_texts(units, places)


@lru_cache(maxsize=4096)
def format_money(value: Decimal, currency: str) -> str:
    """One amount with exactly the currency's decimals: ``1200.00`` CNY, ``120000`` JPY."""
    return format_moneys([value], [currency])[0].as_py()


def format_moneys(values: Sequence[Decimal], currencies: Sequence[str]) -> Any:
    """Amounts, each with exactly its currency's decimals (:func:`format_money` of each), as
    one pyarrow string array."""
    import numpy as np

    places = np.array([minor_unit(c) for c in currencies], dtype=np.int64)
    fees = [ratio(v) for v in values]
    num, den = speed.column([f[0] for f in fees]), speed.column([f[1] for f in fees])
    return ratio_moneys(num, den, places)


def ratio_moneys(num: Any, den: Any, places: Any) -> Any:
    """Exact amounts ``num / den`` (exact integer arrays, :func:`slacalc.speed.column`), each
    rounded half-up to
    its ``places`` decimals, as money text: the fees of a large cloud's contracts in one pass."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    negative = np.asarray(num < 0, dtype=bool)
    scaled = speed.product(np.abs(num), 10 ** np.asarray(places, dtype=np.int64))
    units = speed.narrowed(_half_up(scaled, den))
    text = money_texts(units, places)
    negative &= np.asarray(units != 0, dtype=bool)
    if not negative.any():
        return text
    return pc.if_else(pa.array(negative), pc.binary_join_element_wise("-", text, ""), text)


@lru_cache(maxsize=256)
def format_coefficient(value: Decimal) -> str:
    """At least two decimals, as the policy document writes them: 1.25, 2.50, 5.00."""
    whole, _, frac = format_pct(value).partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def coefficient_price(
    down_num: Any, den: Any, base: Any, fee: tuple[Any, Any], coefficient: tuple[Any, Any]
) -> tuple[Any, Any, Any]:
    """A breach priced by the coefficient formula, ``downtime / base x fee x coefficient``, as
    ``(x, multiplier, divisor)``: the price is ``x * multiplier / divisor`` (money).

    ``fee x coefficient`` is taken in lowest terms (a fee in cents times 1.25 shares a factor
    5 with its 400): the divisor stays small enough for 64-bit long division more often. The
    fee and coefficient are Python integers, or exact arrays of them (one per contract)."""
    top, bottom = speed.product(fee[0], coefficient[0]), speed.product(fee[1], coefficient[1])
    common = _gcd(top, bottom)
    return down_num, top // common, den * base * (bottom // common)


def _gcd(a: Any, b: Any) -> Any:
    """The greatest common divisor, 1 where both are 0: of integers, or element by element."""
    import numpy as np

    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        common = np.gcd(a, b)
        return np.where(common == 0, 1, common)
    return gcd(a, b) or 1


def credit_price(fee: tuple[int, int], credit_pct: tuple[int, int]) -> tuple[int, int, int]:
    """A breach priced by a credit share, ``fee x credit_pct / 100``, as ``(1, multiplier,
    divisor)``."""
    return 1, speed.product(fee[0], credit_pct[0]), speed.product(fee[1], credit_pct[1] * 100)


def cap_of(fee: tuple[int, int], cap_pct: tuple[int, int]) -> tuple[int, int]:
    """The most a month can cost, ``fee x cap_pct / 100``, as an exact ratio."""
    return speed.product(fee[0], cap_pct[0]), speed.product(fee[1], cap_pct[1] * 100)


def capped_units(
    x: Any,
    divisor: Any,
    index: Any,
    multiplier: Any,
    cap: Any,
    places: Any,
) -> tuple[Any, Any]:
    """Minor units of the prices ``x * multiplier / divisor``, each at most ``cap``, rounded
    once, half-up, to ``places`` decimals; and whether the cap bit.

    ``multiplier``, ``cap`` and ``places`` are given per contract terms (sequences or arrays;
    ``cap`` a list of ``(num, den)`` pairs or a pair of arrays) and ``index`` picks each row's.
    Exact: long division in base 1000 on ``int64`` while every step provably fits, Python
    integers where it might not.
    """
    import numpy as np

    x = np.asarray(x)
    divisor = np.asarray(divisor)
    index = np.asarray(index, dtype=np.int64)
    if isinstance(cap, tuple):
        cap_num, cap_den = speed.column(cap[0]), speed.column(cap[1])
    else:
        cap_num, cap_den = speed.column([c[0] for c in cap]), speed.column([c[1] for c in cap])
    power = 10 ** np.asarray(places, dtype=np.int64)
    scaled = speed.product(speed.column(multiplier), power)
    limit = speed.product(cap_num, power)  # the cap in minor units is limit / cap_den
    fits = _fits_int64(x, divisor, scaled)
    if not fits and x.dtype != object and divisor.dtype != object:
        # Each row's x / divisor in lowest terms: downtime in whole seconds shares most of the
        # month's microseconds, and the smaller divisor often fits the 64-bit long division (a
        # fee in cents times an impact in fortieths sent every row to Python integers).
        common = np.gcd(x, divisor)
        common[common == 0] = 1
        x, divisor = x // common, divisor // common
        fits = _fits_int64(x, divisor, scaled)
    if not fits:
        num, den = x.astype(object) * scaled[index], divisor.astype(object)
        cn, cd = limit[index], cap_den[index]
        capped = num * cd > cn * den
        units = half_up(np.where(capped, cn, num), np.where(capped, cd, den))
        return units, np.asarray(capped, dtype=bool)
    q, r = _long_division(x.astype(np.int64), scaled, index, divisor.astype(np.int64))
    units = q + (2 * r >= divisor)
    whole, rest = limit // cap_den, limit % cap_den
    small = speed.fits(speed.top(whole))
    cq = whole.astype(np.int64)[index] if small else whole[index]
    capped = np.asarray(q > cq, dtype=bool)
    tie = np.flatnonzero(q == cq)
    if len(tie):  # the same whole units: compare the remainders exactly
        lhs = r[tie].astype(object) * cap_den[index[tie]]
        rhs = rest[index[tie]] * divisor[tie].astype(object)
        capped[tie] = np.asarray(lhs > rhs, dtype=bool)
    if capped.any():
        at = index[capped]
        units = units.astype(object) if not small else units
        units[capped] = _half_up(limit[at], cap_den[at])
    return units, capped


def _half_up(num: Any, den: Any) -> Any:
    """:func:`half_up` of two exact arrays, in ``int64`` only where ``2 * num + den`` fits."""
    bound = speed.top(num) + speed.top(den)
    return half_up(speed.exact(num, bound), speed.exact(den, bound))


def _fits_int64(x: Any, divisor: Any, scaled: Any) -> bool:
    """Whether :func:`_long_division` of ``x * scaled / divisor`` stays within ``int64``."""
    if x.dtype == object or divisor.dtype == object:
        return False
    if not len(x):
        return True
    top_x, top_t, low_t = speed.top(x), speed.top(divisor), int(divisor.min())
    return (
        low_t > 0
        and int(x.min()) >= 0
        # each step's r * 1000 + x * digit: r < divisor, and a digit is at most 999
        and speed.fits(top_t * 1000)
        and speed.fits(top_x * 1000)
        and speed.fits(top_x * speed.top(scaled) // low_t)  # the largest quotient
    )


def _long_division(x: Any, multiplier: Any, index: Any, t: Any) -> tuple[Any, Any]:
    """``divmod(x * multiplier[index], t)`` row by row in ``int64``: the multiplier is taken a
    base-1000 digit at a time, so no intermediate passes ``t * 1000 + x * 999`` (the caller
    checks that bound)."""
    import numpy as np

    table = _digit_table(multiplier)
    width = table.shape[1]
    q = np.zeros(len(x), dtype=np.int64)
    r = np.zeros(len(x), dtype=np.int64)
    for k in range(width):
        acc = r * 1000 + x * table[index, k]
        q = q * 1000 + acc // t
        r = acc % t
    return q, r


def _digit_table(multiplier: Any) -> Any:
    """The base-1000 digits of each multiplier (Python integers, or an array of them), most
    significant first, one row each (padded with leading zeros): by numpy when every
    multiplier fits 63 bits (a cloud's 161k contract terms), else one by one."""
    import numpy as np

    multiplier = speed.column(multiplier)
    top = speed.top(multiplier)
    if speed.fits(top):
        values = multiplier.astype(np.int64) if len(multiplier) else np.zeros(1, np.int64)
        width = len(_base1000(top))
        powers = 1000 ** np.arange(width - 1, -1, -1, dtype=np.int64)
        return (values[:, None] // powers[None, :]) % 1000
    digits = [_base1000(int(m)) for m in multiplier.tolist()]
    width = max(len(d) for d in digits)
    table = np.zeros((len(digits), width), dtype=np.int64)
    for i, d in enumerate(digits):
        table[i, width - len(d) :] = d
    return table


def _base1000(m: int) -> list[int]:
    """The base-1000 digits of ``m >= 0``, most significant first."""
    out = []
    while True:
        m, d = divmod(m, 1000)
        out.append(d)
        if not m:
            return out[::-1]
