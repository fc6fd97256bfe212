"""Timestamps: ISO 8601 fast, other unambiguous forms through python-dateutil, never a guess.

Inside slacalc an instant is an ``int`` of microseconds since the Unix epoch (UTC). Integers keep
the arithmetic exact and cheap; aware datetimes appear again only at the edges, for display.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slacalc.errors import UsageError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)
_EPOCH_ORDINAL = _EPOCH_NAIVE.toordinal()
US = timedelta(microseconds=1)
US_PER_SECOND = 1_000_000

_YEAR_FIRST = re.compile(r"^\s*\d{4}[/.\-]\d{1,2}[/.\-]\d{1,2}\b")

# Two different defaults reveal the fields dateutil had to invent ("May 2025" has no day).
_DEFAULT_A = datetime(2000, 1, 1)
_DEFAULT_B = datetime(2001, 2, 2)


def get_zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``, or a UsageError that says how to spell one."""
    try:
        return _zone(name.strip())
    except (ZoneInfoNotFoundError, ValueError, IsADirectoryError, OSError):
        raise UsageError(
            f"unknown time zone '{name}': use an IANA name such as Asia/Shanghai, UTC or "
            "Europe/Berlin"
        ) from None


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    if not name:
        raise ValueError(name)
    return ZoneInfo(name)


def parse_datetime(text: str, tz: tzinfo) -> datetime:
    """Read one timestamp; naive ones are local time in ``tz``. Raises ValueError with a reason.

    >>> parse_datetime("2025-05-14 07:57:01", ZoneInfo("Asia/Shanghai")).isoformat()
    '2025-05-14T07:57:01+08:00'
    """
    text = text.strip()
    if not text:
        raise ValueError("empty timestamp")
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        dt = _parse_other(text)
    if dt.tzinfo is None:
        return dt.replace(tzinfo=tz)
    return dt


def _parse_other(text: str) -> datetime:
    from dateutil import parser as du  # imported lazily: ISO input never needs it

    try:
        a = du.parse(text, default=_DEFAULT_A)
        b = du.parse(text, default=_DEFAULT_B)
    except (ValueError, OverflowError, du.ParserError):
        raise ValueError(
            "not a timestamp: expected ISO 8601 such as 2025-05-14T07:57:01+08:00"
        ) from None
    if a.date() != b.date():
        raise ValueError("incomplete date: a timestamp needs a year, a month and a day")
    if _YEAR_FIRST.match(text):
        return a  # 2025/03/04: year, month, day; no locale writes year, day, month
    try:
        day_first = du.parse(text, default=_DEFAULT_A, dayfirst=True)
        year_first = du.parse(text, default=_DEFAULT_A, yearfirst=True)
    except (ValueError, OverflowError, du.ParserError):
        day_first = year_first = a
    if day_first != a or year_first != a:
        raise ValueError(
            "ambiguous date: day and month could be read either way; use ISO 8601 (YYYY-MM-DD)"
        )
    return a


# Instants slacalc accepts: months around them must still be representable as datetimes.
MIN_US = (datetime(2, 1, 1, tzinfo=UTC) - EPOCH) // US
MAX_US = (datetime(9998, 12, 31, tzinfo=UTC) - EPOCH) // US


class InstantParser:
    """``parse_instant`` for many timestamps of one zone, with the zone's offset cached per day.

    A naive ISO timestamp costs one ``fromisoformat`` and one dictionary look-up: its day's UTC
    offset is computed once, unless the zone changes offset that day (a DST switch), where each
    timestamp goes through ``zoneinfo`` to get the gap and the fold right.
    """

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        self._offsets: dict[int, int | None] = {}

    def __call__(self, text: str) -> int:
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            us = parse_instant(text, self.tz)
        else:
            if dt.tzinfo is not None:
                us = (dt - EPOCH) // US
            else:
                day = dt.toordinal()
                offsets = self._offsets
                off = offsets.get(day, -1)
                if off == -1:
                    off = offsets[day] = self._day_offset(dt.date())
                if off is None:
                    us = (dt.replace(tzinfo=self.tz) - EPOCH) // US
                else:
                    us = (dt - _EPOCH_NAIVE) // US - off
        if not MIN_US <= us <= MAX_US:
            raise ValueError("out of the supported range (years 0002 to 9998)")
        return us

    def offset_on_day(self, days: int) -> int | None:
        """``_day_offset`` of the civil day ``days`` after 1970-01-01 (cached)."""
        ordinal = days + _EPOCH_ORDINAL
        offsets = self._offsets
        off = offsets.get(ordinal, -1)
        if off == -1:
            off = offsets[ordinal] = self._day_offset(date.fromordinal(ordinal))
        return off

    def _day_offset(self, day: date) -> int | None:
        """The zone's UTC offset on ``day`` in microseconds, or None if it changes that day."""
        midnight = datetime(day.year, day.month, day.day, tzinfo=self.tz)
        try:
            after = midnight + timedelta(days=1)
        except OverflowError:
            return None
        first, second = midnight.utcoffset(), after.utcoffset()
        if first != second or first is None:
            return None
        return first // US


def to_us(dt: datetime) -> int:
    """Microseconds since the epoch of an aware datetime."""
    return (dt - EPOCH) // US


def parse_instant(text: str, tz: tzinfo) -> int:
    """Read one timestamp straight to microseconds since the epoch (the hot path of ingestion)."""
    return to_us(parse_datetime(text, tz))


def from_us(us: int, tz: tzinfo) -> datetime:
    """The aware datetime in ``tz`` of an instant in microseconds since the epoch."""
    return (EPOCH + timedelta(microseconds=us)).astimezone(tz)


def local_midnight_us(day: date, tz: tzinfo) -> int:
    """The instant local midnight starts ``day`` in ``tz`` (fold=0 where midnight is repeated)."""
    return to_us(datetime(day.year, day.month, day.day, tzinfo=tz))


@lru_cache(maxsize=4096)
def format_instant(us: int, tz: tzinfo) -> str:
    """ISO 8601 with the zone's offset, to the second (or microsecond when it has them)."""
    dt = from_us(us, tz)
    return dt.isoformat(timespec="seconds" if dt.microsecond == 0 else "microseconds")


def format_local(us: int, tz: tzinfo) -> str:
    """``YYYY-MM-DD HH:MM:SS`` local time in ``tz``, for tables that name their zone."""
    dt = from_us(us, tz)
    return dt.strftime("%Y-%m-%d %H:%M:%S") + (f".{dt.microsecond:06d}" if dt.microsecond else "")
