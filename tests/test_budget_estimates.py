"""`slacalc budget --contracts`: the planning estimate of each composite service from its
parts' targets (issue 22), hand-checked on the sample, and the rule against an independent
computation over random parts."""

from __future__ import annotations

import json
from fractions import Fraction
from itertools import combinations
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from slacalc.cli import app
from slacalc.terms.composite import REDUNDANT, SERIAL, WEIGHTED, Composite

SAMPLE = str(Path(__file__).resolve().parent.parent / "samples" / "contracts-composite.csv")


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_the_sample_by_hand() -> None:
    # compute 99.95 %, storage 99.99 %; June 2025 in Asia/Shanghai: 2592000 s.
    # shop = serial: 0.9995 x 0.9999 = 0.99940005; 2592000 x 0.00059995 = 1555.0704 s
    # backup = redundant: 1 - 0.0005 x 0.0001 = 0.99999995; 2592000 x 5e-8 = 0.1296 s
    # portal = weighted 2:1: (2 x 99.95 + 99.99) / 3 = 99.96333...; 2592000 x 0.000366... = 950.4
    result = run("budget", "--contracts", SAMPLE, "--month", "2025-06", "-f", "csv")
    assert result.exit_code == 0, result.output
    rows = [line.split(",") for line in result.stdout.splitlines()]
    header = rows[0]
    assert header[:7] == [
        "customer_id",
        "service",
        "composite",
        "part_targets",
        "estimate_pct",
        "target_pct",
        "meets_target",
    ]
    got = {r[1]: r for r in rows[1:]}
    assert set(got) == {"backup", "portal", "shop"}
    text = result.stdout
    assert (
        'acme,shop,"serial:compute,storage",compute=99.95 storage=99.99,99.940005,99.95,false'
        in text
    )
    assert ",99.999995,99.95,true,2025-06,2592000,0.13,1296," in text
    assert ",99.96333333,99.95,true,2025-06,2592000,950.4,1296," in text
    assert "assumes independent failures" in got["shop"][-1]


def test_json_types_and_the_label() -> None:
    result = run("budget", "--contracts", SAMPLE, "--month", "2025-06", "-f", "json")
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    shop = next(r for r in records if r["service"] == "shop")
    assert shop["meets_target"] is False
    assert shop["basis"] == "product of the parts' targets; assumes independent failures"


def test_the_table_says_it_is_an_estimate() -> None:
    result = run("budget", "--contracts", SAMPLE, "--month", "2025-06", "-f", "table")
    assert result.exit_code == 0, result.output
    flat = " ".join(result.stdout.split())
    assert "planning estimates" in flat and "not measurements" in flat
    assert "99.940005" in flat


def test_a_part_without_a_contract_is_an_error_at_its_line(tmp_path: Path) -> None:
    contracts = tmp_path / "c.csv"
    contracts.write_text(
        "customer_id,service,monthly_fee,sla_target,composite\n"
        "acme,web,100,99.95,\n"
        'acme,shop,500,99.95,"serial:web,db"\n',
        encoding="utf-8",
    )
    result = run("budget", "--contracts", str(contracts), "--month", "2025-06")
    assert result.exit_code == 1
    assert f"{contracts}:3:" in result.stderr and "part 'db'" in result.stderr


def test_targets_and_contracts_together_are_a_usage_error() -> None:
    result = run("budget", "99.9", "--contracts", SAMPLE)
    assert result.exit_code == 2


shares = st.fractions(min_value=Fraction(1, 2), max_value=1, max_denominator=10**6)


@given(st.lists(shares, min_size=2, max_size=6))
def test_serial_and_redundant_against_inclusion_exclusion(targets: list[Fraction]) -> None:
    # Independent parts: P(all up) is the product; P(at least one up) by inclusion-exclusion
    # over the parts' up-events, a different sum from 1 - prod(1 - a).
    names = tuple(f"p{i}" for i in range(len(targets)))
    up_all = Fraction(1)
    for a in targets:
        up_all *= a
    any_up = Fraction(0)
    for k in range(1, len(targets) + 1):
        for subset in combinations(targets, k):
            term = Fraction(1)
            for a in subset:
                term *= a
            any_up += (-1) ** (k + 1) * term
    assert Composite(SERIAL, names).estimate(tuple(targets)) == up_all
    assert Composite(REDUNDANT, names).estimate(tuple(targets)) == any_up


@given(
    st.lists(
        st.tuples(shares, st.fractions(min_value=Fraction(1, 10**6), max_value=10**6)),
        min_size=2,
        max_size=6,
    )
)
def test_weighted_is_the_weighted_mean(parts: list[tuple[Fraction, Fraction]]) -> None:
    names = tuple(f"p{i}" for i in range(len(parts)))
    targets = tuple(a for a, _ in parts)
    weights = tuple(w for _, w in parts)
    got = Composite(WEIGHTED, names, weights).estimate(targets)
    assert min(targets) <= got <= max(targets)
    assert got * sum(weights) == sum(a * w for a, w in parts)
