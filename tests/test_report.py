"""The report as a library: contracts, fallbacks, months, exact tiers, compensation, rounding.

Expected numbers are worked out by hand next to each assertion.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slacalc import (
    InputError,
    Month,
    Settings,
    compute_report,
    load_policy,
    read_contracts,
    read_incidents,
)
from slacalc.computing.report import FIELDS
from slacalc.dates.instants import get_zone, parse_instant

ROOT = Path(__file__).parent.parent
SAMPLES = ROOT / "samples"
FIXTURES = Path(__file__).parent / "fixtures"
SH = get_zone("Asia/Shanghai")
HEADER = "incident_id,customer_id,service,category,start,end,impact\n"
JUNE = 30 * 86400  # 2592000 s in Shanghai
MAY = 31 * 86400  # 2678400 s


def incidents(tmp_path: Path, body: str, name: str = "incidents.csv") -> str:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return str(path)


def contracts(tmp_path: Path, body: str) -> str:
    path = tmp_path / "contracts.csv"
    path.write_text(
        "customer_id,service,monthly_fee,currency,sla_target\n" + body, encoding="utf-8"
    )
    return str(path)


def run(
    log_path: str,
    *,
    contracts_path: str | None = None,
    policy: str = "standard",
    as_of: str = "2025-07-01T00:00:00+08:00",
    months: list[str] | None = None,
    monthly_fee: str | None = None,
    sla_target: str | None = None,
    currency: str = "CNY",
    tz: str = "Asia/Shanghai",
) -> list[dict[str, Any]]:
    zone = get_zone(tz)
    pol = load_policy(policy)
    book = (
        read_contracts(contracts_path, policy=pol, default_currency=currency)
        if contracts_path
        else None
    )
    terms = Settings(
        policy=pol,
        tz=zone,
        as_of=parse_instant(as_of, zone),
        currency=currency,
        monthly_fee=None if monthly_fee is None else Decimal(monthly_fee),
        sla_target=None if sla_target is None else pol.parse_target(sla_target),
    )
    report = compute_report(
        read_incidents([log_path], zone),
        terms,
        contracts=book,
        months=[Month.parse(m) for m in months] if months else None,
    )
    return [r.to_dict() for r in report.rows]


def by_key(rows: list[dict[str, Any]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(r["customer_id"], r["service"], r["month"]): r for r in rows}


# --- shape -------------------------------------------------------------------------------------


def test_fields_are_the_spec_fields_in_order(tmp_path: Path) -> None:
    spec = [
        "customer_id",
        "service",
        "month",
        "period_seconds",
        "downtime_seconds",
        "excluded_seconds",
        "availability_pct",
        "tier_band",
        "sla_target_pct",
        "breached",
        "coefficient",
        "monthly_fee",
        "compensation",
        "currency",
        "capped",
        "incident_count",
        "compensation_due_at",
        "status",
    ]
    # the founding contract's fields first, then the policy columns appended after them
    appended = [
        "credit_pct",
        "credit_form",
        "claim_opens_at",
        "claim_closes_at",
        "policy",
        "claim_status",
    ]
    assert list(FIELDS) == spec + appended
    rows = run(incidents(tmp_path, "i,c,s,outage,2025-06-01,2025-06-01 00:01,\n"), monthly_fee="1")
    assert list(rows[0]) == spec + appended


def test_rows_are_sorted_by_customer_service_month() -> None:
    rows = run(str(SAMPLES / "incidents.csv"), contracts_path=str(SAMPLES / "contracts.csv"))
    keys = [(r["customer_id"], r["service"], r["month"]) for r in rows]
    assert keys == sorted(keys)
    assert len(keys) == 16  # 8 keys x May, June


# --- contracts -------------------------------------------------------------------------------


def test_wildcard_and_exact_contracts() -> None:
    got = by_key(run(str(SAMPLES / "incidents.csv"), contracts_path=str(SAMPLES / "contracts.csv")))
    # acme,compute has no exact contract: acme,* (12000 CNY, 99.95)
    assert [
        got["acme", "compute", "2025-05"][f]
        for f in ("monthly_fee", "sla_target_pct", "coefficient")
    ] == ["12000.00", "99.95", "1.25"]
    # acme,storage has its own (30000 CNY, 99.99), which wins over acme,*
    assert [
        got["acme", "storage", "2025-05"][f]
        for f in ("monthly_fee", "sla_target_pct", "coefficient")
    ] == ["30000.00", "99.99", "2.50"]
    # initech,* prices both initech services
    assert got["initech", "storage", "2025-06"]["monthly_fee"] == "1500000"
    assert got["initech", "compute", "2025-06"]["currency"] == "JPY"
    # no row for the wildcards themselves: they priced incident keys
    assert not [k for k in got if k[1] == "*"]


def test_contracts_without_incidents_get_rows() -> None:
    rows = run(
        str(SAMPLES / "incidents.csv"),
        contracts_path=str(SAMPLES / "contracts.csv"),
        months=["2025-07"],
        as_of="2025-08-01T00:00:00+08:00",
    )
    # July: only the ongoing globex,database incident (June 27 -> as-of) reaches it. Every
    # contract gets a row; the unused wildcards appear under service "*".
    assert [(r["customer_id"], r["service"], r["incident_count"]) for r in rows] == [
        ("acme", "*", 0),
        ("acme", "storage", 0),
        ("globex", "database", 1),
        ("globex", "network", 0),
        ("initech", "*", 0),
        ("umbrella", "compute", 0),
        ("umbrella", "storage", 0),
    ]
    quiet = rows[0]
    assert [
        quiet[f]
        for f in (
            "period_seconds",
            "downtime_seconds",
            "availability_pct",
            "tier_band",
            "breached",
            "compensation",
            "status",
        )
    ] == [MAY, 0, "100.0000", "99.999", False, "0.00", "final"]
    # globex,database is down all July: 2678400 s, availability 0, compensation capped at the fee
    down = rows[2]
    assert [
        down[f] for f in ("downtime_seconds", "availability_pct", "compensation", "capped")
    ] == [MAY, "0.0000", "4500.00", True]


def test_contract_rows_for_every_reported_month(tmp_path: Path) -> None:
    log = incidents(tmp_path, "i,a,s,outage,2025-05-10,2025-05-10 00:10,\n")
    book = contracts(tmp_path, "a,s,100,CNY,99.95\nb,t,200,USD,99.99\n")
    rows = run(log, contracts_path=book, months=["2025-05", "2025-06"])
    assert [(r["customer_id"], r["service"], r["month"], r["downtime_seconds"]) for r in rows] == [
        ("a", "s", "2025-05", 600),
        ("a", "s", "2025-06", 0),
        ("b", "t", "2025-05", 0),
        ("b", "t", "2025-06", 0),
    ]


def test_missing_contract_names_the_key(tmp_path: Path) -> None:
    log = incidents(
        tmp_path,
        "i,acme,compute,outage,2025-05-10,2025-05-10 00:10,\n"
        "j,hooli,db,outage,2025-05-11,2025-05-11 00:10,\n",
    )
    book = contracts(tmp_path, "acme,,100,CNY,99.95\n")
    with pytest.raises(InputError) as info:
        run(log, contracts_path=book)
    assert info.value.lines() == [
        f"{log}:3: column 'customer_id': no contract for customer 'hooli' service 'db': add it "
        "to --contracts or give --monthly-fee (value 'hooli')",
        "1 problem found",
    ]


def test_no_contracts_and_no_fee(tmp_path: Path) -> None:
    log = incidents(tmp_path, "i,acme,compute,outage,2025-05-10,2025-05-10 00:10,\n")
    with pytest.raises(InputError) as info:
        run(log)
    assert info.value.lines()[0] == (
        f"{log}:2: column 'customer_id': no contract for customer 'acme' service 'compute': "
        "give --contracts FILE or --monthly-fee AMOUNT (value 'acme')"
    )


def test_key_outside_the_reported_months_needs_no_contract(tmp_path: Path) -> None:
    log = incidents(
        tmp_path,
        "i,acme,compute,outage,2025-05-10,2025-05-10 00:10,\n"
        "j,hooli,db,outage,2025-04-11,2025-04-11 00:10,\n",
    )
    book = contracts(tmp_path, "acme,,100,CNY,99.95\n")
    rows = run(log, contracts_path=book, months=["2025-05"])
    assert [(r["customer_id"], r["service"]) for r in rows] == [("acme", "compute")]


def test_monthly_fee_fallback(tmp_path: Path) -> None:
    # 1296 s of June on 1000 CNY at 99.99 (2.50): 1296/2592000 * 2500 = 1.25
    log = incidents(
        tmp_path,
        "i,a,s,outage,2025-06-10 00:00,2025-06-10 00:21:36,\n"
        "j,b,t,outage,2025-06-10 00:00,2025-06-10 00:21:36,\n",
    )
    rows = run(log, monthly_fee="1000", sla_target="99.99", currency="USD")
    assert [
        (
            r["customer_id"],
            r["monthly_fee"],
            r["currency"],
            r["sla_target_pct"],
            r["breached"],
            r["compensation"],
        )
        for r in rows
    ] == [
        ("a", "1000.00", "USD", "99.99", True, "1.25"),
        ("b", "1000.00", "USD", "99.99", True, "1.25"),
    ]


def test_monthly_fee_fallback_default_tier_is_the_policys(tmp_path: Path) -> None:
    log = incidents(tmp_path, "i,a,s,outage,2025-06-10 00:00,2025-06-10 00:21:36,\n")
    (row,) = run(log, monthly_fee="1000")
    # standard: 99.95; exactly 99.95 % is met
    assert (row["sla_target_pct"], row["breached"]) == ("99.95", False)
    (row,) = run(log, monthly_fee="1000", policy=str(SAMPLES / "policy.toml"))
    # premium: 99.99; 1296/2592000 * 1000 * 2.50 = 1.25, below the 50 % cap
    assert (row["sla_target_pct"], row["breached"], row["compensation"]) == ("99.99", True, "1.25")


def test_monthly_fee_prices_keys_the_contracts_miss(tmp_path: Path) -> None:
    log = incidents(
        tmp_path,
        "i,a,s,outage,2025-06-10,2025-06-10 00:10,\nj,b,s,outage,2025-06-10,2025-06-10 00:10,\n",
    )
    book = contracts(tmp_path, "a,s,100,EUR,99.95\n")
    rows = run(log, contracts_path=book, monthly_fee="7")
    assert [(r["customer_id"], r["monthly_fee"], r["currency"]) for r in rows] == [
        ("a", "100.00", "EUR"),
        ("b", "7.00", "CNY"),
    ]


def test_no_incidents_no_months_no_rows(tmp_path: Path) -> None:
    log = str(tmp_path / "empty.csv")
    Path(log).write_text(HEADER, encoding="utf-8")
    assert run(log, monthly_fee="1") == []
    assert run(log, contracts_path=contracts(tmp_path, "a,s,1,CNY,99.95\n")) == []


# --- status ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "status"),
    [
        ("2025-06-30T23:59:59+08:00", "provisional"),
        ("2025-07-01T00:00:00+08:00", "final"),  # the month is over at its end
        ("2025-06-30T16:00:00Z", "final"),  # the same instant
        ("2025-06-30T15:59:59.999999Z", "provisional"),
        ("2026-01-01T00:00:00+08:00", "final"),
    ],
)
def test_provisional_until_the_month_is_over(tmp_path: Path, as_of: str, status: str) -> None:
    log = incidents(tmp_path, "i,a,s,outage,2025-06-10,2025-06-10 00:10,\n")
    (row,) = run(log, monthly_fee="1", as_of=as_of)
    assert row["status"] == status


def test_future_month_is_provisional(tmp_path: Path) -> None:
    log = incidents(tmp_path, "i,a,s,outage,2025-06-10,2025-06-10 00:10,\n")
    rows = run(
        log, monthly_fee="1", months=["2025-06", "2025-08"], as_of="2025-07-15T00:00:00+08:00"
    )
    assert [(r["month"], r["status"]) for r in rows] == [
        ("2025-06", "final"),
        ("2025-08", "provisional"),
    ]


# --- exact tier boundaries -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("end", "target", "breached", "pct", "band", "compensation"),
    [
        # 1296 s / 2592000 s = 0.0005 exactly: availability 99.95 % meets 99.95
        ("00:21:36", "99.95", False, "99.9500", "99.95", "0.00"),
        # one microsecond more: 99.9499999... %, breached;
        # 1296.000001 / 2592000 * 1000 * 1.25 = 0.6250000004... -> 0.63
        ("00:21:36.000001", "99.95", True, "99.9499", "<99.95", "0.63"),
        # 259.2 s / 2592000 s = 0.0001: exactly 99.99 % meets 99.99
        ("00:04:19.2", "99.99", False, "99.9900", "99.99", "0.00"),
        # 259.200001 s: breached; 259.200001 / 2592000 * 2500 = 0.25000000096... -> 0.25
        ("00:04:19.200001", "99.99", True, "99.9899", "99.95", "0.25"),
        # 25.92 s: exactly 99.999 %
        ("00:00:25.92", "99.999", False, "99.9990", "99.999", "0.00"),
        # 25.920001 s: 25.920001 / 2592000 * 5000 = 0.05000000193 -> 0.05
        ("00:00:25.920001", "99.999", True, "99.9989", "99.99", "0.05"),
    ],
)
def test_exact_tier_boundary(
    tmp_path: Path,
    end: str,
    target: str,
    breached: bool,
    pct: str,
    band: str,
    compensation: str,
) -> None:
    log = incidents(tmp_path, f"i,a,s,outage,2025-06-10 00:00:00,2025-06-10 {end},\n")
    (row,) = run(log, monthly_fee="1000", sla_target=target)
    assert (row["breached"], row["availability_pct"], row["tier_band"], row["compensation"]) == (
        breached,
        pct,
        band,
        compensation,
    )
    assert row["compensation_due_at"] == ("2025-07-04T00:00:00+08:00" if breached else "")


def test_availability_is_truncated_never_rounded_up(tmp_path: Path) -> None:
    # 1 s short of the 99.95 boundary is 1297 s: 1 - 1297/2592000 = 0.99949961... -> 99.9499
    log = incidents(tmp_path, "i,a,s,outage,2025-06-10 00:00:00,2025-06-10 00:21:37,\n")
    (row,) = run(log, monthly_fee="1000")
    assert (row["availability_pct"], row["breached"]) == ("99.9499", True)


# --- compensation -----------------------------------------------------------------------------


def test_coefficient_compensation_sample_rows() -> None:
    rows = run(
        str(SAMPLES / "incidents.csv"),
        contracts_path=str(SAMPLES / "contracts.csv"),
        as_of="2025-06-28T12:00:00+08:00",
    )
    got = by_key(rows)
    # acme,compute May: 2050 / 2678400 * 12000 * 1.25 = 11.4807... -> 11.48
    assert got["acme", "compute", "2025-05"]["compensation"] == "11.48"
    # globex,database June: 118800 / 2592000 * 4500 * 2.50 = 515.625 -> half-up 515.63
    assert got["globex", "database", "2025-06"]["compensation"] == "515.63"


def test_jpy_rounding(tmp_path: Path) -> None:
    log = incidents(
        tmp_path,
        "a,i,compute,outage,2025-05-31 23:50,2025-06-01 00:20,\n"
        "b,i,storage,data_loss,2025-06-06 14:00,2025-06-06 14:45,\n",
    )
    book = contracts(tmp_path, "i,*,1500000,JPY,99.999\n")
    got = by_key(run(log, contracts_path=book))
    # 600 / 2678400 * 1500000 * 5 = 1680.107... -> 1680
    assert got["i", "compute", "2025-05"]["compensation"] == "1680"
    # 1200 / 2592000 * 7500000 = 3472.22... -> 3472
    assert got["i", "compute", "2025-06"]["compensation"] == "3472"
    # 2700 / 2592000 * 7500000 = 7812.5 exactly -> half-up 7813
    assert got["i", "storage", "2025-06"]["compensation"] == "7813"
    assert got["i", "storage", "2025-06"]["monthly_fee"] == "1500000"


def test_krw_has_no_decimals(tmp_path: Path) -> None:
    # 2592 s / 2592000 * 1000 * 1.25 = 1.25 -> 1 KRW
    log = incidents(tmp_path, "a,k,s,outage,2025-06-10 00:00,2025-06-10 00:43:12,\n")
    book = contracts(tmp_path, "k,s,1000,KRW,99.95\n")
    (row,) = run(log, contracts_path=book)
    assert (row["monthly_fee"], row["compensation"]) == ("1000", "1")


def test_capped_compensation(tmp_path: Path) -> None:
    # 10 days of June at 99.999 (5.00): 864000 / 2592000 * 5 = 5/3 of the fee > 100 % cap
    log = incidents(tmp_path, "a,i,s,outage,2025-06-01 00:00,2025-06-11 00:00,\n")
    book = contracts(tmp_path, "i,s,1500000,JPY,99.999\n")
    (row,) = run(log, contracts_path=book)
    assert (row["compensation"], row["capped"]) == ("1500000", True)
    # premium caps at 50 %: 750000
    (row,) = run(log, contracts_path=book, policy=str(SAMPLES / "policy.toml"))
    assert (row["compensation"], row["capped"]) == ("750000", True)


def test_exactly_at_the_cap_is_not_capped(tmp_path: Path) -> None:
    # 6 days at 5.00: 518400 / 2592000 * 5 = 1 fee exactly, equal to the cap
    log = incidents(tmp_path, "a,i,s,outage,2025-06-01 00:00,2025-06-07 00:00,\n")
    (row,) = run(log, monthly_fee="100", sla_target="99.999")
    assert (row["compensation"], row["capped"]) == ("100.00", False)


def test_credit_policy(tmp_path: Path) -> None:
    log = incidents(
        tmp_path,
        "a,g,db,outage,2025-06-10 00:00,2025-06-10 00:10,\n"
        "b,g,net,outage,2025-06-10 00:00,2025-06-10 00:00:40,\n",
    )
    book = contracts(tmp_path, "g,db,4500,USD,99.99\ng,net,1800,USD,99.95\ng,x,100,USD,99.999\n")
    got = by_key(run(log, contracts_path=book, policy="standard-credit"))
    # db: 600 s -> 99.9768 % < 99.99: 25 % of 4500 = 1125.00, whatever the downtime
    assert [got["g", "db", "2025-06"][f] for f in ("breached", "compensation", "coefficient")] == [
        True,
        "1125.00",
        "2.50",
    ]
    # net: 40 s -> 99.9984 % meets 99.95: nothing
    assert [got["g", "net", "2025-06"][f] for f in ("breached", "compensation")] == [False, "0.00"]
    # x: no incidents: nothing
    assert got["g", "x", "2025-06"]["compensation"] == "0.00"


def test_credit_policy_file_with_cap(tmp_path: Path) -> None:
    # credit-30: 99.99 -> 40.5 % of 200 = 81, capped at 30 % = 60.00
    log = incidents(tmp_path, "a,g,db,outage,2025-06-10 00:00,2025-06-10 00:10,\n")
    (row,) = run(log, monthly_fee="200", policy=str(FIXTURES / "policy_credit.toml"))
    assert (row["sla_target_pct"], row["compensation"], row["capped"]) == ("99.99", "60.00", True)


def test_zero_fee_breach_owes_nothing(tmp_path: Path) -> None:
    log = incidents(tmp_path, "a,f,s,outage,2025-06-10 00:00,2025-06-10 10:00,\n")
    (row,) = run(log, monthly_fee="0")
    assert (row["breached"], row["compensation"], row["capped"]) == (True, "0.00", False)


# --- deadlines and totals -------------------------------------------------------------------


def test_due_at_is_72_real_hours_after_the_period(tmp_path: Path) -> None:
    # New York October 2025 ends 2025-11-01 00:00 EDT; DST ends 2025-11-02, so 72 h later is
    # 2025-11-03 23:00 EST
    log = incidents(tmp_path, "a,n,s,outage,2025-10-10 00:00,2025-10-10 02:00,\n")
    (row,) = run(log, monthly_fee="1", tz="America/New_York", as_of="2025-12-01T00:00:00-05:00")
    assert row["compensation_due_at"] == "2025-11-03T23:00:00-05:00"
    assert row["period_seconds"] == 31 * 86400


def test_level_1_deadline_per_breached_row_and_totals(tmp_path: Path) -> None:
    zone = SH
    log = read_incidents(
        [
            incidents(
                tmp_path,
                "a,a,s,outage,2025-06-10,2025-06-10 01:00,\n"
                "b,b,s,outage,2025-06-10,2025-06-10 00:00:10,\n",
            )
        ],
        zone,
    )
    terms = Settings(
        policy=load_policy("standard"),
        tz=zone,
        as_of=parse_instant("2025-07-01", zone),
        monthly_fee=Decimal(1000),
    )
    report = compute_report(log, terms)
    assert [(d.level, d.category, d.customer_id, d.reference) for d in report.deadlines] == [
        (1, "sla_breach", "a", "2025-06")
    ]
    assert report.deadlines[0].to_dict()["due_at"] == "2025-07-04T00:00:00+08:00"
    # a: 3600 / 2592000 * 1250 = 1.7361... -> 1.74; b: not breached
    assert report.totals() == {"CNY": Decimal("1.74")}


# --- the pricing rules are the formula ---------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(
    downtime=st.integers(0, 40 * 86_400_000_000),
    den=st.sampled_from([1, 10, 20, 100]),
    period=st.sampled_from([28, 29, 30, 31]).map(lambda d: d * 86_400_000_000),
    fee=st.decimals(min_value=0, max_value=10**12, places=3, allow_nan=False),
    places=st.sampled_from([0, 2, 3]),
    coefficient=st.sampled_from(["1.25", "2.50", "5.00"]),
    cap=st.sampled_from(["100", "50", "12.5"]),
)
def test_coefficient_pricing_equals_the_formula(
    downtime, den, period, fee, places, coefficient, cap
) -> None:
    from fractions import Fraction

    import numpy as np

    from slacalc.terms import money, numbers

    # compensation = downtime / period x fee x coefficient, at most cap % of the fee, half-up
    exact = Fraction(downtime, den) / period * Fraction(fee) * Fraction(coefficient)
    limit = Fraction(fee) * Fraction(cap) / 100
    owed = min(exact, limit)
    scaled = owed * 10**places
    expected = scaled.numerator // scaled.denominator
    if 2 * (scaled - expected) >= 1:
        expected += 1
    fee_r = numbers.ratio(fee)
    x, m, t = money.coefficient_price(
        downtime, den, period, fee_r, numbers.ratio(Decimal(coefficient))
    )
    cap_r = money.cap_of(fee_r, numbers.ratio(Decimal(cap)))
    # the int64 long division and the Python-integer path must both give the formula's units
    for dtype in (np.int64, object):
        units, capped = money.capped_units(
            np.array([x], dtype=dtype), np.array([t], dtype=dtype), [0], [m], [cap_r], [places]
        )
        assert int(units[0]) == expected
    assert bool(capped[0]) == (exact > limit)


_KEYS = st.sampled_from(["acme", "globex", "*"])
_EVENT = st.tuples(
    _KEYS,
    st.sampled_from(["compute", "storage"]),
    st.sampled_from(["outage", "maintenance", "data_loss"]),
    st.sampled_from(["", "0.5"]),
    st.integers(0, 200),  # days after 2025-01-01
    st.integers(1, 5000),  # minutes
)


@settings(max_examples=25, deadline=None)
@given(
    events=st.lists(_EVENT, min_size=1, max_size=12),
    policy=st.sampled_from(["standard", "aws-ec2-region", "tencent-cvm"]),
)
def test_the_months_it_picks_given_back_give_the_same_report(events, policy) -> None:
    """What a distributed run relies on: a group computed with the whole log's months given
    equals the same data computed with the months left to compute_report."""
    from datetime import datetime, timedelta

    from slacalc.model.table import RawPart
    from slacalc.reading import read_tables
    from slacalc.reading.contracts import contracts_of_rows

    tz = get_zone("America/New_York")
    pol = load_policy(policy)
    rows = []
    for cust, svc, cat, impact, day, minutes in events:
        start = datetime(2025, 1, 1, 3) + timedelta(days=day)
        rows.append((cust, svc, cat, impact, str(start), str(start + timedelta(minutes=minutes))))
    names = ("customer_id", "service", "category", "impact", "start", "end")
    cells = {n: pa.array([r[i] for r in rows], pa.string()) for i, n in enumerate(names)}
    table, _ = read_tables([RawPart("log", np.arange(2, len(rows) + 2), cells)], tz)
    book = contracts_of_rows(
        "contracts",
        [
            (2, {"customer_id": "acme", "service": "*", "monthly_fee": "100"}),
            (3, {"customer_id": "globex", "service": "compute", "monthly_fee": "250"}),
            (4, {"customer_id": "hooli", "service": "storage", "monthly_fee": "10"}),
        ],
        policy=pol,
        default_currency="USD",
    )
    s = Settings(policy=pol, tz=tz, as_of=parse_instant("2025-09-01", tz), monthly_fee=Decimal(7))
    left = compute_report(table, s, contracts=book)
    if not left.months:
        return
    given_back = compute_report(table, s, contracts=book, months=left.months)
    assert given_back.months == left.months
    assert all(given_back.text[f].equals(left.text[f]) for f in FIELDS)


@pytest.mark.parametrize("size", [1, 2, 3, 1000])
def test_a_report_under_one_terms_writes_them_on_every_row_of_every_piece(
    tmp_path: Path, size: int
) -> None:
    """Priced by --monthly-fee, every key has the same terms: their text is built once for the
    longest piece and cut to each piece, and the pieces, of any size, read as the whole."""
    log = incidents(
        tmp_path,
        "1,beta,db,outage,2025-05-01 10:00:00,2025-05-01 12:00:00,1\n"
        "2,acme,web,outage,2025-06-01 10:00:00,2025-06-01 11:00:00,1\n"
        "3,zeta,db,outage,2025-06-02 10:00:00,2025-06-02 11:00:00,0.5\n",
    )
    zone = get_zone("Asia/Shanghai")
    settings = Settings(
        policy=load_policy("standard"),
        tz=zone,
        as_of=parse_instant("2025-07-01T00:00:00+08:00", zone),
        currency="USD",
        monthly_fee=Decimal("250.50"),
    )
    report = compute_report(read_incidents([log], zone), settings)
    pieces = [part() for part in report.text_parts(size)]
    assert len(pieces) == -(-len(report) // size)
    for name in ("monthly_fee", "currency", "sla_target_pct", "coefficient", "policy"):
        column = [v for piece in pieces for v in piece[name].to_pylist()]
        assert column == report.text[name].to_pylist()
        assert len(set(column)) == 1 and len(column) == len(report) == 6
    assert {v for piece in pieces for v in piece["monthly_fee"].to_pylist()} == {"250.50"}
