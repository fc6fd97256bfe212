"""Instants: timestamps read exactly, one at a time or a column at a time, never a guess.

Inside slacalc an instant is an ``int`` of microseconds since the Unix epoch (UTC): integers keep
the arithmetic exact and cheap, and a column of them is one numpy ``int64`` array. Aware
datetimes appear again only at the edges, for display.

The rule of what a timestamp means lives in :func:`parse_datetime`: ISO 8601 through
``datetime.fromisoformat``, other unambiguous forms through python-dateutil, naive times in the
billing zone with PEP 495 ``fold=0`` (the first of a repeated hour; a time in a DST gap is read
with the offset before the gap). :func:`parse_instants` reads a whole column with pyarrow's
ISO 8601 kernel and gives exactly the same instants; every cell pyarrow does not take goes
through :func:`parse_datetime`.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slacalc.errors import UsageError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)
US_PER_SECOND = 1_000_000
US_PER_DAY = 86_400 * US_PER_SECOND

# The years slacalc reads and reports. Billing never needs more, and a bound keeps every
# month grid, calendar and deadline small: `--as-of 9999-12-31` is refused, not computed.
FIRST_YEAR, LAST_YEAR = 1900, 2199
# A day inside each end, so that the local month of any instant, in any zone, can be built.
MIN_US = (datetime(FIRST_YEAR, 1, 2, tzinfo=UTC) - EPOCH) // US
MAX_US = (datetime(LAST_YEAR, 12, 31, tzinfo=UTC) - EPOCH) // US
RANGE_MESSAGE = f"out of the supported range (years {FIRST_YEAR} to {LAST_YEAR})"
# "No instant" in an int64 column of instants: every instant slacalc reads is far above it (an
# instant before 1970 is negative, so -1 cannot mean none).
NO_INSTANT = -(1 << 63)

_YEAR_FIRST = re.compile(r"^\s*\d{4}[/.\-]\d{1,2}[/.\-]\d{1,2}\b")
# "GMT+8" means UTC+8 to people and UTC-8 to POSIX (and to dateutil): refuse to pick one.
_SIGNED_ZONE_NAME = re.compile(r"(?i)\b(?:GMT|UTC|UT)\s*[+-]\s*\d")
_UTC_NAMES = frozenset({"UTC", "GMT", "UT", "Z"})

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
    if len(text) > 64:
        raise ValueError("not a timestamp: too long (at most 64 characters)")
    if re.search(r"\d:\d\d(?::\d\d(?:\.\d+)?)?\s*[+-]\d\d:?[6-9]\d\s*$", text):
        raise ValueError("the UTC offset's minutes must be below 60 (+08:60 is not +09:00)")
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        dt = _parse_other(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    elif dt.utcoffset() is not None and abs(dt.utcoffset()) >= timedelta(hours=24):
        raise ValueError("the UTC offset is out of range (at most ±23:59)")
    us = (dt - EPOCH) // US
    if not MIN_US <= us <= MAX_US:
        raise ValueError(RANGE_MESSAGE)
    return dt


def _parse_other(text: str) -> datetime:
    from dateutil import parser as du  # imported lazily: ISO input never needs it

    signed = _SIGNED_ZONE_NAME.search(text)
    if signed:
        raise ValueError(
            f"'{signed.group(0)}...' is read with opposite signs by different tools (POSIX "
            "takes GMT+8 as UTC-8): write the offset as +08:00 or -08:00"
        )
    if re.search(r"\d:\d\d(?::\d\d(?:\.\d+)?)?\s*[+-](?:2[4-9]|[3-9]\d)(?::?\d\d)?\s*$", text):
        raise ValueError("the UTC offset is out of range (at most ±23:59)")
    try:
        a = du.parse(text, default=_DEFAULT_A, tzinfos=_exact_zone)
        b = du.parse(text, default=_DEFAULT_B, tzinfos=_exact_zone)
    except _ZoneError as exc:
        raise ValueError(str(exc)) from None
    except (ValueError, OverflowError, du.ParserError):
        raise ValueError(
            "not a timestamp: expected ISO 8601 such as 2025-05-14T07:57:01+08:00"
        ) from None
    if a.date() != b.date():
        raise ValueError("incomplete date: a timestamp needs a year, a month and a day")
    if _YEAR_FIRST.match(text):
        return a  # 2025/03/04: year, month, day; no locale writes year, day, month
    try:
        day_first = du.parse(text, default=_DEFAULT_A, dayfirst=True, tzinfos=_exact_zone)
        year_first = du.parse(text, default=_DEFAULT_A, yearfirst=True, tzinfos=_exact_zone)
    except (ValueError, OverflowError, du.ParserError):
        day_first = year_first = a
    if day_first != a or year_first != a:
        raise ValueError(
            "ambiguous date: day and month could be read either way; use ISO 8601 (YYYY-MM-DD)"
        )
    return a


class _ZoneError(ValueError):
    """A zone in a timestamp that cannot be resolved exactly."""


def _exact_zone(name: str | None, offset: int | None) -> tzinfo | None:
    """dateutil's zone hook: only UTC names and numeric offsets resolve; other names refuse.

    Without it dateutil reads ``EST`` as local time with a warning, and a zone name equal to the
    machine's own (``CST`` on a Shanghai host) as that machine's zone.
    """
    if name is not None and name.upper() not in _UTC_NAMES:
        raise _ZoneError(
            f"time zone name '{name}' cannot be resolved exactly (abbreviations are ambiguous: "
            "CST is China, US Central or Cuba): write the offset, such as +08:00 or Z"
        )
    if offset is None or offset == 0:
        return UTC if name is not None or offset == 0 else None
    if abs(offset) >= 86_400:
        raise _ZoneError("the UTC offset is out of range (at most ±23:59)")
    return timezone(timedelta(seconds=offset))


def to_us(dt: datetime) -> int:
    """Microseconds since the epoch of an aware datetime."""
    return (dt - EPOCH) // US


def parse_instant(text: str, tz: tzinfo) -> int:
    """Read one timestamp straight to microseconds since the epoch."""
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


_US_PER_HOUR = 3600 * US_PER_SECOND


def format_local(us: int, tz: tzinfo) -> str:
    """``YYYY-MM-DD HH:MM:SS`` local time in ``tz``, for tables that name their zone."""
    dt = from_us(us, tz)
    return dt.strftime("%Y-%m-%d %H:%M:%S") + (f".{dt.microsecond:06d}" if dt.microsecond else "")


# --- a column at a time ----------------------------------------------------------------------


def local_texts(instants: Any, tz: tzinfo) -> Any:
    """``YYYY-MM-DD HH:MM:SS`` (with microseconds when an instant has them), local in ``tz``:
    :func:`format_local` of every instant, a column at a time, as a
    pyarrow string array.

    The zone's offset is looked up once per distinct day (both ends of it; a day with an
    offset change hour by hour, and an hour with one through ``format_local``), added, and
    pyarrow writes the local clock readings.
    """
    import numpy as np
    import pyarrow as pa

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
    import numpy as np

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


def parse_instants(texts: Any, tz: tzinfo) -> tuple[Any, Any, dict[int, str]]:
    """Read a pyarrow string array of timestamps: ``(instants, empty, errors)``.

    ``instants`` is an ``int64`` numpy array of epoch microseconds (0 where a cell is empty or
    bad), ``empty`` a boolean array of the empty (or null) cells, and ``errors`` maps the
    index of each bad cell to the reason :func:`parse_datetime` gives. The instants are exactly
    those of :func:`parse_instant`: pyarrow parses the plain ISO 8601 forms (naive ones placed
    in ``tz`` with fold=0), and every other cell goes through :func:`parse_instant` itself.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    texts = texts.combine_chunks() if isinstance(texts, pa.ChunkedArray) else texts
    n = len(texts)
    empty, texts = _empties(np, pa, pc, texts)
    out = np.zeros(n, dtype=np.int64)
    errors: dict[int, str] = {}
    for lo in range(0, n, _BLOCK):
        block = texts.slice(lo, _BLOCK)
        us, rest = _parse_block(np, pa, pc, block, tz)
        out[lo : lo + len(block)] = us
        for i in rest.tolist():  # cells pyarrow did not take: one by one, the exact rule
            text = block[i].as_py()
            if not text.strip():
                empty[lo + i] = True  # only white space: as empty as an empty cell
                continue
            try:
                out[lo + i] = parse_instant(text, tz)
            except (ValueError, OverflowError) as exc:
                errors[lo + i] = str(exc)
    return out, empty, errors


def _empties(np: Any, pa: Any, pc: Any, texts: Any) -> tuple[Any, Any]:
    """Which cells of a string array are empty (or null), and the array with those cells null:
    from its offsets and a validity bitmap of its own where its layout allows (no copy of the
    text), else by pyarrow's kernels."""
    buffers = texts.buffers()
    if texts.type == pa.string() and texts.offset == 0 and len(buffers) == 3 and len(texts):
        offsets = np.frombuffer(buffers[1], dtype=np.int32, count=len(texts) + 1)
        empty = offsets[1:] == offsets[:-1]
        if texts.null_count:
            empty |= ~texts.is_valid().to_numpy(zero_copy_only=False)
        if not empty.any():
            return empty, texts
        valid = pa.py_buffer(np.packbits(~empty, bitorder="little"))
        return empty, pa.Array.from_buffers(texts.type, len(texts), [valid, *buffers[1:]])
    empty = np.array(pc.fill_null(pc.equal(pc.binary_length(texts), 0), True))
    if empty.any():
        texts = pc.if_else(pa.array(empty), pa.scalar(None, pa.string()), texts)
    return empty, texts


_BLOCK = 1 << 18  # cells parsed together: a bad cell sends only its block to the slow path


def _parse_block(np: Any, pa: Any, pc: Any, block: Any, tz: tzinfo) -> tuple[Any, Any]:
    """Instants of the cells pyarrow parses, and the indices of the other non-empty cells."""
    n = len(block)
    valid = np.asarray(block.is_valid())
    zero = np.zeros(n, dtype=np.int64)
    if not valid.any():
        return zero, np.zeros(0, dtype=np.int64)
    naive = _try_cast(pa, pc, block, pa.timestamp("us"))
    if naive is not None:
        # empty cells take a time of the block (not 1970), so the days spanned stay few
        local = np.asarray(naive.fill_null(pc.min(naive)).cast(pa.int64()))
        us = localize(local, tz)
        return _in_range(np, us, valid)
    aware = _try_cast(pa, pc, block, pa.timestamp("us", "UTC"))
    if aware is not None:
        return _in_range(np, np.asarray(aware.fill_null(0).cast(pa.int64())), valid)
    if n > 64:  # a mix of forms, or a bad cell: halve, so good cells stay on the fast path
        half = n // 2
        a_us, a_rest = _parse_block(np, pa, pc, block.slice(0, half), tz)
        b_us, b_rest = _parse_block(np, pa, pc, block.slice(half), tz)
        return np.concatenate([a_us, b_us]), np.concatenate([a_rest, b_rest + half])
    return zero, np.flatnonzero(valid)


def _in_range(np: Any, us: Any, valid: Any) -> tuple[Any, Any]:
    """Cells outside the supported years go to the slow path, which names the problem."""
    outside = valid & ((us < MIN_US) | (us > MAX_US))
    return np.where(valid & ~outside, us, 0), np.flatnonzero(outside)


def _try_cast(pa: Any, pc: Any, block: Any, kind: Any) -> Any:
    try:
        return pc.cast(block, kind)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def localize(local: Any, tz: tzinfo) -> Any:
    """UTC instants of naive local times (``int64`` microseconds of wall clock), fold=0.

    The zone's offset is looked up once per distinct day; on a day when the offset changes
    (a DST switch) each time goes through ``zoneinfo``, which applies PEP 495: the first of a
    repeated hour, and the offset before a gap for a time the clock skips.
    """
    import numpy as np

    if len(local) == 0:
        return local.copy()
    days = local // US_PER_DAY
    first, last = int(days.min()), int(days.max())
    if last - first < 4096:  # the usual case: a dense table of the days spanned
        table = np.array([_day_offset(d, tz) for d in range(first, last + 1)], dtype=np.int64)
        offsets = table[days - first]
    else:
        unique, inverse = np.unique(days, return_inverse=True)
        offsets = np.array([_day_offset(int(d), tz) for d in unique], dtype=np.int64)[inverse]
    switch = offsets == _SWITCH
    out = local - offsets
    for i in np.flatnonzero(switch).tolist():
        wall = datetime(1970, 1, 1) + timedelta(microseconds=int(local[i]))
        out[i] = to_us(wall.replace(tzinfo=tz))
    return out


_SWITCH = -(1 << 62)  # a day whose offset changes: each time of it goes through zoneinfo


@lru_cache(maxsize=1 << 16)
def _day_offset(day: int, tz: tzinfo) -> int:
    """The zone's UTC offset in microseconds throughout local day ``day``, or ``_SWITCH``."""
    try:
        d = date(1970, 1, 1) + timedelta(days=day)
        midnight = datetime(d.year, d.month, d.day, tzinfo=tz)
        after = midnight + timedelta(days=1)
    except (OverflowError, ValueError):
        return _SWITCH
    first, second = midnight.utcoffset(), after.utcoffset()
    if first is None or first != second:
        return _SWITCH
    return first // US
