"""Exact numbers and their text: the one rounding (half-up), exact ratios, bounded decimals,
floor division by parts, and decimal text of integers scaled by a power of ten (seconds,
percentages, shares).

Every function that a report applies to many rows works on a Python ``int`` and on a numpy array
alike: ``int64`` arrays where the values provably fit, ``object`` arrays of Python integers where
they might not (:func:`slacalc.speed.exact`, beside the one fixed-width bound).

Downtime is a rational number of microseconds, ``num / den``: ``den`` is 1 unless partial impacts
made it fractional (``0.3 x 7 s``), and stays a small common denominator of the impacts.
"""

from __future__ import annotations

import re
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, InvalidOperation
from fractions import Fraction
from functools import lru_cache
from typing import Any

from slacalc import speed

# --- exact integers, scalar or array ---------------------------------------------------------
# Fixed-width arithmetic and its one bound live in slacalc.speed.


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


EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)


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
    exponent = value.normalize(EXACT).as_tuple().exponent
    if value and isinstance(exponent, int) and -exponent > max_places:
        raise ValueError(f"too many decimals (at most {max_places})")
    return value


def decimal_texts(units: Any, places: Any, *, strip: bool = False, common: int = 0) -> Any:
    """Integers ``units`` of ``10**-places`` as decimal text, a pyarrow string array:
    ``places`` digits after the point (``strip``: trailing zeros and a bare point dropped).
    ``places`` is one number or one per value. The one text form of exact numbers.

    ``common`` is a value many rows hold (no downtime, no money, full availability): when a
    quarter of them or more do, it is formatted once and the others one by one."""
    import numpy as np
    import pyarrow as pa

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
    # a few small numbers (a currency's decimals): counted, not sorted
    distinct = np.flatnonzero(np.bincount(places_arr)) if len(units) else np.zeros(1, np.int64)
    if len(distinct) == 1:
        return decimal_texts(units, int(distinct[0]), strip=strip, common=common)
    # each currency's rows formatted by themselves, then put back in place
    parts, rows = [], []
    for p in distinct.tolist():
        at = np.flatnonzero(places_arr == p)
        parts.append(decimal_texts(units[at], p, strip=strip, common=common))
        rows.append(at)
    where = np.empty(len(units), dtype=np.int64)
    where[np.concatenate(rows)] = np.arange(len(units))
    return pa.concat_arrays(parts).take(pa.array(where))


# Columns shorter than this are formatted value by value, common or not.
_MANY = 1024


def _scaled_texts(units: Any, places: int, strip: bool) -> Any:
    """``units`` with the point ``places`` digits from the right: each ``int64`` widened to a
    128-bit decimal's unscaled integer and cast to text by Arrow; larger values in Python."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if units.dtype == object:
        texts = [scaled_text(int(v), places) for v in units.tolist()]
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


def scaled_text(value: int, places: int) -> str:
    sign, digits = ("-" if value < 0 else ""), str(abs(value))
    if not places:
        return sign + digits
    digits = digits.rjust(places + 1, "0")
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


def format_pct(value: Decimal) -> str:
    """A percentage without an exponent or trailing zeros: ``99.95``, ``100``, ``5``."""
    return f"{value.normalize(EXACT):f}"


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


def seconds_texts(num: Any, den: Any = 1) -> Any:
    """Microseconds ``num / den`` as seconds, half-up to at most 3 decimals, trailing zeros
    dropped: ``2050``, ``1841.7``, ``0.864`` (a pyarrow string array)."""
    import numpy as np

    ms = half_up(speed.widen(np.atleast_1d(np.asarray(num)), 4), np.asarray(den) * 1000)
    return decimal_texts(ms, 3, strip=True)


def seconds(us: Fraction | int) -> int | Decimal:
    """One duration in microseconds as seconds (see :func:`seconds_texts`): an ``int`` when
    whole, else a ``Decimal``, the number a JSON file shows."""
    return _seconds(*ratio(us))


def _seconds(num: int, den: int) -> int | Decimal:
    # seconds_texts for one value, in Python integers (an explanation calls this per incident)
    text = scaled_text(half_up(num, den * 1000), 3).rstrip("0").rstrip(".")
    return int(text) if "." not in text else Decimal(text)


@lru_cache(maxsize=1024)
def share(value: Fraction | int) -> str:
    """A share of 1 as an exact decimal: ``0.3``, ``1``, ``0.125`` (``1/3`` stays a fraction)."""
    value = Fraction(value)
    for places in range(13):
        scaled = value * 10**places
        if scaled.denominator == 1:
            return f"{Decimal(scaled.numerator).scaleb(-places, EXACT):f}"
    return str(value)
