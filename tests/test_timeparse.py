"""Timestamps: ISO 8601 with or without offset, unambiguous other forms, never a guess."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slacalc.dates.instants import (
    format_instant,
    from_us,
    get_zone,
    local_midnight_us,
    parse_datetime,
    parse_instant,
    parse_instants,
    to_us,
)
from slacalc.errors import UsageError

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")

# 2025-05-13T23:57:01Z, by hand: 2025-01-01 is day 55*365 + 14 leap days = 20089 since
# 1970-01-01, 2025-05-14 is 20089 + 31 + 28 + 31 + 30 + 13 = 20222, and 23:57:01 is 179 s
# before its midnight.
MAY_14_0757_SH_US = (20222 * 86400 - 179) * 1_000_000


def iso(dt: datetime) -> str:
    return dt.isoformat()


# --- the forms the spec names ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-05-14T07:57:01+08:00", "2025-05-14T07:57:01+08:00"),
        ("2025-05-14 07:57:01", "2025-05-14T07:57:01+08:00"),  # naive = billing zone
        ("2025-05-14T07:57Z", "2025-05-14T07:57:00+00:00"),
        ("  2025-05-14T07:57:01+08:00  ", "2025-05-14T07:57:01+08:00"),
        ("2025-05-14", "2025-05-14T00:00:00+08:00"),
        ("2025-05-14T07:57:01.250000+08:00", "2025-05-14T07:57:01.250000+08:00"),
        ("2025-05-14 07:57:01 +0800", "2025-05-14T07:57:01+08:00"),
        ("14 May 2025 07:57", "2025-05-14T07:57:00+08:00"),
        ("May 14, 2025 7:57 PM", "2025-05-14T19:57:00+08:00"),
        ("Wed, 14 May 2025 07:57:01 GMT", "2025-05-14T07:57:01+00:00"),
        ("13/04/2025", "2025-04-13T00:00:00+08:00"),  # 13 cannot be a month
        ("12/31/2025", "2025-12-31T00:00:00+08:00"),  # 31 cannot be a month
    ],
)
def test_parse_datetime_accepts(text: str, expected: str) -> None:
    assert iso(parse_datetime(text, SH)) == expected


def test_naive_timestamp_is_local_in_the_given_zone() -> None:
    assert iso(parse_datetime("2025-07-04 12:00", NY)) == "2025-07-04T12:00:00-04:00"
    assert iso(parse_datetime("2025-01-04 12:00", NY)) == "2025-01-04T12:00:00-05:00"


def test_an_explicit_offset_wins_over_the_zone() -> None:
    assert parse_instant("2025-05-14T07:57:01+08:00", NY) == parse_instant(
        "2025-05-13T23:57:01Z", SH
    )


@pytest.mark.parametrize(
    "text",
    ["03/04/2025", "04-03-25", "03.04.2025 10:00"],
)
def test_ambiguous_day_month_order_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="ambiguous date"):
        parse_datetime(text, SH)


@pytest.mark.parametrize("text", ["2025/03/04", "2025/3/4 10:00"])
def test_year_first_slashes_are_not_ambiguous(text: str) -> None:
    assert parse_datetime(text, SH).date() == date(2025, 3, 4)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty timestamp"),
        ("   ", "empty timestamp"),
        ("yesterday", "not a timestamp"),
        ("2025-13-01", "not a timestamp"),
        ("1747180621", "not a timestamp"),
        ("May 2025", "incomplete date"),
    ],
)
def test_parse_datetime_refuses(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_datetime(text, SH)


# --- instants ----------------------------------------------------------------------------------


def test_parse_instant_is_microseconds_since_the_epoch() -> None:
    assert parse_instant("1970-01-01T00:00:00Z", SH) == 0
    assert parse_instant("1970-01-01T08:00:00", SH) == 0
    assert parse_instant("1970-01-01T00:00:01.000001Z", SH) == 1_000_001
    assert parse_instant("2025-05-14T07:57:01+08:00", SH) == MAY_14_0757_SH_US


def test_to_us_from_us_round_trip() -> None:
    dt = datetime(2025, 3, 9, 7, 30, 0, 5, tzinfo=UTC)
    assert from_us(to_us(dt), NY).isoformat() == "2025-03-09T03:30:00.000005-04:00"


def test_format_instant_seconds_unless_fraction() -> None:
    assert format_instant(0, SH) == "1970-01-01T08:00:00+08:00"
    assert format_instant(1_500_000, UTC) == "1970-01-01T00:00:01.500000+00:00"


def test_local_midnight_across_dst() -> None:
    # 2025-03-09 in New York starts at 05:00Z (EST), 2025-03-10 at 04:00Z (EDT): a 23-hour day.
    a = local_midnight_us(date(2025, 3, 9), NY)
    b = local_midnight_us(date(2025, 3, 10), NY)
    assert a == parse_instant("2025-03-09T05:00:00Z", SH)
    assert b - a == 23 * 3600 * 1_000_000


# --- zones -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Asia/Shanghai", " Asia/Shanghai ", "UTC", "Europe/Berlin"])
def test_get_zone(name: str) -> None:
    assert get_zone(name).key == name.strip()


@pytest.mark.parametrize("name", ["", "Mars/Base", "Asia", "../etc/passwd", "/etc/localtime"])
def test_get_zone_unknown_is_a_usage_error(name: str) -> None:
    with pytest.raises(UsageError) as info:
        get_zone(name)
    assert str(info.value) == (
        f"unknown time zone '{name}': use an IANA name such as Asia/Shanghai, UTC or Europe/Berlin"
    )


# --- the cached per-day offsets give what zoneinfo gives ----------------------------------------

DST_ZONES = [
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",  # 30-minute shifts
    "America/Santiago",  # shifts at midnight
    "America/Havana",  # shifts at midnight
    "Asia/Shanghai",
]


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(DST_ZONES),
    whens=st.lists(
        st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 31)),
        min_size=1,
        max_size=5,
    ),
    offset=st.sampled_from(["", "Z", "+08:00", "-03:30"]),
    sep=st.sampled_from([" ", "T"]),
)
def test_bulk_parse_agrees_with_zoneinfo(
    zone: str, whens: list[datetime], offset: str, sep: str
) -> None:
    tz = ZoneInfo(zone)
    texts = [w.isoformat(sep=sep) + offset for w in whens]
    expected = []
    for text in texts:
        parsed = datetime.fromisoformat(text)
        expected.append(to_us(parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)))
    # Padded with a day far away, so the column spans more than one day's offset.
    column = pa.array(["2024-06-01 12:00", *texts])
    us, empty, errors = parse_instants(column, tz)
    assert not errors and not empty.any()
    assert us[1:].tolist() == expected
    assert [parse_instant(t, tz) for t in texts] == expected


def test_bulk_parse_in_a_dst_gap_and_fold() -> None:
    column = pa.array(["2025-03-09 02:30", "2025-11-02 01:30", "2025-03-09 12:00"] * 30)
    us, _, errors = parse_instants(column, NY)
    # 02:30 does not exist on 2025-03-09: read with the offset before the change (EST), as
    # zoneinfo does for fold=0; 01:30 on 2025-11-02 happens twice: the first (EDT) is taken.
    assert not errors
    assert us[:3].tolist() == [
        parse_instant("2025-03-09T07:30:00Z", SH),
        parse_instant("2025-11-02T05:30:00Z", SH),
        parse_instant("2025-03-09T16:00:00Z", SH),
    ]


def test_bulk_parse_mixes_forms_and_reports_bad_cells_by_index() -> None:
    texts = [
        "2025-05-14 07:57:01",
        "2025-05-14T07:57:01+08:00",
        "",
        None,
        "14 May 2025 07:57",
        "2025-02-30 10:00",
        "yesterday",
    ] * 20
    us, empty, errors = parse_instants(pa.array(texts), SH)
    assert us[0] == us[1] == MAY_14_0757_SH_US
    assert us[4] == parse_instant("14 May 2025 07:57", SH)
    assert empty.tolist()[:4] == [False, False, True, True]
    assert errors[5].startswith("not a timestamp") and errors[6].startswith("not a timestamp")
    assert sorted(errors) == [i + k for i in range(0, 140, 7) for k in (5, 6)]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2025-06-30 20:00:00 EST", "time zone name 'EST' cannot be resolved exactly"),
        ("2025-06-30 20:00 CST", "time zone name 'CST' cannot be resolved exactly"),
        ("2025-06-30 20:00:00 GMT+8", "read with opposite signs"),
        ("2025-06-30 20:00:00 UTC+8", "read with opposite signs"),
        ("2025-06-30T20:00:00+25:00", "UTC offset is out of range"),
        ("2025-06-30 20:00:00 -30:00", "UTC offset is out of range"),
        ("9999-12-31T23:59:59Z", "out of the supported range (years 1900 to 2199)"),
        ("0001-01-01", "out of the supported range"),
    ],
)
def test_zone_names_and_absurd_offsets_are_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_datetime(text, SH)
    assert reason in str(info.value)


@pytest.mark.parametrize(
    "text", ["2025-06-30 20:00:00 UTC", "June 30 2025 8pm GMT", "2025-06-30 20:00:00 Z"]
)
def test_utc_names_are_exact(text: str) -> None:
    assert parse_datetime(text, SH).utcoffset().total_seconds() == 0


@pytest.mark.parametrize(
    "text", ["2025-06-01 10:00+08:60", "2025-06-01T10:00:00+0860", "2025-06-01 10:00 -05:75"]
)
def test_offset_minutes_of_60_or_more_are_refused_not_carried(text: str) -> None:
    with pytest.raises(ValueError, match="minutes must be below 60"):
        parse_datetime(text, SH)


@settings(max_examples=300, deadline=None)
@given(
    cells=st.lists(
        st.one_of(
            st.none(),
            st.sampled_from(["", " ", "2025-05-14 07:57:01", "2025-05-14T07:57:01+08:00", "x"]),
        ),
        max_size=40,
    ),
    cut=st.integers(0, 5),
    large=st.booleans(),
    masked=st.booleans(),
)
def test_bulk_parse_is_the_same_through_any_layout_of_the_column(
    cells: list[str | None], cut: int, large: bool, masked: bool
) -> None:
    """Empty and null cells are found from the offsets when the column allows, else by
    pyarrow's kernels: a sliced, large-string or null-bearing column (``masked``: a null
    whose slot still holds a timestamp's bytes) reads as its cells read one by one."""
    column = pa.array(["2025-01-01 00:00", *cells], pa.large_string() if large else pa.string())
    if masked:  # the first cell null, its text left in place
        bits = np.packbits([i > 0 for i in range(len(column))], bitorder="little")
        _, *rest = column.buffers()
        column = pa.Array.from_buffers(column.type, len(column), [pa.py_buffer(bits), *rest])
    column = column.slice(min(cut, len(column)))
    expected = column.to_pylist()
    us, empty, errors = parse_instants(column, SH)
    for i, text in enumerate(expected):
        if text is None or not text.strip():
            assert empty[i] and us[i] == 0 and i not in errors
        elif text == "x":
            assert errors[i].startswith("not a timestamp")
        else:
            assert not empty[i] and us[i] == parse_instant(text, SH)
