"""Output a shell script can trust (issue 20): CSV into a pipe by default, one error style,
completion, totals, the --fail-on-breach line, problems, bands and working days as JSON
values, and tables that keep the year and the breach when space or colour runs out."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from mixins import ROOT
from test_pty_output import on_terminal
from typer.testing import CliRunner

from slacalc.cli import app

INCIDENTS = str(ROOT / "samples" / "incidents.csv")
CONTRACTS = str(ROOT / "samples" / "contracts.csv")
AS_OF = "2025-06-28T12:00:00+08:00"
REPORT = ["report", INCIDENTS, "--contracts", CONTRACTS, "--as-of", AS_OF]


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), env=env)


@pytest.fixture
def no_format(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real default: no SLACALC_FORMAT (the suite sets it to table)."""
    monkeypatch.delenv("SLACALC_FORMAT", raising=False)


# --- defaults that suit pipes --------------------------------------------------------------


@pytest.mark.usefixtures("no_format")
@pytest.mark.parametrize(
    "args",
    [
        REPORT,
        ["validate", INCIDENTS, "--as-of", AS_OF],
        ["tiers"],
        ["deadline", "--level", "2", "--opened", "2025-09-30T10:00:00+08:00"],
        ["disputes", str(ROOT / "samples" / "disputes.csv"), "--as-of", AS_OF],
    ],
)
def test_a_pipe_gets_csv_without_format(args: list[str]) -> None:
    piped = run(*args)
    assert piped.exit_code in (0, 1), piped.output
    assert piped.stdout == run(*args, "-f", "csv").stdout
    rows = list(csv.reader(io.StringIO(piped.stdout)))
    assert len(rows) >= 2 and len({len(r) for r in rows}) == 1  # a header and even rows


def test_a_terminal_still_gets_a_table() -> None:
    code, screen, _ = on_terminal(["report", INCIDENTS, "--contracts", CONTRACTS])
    assert code == 0
    assert b"SLA report" in screen and b"customer_id,service" not in screen


@pytest.mark.usefixtures("no_format")
def test_slacalc_format_is_the_default_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACALC_FORMAT", "json")
    assert json.loads(run(*REPORT).stdout)[0]["customer_id"] == "acme"
    # -f and -o's extension come first
    assert run(*REPORT, "-f", "csv").stdout.startswith("customer_id,")
    # explain has no CSV: a CSV default leaves it its table
    monkeypatch.setenv("SLACALC_FORMAT", "csv")
    explain = ["explain", INCIDENTS, "--contracts", CONTRACTS, "--customer", "acme"]
    shown = run(*explain, "--service", "storage", "--month", "2025-05")
    assert shown.exit_code == 0 and "1. Incidents of the key" in shown.stdout
    monkeypatch.setenv("SLACALC_FORMAT", "xml")
    bad = run(*REPORT)
    assert bad.exit_code == 2 and "SLACALC_FORMAT 'xml'" in bad.stderr


def test_usage_errors_are_plain_lines_like_slacalcs_own() -> None:
    for args in (["repor"], ["report", INCIDENTS, "--format", "xml"], ["tiers", "--nope"]):
        result = subprocess.run(
            [sys.executable, "-m", "slacalc", *args], capture_output=True, text=True, cwd=ROOT
        )
        assert result.returncode == 2
        assert result.stderr.splitlines()[-1].startswith("Error: "), result.stderr
        assert not any(c in result.stderr for c in "╭│╰\x1b"), result.stderr


def test_explain_offers_only_its_formats() -> None:
    explain = ["explain", INCIDENTS, "--customer", "acme", "--service", "storage"]
    assert run(*explain, "--month", "2025-05", "-f", "csv").exit_code == 2
    help_text = run("explain", "--help", env={"COLUMNS": "200"}).stdout
    assert "<table|json>" in help_text and "<table|csv|json>" not in help_text


def test_completion_is_offered() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "slacalc"), "--show-completion", "bash"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0 and "_slacalc_completion" in result.stdout
    assert "--install-completion" in run("--help").stdout


# --- totals and the breach line ------------------------------------------------------------


def _owed_by_hand(by_customer: bool) -> dict[tuple[str, ...], tuple[int, Decimal]]:
    rows = list(csv.DictReader(io.StringIO(run(*REPORT, "-f", "csv").stdout)))
    out: dict[tuple[str, ...], tuple[int, Decimal]] = {}
    for r in rows:
        key = (r["customer_id"], r["currency"]) if by_customer else (r["currency"],)
        n, owed = out.get(key, (0, Decimal(0)))
        hit = r["breached"] == "true"
        out[key] = (n + hit, owed + (Decimal(r["compensation"]) if hit else 0))
    return out


@pytest.mark.parametrize("by", [None, "customer"])
def test_totals_are_the_rows_added_up_in_every_format(by: str | None) -> None:
    extra = ["--totals", *(["--by", by] if by else [])]
    expected = _owed_by_hand(by is not None)
    got_csv = list(csv.DictReader(io.StringIO(run(*REPORT, *extra, "-f", "csv").stdout)))
    got_json = json.loads(run(*REPORT, *extra, "-f", "json").stdout)
    assert got_csv == [{k: str(v) for k, v in r.items()} for r in got_json]
    found = {
        ((r["customer_id"], r["currency"]) if by else (r["currency"],)): (
            r["breached_rows"],
            Decimal(r["compensation"]),
        )
        for r in got_json
    }
    assert found == expected
    assert all(isinstance(r["compensation"], str) for r in got_json)  # exact, never a float
    table = run(*REPORT, *extra, "-f", "table").stdout
    assert "Compensation by" in table and "45.08 CNY" in table


def test_by_needs_totals() -> None:
    result = run(*REPORT, "--by", "customer")
    assert result.exit_code == 2 and "--by goes with --totals" in result.stderr


def test_fail_on_breach_says_how_many() -> None:
    rows = list(csv.DictReader(io.StringIO(run(*REPORT, "-f", "csv").stdout)))
    n = sum(r["breached"] == "true" for r in rows)
    result = run(*REPORT, "-f", "csv", "--fail-on-breach")
    assert result.exit_code == 3
    assert result.stderr.strip().splitlines()[-1] == (
        f"{n} breached rows (--fail-on-breach: exit 3)"
    )
    quiet = run(*REPORT, "-f", "csv", "--fail-on-breach", "--sla-target", "99.95")
    assert quiet.exit_code in (0, 3)


# --- values a script reads -----------------------------------------------------------------


def test_validate_problems_are_objects(tmp_path: Path) -> None:
    log = tmp_path / "bad.csv"
    log.write_text(
        "incident_id,customer_id,service,category,start,end,impact\n"
        "A,acme,x,outage,bad,2025-05-01T00:00:00Z,\n"
        "B,acme,x,outage,2025-05-01T00:00:00Z,2025-05-02T00:00:00Z,2\n",
        encoding="utf-8",
    )
    result = run("validate", str(log), "-f", "json")
    assert result.exit_code == 1
    (doc,) = json.loads(result.stdout)
    first = doc["problems"][0]
    assert set(first) == {"severity", "code", "file", "line", "column", "value", "message"}
    assert first["severity"] == "error" and first["code"] == "invalid_start"
    assert first["line"] == 2 and first["column"] == "start" and first["value"] == "bad"
    assert doc["problems"][1]["code"] == "invalid_impact"
    rows = list(csv.DictReader(io.StringIO(run("validate", str(log), "-f", "csv").stdout)))
    assert [r["code"] for r in rows] == ["invalid_start", "invalid_impact"]


def test_tier_bands_are_arrays_in_json() -> None:
    (tier,) = json.loads(run("tiers", "--policy", "tencent-cvm", "-f", "json").stdout)
    assert tier["coefficient"] is None
    assert tier["bands"] == [
        {"below": "99.95", "credit_pct": "10"},
        {"below": "99", "credit_pct": "25"},
        {"below": "95", "credit_pct": "100"},
    ]
    flat = run("tiers", "--policy", "tencent-cvm", "-f", "csv").stdout.splitlines()[1]
    assert flat.endswith(",<99.95:10 <99:25 <95:100") and ",," in flat


def test_deadlines_carry_their_working_days() -> None:
    args = ["deadline", "--level", "2", "--opened", "2025-09-30T10:00:00+08:00"]
    (d,) = json.loads(run(*args, "-f", "json").stdout)
    assert d["working_days_counted"] == 5
    assert d["working_days"] == [
        "2025-10-09",
        "2025-10-10",
        "2025-10-11",
        "2025-10-13",
        "2025-10-14",
    ]
    assert d["make_up_days"] == ["2025-10-11"]  # the Saturday worked after National Day
    (row,) = csv.DictReader(io.StringIO(run(*args, "-f", "csv").stdout))
    assert row["working_days"].split() == d["working_days"]
    (one,) = json.loads(run(*args[:2], "1", *args[3:], "-f", "json").stdout)
    assert one["working_days_counted"] is None and one["working_days"] == []


# --- tables a person can read --------------------------------------------------------------


def test_a_narrow_uncoloured_report_keeps_the_breach_and_the_year() -> None:
    import slacalc
    from slacalc.writing.report_view import report_tables
    from slacalc.writing.tables import render_text

    with slacalc.report([INCIDENTS], contracts=CONTRACTS, as_of=AS_OF, deadlines=True) as r:
        text = render_text(report_tables(r.report), width=80)
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("Customer"))
    assert header.rstrip().endswith("!")
    breached = [line for line in lines if line.startswith("acme") and "2025-05" in line]
    assert breached and all(line.rstrip().endswith("!") for line in breached)
    deadlines = lines[next(i for i, x in enumerate(lines) if x.startswith("Dispute")) + 1]
    assert "Opened 2025" in deadlines and "Due 2025" in deadlines


# --- JSON a script can trust -----------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        REPORT,
        [*REPORT, "--totals", "--by", "customer"],
        ["validate", INCIDENTS, "--contracts", CONTRACTS, "--as-of", AS_OF],
        ["disputes", str(ROOT / "samples" / "disputes.csv"), "--as-of", AS_OF],
        ["tiers", "--policy", "tencent-cvm"],
        ["policies"],
        ["budget", "99.95", "--month", "2025-05"],
    ],
)
def test_json_lines_are_the_json_records_with_nulls(args: list[str]) -> None:
    """-f jsonl is one compact object per line: the JSON output's records (for validate, its
    problems and warnings), with null, never "", for an empty value."""
    lines = run(*args, "-f", "jsonl").stdout.splitlines()
    records = [json.loads(line) for line in lines]
    doc = json.loads(run(*args, "-f", "json").stdout)
    expected = doc[0]["problems"] + doc[0]["warnings"] if args[0] == "validate" else doc
    assert records == expected and records

    def values(x: object):
        if isinstance(x, dict):
            for v in x.values():
                yield from values(v)
        elif isinstance(x, list):
            for v in x:
                yield from values(v)
        else:
            yield x

    assert "" not in list(values(doc))


def test_an_empty_report_field_is_null_in_json() -> None:
    rows = json.loads(run(*REPORT, "-f", "json").stdout)
    open_ = [r for r in rows if not r["breached"]]
    assert open_ and all(r["compensation_due_at"] is None for r in open_)
    assert all(r["claim_closes_at"] is None for r in rows)  # the standard policy never closes
    assert sum(1 for line in run(*REPORT, "-f", "csv").stdout.splitlines()) == len(rows) + 1


@pytest.mark.parametrize(
    "args",
    [
        REPORT,
        [*REPORT, "--totals"],
        ["validate", INCIDENTS, "--as-of", AS_OF],
        ["tiers"],
        ["deadline", "--level", "2", "--opened", "2025-09-30T10:00:00+08:00"],
    ],
)
def test_no_header_leaves_out_only_the_header(args: list[str]) -> None:
    full = run(*args, "-f", "csv").stdout.splitlines()
    bare = run(*args, "-f", "csv", "--no-header").stdout.splitlines()
    assert bare == full[1:] and bare


def test_jsonl_from_the_output_name() -> None:
    from slacalc.writing.formats import Format, choose_format

    assert choose_format(None, "out.jsonl") is Format.jsonl
    assert choose_format(None, "out.ndjson") is Format.jsonl


def test_a_narrow_explain_names_the_year_it_leaves_out() -> None:
    import slacalc
    from slacalc.writing.explain_view import explanation_view
    from slacalc.writing.tables import render_text

    ex = slacalc.explain(
        [INCIDENTS], contracts=CONTRACTS, customer="globex", service="database", month="2025-05"
    )
    text = render_text(explanation_view(ex), width=80)
    assert "Counted 2025" in text and "Start 2025" in text and "End 2025" in text
    assert "05-14 07:57:01" in text and "-f json has every field" in text
    wide = render_text(explanation_view(ex), width=250)
    assert "2025-05-14 07:57:01" in wide and "Counted 2025" not in wide


def test_a_time_of_another_year_keeps_its_year() -> None:
    from slacalc.writing.explain_view import _no_year, _same_month

    assert _no_year("2025", "2026-01-01 00:00:00") == "2026-01-01 00:00:00"
    assert _same_month("2025", "2025-12-31 23:00:00 .. 2026-01-01 00:00:00") == (
        "12-31 23:00:00 .. 2026-01-01 00:00:00"
    )
