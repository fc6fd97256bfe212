"""Alertmanager / Grafana webhook imports: firing and resolved notifications paired into rows.

Where the fixtures' shapes come from (alertmanager_webhooks.jsonl, one payload per line):
- Lines 1, 2 and 4 are Alertmanager ``webhook_config`` payloads, version "4", as documented at
  https://prometheus.io/docs/alerting/latest/configuration/#webhook_config: version, groupKey,
  truncatedAlerts, status, receiver, groupLabels, commonLabels, commonAnnotations, externalURL
  and alerts[] {status, labels, annotations, startsAt, endsAt, generatorURL, fingerprint}; the
  values follow the sample v4 payload of the alertmanager-webhook-types crate
  (https://docs.rs/crate/alertmanager-webhook-types/latest/source/assets/sample-v4-payload.json),
  with nanosecond startsAt as Alertmanager writes them and endsAt "0001-01-01T00:00:00Z" while
  firing (Alertmanager hides an end not reached yet).
- Line 3 is a Grafana webhook contact point payload (version "1", orgId, title, state, message,
  and alerts[] with silenceURL, dashboardURL, panelURL, values), field for field as the example
  JSON body at https://grafana.com/docs/grafana/latest/alerting/configure-notifications/
  manage-contact-points/integrations/webhook-notifier/.
"""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from slacalc.errors import InputError
from slacalc.importing import import_files, read_map

FIXTURES = Path(__file__).parent / "fixtures" / "import"
WEBHOOKS = str(FIXTURES / "alertmanager_webhooks.jsonl")
MAP = str(FIXTURES / "map.toml")
UTC = ZoneInfo("UTC")


def rows_of(paths: list[str], **kwargs) -> list[str]:
    result = import_files("alertmanager", paths, tz=UTC, **kwargs)
    return [
        f"{r.start.isoformat()} > {'ongoing' if r.end is None else r.end.isoformat()} | "
        f"{r.service} | {r.customer_id} | {r.incident_id} | {r.impact}"
        for r in result.rows
    ]


def test_firing_and_resolved_pair_into_rows() -> None:
    assert rows_of([WEBHOOKS]) == [
        # Fired at 10:05:00.123456789 (line 1, again on line 2), resolved on line 4 with endsAt
        # 10:35:00.123456789: one row. Nanoseconds are cut to microseconds; the id keeps them.
        "2025-03-04T10:05:00.123456+00:00 > 2025-03-04T10:35:00.123456+00:00 | api-gateway | * | "
        "1a30ba71cca2921f@2025-03-04T10:05:00.123456789Z | 1",
        # Fired on line 2, resolved on line 4 (endsAt 10:25).
        "2025-03-04T10:15:00+00:00 > 2025-03-04T10:25:00+00:00 | webhooks | * | "
        "2b41cb82ddb3a32a@2025-03-04T10:15:00Z | 1",
        # Grafana, line 3: firing, never resolved: still firing (ongoing).
        "2025-03-07T16:30:00+01:00 > ongoing | db | * | c6eadffa33fcdf37@2025-03-07T16:30:00+01:00 "
        "| 1",
    ]


def test_labels_name_customers_through_the_map() -> None:
    # map.toml: [labels] customer_id = "tenant"; [customers] "shared-eu" = ["acme", "globex"];
    # [impact] warning = 0.5. The probe alert's tenant "shared-eu" is two customers: two rows;
    # the webhooks alert has no tenant label: every customer ("*"); Grafana's tenant "acme" is
    # not in [customers], so it is the customer id itself, and its severity "warning" weighs 1/2.
    assert rows_of([WEBHOOKS], mapping=read_map(MAP)) == [
        "2025-03-04T10:05:00.123456+00:00 > 2025-03-04T10:35:00.123456+00:00 | api | acme | "
        "1a30ba71cca2921f@2025-03-04T10:05:00.123456789Z | 1",
        "2025-03-04T10:05:00.123456+00:00 > 2025-03-04T10:35:00.123456+00:00 | api | globex | "
        "1a30ba71cca2921f@2025-03-04T10:05:00.123456789Z | 1",
        "2025-03-04T10:15:00+00:00 > 2025-03-04T10:25:00+00:00 | webhooks | * | "
        "2b41cb82ddb3a32a@2025-03-04T10:15:00Z | 1",
        "2025-03-07T16:30:00+01:00 > ongoing | db | acme | "
        "c6eadffa33fcdf37@2025-03-07T16:30:00+01:00 | 1/2",
    ]


def test_notifications_across_files_and_in_any_order_pair(tmp_path: Path) -> None:
    lines = Path(WEBHOOKS).read_text().splitlines()
    first, second = tmp_path / "tuesday.jsonl", tmp_path / "monday.jsonl"
    first.write_text(lines[3] + "\n")  # the resolved notifications
    second.write_text("\n".join(lines[:3]) + "\n")
    assert rows_of([str(first), str(second)]) == rows_of([WEBHOOKS])


def test_a_pretty_printed_payload_is_read_too(tmp_path: Path) -> None:
    payload = json.loads(Path(WEBHOOKS).read_text().splitlines()[2])
    path = tmp_path / "grafana.json"
    path.write_text(json.dumps(payload, indent=2))
    assert rows_of([str(path)]) == [
        "2025-03-07T16:30:00+01:00 > ongoing | db | * | c6eadffa33fcdf37@2025-03-07T16:30:00+01:00 "
        "| 1",
    ]


def test_bad_lines_are_reported_with_their_line_numbers() -> None:
    bad = str(FIXTURES / "alertmanager_bad.jsonl")
    with pytest.raises(InputError) as info:
        import_files("alertmanager", [bad], tz=UTC)
    assert info.value.lines() == [
        f"{bad}:2: not a JSON document: Expecting value at line 1, column 64 (value "
        '\'{"receiver": "slacalc-archive", "status": "firing", "alerts…\')',
        f"{bad}:3: $.alerts[0].startsAt: missing field",
        f"{bad}:4: $.alerts[0].endsAt: ends before it starts (startsAt is "
        "2025-03-04T10:05:00.123456789Z) (value '2025-03-04T09:05:00Z')",
        "3 problems found",
    ]


def alert(**changes: object) -> dict:
    base = {
        "status": "firing",
        "labels": {"alertname": "Down", "service": "search"},
        "annotations": {},
        "startsAt": "2025-03-04T10:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "",
        "fingerprint": "aaaabbbbccccdddd",
    }
    base.update(changes)
    return base


def test_what_is_wrong_with_an_alert_is_said_precisely(tmp_path: Path) -> None:
    payloads = [
        {"version": "4", "status": "firing", "alerts": [alert(labels={"alertname": "Down"})]},
        {"version": "4", "status": "resolved", "alerts": [alert(status="resolved")]},
        {"version": "5", "alerts": []},
        {"version": "4", "alerts": [alert(fingerprint=None, status="pending")]},
        ["not", "a", "payload"],
        {"version": "4", "alerts": [alert(startsAt="0001-01-01T00:00:00Z")]},
    ]
    path = tmp_path / "alerts.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in payloads))
    with pytest.raises(InputError) as info:
        import_files("alertmanager", [str(path)], tz=UTC)
    assert [str(p) for p in info.value.problems] == [
        f"{path}:1: $.alerts[0].labels: no label 'service' to name the service; name the label "
        'that does in the map: [labels] service = "<label>"',
        f"{path}:2: $.alerts[0].endsAt: a resolved alert needs a real end time "
        "(value '0001-01-01T00:00:00Z')",
        f'{path}:3: $.version: unknown webhook version (Alertmanager sends "4", Grafana "1") '
        "(value '5')",
        f"{path}:4: $.alerts[0].status: unknown alert status (known: firing, resolved) "
        "(value 'pending')",
        f"{path}:4: $.alerts[0].fingerprint: is null; expected a string",
        f'{path}:5: $: expected a webhook payload object (value \'["not", "a", "payload"]\')',
        f"{path}:6: $.alerts[0].startsAt: is the zero time: the alert never started "
        "(value '0001-01-01T00:00:00Z')",
    ]


def test_a_later_resolution_of_the_same_alert_wins(tmp_path: Path) -> None:
    early = alert(status="resolved", endsAt="2025-03-04T10:20:00Z")
    late = alert(status="resolved", endsAt="2025-03-04T10:30:00Z")
    path = tmp_path / "alerts.jsonl"
    path.write_text(
        "".join(json.dumps({"version": "4", "alerts": [a]}) + "\n" for a in (late, early))
    )
    assert rows_of([str(path)]) == [
        "2025-03-04T10:00:00+00:00 > 2025-03-04T10:30:00+00:00 | search | * | "
        "aaaabbbbccccdddd@2025-03-04T10:00:00Z | 1"
    ]
