"""A large contracts file is kept as columns (ContractTable) and priced a column at a time: the
same contracts, lookups, prices and text as contract objects give, at any size of fee."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import slacalc.reading.contracts as contracts_module
from slacalc.computing.report import compute_report
from slacalc.dates.instants import get_zone, parse_instant
from slacalc.model.contracts import Contract, ContractBook, ContractTable
from slacalc.model.settings import Settings
from slacalc.reading import read_incidents
from slacalc.reading.contracts import read_contracts
from slacalc.terms import money, numbers
from slacalc.terms.policy import load_policy

STANDARD = load_policy("standard")
_CUSTOMERS = ["a", "b", "c", "d"]
_SERVICES = ["compute", "storage", "*"]


def contract(customer: str, service: str, fee: str = "100", currency: str = "CNY") -> Contract:
    return Contract(customer, service, Decimal(fee), currency, STANDARD.default_tier, STANDARD)


@settings(max_examples=80, deadline=None)
@given(
    book=st.lists(
        st.tuples(st.sampled_from(_CUSTOMERS), st.sampled_from(_SERVICES)), unique=True, max_size=8
    ),
    keys=st.lists(
        st.tuples(st.sampled_from([*_CUSTOMERS, "zz"]), st.sampled_from(["compute", "storage"])),
        max_size=10,
    ),
)
def test_lookup_finds_what_find_finds(
    book: list[tuple[str, str]], keys: list[tuple[str, str]]
) -> None:
    contracts = ContractBook([contract(c, s) for c, s in book])
    got = contracts.lookup(
        pa.array([k[0] for k in keys], pa.string()), pa.array([k[1] for k in keys], pa.string())
    )
    for (customer, service), index in zip(keys, got.tolist(), strict=True):
        found = contracts.find(customer, service)
        assert (index < 0) == (found is None)
        if found is not None:
            assert contracts.contracts[index] is found


def test_a_table_made_of_contracts_gives_them_back() -> None:
    given_ = [contract("a", "*", "12.5"), contract("b", "storage", "7", "JPY")]
    table = ContractTable.of(given_)
    assert list(table) == given_
    assert table.fee_num.tolist() == [25, 7] and table.fee_den.tolist() == [2, 1]
    both = table + ContractTable.of([contract("", "", "100", "USD")])
    assert [c.currency for c in both] == ["CNY", "JPY", "USD"]
    assert list(both.take([2, 0])) == [both[2], given_[0]]


def _log(folder: Path) -> Path:
    rows = ["incident_id,customer_id,service,category,start,end,impact"]
    for i in range(60):
        customer = f"cust-{i % 12:02d}"
        service = ("compute", "storage", "network")[i % 3]
        day = 1 + i % 27
        rows.append(
            f"i{i},{customer},{service},outage,2025-05-{day:02d} 01:00,"
            f"2025-05-{day:02d} {2 + i % 20:02d}:00,{('', '0.5', '30%')[i % 3]}"
        )
    path = folder / "log.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _contracts(folder: Path) -> Path:
    rows = ["customer_id,service,monthly_fee,currency,sla_target"]
    fees = ["999999999999999.99", "100", "2500.50", "0", "12345678901234", "33.3"]
    for i in range(14):  # two customers without incidents
        currency = ("CNY", "JPY", "KWD")[i % 3]
        fee = fees[i % len(fees)] if currency != "JPY" else fees[i % len(fees)].split(".")[0]
        service = "*" if i % 2 else ("compute", "storage")[i % 4 // 2]
        target = ("99.95", "99.99", "", "99.999")[i % 4]
        rows.append(f"cust-{i:02d},{service},{fee},{currency},{target}")
    path = folder / "contracts.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_bulk_read_book_prices_as_its_contracts_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read in bulk (columns) and as contract objects: the same report, every field. The fees
    reach 10**15 (Python integers in the prices) in three currencies; --monthly-fee prices the
    keys no contract has."""
    monkeypatch.setattr(contracts_module, "BULK_BYTES", 0)
    zone = get_zone("Asia/Shanghai")
    bulk = read_contracts(str(_contracts(tmp_path)), policy=STANDARD, default_currency="CNY")
    assert bulk._list is None  # the bulk reader's columns, no objects
    objects = ContractBook(list(bulk.contracts))
    table = read_incidents([str(_log(tmp_path))], zone)
    settings = Settings(
        STANDARD, zone, parse_instant("2025-06-01T00:00:00", zone), monthly_fee=Decimal("50")
    )
    texts = [compute_report(table, settings, contracts=b).text for b in (bulk, objects)]
    assert {f: v.to_pylist() for f, v in texts[0].items()} == {
        f: v.to_pylist() for f, v in texts[1].items()
    }
    assert "999999999999999.99" in texts[0]["monthly_fee"].to_pylist()


@settings(max_examples=60, deadline=None)
@given(
    terms=st.lists(
        st.tuples(
            st.decimals(min_value=0, max_value=10**15 - 1, places=2, allow_nan=False),
            st.sampled_from(["1.25", "2.50", "5.00"]),
            st.sampled_from([0, 2, 3]),
        ),
        min_size=1,
        max_size=6,
    ),
    rows=st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 2_678_400_000_000)), min_size=1, max_size=12
    ),
)
def test_prices_of_many_terms_at_once_are_the_formulas(
    terms: list[tuple[Decimal, str, int]], rows: list[tuple[int, int]]
) -> None:
    """Per-terms columns (int64 where they fit, Python integers where not): each row's price is
    downtime / period x fee x coefficient, at most the fee, half-up to its currency's unit."""
    period = 2_678_400_000_000
    fee = tuple(speed_column([numbers.ratio(t[0])[i] for t in terms]) for i in (0, 1))
    coefficient = tuple(
        speed_column([numbers.ratio(Decimal(t[1]))[i] for t in terms]) for i in (0, 1)
    )
    places = np.array([t[2] for t in terms], dtype=np.int64)
    index = np.array([r[0] % len(terms) for r in rows], dtype=np.int64)
    down = np.array([r[1] for r in rows], dtype=np.int64)
    _, multiplier, per_terms = money.coefficient_price(1, 1, 1, fee, coefficient)
    cap = money.cap_of(fee, (100, 1))
    units, capped = money.capped_units(
        down, per_terms[index] * period, index, multiplier, cap, places
    )
    got = zip(units.tolist(), capped.tolist(), strict=True)
    for i, d, (u, c) in zip(index.tolist(), down.tolist(), got, strict=True):
        fee_i, coefficient_i = Fraction(terms[i][0]), Fraction(terms[i][1])
        exact = Fraction(d, period) * fee_i * coefficient_i
        owed = min(exact, fee_i) * 10 ** terms[i][2]
        assert int(u) == numbers.half_up(owed.numerator, owed.denominator)
        assert c == (exact > fee_i)


def speed_column(values: list[int]) -> object:
    from slacalc import speed

    return speed.column(values)


@given(
    values=st.lists(
        st.tuples(st.integers(0, 10**20), st.sampled_from([0, 2, 3, 4])), min_size=1, max_size=30
    )
)
def test_money_text_with_each_rows_own_decimals(values: list[tuple[int, int]]) -> None:
    units = np.array([v for v, _ in values], dtype=object)
    places = np.array([p for _, p in values], dtype=np.int64)
    assert money.money_texts(units, places).to_pylist() == [
        numbers.scaled_text(v, p) for v, p in values
    ]


def _table(keys: list[tuple[str, str]]) -> object:
    """An incident table of one outage per key, read as a log is (its keys' words kept)."""
    from slacalc.model.table import RawPart
    from slacalc.reading import read_tables

    n = len(keys)
    cells = {
        "customer_id": pa.array([k[0] for k in keys], pa.string()),
        "service": pa.array([k[1] for k in keys], pa.string()),
        "start": pa.array(["2025-05-01 00:00:00"] * n, pa.string()),
        "end": pa.array(["2025-05-01 01:00:00"] * n, pa.string()),
    }
    table, problems = read_tables([RawPart("log.csv", np.arange(2, n + 2), cells)], get_zone("UTC"))
    assert not problems and table.key_words is not None
    return table


@settings(max_examples=60, deadline=None)
@given(
    book=st.lists(
        st.tuples(st.sampled_from(_CUSTOMERS), st.sampled_from(_SERVICES)), unique=True, max_size=8
    ),
    keys=st.lists(
        st.tuples(st.sampled_from([*_CUSTOMERS, "zz"]), st.sampled_from(["compute", "storage"])),
        min_size=1,
        max_size=10,
    ),
    extra=st.lists(st.tuples(st.sampled_from(["a", "b", "e"]), st.sampled_from(_SERVICES))),
)
def test_keys_are_looked_up_and_sorted_through_their_words(
    book: list[tuple[str, str]], keys: list[tuple[str, str]], extra: list[tuple[str, str]]
) -> None:
    from slacalc.model.table import sort_order_after

    table = _table(keys)
    contracts = ContractBook([contract(c, s) for c, s in book])
    by_text = contracts.lookup(table.key_customer, table.key_service)
    by_words = contracts.lookup(table.key_customer, table.key_service, table.key_words)
    assert by_words.tolist() == by_text.tolist()
    picked = np.arange(0, table.n_keys, 2)
    order = sort_order_after(
        table,
        picked,
        pa.array([e[0] for e in extra], pa.string()),
        pa.array([e[1] for e in extra], pa.string()),
    )
    every = [table.keys[k] for k in picked.tolist()] + extra
    assert [every[i] for i in order.tolist()] == sorted(every)
