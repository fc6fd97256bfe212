"""Instants as local wall-clock text, a column at a time (explain of a million incidents)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo
from fractions import Fraction
from typing import Any

import numpy as np
import pyarrow as pa

from slacalc import speed
from slacalc.dates.instants import US_PER_SECOND, format_local, from_us
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


_US_PER_HOUR = 3600 * US_PER_SECOND


def local_texts(instants: Any, tz: tzinfo) -> Any:
    """``YYYY-MM-DD HH:MM:SS`` (with microseconds when an instant has them), local in ``tz``:
    :func:`~slacalc.dates.instants.format_local` of every instant, a column at a time, as a
    pyarrow string array.

    The zone's offset is looked up once per distinct day (both ends of it; a day with an
    offset change hour by hour, and an hour with one through ``format_local``), added, and
    pyarrow writes the local clock readings.
    """
    instants = np.asarray(instants, dtype=np.int64)
    if len(instants) < 64:
        return pa.array([format_local(int(us), tz) for us in instants.tolist()], pa.string())
    offsets, steady = _offsets(instants, tz, 24 * _US_PER_HOUR)
    if not steady.all():  # days with an offset change: hour by hour there
        odd = ~steady
        offsets[odd], steady[odd] = _offsets(instants[odd], tz, _US_PER_HOUR)
    local = instants + offsets
    seconds = pa.array(local // US_PER_SECOND, pa.int64()).cast(pa.timestamp("s"))
    text = seconds.cast(pa.string())  # YYYY-MM-DD HH:MM:SS
    finer = np.flatnonzero(local % US_PER_SECOND)
    odd_hours = np.flatnonzero(~steady)
    if not len(finer) and not len(odd_hours):
        return text
    texts = text.to_pylist()
    for i in finer.tolist():  # microseconds where there are
        texts[i] += f".{int(local[i] % US_PER_SECOND):06d}"
    for i in odd_hours.tolist():
        texts[i] = format_local(int(instants[i]), tz)
    return pa.array(texts, pa.string())


def _offsets(instants: Any, tz: tzinfo, span: int) -> tuple[Any, Any]:
    """Each instant's UTC offset in ``tz``, looked up once per distinct ``span`` of time, and
    whether the offset is the same at both ends of that span (else it is not to be trusted)."""
    spans = instants // span
    distinct, index = np.unique(spans, return_inverse=True)
    offsets = np.zeros(len(distinct), dtype=np.int64)
    steady = np.ones(len(distinct), dtype=bool)
    for k, start in enumerate((distinct * span).tolist()):
        offsets[k] = _offset_us(start, tz)
        steady[k] = offsets[k] == _offset_us(start + span - 1, tz)
    return offsets[index], steady[index]


def _offset_us(us: int, tz: tzinfo) -> int:
    offset = from_us(us, tz).utcoffset()
    assert offset is not None
    return (offset.days * 86_400 + offset.seconds) * US_PER_SECOND + offset.microseconds
