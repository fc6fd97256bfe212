"""Zones, request counts and composite services computed a bucket of customers at a time
(``report --memory``): the bytes, warnings and exit code of the same report in memory."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from test_partitioned import assert_same, tiny_budget  # noqa: F401 (a fixture)
from test_redundancy import zone_log

ROOT = Path(__file__).parent.parent
SAMPLES = ROOT / "samples"
INCIDENTS = str(SAMPLES / "incidents.csv")
AS_OF = "2025-07-01T00:00:00+08:00"


@pytest.fixture
def zones(tmp_path: Path) -> tuple[str, str, str]:
    return zone_files(tmp_path)


def zone_files(tmp_path: Path) -> tuple[str, str, str]:
    """A month of zone rows of 60 customers (spread over the three buckets), plus rows of
    every customer ('*') and rows in zones nobody runs in (warnings: own rows in their
    bucket, '*' rows once), the deployments and a contract per customer."""
    log, deps = zone_log(600)
    log += (
        "S1,*,vm,a,2025-05-03T10:00:00+00:00,2025-05-03T11:00:00+00:00,outage,\n"
        "S2,*,vm,b,2025-05-03T10:30:00+00:00,2025-05-03T12:00:00+00:00,outage,0.5\n"
        "S3,*,vm,z,2025-05-04T10:00:00+00:00,2025-05-04T11:00:00+00:00,outage,\n"
        "U1,c7,vm,z,2025-05-05T10:00:00+00:00,2025-05-05T11:00:00+00:00,outage,\n"
        "U2,c31,vm,z,2025-05-06T10:00:00+00:00,2025-05-06T11:00:00+00:00,outage,\n"
    )
    contracts = "customer_id,service,monthly_fee,currency\n" + "".join(
        f"c{k},vm,{100 + k}.00,USD\n" for k in range(60)
    )
    paths = []
    for name, text in (("zones.csv", log), ("deployments.csv", deps), ("c.csv", contracts)):
        (tmp_path / name).write_text(text, encoding="utf-8")
        paths.append(str(tmp_path / name))
    return paths[0], paths[1], paths[2]


@pytest.mark.parametrize("policy", ["aws-ec2-region", "azure-vm", "gcp-compute-multizone"])
@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_zones_in_buckets(tiny_budget: list[int], zones, policy: str, fmt: str) -> None:  # noqa: F811
    log, deployed, contracts = zones
    args = [log, "--deployments", deployed, "--contracts", contracts, "--policy", policy]
    args += ["--tz", "Europe/Berlin", "--as-of", "2025-05-25T00:00:00Z", "-f", fmt]
    assert_same(args, tiny_budget)


def test_zone_warnings_in_buckets_are_said_once_in_log_order(
    tiny_budget: list[int],  # noqa: F811
    zones,
) -> None:
    from test_partitioned import invoke

    log, deployed, contracts = zones
    args = [log, "--deployments", deployed, "--contracts", contracts, "--policy", "azure-vm"]
    result = invoke([*args, "--as-of", "2025-06-01T00:00:00Z", "-f", "csv", "--memory", "384M"])
    assert result.exit_code == 0, result.output
    warned = [line for line in result.stderr.splitlines() if "not deployed in zone 'z'" in line]
    assert len(warned) == 3
    assert ["S3" in w or ":604:" in w for w in warned] == [True, False, False]


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_requests_in_buckets(tiny_budget: list[int], tmp_path: Path, fmt: str) -> None:  # noqa: F811
    # an April window (no incident that month): the month is reported in buckets as in memory
    counts = tmp_path / "requests.csv"
    text = (SAMPLES / "requests.csv").read_text(encoding="utf-8")
    counts.write_text(
        text + "2025-04-10T00:00:00Z,2025-04-10T00:05:00Z,acme,objects,4,1\n", encoding="utf-8"
    )
    args = [INCIDENTS, "--requests", str(counts), "--contracts"]
    args += [str(SAMPLES / "contracts-requests.csv"), "--monthly-fee", "100"]
    assert_same([*args, "--as-of", AS_OF, "-f", fmt, "--fail-on-breach"], tiny_budget)


def test_an_error_rate_policy_without_counts_warns_in_buckets(
    tiny_budget: list[int],  # noqa: F811
) -> None:
    args = [INCIDENTS, "--contracts", str(SAMPLES / "contracts-requests.csv")]
    assert_same([*args, "--monthly-fee", "100", "--as-of", AS_OF, "-f", "csv"], tiny_budget)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_composites_in_buckets(tiny_budget: list[int], fmt: str) -> None:  # noqa: F811
    args = [INCIDENTS, "--contracts", str(SAMPLES / "contracts-composite.csv")]
    assert_same([*args, "--as-of", AS_OF, "-f", fmt], tiny_budget)


# --- every customer's statements of a log larger than memory ---------------------------------


def statements_both(tmp_path: Path, runs: list[int], args: list[str]) -> tuple[Path, Path, Any]:
    """The statements of ``args`` in memory and in buckets, into two folders; the runs."""
    from typer.testing import CliRunner

    from slacalc.cli import app

    out = []
    for memory in ("1T", "384M"):
        folder = tmp_path / f"out-{memory}"
        result = CliRunner().invoke(
            app,
            ["statement", *args, "--all-customers", "-o", str(folder), "--memory", memory],
        )
        out.append((folder, result))
    assert runs, "the run was not bucketed"
    return out[0], out[1], None


def same_folders(a: Path, b: Path) -> None:
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir()) and names
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


@pytest.fixture
def bucketed_statements(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    runs: list[int] = []

    def count(paths, budget):
        runs.append(3)
        return 3

    from slacalc.computing import partitioned

    monkeypatch.setattr(partitioned, "memory_needed", lambda paths: 1 << 39)
    monkeypatch.setattr(partitioned, "bucket_count", count)
    return runs


@pytest.mark.parametrize(
    "contracts", ["contracts.csv", "contracts-composite.csv", "contracts-requests.csv"]
)
def test_statements_in_buckets_are_the_same_files(
    bucketed_statements: list[int], tmp_path: Path, contracts: str
) -> None:
    args = [INCIDENTS, "--contracts", str(SAMPLES / contracts), "--month", "2025-05"]
    args += ["--as-of", AS_OF]
    if contracts == "contracts-requests.csv":
        args += ["--requests", str(SAMPLES / "requests.csv")]
    (memory_dir, memory), (bucket_dir, bucketed), _ = statements_both(
        tmp_path, bucketed_statements, args
    )
    assert memory.exit_code == bucketed.exit_code == 0, bucketed.output
    same_folders(memory_dir, bucket_dir)
    # the same warnings (zones' and the calendar's after the files in buckets)
    assert sorted(memory.stderr.replace("out-1T", "out").splitlines()) == sorted(
        bucketed.stderr.replace("out-384M", "out").splitlines()
    )


def test_zone_statements_in_buckets_are_the_same_files(
    bucketed_statements: list[int], tmp_path: Path, zones
) -> None:
    log, deployed, contracts = zones
    args = [log, "--deployments", deployed, "--contracts", contracts, "--policy", "azure-vm"]
    args += ["--month", "2025-05", "--as-of", "2025-06-01T00:00:00Z", "--lang", "en"]
    (memory_dir, memory), (bucket_dir, bucketed), _ = statements_both(
        tmp_path, bucketed_statements, args
    )
    assert memory.exit_code == bucketed.exit_code == 0, bucketed.output
    assert len(list(memory_dir.iterdir())) == 60
    same_folders(memory_dir, bucket_dir)
    warned = [line for line in bucketed.stderr.splitlines() if "not deployed in zone 'z'" in line]
    assert len(warned) == 3  # once each, the '*' row's included
    assert sorted(memory.stderr.replace("out-1T", "out").splitlines()) == sorted(
        bucketed.stderr.replace("out-384M", "out").splitlines()
    )


def test_compare_with_zones_and_counts_in_buckets(
    tiny_budget: list[int],  # noqa: F811
    zones,
    tmp_path: Path,
) -> None:
    # a policy with [redundancy] beside one without (its zones uncounted), in buckets as in
    # memory; and request counts under the compared policies
    from typer.testing import CliRunner

    from slacalc.cli import app

    log, deployed, contracts = zones
    empty = tmp_path / "empty.csv"  # request counts alone: five-minute and hourly terms
    empty.write_text("incident_id,customer_id,service,start,end,category\n", encoding="utf-8")
    cases = [
        [log, "--deployments", deployed, "--contracts", contracts, "--policy", "azure-vm"],
        [str(empty), "--requests", str(SAMPLES / "requests.csv"), "--monthly-fee", "100"],
    ]
    cases[0] += ["--policy", "standard-credit", "--as-of", "2025-06-01T00:00:00Z"]
    cases[1] += ["--policy", "aws-s3", "--policy", "azure-storage", "--as-of", AS_OF]
    for args in cases:
        out = []
        for memory in ("1T", "384M"):
            cmd = ["compare", *args, "-f", "csv", "--memory", memory]
            out.append(CliRunner().invoke(app, cmd))
        assert out[0].exit_code == out[1].exit_code == 0, out[1].output
        assert out[0].stdout == out[1].stdout and out[0].stdout.count("\n") > 2
        assert out[0].stderr == out[1].stderr
    assert len(tiny_budget) == 4  # two policies, each a bucketed run


@st.composite
def zone_case(draw):
    """Random zone rows of six customers (own rows, rows of every customer '*', whole-key
    rows, maintenance, partial impacts, ongoing rows) and deployments that change mid-month."""
    lo = int(datetime(2025, 3, 25, tzinfo=UTC).timestamp())
    hours = 24 * 12  # across the spring DST change and the month edge
    instant = st.integers(0, hours).map(lambda h: lo + h * 3600)
    customers = [f"k{i}" for i in range(6)]
    deps = ["customer_id,service,zone,from,to"]
    for c in customers:
        for z in "abc":
            cut = draw(st.one_of(st.none(), instant))
            if cut is None:
                deps.append(f"{c},vm,{z},,")
            else:
                deps.append(
                    f"{c},vm,{z},,{iso(cut)}" if draw(st.booleans()) else f"{c},vm,{z},{iso(cut)},"
                )
    rows = ["incident_id,customer_id,service,zone,start,end,category,impact"]
    for i in range(draw(st.integers(1, 14))):
        s = draw(instant)
        e = "" if draw(st.integers(0, 6)) == 0 else iso(s + draw(st.integers(1, 30)) * 1800)
        rows.append(
            f"I{i},{draw(st.sampled_from([*customers, '*']))},vm,"
            f"{draw(st.sampled_from(['', 'a', 'b', 'c', 'z']))},{iso(s)},{e},"
            f"{draw(st.sampled_from(['outage', 'outage', 'maintenance', 'data_loss']))},"
            f"{draw(st.sampled_from(['', '0.5', '30%']))}"
        )
    policy = draw(st.sampled_from(["azure-vm", "aws-ec2-region", "gcp-compute-multizone"]))
    return "\n".join(rows) + "\n", "\n".join(deps) + "\n", policy


def iso(second: int) -> str:
    return datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@hyp_settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=zone_case())
# a log whose only row is a '*' row in a zone nobody runs in: its month is still reported
@example(
    case=(
        "incident_id,customer_id,service,zone,start,end,category,impact\n"
        "I0,*,vm,z,2025-03-25T00:00:00Z,,outage,\n",
        "customer_id,service,zone,from,to\n"
        + "".join(f"k{k},vm,{z},,\n" for k in range(6) for z in "abc"),
        "azure-vm",
    )
)
def test_random_zone_logs_in_buckets(
    tiny_budget: list[int],  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
    case,
) -> None:
    log_text, deps_text, policy = case
    folder = tmp_path_factory.mktemp("zones")
    log, deployed, contracts = folder / "log.csv", folder / "d.csv", folder / "c.csv"
    log.write_text(log_text, encoding="utf-8")
    deployed.write_text(deps_text, encoding="utf-8")
    contracts.write_text(
        "customer_id,service,monthly_fee\n" + "".join(f"k{i},vm,100\n" for i in range(6)),
        encoding="utf-8",
    )
    args = [str(log), "--deployments", str(deployed), "--contracts", str(contracts)]
    args += ["--policy", policy, "--tz", "Europe/Berlin", "--as-of", "2025-04-03T00:00:00Z"]
    assert_same([*args, "-f", "csv"], tiny_budget)
