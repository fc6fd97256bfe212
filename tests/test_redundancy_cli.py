"""Redundant deployments through the run and the command line: --deployments, the presets'
[redundancy] rules, explain, compare, statement and ledger post, hand-checked."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from mixins import run

import slacalc

LOG = """incident_id,customer_id,service,zone,start,end,category,impact
I1,acme,compute,a,2025-05-10 10:00:00,2025-05-10 11:00:00,outage,1
I2,acme,compute,b,2025-05-10 10:30:00,2025-05-10 12:00:00,outage,1
I3,acme,compute,c,2025-05-10 10:45:00,2025-05-10 10:50:00,outage,1
I4,acme,compute,c,2025-05-20 08:00:00,2025-05-20 08:00:59,outage,1
I5,acme,compute,a,2025-05-20 08:00:00,2025-05-20 08:00:59,outage,1
I6,acme,compute,b,2025-05-20 08:00:00,2025-05-20 08:00:59,outage,1
I7,acme,compute,d,2025-05-21 08:00:00,2025-05-21 09:00:00,outage,1
"""
DEPLOYED = "customer_id,service,zone\nacme,compute,a\nacme,compute,b\nacme,compute,c\n"
AS_OF = "2025-07-01T00:00:00+08:00"
# Down by each rule, by hand: a and b overlap 10:30-11:00 (1800 s); all three 10:45-10:50
# (300 s); on the 20th every zone is down for 59 s (a Downtime Period shorter than GCP's
# minute counts 0); zone d runs nothing of acme's (a warning, no downtime).
EXPECTED = {"aws-ec2-region": "1859", "azure-vm": "359", "gcp-compute-multizone": "300"}


@pytest.fixture
def files(tmp_path: Path) -> tuple[str, str]:
    log, deployed = tmp_path / "zones.csv", tmp_path / "deployments.csv"
    log.write_text(LOG, encoding="utf-8")
    deployed.write_text(DEPLOYED, encoding="utf-8")
    return str(log), str(deployed)


def report_args(log: str, *more: str) -> list[str]:
    return ["report", log, "--monthly-fee", "1000", "--as-of", AS_OF, "-f", "csv", *more]


@pytest.mark.parametrize("policy", sorted(EXPECTED))
def test_each_presets_rule_counts_the_zones_it_names(files: tuple[str, str], policy: str) -> None:
    log, deployed = files
    result = run(report_args(log, "--deployments", deployed, "--policy", policy))
    assert result.exit_code == 0, result.stderr
    row = dict(zip(*[line.split(",") for line in result.stdout.splitlines()], strict=True))
    assert row["downtime_seconds"] == EXPECTED[policy]
    assert "zones.csv:8" in result.stderr and "'d'" in result.stderr  # the undeployed zone


def test_the_library_writes_the_same_bytes(files: tuple[str, str]) -> None:
    log, deployed = files
    cli = run(report_args(log, "--deployments", deployed, "--policy", "aws-ec2-region"))
    out = io.StringIO()
    with slacalc.report(
        [log],
        deployments=deployed,
        policy="aws-ec2-region",
        monthly_fee="1000",
        as_of=AS_OF,
    ) as result:
        result.write(out, format="csv")
        assert any("zone 'd'" in w or "'d'" in w for w in result.warnings)
    assert out.getvalue() == cli.stdout


def test_zones_need_deployments_and_deployments_a_redundancy_policy(
    files: tuple[str, str],
) -> None:
    log, deployed = files
    result = run(report_args(log, "--policy", "aws-ec2-region"))
    assert result.exit_code == 2 and "give --deployments FILE" in result.stderr
    result = run(report_args(log, "--deployments", deployed))
    assert result.exit_code == 2 and "needs a policy with [redundancy]" in result.stderr
    result = run([*report_args(log, "--deployments", deployed), "--engine", "spark"])
    assert result.exit_code == 2 and "Traceback" not in result.stderr


def test_a_log_without_zones_counts_as_before(tmp_path: Path, files: tuple[str, str]) -> None:
    _, deployed = files
    plain = tmp_path / "plain.csv"
    plain.write_text(
        "incident_id,customer_id,service,start,end,category,impact\n"
        "J1,acme,compute,2025-05-10 10:00:00,2025-05-10 11:00:00,outage,1\n",
        encoding="utf-8",
    )
    with_deps = run(report_args(str(plain), "--deployments", deployed, "--policy", "azure-vm"))
    without = run(report_args(str(plain), "--policy", "azure-vm"))
    assert with_deps.exit_code == without.exit_code == 0
    assert with_deps.stdout == without.stdout
    assert ",3600," in without.stdout


def test_explain_compare_statement_and_ledger_post_count_zones(
    files: tuple[str, str], tmp_path: Path
) -> None:
    log, deployed = files
    common = ["--deployments", deployed, "--monthly-fee", "1000", "--as-of", AS_OF]
    explained = run(
        [
            "explain",
            log,
            "--customer",
            "acme",
            "--month",
            "2025-05",
            "--policy",
            "azure-vm",
            "-f",
            "json",
            *common,
        ]
    )
    assert explained.exit_code == 0, explained.stderr
    assert '"downtime_seconds": 359' in explained.stdout.replace('"359"', "359")
    assert '"incident_id": "I1+I2+I3"' in explained.stdout  # the zone incidents behind it
    compared = run(
        ["compare", log, "--policy", "aws-ec2-region", "--policy", "standard", "-f", "csv", *common]
    )
    assert compared.exit_code == 0, compared.stderr
    rows = [line.split(",") for line in compared.stdout.splitlines()]
    by_policy = {r[3]: r[5] for r in rows[1:]}
    # standard has no [redundancy]: every zone's incident downs the key (10:00-12:00, 59 s, 1 h)
    assert by_policy == {"aws-ec2-region": "1859", "standard": str(7200 + 59 + 3600)}
    page = tmp_path / "acme.html"
    stated = run(
        [
            "statement",
            log,
            "--customer",
            "acme",
            "--month",
            "2025-05",
            "--policy",
            "gcp-compute-multizone",
            "-o",
            str(page),
            *common,
        ]
    )
    assert stated.exit_code == 0, stated.stderr
    posted = run(
        [
            "ledger",
            "post",
            log,
            "--policy",
            "aws-ec2-region",
            "--ledger",
            ":memory:",
            "-f",
            "csv",
            *common,
        ]
    )
    assert posted.exit_code == 0, posted.stderr
    assert "acme:compute:2025-05" in posted.stdout and ",100.00," in posted.stdout


def test_explain_says_which_zones_were_down_and_when_the_rule_held(
    files: tuple[str, str],
) -> None:
    log, deployed = files
    args = ["explain", log, "--customer", "acme", "--month", "2025-05", "--tz", "UTC", "-f", "json"]
    result = run(
        [*args, "--deployments", deployed, "--policy", "aws-ec2-region", "--monthly-fee", "1"]
    )
    assert result.exit_code == 0, result.stderr
    (explained,) = json.loads(result.stdout)
    notes = explained["notes"]  # the month's notes
    zones = [(n["zone"], n["start_at"], n["end_at"]) for n in notes if n["code"] == "zone_down"]
    assert ("a", "2025-05-10T10:00:00+00:00", "2025-05-10T11:00:00+00:00") in zones
    assert ("b", "2025-05-10T10:30:00+00:00", "2025-05-10T12:00:00+00:00") in zones
    fired = [(n["start_at"], n["end_at"]) for n in notes if n["code"] == "rule_fired"]
    # more than one zone down: 10:30-11:00, then 08:00:00-08:00:59 on the 20th (all three)
    assert fired[0] == ("2025-05-10T10:30:00+00:00", "2025-05-10T11:00:00+00:00")


def test_a_key_whose_zone_incidents_never_count_still_has_its_rows(tmp_path: Path) -> None:
    # beta's only incident downs one of its two zones in June: under "all" the key is never
    # down, but it had an incident, so it has its rows (0 s) as any key with incidents does,
    # and June is reported though no downtime falls in it
    log, deployed = tmp_path / "zones.csv", tmp_path / "deployments.csv"
    log.write_text(
        "incident_id,customer_id,service,zone,start,end\n"
        "I1,acme,compute,a,2025-05-10 10:00:00,2025-05-10 11:00:00\n"
        "I2,acme,compute,b,2025-05-10 10:30:00,2025-05-10 12:00:00\n"
        "I3,beta,compute,a,2025-06-10 10:00:00,2025-06-10 11:00:00\n",
        encoding="utf-8",
    )
    deployed.write_text(
        "customer_id,service,zone\nacme,compute,a\nacme,compute,b\nbeta,compute,a\n"
        "beta,compute,b\n",
        encoding="utf-8",
    )
    result = run(report_args(str(log), "--deployments", str(deployed), "--policy", "azure-vm"))
    assert result.exit_code == 0, result.stderr
    rows = [line.split(",")[:5] for line in result.stdout.splitlines()[1:]]
    assert rows == [
        ["acme", "compute", "2025-05", "2678400", "1800"],
        ["acme", "compute", "2025-06", "2592000", "0"],
        ["beta", "compute", "2025-05", "2678400", "0"],
        ["beta", "compute", "2025-06", "2592000", "0"],
    ]
    explained = run(
        [
            *("explain", str(log), "--deployments", str(deployed), "--policy", "azure-vm"),
            *("--monthly-fee", "1", "--customer", "beta", "--month", "2025-06", "-f", "json"),
        ]
    )
    assert explained.exit_code == 0, explained.stderr
    (beta,) = json.loads(explained.stdout)
    assert beta["row"]["downtime_seconds"] in (0, "0")
    assert [n["zone"] for n in beta["notes"] if n["code"] == "zone_down"] == ["a"]


def test_a_rows_of_every_customer_count_with_the_zones(tmp_path: Path) -> None:
    """A '*' row without a zone (a regional outage) is each reached customer's own whole-key
    row in its zones' count: acme's zone a is in maintenance 00:00-10:00, the '*' outage
    00:00-05:00 still counts (an outage of the whole key is never hidden by one zone's
    maintenance) and its 30 s zone outage is under GCP's one-minute Downtime Period."""
    log, deployed, contracts = (tmp_path / n for n in ("log.csv", "d.csv", "c.csv"))
    log.write_text(
        "incident_id,customer_id,service,zone,start,end,category\n"
        "S,*,vm,,2025-03-28T00:00:00Z,2025-03-28T05:00:00Z,outage\n"
        "A,acme,vm,a,2025-03-28T00:00:00Z,2025-03-28T10:00:00Z,maintenance\n"
        "B,acme,vm,a,2025-03-28T01:00:00Z,2025-03-28T01:00:30Z,outage\n",
        encoding="utf-8",
    )
    deployed.write_text("customer_id,service,zone\nacme,vm,a\nbeta,vm,a\n", encoding="utf-8")
    contracts.write_text("customer_id,service,monthly_fee\nacme,vm,100\nbeta,vm,100\n")
    args = ["report", str(log), "--deployments", str(deployed), "--contracts", str(contracts)]
    args += ["--policy", "gcp-compute-multizone", "--tz", "UTC", "--as-of", "2025-04-10T00:00:00Z"]
    result = run([*args, "-f", "csv"])
    assert result.exit_code == 0, result.stderr
    rows = {line.split(",")[0]: line.split(",")[4:6] for line in result.stdout.splitlines()[1:]}
    assert rows == {"acme": ["18000", "18000"], "beta": ["18000", "0"]}
