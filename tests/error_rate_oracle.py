"""A slow, exact reference of request-based availability, written from docs/requests.md alone
(no slacalc code): every interval of every month is visited, one at a time, in ``Fraction``.

Rows come as the text a requests file holds; timestamps are read with
``datetime.fromisoformat`` (without an offset: local time in the billing zone, fold 0).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)


def instant(text: str, tz: ZoneInfo) -> int:
    dt = datetime.fromisoformat(text.strip())
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return (dt - EPOCH) // US


def month_bounds(year: int, month: int, tz: ZoneInfo) -> tuple[int, int]:
    nxt = (year + month // 12, month % 12 + 1)
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(nxt[0], nxt[1], 1, tzinfo=tz)
    return (start - EPOCH) // US, (end - EPOCH) // US


def oracle(
    rows: list[dict[str, str]],
    months: list[tuple[int, int]],
    tz: ZoneInfo,
    interval_seconds: int,
    empty_intervals: str = "no_errors",
) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Per (customer, service, "YYYY-MM") with a row in an interval of that month: the
    downtime equivalent (microseconds), the availability and the month's counts."""
    size = interval_seconds * 1_000_000
    by_key: dict[tuple[str, str], dict[int, list[int]]] = {}
    for row in rows:
        start = instant(row["start"], tz)
        end = instant(row["end"], tz)
        assert start // size == (end - 1) // size and end > start
        key = (row.get("customer_id", "").strip(), row.get("service", "").strip())
        counts = by_key.setdefault(key, {}).setdefault(start // size, [0, 0])
        counts[0] += int(row["total"])
        counts[1] += int(row["failed"])
    out = {}
    for key, intervals in by_key.items():
        for year, month in months:
            lo, hi = month_bounds(year, month, tz)
            touched = False
            weighted = Fraction(0)
            counted = 0
            n = partial = with_requests = with_errors = total = failed = 0
            i = lo // size
            while i * size < hi:  # every interval that overlaps the month
                a, b = i * size, (i + 1) * size
                w = min(b, hi) - max(a, lo)
                n += 1
                partial += w != size
                t, f = intervals.get(i, (0, 0))
                touched |= i in intervals
                if t or empty_intervals == "no_errors":
                    if f:  # an interval without failures (or requests) adds 0
                        weighted += Fraction(w * f, t)
                    counted += w
                with_requests += t > 0
                with_errors += f > 0
                total += t
                failed += f
                i += 1
            if not touched:
                continue
            period = hi - lo
            if empty_intervals == "no_errors":
                down = weighted
            else:
                down = weighted * period / counted if counted else Fraction(0)
            out[(*key, f"{year:04d}-{month:02d}")] = {
                "down": down,
                "availability": 1 - down / period,
                "intervals": n,
                "partial": partial,
                "with_requests": with_requests,
                "with_errors": with_errors,
                "total": total,
                "failed": failed,
            }
    return out
