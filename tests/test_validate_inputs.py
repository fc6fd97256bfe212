"""validate checks the deployments file and the request counts too, with the report's own
readers: every problem on its line, and zone incidents where the customer is not deployed."""

from __future__ import annotations

from pathlib import Path

from mixins import run

LOG = (
    "incident_id,customer_id,service,zone,start,end\n"
    "I1,acme,compute,a,2025-05-10 10:00:00,2025-05-10 11:00:00\n"
    "I2,acme,compute,z,2025-05-10 10:30:00,2025-05-10 12:00:00\n"
)


def write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_the_deployments_file_is_checked_row_by_row(tmp_path: Path) -> None:
    log = write(tmp_path, "log.csv", LOG)
    deployed = write(
        tmp_path,
        "deployments.csv",
        "customer_id,service,zone,from,to\nacme,compute,a,,\nacme,compute,a,2025-01-01,\n"
        "acme,compute,,,\n",
    )
    result = run(["validate", log, "--deployments", deployed, "--policy", "azure-vm"])
    assert result.exit_code == 1
    assert f"{deployed}:3: column 'from': overlaps the deployment on line 2" in result.stdout
    assert f"{deployed}:4: column 'zone': empty" in result.stdout


def test_zone_incidents_where_nobody_runs_are_warnings(tmp_path: Path) -> None:
    log = write(tmp_path, "log.csv", LOG)
    deployed = write(tmp_path, "d.csv", "customer_id,service,zone\nacme,compute,a\n")
    args = ["validate", log, "--deployments", deployed, "--policy", "azure-vm", "-f", "csv"]
    result = run([*args, "--as-of", "2025-06-01T00:00:00+08:00"])
    assert result.exit_code == 0, result.stdout
    lines = [line for line in result.stdout.splitlines() if "zone_not_deployed" in line]
    assert len(lines) == 1 and f"{log},3," in lines[0] and "'z'" in lines[0]


def test_request_counts_are_checked_and_their_intervals(tmp_path: Path) -> None:
    log = write(tmp_path, "log.csv", "customer_id,service,start,end\n")
    bad = write(
        tmp_path,
        "bad.csv",
        "start,end,customer_id,service,total,failed\n"
        "2025-05-01T00:00:00Z,2025-05-01T00:05:00Z,acme,s3,10,11\n",
    )
    result = run(["validate", log, "--requests", bad, "--policy", "aws-s3"])
    assert result.exit_code == 1
    assert f"{bad}:2: column 'failed': more failed requests than requests" in result.stdout
    crossing = write(
        tmp_path,
        "crossing.csv",
        "start,end,customer_id,service,total,failed\n"
        "2025-05-01T00:03:00Z,2025-05-01T00:06:00Z,acme,s3,10,1\n",
    )
    result = run(["validate", log, "--requests", crossing, "--policy", "aws-s3"])
    assert result.exit_code == 1
    assert f"{crossing}:2: column 'end': the window crosses the 5-minute interval" in result.stdout
