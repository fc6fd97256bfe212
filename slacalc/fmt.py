"""Exact text forms shared by every output: seconds, percentages, durations."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from slacalc.money import round_half_up
from slacalc.timeparse import US_PER_SECOND


def seconds(us: Fraction | int) -> Decimal | int:
    """Microseconds as seconds, rounded half-up to at most 3 decimals, trailing zeros dropped.

    Whole seconds come back as an ``int`` (the common case, and the cheap one).
    """
    if type(us) is int:
        whole, rest = divmod(us, US_PER_SECOND)
        if not rest:
            return whole
    value = round_half_up(Fraction(us, US_PER_SECOND), 3)
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def truncated_pct_of(num: int, den: int, places: int = 4) -> str:
    """``num / den`` (a share of 1, both >= 0) as a percentage truncated to ``places`` decimals."""
    scale = 10**places
    q = num * 100 * scale // den
    return f"{q // scale}.{q % scale:0{places}d}"


def share(value: Fraction | int) -> str:
    """A share of 1 as an exact decimal: ``0.3``, ``1``, ``0.125`` (``1/3`` stays a fraction)."""
    value = Fraction(value)
    for places in range(0, 13):
        scaled = value * 10**places
        if scaled.denominator == 1:
            return f"{Decimal(scaled.numerator).scaleb(-places):f}"
    return str(value)


def duration(us: Fraction | int) -> str:
    """A human duration: ``1h 32m 59s``, ``21m 36s``, ``2d 3h 0m 0s``, ``0.4s``."""
    secs = Fraction(us, US_PER_SECOND)
    if secs == 0:
        return "0s"
    whole = int(secs)
    frac = secs - whole
    days, rem = divmod(whole, 86400)
    hours, rem = divmod(rem, 3600)
    minutes, sec = divmod(rem, 60)
    sec_text = str(sec)
    if frac:
        sec_text = f"{seconds(Fraction(sec) * US_PER_SECOND + frac * US_PER_SECOND)}"
    parts = []
    if days:
        parts.append(f"{days}d")
    if days or hours:
        parts.append(f"{hours}h")
    if days or hours or minutes:
        parts.append(f"{minutes}m")
    parts.append(f"{sec_text}s")
    return " ".join(parts)
