"""Contracts: fees, currencies, committed tiers; exact matches win over the `*` wildcard."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slacalc.errors import InputError
from slacalc.reading.contracts import read_contracts
from slacalc.terms.policy import load_policy

SAMPLES = Path(__file__).parent.parent / "samples"
STANDARD = load_policy("standard")


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "contracts.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def problems(path: str, policy_name: str = "standard") -> list[str]:
    with pytest.raises(InputError) as info:
        read_contracts(path, policy=load_policy(policy_name), default_currency="CNY")
    return info.value.lines()


def test_sample_contracts() -> None:
    book = read_contracts(str(SAMPLES / "contracts.csv"), policy=STANDARD, default_currency="CNY")
    assert len(book) == 7
    acme_compute = book.find("acme", "compute")
    assert acme_compute is not None
    assert (acme_compute.service, acme_compute.monthly_fee, acme_compute.currency) == (
        "*",
        Decimal("12000.00"),
        "CNY",
    )
    assert acme_compute.tier.target == Decimal("99.95")
    assert acme_compute.line == 2
    storage = book.find("acme", "storage")
    assert storage is not None
    assert (storage.service, storage.monthly_fee) == ("storage", Decimal("30000.00"))
    assert storage.tier.coefficient == Decimal("2.50")
    initech = book.find("initech", "anything")
    assert initech is not None
    assert (initech.monthly_fee, initech.currency, initech.tier.target) == (
        Decimal(1500000),
        "JPY",
        Decimal("99.999"),
    )
    assert book.find("umbrella", "network") is None  # no wildcard for umbrella
    assert book.find("nobody", "compute") is None


def test_exact_match_wins_whatever_the_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "customer_id,service,monthly_fee\nacme,storage,300\nacme,*,100\nacme,,200\n",
    )
    # `*` and empty are the same wildcard: the third line repeats the second.
    assert problems(path) == [
        f"{path}:4: column 'customer_id': a second contract for the same customer and service "
        "(first on line 3) (value 'acme')",
        "1 problem found",
    ]
    path = write(tmp_path, "customer_id,service,monthly_fee\nacme,storage,300\nacme,,100\n")
    book = read_contracts(path, policy=STANDARD, default_currency="CNY")
    assert book.find("acme", "storage").monthly_fee == Decimal(300)  # type: ignore[union-attr]
    assert book.find("acme", "compute").monthly_fee == Decimal(100)  # type: ignore[union-attr]


def test_defaults_and_lenient_spelling(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "\ufeff Customer_ID ,SERVICE,Monthly_Fee,currency,sla_target,notes\r\n"
        "acme,compute,100,,,whatever\r\n"
        "beta,db, 1_200.00 ,jpy,99.999%,\r\n",  # JPY is whole: trailing zeros are fine
    )
    book = read_contracts(path, policy=STANDARD, default_currency="USD")
    a = book.find("acme", "compute")
    b = book.find("beta", "db")
    assert a is not None and b is not None
    assert (a.monthly_fee, a.currency, a.tier.target) == (Decimal(100), "USD", Decimal("99.95"))
    assert (b.monthly_fee, b.currency, b.tier.target) == (
        Decimal(1200),
        "JPY",
        Decimal("99.999"),
    )


def test_default_tier_follows_the_policy(tmp_path: Path) -> None:
    path = write(tmp_path, "customer_id,monthly_fee\nacme,100\n")
    premium = load_policy(str(SAMPLES / "policy.toml"))
    book = read_contracts(path, policy=premium, default_currency="CNY")
    assert book.find("acme", "x").tier.target == Decimal("99.99")  # type: ignore[union-attr]


def test_bad_rows_are_all_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "customer_id,service,monthly_fee,currency,sla_target\n"
        "acme,,100,,\n"
        ",compute,100,CNY,99.95\n"
        "beta,compute,-5,CNY,99.95\n"
        "beta,db,abc,CNY,99.95\n"
        "beta,net,10,US,99.95\n"
        "beta,x,10,usd,99.9\n"
        "beta,y,,usd,99.95\n"
        "beta,z,inf,usd,99.95\n",
    )
    assert problems(path) == [
        f"{path}:3: column 'customer_id': is empty; every contract names a customer (value '')",
        f"{path}:4: column 'monthly_fee': must not be negative (value '-5')",
        f"{path}:5: column 'monthly_fee': expected a decimal amount such as 1200.00 (value 'abc')",
        f"{path}:6: column 'currency': expected an ISO 4217 currency code such as CNY, USD or "
        "JPY (value 'US')",
        f"{path}:7: column 'sla_target': not a tier of policy 'standard': expected one of "
        "99.999, 99.99, 99.95 (value '99.9')",
        f"{path}:8: column 'monthly_fee': expected a decimal amount such as 1200.00 (value '')",
        f"{path}:9: column 'monthly_fee': expected a decimal amount such as 1200.00 (value 'inf')",
        "7 problems found",
    ]


def test_required_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "customer_id,service,fee\nacme,,100\n")
    assert problems(path) == [
        f"{path}:1: missing required column 'monthly_fee' (header has: 'customer_id', "
        "'service', 'fee')",
        "1 problem found",
    ]


def test_zero_fee_is_allowed(tmp_path: Path) -> None:
    path = write(tmp_path, "customer_id,monthly_fee\nfree,0\n")
    book = read_contracts(path, policy=STANDARD, default_currency="CNY")
    assert book.find("free", "x").monthly_fee == 0  # type: ignore[union-attr]


# --- a large file read in bulk gives what the row reader gives --------------------------------

_CELLS = {
    "customer_id": ["acme", " acme", "globex", "阿里", "", "*", "hooli\x1f", "initech"],
    "service": ["", "*", "db", " db ", "web", "compute"],
    "monthly_fee": [
        *("100", "2500.50", " 99.5 ", "1_000", "1e3", "-5", "abc", "0", "12.123456789"),
        *("100.1234", "1500000.00"),  # finer than CNY, JPY and KWD; a whole JPY amount
    ],
    "currency": ["", "CNY", "usd", "JPY", "XYZ", "KWD"],
    "sla_target": ["", "99.95", "99.99%", " 99.999 ", "98"],
    "policy": ["", "standard", "aws-ec2-region", "nope"],
}


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(*(st.sampled_from(v) for v in _CELLS.values())), min_size=1, max_size=12
    ),
    plain=st.booleans(),
)
def test_a_large_file_in_bulk_reads_as_the_row_reader_does(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str, ...]], plain: bool
) -> None:
    """Files of every kind, bulk reading forced: the same contracts, or the same problems on
    the same lines (the bulk reader leaves any file with a problem to the row reader). ``plain``
    keeps to good cells, so that the bulk path itself is taken."""
    import slacalc.reading.contracts as module

    if plain:  # good cells only; the standard policy's targets
        rows = [
            (f"c{i}", svc, fee, "CNY", target if pol == "" else "", pol.replace("nope", ""))
            for i, (_, svc, fee, _, target, pol) in enumerate(rows)
            if fee.strip() in ("100", "2500.50", "99.5", "0") and target != "98"
        ]
    if not rows:
        return
    path = tmp_path_factory.mktemp("contracts") / "contracts.csv"
    header = ",".join(_CELLS)
    path.write_text(header + "\n" + "\n".join(",".join(r) for r in rows) + "\n", "utf-8")
    policy = load_policy("standard")

    def read(bulk_bytes: int) -> object:
        with pytest.MonkeyPatch.context() as m:
            m.setattr(module, "BULK_BYTES", bulk_bytes)
            try:
                return read_contracts(str(path), policy=policy, default_currency="CNY").contracts
            except InputError as exc:
                return exc.lines()

    by_rows = read(1 << 62)
    assert read(0) == by_rows
    if plain:
        with pytest.MonkeyPatch.context() as m:
            m.setattr(module, "BULK_BYTES", 0)
            f = module.open_csv(str(path), required=module.REQUIRED, known=module.COLUMNS)
            bulk = module._clean_file(f, policy=policy, default_currency="CNY", folder=path.parent)
        duplicate = len({(r[0], r[1].strip() or "*") for r in rows}) < len(rows)
        assert (bulk is None) == duplicate
        if bulk is not None:
            assert bulk.contracts == by_rows


# --- display names (the statement shows them beside the customer id) -------------------------


@pytest.mark.parametrize("bulk_bytes", [0, 1 << 62])
def test_display_names_are_one_per_customer_in_either_reader(
    tmp_path: Path, bulk_bytes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from slacalc.reading import contracts as module

    monkeypatch.setattr(module, "BULK_BYTES", bulk_bytes)
    path = write(
        tmp_path,
        "customer_id,service,monthly_fee,display_name\n"
        "acme,compute,100,ACME Logistics 上海\n"
        "acme,storage,100,\n"
        "globex,*,100,  Globex Corp  \n"
        "initech,*,100,\n",
    )
    book = read_contracts(path, policy=STANDARD, default_currency="CNY")
    assert book.display_names() == {"acme": "ACME Logistics 上海", "globex": "Globex Corp"}
    plain = write(tmp_path, "customer_id,service,monthly_fee\nacme,*,100\n")
    assert read_contracts(plain, policy=STANDARD, default_currency="CNY").display_names() == {}


@pytest.mark.parametrize("bulk_bytes", [0, 1 << 62])
def test_a_second_or_overlong_display_name_is_named_on_its_line(
    tmp_path: Path, bulk_bytes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from slacalc.reading import contracts as module

    monkeypatch.setattr(module, "BULK_BYTES", bulk_bytes)
    path = write(
        tmp_path,
        "customer_id,service,monthly_fee,display_name\n"
        "acme,compute,100,ACME\n"
        "acme,storage,100,Acme Inc\n"
        f"globex,*,100,{'x' * 201}\n",
    )
    lines = problems(path)
    assert lines[0].endswith(
        ":3: column 'display_name': differs from the customer's display name on line 2 "
        "('ACME') (value 'Acme Inc')"
    )
    assert ":4: column 'display_name': is longer than 200 characters" in lines[1]


@pytest.mark.parametrize(
    "name", ["contracts.csv", "contracts-composite.csv", "contracts-requests.csv"]
)
def test_every_sample_contracts_file_prices_the_sample_log(name: str) -> None:
    # each sample contracts file stands on its own beside samples/incidents.csv
    from typer.testing import CliRunner

    from slacalc.cli import app

    samples = Path(__file__).resolve().parent.parent / "samples"
    args = ["report", str(samples / "incidents.csv"), "--contracts", str(samples / name)]
    result = CliRunner().invoke(app, [*args, "--as-of", "2025-07-01T00:00:00+08:00", "-f", "csv"])
    assert result.exit_code == 0, result.output


def test_the_contracts_problems_come_first_though_read_beside_the_log(tmp_path: Path) -> None:
    """The contracts file is read beside the log; when both are bad, the contracts' problems
    are said, as when they were read first."""
    from typer.testing import CliRunner

    from slacalc.cli import app

    bad = tmp_path / "contracts.csv"
    bad.write_text("customer_id,service,monthly_fee\nacme,db,abc\n", encoding="utf-8")
    log = tmp_path / "incidents.csv"
    log.write_text("customer_id,service,start\nacme,db,not a time\n" * 1, encoding="utf-8")
    for incidents in (str(log), str(tmp_path / "missing.csv")):
        result = CliRunner().invoke(
            app, ["report", incidents, "--contracts", str(bad), "-f", "csv"]
        )
        assert result.exit_code == 1
        assert result.stderr.startswith(f"{bad}:2: column 'monthly_fee'"), result.stderr
