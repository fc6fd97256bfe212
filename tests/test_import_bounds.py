"""Bounded, validated imports: the row cap, the recurrence search, values out of range, and
versions of one Statuspage incident.

Each hostile input here is checked for its outcome (the exact message and exit code) and for the
work it causes (rows built, search steps taken, years of a zone computed); a wall-clock bound is
only a guard on top. The iCalendar bombs are a few hundred bytes that used to become a million
rows; Outlook's VTIMEZONE starts its rules in 1601 (RFC 5545 3.6.5 and Microsoft's
[MS-OXCICAL] 2.1.3.2.1, which writes the STANDARD and DAYLIGHT DTSTART as 16010101T000000 plus
the rule's month).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dateutil import rrule as dateutil_rrule
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from slacalc.cli import app
from slacalc.errors import InputError, UsageError
from slacalc.importing import DEFAULT_MAX_ROWS, ics, import_files, recurrence, vtimezone
from slacalc.importing.recurrence import SearchBudget, occurrences, read_rrule
from slacalc.importing.rfc5545 import read_calendar
from slacalc.importing.rows import SourceRow

FIXTURES = Path(__file__).parent / "fixtures" / "import"
BERLIN = ZoneInfo("Europe/Berlin")
GUARD = 15  # seconds: a guard only; each test also checks the work done


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACALC_TZ", "SLACALC_MAX_ROWS"):
        monkeypatch.delenv(name, raising=False)


def run(args: list[str], env: dict[str, str] | None = None):
    return CliRunner().invoke(app, args, env={"COLUMNS": "200", **(env or {})})


def calendar(tmp_path: Path, *blocks: str, name: str = "cal.ics") -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN"]
    for block in blocks:
        lines.extend(block.strip().splitlines())
    lines.append("END:VCALENDAR")
    path = tmp_path / name
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    return str(path)


def event(uid: str, *props: str, categories: str = "a") -> str:
    body = "\n".join(props)
    return f"BEGIN:VEVENT\nUID:{uid}\n{body}\nCATEGORIES:{categories}\nEND:VEVENT"


def line_of(path: str, text: str) -> int:
    found = [i for i, line in enumerate(Path(path).read_text().splitlines(), 1) if text in line]
    assert len(found) == 1, found
    return found[0]


def problems(fmt: str, paths: list[str], **kwargs) -> list[str]:
    kwargs.setdefault("tz", UTC)
    with pytest.raises(InputError) as info:
        import_files(fmt, paths, **kwargs)
    return [str(p) for p in info.value.problems]


def write_json(tmp_path: Path, doc: object, name: str) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


class Counting:
    """Counts the SourceRows a format builds."""

    def __init__(self) -> None:
        self.made = 0

    def __call__(self, *args, **kwargs) -> SourceRow:
        self.made += 1
        return SourceRow(*args, **kwargs)


# --- the row cap -----------------------------------------------------------------------------

EVERY_15_MINUTES = "BYHOUR=" + ",".join(str(h) for h in range(24)) + ";BYMINUTE=0,15,30,45"
START = "DTSTART:20250101T000000Z"


def test_the_ics_bombs_stop_before_their_rows_are_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 99,999 occurrences of one event for ten CATEGORIES: 999,990 rows from 300 bytes. The
    # rows are counted before they are made: the import stops at the 100,001st, none made.
    one = calendar(
        tmp_path,
        event(
            "bomb",
            START,
            "DURATION:PT1H",
            f"RRULE:FREQ=DAILY;{EVERY_15_MINUTES};COUNT=99999",
            categories=",".join(f"c{i}" for i in range(10)),
        ),
        name="one.ics",
    )
    # Ten events of 99,999 occurrences each: the first one's rows are made (under the bound),
    # the second stops the import.
    ten = calendar(
        tmp_path,
        *(
            event(f"b{i}", START, "DURATION:PT1H", "RRULE:FREQ=DAILY;BYHOUR=0,6,12,18;COUNT=99999")
            for i in range(10)
        ),
        name="ten.ics",
    )
    assert Path(one).stat().st_size < 400 and Path(ten).stat().st_size < 1500
    for path, uid, rows_made in ((one, "bomb", 0), (ten, "b1", 99999)):
        made = Counting()
        monkeypatch.setattr(ics, "SourceRow", made)
        began = time.monotonic()
        assert problems("ics", [path]) == [
            f"{path}:{line_of(path, f'UID:{uid}') + 3}: VEVENT {uid}: the events expand to more "
            "than 100,000 rows (occurrences times CATEGORIES, all events together) before the "
            "window ends, the most a calendar may make: give a narrower window (--from/--until) "
            "or fix the rules"
        ]
        assert time.monotonic() - began < GUARD
        assert made.made == rows_made


def test_the_cli_bomb_exits_1_quickly(tmp_path: Path) -> None:
    path = calendar(
        tmp_path,
        event(
            "bomb",
            START,
            "DURATION:PT1H",
            f"RRULE:FREQ=DAILY;{EVERY_15_MINUTES};COUNT=99999",
            categories=",".join(f"c{i}" for i in range(10)),
        ),
    )
    began = time.monotonic()
    result = run(["import", "ics", path, "-o", str(tmp_path / "out.csv")])
    assert time.monotonic() - began < GUARD
    assert result.exit_code == 1
    assert "more than 100,000 rows" in result.stderr
    assert not (tmp_path / "out.csv").exists()


def test_the_row_cap_names_itself_and_its_option_for_every_format(tmp_path: Path) -> None:
    fixtures = {
        "statuspage": "statuspage_incidents.json",
        "pagerduty": "pagerduty_incidents.csv",
        "alertmanager": "alertmanager_webhooks.jsonl",
        "uptimerobot": "uptimerobot_monitors.json",
        "ics": "maintenance.ics",
    }
    for fmt, name in fixtures.items():
        path = str(FIXTURES / name)
        rows = import_files(fmt, [path], tz=BERLIN).rows
        assert len(import_files(fmt, [path], tz=BERLIN, max_rows=len(rows)).rows) == len(rows)
        cap = len(rows) - 1
        assert problems(fmt, [path], tz=BERLIN, max_rows=cap)[-1] == (
            f"{path}: the import makes more than {cap:,} rows, its cap (--max-rows {cap}): raise "
            "the cap with --max-rows N (or SLACALC_MAX_ROWS), or import less at a time "
            "(--from/--until)"
        ), fmt
    assert DEFAULT_MAX_ROWS == 1_000_000


def test_the_cap_counts_each_customer_a_map_names(tmp_path: Path) -> None:
    path = str(FIXTURES / "uptimerobot_monitors.json")
    many = tmp_path / "map.toml"
    ids = ", ".join(f'"c{i}"' for i in range(1000))
    many.write_text(f'[customers]\n"Billing" = [{ids}]\n"API Gateway" = [{ids}]\n')
    result = run(["import", "uptimerobot", path, "--map", str(many), "--max-rows", "4999"])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"{path}: the import makes more than 4,999 rows, its cap (--max-rows 4999): raise the "
        "cap with --max-rows N (or SLACALC_MAX_ROWS), or import less at a time (--from/--until)"
    )
    ok = run(["import", "uptimerobot", path, "--map", str(many)], env={"SLACALC_MAX_ROWS": "5000"})
    assert ok.exit_code == 0, ok.stderr
    assert len(ok.stdout.splitlines()) == 1 + 5 * 1000


def test_a_bad_cap_is_wrong_usage() -> None:
    path = str(FIXTURES / "maintenance.ics")
    for value in ("0", "-3", "ten", "1.5", ""):
        result = run(["import", "ics", path, "--max-rows", value])
        assert result.exit_code == 2, value
        assert result.stderr == (
            f"Error: --max-rows '{value}': expected a whole number of rows from 1, such as "
            "2000000\n"
        )
    assert run(["import", "ics", path], env={"SLACALC_MAX_ROWS": "x"}).exit_code == 2
    assert run(["import", "ics", path, "--max-rows", "1_000"]).exit_code == 0
    with pytest.raises(UsageError, match="must be a whole number from 1"):
        import_files("ics", [path], tz=UTC, max_rows=0)


# --- the recurrence search -------------------------------------------------------------------


def spent(rule: str, start: datetime, last: date) -> tuple[int, int]:
    """(occurrences, search steps) of a rule from ``start`` to ``last``."""
    budget = SearchBudget(10**9)
    found = sum(1 for _ in occurrences(read_rrule(rule), start, last=last, budget=budget))
    return found, budget.limit - budget.left


@pytest.mark.parametrize(
    ("rule", "steps"),
    [
        # Every 7 days from a Monday is a Monday: never a Tuesday. 9,131 days are visited to
        # 2199, one step each (dateutil walked to the year 9999).
        ("FREQ=DAILY;INTERVAL=7;BYDAY=TU", 9131),
        # Day 60 is never in January; a year is one period (4 steps), day 60 one candidate.
        ("FREQ=YEARLY;BYYEARDAY=60;BYMONTH=1", 175 * 5),
        # Every 12 months from January is a January, never a February.
        ("FREQ=MONTHLY;INTERVAL=12;BYMONTH=2", 175 * 4),
        # 2025 + 4k is never a leap year.
        ("FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29", 44 * 4),
        # Week 53 never has a day in June.
        ("FREQ=YEARLY;BYWEEKNO=53;BYMONTH=6", 175 * 4 + 7 * 31),
    ],
)
def test_a_rule_that_never_occurs_costs_its_periods_up_to_the_horizon(rule: str, steps: int):
    found, took = spent(rule, datetime(2025, 1, 6, 10), date(2199, 12, 31))
    assert found == 0
    assert took <= steps


def test_rules_that_never_occur_stop_at_the_search_budget(tmp_path: Path) -> None:
    path = calendar(
        tmp_path,
        *(
            event(f"n{i}", START, "DURATION:PT1H", "RRULE:FREQ=DAILY;INTERVAL=7;BYDAY=TU;COUNT=3")
            for i in range(150)
        ),
    )
    began = time.monotonic()
    found = problems("ics", [path])
    assert time.monotonic() - began < GUARD
    # Each walks 64,000 days to 2199 (DTSTART's own occurrence aside, none of its three comes);
    # the 110th exhausts the 1,000,000 steps of the whole import, and the import stops there.
    assert found[0] == (
        f"{path}:{line_of(path, 'UID:n0') + 3}: VEVENT n0: RRULE COUNT=3 is not reached by "
        "2199-12-31, the last day slacalc reads (0 occurrences by then): give a window "
        "(--from/--until) to expand it, or fix the rule"
    )
    assert len(found) == 110
    assert found[-1].endswith(
        "VEVENT n109: the recurrences of this import need more than 1,000,000 search steps "
        "(periods visited and times examined) (a rule that rarely or never occurs, or a very "
        "wide window): fix the rule or narrow the window (--from/--until)"
    )


def test_a_window_bounds_the_search_and_starts_it_late(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every day since 1990, read for March 2025: the search starts two days before the window
    # (less the occurrence's length), not at DTSTART, and ends two days after it.
    path = calendar(
        tmp_path,
        event("d", "DTSTART:19900101T220000Z", "DURATION:PT4H", "RRULE:FREQ=DAILY"),
    )
    budgets: list[SearchBudget] = []

    class Spy(SearchBudget):
        def __init__(self) -> None:
            super().__init__()
            budgets.append(self)

    monkeypatch.setattr(ics, "SearchBudget", Spy)
    window = (datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC))
    rows = import_files("ics", [path], tz=UTC, window=window).rows
    # 28 February 22:00 to 02:00 overlaps the window; 31 March 22:00 starts inside it.
    assert len(rows) == 32
    assert rows[0].start == datetime(2025, 2, 28, 22, tzinfo=UTC)
    assert budgets[0].limit - budgets[0].left < 40


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("FREQ=MONTHLY;BYDAY=53MO", "BYDAY value '53MO' is out of range: a month has at most 5"),
        ("FREQ=YEARLY;BYMONTH=2;BYDAY=-6FR", "BYDAY value '-6FR' is out of range: a month has"),
        ("FREQ=YEARLY;BYDAY=54MO", "BYDAY value '54MO' is out of range: a year has at most 53"),
        ("FREQ=MONTHLY;BYDAY=0MO", "BYDAY value '0MO' is out of range"),
    ],
)
def test_by_values_out_of_their_rfc_5545_ranges_are_refused(rule: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        read_rrule(rule)
    assert str(info.value).startswith(message)


def test_what_used_to_be_internal_errors_are_input_errors(tmp_path: Path) -> None:
    path = calendar(
        tmp_path,
        event("w", START, "DURATION:P999999W"),
        event("m", START, "DURATION:PT1H", "RRULE:FREQ=MONTHLY;BYDAY=53MO;COUNT=3"),
        event("e", "DTSTART:99991231T230000Z", "DURATION:PT2H"),
        event("t", "DTSTART;TZID=Asia/Tokyo:00010101T000000", "DURATION:PT1H"),
    )
    result = run(["import", "ics", path])
    assert result.exit_code == 1, result.stderr
    assert result.stderr.splitlines() == [
        f"{path}:{line_of(path, 'P999999W')}: VEVENT w: DURATION is too long: longer than the "
        "years 1900 to 2199 an incident log holds (value 'P999999W')",
        f"{path}:{line_of(path, '53MO')}: VEVENT m: BYDAY value '53MO' is out of range: a month "
        "has at most 5 of each weekday (1MO to 5MO, or -1MO to -5MO from the end) (value "
        "'FREQ=MONTHLY;BYDAY=53MO;COUNT=3')",
        f"{path}:{line_of(path, '99991231') + 1}: VEVENT e: the occurrence would end after the "
        "year 9999 (value 'PT2H')",
        f"{path}:{line_of(path, 'Asia/Tokyo')}: VEVENT t: DTSTART: too close to the year 1 or "
        "9999 to compute (value '00010101T000000')",
        "4 problems found",
    ]


# --- VTIMEZONE -------------------------------------------------------------------------------

OUTLOOK_ZONE = """BEGIN:VTIMEZONE
TZID:W. Europe Standard Time
BEGIN:STANDARD
DTSTART:16011028T030000
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010325T020000
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
END:DAYLIGHT
END:VTIMEZONE"""


def test_an_outlook_zone_from_1601_costs_the_years_it_is_asked_about(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    zones: list[vtimezone.VTimezone] = []
    real = vtimezone.VTimezone

    def keep(*args, **kwargs):
        zones.append(real(*args, **kwargs))
        return zones[-1]

    monkeypatch.setattr(vtimezone, "VTimezone", keep)
    daily = ("DURATION:PT2H", "RRULE:FREQ=DAILY;COUNT=20000")
    outlook = calendar(
        tmp_path,
        OUTLOOK_ZONE,
        event("o", 'DTSTART;TZID="W. Europe Standard Time":20250101T013000', *daily),
        name="outlook.ics",
    )
    iana = calendar(
        tmp_path, event("o", "DTSTART;TZID=Europe/Berlin:20250101T013000", *daily), name="b.ics"
    )
    began = time.monotonic()
    rows = import_files("ics", [outlook], tz=UTC).rows
    assert time.monotonic() - began < GUARD
    expected = import_files("ics", [iana], tz=UTC).rows
    assert len(rows) == 20000
    # (In UTC: PEP 495 makes an hour that repeats unequal to any other zone's.)
    assert [(r.start.astimezone(UTC), r.end.astimezone(UTC), r.end.utcoffset()) for r in rows] == [
        (r.start.astimezone(UTC), r.end.astimezone(UTC), r.end.utcoffset()) for r in expected
    ]
    # 20,000 days from 2025 reach 2079: the years computed are those and one stride of 32
    # years looked back from 2024, not the 425 years since 1601.
    (zone,) = zones
    for observance in zone._observances:
        assert min(observance.years) == 2024 - 31 and max(observance.years) <= 2081


@settings(max_examples=60, deadline=None)
@given(
    moment=st.datetimes(min_value=datetime(1997, 1, 1), max_value=datetime(2199, 12, 30)),
    fold=st.integers(0, 1),
)
def test_the_outlook_zone_reads_like_europe_berlin(moment: datetime, fold: int) -> None:
    zone = _outlook_zone()
    local = moment.replace(fold=fold)
    assert local.replace(tzinfo=zone).utcoffset() == local.replace(tzinfo=BERLIN).utcoffset()
    instant = moment.replace(tzinfo=UTC)
    mine, theirs = instant.astimezone(zone), instant.astimezone(BERLIN)
    assert (mine.replace(tzinfo=None), mine.fold) == (theirs.replace(tzinfo=None), theirs.fold)


def test_the_outlook_zone_around_its_changes() -> None:
    zone = _outlook_zone()
    for year in (2025, 2026, 2099, 2199):
        for month, day in ((3, 25), (10, 25)):
            for minutes in range(0, 8 * 24 * 60, 15):
                local = datetime(year, month, day) + timedelta(minutes=minutes)
                for fold in (0, 1):
                    at = local.replace(fold=fold)
                    assert at.replace(tzinfo=zone).utcoffset() == (
                        at.replace(tzinfo=BERLIN).utcoffset()
                    )
                instant = local.replace(tzinfo=UTC)
                mine, theirs = instant.astimezone(zone), instant.astimezone(BERLIN)
                assert (mine.replace(tzinfo=None), mine.fold) == (
                    theirs.replace(tzinfo=None),
                    theirs.fold,
                )


_ZONE_CACHE: list[vtimezone.VTimezone] = []


def _outlook_zone() -> vtimezone.VTimezone:
    if not _ZONE_CACHE:
        text = "BEGIN:VCALENDAR\r\n" + OUTLOOK_ZONE.replace("\n", "\r\n") + "\r\nEND:VCALENDAR\r\n"
        (root,) = read_calendar(text, "zone.ics", [])
        _ZONE_CACHE.append(vtimezone.read_vtimezone(root.components[0], "W", SearchBudget(10**9)))
    return _ZONE_CACHE[0]


def test_bad_zone_offsets_are_refused_not_normalised(tmp_path: Path) -> None:
    for bad, why in (
        ("+0099", "UTC offset out of range: hours 00-23, minutes and seconds 00-59"),
        ("+2400", "UTC offset out of range: hours 00-23, minutes and seconds 00-59"),
        ("-0000", "UTC offset -0000 is not allowed (RFC 5545 3.3.14): write +0000"),
        ("+1", "not a UTC offset: expected +HHMM or -HHMM, such as +0100"),
    ):
        zone = OUTLOOK_ZONE.replace("TZOFFSETFROM:+0200", f"TZOFFSETFROM:{bad}")
        path = calendar(
            tmp_path,
            zone,
            event("o", 'DTSTART;TZID="W. Europe Standard Time":20250101T013000', "DURATION:PT1H"),
        )
        assert problems("ics", [path]) == [
            f"{path}:{line_of(path, f'TZOFFSETFROM:{bad}')}: VEVENT o: VTIMEZONE W. Europe "
            f"Standard Time STANDARD TZOFFSETFROM: {why} (value '{bad}')"
        ]


# --- the oracle: python-dateutil -----------------------------------------------------------

WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


@st.composite
def rules(draw: st.DrawFn) -> str:
    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]))
    parts = [f"FREQ={freq}"]

    def numbers(low: int, high: int, negative: bool = False) -> str:
        values = draw(st.sets(st.integers(low, high), min_size=1, max_size=3))
        if negative:
            values = {v * draw(st.sampled_from([1, -1])) for v in values}
        return ",".join(str(v) for v in sorted(values))

    if draw(st.booleans()):
        parts.append(f"INTERVAL={draw(st.integers(1, 4))}")
    if draw(st.integers(0, 3)) == 0:
        parts.append("BYMONTH=" + numbers(1, 12))
    # dateutil reads a negative week number in late December only as week 1 of the next year
    # (RFC 5545 counts from that year's end too): positive numbers only here.
    if freq == "YEARLY" and draw(st.integers(0, 4)) == 0:
        parts.append("BYWEEKNO=" + numbers(1, 53))
    if freq == "YEARLY" and draw(st.integers(0, 4)) == 0:
        parts.append("BYYEARDAY=" + numbers(1, 366, negative=True))
    if freq != "WEEKLY" and draw(st.integers(0, 3)) == 0:
        parts.append("BYMONTHDAY=" + numbers(1, 31, negative=True))
    if draw(st.integers(0, 2)) == 0:
        # dateutil takes BYDAY=MO,1TU as "Mondays that are first Tuesdays" (never), RFC 5545
        # as their union: one kind at a time here.
        numbered = freq in ("MONTHLY", "YEARLY") and "BYWEEKNO" not in ";".join(parts)
        if numbered and draw(st.booleans()):
            most = 5 if freq == "MONTHLY" or "BYMONTH=" in ";".join(parts) else 53
            days = draw(
                st.sets(
                    st.tuples(st.integers(1, most), st.sampled_from(WEEKDAYS)),
                    max_size=2,
                    min_size=1,
                )
            )
            parts.append(
                "BYDAY=" + ",".join(f"{n * draw(st.sampled_from([1, -1]))}{d}" for n, d in days)
            )
        else:
            parts.append("BYDAY=" + ",".join(draw(st.sets(st.sampled_from(WEEKDAYS), min_size=1))))
    if draw(st.integers(0, 3)) == 0:
        parts.append("BYHOUR=" + numbers(0, 23))
    if draw(st.integers(0, 5)) == 0:
        parts.append("BYMINUTE=" + numbers(0, 59))
    if freq in ("MONTHLY", "YEARLY") and draw(st.integers(0, 4)) == 0:
        parts.append("BYSETPOS=" + numbers(1, 10, negative=True))
    if draw(st.integers(0, 4)) == 0:
        parts.append("WKST=" + draw(st.sampled_from(WEEKDAYS)))
    return ";".join(parts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(
    text=rules(),
    start=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2150, 1, 1)),
    days=st.sampled_from([40, 400, 3000]),
)
def test_occurrences_are_dateutils_where_dateutil_ends(text: str, start: datetime, days: int):
    try:
        rule = read_rrule(text)
    except ValueError:
        assume(False)
        return
    start = start.replace(second=0, microsecond=0)
    end = start + timedelta(days=days)
    found = list(
        occurrences(rule, start, last=end.date() + timedelta(days=800), budget=SearchBudget())
    )
    # dateutil walks to the year 9999 for an occurrence that never comes: it is asked only
    # when one comes after ``end``, where it stops.
    assume(any(moment > end for moment in found))
    theirs = dateutil_rrule.rrulestr(text, dtstart=start).between(start, end, inc=True)
    ours = [m for m in found if m <= end]
    if any(f"{n}" in _week_numbers(text) for n in (52, 53)):
        # dateutil counts the weeks of the year before with this year's length (lnumweeks in
        # its rrule.py): the first days of January that belong to the year before's last week
        # are kept in some years and not in others (1 January 2006 is kept, 1-2 January 2011,
        # also in week 52 of the year before, are not). Those days are left out of both.
        ours = [m for m in ours if not (m.month == 1 and m.day <= 6)]
        theirs = [m for m in theirs if not (m.month == 1 and m.day <= 6)]
    assert ours == theirs


def _week_numbers(text: str) -> list[str]:
    part = next((p for p in text.split(";") if p.startswith("BYWEEKNO=")), "BYWEEKNO=")
    return part.split("=", 1)[1].split(",")


def test_the_search_budget_is_shared_and_named() -> None:
    budget = SearchBudget(1000)
    rule = read_rrule("FREQ=DAILY;INTERVAL=7;BYDAY=TU")
    with pytest.raises(recurrence.SearchSpent, match="more than 1,000 search steps"):
        list(occurrences(rule, datetime(2025, 1, 6), last=date(2199, 12, 31), budget=budget))


# --- offsets, dates and the years an incident log holds --------------------------------------


def statuspage_doc(**fields: object) -> dict:
    incident = {
        "id": "inc1",
        "name": "Search",
        "status": "resolved",
        "created_at": "2025-03-04T10:00:00Z",
        "updated_at": "2025-03-04T12:00:00Z",
        "resolved_at": "2025-03-04T12:00:00Z",
        "impact": "major",
        "incident_updates": [
            {
                "id": "u1",
                "status": "investigating",
                "created_at": "2025-03-04T10:00:00Z",
                "display_at": "2025-03-04T10:00:00Z",
                "affected_components": [
                    {
                        "code": "c1",
                        "name": "Search",
                        "old_status": "operational",
                        "new_status": "major_outage",
                    }
                ],
            },
            {"id": "u2", "status": "resolved", "created_at": "2025-03-04T12:00:00Z"},
        ],
    }
    incident.update(fields)
    return incident


@pytest.mark.parametrize(
    ("offset", "why"),
    [
        ("+00:99", "the UTC offset's minutes must be below 60 (+00:99 is not a real offset)"),
        ("-05:60", "the UTC offset's minutes must be below 60 (-05:60 is not a real offset)"),
        ("+24:00", "the UTC offset is out of range (at most ±23:59, not +24:00)"),
        ("+9930", "the UTC offset is out of range (at most ±23:59, not +99:30)"),
    ],
)
def test_offsets_are_checked_never_normalised(tmp_path: Path, offset: str, why: str) -> None:
    at = f"2025-03-04T12:00:00{offset}"
    path = write_json(tmp_path, {"incidents": [statuspage_doc(resolved_at=at)]}, "statuspage.json")
    assert problems("statuspage", [path]) == [
        f"{path}: $.incidents[0].resolved_at: not a timestamp: {why} (value '{at}')"
    ]
    alert = {
        "version": "4",
        "alerts": [
            {
                "status": "firing",
                "labels": {"service": "api"},
                "startsAt": at,
                "endsAt": "0001-01-01T00:00:00Z",
                "fingerprint": "f1",
            }
        ],
    }
    path = write_json(tmp_path, alert, "alerts.jsonl")
    assert problems("alertmanager", [path]) == [
        f"{path}:1: $.alerts[0].startsAt: not a timestamp: {why} (value '{at}')"
    ]
    csv = tmp_path / "pagerduty.csv"
    csv.write_text(f"id,created_on,resolved_on,service_name\nQ1,{at},,API\n")
    assert problems("pagerduty", [str(csv)]) == [
        f"{csv}:2: column 'created_on': not a timestamp: {why} (value '{at}')"
    ]


def test_a_non_iso_pagerduty_time_is_read_by_the_incident_logs_own_rule(tmp_path: Path) -> None:
    csv = tmp_path / "pagerduty.csv"
    csv.write_text(
        "id,created_on,resolved_on,service_name\n"
        'Q1,"May 14, 2025 07:57 +0099",,API\n'
        'Q2,"May 14, 2025 07:57 EST",,API\n'
        'Q3,"May 14, 1899 07:57",,API\n'
    )
    assert problems("pagerduty", [str(csv)]) == [
        f"{csv}:2: column 'created_on': the UTC offset's minutes must be below 60 (+08:60 is not "
        "+09:00) (value 'May 14, 2025 07:57 +0099')",
        f"{csv}:3: column 'created_on': time zone name 'EST' cannot be resolved exactly "
        "(abbreviations are ambiguous: CST is China, US Central or Cuba): write the offset, such "
        "as +08:00 or Z (value 'May 14, 2025 07:57 EST')",
        f"{csv}:4: column 'created_on': out of the supported range (years 1900 to 2199) (value "
        "'May 14, 1899 07:57')",
    ]


def test_years_outside_1900_to_2199_are_never_written(tmp_path: Path) -> None:
    updates = statuspage_doc()["incident_updates"]
    updates[0] = {**updates[0], "created_at": "1899-12-31T10:00:00Z", "display_at": None}
    early = write_json(
        tmp_path, {"incidents": [statuspage_doc(incident_updates=updates)]}, "e.json"
    )
    assert problems("statuspage", [early]) == [
        f"{early}: $.incidents[0]: the incident starts out of the supported range (years 1900 to "
        "2199) (value '1899-12-31T10:00:00+00:00')"
    ]
    late = write_json(
        tmp_path, {"incidents": [statuspage_doc(resolved_at="2200-01-01T00:00:00Z")]}, "l.json"
    )
    assert problems("statuspage", [late]) == [
        f"{late}: $.incidents[0]: the incident ends out of the supported range (years 1900 to "
        "2199) (value '2200-01-01T00:00:00+00:00')"
    ]
    logs = [
        {"type": 1, "datetime": 253402300000, "duration": 60},  # 9999-12-31T23:46:40Z
        {"type": 1, "datetime": 253402300000, "duration": 800},  # one second past 9999
        {"type": 1, "datetime": 4102444800, "duration": 60},  # 2100-01-01: fine
    ]
    robot = {"stat": "ok", "monitors": [{"id": 7, "friendly_name": "Search", "status": 2}]}
    robot["monitors"][0]["logs"] = logs  # type: ignore[index]
    path = write_json(tmp_path, robot, "robot.json")
    assert problems("uptimerobot", [path]) == [
        f"{path}: $.monitors[0].logs[1].duration: ends after the year 9999 (datetime "
        "253402300000 + duration 800 seconds) (value '800')"
    ]
    logs.pop(1)
    path = write_json(tmp_path, robot, "robot.json")
    assert problems("uptimerobot", [path]) == [
        f"{path}: $.monitors[0].logs[0]: the incident starts out of the supported range (years "
        "1900 to 2199) (value '9999-12-31T23:46:40+00:00')",
    ]
    result = run(["import", "uptimerobot", path])
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    ics_path = calendar(tmp_path, event("x", "DTSTART:23000101T000000Z", "DURATION:PT1H"))
    result = run(["import", "ics", ics_path])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"{ics_path}:{line_of(ics_path, 'DTSTART')}: the incident starts out of the supported "
        "range (years 1900 to 2199) (value '2300-01-01T00:00:00+00:00')"
    )


def test_a_window_outside_the_years_is_wrong_usage() -> None:
    path = str(FIXTURES / "maintenance.ics")
    window = (datetime(2199, 12, 1, tzinfo=UTC), datetime(2300, 1, 1, tzinfo=UTC))
    with pytest.raises(UsageError, match="the import window must lie within 1900-01-02 to"):
        import_files("ics", [path], tz=UTC, window=window)


# --- Statuspage: versions of one incident ----------------------------------------------------


def versions(tmp_path: Path, *docs: tuple[str, list[dict]]) -> list[str]:
    return [write_json(tmp_path, {"incidents": incidents}, name) for name, incidents in docs]


def ongoing(updated_at: str | None = "2025-03-04T11:00:00Z") -> dict:
    doc = statuspage_doc(status="investigating", resolved_at=None, updated_at=updated_at)
    doc["incident_updates"] = doc["incident_updates"][:1]
    return doc


def rows_text(paths: list[str]) -> list[str]:
    return [
        f"{r.start:%H:%M}>{'-' if r.end is None else f'{r.end:%H:%M}'} {r.incident_id} {r.source}"
        for r in import_files("statuspage", paths, tz=UTC).rows
    ]


def test_identical_versions_are_one_whatever_the_order(tmp_path: Path) -> None:
    a, b = versions(tmp_path, ("a.json", [statuspage_doc()]), ("b.json", [statuspage_doc()]))
    # The same rows either way, and the same source: the first file by name stands for both.
    assert rows_text([a, b]) == rows_text([b, a]) == ["10:00>12:00 inc1/u1 statuspage:a.json"]
    (twice,) = versions(tmp_path, ("twice.json", [statuspage_doc(), statuspage_doc()]))
    assert rows_text([twice]) == ["10:00>12:00 inc1/u1 statuspage:twice.json"]


def test_the_later_version_wins_with_a_warning_naming_both(tmp_path: Path) -> None:
    a, b = versions(tmp_path, ("monday.json", [ongoing()]), ("tuesday.json", [statuspage_doc()]))
    for order in ([a, b], [b, a]):
        result = import_files("statuspage", order, tz=UTC)
        assert [(r.end, r.source) for r in result.rows] == [
            (datetime(2025, 3, 4, 12, tzinfo=UTC), "statuspage:tuesday.json")
        ]
        assert [str(w) for w in result.warnings] == [
            f"{b}: $.incidents[0]: incident inc1 is also at {a}: $.incidents[0] with other "
            "content; this version is taken, updated later (updated_at 2025-03-04T12:00:00+00:00,"
            " the other 2025-03-04T11:00:00+00:00)"
        ]
    cli = run(["import", "statuspage", a, b])
    assert cli.exit_code == 0
    assert cli.stderr == (
        f"warning: {b}: $.incidents[0]: incident inc1 is also at {a}: $.incidents[0] with other "
        "content; this version is taken, updated later (updated_at 2025-03-04T12:00:00+00:00, "
        "the other 2025-03-04T11:00:00+00:00)\n"
    )


def test_versions_that_cannot_be_ordered_are_an_error_naming_both(tmp_path: Path) -> None:
    undated, resolved = ongoing(updated_at=None), statuspage_doc()
    a, b = versions(tmp_path, ("a.json", [undated]), ("b.json", [resolved]))
    expected = [
        f"{b}: $.incidents[0]: incident inc1 is also at {a}: $.incidents[0] with other content "
        "and no updated_at to tell which is newer: keep one version of it"
    ]
    assert problems("statuspage", [a, b]) == problems("statuspage", [b, a]) == expected
    tie = ongoing(updated_at=resolved["updated_at"])
    (one,) = versions(tmp_path, ("one.json", [resolved, tie]))
    assert problems("statuspage", [one]) == [
        f"{one}: $.incidents[1]: incident inc1 is also at {one}: $.incidents[0] with other "
        "content and the same updated_at (2025-03-04T12:00:00+00:00): keep one version of it"
    ]


def test_an_identical_version_counts_by_its_newest_copy(tmp_path: Path) -> None:
    # The resolved version is in a.json (updated 10:30) and again in c.json (updated 12:30);
    # the ongoing one in b.json (updated 11:00). The resolved one is the newest.
    resolved = [statuspage_doc(updated_at="2025-03-04T10:30:00Z")]
    again = [statuspage_doc(updated_at="2025-03-04T12:30:00Z")]
    a, b, c = versions(tmp_path, ("a.json", resolved), ("b.json", [ongoing()]), ("c.json", again))
    for order in ([a, b, c], [c, b, a], [b, c, a]):
        result = import_files("statuspage", order, tz=UTC)
        assert [(r.end, r.source) for r in result.rows] == [
            (datetime(2025, 3, 4, 12, tzinfo=UTC), "statuspage:c.json")
        ]
        assert [str(w) for w in result.warnings] == [
            f"{c}: $.incidents[0]: incident inc1 is also at {b}: $.incidents[0] with other "
            "content; this version is taken, updated later (updated_at 2025-03-04T12:30:00+00:00,"
            " the other 2025-03-04T11:00:00+00:00)"
        ]


def test_an_endless_or_binary_source_is_refused_in_a_moment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/dev/zero, /dev/urandom or a runaway pipe is read a piece at a time: its first NUL byte,
    or its size past the cap, stops it (it was read whole, until memory ran out)."""
    from slacalc.importing import reading

    runner = CliRunner()
    for args in (
        ["statuspage", "/dev/zero"],
        ["statuspage", "samples/imports/statuspage.json", "--map", "/dev/zero"],
    ):
        result = runner.invoke(app, ["import", *args])
        assert result.exit_code == 1, result.output
        assert "binary data (a NUL byte): not an export" in result.stderr
    big = tmp_path / "big.json"
    big.write_text("[" + " " * 3_000_000 + "]", encoding="utf-8")
    monkeypatch.setattr(reading, "MAX_SOURCE_BYTES", 2_000_000)
    result = runner.invoke(app, ["import", "statuspage", str(big)])
    assert result.exit_code == 1
    assert "not an export of one source" in result.stderr
