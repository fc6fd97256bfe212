"""The rules of a month-end, each in one place: tiers, bands, breaches, prices, rounding, the
72-hour rule, status, and the text forms of money, percentages and seconds.

Every rule that a report applies to many rows is one function written in integer arithmetic that
works on a Python ``int`` and on a numpy array alike: ``int64`` arrays where the values provably
fit, ``object`` arrays of Python integers where they might not (:func:`exact`). The report,
explain, validate, budget, tiers and every writer call these functions; nothing else computes a
band, a price or a text form.

Downtime is a rational number of microseconds, ``num / den``: ``den`` is 1 unless partial impacts
made it fractional (``0.3 x 7 s``), and stays a small common denominator of the impacts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, InvalidOperation
from fractions import Fraction
from functools import lru_cache
from math import gcd
from typing import Any

from slacalc import speed
from slacalc.dates.instants import US_PER_SECOND

# --- exact integers, scalar or array ---------------------------------------------------------
# Fixed-width arithmetic and its one bound live in slacalc.speed; these names are the rules' view.

exact = speed.exact
_wide = speed.widen


def half_up(num: Any, den: Any) -> Any:
    """``num / den`` rounded half-up to an integer (``num >= 0``, ``den > 0``): the one rounding.

    >>> half_up(5, 2), half_up(7, 3)
    (3, 2)
    """
    return (2 * num + den) // (2 * den)


def ratio(value: Decimal | Fraction | int) -> tuple[int, int]:
    """An exact decimal or fraction as ``(numerator, denominator)`` integers."""
    if type(value) is int:
        return value, 1
    if isinstance(value, Fraction):
        return value.numerator, value.denominator
    return value.as_integer_ratio()  # in lowest terms, as Fraction(value) has them


# --- bounded decimals: fees, impacts, targets, policy numbers --------------------------------

_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)


# Up to 15 digits, a point and up to 8 decimals: what fees, impacts and targets almost always
# look like (a contracts file of a large cloud has a hundred thousand of them).
_PLAIN_AMOUNT = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,8})?")


def parse_decimal(text: str, *, max_digits: int = 15, max_places: int = 8) -> Decimal:
    """A finite decimal with at most ``max_digits`` before the point and ``max_places`` after.

    The bounds keep every later product small: ``1e999999999`` or a 5000-digit number is refused
    at once instead of costing minutes of big-integer arithmetic. Raises ValueError.
    """
    raw = text.strip().replace("_", "")
    if max_digits >= 15 and max_places >= 8 and _PLAIN_AMOUNT.fullmatch(raw):
        return Decimal(raw)  # plain digits within both bounds: nothing below can refuse it
    if len(raw) > 64:
        raise ValueError("not a number: too long")
    if not raw.isascii():  # Decimal reads full-width and other scripts' digits: nobody writes them
        raise ValueError("not a number")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError("not a number") from None
    if not value.is_finite():
        raise ValueError("not a finite number")
    if value and value.adjusted() >= max_digits:
        raise ValueError(f"too large (at most {max_digits} digits before the decimal point)")
    exponent = value.normalize(_EXACT).as_tuple().exponent
    if value and isinstance(exponent, int) and -exponent > max_places:
        raise ValueError(f"too many decimals (at most {max_places})")
    return value


# --- money -----------------------------------------------------------------------------------

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
    return Decimal(units).scaleb(-places, _EXACT)


def to_money(value: Fraction | Decimal | int, currency: str) -> Decimal:
    """``value`` rounded once, half-up, to the currency's minor unit."""
    places = minor_unit(currency)
    return from_minor(minor_units(value, places), places)


def decimal_texts(units: Any, places: Any, *, strip: bool = False, common: int = 0) -> Any:
    """Integers ``units`` of ``10**-places`` as decimal text, a pyarrow string array:
    ``places`` digits after the point (``strip``: trailing zeros and a bare point dropped).
    ``places`` is one number or one per value. The one text form of exact numbers.

    ``common`` is a value many rows hold (no downtime, no money, full availability): when a
    quarter of them or more do, it is formatted once and the others one by one."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    units = np.atleast_1d(np.asarray(units))
    if np.ndim(places) == 0:
        if units.dtype != object and len(units) >= _MANY:
            same = units == common
            held = int(np.count_nonzero(same))
            if held * 4 >= len(units):
                others = np.flatnonzero(~same)
                texts = pa.concat_arrays(
                    [
                        _scaled_texts(units[others], int(places), strip),
                        _scaled_texts(np.array([common], dtype=units.dtype), int(places), strip),
                    ]
                )
                where = np.full(len(units), len(others), dtype=np.int64)
                where[others] = np.arange(len(others))
                return texts.take(pa.array(where))
        return _scaled_texts(units, int(places), strip)
    places_arr = np.asarray(places, dtype=np.int64)
    distinct = np.unique(places_arr) if len(units) else np.zeros(1, dtype=np.int64)
    if len(distinct) == 1:
        return _scaled_texts(units, int(distinct[0]), strip)
    out = pa.nulls(len(units), pa.string())
    for p in distinct.tolist():
        out = pc.if_else(pa.array(places_arr == p), _scaled_texts(units, p, strip), out)
    return out


# Columns shorter than this are formatted value by value, common or not.
_MANY = 1024


def _scaled_texts(units: Any, places: int, strip: bool) -> Any:
    """``units`` with the point ``places`` digits from the right: each ``int64`` widened to a
    128-bit decimal's unscaled integer and cast to text by Arrow; larger values in Python."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if units.dtype == object:
        texts = [_scaled_text(int(v), places) for v in units.tolist()]
        text = pa.array(texts, pa.string())
    else:
        wide = np.empty((len(units), 2), dtype=np.int64)
        wide[:, 0] = units
        wide[:, 1] = np.right_shift(units, 63)  # sign extension: the high word
        kind = pa.decimal128(38, places)
        decimals = pa.Array.from_buffers(kind, len(units), [None, pa.py_buffer(wide)])
        text = pc.cast(decimals, pa.string())
    if strip and places:
        text = pc.utf8_rtrim(pc.utf8_rtrim(text, "0"), ".")
    return text


def _scaled_text(value: int, places: int) -> str:
    sign, digits = ("-" if value < 0 else ""), str(abs(value))
    if not places:
        return sign + digits
    digits = digits.rjust(places + 1, "0")
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


def money_texts(units: Any, places: Any) -> Any:
    """Minor units as money text with the currency's decimals: ``1200.00``, ``120000``."""
    return decimal_texts(units, places)


@lru_cache(maxsize=4096)
def format_money(value: Decimal, currency: str) -> str:
    """One amount with exactly the currency's decimals: ``1200.00`` CNY, ``120000`` JPY."""
    return format_moneys([value], [currency])[0].as_py()


def format_moneys(values: Sequence[Decimal], currencies: Sequence[str]) -> Any:
    """Amounts, each with exactly its currency's decimals (:func:`format_money` of each), as
    one pyarrow string array: the contracts of a large cloud are formatted in one pass."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    places = np.array([minor_unit(c) for c in currencies], dtype=np.int64)
    units = [minor_units(abs(v), p) for v, p in zip(values, places.tolist(), strict=True)]
    wide = not speed.fits(max(units, default=0))
    text = money_texts(np.array(units, dtype=object if wide else np.int64), places)
    negative = [v < 0 and u != 0 for v, u in zip(values, units, strict=True)]
    if not any(negative):
        return text
    return pc.if_else(pa.array(negative), pc.binary_join_element_wise("-", text, ""), text)


# --- percentages and coefficients ------------------------------------------------------------


def format_pct(value: Decimal) -> str:
    """A percentage without an exponent or trailing zeros: ``99.95``, ``100``, ``5``."""
    return f"{value.normalize(_EXACT):f}"


@lru_cache(maxsize=256)
def format_coefficient(value: Decimal) -> str:
    """At least two decimals, as the policy document writes them: 1.25, 2.50, 5.00."""
    whole, _, frac = format_pct(value).partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def pct_texts(up: Any, total: Any, places: int = 4) -> Any:
    """``up / total`` (a share of 1) as percentages truncated toward zero to ``places`` decimals.

    Truncated, never rounded: 99.94999 % shows as 99.9499, below the 99.95 tier it misses.
    A total of 0 (nothing to measure) shows 100.
    """
    import numpy as np

    scale = 10**places
    up, total = np.asarray(up), np.asarray(total)
    safe = np.where(total == 0, 1, total)
    q = muldiv(np.where(total == 0, 1, up), 100 * scale, safe)
    return decimal_texts(q, places, common=100 * scale)  # most rows: 100 %


def muldiv(x: Any, m: int, t: Any) -> Any:
    """``floor(x * m / t)`` exactly, for arrays with ``0 <= x <= t``: in ``int64`` when ``t``
    is small enough, one factor of ``m`` at a time, else with Python integers."""
    import numpy as np

    x, t = np.asarray(x), np.asarray(t)
    if not t.size or speed.is_wide(x) or speed.is_wide(t) or not speed.fits(speed.top(t) * 1000):
        return x.astype(object) * m // t.astype(object)
    x = x.astype(np.int64)
    q = np.zeros(x.shape, dtype=np.int64)
    # m = f1 * f2 * ... with every factor at most 1000: q, r = divmod(r * f, t) keeps r < t
    factors = []
    rest = m
    while rest > 1:
        f = 1000 if rest % 1000 == 0 else rest
        if f > 1000:
            return x.astype(object) * m // t.astype(object)
        factors.append(f)
        rest //= f
    r = x
    for f in factors:
        scaled = r * f
        q = q * f + scaled // t
        r = scaled % t
    return q


def availability(down_num: Any, den: Any, base: Any) -> tuple[Any, Any]:
    """Availability as integers ``(up, total)``: ``up / total = 1 - (down_num / den) / base``.

    ``base`` is the period (or the period less excluded time), in microseconds.
    """
    total = speed.product(base, den)
    return total - down_num, total


def pct_text(up: int, total: int) -> str:
    """One truncated percentage (see :func:`pct_texts`)."""
    return pct_texts([up], [total])[0].as_py()


# --- seconds ---------------------------------------------------------------------------------


def seconds_texts(num: Any, den: Any = 1) -> Any:
    """Microseconds ``num / den`` as seconds, half-up to at most 3 decimals, trailing zeros
    dropped: ``2050``, ``1841.7``, ``0.864`` (a pyarrow string array)."""
    import numpy as np

    ms = half_up(_wide(np.atleast_1d(np.asarray(num)), 4), np.asarray(den) * 1000)
    return decimal_texts(ms, 3, strip=True)


def seconds(us: Fraction | int) -> int | Decimal:
    """One duration in microseconds as seconds (see :func:`seconds_texts`): an ``int`` when
    whole, else a ``Decimal``, the number a JSON file shows."""
    return _seconds(*ratio(us))


def _seconds(num: int, den: int) -> int | Decimal:
    # seconds_texts for one value, in Python integers (an explanation calls this per incident)
    text = _scaled_text(half_up(num, den * 1000), 3).rstrip("0").rstrip(".")
    return int(text) if "." not in text else Decimal(text)


def duration(us: Fraction | int) -> str:
    """A human duration: ``1h 32m 59s``, ``21m 36s``, ``2d 3h 0m 0s``, ``0.4s``."""
    num, den = ratio(us)
    if num == 0:
        return "0s"
    scale = den * US_PER_SECOND
    whole = num // scale
    days, rem = divmod(whole, 86400)
    hours, rem = divmod(rem, 3600)
    minutes, sec = divmod(rem, 60)
    sec_text = str(_seconds(sec * scale + num - whole * scale, den))
    parts = []
    if days:
        parts.append(f"{days}d")
    if days or hours:
        parts.append(f"{hours}h")
    if days or hours or minutes:
        parts.append(f"{minutes}m")
    parts.append(f"{sec_text}s")
    return " ".join(parts)


@lru_cache(maxsize=1024)
def share(value: Fraction | int) -> str:
    """A share of 1 as an exact decimal: ``0.3``, ``1``, ``0.125`` (``1/3`` stays a fraction)."""
    value = Fraction(value)
    for places in range(13):
        scaled = value * 10**places
        if scaled.denominator == 1:
            return f"{Decimal(scaled.numerator).scaleb(-places, _EXACT):f}"
    return str(value)


# --- tiers, bands and breaches ---------------------------------------------------------------


def allowed_num(base: Any, den: Any, target: tuple[int, int]) -> Any:
    """The most downtime, in units of ``1 / den`` microseconds, that meets ``target`` % over a
    base of ``base`` microseconds: ``floor(base x den x (1 - target / 100))``.

    A downtime numerator meets the target exactly when it is at most this: comparing integers
    is the exact tier test, with no division and no rounding (99.95 % exactly meets 99.95 %).
    """
    tn, td = target
    import numpy as np

    if isinstance(base, np.ndarray) and base.dtype != object and np.ndim(den) == 0 and len(base):
        # A base is a month's length (or less its exclusions): few distinct values. Work them
        # out with Python integers once each, then spread them back.
        import pyarrow as pa

        encoded = pa.array(base).dictionary_encode()
        distinct = encoded.dictionary.to_pylist()
        values = [b * int(den) * (100 * td - tn) // (100 * td) for b in distinct]
        lookup = np.array(values, dtype=np.int64 if speed.fits(speed.top(values)) else object)
        return lookup[np.asarray(encoded.indices)]
    if np.ndim(den):  # a denominator per row: Python integers
        return (
            np.asarray(base).astype(object)
            * np.asarray(den).astype(object)
            * (100 * td - tn)
            // (100 * td)
        )
    return _wide(base, den * 100 * td) * den * (100 * td - tn) // (100 * td)


def meets(down_num: Any, den: Any, base: Any, target: tuple[int, int]) -> Any:
    """Whether availability ``1 - (down_num / den) / base`` reaches ``target`` %, exactly."""
    import numpy as np

    if isinstance(down_num, list):
        down_num, base = np.asarray(down_num), np.asarray(base)
    return down_num <= allowed_num(base, den, target)


def band_positions(down_num: Any, den: Any, base: Any, targets: list[tuple[int, int]]) -> Any:
    """Per row, the index in ``targets`` (highest first) of the highest tier met, or
    ``len(targets)`` when availability is below them all."""
    import numpy as np

    position = np.full(np.shape(down_num), len(targets), dtype=np.int64)
    for i in range(len(targets) - 1, -1, -1):
        position = np.where(meets(down_num, den, base, targets[i]), i, position)
    return position


def band_labels(labels: list[str]) -> list[str]:
    """The tier labels of a band position, then ``<lowest`` for availability below them all."""
    return [*labels, "<" + labels[-1]]


# --- prices ----------------------------------------------------------------------------------


def coefficient_price(
    down_num: Any, den: Any, base: Any, fee: tuple[int, int], coefficient: tuple[int, int]
) -> tuple[Any, int, Any]:
    """A breach priced by the coefficient formula, ``downtime / base x fee x coefficient``, as
    ``(x, multiplier, divisor)``: the price is ``x * multiplier / divisor`` (money).

    ``fee x coefficient`` is taken in lowest terms (a fee in cents times 1.25 shares a factor
    5 with its 400): the divisor stays small enough for 64-bit long division more often."""
    top, bottom = fee[0] * coefficient[0], fee[1] * coefficient[1]
    common = gcd(top, bottom) or 1
    return down_num, top // common, den * base * (bottom // common)


def credit_price(fee: tuple[int, int], credit_pct: tuple[int, int]) -> tuple[int, int, int]:
    """A breach priced by a credit share, ``fee x credit_pct / 100``, as ``(1, multiplier,
    divisor)``."""
    return 1, fee[0] * credit_pct[0], fee[1] * credit_pct[1] * 100


def cap_of(fee: tuple[int, int], cap_pct: tuple[int, int]) -> tuple[int, int]:
    """The most a month can cost, ``fee x cap_pct / 100``, as an exact ratio."""
    return fee[0] * cap_pct[0], fee[1] * cap_pct[1] * 100


def capped_units(
    x: Any,
    divisor: Any,
    index: Any,
    multiplier: list[int],
    cap: list[tuple[int, int]],
    places: list[int],
) -> tuple[Any, Any]:
    """Minor units of the prices ``x * multiplier / divisor``, each at most ``cap``, rounded
    once, half-up, to ``places`` decimals; and whether the cap bit.

    ``multiplier``, ``cap`` and ``places`` are given per contract terms and ``index`` picks each
    row's. Exact: long division in base 1000 on ``int64`` while every step provably fits, Python
    integers where it might not.
    """
    import numpy as np

    x = np.asarray(x)
    divisor = np.asarray(divisor)
    index = np.asarray(index, dtype=np.int64)
    scaled = [m * 10**p for m, p in zip(multiplier, places, strict=True)]
    limit = [(cn * 10**p, cd) for (cn, cd), p in zip(cap, places, strict=True)]
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
        m = np.array(scaled, dtype=object)[index]
        num, den = x.astype(object) * m, divisor.astype(object)
        cn = np.array([c[0] for c in limit], dtype=object)[index]
        cd = np.array([c[1] for c in limit], dtype=object)[index]
        capped = num * cd > cn * den
        units = half_up(np.where(capped, cn, num), np.where(capped, cd, den))
        return units, np.asarray(capped, dtype=bool)
    q, r = _long_division(x.astype(np.int64), scaled, index, divisor.astype(np.int64))
    units = q + (2 * r >= divisor)
    whole = np.array([cn // cd for cn, cd in limit], dtype=object)
    rest = np.array([cn % cd for cn, cd in limit], dtype=object)
    small = speed.fits(speed.top(whole))
    cq = whole.astype(np.int64)[index] if small else whole[index]
    capped = q > cq
    tie = np.flatnonzero(q == cq)
    if len(tie):  # the same whole units: compare the remainders exactly
        cd = np.array([c[1] for c in limit], dtype=object)[index[tie]]
        lhs = r[tie].astype(object) * cd
        rhs = rest[index[tie]] * divisor[tie].astype(object)
        capped[tie] = np.asarray(lhs > rhs, dtype=bool)
    if capped.any():
        cap_units = np.array([half_up(cn, cd) for cn, cd in limit], dtype=object)
        units = units.astype(object) if not small else units
        units[capped] = cap_units[index[capped]]
    return units, capped


def _fits_int64(x: Any, divisor: Any, scaled: list[int]) -> bool:
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
        and speed.fits(top_x * max(scaled) // low_t)  # the largest quotient
    )


def _long_division(x: Any, multiplier: list[int], index: Any, t: Any) -> tuple[Any, Any]:
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


def _digit_table(multiplier: list[int]) -> Any:
    """The base-1000 digits of each multiplier, most significant first, one row each (padded
    with leading zeros): by numpy when every multiplier fits 63 bits (a cloud's 161k contract
    terms), else one by one."""
    import numpy as np

    top = max(multiplier, default=0)
    if speed.fits(top):
        values = np.array(multiplier or [0], dtype=np.int64)
        width = len(_base1000(top))
        powers = 1000 ** np.arange(width - 1, -1, -1, dtype=np.int64)
        return (values[:, None] // powers[None, :]) % 1000
    digits = [_base1000(m) for m in multiplier]
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


# --- deadlines and status --------------------------------------------------------------------

LEVEL1_HOURS = 72
LEVEL1_DELAY_US = LEVEL1_HOURS * 3600 * US_PER_SECOND


def level1_due(opened_us: Any) -> Any:
    """The 72-hour rule: a level-1 dispute (an SLA breach, its compensation) is due 72 elapsed
    hours after it opens; a breached month's compensation opens when the month ends."""
    return opened_us + LEVEL1_DELAY_US


FINAL, PROVISIONAL = "final", "provisional"


def period_final(period_end_us: Any, as_of_us: int) -> Any:
    """A month is final once it has ended at ``--as-of``; before that it is provisional."""
    return period_end_us <= as_of_us


# --- service hours and claim windows ---------------------------------------------------------


def service_windows(hours: Any, first: Any, last: Any, tz: Any, calendar: Any) -> list[tuple]:
    """The service-time windows ``[start, end)`` (epoch microseconds) of the days ``first`` to
    ``last`` (dates) under a policy's service hours, on the report's calendar and in its zone.

    ``days`` is ``all``, ``mon-fri``, or ``working`` (the working-day calendar, make-up days
    included). Clock times are local: a window keeps its wall-clock hours across a DST change.
    """
    from datetime import datetime, timedelta

    from slacalc.dates.instants import to_us

    out = []
    day = first
    while day <= last:
        if (
            hours.days == "all"
            or (hours.days == "mon-fri" and day.weekday() < 5)
            or (hours.days == "working" and calendar.is_working_day(day))
        ):
            start = to_us(datetime.combine(day, hours.start, tzinfo=tz))
            end_day = day + timedelta(days=1) if hours.end_of_day else day
            end = to_us(datetime.combine(end_day, hours.end, tzinfo=tz))
            if end > start:
                out.append((start, end))
        day += timedelta(days=1)
    return out


def claim_bounds(window: Any, next_month: Any, tz: Any, calendar: Any) -> tuple[int, int | None]:
    """When the claim window of a period opens and closes (epoch microseconds; None: never).

    ``next_month`` is the first day of the month after the period. The window opens when the
    period ends, or at 00:00 after the Nth working day of the next month; it closes N days or N
    months after the period ends (local midnight), as the policy says.
    """
    from datetime import datetime, timedelta

    from slacalc.dates.instants import to_us

    end = datetime.combine(next_month, datetime.min.time(), tzinfo=tz)
    opens = to_us(end)
    if window is None:
        return opens, None
    if window.opens_after_working_days:
        nth = calendar.add_working_days(
            next_month - timedelta(days=1), window.opens_after_working_days
        )
        day = nth + timedelta(days=1)
        opens = to_us(datetime.combine(day, datetime.min.time(), tzinfo=tz))
    closes = None
    if window.closes_after_days is not None:
        day = next_month + timedelta(days=window.closes_after_days)
        closes = to_us(datetime.combine(day, datetime.min.time(), tzinfo=tz))
    elif window.closes_after_months is not None:
        months = next_month.year * 12 + next_month.month - 1 + window.closes_after_months
        day = next_month.replace(year=months // 12, month=months % 12 + 1)
        closes = to_us(datetime.combine(day, datetime.min.time(), tzinfo=tz))
    return opens, closes


NOT_OPEN, OPEN, CLAIM_EXPIRED, BELOW_MIN_CREDIT = (
    "not_open",
    "open",
    "claim_expired",
    "below_min_credit",
)


def claim_status(opens: int, closes: int | None, as_of: int) -> str:
    """Where a breached month's claim stands at ``as_of``."""
    if as_of < opens:
        return NOT_OPEN
    if closes is not None and as_of >= closes:
        return CLAIM_EXPIRED
    return OPEN
