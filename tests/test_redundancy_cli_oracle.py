"""Redundant deployments through the whole command line, against the brute-force grid
(tests/zone_oracle): random zone logs and deployments written as a person's files would be
(naive Europe/Berlin times, DST weeks, ongoing rows, maintenance, partial impacts, rows of
every customer '*', deployments that start and stop mid-month), a policy file per rule,
`slacalc report` as a subprocess would run it. Only the report's downtime_seconds is compared:
every other column follows from it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from slacalc.cli import app
from tests import zone_oracle
from tests.zone_oracle import Deployed, Row

BERLIN = ZoneInfo("Europe/Berlin")
# (first instant, last instant, step seconds): the spring and autumn DST weeks and a month edge
WINDOWS = [
    (datetime(2025, 3, 28, tzinfo=UTC), datetime(2025, 4, 2, tzinfo=UTC), 900),
    (datetime(2025, 10, 24, tzinfo=UTC), datetime(2025, 11, 2, tzinfo=UTC), 900),
    (datetime(2025, 5, 31, 18, tzinfo=UTC), datetime(2025, 6, 1, 6, tzinfo=UTC), 60),
]
IMPACTS = {"": Fraction(1), "0.5": Fraction(1, 2), "30%": Fraction(3, 10), "0.125": Fraction(1, 8)}
RULES = ["all", "more_than:0", "more_than:1", "at_least:1", "at_least:2", "at_least:3"]


def text(second: int, local: bool) -> str:
    """An instant as a file would hold it: naive Berlin time where that names one instant,
    else ISO 8601 in UTC."""
    dt = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=second)
    if local:
        wall = dt.astimezone(BERLIN).replace(tzinfo=None, fold=0)
        back = [wall.replace(tzinfo=BERLIN, fold=f).astimezone(UTC) for f in (0, 1)]
        if back[0] == back[1] == dt:  # not in a gap, not in a repeated hour
            return wall.strftime("%Y-%m-%d %H:%M:%S")
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


@st.composite
def case(draw):
    lo_dt, hi_dt, step = draw(st.sampled_from(WINDOWS))
    lo, hi = int(lo_dt.timestamp()), int(hi_dt.timestamp())
    cells = (hi - lo) // step
    instant = st.integers(0, cells).map(lambda i: lo + i * step)
    customers, zones = ["acme", "beta"], ["a", "b", "c"]
    deployments = []
    for c in customers:
        for z in zones:
            cuts = sorted(set(draw(st.lists(instant, max_size=2))))
            for a, b in pairwise([None, *cuts, None]):
                if draw(st.booleans()):
                    deployments.append(Deployed(c, "vm", z, a, b))
    rows = []
    for _ in range(draw(st.integers(1, 8))):
        start = draw(instant)
        end = None if draw(st.integers(0, 7)) == 0 else min(start + draw(instant) - lo + step, hi)
        rows.append(
            (
                draw(st.sampled_from([*customers, "*"])),  # '*': every customer of vm
                draw(st.sampled_from(["", "a", "b", "c", "d"])),
                start,
                end,
                draw(st.sampled_from(["outage", "outage", "data_loss", "maintenance"])),
                draw(st.sampled_from(sorted(IMPACTS))),
            )
        )
    rule = draw(st.sampled_from(RULES))
    min_period = draw(st.sampled_from([0, 0, 60, 1800]))
    as_of = draw(st.sampled_from([hi, lo + (cells // 2) * step]))
    local = draw(st.booleans())
    return lo, hi, step, deployments, rows, rule, min_period, as_of, local


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case())
def test_the_report_matches_the_grid(tmp_path: Path, case) -> None:
    lo, hi, step, deployments, rows, rule, min_period, as_of, local = case
    log = tmp_path / "log.csv"
    log.write_text(
        "incident_id,customer_id,service,resource,start,end,category,impact\n"
        + "".join(
            f"I{i},{c},vm,{z},{text(s, local)},{'' if e is None else text(e, local)},{cat},{imp}\n"
            for i, (c, z, s, e, cat, imp) in enumerate(rows)
        ),
        encoding="utf-8",
    )
    deployed = tmp_path / "deployed.csv"
    deployed.write_text(
        "customer_id,service,zone,from,to\n"
        + "".join(
            f"{d.customer},{d.service},{d.zone},{'' if d.start is None else text(d.start, local)},"
            f"{'' if d.end is None else text(d.end, local)}\n"
            for d in deployments
        ),
        encoding="utf-8",
    )
    policy = tmp_path / "policy.toml"
    policy.write_text(
        'name = "zones"\nmode = "credit"\ndefault_target = 99.9\n'
        f'[redundancy]\nunit = "zone"\ndown_when = "{rule}"\nmin_period_seconds = {min_period}\n'
        "[[tiers]]\ntarget = 99.9\nbands = [ { below = 99.9, credit_pct = 10 } ]\n",
        encoding="utf-8",
    )
    contracts = tmp_path / "contracts.csv"
    contracts.write_text("customer_id,service,monthly_fee\nacme,vm,100\nbeta,vm,100\n")
    args = ["report", str(log), "--deployments", str(deployed), "--policy", str(policy)]
    args += ["--contracts", str(contracts)]
    args += ["--tz", "Europe/Berlin", "--monthly-fee", "100", "-f", "csv"]
    args += ["--as-of", text(as_of, False)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = [line.split(",") for line in result.stdout.splitlines()]
    col = {name: i for i, name in enumerate(lines[0])}
    got = {
        (r[col["customer_id"]], r[col["service"]], r[col["month"]]): Fraction(
            Decimal(r[col["downtime_seconds"]])
        )
        for r in lines[1:]
    }
    got = {k: v for k, v in got.items() if v}
    oracle_rows = [
        Row(who, "vm", z, s, e, cat, IMPACTS[imp])
        for c, z, s, e, cat, imp in rows
        for who in (["acme", "beta"] if c == "*" else [c])  # a '*' row is each customer's
    ]
    want = zone_oracle.downtime(
        oracle_rows,
        deployments,
        rule,
        min_period=min_period,
        lo=lo,
        hi=hi,
        step=step,
        as_of=as_of,
        tz=BERLIN,
    )
    assert got == want
