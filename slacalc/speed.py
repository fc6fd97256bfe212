"""Where slacalc trades generality for speed, each trick in one place.

**Fixed width.** numpy's ``int64`` arithmetic is fast and exact, but only while no value and no
intermediate passes 2**63: past it, numbers wrap around without a word. Every fixed-width path
in slacalc asks :func:`fits` whether an upper bound of what it will compute stays below
:data:`LIMIT`; when it does not, the same expressions run on Python integers (``object``
arrays), slower and never wrong. The bound is checked here and nowhere else: a module that
computes in ``int64`` derives its bound and calls these functions, it never compares with a
power of two of its own.

The helpers take and give numpy arrays (or Python integers): ``int64`` where the bound fits,
``object`` arrays of Python integers where it does not, or where an operand already is one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# The one bound: int64 with a factor of two of headroom, so that a checked value may still be
# doubled or have a smaller checked value added (half-up rounding computes ``2 * num + den``).
LIMIT = 1 << 62


def fits(bound: int) -> bool:
    """Whether values whose magnitude is at most ``bound`` may be computed in ``int64``."""
    return bound < LIMIT


def top(values: Any) -> int:
    """The largest magnitude in ``values`` (an array, a list or a number) as a Python integer;
    0 for an empty array."""
    if isinstance(values, int):
        return abs(values)
    arr = np.asarray(values)
    if not arr.size:
        return 0
    if arr.dtype == object:
        return max(abs(int(v)) for v in arr.reshape(-1).tolist())
    # the largest and smallest, each as a Python integer: abs() of int64's minimum would wrap
    return max(abs(int(arr.max())), abs(int(arr.min())))


def is_wide(values: Any) -> bool:
    """Whether ``values`` already holds Python integers (an ``object`` array)."""
    return isinstance(values, np.ndarray) and values.dtype == object


def exact(values: Any, bound: int) -> Any:
    """``values`` as an array fit for exact arithmetic whose results stay within ``bound``:
    ``int64`` when the bound fits and the values are not Python integers already, else an
    ``object`` array of Python integers."""
    arr = np.asarray(values)
    if fits(bound) and arr.dtype != object:
        return arr.astype(np.int64, copy=False)
    return arr.astype(object)


def widen(values: Any, factor: int) -> Any:
    """An array operand ready for products up to ``factor`` times its largest value (Python
    integers, scalars included, pass through)."""
    if not isinstance(values, np.ndarray) or values.dtype == object or not len(values):
        return values
    return exact(values, top(values) * factor)


def product(a: Any, b: Any) -> Any:
    """``a * b`` exactly, element by element: arrays or Python integers, in ``int64`` when the
    largest product fits."""
    bound = top(a) * top(b)
    if not isinstance(a, np.ndarray) and not isinstance(b, np.ndarray):
        return a * b
    if fits(bound) and not is_wide(a) and not is_wide(b):
        return np.asarray(a, dtype=np.int64) * np.asarray(b, dtype=np.int64)
    return _wide(a) * _wide(b)


def _wide(value: Any) -> Any:
    return np.asarray(value).astype(object) if isinstance(value, np.ndarray) else int(value)


def sums_at(index: Any, values: Any, size: int, *, bound: int | None = None) -> Any:
    """The sum of ``values`` per group (``index`` names each value's group, ``0 <= index <
    size``), exactly.

    ``bound`` is the caller's upper bound on the magnitude of any group's sum (downtime in a
    month is at most the month times the largest loss); without it, the sum of every
    magnitude is the bound."""
    values = np.asarray(values)
    if bound is None:
        bound = top(values) * len(values)
    if fits(bound) and values.dtype != object:
        out = np.zeros(size, dtype=np.int64)
        np.add.at(out, index, values.astype(np.int64, copy=False))
        return out
    out = np.zeros(size, dtype=object)
    out[:] = 0
    np.add.at(out, index, values.astype(object))
    return out


def narrowed(values: Any) -> Any:
    """An ``object`` array of Python integers as ``int64`` when every value fits (so later
    steps take the fast paths again); any other array as it is."""
    if is_wide(values) and fits(top(values)):
        return values.astype(np.int64)
    return values
