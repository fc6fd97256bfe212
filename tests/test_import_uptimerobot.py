"""UptimeRobot imports: down and paused time from monitor logs.

Where the fixture's shape comes from: uptimerobot_monitors.json is a response of the API v2
``POST https://api.uptimerobot.com/v2/getMonitors`` called with ``logs=1``
(https://uptimerobot.com/api/): ``{"stat": "ok", "pagination": {offset, limit, total},
"monitors": [...]}``, each monitor with id, friendly_name, url, type, sub_type, keyword_type,
keyword_case_type, keyword_value, http_username, http_password, port, interval, timeout,
status (0 paused, 1 not checked yet, 2 up, 8 seems down, 9 down), create_datetime and logs[]
{id, type (1 down, 2 up, 98 started, 99 paused), datetime (Unix seconds), duration (seconds),
reason {code, detail}}, newest first, as the API lists them (the same fields as the Go client
in github.com/stakater/IngressMonitorController, pkg/monitors/uptimerobot).
"""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from slacalc.errors import InputError
from slacalc.importing import import_files

FIXTURES = Path(__file__).parent / "fixtures" / "import"
MONITORS = str(FIXTURES / "uptimerobot_monitors.json")
UTC = ZoneInfo("UTC")


def rows_of(paths: list[str]) -> list[str]:
    result = import_files("uptimerobot", paths, tz=UTC)
    return [
        f"{r.start:%m-%d %H:%M} > {'ongoing' if r.end is None else f'{r.end:%m-%d %H:%M}'} | "
        f"{r.service} | {r.incident_id} | {r.category} | {r.impact}"
        for r in result.rows
    ]


def test_down_is_an_outage_and_paused_is_excluded() -> None:
    assert rows_of([MONITORS]) == [
        # Billing paused at 1740916800 = 03-02 12:00 UTC for 3600 s: 12:00-13:00, excluded.
        "03-02 12:00 > 03-02 13:00 | Billing | 777712827@1740916800 | excluded | 1",
        # API Gateway down at 1741082700 = 03-04 10:05 for 1800 s: 10:05-10:35.
        "03-04 10:05 > 03-04 10:35 | API Gateway | 777749809@1741082700 | outage | 1",
        # Billing down at 1741129200 = 03-04 23:00 for 600 s: 23:00-23:10.
        "03-04 23:00 > 03-04 23:10 | Billing | 777712827@1741129200 | outage | 1",
        # Billing paused at 1741165200 = 03-05 09:00: its newest log, and the monitor's status
        # is 0 (paused): still paused, so ongoing; its duration is only "so far".
        "03-05 09:00 > ongoing | Billing | 777712827@1741165200 | excluded | 1",
        # API Gateway down at 1741244400 = 03-06 07:00 for 2700 s: 07:00-07:45.
        "03-06 07:00 > 03-06 07:45 | API Gateway | 777749809@1741244400 | outage | 1",
    ]


def monitor(status: int, logs: list[dict] | None, **fields: object) -> dict:
    base = {"id": 42, "friendly_name": "Search", "type": 1, "status": status, "logs": logs}
    base.update(fields)
    return base


def write(tmp_path: Path, doc: object, name: str = "monitors.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def test_a_monitor_still_down(tmp_path: Path) -> None:
    logs = [
        {"type": 1, "datetime": 1741082700, "duration": 600},
        {"type": 2, "datetime": 1741000000, "duration": 82700},
    ]
    path = write(tmp_path, {"stat": "ok", "monitors": [monitor(9, logs)]})
    assert rows_of([path]) == ["03-04 10:05 > ongoing | Search | 42@1741082700 | outage | 1"]


def test_a_later_export_finishes_an_ongoing_log(tmp_path: Path) -> None:
    down = {"type": 1, "datetime": 1741082700, "duration": 600}
    earlier = write(tmp_path, {"stat": "ok", "monitors": [monitor(9, [down])]}, "a.json")
    up = {"type": 2, "datetime": 1741084500, "duration": 60}
    finished = dict(down, duration=1800)
    later = write(tmp_path, {"stat": "ok", "monitors": [monitor(2, [up, finished])]}, "b.json")
    expected = ["03-04 10:05 > 03-04 10:35 | Search | 42@1741082700 | outage | 1"]
    assert rows_of([earlier, later]) == expected
    assert rows_of([later, earlier]) == expected


def test_problems_name_the_json_path(tmp_path: Path) -> None:
    failed = write(
        tmp_path,
        {"stat": "fail", "error": {"type": "invalid_parameter", "message": "api_key is invalid"}},
        "failed.json",
    )
    doc = {
        "stat": "ok",
        "monitors": [
            monitor(2, None),
            {"id": 43, "friendly_name": "Docs", "status": 2},
            monitor(7, [{"type": 3, "datetime": 1.5e9, "duration": -5}]),
        ],
    }
    bad = write(tmp_path, doc, "bad.json")
    with pytest.raises(InputError) as info:
        import_files("uptimerobot", [failed, bad], tz=UTC)
    assert [str(p) for p in info.value.problems] == [
        f"{failed}: $.stat: the getMonitors call failed: the file holds its error, not monitors "
        "(value 'api_key is invalid')",
        f"{bad}: $.monitors[0].logs: is null; expected a list",
        f"{bad}: $.monitors[1].logs: missing field: call getMonitors with logs=1",
        f"{bad}: $.monitors[2].status: unknown monitor status (known: 0, 1, 2, 8, 9) (value '7')",
        f"{bad}: $.monitors[2].logs[0].datetime: expected an integer (value '1500000000.0')",
        f"{bad}: $.monitors[2].logs[0].type: unknown log type (known: 1 down, 2 up, 98 started, "
        "99 paused) (value '3')",
        f"{bad}: $.monitors[2].logs[0].duration: not a duration in seconds (value '-5')",
    ]
