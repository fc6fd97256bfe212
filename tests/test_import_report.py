"""From a vendor's export to the money: `slacalc import` then `slacalc report`, per format.

Each source fixture (described in tests/test_import_<format>.py) is imported with the fixtures'
map (tests/fixtures/import/map.toml) into each format of the native log, and reported with
tests/fixtures/import/contracts.csv (acme buys every service; globex api and webhooks; initech
api and billing) for March 2025 in UTC, as of 1 April 00:00 UTC: an incident still open counts up
to the month's end. Every number is worked out by hand in the comment beside it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from slacalc.cli import app

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "import"
MAP = str(FIXTURES / "map.toml")
CONTRACTS = str(FIXTURES / "contracts.csv")
REPORT = ["--tz", "UTC", "--month", "2025-03", "--as-of", "2025-04-01T00:00:00Z", "-f", "json"]
# From an incident's start to the end of March, UTC.
TO_MONTH_END = {
    "03-05 09:00": 26 * 86400 + 15 * 3600,  # 2,300,400 s
    "03-07 15:00": 24 * 86400 + 9 * 3600,  # 2,106,000 s
    "03-07 15:30": 24 * 86400 + 8 * 3600 + 1800,  # 2,104,200 s
    "03-07 16:00": 24 * 86400 + 8 * 3600,  # 2,102,400 s
    "03-08 08:00": 23 * 86400 + 16 * 3600,  # 2,044,800 s
}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACALC_TZ", "SLACALC_POLICY", "SLACALC_CURRENCY", "SLACALC_CALENDAR"):
        monkeypatch.delenv(name, raising=False)


def run(args: list[str]):
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    return result


def imported(tmp_path: Path, fmt: str, files: list[str], ext: str, name: str = "log") -> str:
    out = str(tmp_path / f"{name}.{ext}")
    result = run(["import", fmt, *files, "--map", MAP, "-o", out])
    assert result.exit_code == 0, result.stderr
    return out


def reported(logs: list[str], *extra: str) -> dict[tuple[str, str], dict]:
    result = run(["report", *logs, "--contracts", CONTRACTS, *REPORT, *extra])
    assert result.exit_code == 0, result.stderr
    return {(r["customer_id"], r["service"]): r for r in json.loads(result.stdout)}


# (format, files, {(customer, service): (downtime_seconds, excluded_seconds)})
CASES = [
    (
        "statuspage",
        ["statuspage_incidents.json"],
        {
            # API for every customer: 4 March 10:00-10:20 partial (map: 0.5) 600 s + 10:20-10:50
            # major 1800 s + 10:50-11:30 partial 1200 s; 6 March 08:00-08:30 major 1800 s
            # (resolved, then re-opened) + 09:00-09:40 partial 1200 s = 6600 s.
            ("acme", "api"): (6600, 0),
            ("globex", "api"): (6600, 0),
            ("initech", "api"): (6600, 0),
            # Webhooks: degraded (map: 10 %) 10:00-10:50 = 300 s, and down from 7 March 15:00,
            # never resolved: + 2,106,000 s.
            ("acme", "webhooks"): (300 + TO_MONTH_END["03-07 15:00"], 0),
            ("globex", "webhooks"): (2106300, 0),
            # The dedicated DB is acme's alone: 5 March 12:00-12:45.
            ("acme", "db"): (2700, 0),
            ("initech", "billing"): (0, 0),
        },
    ),
    (
        "pagerduty",
        ["pagerduty_incidents.json"],
        {
            # Q1 4 March 10:10-10:40 (high: 1) 1800 s + Q3 from 7 March 16:00, open, priority
            # P3 (map: 50 %): 2,102,400 s x 0.5 = 1,051,200 s.
            ("acme", "api"): (1800 + TO_MONTH_END["03-07 16:00"] // 2, 0),
            ("initech", "api"): (1053000, 0),
            # Q2 billing 5 March 09:00-09:30, urgency low (map: 0.25): 450 s.
            ("initech", "billing"): (450, 0),
            ("acme", "billing"): (450, 0),
        },
    ),
    (
        "pagerduty",
        ["pagerduty_incidents.csv"],
        {
            # Q1 1800 s + Q5 from 8 March 09:00+01:00 = 08:00 UTC, open: 2,044,800 s.
            ("globex", "api"): (1800 + TO_MONTH_END["03-08 08:00"], 0),
            # Q4 billing 5 March 18:00-18:20, urgency low (map: 0.25): 300 s.
            ("initech", "billing"): (300, 0),
        },
    ),
    (
        "alertmanager",
        ["alertmanager_webhooks.jsonl"],
        {
            # The api-gateway alert of tenant shared-eu (map: acme and globex), firing
            # 10:05:00.123456789Z, resolved 10:35:00.123456789Z: 1800 s each (nanoseconds
            # past the microsecond dropped at both ends). initech has no alert of its own.
            ("acme", "api"): (1800, 0),
            ("globex", "api"): (1800, 0),
            ("initech", "api"): (0, 0),
            # The webhooks alert has no tenant: every customer, 10:15-10:25 = 600 s.
            ("acme", "webhooks"): (600, 0),
            ("globex", "webhooks"): (600, 0),
            # acme's db alert, severity warning (map: 0.5), firing from 7 March
            # 16:30+01:00 = 15:30 UTC: 2,104,200 s x 0.5 = 1,052,100 s.
            ("acme", "db"): (TO_MONTH_END["03-07 15:30"] // 2, 0),
        },
    ),
    (
        "uptimerobot",
        ["uptimerobot_monitors.json"],
        {
            # API Gateway down 4 March 10:05-10:35 (1800 s) and 6 March 07:00-07:45 (2700 s).
            ("acme", "api"): (4500, 0),
            ("initech", "api"): (4500, 0),
            # Billing down 4 March 23:00-23:10 (600 s); paused 2 March 12:00-13:00 (3600 s)
            # and from 5 March 09:00 on (2,300,400 s): excluded.
            ("initech", "billing"): (600, 3600 + TO_MONTH_END["03-05 09:00"]),
        },
    ),
    (
        "ics",
        ["maintenance.ics"],
        {
            # API Gateway: 10 March 22:00-23:00Z (1 h); the weekly Sunday window 01:30-03:30
            # Europe/Berlin on 16 March (00:30-02:30Z), not 23 March (EXDATE), and 30 March,
            # the DST day: 01:30 CET + 2 h = 04:30 CEST (00:30-02:30Z): 5 h = 18,000 s.
            ("acme", "api"): (0, 18000),
            ("globex", "api"): (0, 18000),
            # Billing: two daily New York windows across the 9 March DST change, 8 March
            # 12:00 EST (17:00Z) to 10 March 12:00 EDT (16:00Z) = 47 h, and the floating
            # 11 March 02:00-04:00 (UTC here) = 2 h: 49 h = 176,400 s.
            ("initech", "billing"): (0, 176400),
            # Webhooks: 12, 19, 26 March 22:00-23:00 Berlin (3 h) + all of 30 March (24 h).
            ("globex", "webhooks"): (0, 97200),
            # The dedicated DB (acme only): 16 and 30 March, 2 h each.
            ("acme", "db"): (0, 14400),
        },
    ),
]


@pytest.mark.parametrize("ext", ["csv", "jsonl", "parquet"])
@pytest.mark.parametrize(
    ("fmt", "files", "expected"), CASES, ids=[f"{c[0]}-{c[1][0]}" for c in CASES]
)
def test_import_then_report(
    tmp_path: Path, fmt: str, files: list[str], expected: dict, ext: str
) -> None:
    log = imported(tmp_path, fmt, [str(FIXTURES / f) for f in files], ext)
    rows = reported([log])
    for key, (downtime, excluded) in expected.items():
        assert (rows[key]["downtime_seconds"], rows[key]["excluded_seconds"]) == (
            downtime,
            excluded,
        ), key


@pytest.mark.parametrize("ext", ["csv", "jsonl", "parquet"])
def test_a_regional_outage_reaches_every_customer_once(tmp_path: Path, ext: str) -> None:
    """A Statuspage regional outage ('*' rows) and an alert of two customers' own overlap.

    API, 4 March, for acme and globex (the alert is theirs) and initech (no alert):
      10:00:00 - 10:05:00.123456  partial outage (0.5)      300.123456 s x 0.5 =  150.061728
      10:05:00.123456 - 10:20     the alert (1) wins          899.876544 s x 1
      10:20 - 10:50               major outage (the alert ends inside it)   1800
      10:50 - 11:30               partial outage (0.5)                     1200
      6 March                     1800 + 1200 (as above)                    3000
      acme, globex: 7049.938272 s, not 6600 + 1800 = 8400; initech: 6600 s.
    Webhooks for every customer: Statuspage's 10 % 10:00-10:50 and the alert (1) 10:15-10:25
    merge: 15 min x 0.1 + 10 min + 25 min x 0.1 = 90 + 600 + 150 = 840 s, and the outage open
    from 7 March 15:00: + 2,106,000 s.
    """
    status = imported(tmp_path, "statuspage", [str(FIXTURES / "statuspage_incidents.json")], ext)
    alerts = imported(
        tmp_path, "alertmanager", [str(FIXTURES / "alertmanager_webhooks.jsonl")], ext, "alerts"
    )
    rows = reported([status, alerts])
    assert rows["acme", "api"]["downtime_seconds"] == 7049.938
    assert rows["globex", "api"]["downtime_seconds"] == 7049.938
    assert rows["initech", "api"]["downtime_seconds"] == 6600
    assert rows["acme", "api"]["incident_count"] == 6  # 5 regional rows + the alert
    assert rows["acme", "webhooks"]["downtime_seconds"] == 840 + TO_MONTH_END["03-07 15:00"]
    assert rows["globex", "webhooks"]["downtime_seconds"] == 2106840
    # Compensation follows: initech (JPY 1,500,000, 99.999 % -> 5.00) = 6600 / 2,678,400 x
    # 1,500,000 x 5 = 18,481.18 -> 18481 JPY (no minor unit).
    assert rows["initech", "api"]["compensation"] == "18481"
    # Without contracts the '*' rows have no customers: a clear error, exit 1.
    result = run(["report", status, alerts, *REPORT, "--monthly-fee", "100"])
    assert result.exit_code == 1
    line = 2 if ext == "csv" else 1
    assert result.stderr.splitlines() == [
        f"{status}:{line}: column 'customer_id': customer '*' (every customer of the service) "
        "needs --contracts to know who they are (value '*')",
        "1 problem found",
    ]


def test_validate_and_explain_read_an_imported_log(tmp_path: Path) -> None:
    log = imported(tmp_path, "statuspage", [str(FIXTURES / "statuspage_incidents.json")], "jsonl")
    checked = run(["validate", log, "--contracts", CONTRACTS, "--as-of", "2025-04-01T00:00:00Z"])
    assert checked.exit_code == 0, checked.stdout
    assert "8 incident rows in 1 file(s)" in checked.stdout
    explained = run(
        [
            "explain",
            log,
            "--contracts",
            CONTRACTS,
            "--customer",
            "initech",
            "--service",
            "api",
            *REPORT[:6],
            "-f",
            "json",
        ]
    )
    assert explained.exit_code == 0, explained.stderr
    (trail,) = json.loads(explained.stdout)
    assert trail["row"]["downtime_seconds"] == 6600
    # The customer-wide rows, each with the source's own id and its line in the log.
    assert [(i["incident_id"], i["line"]) for i in trail["incidents"]] == [
        ("p0wsy2mq1x7d/u1nv35t1g8t3", 1),
        ("p0wsy2mq1x7d/u2id3nt1f13d", 3),
        ("p0wsy2mq1x7d/u3m0n1t0r1ng", 4),
        ("r30p3n3d0api/w1r30p3n0000", 6),
        ("r30p3n3d0api/w3r30p3n0000", 7),
    ]


def test_the_readme_sample_import(tmp_path: Path) -> None:
    """samples/imports: the eu-west outage of 8 July 2025 reaches every compute contract of
    samples/contracts.csv (acme and initech buy every service, umbrella compute):
    01:00-01:30 partial 30 % (540 s) + 01:30-02:00 major (1800 s) + 02:00-02:20 partial 30 %
    (360 s) = 2700 s. Object Storage was only degraded (no row); the website is no service.
    The committed samples/imports/incidents.jsonl is what the import writes."""
    sample = ROOT / "samples" / "imports"
    args = ["import", "statuspage", str(sample / "statuspage.json")]
    args += ["--map", str(sample / "map.toml"), "--unmapped", "skip", "-f", "jsonl"]
    result = run(args)
    assert result.exit_code == 0, result.stderr
    committed = (sample / "incidents.jsonl").read_text(encoding="utf-8")
    assert result.stdout == committed
    report = run(
        [
            "report",
            str(sample / "incidents.jsonl"),
            "--contracts",
            str(ROOT / "samples" / "contracts.csv"),
            "--month",
            "2025-07",
            "--as-of",
            "2025-08-05",
            "-f",
            "json",
        ]
    )
    assert report.exit_code == 0, report.stderr
    down = {
        (r["customer_id"], r["service"]): r["downtime_seconds"] for r in json.loads(report.stdout)
    }
    assert down[("acme", "compute")] == down[("initech", "compute")] == 2700
    assert down[("umbrella", "compute")] == 2700
    assert down[("acme", "storage")] == down[("umbrella", "storage")] == 0
