"""Real SLA terms: band credits, outage rules, service hours, claim windows, minimum credits,
the availability base, per-contract policies and 'compare'. Every figure is worked out by hand
in the comment next to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from slacalc.cli import app

HEADER = "incident_id,customer_id,service,category,start,end,impact\n"
AS_OF = "2026-06-01T00:00:00+08:00"
JUNE = 30 * 86400  # seconds in June 2025, Shanghai


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


def log(tmp_path: Path, body: str, name: str = "incidents.csv") -> str:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return str(path)


def contracts(tmp_path: Path, body: str) -> str:
    path = tmp_path / "contracts.csv"
    path.write_text(
        "customer_id,service,monthly_fee,currency,sla_target,policy\n" + body, encoding="utf-8"
    )
    return str(path)


def rows(*args: str) -> list[dict[str, str]]:
    result = run("report", *args, "--as-of", AS_OF, "-f", "csv")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    header = lines[0].split(",")
    return [dict(zip(header, line.split(","), strict=True)) for line in lines[1:]]


def outage_of(tmp_path: Path, seconds: int, *, impact: str = "", day: str = "2025-06-10") -> str:
    """One outage of ``seconds`` starting at 00:00 on ``day``."""
    from datetime import datetime, timedelta

    start = datetime.fromisoformat(f"{day} 00:00:00")
    end = start + timedelta(seconds=seconds)
    return log(
        tmp_path, f"i,c,s,outage,{start:%Y-%m-%d %H:%M:%S},{end:%Y-%m-%d %H:%M:%S},{impact}\n"
    )


# --- band credits -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "seconds", "credit", "pct"),
    [
        # availability = 1 - downtime / 2592000 s
        ("aws-ec2-region", 25_920, "100.00", "10"),  # 99.0 % exactly is not below 99.0: 10 %
        ("aws-ec2-region", 77_760, "300.00", "30"),  # 97.0 %: below 99.0 -> 30 %
        ("aws-ec2-region", 1_000, "100.00", "10"),  # 99.9614 %: below 99.99 -> 10 %
        ("aws-ec2-region", 200, "", ""),  # 99.9922 %: meets 99.99, no credit
        ("aws-ec2-region", 132_000, "1000.00", "100"),  # 94.907 %: below 95 -> 100 %
        ("azure-vm", 77_760, "250.00", "25"),  # 97.0 %: Azure pays 25 % below 99
        ("azure-vm", 1_000, "100.00", "10"),
    ],
)
def test_provider_band_credits(
    tmp_path: Path, policy: str, seconds: int, credit: str, pct: str
) -> None:
    path = outage_of(tmp_path, seconds)
    (row,) = rows(path, "--monthly-fee", "1000", "--currency", "USD", "--policy", policy)
    assert (row["credit_pct"], row["compensation"]) == (pct, credit or "0.00")
    assert row["breached"] == ("true" if credit else "false")


def test_the_issue_example_aws_and_azure_at_97_percent(tmp_path: Path) -> None:
    # 97 % availability on a 1000 fee: AWS 300.00, Azure 250.00 (not the seed's flat 100.00)
    path = outage_of(tmp_path, 77_760)
    aws = rows(path, "--monthly-fee", "1000", "--policy", "aws-ec2-region")[0]
    azure = rows(path, "--monthly-fee", "1000", "--policy", "azure-vm")[0]
    assert (aws["availability_pct"], aws["compensation"]) == ("97.0000", "300.00")
    assert azure["compensation"] == "250.00"


# --- outage rules (Tencent: <= 60 s ignored, started minutes rounded up) -----------------------


@pytest.mark.parametrize(
    ("seconds", "impact", "counted"),
    [
        (60, "", "0"),  # at most 60 s: ignored
        (61, "", "120"),  # 61 s rounds up to 2 minutes
        (120, "", "120"),
        (121, "", "180"),
        (61, "0.5", "60"),  # a partial loss scales with the rounding: 120 s x 0.5
        (30, "0.5", "0"),
    ],
)
def test_tencent_outage_rules(tmp_path: Path, seconds: int, impact: str, counted: str) -> None:
    path = outage_of(tmp_path, seconds, impact=impact)
    (row,) = rows(path, "--monthly-fee", "1000", "--policy", "tencent-cvm")
    assert row["downtime_seconds"] == counted


def test_outage_rules_apply_to_each_merged_interval_after_exclusion(tmp_path: Path) -> None:
    # 10:00:00-10:01:30 outage with maintenance 10:00:40-10:01:00 inside: two intervals of 40 s
    # and 30 s after exclusion, each at most 60 s: both ignored -> 0. Two overlapping 40 s
    # outages merged into one 70 s interval -> rounded to 120 s.
    path = log(
        tmp_path,
        "a,c,s,outage,2025-06-10 10:00:00,2025-06-10 10:01:30,\n"
        "m,c,s,maintenance,2025-06-10 10:00:40,2025-06-10 10:01:00,\n"
        "b,c,x,outage,2025-06-10 10:00:00,2025-06-10 10:00:40,\n"
        "d,c,x,outage,2025-06-10 10:00:30,2025-06-10 10:01:10,\n",
    )
    got = {r["service"]: r for r in rows(path, "--monthly-fee", "1000", "--policy", "tencent-cvm")}
    assert got["s"]["downtime_seconds"] == "0"
    assert got["x"]["downtime_seconds"] == "120"


def write_policy(tmp_path: Path, text: str, name: str = "terms.toml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


CREDIT_10 = """name = "{name}"
mode = "credit"
default_target = 99.9
{extra}
[[tiers]]
target = 99.9
bands = [ {{ below = 99.9, credit_pct = 10 }}, {{ below = 99.0, credit_pct = 50 }} ]
"""


def test_min_credit_withholds_small_credits_and_says_so(tmp_path: Path) -> None:
    terms = write_policy(tmp_path, CREDIT_10.format(name="min5", extra='min_credit = "5.00"'))
    path = outage_of(tmp_path, 10_000)  # 99.6142 %: below 99.9 -> 10 %
    small = rows(path, "--monthly-fee", "40", "--policy", terms)[0]  # 10 % of 40 = 4.00 < 5
    big = rows(path, "--monthly-fee", "60", "--policy", terms)[0]  # 6.00 >= 5.00
    assert (small["breached"], small["compensation"], small["claim_status"]) == (
        "true",
        "0.00",
        "below_min_credit",
    )
    assert (big["compensation"], big["claim_status"]) == ("6.00", "open")


def test_availability_base_can_leave_out_excluded_time(tmp_path: Path) -> None:
    # 1 day of maintenance and 1 hour of outage in June (2592000 s):
    # period base:  1 - 3600 / 2592000         = 99.8611 %
    # minus excluded: 1 - 3600 / (2592000 - 86400) = 99.8563 %
    path = log(
        tmp_path,
        "o,c,s,outage,2025-06-10 10:00,2025-06-10 11:00,\n"
        "m,c,s,maintenance,2025-06-20 00:00,2025-06-21 00:00,\n",
    )
    plain = write_policy(tmp_path, CREDIT_10.format(name="plain", extra=""), "a.toml")
    minus = write_policy(
        tmp_path,
        CREDIT_10.format(name="minus", extra='availability_base = "period-minus-excluded"'),
        "b.toml",
    )
    assert rows(path, "--monthly-fee", "1", "--policy", plain)[0]["availability_pct"] == "99.8611"
    assert rows(path, "--monthly-fee", "1", "--policy", minus)[0]["availability_pct"] == "99.8563"


def test_service_hours_count_only_working_hours(tmp_path: Path) -> None:
    # Working days 08:00-20:00 on the CN calendar. June 2025 has 20 working days (the 2nd is
    # the Dragon Boat holiday): period = 20 x 12 h = 864000 s. An outage 19:00-21:00 on
    # Tuesday 10 June counts 1 h; one on Sunday 8 June counts nothing.
    terms = write_policy(
        tmp_path,
        CREDIT_10.format(
            name="office",
            extra='service_hours = { days = "working", from = "08:00", to = "20:00" }',
        ),
    )
    path = log(
        tmp_path,
        "a,c,s,outage,2025-06-10 19:00,2025-06-10 21:00,\n"
        "b,c,s,outage,2025-06-08 10:00,2025-06-08 11:00,\n",
    )
    (row,) = rows(path, "--monthly-fee", "100", "--policy", terms)
    assert (row["period_seconds"], row["downtime_seconds"]) == ("864000", "3600")
    # 1 - 3600 / 864000 = 99.5833 % -> below 99.9 -> 10 % of 100
    assert (row["availability_pct"], row["compensation"]) == ("99.5833", "10.00")


@pytest.mark.parametrize(
    ("month", "opens", "closes"),
    [
        # September 2025: October's working days are 9, 10, 11 (make-up Saturday), 13, 14
        # (National Day week 1-8 October off): the window opens 15 October 00:00; 60 days
        # after 1 October is 30 November.
        ("2025-09", "2025-10-15T00:00:00+08:00", "2025-11-30T00:00:00+08:00"),
        # January 2025: February's working days are 5, 6, 7, 8 (make-up Saturday), 10
        # (Spring Festival 28 January - 4 February off): opens 11 February; 1 Feb + 60 days
        # = 2 April.
        ("2025-01", "2025-02-11T00:00:00+08:00", "2025-04-02T00:00:00+08:00"),
    ],
)
def test_tencent_claim_windows_across_chinese_holidays(
    tmp_path: Path, month: str, opens: str, closes: str
) -> None:
    path = log(tmp_path, f"i,c,s,outage,{month}-10 00:00,{month}-11 00:00,\n")
    (row,) = rows(path, "--monthly-fee", "1000", "--policy", "tencent-cvm")
    assert (row["claim_opens_at"], row["claim_closes_at"]) == (opens, closes)
    assert (row["credit_form"], row["policy"], row["claim_status"]) == (
        "voucher",
        "tencent-cvm",
        "claim_expired",
    )


def test_aws_claims_close_at_the_end_of_the_second_billing_cycle(tmp_path: Path) -> None:
    # May 2025 ends 1 June; two billing cycles later: 1 August 00:00
    path = log(tmp_path, "i,c,s,outage,2025-05-10 00:00,2025-05-10 05:00,\n")
    result = run(
        "report",
        path,
        "--monthly-fee",
        "1000",
        "--policy",
        "aws-ec2-region",
        "--as-of",
        "2025-07-15T00:00:00+08:00",
        "-f",
        "csv",
    )
    header, line = result.stdout.splitlines()
    row = dict(zip(header.split(","), line.split(","), strict=True))
    assert row["claim_closes_at"] == "2025-08-01T00:00:00+08:00"
    assert row["claim_status"] == "open"


def test_per_contract_policies_price_customers_under_their_own_terms(tmp_path: Path) -> None:
    own = write_policy(tmp_path, CREDIT_10.format(name="own", extra=""), "own.toml")
    book = contracts(
        tmp_path,
        "a,s,1000,USD,,aws-ec2-region\n"
        "b,s,1000,USD,,azure-vm\n"
        "c,s,1000,USD,99.95,\n"
        f"d,s,1000,USD,,{Path(own).name}\n",
    )
    body = "".join(f"i,{k},s,outage,2025-06-10 00:00,2025-06-10 21:36,\n" for k in "abcd")
    # 77760 s of 2592000 = 97.0 %: AWS 30 %, Azure 25 %, standard (coefficient, 99.95) =
    # 77760/2592000 x 1000 x 1.25 = 37.50, own policy: below 99.0 -> 50 %
    got = {r["customer_id"]: r for r in rows(log(tmp_path, body), "--contracts", book)}
    assert {k: (r["policy"], r["compensation"]) for k, r in got.items()} == {
        "a": ("aws-ec2-region", "300.00"),
        "b": ("azure-vm", "250.00"),
        "c": ("standard", "37.50"),
        "d": ("own", "500.00"),
    }


def test_compare_prices_the_same_month_under_each_policy(tmp_path: Path) -> None:
    book = contracts(tmp_path, "a,s,1000,USD,99.99,\n")
    path = log(tmp_path, "i,a,s,outage,2025-06-10 00:00,2025-06-10 21:36,\n")
    result = run(
        "compare",
        path,
        "--contracts",
        book,
        "--policy",
        "standard",
        "--policy",
        "aws-ec2-region",
        "--policy",
        "azure-vm",
        "--as-of",
        AS_OF,
        "-f",
        "json",
    )
    assert result.exit_code == 0, result.output
    import json

    (data,) = json.loads(result.stdout)
    owed = {r["policy"]: r["compensation"] for r in data["rows"]}
    # standard at 99.99 (coefficient 2.50): 77760/2592000 x 1000 x 2.50 = 75.00
    assert owed == {"standard": "75.00", "aws-ec2-region": "300.00", "azure-vm": "250.00"}
    totals = {t["policy"]: t["compensation"] for t in data["totals"]}
    assert totals == owed


def test_compare_needs_two_policies(tmp_path: Path) -> None:
    path = log(tmp_path, "i,a,s,outage,2025-06-10 00:00,2025-06-10 01:00,\n")
    result = run("compare", path, "--monthly-fee", "1", "--policy", "standard")
    assert result.exit_code == 2
    assert "two or more policies" in result.stderr


def test_a_typo_in_a_policy_file_is_a_usage_error_with_a_suggestion(tmp_path: Path) -> None:
    terms = write_policy(tmp_path, "cap = 50\n[[tiers]]\ntarget = 99.9\ncoefficient = 1\n")
    path = log(tmp_path, "i,a,s,outage,2025-06-10 00:00,2025-06-10 01:00,\n")
    result = run("report", path, "--monthly-fee", "1", "--policy", terms)
    assert result.exit_code == 2
    assert "unknown key; did you mean 'cap_pct'?" in result.stderr
    assert result.stdout == ""


def test_explain_shows_the_band_and_rules_that_applied(tmp_path: Path) -> None:
    # 1301 s rounds up to 1320 s: 1 - 1320/2592000 = 99.9490 %, below 99.95 -> 10 %
    path = outage_of(tmp_path, 1301)
    result = run(
        "explain",
        path,
        "--customer",
        "c",
        "--service",
        "s",
        "--month",
        "2025-06",
        "--monthly-fee",
        "1000",
        "--policy",
        "tencent-cvm",
        "--as-of",
        AS_OF,
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "outage rules" in out and "downtime 1301 s counts 1320 s" in out
    assert "band: availability below 99.95 % -> credit 10 %" in out
    assert "claim window:" in out


def test_customer_wide_rows_need_contracts_in_validate_as_in_report(tmp_path: Path) -> None:
    path = log(tmp_path, "i,*,api,outage,2025-06-10 00:00,2025-06-10 01:00,\n")
    for command in (["report", path, "--monthly-fee", "1"], ["validate", path]):
        result = run(*command, "--as-of", AS_OF)
        assert result.exit_code == 1, (command, result.output)
        assert "customer '*' (every customer of the service) needs --contracts" in result.output


def test_customer_wide_rows_nobody_has_are_a_warning(tmp_path: Path) -> None:
    book = contracts(tmp_path, "a,web,100,USD,,\n")
    path = log(tmp_path, "i,*,api,outage,2025-06-10 00:00,2025-06-10 01:00,\n")
    result = run("report", path, "--contracts", book, "--as-of", AS_OF, "-f", "csv")
    assert result.exit_code == 0, result.output
    assert "customer '*' rows of service 'api' reach no contract" in result.stderr
