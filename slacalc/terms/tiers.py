"""Availability, tiers, bands and breaches: exact comparisons of downtime with a target, and
availability as a truncated percentage."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slacalc import speed
from slacalc.terms.numbers import decimal_texts, muldiv


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


def availability(down_num: Any, den: Any, base: Any) -> tuple[Any, Any]:
    """Availability as integers ``(up, total)``: ``up / total = 1 - (down_num / den) / base``.

    ``base`` is the period (or the period less excluded time), in microseconds.
    """
    total = speed.product(base, den)
    return total - down_num, total


def pct_text(up: int, total: int) -> str:
    """One truncated percentage (see :func:`pct_texts`)."""
    return pct_texts([up], [total])[0].as_py()


def allowed_num(base: Any, den: Any, target: tuple[int, int]) -> Any:
    """The most downtime, in units of ``1 / den`` microseconds, that meets ``target`` % over a
    base of ``base`` microseconds: ``floor(base x den x (1 - target / 100))``.

    A downtime numerator meets the target exactly when it is at most this: comparing integers
    is the exact tier test, with no division and no rounding (99.95 % exactly meets 99.95 %).
    """
    return allowance(base, den)(target)


def allowance(base: Any, den: Any) -> Callable[[tuple[int, int]], Any]:
    """:func:`allowed_num` of ``base`` and ``den`` for any target: a column of bases is looked
    through once, however many targets (a policy's tiers) are asked of it."""
    import numpy as np

    if isinstance(base, list):
        base = np.asarray(base)
    if isinstance(base, np.ndarray) and base.dtype != object and np.ndim(den) == 0 and len(base):
        # A base is a month's length (or less its exclusions): few distinct values. Work them
        # out with Python integers once each, then spread them back.
        import pyarrow as pa

        encoded = pa.array(base).dictionary_encode()
        distinct = encoded.dictionary.to_pylist()
        at = encoded.indices.to_numpy()

        def spread(target: tuple[int, int]) -> Any:
            tn, td = target
            values = [b * int(den) * (100 * td - tn) // (100 * td) for b in distinct]
            lookup = np.array(values, dtype=np.int64 if speed.fits(speed.top(values)) else object)
            return lookup[at]

        return spread

    def each(target: tuple[int, int]) -> Any:
        tn, td = target
        if np.ndim(den):  # a denominator per row: Python integers
            return (
                np.asarray(base).astype(object)
                * np.asarray(den).astype(object)
                * (100 * td - tn)
                // (100 * td)
            )
        return speed.widen(base, den * 100 * td) * den * (100 * td - tn) // (100 * td)

    return each


def meets(down_num: Any, den: Any, base: Any, target: tuple[int, int], allowed: Any = None) -> Any:
    """Whether availability ``1 - (down_num / den) / base`` reaches ``target`` %, exactly
    (``allowed``: the :func:`allowance` of ``base`` and ``den``, when it is at hand)."""
    import numpy as np

    if isinstance(down_num, list):  # (allowance takes a list of bases as it is)
        down_num = np.asarray(down_num)
    return down_num <= (allowed or allowance(base, den))(target)


def band_positions(
    down_num: Any, den: Any, base: Any, targets: list[tuple[int, int]], allowed: Any = None
) -> Any:
    """Per row, the index in ``targets`` (highest first) of the highest tier met, or
    ``len(targets)`` when availability is below them all: the number of targets missed, since
    a row that meets a target meets every lower one."""
    import numpy as np

    allowed = allowed or allowance(base, den)
    position = np.zeros(np.shape(down_num), dtype=np.int8 if len(targets) < 127 else np.int64)
    for target in targets:
        missed = ~np.asarray(meets(down_num, den, base, target, allowed), dtype=bool)
        np.add(position, missed, out=position, casting="unsafe")
    return position


def band_labels(labels: list[str]) -> list[str]:
    """The tier labels of a band position, then ``<lowest`` for availability below them all."""
    return [*labels, "<" + labels[-1]]
