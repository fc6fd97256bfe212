"""The availability engine: overlaps once, largest impact, exclusions, month split, DST months.

Every expected number below is worked out by hand in the comment next to it.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slacalc.computing.engine import cell_totals
from slacalc.computing.report import compute_report
from slacalc.dates.instants import get_zone, parse_instant
from slacalc.dates.months import Month, MonthGrid
from slacalc.model.settings import Settings
from slacalc.reading import read_incidents
from slacalc.terms.policy import load_policy
from tests.logs import write_log

FIXTURES = Path(__file__).parent / "fixtures"
HEADER = "incident_id,customer_id,service,category,start,end,impact\n"


# Every case runs through every reader: the same log as CSV (row by row and in bulk), JSON
# Lines and Parquet must give the same numbers.
pytestmark = pytest.mark.usefixtures("log_format")
FORMAT = {"value": "csv-rows"}


@pytest.fixture(autouse=True)
def _format(log_format: str) -> None:
    FORMAT["value"] = log_format


def rows(
    source: str | Path,
    *,
    tmp_path: Path | None = None,
    tz: str = "Asia/Shanghai",
    as_of: str = "2030-01-01T00:00:00Z",
    months: list[str] | None = None,
) -> dict[tuple[str, str, str], dict[str, Any]]:
    """The report rows of an incident log (a fixture path or CSV text), keyed by key and month."""
    text = source.read_text(encoding="utf-8") if isinstance(source, Path) else HEADER + source
    folder = tmp_path or Path(__import__("tempfile").mkdtemp())
    path = write_log(folder, text, FORMAT["value"])
    zone = get_zone(tz)
    table = read_incidents([str(path)], zone)
    settings = Settings(
        policy=load_policy("standard"),
        tz=zone,
        as_of=parse_instant(as_of, zone),
        monthly_fee=Decimal(1000),
    )
    report = compute_report(
        table, settings, months=[Month.parse(m) for m in months] if months else None
    )
    return {(r.customer_id, r.service, str(r.month)): r.to_dict() for r in report.rows}


def cells(text: str, *, as_of: str = "2030-01-01T00:00:00Z") -> list[tuple]:
    """The engine's (month, downtime, excluded, count) cells of one key's log in May 2025."""
    folder = Path(__import__("tempfile").mkdtemp())
    zone = get_zone("UTC")
    table = read_incidents([str(write_log(folder, HEADER + text, FORMAT["value"]))], zone)
    grid = MonthGrid(Month(2025, 5), Month(2025, 5), zone)
    u = cell_totals(table, grid.edges, parse_instant(as_of, zone))
    return [(m, d, x, n) for m, (d, x, n) in u.of_key(0).items()]


def pick(row: dict[str, Any], *fields: str) -> tuple[Any, ...]:
    return tuple(row[f] for f in fields)


# --- the engine on its own: seconds after 2025-05-01 00:00 UTC ------------------------------

T = "2025-05-01 00:00:"


@pytest.mark.parametrize(
    ("log", "downtime"),
    [
        ("a,k,s,outage,{T}00,{T}10,\n", 10),
        ("a,k,s,outage,{T}05,{T}15,\nb,k,s,outage,{T}00,{T}10,\n", 15),  # overlap, unsorted
        (
            "a,k,s,outage,{T}00,{T}50,\nb,k,s,outage,{T}10,{T}20,\nc,k,s,outage,{T}30,{T}40,\n",
            50,
        ),  # nested, then another inside: a running max, not the previous end
        ("a,k,s,outage,{T}00,{T}05,\nb,k,s,outage,{T}05,{T}10,\n", 10),  # touching
        ("a,k,s,outage,{T}00,{T}05,\nb,k,s,outage,{T}06,{T}10,\n", 9),  # a gap of one
        ("a,k,s,outage,{T}00,{T}05,\nb,k,s,outage,{T}00,{T}05,\n", 5),  # duplicates
    ],
)
def test_overlaps_count_once(log: str, downtime: int) -> None:
    ((month, down, excluded, _),) = cells(log.replace("{T}", T))
    assert (month, down, excluded) == (0, downtime * 1_000_000, 0)


def test_the_largest_impact_wins() -> None:
    # 1 on 0-10 s, 0.5 on 5-15 s: 10 s x 1 + 5 s x 0.5 = 12.5 s
    log = f"a,k,s,outage,{T}00,{T}10,1\nb,k,s,outage,{T}05,{T}15,0.5\n"
    assert cells(log)[0][1] == Fraction(25, 2) * 1_000_000
    # 0.5 on 0-20 s with 0.1 inside it on 5-10 s: 20 s x 0.5 = 10 s
    log = f"a,k,s,outage,{T}00,{T}20,0.5\nb,k,s,outage,{T}05,{T}10,0.1\n"
    assert cells(log)[0][1] == 10 * 1_000_000


def test_exclusions_cut_the_loss() -> None:
    # 1 on 0-10, 0.5 on 5-15, excluded 3-7: 0-3 x 1 + 7-10 x 1 + 10-15 x 0.5 = 8.5 s
    log = (
        f"a,k,s,outage,{T}00,{T}10,1\nb,k,s,outage,{T}05,{T}15,50%\n"
        f"m,k,s,maintenance,{T}03,{T}07,\n"
    )
    assert cells(log)[0][1:] == (Fraction(17, 2) * 1_000_000, 4_000_000, 2)
    # an outage wholly inside an exclusion counts nothing, and is still an incident row
    log = f"a,k,s,outage,{T}02,{T}08,\nx,k,s,excluded,{T}00,{T}10,\n"
    assert cells(log)[0][1:] == (0, 10_000_000, 1)


# --- overlaps are counted once -----------------------------------------------------------------


def test_overlapping_fixture() -> None:
    got = rows(FIXTURES / "overlapping.csv")
    fields = ("downtime_seconds", "incident_count")
    # nested: N1 10:00-11:00 contains N2 10:10-10:20 -> 3600 s
    assert pick(got["nested", "svc", "2025-05"], *fields) == (3600, 2)
    # chain: 10:00-10:15, 10:10-10:30, 10:20-10:40 -> one window 10:00-10:40 = 2400 s
    assert pick(got["chain", "svc", "2025-05"], *fields) == (2400, 3)
    # touching: 10:00-10:05 and 10:05-10:10 -> 600 s
    assert pick(got["touch", "svc", "2025-05"], *fields) == (600, 2)
    # partial: 0.3 on 10:00-11:00, 0.5 on 10:15-10:45, 1 (data loss) on 10:20-10:25,
    # 0.1 on 10:30-10:40; the largest active impact counts:
    #   10:00-10:15 0.3 * 900 = 270      10:15-10:20 0.5 * 300 = 150
    #   10:20-10:25 1.0 * 300 = 300      10:25-10:45 0.5 * 1200 = 600
    #   10:45-11:00 0.3 * 900 = 270      total 1590 s
    assert pick(got["partial", "svc", "2025-05"], *fields) == (1590, 4)


def test_sample_overlap_acme_compute() -> None:
    # INC-1001 02:14:00-02:31:30 and INC-1002 02:25:00-02:48:10 -> 02:14:00-02:48:10 = 2050 s
    got = rows(Path(__file__).parent.parent / "samples" / "incidents.csv", months=["2025-05"])
    assert pick(got["acme", "compute", "2025-05"], "downtime_seconds", "incident_count") == (
        2050,
        2,
    )


def test_partial_impact_with_fractional_seconds(tmp_path: Path) -> None:
    # 0.3 * 779 s (07:57:01-08:10:00) + 1 * 240 s + 0.3 * 4560 s (08:14-09:30) = 1841.7 s
    got = rows(
        "a,g,db,outage,2025-05-14T07:57:01+08:00,2025-05-14T09:30:00+08:00,30%\n"
        "b,g,db,outage,2025-05-14T08:10:00+08:00,2025-05-14T08:14:00+08:00,100%\n",
        tmp_path=tmp_path,
    )
    assert got["g", "db", "2025-05"]["downtime_seconds"] == Decimal("1841.7")


def test_a_third_of_a_second_rounds_to_three_decimals(tmp_path: Path) -> None:
    # 1 s at impact 1/3 = 0.333... s -> shown 0.333
    got = rows(
        "a,k,s,outage,2025-05-01 00:00:00,2025-05-01 00:00:01,0.3333333333\n", tmp_path=tmp_path
    )
    assert got["k", "s", "2025-05"]["downtime_seconds"] == Decimal("0.333")


# --- maintenance and exclusions ---------------------------------------------------------------


def test_maintenance_and_excluded_windows() -> None:
    got = rows(FIXTURES / "maintenance_overlap.csv")
    row = got["acme", "db", "2025-05"]
    # O1 10:00-12:00 minus M1 10:30-11:00 and X1 11:30-13:00: 10:00-10:30 + 11:00-11:30 = 3600 s
    # O2 09:00-09:30 lies inside M2 08:00-10:00: 0 s
    # excluded: union of M1, X1, X2 on 05-10 = 10:30-11:00 + 11:30-13:30 = 9000 s,
    #           plus M2 on 05-11 = 7200 s -> 16200 s
    # incident_count: O1 and O2 (an outage hidden by maintenance is still a row)
    assert pick(row, "downtime_seconds", "excluded_seconds", "incident_count") == (3600, 16200, 2)
    # 1 - 3600 / 2678400 = 0.998655913... -> 99.8655
    assert row["availability_pct"] == "99.8655"


def test_maintenance_only_month_has_no_downtime(tmp_path: Path) -> None:
    got = rows("m,acme,db,maintenance,2025-05-10 01:00,2025-05-10 03:00,\n", tmp_path=tmp_path)
    assert pick(
        got["acme", "db", "2025-05"],
        "downtime_seconds",
        "excluded_seconds",
        "incident_count",
        "availability_pct",
    ) == (0, 7200, 0, "100.0000")


def test_exclusion_split_across_months(tmp_path: Path) -> None:
    got = rows("m,a,s,excluded,2025-05-31 23:00,2025-06-01 01:30,\n", tmp_path=tmp_path)
    assert got["a", "s", "2025-05"]["excluded_seconds"] == 3600
    assert got["a", "s", "2025-06"]["excluded_seconds"] == 5400


# --- month split ---------------------------------------------------------------------------------


def test_month_boundary_split(tmp_path: Path) -> None:
    # 2025-05-31 23:50 -> 2025-06-01 00:20 Shanghai: 600 s in May, 1200 s in June, counted in both
    got = rows(
        "i,initech,compute,outage,2025-05-31 23:50:00,2025-06-01 00:20:00,\n", tmp_path=tmp_path
    )
    assert pick(
        got["initech", "compute", "2025-05"], "period_seconds", "downtime_seconds", "incident_count"
    ) == (2678400, 600, 1)
    assert pick(
        got["initech", "compute", "2025-06"], "period_seconds", "downtime_seconds", "incident_count"
    ) == (2592000, 1200, 1)


def test_boundary_is_local_midnight_not_utc(tmp_path: Path) -> None:
    # 2025-05-31T16:30Z is 2025-06-01 00:30 in Shanghai: June only
    got = rows("i,c,s,outage,2025-05-31T16:30:00Z,2025-05-31T16:40:00Z,\n", tmp_path=tmp_path)
    assert list(got) == [("c", "s", "2025-06")]
    assert got["c", "s", "2025-06"]["downtime_seconds"] == 600


def test_ending_exactly_at_midnight_stays_in_its_month(tmp_path: Path) -> None:
    got = rows("i,c,s,outage,2025-05-31 23:00,2025-06-01 00:00,\n", tmp_path=tmp_path)
    assert list(got) == [("c", "s", "2025-05")]


def test_spanning_three_months(tmp_path: Path) -> None:
    # 2025-04-30 12:00 -> 2025-06-01 06:00: 43200 s in April, all of May, 21600 s in June
    got = rows("i,c,s,outage,2025-04-30 12:00,2025-06-01 06:00,\n", tmp_path=tmp_path)
    assert [
        (k[2], r["downtime_seconds"], r["availability_pct"], r["incident_count"])
        for k, r in got.items()
    ] == [
        ("2025-04", 43200, "98.3333", 1),  # 1 - 43200/2592000 = 0.98333...
        ("2025-05", 2678400, "0.0000", 1),
        ("2025-06", 21600, "99.1666", 1),  # 1 - 21600/2592000 = 0.991666... (truncated)
    ]


def test_month_option_restricts_rows(tmp_path: Path) -> None:
    got = rows(
        "i,c,s,outage,2025-04-30 12:00,2025-06-01 06:00,\n", tmp_path=tmp_path, months=["2025-06"]
    )
    assert list(got) == [("c", "s", "2025-06")]


# --- real month lengths ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "month", "seconds"),
    [
        ("America/New_York", "2025-03", 31 * 86400 - 3600),  # 2674800: springs forward
        ("America/New_York", "2025-11", 30 * 86400 + 3600),  # 2595600: falls back
        ("America/New_York", "2025-06", 30 * 86400),
        ("Europe/London", "2025-03", 2674800),
        ("Europe/London", "2025-10", 31 * 86400 + 3600),  # 2682000
        ("Asia/Shanghai", "2024-02", 29 * 86400),  # 2505600: leap year
        ("Asia/Shanghai", "2025-02", 28 * 86400),  # 2419200
        ("Asia/Shanghai", "2025-03", 31 * 86400),  # no DST in China
        ("Australia/Lord_Howe", "2025-04", 30 * 86400 + 1800),  # a half-hour DST shift
    ],
)
def test_period_seconds(tmp_path: Path, tz: str, month: str, seconds: int) -> None:
    got = rows(f"i,c,s,outage,{month}-15 12:00,{month}-15 12:01,\n", tmp_path=tmp_path, tz=tz)
    row = got["c", "s", month]
    assert row["period_seconds"] == seconds
    # 60 s of downtime: availability = 1 - 60 / seconds
    expected = Fraction(seconds - 60, seconds) * 100
    assert Decimal(row["availability_pct"]) == Decimal(int(expected * 10**4)) / 10**4


def test_downtime_across_spring_forward_is_real_elapsed_time(tmp_path: Path) -> None:
    # New York, 2025-03-09 01:30 EST -> 03:30 EDT is one real hour (02:00-03:00 never happens)
    got = rows(
        "i,c,s,outage,2025-03-09 01:30,2025-03-09 03:30,\n",
        tmp_path=tmp_path,
        tz="America/New_York",
    )
    assert got["c", "s", "2025-03"]["downtime_seconds"] == 3600


def test_month_split_in_a_dst_zone(tmp_path: Path) -> None:
    # New York: 2025-10-31 23:30 EDT -> 2025-11-01 00:45 EDT: 1800 s in October, 2700 s in November
    got = rows(
        "i,c,s,outage,2025-10-31 23:30,2025-11-01 00:45,\n",
        tmp_path=tmp_path,
        tz="America/New_York",
    )
    assert got["c", "s", "2025-10"]["downtime_seconds"] == 1800
    assert got["c", "s", "2025-11"]["downtime_seconds"] == 2700


# --- ongoing incidents --------------------------------------------------------------------------


def test_ongoing_incident_counts_up_to_as_of(tmp_path: Path) -> None:
    # 2025-06-27 03:00 -> as-of 2025-06-28 12:00 (+08:00) = 33 h = 118800 s
    got = rows(
        "i,g,db,outage,2025-06-27 03:00:00,,\n",
        tmp_path=tmp_path,
        as_of="2025-06-28T12:00:00+08:00",
    )
    row = got["g", "db", "2025-06"]
    assert pick(row, "downtime_seconds", "availability_pct", "status") == (
        118800,
        "95.4166",  # 1 - 118800/2592000 = 0.954166... truncated, not 95.4167
        "provisional",
    )


def test_ongoing_incident_across_a_month_boundary(tmp_path: Path) -> None:
    # 2025-05-31 12:00 -> as-of 2025-06-02 00:00: 43200 s in May, 86400 s in June
    got = rows(
        "i,c,s,outage,2025-05-31 12:00,,\n", tmp_path=tmp_path, as_of="2025-06-02T00:00:00+08:00"
    )
    assert [(k[2], r["downtime_seconds"], r["status"]) for k, r in got.items()] == [
        ("2025-05", 43200, "final"),
        ("2025-06", 86400, "provisional"),
    ]


def test_ongoing_incident_after_as_of_counts_nothing(tmp_path: Path) -> None:
    got = rows(
        "i,c,s,outage,2025-06-10 00:00,,\n",
        tmp_path=tmp_path,
        as_of="2025-06-01T00:00:00+08:00",
        months=["2025-06"],
    )
    assert got == {}  # no contract book: only keys that used the month get rows


def test_ongoing_maintenance_excludes_up_to_as_of(tmp_path: Path) -> None:
    got = rows(
        "o,c,s,outage,2025-06-10 00:00,2025-06-10 02:00,\nm,c,s,maintenance,2025-06-10 01:00,,\n",
        tmp_path=tmp_path,
        as_of="2025-06-10T01:30:00+08:00",
    )
    # maintenance 01:00 -> 01:30 (as-of); the outage ends after --as-of, so it too counts only
    # up to 01:30: 00:00-01:00 = 3600 s of downtime
    assert pick(got["c", "s", "2025-06"], "downtime_seconds", "excluded_seconds") == (3600, 1800)


def test_an_end_after_as_of_counts_up_to_as_of(tmp_path: Path) -> None:
    # 2025-06-10 00:00 -> 2025-06-12 00:00, --as-of 2025-06-11 00:00: one day, not two
    got = rows(
        "o,c,s,outage,2025-06-10 00:00,2025-06-12 00:00,\n",
        tmp_path=tmp_path,
        as_of="2025-06-11T00:00:00+08:00",
    )
    assert got["c", "s", "2025-06"]["downtime_seconds"] == 86400


# --- what counts as an incident ----------------------------------------------------------------


def test_zero_length_incident_is_not_counted(tmp_path: Path) -> None:
    got = rows(
        "z,c,s,outage,2025-06-10 00:00,2025-06-10 00:00,\n"
        "o,c,s,outage,2025-06-11 00:00,2025-06-11 00:00:01,\n",
        tmp_path=tmp_path,
    )
    assert pick(got["c", "s", "2025-06"], "downtime_seconds", "incident_count") == (1, 1)


def test_data_loss_is_downtime(tmp_path: Path) -> None:
    got = rows("d,c,s,data_loss,2025-06-06 14:00,2025-06-06 14:45,\n", tmp_path=tmp_path)
    assert pick(got["c", "s", "2025-06"], "downtime_seconds", "incident_count") == (2700, 1)


def test_keys_do_not_mix(tmp_path: Path) -> None:
    # the maintenance of storage does not hide the outage of compute
    got = rows(
        "o,c,compute,outage,2025-06-10 00:00,2025-06-10 01:00,\n"
        "m,c,storage,maintenance,2025-06-10 00:00,2025-06-10 01:00,\n",
        tmp_path=tmp_path,
    )
    assert got["c", "compute", "2025-06"]["downtime_seconds"] == 3600
    assert got["c", "storage", "2025-06"]["downtime_seconds"] == 0
    assert got["c", "storage", "2025-06"]["excluded_seconds"] == 3600


@settings(max_examples=60, deadline=None)
@given(
    events=st.lists(st.tuples(st.integers(5, 60), st.integers(0, 999)), min_size=1, max_size=80),
    safe_bits=st.integers(10, 16),
)
def test_events_sort_by_key_then_time_when_cut_into_key_ranges(
    events: list[tuple[int, int]], safe_bits: int
) -> None:
    """Keys times the time span past 63 bits are sorted a range of keys at a time: forced here
    with a small bound, the (key, time) sequence is the two-column sort's."""
    from slacalc import speed
    from slacalc.computing import engine

    key = np.array([k for k, _ in events], dtype=np.int64)
    t = np.array([1000 + v for _, v in events], dtype=np.int64)
    expected = sorted(zip(key.tolist(), t.tolist(), strict=True))
    with pytest.MonkeyPatch.context() as m:
        m.setattr(speed, "LIMIT", 1 << safe_bits)  # 1..64 keys of 1000 instants a range
        order = engine._sort_events(key, t, 1000, 1999)
    assert sorted(order.tolist()) == list(range(len(events)))
    assert list(zip(key[order].tolist(), t[order].tolist(), strict=True)) == expected


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(-(2**62), 2**62), max_size=60))
def test_sorted_distinct_is_numpys_unique(values: list[int]) -> None:
    from slacalc.computing.engine import sorted_distinct

    array = np.array(values, dtype=np.int64)
    assert sorted_distinct(array).tolist() == np.unique(array).tolist()
