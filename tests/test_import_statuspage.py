"""Statuspage imports: component intervals from incident updates.

Where the fixtures' shapes come from:
- statuspage_incidents.json follows the public status-page API v2 ``/api/v2/incidents.json``
  field for field: ``page`` {id, name, url, time_zone, updated_at} and ``incidents[]`` {id, name,
  status, created_at, updated_at, monitoring_at, resolved_at, impact, shortlink, started_at,
  page_id, incident_updates[] {id, status, body, incident_id, created_at, updated_at, display_at,
  affected_components [{code, name, old_status, new_status}] or null, deliver_notifications,
  custom_tweet, tweet_id}, components[], reminder_intervals}, as githubstatus.com serves it
  (captured in github.com/slok/stactus, internal/storage/atlassianstatuspage tests) and as
  documented at https://metastatuspage.com/api/v2/ (updates newest first, as the API lists them;
  here shuffled further). The "Disruption with Git SSH" incident, whose updates all have
  ``affected_components: null``, is modelled on the real one in that capture.
- statuspage_scheduled_maintenances.json: ``/api/v2/scheduled-maintenances.json``, the same
  incident object plus scheduled_for / scheduled_until and the maintenance statuses
  (scheduled, in_progress, verifying, completed), impact "maintenance".
- statuspage_manage_api.json: the Manage API's ``GET /v1/pages/{page_id}/incidents`` list (a
  plain JSON list; backfilled, impact_override, metadata, postmortem_*, scheduled_* fields) as in
  the sample response at https://doers.statuspage.io/api/v1/incidents/ and
  https://developer.statuspage.io/#operation/getPagesPageIdIncidents.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slacalc.errors import InputError
from slacalc.importing import import_files, read_map
from slacalc.importing.importer import Context
from slacalc.importing.reading import SourceFile
from slacalc.importing.statuspage import parse

FIXTURES = Path(__file__).parent / "fixtures" / "import"
INCIDENTS = str(FIXTURES / "statuspage_incidents.json")
MAINTENANCES = str(FIXTURES / "statuspage_scheduled_maintenances.json")
MANAGE_API = str(FIXTURES / "statuspage_manage_api.json")
MAP = str(FIXTURES / "map.toml")
PARTIAL, FULL = Fraction(3, 10), Fraction(1)


def t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def rows_of(paths: list[str], **kwargs) -> list[str]:
    """The rows as "MM-DD HH:MM > MM-DD HH:MM | service | customer | id | category | impact"."""
    result = import_files("statuspage", paths, tz=UTC, **kwargs)
    return [
        f"{r.start:%m-%d %H:%M} > {'ongoing' if r.end is None else f'{r.end:%m-%d %H:%M}'} | "
        f"{r.service} | {r.customer_id} | {r.incident_id} | {r.category} | {r.impact}"
        for r in result.rows
    ]


def test_every_incident_of_the_public_incidents_json() -> None:
    assert rows_of([INCIDENTS]) == [
        # 4 March, "Elevated errors on API and Webhooks"; its updates are listed out of order
        # (10:50, 10:00, 11:30, 10:20) and sorted by display_at:
        #   10:00 API operational -> partial_outage   10:20 partial -> major
        #   10:50 major -> partial                    11:30 resolved, partial -> operational
        "03-04 10:00 > 03-04 10:20 | API | * | p0wsy2mq1x7d/u1nv35t1g8t3 | outage | 3/10",
        "03-04 10:20 > 03-04 10:50 | API | * | p0wsy2mq1x7d/u2id3nt1f13d | outage | 1",
        "03-04 10:50 > 03-04 11:30 | API | * | p0wsy2mq1x7d/u3m0n1t0r1ng | outage | 3/10",
        # (Webhooks was degraded_performance 10:00-10:50: impact 0 by default, so no row.)
        # 5 March, the Git SSH incident: affected_components is null in every update: no row.
        # 5 March, the dedicated database: major_outage from 12:00, and the resolving update
        # at 12:45 says nothing about components: still down until resolved_at, 12:45.
        "03-05 12:00 > 03-05 12:45 | Dedicated DB (acme) | * | c9vq4lm2k8rt/d1b00001nv35 | "
        "outage | 1",
        # 6 March, resolved at 08:30 and re-opened at 09:00: two separate intervals.
        "03-06 08:00 > 03-06 08:30 | API | * | r30p3n3d0api/w1r30p3n0000 | outage | 1",
        "03-06 09:00 > 03-06 09:40 | API | * | r30p3n3d0api/w3r30p3n0000 | outage | 3/10",
        # 7 March, still "identified": ongoing (no end).
        "03-07 15:00 > ongoing | Webhooks | * | 0ng01ng0w3bh/e1w3bh0ng0up | outage | 1",
    ]


def test_partial_outages_count_at_30_percent_as_statuspage_does() -> None:
    rows = import_files("statuspage", [INCIDENTS], tz=UTC).rows
    first_incident = [r for r in rows if r.incident_id.startswith("p0wsy2mq1x7d/")]
    assert [r.impact for r in first_incident] == [Fraction(3, 10), 1, Fraction(3, 10)]
    weighted = sum((r.end - r.start) // timedelta(seconds=1) * r.impact for r in first_incident)
    # Statuspage's uptime rule: major minutes + 0.3 x partial minutes
    #   = 30 (10:20-10:50) + 0.3 x (20 (10:00-10:20) + 40 (10:50-11:30)) = 30 + 18 = 48 minutes.
    assert weighted == 48 * 60


def test_the_map_renames_fans_out_and_reweighs() -> None:
    rows = rows_of([INCIDENTS], mapping=read_map(MAP))
    # map.toml: partial_outage = 0.5, degraded_performance = "10%", the dedicated DB -> acme.
    assert rows[:5] == [
        "03-04 10:00 > 03-04 10:20 | api | * | p0wsy2mq1x7d/u1nv35t1g8t3 | outage | 1/2",
        # Webhooks' degraded_performance 10:00-10:50 now has an impact, so it has a row.
        "03-04 10:00 > 03-04 10:50 | webhooks | * | p0wsy2mq1x7d/u1nv35t1g8t3 | outage | 1/10",
        "03-04 10:20 > 03-04 10:50 | api | * | p0wsy2mq1x7d/u2id3nt1f13d | outage | 1",
        "03-04 10:50 > 03-04 11:30 | api | * | p0wsy2mq1x7d/u3m0n1t0r1ng | outage | 1/2",
        "03-05 12:00 > 03-05 12:45 | db | acme | c9vq4lm2k8rt/d1b00001nv35 | outage | 1",
    ]


def test_scheduled_maintenance_and_under_maintenance() -> None:
    assert rows_of([MAINTENANCES]) == [
        # The announced window, scheduled_for 01:00 to scheduled_until 03:00, for each
        # component of the maintenance (incident id / component id) ...
        "03-09 01:00 > 03-09 03:00 | Dedicated DB (acme) | * | m41nt3n4nc31/db00000acme1 | "
        "maintenance | 1",
        # ... and the time the component was actually under_maintenance: 01:00 to 02:30.
        "03-09 01:00 > 03-09 02:30 | Dedicated DB (acme) | * | m41nt3n4nc31/mu2pr0gr3ss0 | "
        "maintenance | 1",
    ]


def test_the_manage_api_list() -> None:
    assert rows_of([MANAGE_API]) == [
        "03-08 14:00 > 03-08 14:30 | Webhooks | * | tks5n8x7w24h/kb4fpktpqm0l | outage | 3/10",
    ]


def update(uid: str, status: str, at: str, changes: list[tuple[str, str]] | None) -> dict:
    affected = None
    if changes is not None:
        affected = [
            {"code": "c1", "name": "Search", "old_status": old, "new_status": new}
            for old, new in changes
        ]
    return {
        "id": uid,
        "status": status,
        "body": "",
        "incident_id": "inc1",
        "created_at": at,
        "updated_at": at,
        "display_at": at,
        "affected_components": affected,
    }


def incident(updates: list[dict], **fields) -> dict:
    base = {
        "id": "inc1",
        "name": "Search",
        "status": "resolved",
        "created_at": "2025-03-04T10:00:00Z",
        "updated_at": "2025-03-04T12:00:00Z",
        "resolved_at": "2025-03-04T12:00:00Z",
        "impact": "major",
        "incident_updates": updates,
        "components": [],
    }
    base.update(fields)
    return base


def write(tmp_path: Path, doc: object, name: str = "incidents.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


def test_the_newest_copy_of_an_incident_wins(tmp_path: Path) -> None:
    down = update("u1", "investigating", "2025-03-04T10:00:00Z", [("operational", "major_outage")])
    fixed = update("u2", "resolved", "2025-03-04T10:30:00Z", [("major_outage", "operational")])
    earlier = incident(
        [down], status="investigating", resolved_at=None, updated_at="2025-03-04T10:00:00Z"
    )
    later = incident(
        [fixed, down], resolved_at="2025-03-04T10:30:00Z", updated_at="2025-03-04T10:30:00Z"
    )
    a = write(tmp_path, {"incidents": [later]}, "tuesday.json")
    b = write(tmp_path, {"incidents": [earlier]}, "monday.json")
    # The Monday snapshot (still ongoing) is read last but is older: the resolved copy wins.
    assert rows_of([a, b]) == ["03-04 10:00 > 03-04 10:30 | Search | * | inc1/u1 | outage | 1"]


def test_a_component_already_down_when_first_mentioned(tmp_path: Path) -> None:
    down, partial = "major_outage", "partial_outage"
    still = update("u1", "investigating", "2025-03-04T10:00:00Z", [(down, down)])
    better = update("u2", "monitoring", "2025-03-04T10:40:00Z", [(down, partial)])
    done = update("u3", "resolved", "2025-03-04T11:00:00Z", None)
    path = write(tmp_path, {"incidents": [incident([still, better, done])]})
    # Down from the first update that shows it down: the incident's record starts there.
    assert rows_of([path]) == [
        "03-04 10:00 > 03-04 10:40 | Search | * | inc1/u1 | outage | 1",
        "03-04 10:40 > 03-04 12:00 | Search | * | inc1/u2 | outage | 3/10",
    ]


STEPS = [
    ("u1", "investigating", "2025-03-04T10:00:00Z", [("operational", "partial_outage")]),
    ("u2", "identified", "2025-03-04T10:10:00Z", [("partial_outage", "major_outage")]),
    ("u3", "identified", "2025-03-04T10:15:00Z", None),
    ("u4", "resolved", "2025-03-04T10:30:00Z", [("major_outage", "operational")]),
    ("u5", "investigating", "2025-03-04T10:45:00Z", [("operational", "degraded_performance")]),
    ("u6", "investigating", "2025-03-04T10:50:00Z", [("degraded_performance", "major_outage")]),
    ("u7", "monitoring", "2025-03-04T11:20:00Z", [("major_outage", "partial_outage")]),
    ("u8", "resolved", "2025-03-04T12:00:00Z", None),
    ("u9", "postmortem", "2025-03-05T09:00:00Z", None),
]


@settings(max_examples=60, deadline=None)
@given(st.permutations(STEPS))
def test_the_order_of_updates_in_the_file_does_not_matter(steps: list) -> None:
    doc = {"incidents": [incident([update(*s) for s in steps])]}
    src = SourceFile("incidents.json", json.dumps(doc).encode())
    parsed = parse([src], Context(tz=UTC))
    assert parsed.problems == []
    got = sorted((r.start, r.end, r.incident_id, r.default_impact) for r in parsed.rows)
    assert got == [
        (t("2025-03-04 10:00"), t("2025-03-04 10:10"), "inc1/u1", PARTIAL),
        (t("2025-03-04 10:10"), t("2025-03-04 10:30"), "inc1/u2", FULL),
        (t("2025-03-04 10:45"), t("2025-03-04 10:50"), "inc1/u5", Fraction(0)),
        (t("2025-03-04 10:50"), t("2025-03-04 11:20"), "inc1/u6", FULL),
        # still partial at the final resolution (u8 names no component): until resolved_at
        (t("2025-03-04 11:20"), t("2025-03-04 12:00"), "inc1/u7", PARTIAL),
    ]


def test_bad_input_names_the_json_path() -> None:
    bad = str(FIXTURES / "statuspage_bad.json")
    with pytest.raises(InputError) as info:
        import_files("statuspage", [bad], tz=UTC)
    assert [str(p) for p in info.value.problems] == [
        f"{bad}: $.incidents[0].incident_updates: missing field",
        f"{bad}: $.incidents[1].resolved_at: ends before it starts: the incident is resolved at "
        "2025-03-04T09:00:00+00:00, before update b4dup0000002 changed API at "
        "2025-03-04T10:00:00+00:00 (value '2025-03-04T09:00:00.000Z')",
        f"{bad}: $.incidents[2].resolved_at: not a timestamp: expected ISO 8601 with a UTC "
        "offset, such as 2025-05-14T07:57:01Z (value '04/03/2025 11:00')",
        f"{bad}: $.incidents[2].incident_updates[0].affected_components[0].new_status: unknown "
        "component status (known: operational, major_outage, partial_outage, "
        "degraded_performance, under_maintenance) (value 'down')",
    ]


def test_resolved_without_resolved_at_while_components_are_down(tmp_path: Path) -> None:
    down = update("u1", "investigating", "2025-03-04T10:00:00Z", [("operational", "major_outage")])
    path = write(tmp_path, {"incidents": [incident([down], resolved_at=None)]})
    with pytest.raises(InputError) as info:
        import_files("statuspage", [path], tz=UTC)
    assert [str(p) for p in info.value.problems] == [
        f"{path}: $.incidents[0].resolved_at: the incident is resolved but has no resolved_at, "
        "and components are still not operational: Search"
    ]


def test_not_json_and_not_statuspage(tmp_path: Path) -> None:
    html = tmp_path / "status.html"
    html.write_text("<html>Service Unavailable</html>\n")
    summary = write(tmp_path, {"page": {}, "status": {"indicator": "none"}}, "status.json")
    with pytest.raises(InputError) as info:
        import_files("statuspage", [str(html), summary], tz=UTC)
    assert [str(p) for p in info.value.problems] == [
        f"{html}: not JSON: Expecting value at line 1, column 1",
        f"{summary}: $: expected Statuspage incidents: an object with 'incidents' "
        "(/api/v2/incidents.json) or 'scheduled_maintenances', or the Manage API's list of "
        "incidents",
    ]
