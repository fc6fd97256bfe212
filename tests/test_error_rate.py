"""Request-based availability (issue 22, item 2): hand-computed S3 months, the reader's
problems, the policy keys, and a differential test against a slow oracle over the domain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slacalc.computing.error_rate import fraction_sum, request_totals
from slacalc.dates.months import Month, MonthGrid
from slacalc.errors import InputError
from slacalc.reading.requests import read_requests
from slacalc.terms.requests import ErrorRateMeasure, parse_measure
from tests.error_rate_oracle import oracle
from tests.logs import write_log

UTC_ZONE = ZoneInfo("UTC")
HEADER = "start,end,customer_id,service,total,failed"
S = 1_000_000  # microseconds per second


def compute(tmp_path: Path, text: str, tz: ZoneInfo, first: str, last: str, **measure):
    path = tmp_path / "requests.csv"
    path.write_text(text, encoding="utf-8")
    table = read_requests([str(path)], tz)
    grid = MonthGrid(Month.parse(first), Month.parse(last), tz)
    return table, grid, request_totals(table, grid.edges, ErrorRateMeasure(**measure))


def downs(result) -> list[Fraction]:
    t = result.totals
    return [
        Fraction(int(t.down_num[i]), int(t.down_den if np.ndim(t.down_den) == 0 else t.down_den[i]))
        for i in range(len(t.cells))
    ]


# --- hand-computed months ------------------------------------------------------------------


def test_an_s3_month_counts_intervals_without_requests_as_no_errors(tmp_path: Path) -> None:
    # May 2025 in UTC: 31 days = 8928 five-minute intervals. One interval at 1 % errors, one
    # at 100 %, one with no requests at all (0 %, as S3 says), one of two rows (3/4 + 1/4 of
    # its requests: 30 of 200 failed = 15 %); every other interval has no rows (0 %).
    text = "\n".join(
        [
            HEADER,
            "2025-05-01T00:00:00Z,2025-05-01T00:05:00Z,acme,s3,1000,10",
            "2025-05-10T12:00:00Z,2025-05-10T12:05:00Z,acme,s3,7,7",
            "2025-05-20T00:00:00Z,2025-05-20T00:05:00Z,acme,s3,0,0",
            "2025-05-31T23:55:00Z,2025-05-31T23:58:00Z,acme,s3,150,30",
            "2025-05-31T23:58:00Z,2025-06-01T00:00:00Z,acme,s3,50,0",
        ]
    )
    _, _, result = compute(tmp_path, text + "\n", UTC_ZONE, "2025-05", "2025-05")
    # mean = (0.01 + 1 + 0 + 0.15) / 8928; down = 300 s x (0.01 + 1 + 0.15) = 348 s
    assert downs(result) == [348 * S]
    detail = result.detail(0)
    assert detail.error_rate == Fraction(116, 100) / 8928
    assert 1 - detail.error_rate == 1 - Fraction(348, 2_678_400)
    assert (detail.intervals, detail.partial, detail.with_requests, detail.with_errors) == (
        8928,
        0,
        3,
        3,
    )
    assert (detail.total, detail.failed) == (1207, 47)
    assert result.totals.count.tolist() == [3]  # intervals with errors
    assert result.totals.excluded.tolist() == [0]


def test_a_month_of_all_zero_traffic_is_fully_available(tmp_path: Path) -> None:
    text = f"{HEADER}\n2025-05-01 08:00,2025-05-01 08:05,acme,s3,0,0\n"
    _, _, result = compute(tmp_path, text, ZoneInfo("Asia/Shanghai"), "2025-05", "2025-05")
    assert result.totals.cells.tolist() == [0]  # the month has a row: it gets a cell
    assert downs(result) == [0]
    assert result.detail(0).with_requests == 0


def test_hourly_intervals_cut_by_a_half_hour_zones_month_edge(tmp_path: Path) -> None:
    # Asia/Kolkata (+05:30): May starts 2025-04-30T18:30Z, halfway through the UTC hour
    # 18:00-19:00, whose 50 % error rate counts for 30 minutes in April and 30 in May.
    text = f"{HEADER}\n2025-04-30T18:10:00Z,2025-04-30T18:20:00Z,acme,blob,10,5\n"
    _, _, result = compute(
        tmp_path, text, ZoneInfo("Asia/Kolkata"), "2025-04", "2025-05", interval_seconds=3600
    )
    assert result.totals.cells.tolist() == [0, 1]  # April and May
    assert downs(result) == [900 * S, 900 * S]  # 1800 s x 50 % in each
    april, may = result.detail(0), result.detail(1)
    assert (april.intervals, april.partial) == (721, 2)  # 720 hours, cut at both ends
    assert (may.intervals, may.partial) == (745, 2)
    assert may.error_rate == Fraction(900, 744 * 3600)
    assert (may.total, may.failed) == (10, 5)  # the cut interval's counts in both months


def test_a_dst_month_in_berlin_has_its_own_number_of_intervals(tmp_path: Path) -> None:
    # March 2025 in Europe/Berlin is 743 hours (clocks go forward on the 30th): 8916 intervals.
    # The first interval after the switch (03:00 CEST = 01:00Z) has 1 of 4 requests failing,
    # and the month's last interval (23:55 CEST = 21:55Z on the 31st) 2 of 2.
    text = "\n".join(
        [
            HEADER,
            "2025-03-30 03:00,2025-03-30 03:05,acme,s3,4,1",
            "2025-03-31 23:55,2025-04-01 00:00,acme,s3,2,2",
            "2025-04-01 00:00,2025-04-01 00:05,acme,s3,9,9",  # April's first
        ]
    )
    _, _, result = compute(tmp_path, text + "\n", ZoneInfo("Europe/Berlin"), "2025-03", "2025-04")
    assert result.totals.cells.tolist() == [0, 1]
    assert downs(result) == [75 * S + 300 * S, 300 * S]
    march = result.detail(0)
    assert (march.intervals, march.partial) == (8916, 0)
    assert march.error_rate == Fraction(375, 743 * 3600)


def test_intervals_without_requests_left_out_of_the_mean(tmp_path: Path) -> None:
    # Two intervals with requests, 10 % and 30 %: the mean over them is 20 %, a downtime of a
    # fifth of the month.
    text = "\n".join(
        [
            HEADER,
            "2025-05-01T00:00:00Z,2025-05-01T00:05:00Z,acme,s3,10,1",
            "2025-05-02T00:00:00Z,2025-05-02T00:05:00Z,acme,s3,10,3",
            "2025-05-03T00:00:00Z,2025-05-03T00:05:00Z,acme,s3,0,0",
        ]
    )
    _, _, result = compute(
        tmp_path, text + "\n", UTC_ZONE, "2025-05", "2025-05", empty_intervals="not_counted"
    )
    assert downs(result) == [Fraction(2_678_400 * S, 5)]


def test_cells_follow_a_given_key_numbering(tmp_path: Path) -> None:
    text = "\n".join(
        [
            HEADER,
            "2025-05-01T00:00:00Z,2025-05-01T00:05:00Z,b,s3,10,1",
            "2025-06-01T00:00:00Z,2025-06-01T00:05:00Z,a,s3,10,2",
        ]
    )
    path = tmp_path / "r.csv"
    path.write_text(text + "\n", encoding="utf-8")
    table = read_requests([str(path)], UTC_ZONE)
    grid = MonthGrid(Month(2025, 5), Month(2025, 6), UTC_ZONE)
    result = request_totals(table, grid.edges, ErrorRateMeasure(), key_number=[7, 3])
    assert result.totals.cells.tolist() == [3 * 2 + 1, 7 * 2 + 0]
    assert downs(result) == [60 * S, 30 * S]


# --- problems ------------------------------------------------------------------------------


def test_more_failed_than_total_is_a_problem_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(
        f"{HEADER}\n2025-05-01T00:00:00Z,2025-05-01T00:05:00Z,acme,s3,10,11\n"
        "2025-05-01T00:05:00Z,2025-05-01T00:10:00Z,acme,s3,x,1\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        read_requests([str(path)], UTC_ZONE)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:2: column 'failed': more failed requests than requests in all (total 10) "
        "(value '11')",
        f"{path}:3: column 'total': expected a whole number of requests (0 or more), such as "
        "1200 (value 'x')",
    ]


def test_a_window_crossing_an_interval_boundary_is_a_problem(tmp_path: Path) -> None:
    text = f"{HEADER}\n2025-05-01T00:00:00Z,2025-05-01T00:05:00Z,a,s,1,0\n"
    text += "2025-05-01T00:03:00Z,2025-05-01T00:06:00Z,acme,s3,10,1\n"
    path = tmp_path / "r.csv"
    path.write_text(text, encoding="utf-8")
    table = read_requests([str(path)], UTC_ZONE)
    grid = MonthGrid(Month(2025, 5), Month(2025, 5), UTC_ZONE)
    with pytest.raises(InputError) as caught:
        request_totals(table, grid.edges, ErrorRateMeasure(300))
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:3: column 'end': the window crosses the 5-minute interval boundary at "
        "2025-05-01T00:05:00+00:00 (intervals start at 00:00 UTC): give the counts of each "
        "interval in a row of its own (value '2025-05-01T00:06:00+00:00')"
    ]
    # with hourly intervals the same row lies inside one interval
    assert downs(request_totals(table, grid.edges, ErrorRateMeasure(3600))) == [0, 360 * S]


def test_empty_and_backwards_windows_are_problems(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(
        f"{HEADER}\n2025-05-01 00:00,,a,s,1,0\n2025-05-01 00:05,2025-05-01 00:05,a,s,1,0\n"
        ",,,,,\n2025-05-01 00:05,2025-05-01 00:04,a,s,1,0\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        read_requests([str(path)], UTC_ZONE)
    assert [(p.line, p.column, p.message[:20]) for p in caught.value.problems] == [
        (2, "end", "empty timestamp: eve"),
        (3, "end", "ends where it starts"),
        (5, "end", "ends before it start"),
    ]


def test_a_file_without_the_counts_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("start,end,total\n2025-05-01,2025-05-02,1\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing required column 'failed'"):
        read_requests([str(path)], UTC_ZONE)


@pytest.mark.parametrize("fmt", ["csv-rows", "csv-bulk", "jsonl", "parquet"])
def test_every_format_reads_the_same_rows(
    tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from slacalc.reading import csv_bulk

    monkeypatch.setattr(csv_bulk, "MIN_BYTES", 0 if fmt == "csv-bulk" else 1 << 62)
    text = (
        "Start , END,Customer_ID,service,total,failed,notes\n"
        "2025-05-01T00:00:00Z,2025-05-01T00:05:00Z, acme,s3,1000,10,x\n"
        "2025-05-01 08:05,2025-05-01 08:10,acme,s3 ,5,0,\n"
    )
    path = write_log(tmp_path, text, fmt, name="requests")
    table = read_requests([str(path)], ZoneInfo("Asia/Shanghai"))
    assert table.keys == [("acme", "s3")]
    assert table.total.tolist() == [1000, 5] and table.failed.tolist() == [10, 0]
    assert (table.start[1] - table.start[0]) == 300 * S
    assert table.line.tolist() == ([2, 3] if fmt.startswith("csv") else [1, 2])


def test_json_lines_counts_as_numbers_and_timestamps_as_strings(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text(
        '{"start": "2025-05-01T00:00:00Z", "end": "2025-05-01T00:05:00Z", "total": 4, '
        '"failed": 1}\n{"start": 1746057600, "end": "2025-05-01T00:05:00Z", "total": 1.5, '
        '"failed": 0}\n',
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        read_requests([str(path)], UTC_ZONE)
    assert [(p.line, p.column) for p in caught.value.problems] == [(2, "start")]
    path.write_text(path.read_text().splitlines()[0] + "\n", encoding="utf-8")
    assert read_requests([str(path)], UTC_ZONE).total.tolist() == [4]


# --- the policy keys -------------------------------------------------------------------------


def problems_of(data: dict) -> tuple[ErrorRateMeasure | None, list[str]]:
    found: list[str] = []
    measure = parse_measure(data, lambda key, message: found.append(f"{key}: {message}"))
    return measure, found


def test_policy_keys() -> None:
    assert problems_of({}) == (None, [])
    assert problems_of({"measure": "error_rate", "interval_seconds": 3600}) == (
        ErrorRateMeasure(3600, "no_errors"),
        [],
    )
    assert problems_of({"measure": "error_rate"})[0] == ErrorRateMeasure(300)
    _, found = problems_of({"measure": "error_rate", "interval_seconds": 7})
    assert found == ["interval_seconds: must be between 60 and 86400 (value 7)"]
    _, found = problems_of({"measure": "error_rate", "interval_seconds": 420})
    assert found == [
        "interval_seconds: must divide a day (86400 s) into whole intervals (value 420)"
    ]
    _, found = problems_of({"interval_seconds": 300})
    assert found == ['interval_seconds: only a policy with measure = "error_rate" has one']
    _, found = problems_of({"measure": "errors"})
    assert found[0].startswith("measure: expected one of 'downtime', 'error_rate'")
    _, found = problems_of({"measure": "error_rate", "round_up_seconds": 60})
    assert found == [
        'round_up_seconds: does not apply with measure = "error_rate" (request counts have no '
        "outages)"
    ]


def test_fraction_sum_is_exact() -> None:
    terms = [(3, 1), (7, 2), (3, 5), (1_000_003, 10**12)]
    expected = sum((Fraction(n, d) for d, n in terms), Fraction(0))
    assert Fraction(*fraction_sum(terms)) == expected


# --- against the oracle, over the whole domain ---------------------------------------------

ZONES = (
    "UTC",
    "Asia/Shanghai",
    "Asia/Kolkata",  # +05:30
    "Asia/Kathmandu",  # +05:45
    "Europe/Berlin",  # DST
    "America/St_Johns",  # -03:30 with DST
    "Australia/Lord_Howe",  # a half-hour DST shift
    "Pacific/Chatham",  # +12:45 / +13:45
)
INTERVALS = (60, 300, 300, 900, 1800, 2700, 3600, 3600, 7200, 86400)
COUNT = st.one_of(st.integers(0, 20), st.integers(0, 10**15 - 1))


@st.composite
def cases(draw):
    tz = ZoneInfo(draw(st.sampled_from(ZONES)))
    interval = draw(st.sampled_from(INTERVALS))
    year = draw(st.integers(1900, 2199))
    first = (year, draw(st.integers(2 if year == 1900 else 1, 11 if year == 2199 else 12)))
    n_months = draw(st.integers(1, 2 if first[1] < 12 or year < 2199 else 1))
    months = [first]
    while len(months) < n_months:
        y, m = months[-1]
        if (y, m) >= (2199, 11):
            break
        months.append((y + m // 12, m % 12 + 1))
    size = interval * S
    edges = [
        int(
            (datetime(y, m, 1, tzinfo=tz) - datetime(1970, 1, 1, tzinfo=UTC))
            // timedelta(microseconds=1)
        )
        for y, m in months
    ]
    y, m = months[-1]
    edges.append(
        int(
            (datetime(y + m // 12, m % 12 + 1, 1, tzinfo=tz) - datetime(1970, 1, 1, tzinfo=UTC))
            // timedelta(microseconds=1)
        )
    )
    rows = []
    for _ in range(draw(st.integers(1, 12))):
        near = draw(st.sampled_from(edges))
        index = near // size + draw(st.integers(-3, 2))
        if draw(st.booleans()):  # anywhere in the grid
            index = draw(st.integers(edges[0] // size - 1, (edges[-1] - 1) // size + 1))
        a = index * size
        whole = draw(st.booleans())
        lo = 0 if whole else draw(st.integers(0, size - 1))
        hi = size if whole else draw(st.integers(lo + 1, size))
        if draw(st.booleans()):  # whole seconds, as exports write them
            lo, hi = lo // S * S, max(-(-hi // S) * S, lo // S * S + S)
            hi = min(hi, size)
        total = draw(COUNT)
        failed = draw(st.integers(0, total)) if total < 100 else total - draw(COUNT) % (total + 1)
        rows.append(
            {
                "start": text_of(a + lo, tz, draw(st.booleans())),
                "end": text_of(a + hi, tz, draw(st.booleans())),
                "customer_id": draw(st.sampled_from(["acme", "globex", " acme"])),
                "service": draw(st.sampled_from(["s3", "blob"])),
                "total": str(total),
                "failed": str(failed),
            }
        )
    empty = draw(st.sampled_from(["no_errors", "not_counted"]))
    return tz, interval, months, rows, empty


def text_of(us: int, tz: ZoneInfo, local: bool) -> str:
    """ISO 8601 text of an instant: in UTC with Z, or as local time in ``tz`` without an
    offset where that reads back as the same instant (not in a repeated hour's second pass)."""
    dt = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)
    if local:
        wall = dt.astimezone(tz).replace(tzinfo=None, fold=0)  # text carries no fold
        if wall.replace(tzinfo=tz).astimezone(UTC) == dt:
            return wall.isoformat()
    return dt.isoformat().replace("+00:00", "Z")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_matches_the_oracle(tmp_path_factory: pytest.TempPathFactory, case) -> None:
    tz, interval, months, rows, empty = case
    folder = tmp_path_factory.mktemp("er")
    lines = [HEADER] + [",".join(r[c] for c in HEADER.split(",")) for r in rows]
    path = folder / "requests.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    table = read_requests([str(path)], tz)
    grid = MonthGrid(Month(*months[0]), Month(*months[-1]), tz)
    result = request_totals(table, grid.edges, ErrorRateMeasure(interval, empty))
    expected = oracle(rows, months, tz, interval, empty)
    got = {}
    n = result.totals.n_months
    for i, (cell, down) in enumerate(zip(result.totals.cells.tolist(), downs(result), strict=True)):
        customer, service = table.keys[cell // n]
        month = grid.months[cell % n]
        d = result.detail(i)
        period = grid.period_us(cell % n)
        got[(customer, service, str(month))] = {
            "down": down,
            "availability": 1 - down / period,
            "intervals": d.intervals,
            "partial": d.partial,
            "with_requests": d.with_requests,
            "with_errors": d.with_errors,
            "total": d.total,
            "failed": d.failed,
        }
        assert d.error_rate == down / period
        assert 0 <= down <= period
    assert got == expected
