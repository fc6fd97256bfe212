"""import_files as a whole: formats, stdin, the window, rows from several sources together.

The fixtures are described in the test file of each format (tests/test_import_<format>.py).
"""

from __future__ import annotations

import io
import itertools
import sys
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from slacalc.errors import InputError, UsageError
from slacalc.importing import FORMATS, ImportedRow, import_files, read_map

FIXTURES = Path(__file__).parent / "fixtures" / "import"
MAP = str(FIXTURES / "map.toml")
BERLIN = ZoneInfo("Europe/Berlin")


def seconds(a: datetime, b: datetime) -> Fraction:
    return Fraction((b.astimezone(UTC) - a.astimezone(UTC)) // timedelta(microseconds=1), 10**6)


def weighted_downtime(rows: list[ImportedRow], service: str, customer: str) -> Fraction:
    """An oracle for one key: seconds x the largest impact of the outage rows active at each
    instant, less maintenance and excluded time. Slow and plain on purpose."""
    mine = [r for r in rows if r.service == service and r.customer_id in (customer, "*")]
    edges = sorted({t for r in mine for t in (r.start, r.end) if t is not None})
    total = Fraction(0)
    for a, b in itertools.pairwise(edges):
        active = [r for r in mine if r.start <= a and (r.end is None or r.end >= b)]
        if any(r.category in ("maintenance", "excluded") for r in active):
            continue
        loss = max((r.impact for r in active if r.category in ("outage", "data_loss")), default=0)
        total += loss * seconds(a, b)
    return total


def test_the_formats() -> None:
    assert list(FORMATS) == ["statuspage", "pagerduty", "alertmanager", "uptimerobot", "ics"]
    assert all(FORMATS[name].name == name and FORMATS[name].summary for name in FORMATS)


def test_overlapping_incidents_from_four_sources_count_once() -> None:
    mapping = read_map(MAP)
    rows = []
    for fmt, name in [
        ("statuspage", "statuspage_incidents.json"),
        ("pagerduty", "pagerduty_incidents.json"),
        ("alertmanager", "alertmanager_webhooks.jsonl"),
        ("uptimerobot", "uptimerobot_monitors.json"),
    ]:
        rows += import_files(fmt, [str(FIXTURES / name)], mapping=mapping, tz=UTC).rows
    day = [r for r in rows if r.service == "api" and r.start.date() == datetime(2025, 3, 4).date()]
    assert sorted((r.start, r.source) for r in day) == [
        (datetime(2025, 3, 4, 10, 0, tzinfo=UTC), "statuspage:statuspage_incidents.json"),
        (datetime(2025, 3, 4, 10, 5, tzinfo=UTC), "uptimerobot:uptimerobot_monitors.json"),
        (
            datetime(2025, 3, 4, 10, 5, 0, 123456, tzinfo=UTC),
            "alertmanager:alertmanager_webhooks.jsonl",
        ),
        (
            datetime(2025, 3, 4, 10, 5, 0, 123456, tzinfo=UTC),
            "alertmanager:alertmanager_webhooks.jsonl",
        ),
        (datetime(2025, 3, 4, 10, 10, tzinfo=UTC), "pagerduty:pagerduty_incidents.json"),
        (datetime(2025, 3, 4, 10, 20, tzinfo=UTC), "statuspage:statuspage_incidents.json"),
        (datetime(2025, 3, 4, 10, 50, tzinfo=UTC), "statuspage:statuspage_incidents.json"),
    ]
    # For customer acme on 4 March (map.toml: partial_outage = 1/2):
    #   10:00-10:05  Statuspage partial only                           5 min x 1/2 =  2.5 min
    #   10:05-10:50  UptimeRobot 10:05-10:35, the alert 10:05-10:35, PagerDuty 10:10-10:40,
    #                Statuspage major 10:20-10:50: full outage         45 min x 1   = 45   min
    #   10:50-11:30  Statuspage partial again                          40 min x 1/2 = 20   min
    #   = 67.5 min = 4050 s, though the rows add up to far more.
    assert weighted_downtime(day, "api", "acme") == 4050
    naive_sum = sum(
        r.impact * seconds(r.start, r.end) for r in day if r.customer_id in ("acme", "*")
    )
    assert naive_sum > 4050


def test_rows_are_sorted_by_start_service_customer_and_id() -> None:
    rows = import_files(
        "alertmanager",
        [str(FIXTURES / "alertmanager_webhooks.jsonl")],
        mapping=read_map(MAP),
        tz=UTC,
    ).rows
    keys = [(r.start, r.service, r.customer_id, r.incident_id) for r in rows]
    assert keys == sorted(keys)
    assert [r.customer_id for r in rows] == ["acme", "globex", "*", "acme"]


def test_the_window_keeps_rows_that_overlap_it() -> None:
    path = str(FIXTURES / "uptimerobot_monitors.json")
    window = (datetime(2025, 3, 4, 10, 30, tzinfo=UTC), datetime(2025, 3, 5, 10, 0, tzinfo=UTC))
    rows = import_files("uptimerobot", [path], tz=UTC, window=window).rows
    assert [r.incident_id for r in rows] == [
        "777749809@1741082700",  # 10:05-10:35 overlaps the window's first 5 minutes
        "777712827@1741129200",  # 23:00-23:10
        "777712827@1741165200",  # paused from 5 March 09:00, ongoing
    ]


def test_standard_input(monkeypatch: pytest.MonkeyPatch) -> None:
    data = (FIXTURES / "statuspage_manage_api.json").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    rows = import_files("statuspage", ["-"], tz=UTC).rows
    assert [(r.incident_id, r.source) for r in rows] == [
        ("tks5n8x7w24h/kb4fpktpqm0l", "statuspage:<stdin>")
    ]


def test_the_same_file_twice_gives_each_row_once() -> None:
    path = str(FIXTURES / "maintenance.ics")
    once = import_files("ics", [path], tz=BERLIN).rows
    assert import_files("ics", [path, path], tz=BERLIN).rows == once


def test_problems_of_every_file_come_together(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.json")
    bad = str(FIXTURES / "statuspage_bad.json")
    with pytest.raises(InputError) as info:
        import_files("statuspage", [missing, bad, str(tmp_path)], tz=UTC)
    lines = info.value.lines()
    assert lines[0] == f"{missing}: no such file"
    assert lines[1] == f"{tmp_path}: is a directory, not a file"
    assert len(lines) == 2 + 4 + 1 and lines[-1] == "6 problems found"


def test_wrong_usage_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown import format 'statuspag'; did you mean "):
        import_files("statuspag", [], tz=UTC)
    with pytest.raises(UsageError, match="unmapped must be 'error' or 'skip', not 'ignore'"):
        import_files("ics", [], tz=UTC, unmapped="ignore")
    with pytest.raises(UsageError, match="aware datetimes"):
        import_files("ics", [], tz=UTC, window=(datetime(2025, 3, 1), datetime(2025, 4, 1)))
    with pytest.raises(UsageError, match="must end after it starts"):
        day = datetime(2025, 3, 1, tzinfo=UTC)
        import_files("ics", [], tz=UTC, window=(day, day))


def test_an_imported_row_keeps_the_contract() -> None:
    start = datetime(2025, 3, 1, tzinfo=UTC)
    fields = dict(
        start=start,
        end=start + timedelta(hours=1),
        customer_id="*",
        service="api",
        incident_id="x",
        category="outage",
        impact=Fraction(1),
        source="ics:x.ics",
    )
    ImportedRow(**fields)
    for bad in (
        {"impact": Fraction(0)},
        {"impact": Fraction(3, 2)},
        {"category": "downtime"},
        {"end": start - timedelta(seconds=1)},
        {"start": datetime(2025, 3, 1)},
    ):
        with pytest.raises(ValueError):
            ImportedRow(**{**fields, **bad})


def test_a_name_with_a_line_break_is_refused(tmp_path: Path) -> None:
    # A JSON string may hold a line break; no incident log cell may (a CSV row would split).
    path = tmp_path / "incidents.json"
    path.write_text(
        '{"incidents": [{"id": "x1", "status": "resolved", "resolved_at": "2025-03-01T11:00:00Z",'
        ' "incident_updates": [{"id": "u1", "status": "investigating", "created_at": '
        '"2025-03-01T10:00:00Z", "affected_components": [{"code": "c1", "name": "API\\nGateway",'
        ' "old_status": "operational", "new_status": "major_outage"}]}]}]}',
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        import_files("statuspage", [str(path)], tz=UTC)
    assert info.value.lines() == [
        f"{path}: the service holds a line break, which no incident log cell may: give it a "
        "plain name in the map's [services] (value 'API\\nGateway')",
        "1 problem found",
    ]
    mapping = tmp_path / "map.toml"
    mapping.write_text('[services]\n"API\\nGateway" = "api"\n', encoding="utf-8")
    (row,) = import_files("statuspage", [str(path)], mapping=read_map(str(mapping)), tz=UTC).rows
    assert (row.service, row.incident_id) == ("api", "x1/u1")
