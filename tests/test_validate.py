"""validate: every planted problem with its line, suspicious rows as warnings, exit 0/1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from slacalc.cli import app

ROOT = Path(__file__).resolve().parent.parent
PLANTED = str(ROOT / "tests" / "fixtures" / "planted_problems.csv")
AS_OF = ["--as-of", "2025-06-28T12:00:00+08:00"]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACALC_TZ", "SLACALC_POLICY", "SLACALC_CURRENCY"):
        monkeypatch.delenv(name, raising=False)


def invoke(args: list[str]):
    return CliRunner().invoke(app, args)


def test_every_planted_problem_is_found_with_its_line() -> None:
    result = invoke(["validate", PLANTED, *AS_OF])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    f = PLANTED
    problems = [line for line in lines if ": warning: " not in line and line.startswith(f)]
    assert problems == [
        f"{f}:3: column 'end': ends before it starts (start '2025-05-02 10:00:00') "
        "(value '2025-05-02 09:00:00')",
        f"{f}:4: column 'start': not a timestamp: expected ISO 8601 such as "
        "2025-05-14T07:57:01+08:00 (value '2025-13-02 10:00:00')",
        f"{f}:5: column 'start': ambiguous date: day and month could be read either way; use "
        "ISO 8601 (YYYY-MM-DD) (value '03/04/2025 10:00')",
        f"{f}:6: column 'category': expected one of outage, data_loss, maintenance, excluded "
        "(value 'blackout')",
        f"{f}:7: column 'impact': impact must be greater than 0 and at most 1 (100%) (value '0')",
        f"{f}:8: column 'impact': impact must be greater than 0 and at most 1 (100%) "
        "(value '150%')",
        f"{f}:14: column 'impact': expected a share 0 < impact <= 1, such as 0.3 or 30% "
        "(value 'nan')",
    ]
    assert lines[-1] == "FAILED: 7 problems, 6 warnings"


def test_suspicious_rows_are_warnings_with_their_lines() -> None:
    result = invoke(
        [
            "validate",
            PLANTED,
            "--as-of",
            "2025-06-01T00:00:00+08:00",
            "--contracts",
            str(ROOT / "samples" / "contracts.csv"),
        ]
    )
    warnings = [
        line.split(": warning: ")[0].rsplit(":", 1)[1] + " " + line.split(": warning: ")[1]
        for line in result.stdout.splitlines()
        if ": warning: " in line
    ]
    # acme/db is priced by the sample's "acme,*" contract; zeta has none
    assert warnings == [
        "10 overlaps the maintenance window on line 9 (A-8): that overlap is not downtime",
        "11 no end: counted as ongoing up to --as-of 2025-06-01T00:00:00+08:00",
        "12 lasts 69d 0h 0m 0s, longer than a month: check its end",
        "12 overlaps the maintenance window on line 9 (A-8): that overlap is not downtime",
        "13 incident_id 'A-1' appears again (first on line 2)",
        "13 starts and ends at the same instant: it counts no downtime",
        "15 no contract for customer 'zeta' service 'web': report will need --monthly-fee for it",
    ]


def test_clean_files_exit_0_with_a_summary() -> None:
    result = invoke(
        [
            "validate",
            str(ROOT / "samples" / "incidents.csv"),
            "--contracts",
            str(ROOT / "samples" / "contracts.csv"),
            *AS_OF,
        ]
    )
    assert result.exit_code == 0, result.output
    assert (
        "14 incident rows in 1 file(s): 8 keys (4 customers, 4 services), months "
        "2025-05..2025-06 (2), 1 ongoing, 7 contracts" in result.stdout
    )
    assert result.stdout.splitlines()[-1] == "OK: 0 problems, 3 warnings"


def test_contract_problems_are_listed_too(tmp_path: Path) -> None:
    contracts = tmp_path / "contracts.csv"
    contracts.write_text(
        "customer_id,monthly_fee,sla_target\nacme,-5,99.95\n,10,99.9\n", encoding="utf-8"
    )
    result = invoke(
        ["validate", str(ROOT / "samples" / "incidents.csv"), "--contracts", str(contracts), *AS_OF]
    )
    assert result.exit_code == 1
    out = result.stdout
    assert f"{contracts}:2: column 'monthly_fee': must not be negative (value '-5')" in out
    assert f"{contracts}:3: column 'customer_id': is empty" in out
    assert f"{contracts}:3: column 'sla_target': not a tier of policy 'standard'" in out


def test_missing_file_and_binary_junk(tmp_path: Path) -> None:
    junk = tmp_path / "junk.csv"
    junk.write_bytes(b"start\n\x00\x01\x02")
    result = invoke(["validate", str(tmp_path / "nope.csv"), str(junk), *AS_OF])
    assert result.exit_code == 1
    assert f"{tmp_path / 'nope.csv'}: no such file" in result.stdout
    assert f"{junk}:2: binary data (a NUL byte): this is not a CSV text file" in result.stdout


def test_json_format() -> None:
    result = invoke(["validate", PLANTED, *AS_OF, "--format", "json"])
    assert result.exit_code == 1
    (data,) = json.loads(result.stdout)
    assert data["ok"] is False
    assert len(data["problems"]) == 7
    assert data["summary"]["rows"] == 7
    assert data["summary"]["keys"] == 2


def test_keys_without_a_contract_are_warned_once_each(tmp_path: Path) -> None:
    """Contracts are looked up for every key at once: a key with none is warned at its first
    row only, and '*' rows of a service no customer has are warned as reaching no contract
    (those of a service someone has are quiet)."""
    contracts = tmp_path / "contracts.csv"
    contracts.write_text(
        "customer_id,service,monthly_fee,sla_target\nacme,web,100,99.95\nbeta,db,50,99.99\n",
        encoding="utf-8",
    )
    log = tmp_path / "log.csv"
    log.write_text(
        "incident_id,customer_id,service,start,end,category\n"
        "1,acme,web,2025-05-01 10:00,2025-05-01 11:00,outage\n"
        "2,beta,db,2025-05-02 10:00,2025-05-02 11:00,outage\n"
        "3,beta,web,2025-05-03 10:00,2025-05-03 11:00,outage\n"
        "4,*,queue,2025-05-04 10:00,2025-05-04 11:00,outage\n"
        "5,beta,web,2025-05-05 10:00,2025-05-05 11:00,outage\n"
        "6,*,db,2025-05-06 10:00,2025-05-06 11:00,outage\n",
        encoding="utf-8",
    )
    result = invoke(["validate", str(log), "--contracts", str(contracts), *AS_OF])
    warnings = [line for line in result.stdout.splitlines() if ": warning: " in line]
    assert warnings == [
        f"{log}:4: warning: no contract for customer 'beta' service 'web': report will need "
        "--monthly-fee for it",
        f"{log}:5: warning: customer '*' rows of service 'queue' reach no contract: no "
        "customer has that service",
    ]
