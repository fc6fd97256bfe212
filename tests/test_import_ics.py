"""iCalendar maintenance windows: RFC 5545 reading, recurrence expansion across DST, bounds.

Where the fixtures' shapes come from: RFC 5545 (https://www.rfc-editor.org/rfc/rfc5545).
maintenance.ics is written with CRLF line endings and 75-octet line folding (3.1), TEXT escapes
(3.3.11), VTIMEZONE definitions for Europe/Berlin and America/New_York in the form tzurl.org
and most calendar servers publish (3.6.5), DTSTART/DTEND with TZID (3.3.5 form #3), UTC (form
#2) and floating (form #1) times, VALUE=DATE all-day events (3.6.1), DURATION (3.3.6),
RRULE/EXDATE/RDATE (3.3.10, 3.8.5) and a VALARM inside a VEVENT (3.6.6).
maintenance_outlook.ics names its zone as Outlook does, TZID "W. Europe Standard Time",
defined only by its own VTIMEZONE. maintenance_unbounded.ics has an RRULE without COUNT/UNTIL.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slacalc.errors import InputError
from slacalc.importing import import_files
from slacalc.importing.recurrence import read_rrule
from slacalc.importing.rfc5545 import parse_duration, parse_line, split_text_list, unfold

FIXTURES = Path(__file__).parent / "fixtures" / "import"
ICS = str(FIXTURES / "maintenance.ics")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def elapsed(row) -> timedelta:
    return row.end.astimezone(UTC) - row.start.astimezone(UTC)


def rows_of(paths: list[str], *, tz=BERLIN, window=None, uid: str | None = None) -> list[str]:
    result = import_files("ics", paths, tz=tz, window=window)
    return [
        f"{r.start.isoformat()} > {r.end.isoformat()} | {r.service} | {r.incident_id}"
        for r in result.rows
        if uid is None or r.incident_id.startswith(uid + "@")
    ]


def test_weekly_window_keeps_its_local_time_across_the_march_switch() -> None:
    # Sunday 01:30-03:30 Europe/Berlin from 16 March, COUNT=4, EXDATE 23 March. Berlin moves
    # from +01:00 to +02:00 at 02:00 on Sunday 30 March. DTEND - DTSTART is an exact duration
    # of 2 h (RFC 5545 3.8.5.3: "the same exact duration will apply to all the members"):
    #   16 Mar 01:30+01:00 = 00:30Z; + 2 h = 02:30Z = 03:30+01:00
    #   23 Mar excluded (EXDATE), though it counts towards COUNT=4
    #   30 Mar 01:30+01:00 = 00:30Z; + 2 h = 02:30Z = 04:30+02:00 (the clock jumped an hour)
    #    6 Apr 01:30+02:00 = 23:30Z (5 Apr); + 2 h = 01:30Z = 03:30+02:00
    uid = "weekly-db-window@example.com"
    assert rows_of([ICS], uid=uid) == [
        f"2025-03-16T01:30:00+01:00 > 2025-03-16T03:30:00+01:00 | {category} | "
        f"{uid}@2025-03-16T01:30:00+01:00"
        for category in ("API Gateway", "Dedicated DB (acme)")
    ] + [
        f"2025-03-30T01:30:00+01:00 > 2025-03-30T04:30:00+02:00 | {category} | "
        f"{uid}@2025-03-30T01:30:00+01:00"
        for category in ("API Gateway", "Dedicated DB (acme)")
    ] + [
        f"2025-04-06T01:30:00+02:00 > 2025-04-06T03:30:00+02:00 | {category} | "
        f"{uid}@2025-04-06T01:30:00+02:00"
        for category in ("API Gateway", "Dedicated DB (acme)")
    ]


def test_a_nominal_day_and_24_exact_hours_differ_across_the_switch_in_new_york() -> None:
    # New York moves from -05:00 to -04:00 at 02:00 on Sunday 9 March 2025.
    # DURATION:P1D is a nominal day: the same local clock time the next day (3.3.6).
    #   8 Mar 12:00-05:00 > 9 Mar 12:00-04:00: 23 h elapsed.   9 Mar > 10 Mar: 24 h.
    assert rows_of([ICS], uid="billing-day@example.com") == [
        "2025-03-08T12:00:00-05:00 > 2025-03-09T12:00:00-04:00 | Billing | "
        "billing-day@example.com@2025-03-08T12:00:00-05:00",
        "2025-03-09T12:00:00-04:00 > 2025-03-10T12:00:00-04:00 | Billing | "
        "billing-day@example.com@2025-03-09T12:00:00-04:00",
    ]
    # DURATION:PT24H is exact: 8 Mar 12:00-05:00 = 17:00Z; + 24 h = 9 Mar 17:00Z = 13:00-04:00.
    assert rows_of([ICS], uid="billing-24h@example.com") == [
        "2025-03-08T12:00:00-05:00 > 2025-03-09T13:00:00-04:00 | Billing | "
        "billing-24h@example.com@2025-03-08T12:00:00-05:00",
        "2025-03-09T12:00:00-04:00 > 2025-03-10T12:00:00-04:00 | Billing | "
        "billing-24h@example.com@2025-03-09T12:00:00-04:00",
    ]


def test_all_day_utc_floating_and_rdate_events() -> None:
    rows = rows_of([ICS])
    # VALUE=DATE 30 March to 31 March, in the billing zone (Berlin): local midnight to local
    # midnight, 23 h elapsed on the day the clocks go forward.
    assert (
        "2025-03-30T00:00:00+01:00 > 2025-03-31T00:00:00+02:00 | Webhooks | "
        "webhooks-day@example.com@2025-03-30T00:00:00+01:00"
    ) in rows
    # A UTC time stays UTC.
    assert (
        "2025-03-10T22:00:00+00:00 > 2025-03-10T23:00:00+00:00 | API Gateway | "
        "utc-window@example.com@2025-03-10T22:00:00+00:00"
    ) in rows
    # A floating time (no TZID, no Z) is local time in the billing zone.
    assert (
        "2025-03-11T02:00:00+01:00 > 2025-03-11T04:00:00+01:00 | Billing | "
        "floating@example.com@2025-03-11T02:00:00+01:00"
    ) in rows
    assert rows_of([ICS], uid="rdate@example.com") == [
        f"2025-03-{day}T22:00:00+01:00 > 2025-03-{day}T23:00:00+01:00 | Webhooks | "
        f"rdate@example.com@2025-03-{day}T22:00:00+01:00"
        for day in ("12", "19", "26")  # DTSTART and the two RDATEs
    ]
    assert len(rows) == 6 + 2 + 2 + 1 + 1 + 1 + 3


def test_floating_times_follow_the_billing_zone() -> None:
    rows = rows_of([ICS], tz=ZoneInfo("Asia/Shanghai"), uid="floating@example.com")
    assert rows == [
        "2025-03-11T02:00:00+08:00 > 2025-03-11T04:00:00+08:00 | Billing | "
        "floating@example.com@2025-03-11T02:00:00+08:00"
    ]


def test_a_zone_defined_only_by_its_vtimezone_gives_the_same_instants() -> None:
    outlook = import_files("ics", [str(FIXTURES / "maintenance_outlook.ics")], tz=UTC).rows
    iana = [
        r
        for r in import_files("ics", [ICS], tz=UTC).rows
        if r.incident_id.startswith("weekly-db-window@")
    ]
    assert [(r.start, r.end, r.service) for r in outlook] == [
        (r.start, r.end, r.service) for r in iana
    ]
    # (Elapsed time: in UTC, as Python subtracts two times of one zone by their clock readings.)
    assert [elapsed(r) for r in outlook] == [timedelta(hours=2)] * 6


def test_an_endless_rule_needs_a_window() -> None:
    path = str(FIXTURES / "maintenance_unbounded.ics")
    with pytest.raises(InputError) as info:
        import_files("ics", [path], tz=BERLIN)
    assert [str(p) for p in info.value.problems] == [
        f"{path}:30: VEVENT patch-tuesday@example.com: RRULE has neither COUNT nor UNTIL: give "
        "a window (--from/--until) to expand it"
    ]
    window = (datetime(2025, 3, 1, tzinfo=BERLIN), datetime(2025, 5, 1, tzinfo=BERLIN))
    # The second Tuesday of March and April; February's is before the window.
    assert rows_of([path], window=window) == [
        "2025-03-11T22:00:00+01:00 > 2025-03-11T23:00:00+01:00 | API Gateway | "
        "patch-tuesday@example.com@2025-03-11T22:00:00+01:00",
        "2025-04-08T22:00:00+02:00 > 2025-04-08T23:00:00+02:00 | API Gateway | "
        "patch-tuesday@example.com@2025-04-08T22:00:00+02:00",
    ]


def test_the_window_keeps_what_overlaps_it() -> None:
    # [30 March 03:00, 31 March 00:00) Berlin: the weekly window of 30 March (01:30-04:30)
    # overlaps it by 90 minutes; the all-day event is inside it; nothing else touches it.
    window = (datetime(2025, 3, 30, 3, tzinfo=BERLIN), datetime(2025, 3, 31, tzinfo=BERLIN))
    assert [r.split(" | ")[2] for r in rows_of([ICS], window=window)] == [
        "webhooks-day@example.com@2025-03-30T00:00:00+01:00",
        "weekly-db-window@example.com@2025-03-30T01:30:00+01:00",
        "weekly-db-window@example.com@2025-03-30T01:30:00+01:00",
    ]


# --- inline calendars ---------------------------------------------------------------------------


def calendar(tmp_path: Path, *events: str, name: str = "cal.ics") -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN"]
    for event in events:
        lines.extend(event.strip().splitlines())
    lines.append("END:VCALENDAR")
    path = tmp_path / name
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    return str(path)


def event(uid: str, *props: str, categories: str = "Search") -> str:
    body = "\n".join(props)
    return (
        f"BEGIN:VEVENT\nUID:{uid}\nDTSTAMP:20250301T000000Z\n{body}\n"
        f"CATEGORIES:{categories}\nEND:VEVENT"
    )


def line_of(path: str, text: str) -> int:
    """The number of the only line of ``path`` that holds ``text``."""
    found = [i for i, line in enumerate(Path(path).read_text().splitlines(), 1) if text in line]
    assert len(found) == 1, found
    return found[0]


def problems(paths: list[str], **kwargs) -> list[str]:
    kwargs.setdefault("tz", BERLIN)
    with pytest.raises(InputError) as info:
        import_files("ics", paths, **kwargs)
    return [str(p) for p in info.value.problems]


def test_a_moved_and_a_cancelled_instance(tmp_path: Path) -> None:
    master = event(
        "w",
        "DTSTART;TZID=Europe/Berlin:20250303T220000",
        "DTEND;TZID=Europe/Berlin:20250303T230000",
        "RRULE:FREQ=WEEKLY;COUNT=3",
    )
    moved = event(
        "w",
        "RECURRENCE-ID;TZID=Europe/Berlin:20250310T220000",
        "SEQUENCE:1",
        "DTSTART;TZID=Europe/Berlin:20250311T210000",
        "DTEND;TZID=Europe/Berlin:20250311T233000",
    )
    cancelled = event(
        "w",
        "RECURRENCE-ID:20250317T210000Z",  # the same instant as 22:00 Berlin, written in UTC
        "STATUS:CANCELLED",
        "DTSTART;TZID=Europe/Berlin:20250317T220000",
        "DTEND;TZID=Europe/Berlin:20250317T230000",
    )
    path = calendar(tmp_path, cancelled, master, moved)
    assert rows_of([path]) == [
        # 3 March as the rule has it; 10 March moved to 11 March 21:00-23:30; 17 March cancelled
        "2025-03-03T22:00:00+01:00 > 2025-03-03T23:00:00+01:00 | Search | "
        "w@2025-03-03T22:00:00+01:00",
        "2025-03-11T21:00:00+01:00 > 2025-03-11T23:30:00+01:00 | Search | "
        "w@2025-03-11T21:00:00+01:00",
    ]


def test_until_exdate_in_utc_and_all_day_exdates(tmp_path: Path) -> None:
    daily = event(
        "d",
        "DTSTART;TZID=America/New_York:20250307T230000",
        "DURATION:PT30M",
        # UNTIL is inclusive and in UTC: 10 Mar 03:00Z is 9 Mar 23:00 EDT, the last one.
        "RRULE:FREQ=DAILY;UNTIL=20250310T030000Z",
        "EXDATE:20250309T040000Z",  # 8 Mar 23:00 EST, written in UTC
    )
    days = event(
        "a",
        "DTSTART;VALUE=DATE:20250301",
        "RRULE:FREQ=DAILY;COUNT=4",
        "EXDATE;VALUE=DATE:20250302,20250303",
    )
    path = calendar(tmp_path, daily, days)
    assert [r.split(" | ")[0] for r in rows_of([path], tz=NEW_YORK)] == [
        # all-day, no DTEND: one day (3.6.1); 2 and 3 March excluded
        "2025-03-01T00:00:00-05:00 > 2025-03-02T00:00:00-05:00",
        "2025-03-04T00:00:00-05:00 > 2025-03-05T00:00:00-05:00",
        "2025-03-07T23:00:00-05:00 > 2025-03-07T23:30:00-05:00",
        "2025-03-09T23:00:00-04:00 > 2025-03-09T23:30:00-04:00",
    ]


def test_a_local_time_in_the_dst_gap_uses_the_offset_before_the_gap(tmp_path: Path) -> None:
    # RFC 5545 3.3.5: TZID=America/New_York:20070311T023000 is 03:30 EDT. Daily at 02:30,
    # the 9 March 2025 instance does not exist on the clock and becomes 03:30-04:00.
    path = calendar(
        tmp_path,
        event(
            "g",
            "DTSTART;TZID=America/New_York:20250308T023000",
            "DURATION:PT1H",
            "RRULE:FREQ=DAILY;COUNT=3",
        ),
    )
    assert [r.split(" | ")[0] for r in rows_of([path])] == [
        "2025-03-08T02:30:00-05:00 > 2025-03-08T03:30:00-05:00",
        "2025-03-09T03:30:00-04:00 > 2025-03-09T04:30:00-04:00",
        "2025-03-10T02:30:00-04:00 > 2025-03-10T03:30:00-04:00",
    ]


def test_hostile_rules_are_refused_or_bounded(tmp_path: Path) -> None:
    start = "DTSTART:20250101T000000Z"
    path = calendar(
        tmp_path,
        event("s", start, "DURATION:PT1S", "RRULE:FREQ=SECONDLY;UNTIL=20260101T000000Z"),
        event("n", start, "DURATION:PT1H", "RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"),
        event("f", start, "DURATION:PT1H", "RRULE:FREQ=YEARLY;COUNT=500"),
        event("c", start, "DURATION:PT1H", "RRULE:FREQ=DAILY;BYHOUR=0,6,12,18;COUNT=1000000"),
    )
    began = time.monotonic()
    # Without a window a rule is read up to 2199-12-31, the last day an incident log holds:
    # 2025 to 2199 has 175 first Januaries. The rows of c are counted before they are made, and
    # the import stops at the 100,001st (25,001 days of four windows each).
    assert problems([path]) == [
        f"{path}:{line_of(path, 'SECONDLY')}: VEVENT s: FREQ=SECONDLY is refused: a maintenance "
        "window repeats at most DAILY (list the times of day with BYHOUR/BYMINUTE instead) (value "
        "'FREQ=SECONDLY;UNTIL=20260101T000000Z')",
        f"{path}:{line_of(path, 'BYMONTHDAY=30')}: VEVENT n: the rule can never occur: no month "
        "it names has the days it names (value 'FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30')",
        f"{path}:{line_of(path, 'COUNT=500')}: VEVENT f: RRULE COUNT=500 is not reached by "
        "2199-12-31, the last day slacalc reads (175 occurrences by then): give a window "
        "(--from/--until) to expand it, or fix the rule",
        f"{path}:{line_of(path, 'COUNT=1000000')}: VEVENT c: the events expand to more than "
        "100,000 rows (occurrences times CATEGORIES, all events together) before the window "
        "ends, the most a calendar may make: give a narrower window (--from/--until) or fix the "
        "rules",
    ]
    assert time.monotonic() - began < 10


def test_broken_events_are_each_reported(tmp_path: Path) -> None:
    path = calendar(
        tmp_path,
        event("back", "DTSTART:20250301T100000Z", "DTEND:20250301T090000Z"),
        event("nocat", "DTSTART:20250301T100000Z", "DTEND:20250301T110000Z", categories=""),
        event("zone", "DTSTART;TZID=Mars/Olympus_Mons:20250301T100000", "DURATION:PT1H"),
        event("both", "DTSTART:20250301T100000Z", "DTEND:20250301T110000Z", "DURATION:PT1H"),
        event("open", "DTSTART:20250301T100000Z"),
        event("date", "DTSTART:20250230T100000Z", "DURATION:PT1H"),
    )
    assert problems([path]) == [
        f"{path}:{line_of(path, 'DTEND:20250301T090000Z')}: VEVENT back: ends before it starts "
        "(DTEND is not after DTSTART) (value '20250301T090000Z')",
        f"{path}:{line_of(path, 'UID:nocat') - 1}: VEVENT nocat: has no CATEGORIES: name the "
        "services under maintenance there",
        f"{path}:{line_of(path, 'Mars')}: VEVENT zone: unknown TZID 'Mars/Olympus_Mons': not an "
        "IANA time zone and no VTIMEZONE in the file defines it",
        f"{path}:{line_of(path, 'UID:both') + 4}: VEVENT both: has both DTEND and DURATION "
        "(RFC 5545 allows one)",
        f"{path}:{line_of(path, 'UID:open') - 1}: VEVENT open: has no DTEND or DURATION: a "
        "maintenance window needs an end",
        f"{path}:{line_of(path, '20250230')}: VEVENT date: DTSTART: not a DATE-TIME: day is out "
        "of range for month (value '20250230T100000Z')",
    ]


def test_broken_files_say_where(tmp_path: Path) -> None:
    unended = tmp_path / "unended.ics"
    unended.write_text("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n")
    garbage = tmp_path / "garbage.ics"
    garbage.write_text("BEGIN:VCALENDAR\r\nthis is not a content line\r\nEND:VCALENDAR\r\n")
    vcard = tmp_path / "contact.vcf"
    vcard.write_text("BEGIN:VCARD\r\nFN:Someone\r\nEND:VCARD\r\n")
    latin1 = tmp_path / "latin1.ics"
    latin1.write_bytes(b"BEGIN:VCALENDAR\r\nSUMMARY:Wartung f\xfcr API\r\nEND:VCALENDAR\r\n")
    paths = [str(p) for p in (unended, garbage, vcard, latin1)]
    assert problems(paths) == [
        f"{unended}:2: BEGIN:VEVENT is never ended (END missing)",
        f"{garbage}:2: cannot read iCalendar line: expected ':' after the name and parameters "
        "of THIS (value 'this is not a content line')",
        f"{vcard}:1: expected BEGIN:VCALENDAR, not BEGIN:VCARD",
        f"{latin1}:2: not UTF-8 text (byte 0xfc at offset 34); save the file as UTF-8",
    ]


# --- the content-line reader ---------------------------------------------------------------------


def test_unfolding_joins_continuation_lines() -> None:
    text = "DESCRIPTION:Rolling rest\r\n arts\r\n\tof the API\r\nSUMMARY:x\r\n\r\n"
    assert list(unfold(text)) == [(1, "DESCRIPTION:Rolling restartsof the API"), (4, "SUMMARY:x")]


def test_parameters_quoted_and_listed_and_caret_escaped() -> None:
    prop = parse_line(
        'ATTENDEE;DELEGATED-FROM="mailto:a@example.com","mailto:b@example.com";'
        "CN=\"Ops; on-call: ^'night^'\";x-custom=one,two:mailto:ops@example.com",
        7,
    )
    assert prop.name == "ATTENDEE"
    assert prop.params == {
        "DELEGATED-FROM": ("mailto:a@example.com", "mailto:b@example.com"),
        "CN": ('Ops; on-call: "night"',),
        "X-CUSTOM": ("one", "two"),
    }
    assert prop.value == "mailto:ops@example.com"
    assert prop.line == 7


def test_text_lists_split_on_unescaped_commas_only() -> None:
    assert split_text_list(r"Billing\, EU,API Gateway,C:\\,D") == [
        "Billing, EU",
        "API Gateway",
        "C:\\",
        "D",
    ]


def test_durations() -> None:
    assert parse_duration("P1W").days == 7
    assert parse_duration("P1DT2H30M").exact == timedelta(hours=2, minutes=30)
    assert parse_duration("P1DT2H30M").days == 1
    for bad in ("P", "PT", "P1H", "-PT1H", "1H"):
        with pytest.raises(ValueError):
            parse_duration(bad)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("FREQ=WEEKLY;BYMONTHDAY=1", "BYMONTHDAY cannot be used with FREQ=WEEKLY (RFC 5545)"),
        ("FREQ=DAILY;BYWEEKNO=3", "BYWEEKNO needs FREQ=YEARLY (RFC 5545)"),
        ("FREQ=WEEKLY;BYDAY=2MO", "BYDAY=2MO: a numbered weekday needs FREQ=MONTHLY or YEARLY"),
        ("FREQ=WEEKLY;COUNT=2;UNTIL=20250101T000000Z", "RRULE has both COUNT and UNTIL"),
        ("FREQ=FORTNIGHTLY", "unknown FREQ 'FORTNIGHTLY'"),
        ("FREQ=DAILY;BYHOURS=1", "unknown RRULE part 'BYHOURS'; did you mean 'BYHOUR'?"),
        ("FREQ=DAILY;BYHOUR=24", "BYHOUR value 24 is out of range (0..23)"),
        ("FREQ=DAILY;INTERVAL=0", "INTERVAL must be a whole number from 1 up to 10000"),
    ],
)
def test_rules_are_checked_against_rfc_5545(rule: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_rrule(rule)


ZONES = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Shanghai", "UTC"]


@settings(max_examples=40, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    day=st.dates(min_value=datetime(2024, 1, 1).date(), max_value=datetime(2026, 12, 31).date()),
    minute=st.integers(min_value=0, max_value=24 * 60 - 1),
    length=st.integers(min_value=1, max_value=6 * 60),
    weeks=st.integers(min_value=1, max_value=60),
)
def test_weekly_occurrences_keep_the_clock_time_and_the_exact_length(
    tmp_path_factory: pytest.TempPathFactory,
    zone: str,
    day,
    minute: int,
    length: int,
    weeks: int,
) -> None:
    tz = ZoneInfo(zone)
    start = datetime.combine(day, datetime.min.time()).replace(
        hour=minute // 60, minute=minute % 60
    )
    end = (start.replace(tzinfo=tz).astimezone(UTC) + timedelta(minutes=length)).astimezone(tz)
    path = calendar(
        tmp_path_factory.mktemp("cal"),
        event(
            "p",
            f"DTSTART;TZID={zone}:{start:%Y%m%dT%H%M%S}",
            f"DTEND;TZID={zone}:{end:%Y%m%dT%H%M%S}",
            f"RRULE:FREQ=WEEKLY;COUNT={weeks}",
        ),
    )
    rows = import_files("ics", [path], tz=UTC).rows
    assert len(rows) == weeks
    # DTEND as a local time may be the later of two equal clock readings; what counts is the
    # exact length the first occurrence has, which every occurrence keeps.
    exact = elapsed(rows[0])
    for i, row in enumerate(rows):
        wall = start + timedelta(weeks=i)  # the same clock reading, i weeks on
        # fold=0: a reading in a DST gap takes the offset before the gap (RFC 5545 3.3.5)
        # (compared as instants: Python never calls two datetimes equal when one is in a fold)
        assert row.start.timestamp() == wall.replace(tzinfo=tz).timestamp()
        assert elapsed(row) == exact
        local = row.start.astimezone(tz).replace(tzinfo=None)
        assert local == wall or local - wall == timedelta(hours=1)  # only a gap moves it


def test_a_moved_instance_in_another_file_is_reported_in_that_file(tmp_path: Path) -> None:
    master = event("w", "DTSTART:20250303T210000Z", "DURATION:PT1H", "RRULE:FREQ=WEEKLY;COUNT=2")
    moved = event("w", "RECURRENCE-ID:20250310T210000Z", "DTSTART:20250311T25000Z")
    first = calendar(tmp_path, master, name="master.ics")
    second = calendar(tmp_path, moved, name="moved.ics")
    assert problems([first, second]) == [
        f"{second}:{line_of(second, 'DTSTART')}: VEVENT w: DTSTART: not a DATE-TIME: expected "
        "YYYYMMDDTHHMMSS, optionally ending in Z (value '20250311T25000Z')"
    ]
