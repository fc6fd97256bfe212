"""Request-based availability terms: a month's availability from the error rates of its
intervals, as Amazon S3 and Azure Storage define it, rather than from downtime.

A policy says ``measure = "error_rate"`` and the interval length (``interval_seconds``: S3's
five minutes are 300, Azure Storage's hour 3600). What an interval without requests counts is
``empty_intervals``: ``"no_errors"`` (the published terms of both: 0 % errors, so the interval
counts as fully available) or ``"not_counted"`` (left out of the mean). The rule itself is
computed in :mod:`slacalc.computing.error_rate`; docs/requests.md quotes the terms.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

DOWNTIME = "downtime"  # the default measure: availability from incident downtime
ERROR_RATE = "error_rate"
MEASURES = (DOWNTIME, ERROR_RATE)

NO_ERRORS = "no_errors"  # an interval without requests has a 0 % error rate (S3, Azure Storage)
NOT_COUNTED = "not_counted"  # an interval without requests is left out of the month's mean
EMPTY_RULES = (NO_ERRORS, NOT_COUNTED)

DAY_SECONDS = 86_400
MIN_INTERVAL_SECONDS = 60
DEFAULT_INTERVAL_SECONDS = 300  # Amazon S3's five-minute interval
# The policy keys of this module, for the policy reader's list of known keys.
KEYS = ("measure", "interval_seconds", "empty_intervals")
# The policy-domain row of interval_seconds (docs/input-domain.md's table).
INTERVAL_DOMAIN_TEXT = (
    f"a whole number from {MIN_INTERVAL_SECONDS} to {DAY_SECONDS} that divides a day "
    "(60, 300, 900, 3600, ...)"
)
INTERVAL_DOMAIN_ALSO = 'only with `measure = "error_rate"`; intervals start at 00:00 UTC'


@dataclass(frozen=True)
class ErrorRateMeasure:
    """Availability = 100 % minus the mean error rate of the month's intervals.

    Intervals are ``interval_seconds`` long and aligned to the Unix epoch (so to 00:00 UTC of
    every day); each one's error rate is failed / total of the request counts in it (0 when
    it has no requests and ``empty_intervals`` is ``no_errors``). An interval cut by a month
    edge counts in each month for the part of it inside that month.
    """

    interval_seconds: int = DEFAULT_INTERVAL_SECONDS
    empty_intervals: str = NO_ERRORS

    @property
    def interval_us(self) -> int:
        return self.interval_seconds * 1_000_000

    def text(self) -> str:
        """The rule in words, for ``tiers`` and ``explain``."""
        empty = (
            "an interval without requests counts 0 % errors"
            if self.empty_intervals == NO_ERRORS
            else "intervals without requests are left out of the mean"
        )
        return (
            f"availability = 100 % minus the mean error rate (failed / total requests) of the "
            f"month's {interval_words(self.interval_seconds)} intervals, aligned to 00:00 UTC; "
            f"{empty}"
        )


def interval_words(seconds: int) -> str:
    """``5-minute``, ``1-hour``, ``90-second``: an interval length as an adjective."""
    if seconds % 3600 == 0:
        return f"{seconds // 3600}-hour"
    if seconds % 60 == 0:
        return f"{seconds // 60}-minute"
    return f"{seconds}-second"


def parse_measure(
    data: Mapping[str, Any], bad: Callable[[str, str], None]
) -> ErrorRateMeasure | None:
    """The request-based measure a policy document states, or None for the downtime measure
    (or when something is wrong: each problem goes to ``bad(key, message)``).

    >>> parse_measure({"measure": "error_rate", "interval_seconds": 300}, print)
    ErrorRateMeasure(interval_seconds=300, empty_intervals='no_errors')
    >>> parse_measure({"measure": "error_rate", "interval_seconds": 420}, print)
    interval_seconds must divide a day (86400 s) into whole intervals (value 420)
    """
    raw = data.get("measure", DOWNTIME)
    measure = raw.strip().lower() if isinstance(raw, str) else None
    if measure not in MEASURES:
        bad("measure", f"expected one of {', '.join(repr(m) for m in MEASURES)} (value {raw!r})")
        return None
    if measure == DOWNTIME:
        for key in ("interval_seconds", "empty_intervals"):
            if key in data:
                bad(key, 'only a policy with measure = "error_rate" has one')
        return None
    seconds = _interval(data.get("interval_seconds", DEFAULT_INTERVAL_SECONDS), bad)
    empty_raw = data.get("empty_intervals", NO_ERRORS)
    empty = empty_raw.strip().lower() if isinstance(empty_raw, str) else None
    if empty not in EMPTY_RULES:
        bad(
            "empty_intervals",
            f"expected one of {', '.join(repr(e) for e in EMPTY_RULES)} (value {empty_raw!r})",
        )
    # Rules that shape downtime have no meaning for request counts: refused, never ignored.
    for key, unset in (
        ("service_hours", None),
        ("min_outage_seconds", 0),
        ("round_up_seconds", 0),
    ):
        if data.get(key, unset) != unset:
            bad(key, 'does not apply with measure = "error_rate" (request counts have no outages)')
    if data.get("availability_base", "period") != "period":
        bad(
            "availability_base",
            'must be "period" with measure = "error_rate" (requests exclude no time)',
        )
    if seconds is None or empty not in EMPTY_RULES:
        return None
    return ErrorRateMeasure(seconds, empty)


def _interval(value: Any, bad: Callable[[str, str], None]) -> int | None:
    key = "interval_seconds"
    if isinstance(value, bool) or not isinstance(value, int):
        bad(key, f"expected a whole number of seconds such as 300 (value {value!r})")
        return None
    if not MIN_INTERVAL_SECONDS <= value <= DAY_SECONDS:
        bad(key, f"must be between {MIN_INTERVAL_SECONDS} and {DAY_SECONDS} (value {value})")
        return None
    if DAY_SECONDS % value:
        bad(key, f"must divide a day ({DAY_SECONDS} s) into whole intervals (value {value})")
        return None
    return value
