"""slacalc.report(): the library owns the run. Its write() is the CLI's bytes, in memory and in
buckets; its Arrow table, totals and warnings are the report's."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

import slacalc
from slacalc.cli import app
from slacalc.computing import partitioned
from slacalc.errors import UsageError

ROOT = Path(__file__).resolve().parent.parent
INCIDENTS = str(ROOT / "samples" / "incidents.csv")
CONTRACTS = str(ROOT / "samples" / "contracts.csv")
AS_OF = "2025-06-28T12:00:00+08:00"
OPTIONS = {"contracts": CONTRACTS, "as_of": AS_OF}
ARGS = [INCIDENTS, "--contracts", CONTRACTS, "--as-of", AS_OF]


def cli(*args: str) -> bytes:
    result = CliRunner().invoke(app, ["report", *args])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


@pytest.fixture(params=["memory", "buckets"])
def where(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run in memory, or make every log need 512G so that --memory 384M computes it in
    buckets (three of them)."""
    if request.param == "buckets":
        monkeypatch.setattr(partitioned, "memory_needed", lambda paths: 1 << 39)
        monkeypatch.setattr(partitioned, "bucket_count", lambda paths, budget: 3)
    return request.param


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_write_is_the_cli_bytes(where: str, fmt: str, tmp_path: Path) -> None:
    expected = cli(*ARGS, "--memory", "384M", "-f", fmt)
    with slacalc.report([INCIDENTS], memory="384M", **OPTIONS) as run:
        assert run.engine == where
        target = tmp_path / f"report.{fmt}"
        run.write(str(target))  # the format from the extension, as -o
        assert target.read_bytes() == expected
        stream = io.StringIO()
        run.write(stream, fmt)
        assert stream.getvalue().encode() == expected


def test_to_arrow_and_totals_are_the_reports(where: str) -> None:
    with slacalc.report([INCIDENTS], memory="384M", **OPTIONS) as run:
        table = run.to_arrow()
        totals = run.totals()
    assert table.num_rows == 16 and table.column_names[0] == "customer_id"
    assert table.schema.field("breached").type.id == table.schema.field("capped").type.id
    assert {t.currency: (t.breached_rows, t.compensation) for t in totals} == {
        "CNY": (2, Decimal("45.08")),
        "USD": (2, Decimal("523.37")),
        "JPY": (3, Decimal("12965")),
        "EUR": (1, Decimal("4.63")),
    }
    by_customer = slacalc.report([INCIDENTS], **OPTIONS).totals(by="customer")
    assert sum(t.compensation for t in by_customer if t.currency == "JPY") == Decimal("12965")
    assert {t.customer_id for t in by_customer} == {"acme", "globex", "initech", "umbrella"}


def test_options_are_text_or_values() -> None:
    from zoneinfo import ZoneInfo

    from slacalc import load_policy
    from slacalc.dates.months import Month

    as_text = slacalc.report([INCIDENTS], months=["2025-05"], **OPTIONS)
    as_values = slacalc.report(
        [INCIDENTS],
        contracts=CONTRACTS,
        as_of=AS_OF,
        months=[Month(2025, 5)],
        policy=load_policy("standard"),
        tz=ZoneInfo("Asia/Shanghai"),
    )
    one, two = io.StringIO(), io.StringIO()
    as_text.write(one, "csv")
    as_values.write(two, "csv")
    assert one.getvalue() == two.getvalue() and one.getvalue().count("\n") == 8


def test_bad_options_are_usage_errors_naming_the_option() -> None:
    for options, word in (
        ({"tz": "Mars/Olympus"}, "Mars/Olympus"),
        ({"monthly_fee": "100.5", "currency": "JPY"}, "--monthly-fee"),
        ({"months": ["2025-13"]}, "--month"),
        ({"memory": "1K"}, "--memory"),
        ({"engine": "gpu"}, "--engine"),
    ):
        with pytest.raises(UsageError, match=word):
            slacalc.report([INCIDENTS], **options)


def test_a_bucketed_run_has_no_table(where: str) -> None:
    with slacalc.report([INCIDENTS], memory="384M", **OPTIONS) as run:
        if where == "buckets":
            with pytest.raises(UsageError, match="in memory"):
                run.write(io.StringIO(), "table")
        else:
            out = io.StringIO()
            run.write(out, "table")
            assert "Compensation by currency" in out.getvalue()


@pytest.mark.parametrize("fmt", ["csv", "json", "table"])
def test_compare_in_buckets_is_the_same_bytes(where: str, fmt: str) -> None:
    """compare goes through the run: --memory serves it, a policy's report at a time in
    buckets, with the in-memory comparison's bytes."""
    args = ["compare", *ARGS, "--policy", "standard", "--policy", "aws-ec2-region", "-f", fmt]
    result = CliRunner().invoke(app, [*args, "--memory", "384M"])
    assert result.exit_code == 0, result.output
    with pytest.MonkeyPatch.context() as m:
        m.setattr(partitioned, "memory_needed", lambda paths: None)  # in memory
        expected = CliRunner().invoke(app, args)
    assert result.stdout == expected.stdout
    with slacalc.run.compare([INCIDENTS], ["standard", "azure-vm"], memory="384M", **OPTIONS) as c:
        assert [r.engine for r in c.runs] == [where, where]
        assert len(c.records()) == 2 * 16


# --- explain and statements through the run ----------------------------------------------------


def test_explain_is_the_clis_json_with_codes() -> None:
    import json

    from slacalc.writing.csvjson import write_json
    from slacalc.writing.explain_view import explanation_record

    args = ["--customer", "acme", "--service", "storage", "--month", "2025-05"]
    result = CliRunner().invoke(app, ["explain", *ARGS, *args, "-f", "json"])
    assert result.exit_code == 0, result.output
    ex = slacalc.explain(
        [INCIDENTS], customer="acme", service="storage", month="2025-05", **OPTIONS
    )
    written = io.StringIO()
    write_json([explanation_record(ex)], written)
    assert json.loads(written.getvalue()) == json.loads(result.stdout)
    codes = [n.code for notes in ex.notes for n in notes]
    assert codes == ["not_downtime", "partly_excluded"]
    assert [s.code for s in ex.formula][:2] == ["availability", "target_breached"]


def test_a_named_customers_statement_reads_only_its_rows(tmp_path: Path) -> None:
    """Another customer's rows are not kept (their bad time is not this statement's error),
    the customer-wide ``*`` rows are; all customers' statements are the same values."""
    log = tmp_path / "log.csv"
    text = Path(INCIDENTS).read_text(encoding="utf-8")
    log.write_text(text + "INC-X,initech,compute,outage,not-a-time,2025-05-02T00:00:00+08:00,,\n")
    header = text.splitlines()[0]
    assert header.startswith("incident_id,customer_id,service,category,start,end"), header
    one = slacalc.statements([str(log)], month="2025-05", customers=["acme"], **OPTIONS)
    assert [s.customer for s in one.statements] == ["acme"]
    with pytest.raises(slacalc.InputError, match="not-a-time"):
        slacalc.statements([str(log)], month="2025-05", **OPTIONS)
    every = slacalc.statements([INCIDENTS], month="2025-05", **OPTIONS)
    (acme,) = [s for s in every.statements if s.customer == "acme"]
    assert acme.services == one.statements[0].services


def test_a_statement_of_a_customer_without_a_row_says_why() -> None:
    with pytest.raises(UsageError, match="no report row for customer 'nobody' in 2025-05: no "):
        slacalc.statements([INCIDENTS], month="2025-05", customers=["nobody"], **OPTIONS)


def test_breached_rows_count_the_same_in_memory_and_in_buckets(where: str) -> None:
    with slacalc.report([INCIDENTS], memory="384M", **OPTIONS) as run:
        assert run.engine == where
        counted = run.breached_rows()
        by_text = sum(t.breached_rows for t in run.totals())
    assert counted == by_text == 8
