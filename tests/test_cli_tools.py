"""`slacalc budget` and `slacalc tiers` through the command line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from slacalc.cli import app

SAMPLE_POLICY = Path(__file__).resolve().parent.parent / "samples" / "policy.toml"


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACALC_TZ", "SLACALC_POLICY"):
        monkeypatch.delenv(name, raising=False)


def run(*args: str):
    return CliRunner().invoke(app, list(args))


# --- budget ----------------------------------------------------------------------------------


def test_budget_csv_june() -> None:
    result = run("budget", "99.95", "--month", "2025-06", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "target_pct,period,period_seconds,allowed_downtime_seconds",
        "99.95,day,86400,43.2",
        "99.95,week,604800,302.4",
        "99.95,2025-06,2592000,1296",
        "99.95,30d,2592000,1296",
        "99.95,year,31536000,15768",
    ]
    assert result.stderr == ""


def test_budget_defaults_to_policy_tiers_highest_first() -> None:
    result = run("budget", "--month", "2025-06", "-f", "csv")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1 + 3 * 5
    assert [line.split(",")[0] for line in lines[1::5]] == ["99.999", "99.99", "99.95"]
    assert "99.999,year,31536000,315.36" in lines
    assert "99.99,day,86400,8.64" in lines


def test_budget_policy_file_tiers() -> None:
    result = run("budget", "--policy", str(SAMPLE_POLICY), "--month", "2025-06", "-f", "csv")
    assert result.exit_code == 0, result.output
    assert [line.split(",")[0] for line in result.stdout.splitlines()[1::5]] == [
        "99.999",
        "99.99",
        "99.95",
    ]


def test_budget_dst_month_new_york() -> None:
    result = run("budget", "99.95%", "--month", "2025-03", "--tz", "America/New_York", "-f", "csv")
    assert result.exit_code == 0, result.output
    assert "99.95,2025-03,2674800,1337.4" in result.stdout.splitlines()


def test_budget_tz_from_environment() -> None:
    result = CliRunner().invoke(
        app,
        ["budget", "99.95", "--month", "2025-11", "-f", "csv"],
        env={"SLACALC_TZ": "America/New_York"},
    )
    assert result.exit_code == 0, result.output
    assert "99.95,2025-11,2595600,1297.8" in result.stdout.splitlines()


def test_budget_json_types() -> None:
    result = run("budget", "99.99", "--month", "2025-06", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data) == 5
    assert list(data[0]) == ["target_pct", "period", "period_seconds", "allowed_downtime_seconds"]
    assert data[0] == {
        "target_pct": "99.99",
        "period": "day",
        "period_seconds": 86400,
        "allowed_downtime_seconds": 8.64,
    }
    assert data[2]["period"] == "2025-06"
    assert type(data[2]["period_seconds"]) is int
    assert type(data[2]["allowed_downtime_seconds"]) is float  # 259.2


def test_budget_table() -> None:
    result = run("budget", "99.95", "99.99", "--month", "2025-03", "--tz", "America/New_York")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "2025-03 (30d 23h)" in out
    assert "Year (365d)" in out
    assert "22m 17.4s" in out  # 1337.4 s
    assert "4h 22m 48s" in out  # 99.95 % of 365 days


def test_budget_table_plain_month() -> None:
    result = run("budget", "99.95", "--month", "2025-06")
    assert result.exit_code == 0, result.output
    assert "2025-06 (30d)" in result.stdout
    assert "21m 36s" in result.stdout


def test_budget_default_month_is_current() -> None:
    result = run("budget", "99.95", "-f", "csv")
    assert result.exit_code == 0, result.output
    month = result.stdout.splitlines()[3].split(",")[1]
    assert len(month) == 7 and month[4] == "-"


def test_budget_writes_csv_file(tmp_path: Path) -> None:
    target = tmp_path / "budget.csv"
    result = run("budget", "99.95", "--month", "2025-06", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "target_pct,period,period_seconds,allowed_downtime_seconds"
    assert lines[3] == "99.95,2025-06,2592000,1296"
    assert [p.name for p in tmp_path.iterdir()] == ["budget.csv"]


@pytest.mark.parametrize("pct", ["abc", "0", "100.5", "101%", "99,95"])
def test_budget_bad_target_is_usage_error(pct: str) -> None:
    result = run("budget", "99.95", pct, "--month", "2025-06")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Error: PCT: ")
    assert f"'{pct}'" in result.stderr


@pytest.mark.parametrize("month", ["2025-13", "June", "2025/06"])
def test_budget_bad_month_is_usage_error(month: str) -> None:
    result = run("budget", "99.95", "--month", month)
    assert result.exit_code == 2
    assert result.stderr == f"Error: --month: expected a month as YYYY-MM, got '{month}'\n"


def test_budget_bad_month_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "budget.csv"
    result = run("budget", "--month", "2025-00", "-o", str(target))
    assert result.exit_code == 2
    assert list(tmp_path.iterdir()) == []


def test_budget_bad_zone_is_usage_error() -> None:
    result = run("budget", "99.95", "--tz", "Mars/Olympus")
    assert result.exit_code == 2
    assert "unknown time zone 'Mars/Olympus'" in result.stderr


def test_budget_bad_policy_is_usage_error() -> None:
    result = run("budget", "--policy", "gold")
    assert result.exit_code == 2
    assert "unknown policy 'gold'" in result.stderr


# --- tiers -----------------------------------------------------------------------------------


TIERS_HEADER = "target_pct,coefficient,credit_pct,cap_pct,default,bands"


@pytest.mark.parametrize("policy", ["standard", "standard-credit"])
def test_tiers_builtin_csv(policy: str) -> None:
    result = run("tiers", "--policy", policy, "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        TIERS_HEADER,
        "99.999,5.00,50,100,false,<99.999:50",
        "99.99,2.50,25,100,false,<99.99:25",
        "99.95,1.25,5,100,true,<99.95:5",
    ]


@pytest.mark.parametrize(
    ("policy", "lines"),
    [
        ("aws-ec2-region", ["99.99,,10,100,true,<99.99:10 <99:30 <95:100"]),
        ("azure-vm", None),
        ("tencent-cvm", ["99.95,,10,100,true,<99.95:10 <99:25 <95:100"]),
    ],
)
def test_presets_show_their_bands(policy: str, lines: list[str] | None) -> None:
    result = run("tiers", "--policy", policy, "--format", "csv")
    assert result.exit_code == 0, result.output
    if lines is not None:
        assert result.stdout.splitlines()[1:] == lines
    assert "<99.99:10 <99:25 <95:100" in result.stdout or policy != "azure-vm"


def test_policies_lists_every_preset_with_its_source() -> None:
    result = run("policies", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = result.stdout.splitlines()
    assert rows[0] == "name,mode,default_target,title,source,read_on,origin"
    names = [r.split(",")[0] for r in rows[1:]]
    assert names[:2] == ["standard", "standard-credit"]
    assert {"aws-ec2-region", "azure-vm", "tencent-cvm"} <= set(names)
    for row in rows[3:]:
        assert ",https://" in row and re.search(r",20\d\d-\d\d-\d\d,preset$", row), row


def test_tiers_default_policy() -> None:
    result = run("tiers", "-f", "csv")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "99.95,1.25,5,100,true,<99.95:5"


def test_tiers_policy_file_csv() -> None:
    result = run("tiers", "--policy", str(SAMPLE_POLICY), "-f", "csv")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        TIERS_HEADER,
        "99.999,5.00,50,50,false,<99.999:50",
        "99.99,2.50,25,50,true,<99.99:25",
        "99.95,1.25,5,50,false,<99.95:5",
    ]


def test_tiers_json_types() -> None:
    result = run("tiers", "--policy", "standard", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data[0] == {
        "target_pct": "99.999",
        "coefficient": "5.00",
        "credit_pct": "50",
        "cap_pct": "100",
        "default": False,
        "bands": [{"below": "99.999", "credit_pct": "50"}],
    }
    assert data[2]["default"] is True
    assert [list(d) for d in data] == [TIERS_HEADER.split(",")] * 3


def test_tiers_table_standard() -> None:
    result = run("tiers")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Policy standard: mode coefficient, default tier 99.95, cap 100 %" in out
    assert "coefficient" in out and "2.50" in out and "yes" in out


def test_tiers_table_credit_and_file() -> None:
    credit = run("tiers", "--policy", "standard-credit")
    assert credit.exit_code == 0, credit.output
    assert "mode credit" in credit.stdout
    assert "the lowest band the availability falls under × monthly fee" in credit.stdout
    premium = run("tiers", "--policy", str(SAMPLE_POLICY))
    assert premium.exit_code == 0, premium.output
    assert "Policy premium: mode coefficient, default tier 99.99, cap 50 %" in premium.stdout


def test_tiers_policy_from_environment() -> None:
    result = CliRunner().invoke(app, ["tiers", "-f", "csv"], env={"SLACALC_POLICY": "standard"})
    assert result.exit_code == 0, result.output


def test_tiers_unknown_policy_exit_2() -> None:
    result = run("tiers", "--policy", "platinum")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Error: unknown policy 'platinum'")


def test_tiers_bad_policy_file_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\nmode = "bonus"\n', encoding="utf-8")
    result = run("tiers", "--policy", str(bad))
    assert result.exit_code == 2
    assert "key 'mode': expected one of 'coefficient', 'credit'" in result.stderr


def test_tiers_writes_json_file(tmp_path: Path) -> None:
    target = tmp_path / "tiers.json"
    result = run("tiers", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text(encoding="utf-8"))[1]["target_pct"] == "99.99"


@pytest.mark.parametrize("command", ["budget", "tiers"])
def test_help_has_examples(command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0
    assert result.stdout.count("Example: slacalc " + command) == 2
