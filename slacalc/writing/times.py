"""Durations as text, one (:func:`duration`) or a column at a time (:func:`durations`), and the
compact forms narrow tables take."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
import pyarrow as pa

from slacalc import speed
from slacalc.dates.instants import US_PER_SECOND
from slacalc.terms import numbers
from slacalc.terms.numbers import ratio, seconds

_US_PER_MINUTE = 60 * US_PER_SECOND


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
    sec_text = str(seconds(Fraction(sec * scale + num - whole * scale, den)))
    parts = []
    if days:
        parts.append(f"{days}d")
    if days or hours:
        parts.append(f"{hours}h")
    if days or hours or minutes:
        parts.append(f"{minutes}m")
    parts.append(f"{sec_text}s")
    return " ".join(parts)


def durations(num: Any, den: int = 1) -> Any:
    """:func:`duration` of many microsecond counts ``num / den`` at once
    (``num >= 0``), as a pyarrow string array: the same text, days, hours and minutes split by
    integer arithmetic and the seconds written by the rules' own
    :func:`~slacalc.terms.numbers.seconds_texts`.

    A timeline of a million stretches is written in a second instead of ten minutes.
    """
    import pyarrow.compute as pc

    num = np.asarray(num)
    if not len(num):
        return pa.array([], pa.string())
    if num.dtype == object or not speed.fits(speed.top(num) * max(den * _US_PER_MINUTE, 1)):
        return pa.array([duration(Fraction(int(n), den)) for n in num.tolist()], pa.string())
    num = num.astype(np.int64)
    minutes = num // (den * _US_PER_MINUTE)  # whole minutes: the seconds' rounding comes after
    rest = num - minutes * den * _US_PER_MINUTE
    days, left = np.divmod(minutes, 1440)
    hours, mins = np.divmod(left, 60)

    def unit(values: Any, suffix: str) -> Any:
        return pc.binary_join_element_wise(pa.array(values).cast(pa.string()), suffix, "")

    s = unit(numbers.seconds_texts(rest, den), "s")  # 0 microseconds: "0s"
    m = pc.binary_join_element_wise(unit(mins, "m"), s, " ")
    h = pc.binary_join_element_wise(unit(hours, "h"), m, " ")
    d = pc.binary_join_element_wise(unit(days, "d"), h, " ")
    return pc.if_else(days > 0, d, pc.if_else(hours > 0, h, pc.if_else(mins > 0, m, s)))


def compact_clock(texts: list[str]) -> tuple[Callable[[str], str], str]:
    """How to write a column of ``YYYY-MM-DD HH:MM:SS`` local times in fewer characters, and
    the year it leaves out: without ``:SS`` when every time is on the minute, and without
    ``YYYY-`` when all fall in one year (the header then names it). Empty cells stay empty."""
    real = [t for t in texts if t]
    years = {t[:4] for t in real}
    year = next(iter(years)) if len(years) == 1 else ""
    minutes = all(len(t) == 19 and t.endswith(":00") for t in real)

    def compact(text: str) -> str:
        if not text or len(text) < 19:
            return text
        if minutes:
            text = text[:16]
        return text[5:] if year else text

    return compact, year


def short_duration(text: str) -> str:
    """A duration's text without its trailing zero units: ``1d 9h 0m 0s`` as ``1d 9h``,
    ``20m 0s`` as ``20m`` (``0s`` stays): the same value in fewer columns."""
    while text.endswith((" 0s", " 0m", " 0h")):
        text = text[:-3]
    return text
