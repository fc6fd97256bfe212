"""The bulk CSV writer gives byte for byte the row-by-row writer's text."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("pyarrow")

from slacalc import frame
from slacalc.contracts import Contract, ContractBook
from slacalc.incidents import Incident, IncidentLog
from slacalc.policy import load_policy
from slacalc.render import FORMULA_CHARS, write_csv_rows
from slacalc.report import FIELDS, TEXT_FIELDS, Terms, compute_report
from slacalc.timeparse import get_zone, parse_instant

ZONES = ["Asia/Shanghai", "America/New_York", "Europe/London"]
NAMES = ["acme", "=cmd", "a,b", 'say "hi"', "-1", "@x", "北京", " "]
HOUR = 3_600_000_000


def row_text(report, raw: bool) -> str:
    out = io.StringIO()
    write_csv_rows((r.to_row() for r in report.rows), FIELDS, out, raw=raw,
                   text_columns=TEXT_FIELDS)  # fmt: skip
    return out.getvalue().split("\n", 1)[1]


@st.composite
def logs(draw):
    zone = get_zone(draw(st.sampled_from(ZONES)))
    base = parse_instant("2025-02-25 00:00:00", zone)
    incidents = []
    for line in range(2, draw(st.integers(1, 25)) + 2):
        start = base + draw(st.integers(0, 60 * 24)) * HOUR // 4 + draw(st.integers(0, 999_999))
        length = draw(st.sampled_from([0, 1, 10**6, HOUR, 30 * HOUR, 800 * HOUR]))
        end = None if draw(st.integers(0, 9)) == 0 else start + length
        category = draw(st.sampled_from(["outage"] * 5 + ["data_loss", "maintenance",
                                                          "excluded"]))  # fmt: skip
        from fractions import Fraction

        impact = draw(st.sampled_from([1, 1, 1, Fraction(1, 2), Fraction(3, 10)]))
        incidents.append(Incident(start, end, draw(st.sampled_from(NAMES)),
                                  draw(st.sampled_from(["db", "web", ""])), f"I{line}",
                                  category, impact, "log.csv", line, "", ""))  # fmt: skip
    return zone, IncidentLog(incidents)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=logs(),
    policy=st.sampled_from(["standard", "standard-credit"]),
    fee=st.sampled_from(["0", "100", "12000.00", "1500000", "0.01", "1e30"]),
    currency=st.sampled_from(["CNY", "JPY", "KWD"]),
    target=st.sampled_from(["99.95", "99.99", "99.999"]),
    raw=st.booleans(),
    wildcard=st.booleans(),
)
def test_bulk_csv_equals_row_csv(data, policy, fee, currency, target, raw, wildcard) -> None:
    zone, log = data
    pol = load_policy(policy)
    terms = Terms(policy=pol, tz=zone, as_of=parse_instant("2025-04-10 12:00:00", zone),
                  currency=currency, monthly_fee=Decimal(fee),
                  sla_target=pol.parse_target(target))  # fmt: skip
    book = None
    if wildcard:
        book = ContractBook([
            Contract("acme", "*", Decimal("999.99"), "USD", pol.tiers[0]),
            Contract("nobody", "*", Decimal("5"), "EUR", pol.tiers[-1]),
        ])  # fmt: skip
    report = compute_report(log, terms, contracts=book)
    if report.plan is None:
        return
    body = frame.csv_body(report.plan, raw=raw, formula_chars=FORMULA_CHARS)
    assert body is not None
    text, any_breached = body
    assert text == row_text(report, raw)
    assert any_breached == any(r.breached for r in report.rows)


def test_quoting_matches_the_csv_module() -> None:
    for name in [*NAMES, "line\nbreak", "cr\rhere", ""]:
        out = io.StringIO()
        import csv

        csv.writer(out, lineterminator="\n").writerow([name if not name.startswith(
            tuple(FORMULA_CHARS)) else "'" + name, "x"])  # fmt: skip
        assert frame._csv_text(name, False, FORMULA_CHARS) + ",x\n" == out.getvalue()
