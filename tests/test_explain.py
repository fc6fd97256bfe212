"""explain: the audit trail of one report row, with the report's own numbers."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from slacalc.cli import app

ROOT = Path(__file__).resolve().parent.parent
INCIDENTS = str(ROOT / "samples" / "incidents.csv")
CONTRACTS = str(ROOT / "samples" / "contracts.csv")
AS_OF = "2025-06-28T12:00:00+08:00"
COMMON = ["--contracts", CONTRACTS, "--as-of", AS_OF]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACALC_TZ", "SLACALC_POLICY", "SLACALC_CURRENCY", "SLACALC_CALENDAR"):
        monkeypatch.delenv(name, raising=False)


def invoke(args: list[str]):
    return CliRunner().invoke(app, args, env={"COLUMNS": "250"})


def report_rows() -> list[dict[str, str]]:
    result = invoke(["report", INCIDENTS, *COMMON, "--format", "csv"])
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.stdout)))


def _row_id(row: dict[str, str]) -> str:
    return f"{row['customer_id']}-{row['service']}-{row['month']}"


@pytest.mark.parametrize("row", report_rows(), ids=_row_id)
def test_explain_json_agrees_with_the_report_on_every_sample_row(row: dict[str, str]) -> None:
    result = invoke(
        [
            "explain",
            INCIDENTS,
            *COMMON,
            "--customer",
            row["customer_id"],
            "--service",
            row["service"],
            "--month",
            row["month"],
            "--format",
            "json",
        ]
    )
    assert result.exit_code == 0, result.output
    (explained,) = json.loads(result.stdout)
    as_report = {  # as the CSV has it: an empty value is null in JSON, empty in CSV
        k: str(v).lower() if isinstance(v, bool) else "" if v is None else str(v)
        for k, v in explained["row"].items()
    }
    assert as_report == row


def test_explain_table_shows_the_trail_and_the_formula() -> None:
    result = invoke(
        [
            "explain",
            INCIDENTS,
            *COMMON,
            "--customer",
            "globex",
            "--service",
            "database",
            "--month",
            "2025-05",
        ]
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    # each incident as read, with its file line
    assert "INC-1005" in out and "incidents.csv:6" in out
    assert "INC-1006" in out and "incidents.csv:7" in out
    # the merged timeline: 30 % before and after the full outage, counted once
    assert "12m 59s" in out and "0.3" in out
    assert "30m 41.7s = 1841.7 s" in out
    # the formula written out with its numbers, and the rounding
    assert "compensation = 1841.7 s / 2678400 s x 4500.00 USD x 2.50 = 7.735635... USD" in out
    assert "rounded half-up to 2 decimals: 7.74 USD" in out
    assert "BREACHED" in out
    # the ongoing June incident of the key is outside May
    assert "1 other incident(s) of this key fall outside 2025-05" in out


def test_explain_shows_maintenance_that_removed_downtime() -> None:
    result = invoke(
        [
            "explain",
            INCIDENTS,
            *COMMON,
            "--customer",
            "acme",
            "--service",
            "storage",
            "--month",
            "2025-05",
            "--format",
            "json",
        ]
    )
    (ex,) = json.loads(result.stdout)
    outage = next(i for i in ex["incidents"] if i["incident_id"] == "INC-1004")
    assert outage["excluded_seconds"] == 1200  # 02:40-03:00 inside the 01:00-03:00 window
    assert ex["exclusions"] == [
        {"start": "2025-05-10T01:00:00+08:00", "end": "2025-05-10T03:00:00+08:00", "seconds": 7200}
    ]
    assert ex["timeline"] == [
        {
            "start": "2025-05-10T03:00:00+08:00",
            "end": "2025-05-10T03:20:00+08:00",
            "loss": "1",
            "downtime_seconds": 1200,
            "run": 1,
        }
    ]


def test_explain_shows_the_cap_when_it_bites(tmp_path: Path) -> None:
    log = tmp_path / "long.csv"
    log.write_text("customer_id,service,start,end\nc,s,2025-06-01,2025-06-30\n", encoding="utf-8")
    result = invoke(
        [
            "explain",
            str(log),
            "--customer",
            "c",
            "--service",
            "s",
            "--month",
            "2025-06",
            "--monthly-fee",
            "100",
            "--sla-target",
            "99.999",
            "--as-of",
            "2025-07-10T00:00:00+08:00",
        ]
    )
    assert result.exit_code == 0, result.output
    # 29 days of 30 x 100 x 5.00 = 483.33..., capped at 100 % of the fee
    assert "= 483.333333... CNY" in result.stdout
    assert "cap = 100 % of 100.00 = 100.000000 CNY: the cap applies" in result.stdout
    assert "100.00 CNY" in result.stdout


def test_explain_needs_a_service_when_the_customer_has_several() -> None:
    result = invoke(["explain", INCIDENTS, *COMMON, "--customer", "acme", "--month", "2025-05"])
    assert result.exit_code == 2
    assert "choose one with --service" in result.stderr
    assert "compute, storage" in result.stderr


def test_explain_unknown_key_is_a_usage_error() -> None:
    result = invoke(
        [
            "explain",
            INCIDENTS,
            *COMMON,
            "--customer",
            "nobody",
            "--service",
            "x",
            "--month",
            "2025-05",
        ]
    )
    assert result.exit_code == 2
    assert "no report row for customer 'nobody' service 'x' in 2025-05" in result.stderr


def test_explain_bad_month_is_a_usage_error() -> None:
    result = invoke(
        [
            "explain",
            INCIDENTS,
            *COMMON,
            "--customer",
            "acme",
            "--service",
            "compute",
            "--month",
            "May",
        ]
    )
    assert result.exit_code == 2


def test_imported_rows_show_their_source(tmp_path: Path) -> None:
    log = tmp_path / "imported.csv"
    log.write_text(
        "start,end,customer_id,service,incident_id,source\n"
        "2025-05-03 02:14:00,2025-05-03 02:31:30,acme,compute,SP-1,statuspage:export.json\n"
        "2025-05-04 02:14:00,2025-05-04 02:20:00,acme,compute,PD-7,pagerduty:incidents.csv\n",
        encoding="utf-8",
    )
    args = [
        "explain",
        str(log),
        "--monthly-fee",
        "100",
        "--as-of",
        AS_OF,
        "--customer",
        "acme",
        "--month",
        "2025-05",
    ]
    result = invoke(args)
    assert result.exit_code == 0, result.output
    header = next(line for line in result.stdout.splitlines() if "File:line" in line)
    assert "Source" in header
    assert "statuspage:export.json" in result.stdout and "pagerduty:incidents.csv" in result.stdout
    plain = invoke([*args[:2], str(ROOT / "samples" / "incidents.csv"), *args[3:]])
    assert "Source" not in plain.stdout  # a log without provenance has no such column


def test_a_long_timeline_is_aligned_plain_text(tmp_path: Path) -> None:
    from slacalc.writing import tables

    log = tmp_path / "many.csv"
    rows = ["start,end,customer_id,service,incident_id"]
    for i in range(tables.LARGE + 500):
        minute = i * 3
        start = f"2025-05-{1 + minute // 1440:02d} {minute // 60 % 24:02d}:{minute % 60:02d}:00"
        end = f"2025-05-{1 + minute // 1440:02d} {minute // 60 % 24:02d}:{minute % 60:02d}:30"
        rows.append(f"{start},{end},acme,compute,I{i}")
    log.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = invoke(
        [
            "explain",
            str(log),
            "--monthly-fee",
            "100",
            "--as-of",
            AS_OF,
            "--customer",
            "acme",
            "--month",
            "2025-05",
        ]
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "┃" not in out.split("3. Merged downtime timeline")[1]  # plain text, not a rich table
    assert out.count("\n") > 2 * (tables.LARGE + 500)
    assert "2025-05-01 00:00:00  2025-05-01 00:00:30" in out


def test_explain_scales(tmp_path: Path) -> None:
    """A key with 100,000 incidents is explained in seconds (a million: tests/scale_explain.py).
    The view used to format each duration with a pyarrow call: ten minutes for a million."""
    import sys
    import time

    sys.path.insert(0, str(ROOT / "tests"))
    from scale_explain import write_log

    log = tmp_path / "key.csv"
    write_log(log, 100_000)
    started = time.perf_counter()
    result = invoke(
        [
            "explain",
            str(log),
            "--monthly-fee",
            "100",
            "--as-of",
            "2025-07-01",
            "--customer",
            "acme",
            "--month",
            "2025-05",
            "-o",
            str(tmp_path / "out.txt"),
        ]
    )
    assert result.exit_code == 0, result.output
    assert time.perf_counter() - started < 30
    text = (tmp_path / "out.txt").read_text(encoding="utf-8")
    assert text.count("INC-") == 100_000
