"""Bulk text forms of times and durations: the same text as the one-value rules, a column at
a time (the one-value functions are the oracle)."""

from __future__ import annotations

import random
from fractions import Fraction
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from slacalc.dates.instants import format_local, local_texts
from slacalc.writing import times
from slacalc.writing.times import compact_clock, durations, short_duration


@pytest.mark.parametrize("den", [1, 3, 7, 1000, 1 << 20])
def test_durations_match_rules_duration(den: int) -> None:
    rng = random.Random(den)
    edges = [0, 1, 499, 500, 59_999_499, 59_999_500, 60_000_000, 3_600_000_000, 86_400_000_000]
    values = edges + [rng.randrange(0, 10**13) for _ in range(3000)]
    values += [rng.randrange(0, 10**8) for _ in range(1000)]
    got = durations(np.array(values, dtype=np.int64), den).to_pylist()
    assert got == [times.duration(Fraction(v, den)) for v in values]


def test_durations_of_huge_values_fall_back_to_the_rule() -> None:
    values = np.array([10**30, 5], dtype=object)
    assert durations(values).to_pylist() == [times.duration(10**30), times.duration(5)]


@pytest.mark.parametrize(
    "zone",
    ["Asia/Shanghai", "America/New_York", "Australia/Lord_Howe", "Pacific/Chatham", "UTC"],
)
def test_local_texts_match_format_local(zone: str) -> None:
    tz = ZoneInfo(zone)
    rng = random.Random(zone)
    spread = [rng.randrange(-2208988800 * 10**6, 7258118400 * 10**6) for _ in range(3000)]
    dst = [rng.randrange(1741500000, 1741700000) * 10**6 for _ in range(3000)]  # a DST change
    micro = [v + rng.randrange(1, 10**6) for v in dst[:200]]
    values = np.array(spread + dst + micro, dtype=np.int64)
    assert local_texts(values, tz).to_pylist() == [format_local(int(v), tz) for v in values]


def test_compact_forms() -> None:
    assert short_duration("1d 9h 0m 0s") == "1d 9h"
    assert short_duration("20m 0s") == "20m"
    assert short_duration("1h 0m 5s") == "1h 0m 5s"
    assert short_duration("0s") == "0s"
    compact, year = compact_clock(["2025-06-04 00:00:00", "", "2025-07-04 00:00:00"])
    assert year == "2025" and compact("2025-06-04 00:00:00") == "06-04 00:00"
    assert compact("") == ""
    compact, year = compact_clock(["2025-12-31 23:59:59", "2026-01-01 00:00:00"])
    assert year == "" and compact("2025-12-31 23:59:59") == "2025-12-31 23:59:59"
