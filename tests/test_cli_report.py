"""`slacalc report` end to end through typer's CliRunner: exit codes, streams, files, env vars."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from slacalc.cli import app

ROOT = Path(__file__).parent.parent
INCIDENTS = str(ROOT / "samples" / "incidents.csv")
CONTRACTS = str(ROOT / "samples" / "contracts.csv")
POLICY = str(ROOT / "samples" / "policy.toml")
SAMPLE = ["report", INCIDENTS, "--contracts", CONTRACTS, "--as-of", "2025-06-28T12:00:00+08:00"]
HEADER = (
    "customer_id,service,month,period_seconds,downtime_seconds,excluded_seconds,"
    "availability_pct,tier_band,sla_target_pct,breached,coefficient,monthly_fee,compensation,"
    "currency,capped,incident_count,compensation_due_at,status,credit_pct,credit_form,"
    "claim_opens_at,claim_closes_at,policy,claim_status"
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("SLACALC_") and name != "SLACALC_FORMAT":
            monkeypatch.delenv(name)


def invoke(args: list[str], *, input: str | None = None, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, args, input=input, env=env)


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def write(tmp_path: Path, text: str, name: str = "incidents.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- exit 0 -----------------------------------------------------------------------------------


def test_csv_to_stdout() -> None:
    result = invoke([*SAMPLE, "--format", "csv"])
    assert result.exit_code == 0
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == HEADER
    assert len(lines) == 17
    assert lines[1] == (
        "acme,compute,2025-05,2678400,2050,0,99.9234,<99.95,99.95,true,1.25,12000.00,11.48,CNY,"
        "false,2,2025-06-04T00:00:00+08:00,final,,cash,2025-06-01T00:00:00+08:00,,standard,open"
    )


def test_format_is_case_insensitive() -> None:
    assert invoke([*SAMPLE, "-f", "CSV"]).stdout.splitlines()[0] == HEADER


def test_table_is_the_default() -> None:
    result = invoke(SAMPLE)
    assert result.exit_code == 0
    out = result.stdout
    assert "SLA report" in out
    assert "Compensation by currency" in out
    assert "Dispute settlement deadlines" in out
    # totals: CNY 11.48 + 33.60 = 45.08; USD 7.74 + 515.63 = 523.37; JPY 1680 + 3472 + 7813
    # = 12965; EUR 4.63
    for total in ("45.08", "523.37", "12965", "4.63"):
        assert total in out
    # the level-2 deadline of INC-1009 (data loss on Fri 2025-06-06): 5 working days after,
    # Mon 9 .. Fri 13 June -> 2025-06-13 23:59:59 (the table names the year and zone once)
    assert "INC-1009" in out
    assert "06-13 23:59:59" in out


def test_json_types() -> None:
    result = invoke([*SAMPLE, "--format", "json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert isinstance(data, list) and len(data) == 16
    assert list(data[0]) == HEADER.split(",")
    globex = next(
        r
        for r in data
        if (r["customer_id"], r["month"]) == ("globex", "2025-05") and r["service"] == "database"
    )
    assert globex["period_seconds"] == 2678400 and type(globex["period_seconds"]) is int
    assert globex["downtime_seconds"] == 1841.7 and type(globex["downtime_seconds"]) is float
    assert type(globex["excluded_seconds"]) is int
    assert type(globex["incident_count"]) is int
    for field in (
        "availability_pct",
        "tier_band",
        "sla_target_pct",
        "coefficient",
        "monthly_fee",
        "compensation",
        "compensation_due_at",
        "status",
    ):
        assert type(globex[field]) is str, field
    assert globex["availability_pct"] == "99.9312"
    assert globex["compensation"] == "7.74"
    assert globex["breached"] is True
    assert globex["capped"] is False


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("out.csv", "csv"),
        ("OUT.CSV", "csv"),
        ("out.json", "json"),
        ("out.txt", "table"),
        ("out", "table"),
    ],
)
def test_output_file_format_from_extension(tmp_path: Path, name: str, kind: str) -> None:
    target = tmp_path / name
    result = invoke([*SAMPLE, "-o", str(target)])
    assert result.exit_code == 0
    assert result.stdout == ""
    text = target.read_text(encoding="utf-8")
    if kind == "csv":
        assert text.splitlines()[0] == HEADER
    elif kind == "json":
        assert len(json.loads(text)) == 16
    else:
        assert "SLA report" in text
    assert leftovers(tmp_path) == [name]  # no temporary file left behind


def test_format_option_wins_over_extension(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    assert invoke([*SAMPLE, "-o", str(target), "--format", "json"]).exit_code == 0
    assert len(json.loads(target.read_text(encoding="utf-8"))) == 16


def test_stdin(tmp_path: Path) -> None:
    text = Path(INCIDENTS).read_text(encoding="utf-8")
    result = invoke(
        [
            "report",
            "-",
            "--contracts",
            CONTRACTS,
            "--as-of",
            "2025-06-28T12:00:00+08:00",
            "-f",
            "csv",
        ],
        input=text,
    )
    assert result.exit_code == 0
    assert result.stdout == invoke([*SAMPLE, "-f", "csv"]).stdout


def test_several_incident_files(tmp_path: Path) -> None:
    lines = Path(INCIDENTS).read_text(encoding="utf-8").splitlines(keepends=True)
    a = write(tmp_path, "".join(lines[:8]), "a.csv")
    b = write(tmp_path, lines[0] + "".join(lines[8:]), "b.csv")
    result = invoke(
        [
            "report",
            a,
            b,
            "--contracts",
            CONTRACTS,
            "--as-of",
            "2025-06-28T12:00:00+08:00",
            "-f",
            "csv",
        ]
    )
    assert result.stdout == invoke([*SAMPLE, "-f", "csv"]).stdout


def test_month_option() -> None:
    result = invoke([*SAMPLE, "-f", "csv", "--month", "2025-06"])
    months = {r["month"] for r in csv_rows(result.stdout)}
    assert months == {"2025-06"}


def test_warning_on_stderr_when_nothing_to_report(tmp_path: Path) -> None:
    path = write(tmp_path, "start,end,customer_id\n")
    result = invoke(["report", path, "--contracts", CONTRACTS, "-f", "csv"])
    assert result.exit_code == 0
    assert result.stdout == HEADER + "\n"
    assert result.stderr == (
        "warning: no incident lasts more than zero in any month, and no --month was given: "
        "there is no month to report\n"
    )
    # the same without contracts
    result = invoke(["report", path, "--monthly-fee", "1", "-f", "csv"])
    assert (result.exit_code, result.stdout) == (0, HEADER + "\n")
    assert "there is no month to report" in result.stderr


def test_help_has_an_example() -> None:
    result = invoke(["report", "--help"])
    assert result.exit_code == 0
    assert "Example: slacalc report" in result.stdout


# --- exit 1: bad data --------------------------------------------------------------------------


def test_bad_rows_exit_1_with_every_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "start,end,impact\n2025-05-01,2025-04-01,\nsoon,,\n2025-05-01,,2\n")
    result = invoke(["report", path, "--monthly-fee", "1", "-f", "csv"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{path}:2: column 'end': ends before it starts (start '2025-05-01') (value '2025-04-01')",
        f"{path}:3: column 'start': not a timestamp: expected ISO 8601 such as "
        "2025-05-14T07:57:01+08:00 (value 'soon')",
        f"{path}:4: column 'impact': impact must be greater than 0 and at most 1 (100%) "
        "(value '2')",
        "3 problems found",
    ]
    assert "Traceback" not in result.stderr


def test_missing_file_exit_1(tmp_path: Path) -> None:
    path = str(tmp_path / "nope.csv")
    result = invoke(["report", path, "--monthly-fee", "1"])
    assert (result.exit_code, result.stderr) == (1, f"{path}: no such file\n1 problem found\n")


def test_missing_contract_exit_1(tmp_path: Path) -> None:
    path = write(tmp_path, "customer_id,service,start,end\nhooli,db,2025-05-01,2025-05-02\n")
    result = invoke(["report", path, "--contracts", CONTRACTS])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"{path}:2: column 'customer_id': no contract for customer 'hooli' service 'db': add it "
        "to --contracts or give --monthly-fee (value 'hooli')"
    )


def test_bad_contracts_exit_1(tmp_path: Path) -> None:
    path = write(tmp_path, "customer_id,monthly_fee\nacme,lots\n", "contracts.csv")
    result = invoke(["report", INCIDENTS, "--contracts", path])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"{path}:2: column 'monthly_fee': expected a decimal amount such as 1200.00 (value 'lots')"
    )


def test_stdin_errors_name_stdin() -> None:
    result = invoke(["report", "-", "--monthly-fee", "1"], input="start\n2025-05-01\nnope\n")
    assert result.exit_code == 1
    assert result.stderr.startswith("<stdin>:3: column 'start': not a timestamp")


def test_binary_and_latin1_input_exit_1(tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"start,customer_id\n2025-05-01,caf\xe9\n")
    result = invoke(["report", str(latin), "--monthly-fee", "1"])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{latin}:2: not UTF-8 (byte 0xe9)")
    junk = tmp_path / "junk.csv"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    result = invoke(["report", str(junk), "--monthly-fee", "1"])
    assert result.exit_code == 1
    assert "binary data" in result.stderr


# --- exit 2: wrong usage --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--tz", "Mars/Base"],
            "Error: unknown time zone 'Mars/Base': use an IANA name such as "
            "Asia/Shanghai, UTC or Europe/Berlin",
        ),
        (
            ["--policy", "nope"],
            "Error: unknown policy 'nope' (use one of standard, standard-credit, ",
        ),
        (["--month", "2025-13"], "Error: --month: expected a month as YYYY-MM, got '2025-13'"),
        (
            ["--as-of", "soon"],
            "Error: --as-of 'soon': not a timestamp: expected ISO 8601 such "
            "as 2025-05-14T07:57:01+08:00",
        ),
        (
            ["--monthly-fee", "abc"],
            "Error: --monthly-fee 'abc': expected a decimal amount such as 1200.00",
        ),
        (
            ["--sla-target", "99.9"],
            "Error: --sla-target '99.9': not a tier of policy "
            "'standard': expected one of 99.999, 99.99, 99.95",
        ),
        (
            ["--currency", "US"],
            "Error: --currency 'US': expected an ISO 4217 currency code such as CNY, USD or JPY",
        ),
        (
            ["-o", "out.xlsx"],
            "Error: cannot tell the format of 'out.xlsx' from its extension: "
            "use .csv, .json, .jsonl or .txt, or give --format",
        ),
    ],
)
def test_usage_errors_exit_2(extra: list[str], message: str) -> None:
    result = invoke([*SAMPLE, *extra])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize("extra", [["--bogus"], ["--format", "xml"], ["--month"]])
def test_click_usage_errors_exit_2(extra: list[str]) -> None:
    result = invoke([*SAMPLE, *extra])
    assert result.exit_code == 2
    assert result.stdout == ""


def test_no_incident_file_is_usage() -> None:
    assert invoke(["report"]).exit_code == 2


def test_stdin_twice_is_usage() -> None:
    result = invoke(["report", "-", "-", "--monthly-fee", "1"], input="start\n")
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: standard input ('-') can be read only once\n",
    )


def test_output_folder_must_exist(tmp_path: Path) -> None:
    result = invoke([*SAMPLE, "-o", str(tmp_path / "no" / "out.csv")])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_output_onto_a_directory_is_usage(tmp_path: Path) -> None:
    (tmp_path / "out.csv").mkdir()
    result = invoke([*SAMPLE, "-o", str(tmp_path / "out.csv")])
    assert "internal error" not in result.stderr
    assert result.exit_code == 2
    assert leftovers(tmp_path) == ["out.csv"]


# --- exit 3: breach ---------------------------------------------------------------------------


def test_fail_on_breach_exits_3_after_writing(tmp_path: Path) -> None:
    result = invoke([*SAMPLE, "-f", "csv", "--fail-on-breach"])
    assert result.exit_code == 3
    assert len(result.stdout.splitlines()) == 17
    target = tmp_path / "out.json"
    result = invoke([*SAMPLE, "-o", str(target), "--fail-on-breach"])
    assert result.exit_code == 3
    assert len(json.loads(target.read_text(encoding="utf-8"))) == 16
    assert leftovers(tmp_path) == ["out.json"]


def test_fail_on_breach_without_breach_exits_0(tmp_path: Path) -> None:
    # globex,network: 210 s of May is 99.9921 %, which meets its 99.95
    log = write(
        tmp_path,
        "customer_id,service,start,end\nglobex,network,2025-05-21T16:02:00Z,2025-05-21T16:05:30Z\n",
    )
    result = invoke(
        [
            "report",
            log,
            "--contracts",
            CONTRACTS,
            "--as-of",
            "2025-07-01",
            "-f",
            "csv",
            "--fail-on-breach",
        ]
    )
    assert result.exit_code == 0
    rows = csv_rows(result.stdout)
    assert len(rows) == 7  # one row per contract
    assert {r["breached"] for r in rows} == {"false"}


# --- atomic output ----------------------------------------------------------------------------


def test_failed_run_leaves_no_file(tmp_path: Path) -> None:
    bad = tmp_path / "in"
    bad.mkdir()
    log = write(bad, "start\nnope\n")
    out = tmp_path / "out"
    out.mkdir()
    result = invoke(["report", log, "--monthly-fee", "1", "-o", str(out / "report.csv")])
    assert result.exit_code == 1
    assert leftovers(out) == []


def test_failure_while_writing_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from slacalc.writing import report_out

    real = report_out.render_report

    def half_then_crash(result, fmt, out, *, raw_csv=False):  # type: ignore[no-untyped-def]
        real(result, fmt, out, raw_csv=raw_csv)
        out.flush()
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(report_out, "render_report", half_then_crash)
    target = tmp_path / "report.csv"
    result = invoke([*SAMPLE, "-o", str(target)])
    assert result.exit_code == 70
    assert result.stderr.startswith("internal error: RuntimeError: disk on fire")
    assert leftovers(tmp_path) == []
    # an existing file is left as it was
    target.write_text("previous\n", encoding="utf-8")
    invoke([*SAMPLE, "-o", str(target)])
    assert target.read_text(encoding="utf-8") == "previous\n"
    assert leftovers(tmp_path) == ["report.csv"]


# --- formula injection ----------------------------------------------------------------------


INJECT = (
    "customer_id,service,start,end\n"
    "=cmd|' /C calc'!A0,+svc,2025-06-01 00:00,2025-06-01 00:10\n"
    "@SUM(A1),-svc,2025-06-01 00:00,2025-06-01 00:10\n"
    "plain,ok,2025-06-01 00:00,2025-06-01 00:10\n"
)


def test_csv_guards_formula_cells(tmp_path: Path) -> None:
    path = write(tmp_path, INJECT)
    result = invoke(["report", path, "--monthly-fee", "1", "--as-of", "2025-07-01", "-f", "csv"])
    assert result.exit_code == 0
    assert [(r["customer_id"], r["service"]) for r in csv_rows(result.stdout)] == [
        ("'=cmd|' /C calc'!A0", "'+svc"),
        ("'@SUM(A1)", "'-svc"),
        ("plain", "ok"),
    ]


def test_raw_csv_leaves_cells_alone(tmp_path: Path) -> None:
    path = write(tmp_path, INJECT)
    result = invoke(
        ["report", path, "--monthly-fee", "1", "--as-of", "2025-07-01", "-f", "csv", "--raw-csv"]
    )
    assert [(r["customer_id"], r["service"]) for r in csv_rows(result.stdout)] == [
        ("=cmd|' /C calc'!A0", "+svc"),
        ("@SUM(A1)", "-svc"),
        ("plain", "ok"),
    ]


def test_json_is_not_guarded(tmp_path: Path) -> None:
    path = write(tmp_path, INJECT)
    result = invoke(["report", path, "--monthly-fee", "1", "--as-of", "2025-07-01", "-f", "json"])
    assert json.loads(result.stdout)[0]["customer_id"] == "=cmd|' /C calc'!A0"


def test_guard_covers_contract_ids(tmp_path: Path) -> None:
    contracts = write(tmp_path, "customer_id,service,monthly_fee\n=evil,*,10\n", "c.csv")
    log = write(tmp_path, "start\n")
    result = invoke(
        [
            "report",
            log,
            "--contracts",
            contracts,
            "--month",
            "2025-06",
            "--as-of",
            "2025-07-01",
            "-f",
            "csv",
        ]
    )
    assert csv_rows(result.stdout)[0]["customer_id"] == "'=evil"


# --- environment variables --------------------------------------------------------------------


def _one_hour(tmp_path: Path, month: str = "2025-03") -> str:
    return write(
        tmp_path, f"customer_id,service,start,end\nc,s,{month}-10 12:00,{month}-10 13:00\n"
    )


def test_env_tz(tmp_path: Path) -> None:
    args = [
        "report",
        _one_hour(tmp_path),
        "--monthly-fee",
        "1",
        "--as-of",
        "2025-05-01",
        "-f",
        "csv",
    ]
    (row,) = csv_rows(invoke(args, env={"SLACALC_TZ": "America/New_York"}).stdout)
    assert row["period_seconds"] == "2674800"  # March 2025 in New York: 31 days - 1 h
    assert row["compensation_due_at"] == "2025-04-04T00:00:00-04:00"
    (row,) = csv_rows(invoke(args).stdout)
    assert row["period_seconds"] == "2678400"
    # the option wins over the variable
    (row,) = csv_rows(invoke([*args, "--tz", "UTC"], env={"SLACALC_TZ": "Mars/Base"}).stdout)
    assert row["compensation_due_at"] == "2025-04-04T00:00:00+00:00"


def test_env_tz_unknown_is_usage(tmp_path: Path) -> None:
    result = invoke(
        ["report", _one_hour(tmp_path), "--monthly-fee", "1"], env={"SLACALC_TZ": "Mars/Base"}
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: unknown time zone 'Mars/Base'")


def test_env_policy(tmp_path: Path) -> None:
    # 3600 s of March (2678400 s) on 1000: standard 3600/2678400*1250 = 1.68;
    # standard-credit 5 % of 1000 = 50.00
    args = [
        "report",
        _one_hour(tmp_path),
        "--monthly-fee",
        "1000",
        "--as-of",
        "2025-05-01",
        "-f",
        "csv",
    ]
    assert csv_rows(invoke(args).stdout)[0]["compensation"] == "1.68"
    got = invoke(args, env={"SLACALC_POLICY": "standard-credit"})
    assert csv_rows(got.stdout)[0]["compensation"] == "50.00"
    got = invoke(args, env={"SLACALC_POLICY": POLICY})  # premium: default tier 99.99 (2.50)
    assert [csv_rows(got.stdout)[0][f] for f in ("sla_target_pct", "compensation")] == [
        "99.99",
        "3.36",
    ]  # 3600/2678400*2500 = 3.3602...
    result = invoke(args, env={"SLACALC_POLICY": "nope"})
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: unknown policy 'nope'")


def test_env_currency(tmp_path: Path) -> None:
    args = [
        "report",
        _one_hour(tmp_path),
        "--monthly-fee",
        "1000",
        "--as-of",
        "2025-05-01",
        "-f",
        "csv",
    ]
    (row,) = csv_rows(invoke(args, env={"SLACALC_CURRENCY": "JPY"}).stdout)
    assert (row["currency"], row["monthly_fee"], row["compensation"]) == ("JPY", "1000", "2")
    contracts = write(tmp_path, "customer_id,monthly_fee\nc,1000\n", "c.csv")
    args = [
        "report",
        _one_hour(tmp_path),
        "--contracts",
        contracts,
        "--as-of",
        "2025-05-01",
        "-f",
        "csv",
    ]
    (row,) = csv_rows(invoke(args, env={"SLACALC_CURRENCY": "usd"}).stdout)
    assert row["currency"] == "USD"
    result = invoke(args, env={"SLACALC_CURRENCY": "dollars"})
    assert result.exit_code == 2


# --- no internal errors on odd but valid input ------------------------------------------------


def test_huge_fee_is_not_an_internal_error(tmp_path: Path) -> None:
    result = invoke(
        [
            "report",
            _one_hour(tmp_path),
            "--monthly-fee",
            "1e30",
            "--as-of",
            "2025-05-01",
            "-f",
            "csv",
        ]
    )
    assert "internal error" not in result.stderr
    assert result.exit_code in (0, 1, 2)


@pytest.mark.parametrize(
    ("start", "end", "tz"),
    [
        ("9999-12-31T10:00:00+00:00", "9999-12-31T11:00:00+00:00", "Asia/Shanghai"),
        ("0001-01-01T00:30:00+00:00", "0001-01-01T01:00:00+00:00", "America/New_York"),
    ],
)
def test_extreme_years_are_not_an_internal_error(
    tmp_path: Path, start: str, end: str, tz: str
) -> None:
    log = write(tmp_path, f"start,end\n{start},{end}\n")
    result = invoke(["report", log, "--monthly-fee", "1", "--tz", tz, "-f", "csv"])
    assert "internal error" not in result.stderr
    assert result.exit_code in (0, 1)


def test_naive_year_9999_is_bad_data(tmp_path: Path) -> None:
    log = write(tmp_path, "start,end\n9999-12-31 10:00,9999-12-31 11:00\n")
    result = invoke(["report", log, "--monthly-fee", "1", "-f", "csv"])
    assert "internal error" not in result.stderr
    assert result.exit_code in (0, 1)


def test_spark_engine_without_pyspark_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark now raises ImportError
    result = invoke([*SAMPLE, "--engine", "spark", "-f", "csv"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "pip install 'slacalc[spark]'" in result.stderr
    assert "Traceback" not in result.output


def test_spark_master_needs_the_spark_engine() -> None:
    result = invoke([*SAMPLE, "--spark-master", "local[2]", "-f", "csv"])
    assert result.exit_code == 2
    assert "--spark-master goes with --engine spark" in result.stderr


@pytest.mark.parametrize(("fmt", "calendar"), [("csv", False), ("table", True)])
def test_a_report_imports_nothing_it_does_not_use(tmp_path: Path, fmt: str, calendar: bool) -> None:
    """What a report run must not import, each of which cost a tenth of a second or more:
    pandas (pyarrow imports it where it is installed; slacalc tells it there is none, except for
    --engine spark), pydantic (typer 0.29 builds an adapter per option), the statement's
    templates, and all 250 of the holidays package's countries for one calendar. The Chinese
    calendar itself is loaded only when working days are counted: a table lists the data-loss
    deadlines (5 working days); the CSV has no such column."""
    import subprocess
    import sys

    unwanted = ["pandas", "pydantic", "jinja2", "slacalc.writing.statement", "holidays.countries"]
    probe = (
        "import sys\nfrom slacalc.cli import run\nsys.argv = ['slacalc', *sys.argv[1:]]\nrun()\n"
        f"print([m for m in {unwanted!r} if m in sys.modules], file=sys.stderr)\n"
        "print('holidays.countries.china' in sys.modules, file=sys.stderr)\n"
    )
    args = ["report", "samples/incidents.csv", "--contracts", "samples/contracts.csv"]
    args += ["--as-of", "2025-07-01", "-f", fmt, "-o", str(tmp_path / "r.txt")]
    done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True)
    assert done.stderr.strip().splitlines()[-2:] == ["[]", str(calendar)]
    assert "acme" in (tmp_path / "r.txt").read_text(encoding="utf-8")


def test_pandas_is_blocked_except_for_spark() -> None:
    import sys

    from slacalc import speed

    before = list(sys.meta_path)
    speed.hide_pandas(wanted=True)  # --engine spark: pyspark needs pandas
    assert sys.meta_path == before
    assert not any(isinstance(f, speed._NoPandas) for f in sys.meta_path)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (
            [
                "report",
                "samples/incidents.csv",
                "--contracts",
                "samples/contracts.csv",
                "-f",
                "csv",
            ],
            0,
        ),
        (["report", "samples/incidents.csv", "--monthly-fee", "100", "--fail-on-breach"], 3),
        (["report", "samples/incidents.csv", "--tz", "Mars/Olympus"], 2),
        (["report", "no-such-log.csv"], 1),
    ],
)
def test_the_console_script_leaves_at_once_with_every_byte_and_its_status(
    args: list[str], code: int
) -> None:
    """``slacalc`` exits without tearing the interpreter down (os._exit): standard output and
    error are flushed whole first, and the exit status is the command's."""
    import subprocess
    import sys

    script = [sys.executable, "-c", "from slacalc.cli import main; main()"]
    done = subprocess.run([*script, *args, "--as-of", "2025-07-01"], capture_output=True)
    library = CliRunner().invoke(app, [*args, "--as-of", "2025-07-01"])
    assert done.returncode == code == library.exit_code
    assert done.stdout.decode("utf-8") == library.stdout
    assert done.stderr.decode("utf-8").strip() == library.stderr.strip()
