"""Request-based (error-rate) months through the run and the command line: --requests, the
aws-s3 preset's measure, keys of both kinds in one report, and what is refused, hand-checked."""

from __future__ import annotations

import io
import json
from pathlib import Path

from mixins import SAMPLE_DIR, run

import slacalc

REQUESTS = str(SAMPLE_DIR / "requests.csv")
CONTRACTS = str(SAMPLE_DIR / "contracts-requests.csv")
INCIDENTS = str(SAMPLE_DIR / "incidents.csv")
AS_OF = "2025-07-01T00:00:00+08:00"
# samples/requests.csv, by hand: three intervals with errors, 1 %, 100 % and (1 + 2) / 20 =
# 15 %, and one without requests (0 %), of the 8928 five-minute intervals of May 2025 (no
# interval is cut: +08:00 month edges are whole five minutes). Mean error rate = 1.16 / 8928,
# so the equivalent downtime is 2678400 s x 1.16 / 8928 = 348 s.
OBJECTS_DOWN = "348"


def report(*more: str) -> list[str]:
    return [
        "report",
        INCIDENTS,
        "--requests",
        REQUESTS,
        "--contracts",
        CONTRACTS,
        "--monthly-fee",
        "100",
        "--month",
        "2025-05",
        "--as-of",
        AS_OF,
        "-f",
        "csv",
        *more,
    ]


def rows_of(text: str) -> dict[tuple[str, str], dict[str, str]]:
    lines = [line.split(",") for line in text.splitlines()]
    return {(r[0], r[1]): dict(zip(lines[0], r, strict=True)) for r in lines[1:]}


def test_error_rate_and_downtime_keys_share_one_report() -> None:
    result = run(report())
    assert result.exit_code == 0, result.stderr
    rows = rows_of(result.stdout)
    objects = rows[("acme", "objects")]
    assert objects["downtime_seconds"] == OBJECTS_DOWN
    assert objects["availability_pct"] == "99.9870"  # 1 - 348/2678400, truncated
    assert objects["policy"] == "aws-s3" and objects["incident_count"] == "3"
    assert rows[("acme", "compute")]["downtime_seconds"] == "2050"  # incidents, as before


def test_the_library_writes_the_same_bytes() -> None:
    out = io.StringIO()
    with slacalc.report(
        [INCIDENTS],
        requests=[REQUESTS],
        contracts=CONTRACTS,
        monthly_fee="100",
        months=["2025-05"],
        as_of=AS_OF,
    ) as result:
        result.write(out, format="csv")
    assert out.getvalue() == run(report()).stdout


def test_incidents_of_an_error_rate_key_are_refused(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text(
        "incident_id,customer_id,service,start,end,category\n"
        "X1,acme,objects,2025-05-05 10:00:00,2025-05-05 11:00:00,outage\n",
        encoding="utf-8",
    )
    result = run([*report()[:1], str(log), *report()[2:]])
    assert result.exit_code == 1
    assert f"{log}:2:" in result.stderr and "measured by error rate" in result.stderr


def test_requests_of_a_downtime_key_are_refused(tmp_path: Path) -> None:
    counts = tmp_path / "counts.csv"
    counts.write_text(
        "start,end,customer_id,service,total,failed\n"
        "2025-05-01T00:00:00Z,2025-05-01T00:05:00Z,acme,compute,10,1\n",
        encoding="utf-8",
    )
    args = report()
    args[args.index(REQUESTS)] = str(counts)
    result = run(args)
    assert result.exit_code == 1
    assert f"{counts}:2:" in result.stderr and "measures downtime" in result.stderr


def test_explain_and_the_statement_show_the_request_counts(tmp_path: Path) -> None:
    common = ["--requests", REQUESTS, "--contracts", CONTRACTS, "--monthly-fee", "100"]
    common += ["--customer", "acme", "--month", "2025-05", "--as-of", AS_OF]
    result = run(["explain", INCIDENTS, "--service", "objects", "-f", "json", *common])
    assert result.exit_code == 0, result.stderr
    (explained,) = json.loads(result.stdout)
    assert explained["row"]["downtime_seconds"] in (348, "348")
    (note,) = [n for n in explained["notes"] if n["code"] == "error_rate_month"]
    # 8928 five-minute intervals; 4 have rows, 3 of them requests (one row counts 0), all 3
    # errors: 1 + 10 + 3 of 100 + 10 + 20 requests; 1.16 / 8928 = 0.012992831...%, rounded up
    assert (note["intervals"], note["with_requests"], note["with_errors"]) == (8928, 3, 3)
    assert (note["failed"], note["total"], note["mean_error_rate_pct"]) == (14, 130, "0.01299284")
    page = tmp_path / "acme.html"
    result = run(["statement", INCIDENTS, *common, "--lang", "zh", "-o", str(page)])
    assert result.exit_code == 0, result.stderr
    assert "按错误率计量：8928 个 300 秒区间" in page.read_text(encoding="utf-8")


def test_a_crossing_window_is_an_error_with_its_line(tmp_path: Path) -> None:
    counts = tmp_path / "counts.csv"
    counts.write_text(
        "start,end,customer_id,service,total,failed\n"
        "2025-05-01T00:03:00Z,2025-05-01T00:06:00Z,acme,objects,10,1\n",
        encoding="utf-8",
    )
    args = report()
    args[args.index(REQUESTS)] = str(counts)
    result = run(args)
    assert result.exit_code == 1
    assert f"{counts}:2: column 'end'" in result.stderr


def test_a_report_of_request_counts_alone_needs_no_incident_log() -> None:
    args = ["report", "--requests", REQUESTS, "--contracts", CONTRACTS, "--month", "2025-05"]
    result = run([*args, "--as-of", AS_OF, "-f", "csv"])
    assert result.exit_code == 0, result.stderr
    assert rows_of(result.stdout)[("acme", "objects")]["downtime_seconds"] == OBJECTS_DOWN
    result = run(["report", "-f", "csv"])  # neither: a usage error, said plainly
    assert result.exit_code == 2 and "--requests" in result.stderr


def test_azure_storage_counts_hours_by_hand(tmp_path: Path) -> None:
    """The azure-storage preset: one-hour intervals, an hour without transactions counts 0 %.
    June 2025 in UTC has 720 hours. Hours with rows: 50/1000 = 5 %; 0/0 = 0 %; two half-hour
    rows of one hour, (100 + 0)/(100 + 100) = 50 %; 30/40 = 75 %. Average Error Rate =
    1.30 / 720, so the uptime is 100 % - 0.180555...% = 99.8194 % (truncated) and the equivalent
    downtime 2592000 s x 1.30 / 720 = 4680 s: below 99.9 %, a 10 % credit of 200 USD."""
    counts = tmp_path / "storage.csv"
    counts.write_text(
        "start,end,customer_id,service,total,failed\n"
        "2025-06-03T10:00:00Z,2025-06-03T11:00:00Z,contoso,blobs,1000,50\n"
        "2025-06-10T00:00:00Z,2025-06-10T01:00:00Z,contoso,blobs,0,0\n"
        "2025-06-20T10:00:00Z,2025-06-20T10:30:00Z,contoso,blobs,100,100\n"
        "2025-06-20T10:30:00Z,2025-06-20T11:00:00Z,contoso,blobs,100,0\n"
        "2025-06-25T23:00:00Z,2025-06-26T00:00:00Z,contoso,blobs,40,30\n",
        encoding="utf-8",
    )
    args = ["report", "--requests", str(counts), "--policy", "azure-storage", "--tz", "UTC"]
    args += ["--monthly-fee", "200", "--currency", "USD", "--month", "2025-06"]
    result = run([*args, "--as-of", "2025-07-10T00:00:00Z", "-f", "csv"])
    assert result.exit_code == 0, result.stderr
    (row,) = rows_of(result.stdout).values()
    assert (row["downtime_seconds"], row["availability_pct"]) == ("4680", "99.8194")
    terms = (row["sla_target_pct"], row["credit_pct"], row["compensation"])
    assert terms == ("99.9", "10", "20.00")
    # the read-access tier of the same preset promises 99.99 %: the same month is also below it
    result = run([*args, "--sla-target", "99.99", "--as-of", "2025-07-10T00:00:00Z", "-f", "csv"])
    assert result.exit_code == 0, result.stderr
    (row,) = rows_of(result.stdout).values()
    assert (row["sla_target_pct"], row["credit_pct"]) == ("99.99", "10")
