"""PagerDuty imports: REST API v2 incidents and the incident CSV export.

Where the fixtures' shapes come from:
- pagerduty_incidents.json is a ``GET https://api.pagerduty.com/incidents`` response (REST API
  v2 "List incidents", https://developer.pagerduty.com/api-reference/9d0b4b12e36f9-list-incidents):
  ``{"incidents": [...], "limit", "offset", "total", "more"}``, each incident with the fields of
  the reference's example (id, type, summary, self, html_url, incident_number, title,
  created_at, updated_at, status, incident_key, service {id, type "service_reference",
  summary, self, html_url}, assignments, assigned_via, last_status_change_at, resolved_at,
  first_trigger_log_entry, alert_counts, is_mergeable, escalation_policy, teams,
  pending_actions, acknowledgements, last_status_change_by, priority {..., summary} or null,
  resolve_reason, incidents_responders, responder_requests, urgency), as reproduced in
  https://prismatic.io/docs/example-payloads/pagerduty/actions/listIncidents.json.
- pagerduty_incidents.csv has the columns of PagerDuty's incidents report CSV download (id,
  incident_number, description, service_id, service_name, escalation_policy_id,
  escalation_policy_name, created_on, resolved_on, seconds_to_first_ack, seconds_to_resolve,
  auto_resolved, ..., urgency, ...), as the tools that load that download store it (for
  example a Rails schema mirroring it: pager_duty_incidents with pager_duty_id, created_on,
  resolved_on, service_name, urgency, ...). PagerDuty's Analytics "raw incidents" export names
  the times created_at / resolved_at and adds priority_name (asyncpd's RawIncidentData); both
  spellings are read. The exact column order of the download is not published; the reader
  goes by header names, so the order does not matter.
"""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from slacalc.errors import InputError
from slacalc.importing import import_files, read_map

FIXTURES = Path(__file__).parent / "fixtures" / "import"
JSON = str(FIXTURES / "pagerduty_incidents.json")
CSV = str(FIXTURES / "pagerduty_incidents.csv")
MAP = str(FIXTURES / "map.toml")
BERLIN = ZoneInfo("Europe/Berlin")


def rows_of(paths: list[str], **kwargs) -> list[str]:
    kwargs.setdefault("tz", BERLIN)
    result = import_files("pagerduty", paths, **kwargs)
    return [
        f"{r.start.isoformat()} > {'ongoing' if r.end is None else r.end.isoformat()} | "
        f"{r.service} | {r.customer_id} | {r.incident_id} | {r.impact} | {r.source}"
        for r in result.rows
    ]


def test_the_rest_api_json() -> None:
    assert rows_of([JSON]) == [
        "2025-03-04T10:10:00+00:00 > 2025-03-04T10:40:00+00:00 | API Gateway | * | "
        "Q1API0GW0001 | 1 | pagerduty:pagerduty_incidents.json",
        "2025-03-05T09:00:00+00:00 > 2025-03-05T09:30:00+00:00 | Billing | * | Q2B1LL1NG002 | 1 | "
        "pagerduty:pagerduty_incidents.json",
        # acknowledged, not resolved: ongoing
        "2025-03-07T16:00:00+00:00 > ongoing | API Gateway | * | Q3API0GW0003 | 1 | "
        "pagerduty:pagerduty_incidents.json",
    ]


def test_impact_from_priority_then_urgency_through_the_map() -> None:
    rows = rows_of([JSON], mapping=read_map(MAP))
    # map.toml [impact]: low = 0.25, P3 = "50%"; neither P1 nor high is there: 1.
    # Q1: priority P1, urgency high -> 1; Q2: no priority, urgency low -> 1/4;
    # Q3: priority P3 (urgency high) -> 1/2: the priority, being more specific, wins.
    assert [r.split(" | ")[1:5] for r in rows] == [
        ["api", "*", "Q1API0GW0001", "1"],
        ["billing", "*", "Q2B1LL1NG002", "1/4"],
        ["api", "*", "Q3API0GW0003", "1/2"],
    ]


def test_the_csv_export() -> None:
    assert rows_of([CSV]) == [
        "2025-03-04T10:10:00+00:00 > 2025-03-04T10:40:00+00:00 | API Gateway | * | "
        "Q1API0GW0001 | 1 | pagerduty:pagerduty_incidents.csv",
        # No UTC offset in this row: local time of the billing zone (Berlin, +01:00 in March).
        "2025-03-05T18:00:00+01:00 > 2025-03-05T18:20:00+01:00 | Billing | * | Q4B1LL1NG004 | 1 | "
        "pagerduty:pagerduty_incidents.csv",
        # resolved_on empty: still open.
        "2025-03-08T09:00:00+01:00 > ongoing | API Gateway | * | Q5API0GW0005 | 1 | "
        "pagerduty:pagerduty_incidents.csv",
    ]


def test_json_and_csv_of_the_same_incident_give_one_row() -> None:
    rows = rows_of([JSON, CSV])
    assert [r.split(" | ")[3] for r in rows] == [
        "Q1API0GW0001",  # in both files, with the same times: once
        "Q2B1LL1NG002",
        "Q4B1LL1NG004",
        "Q3API0GW0003",
        "Q5API0GW0005",
    ]


def test_headers_are_matched_loosely_and_the_analytics_spelling_is_read(tmp_path: Path) -> None:
    path = tmp_path / "raw_incidents.csv"
    path.write_text(
        "\ufeffIncident ID,Created At,Resolved At,Service Name,Urgency,Priority Name,Status\r\n"
        "QX1,2025-03-04T10:00:00Z,2025-03-04T10:06:00Z,Search,high,P3,resolved\r\n"
        "QX2,2025-03-04T11:00:00Z,2025-03-04T11:30:00Z,Search,low,,triggered\r\n",
        encoding="utf-8",
    )
    rows = rows_of([str(path)], mapping=read_map(MAP), unmapped="skip")
    assert rows == []  # "Search" is not in map.toml's [services]: skipped
    rows = rows_of([str(path)], tz=UTC)
    assert [r.split(" | ")[0] for r in rows] == [
        "2025-03-04T10:00:00+00:00 > 2025-03-04T10:06:00+00:00",
        # status "triggered": still open, whatever the resolution column says
        "2025-03-04T11:00:00+00:00 > ongoing",
    ]


def test_bad_csv_rows_are_each_reported_with_their_line() -> None:
    bad = str(FIXTURES / "pagerduty_bad.csv")
    with pytest.raises(InputError) as info:
        import_files("pagerduty", [bad], tz=BERLIN)
    assert info.value.lines() == [
        f"{bad}:2: column 'resolved_on': ends before it starts (value '2025-03-04T09:10:00Z')",
        f"{bad}:3: column 'created_on': ambiguous date: day and month could be read either way; "
        "use ISO 8601 (YYYY-MM-DD) (value '03/04/2025 10:00')",
        f"{bad}:4: column 'service_name': missing service name",
        "3 problems found",
    ]


def test_a_csv_without_the_needed_columns(tmp_path: Path) -> None:
    path = tmp_path / "incidents.csv"
    path.write_text("number,title,opened\n1,Down,2025-03-04\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        import_files("pagerduty", [str(path)], tz=BERLIN)
    assert [str(p) for p in info.value.problems] == [
        f"{path}:1: not a PagerDuty incident export: no column id/incident_id, "
        "created_on/created_at, resolved_on/resolved_at, service_name"
    ]


def test_bad_json_incidents_name_the_path(tmp_path: Path) -> None:
    path = tmp_path / "incidents.json"
    path.write_text(
        '{"incidents": ['
        '{"id": "A", "status": "resolved", "created_at": "2025-03-04T10:00:00Z",'
        ' "resolved_at": null, "service": {"summary": "API Gateway"}, "urgency": "high"},'
        '{"id": "B", "status": "resolved", "created_at": "2025-03-04T10:00:00Z",'
        ' "resolved_at": "2025-03-04T09:00:00Z", "service": {"summary": "API Gateway"}},'
        '{"id": "C", "status": "snoozed", "created_at": "2025-03-04T10:00:00Z"},'
        '"D"]}',
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        import_files("pagerduty", [str(path)], tz=BERLIN)
    assert [str(p) for p in info.value.problems] == [
        f"{path}: $.incidents[0].resolved_at: the incident is resolved but has no resolved_at",
        f"{path}: $.incidents[1].resolved_at: ends before it starts (created_at is "
        "2025-03-04T10:00:00Z) (value '2025-03-04T09:00:00Z')",
        f"{path}: $.incidents[2].status: unknown status (known: triggered, acknowledged, "
        "resolved) (value 'snoozed')",
        f"{path}: $.incidents[2].service: missing field",
        f"{path}: $.incidents[3]: expected an incident object (value 'D')",
    ]


def test_one_incident_with_two_different_resolutions(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    header = "id,created_on,resolved_on,service_name,urgency\n"
    a.write_text(header + "QZ,2025-03-04T10:00:00Z,2025-03-04T10:30:00Z,Search,high\n")
    b.write_text(header + "QZ,2025-03-04T10:00:00Z,2025-03-04T10:45:00Z,Search,high\n")
    with pytest.raises(InputError) as info:
        import_files("pagerduty", [str(a), str(b)], tz=BERLIN)
    assert [str(p) for p in info.value.problems] == [
        f"{b}: incident QZ appears twice with different times ({a}:2 and {b}:2); keep one "
        "export of it"
    ]
