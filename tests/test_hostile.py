"""Hostile input, as a new user (or an attacker) would try it: issue 12's cases and others like
them. Each asserts the exact exit code, a clear one-line message, bounded time, no traceback,
no file left behind and no row lost.

The output side (``-o``, terminals, spreadsheets, signals) is in ``test_hostile_output.py``;
what every command shares is in ``mixins.py``.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest
from mixins import AS_OF, SAMPLE_DIR, assert_clean_failure, run

from slacalc.model.cells import MAX_CELL

FAST = 1.0  # seconds, in process: absurd values are refused at once

HEADER = "start,end,customer_id,service,incident_id\n"


def log(tmp_path: Path, rows: list[str], name: str = "incidents.csv", header: str = HEADER) -> str:
    path = tmp_path / name
    path.write_text(header + "".join(r + "\n" for r in rows), encoding="utf-8")
    return str(path)


def report(path: str, *more: str) -> list[str]:
    return ["report", path, "--monthly-fee", "100", "--as-of", AS_OF, *more]


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


GOOD = "2025-05-01 10:00,2025-05-01 11:00,acme,compute,INC-1"


# --- nothing read is lost or guessed ---------------------------------------------------------


@pytest.mark.parametrize("command", ["report", "validate"])
def test_an_unclosed_quote_is_an_error_on_the_line_it_opened(
    tmp_path: Path, csv_reader: str, command: str
) -> None:
    path = log(
        tmp_path,
        [
            GOOD,
            '2025-05-02 10:00,2025-05-02 11:00,acme,"compute,INC-2',
            "2025-05-03 10:00,2025-05-03 11:00,acme,compute,INC-3",
            "2025-05-04 10:00,2025-05-04 11:00,acme,compute,INC-4",
        ],
    )
    args = report(path) if command == "report" else ["validate", path]
    result = run(args)
    lines = assert_clean_failure(result, 1, on_stdout=command == "validate")
    assert lines[0].startswith(f"{path}:3: "), lines
    assert "quote" in lines[0]
    if command == "validate":
        assert lines[-1].startswith("FAILED")


def _big_log(tmp_path: Path, n: int, bad_at: int, bad: str) -> str:
    rows = [
        f"2025-05-{1 + i % 28:02d} 10:00:00,2025-05-{1 + i % 28:02d} 10:05:00,c{i % 97},svc,I{i}"
        for i in range(n)
    ]
    rows[bad_at] = bad
    return log(tmp_path, rows, "big.csv")


@pytest.mark.parametrize("where", ["middle", "end"])
def test_an_unclosed_quote_in_a_large_file_is_reported_on_its_line(
    tmp_path: Path, where: str
) -> None:
    """At any file size: the bulk reader takes files of 1 MB and more."""
    n = 40_000
    at = n // 2 if where == "middle" else n - 3
    path = _big_log(tmp_path, n, at, '2025-05-02 10:00:00,2025-05-02 11:00:00,acme,"svc,X')
    assert Path(path).stat().st_size > 1 << 20
    for args in (report(path, "-f", "csv"), ["validate", path]):
        result = run(args)
        lines = assert_clean_failure(result, 1, on_stdout=args[0] == "validate")
        assert lines[0].startswith(f"{path}:{at + 2}: "), lines[0]


def test_a_cell_running_over_lines_is_never_silently_joined(tmp_path: Path) -> None:
    path = log(
        tmp_path,
        [GOOD, '2025-05-02 10:00,2025-05-02 11:00,"acme', 'x",compute,INC-2', GOOD],
    )
    lines = assert_clean_failure(run(report(path)), 1)
    assert lines[0].startswith(
        f"{path}:3: column 'customer_id': a quoted value runs from line 3 to line 4: "
        "an unbalanced quote?"
    ), lines


@pytest.mark.parametrize(
    "value, reason",
    [
        ("2025-06-30 20:00:00 EST", "time zone name 'EST' cannot be resolved exactly"),
        ("2025-06-30 20:00:00 CST", "time zone name 'CST' cannot be resolved exactly"),
        ("2025-06-30 20:00:00 PST", "time zone name 'PST' cannot be resolved exactly"),
        ("2025-06-30 20:00:00 IST", "time zone name 'IST' cannot be resolved exactly"),
        ("2025-06-30 20:00 GMT+8", "opposite signs"),
        ("2025-06-30 20:00 UTC+8", "opposite signs"),
        ("2025-06-30 20:00 UTC-5", "opposite signs"),
        ("2025-06-30T20:00+25:00", "offset is out of range"),
        ("2025-06-30 20:00 Asia/Shanghai", "not a timestamp"),
        ("03/04/2025 10:00", "ambiguous"),
        ("2025-02-29T10:00", "not a timestamp"),
        ("9999-12-31T23:59:59Z", "out of the supported range"),
        ("0001-01-01T00:00:00Z", "out of the supported range"),
    ],
)
def test_timestamps_slacalc_cannot_read_exactly_are_errors(
    tmp_path: Path, value: str, reason: str
) -> None:
    path = log(tmp_path, [GOOD, f"{value},,acme,compute,INC-2"])
    result = run(report(path))
    lines = assert_clean_failure(result, 1)
    assert lines[0].startswith(f"{path}:3: column 'start': "), lines
    assert reason in lines[0], lines
    assert "Warning" not in result.stderr and "dateutil" not in result.stderr
    assert result.seconds < FAST  # type: ignore[attr-defined]


def test_a_closed_incident_ending_after_as_of_counts_up_to_it(tmp_path: Path) -> None:
    path = log(tmp_path, ["2025-06-28 11:00,2025-07-05 10:00,acme,compute,LATE"])
    result = run(report(path, "-f", "csv"))
    assert result.exit_code == 0, result.stderr
    (row,) = rows_of(result.stdout)
    assert row["downtime_seconds"] == "3600"  # 11:00 to --as-of 12:00, not to July 5
    assert f"{path}:2" in result.stderr and "--as-of" in result.stderr
    validated = run(["validate", path, "--as-of", AS_OF])
    assert validated.exit_code == 0
    assert f"{path}:2: warning: ends after --as-of" in validated.stdout


@pytest.mark.parametrize(
    "currency, hint",
    [("XYZ", "not an ISO 4217 currency code"), ("JYP", "did you mean JPY?"), ("EURO", "ISO")],
)
def test_currencies_are_iso_4217(tmp_path: Path, currency: str, hint: str) -> None:
    contracts = tmp_path / "contracts.csv"
    contracts.write_text(
        f"customer_id,service,monthly_fee,currency\nacme,compute,100,{currency}\n",
        encoding="utf-8",
    )
    path = log(tmp_path, [GOOD])
    result = run(["report", path, "--contracts", str(contracts), "--as-of", AS_OF])
    lines = assert_clean_failure(result, 1)
    assert lines[0].startswith(f"{contracts}:2: column 'currency': "), lines
    assert hint in lines[0]
    option = run(report(path, "--currency", currency))
    assert_clean_failure(option, 2)


@pytest.mark.parametrize("column", ["incident_id", "customer_id"])
def test_one_cell_size_limit_for_both_csv_readers(
    tmp_path: Path, csv_reader: str, column: str
) -> None:
    """The limit holds for a column kept as written (ids) and for one taken through its
    distinct words (customers)."""

    def row(value: str) -> str:
        cells = {"customer_id": "acme", "incident_id": "INC-2", column: value}
        customer, incident = cells["customer_id"], cells["incident_id"]
        return f"2025-05-01 10:00,2025-05-01 11:00,{customer},compute,{incident}"

    fits = "x" * MAX_CELL
    path = log(tmp_path, [row(fits)])
    ok = run(report(path, "-f", "csv"))
    assert ok.exit_code == 0, ok.stderr
    path = log(tmp_path, [GOOD, row(fits + "y")])
    lines = assert_clean_failure(run(report(path)), 1)
    assert lines[0].startswith(f"{path}:3: "), lines
    assert f"a cell longer than {MAX_CELL} characters" in lines[0]


def test_a_json_lines_cell_over_the_limit_is_named_in_any_column(tmp_path: Path) -> None:
    """JSON Lines allows longer lines than a cell may be: the typing names each long cell,
    whether its column is kept as written (ids) or taken through its distinct words."""
    import json

    long = "é" * (MAX_CELL + 1)  # more characters than the limit, twice as many bytes
    rows = [
        {"start": "2025-05-01 10:00", "end": "2025-05-01 11:00", "customer_id": "acme"},
        {"start": "2025-05-01 10:00", "customer_id": long, "service": "db"},
        {"start": "2025-05-01 10:00", "customer_id": "acme", "incident_id": long},
        {"start": "2025-05-01 10:00", "customer_id": "acme", "category": long},
    ]
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    lines = assert_clean_failure(run(report(str(path))), 1)
    said = f"a cell longer than {MAX_CELL} characters"
    assert [line.split(": ", 2)[:2] for line in lines[:3]] == [
        [f"{path}:2", "column 'customer_id'"],
        [f"{path}:3", "column 'incident_id'"],
        [f"{path}:4", "column 'category'"],
    ], lines
    assert all(said in line for line in lines[:3]), lines


def test_nul_bytes_are_binary_data(tmp_path: Path) -> None:
    path = tmp_path / "nul.csv"
    path.write_bytes((HEADER + GOOD + "\n").encode() + b"2025-05-02 10:00,\x00,acme,c,I\n")
    lines = assert_clean_failure(run(report(str(path))), 1)
    assert lines[0] == f"{path}:3: binary data (a NUL byte): this is not a CSV text file"


def test_a_huge_single_line_is_refused_quickly(tmp_path: Path) -> None:
    path = tmp_path / "oneline.csv"
    path.write_text(HEADER + "2025-05-01 10:00," + "z" * 8_000_000, encoding="utf-8")
    result = run(report(str(path)))
    lines = assert_clean_failure(result, 1)
    assert lines[0].startswith(f"{path}:2: ") and "longer than" in lines[0], lines


def test_not_utf8_names_the_line_and_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        (HEADER + GOOD + "\n").encode() + "2025-05-02 10:00,,Zürich,c,I\n".encode("latin-1")
    )
    lines = assert_clean_failure(run(report(str(path))), 1)
    assert lines[0].startswith(f"{path}:3: not UTF-8 (byte 0xfc)") and "iconv" in lines[0]


def test_no_row_is_lost_to_crlf_a_bom_blank_lines_or_quotes(tmp_path: Path) -> None:
    path = tmp_path / "windows.csv"
    body = (
        HEADER
        + "\n"
        + '"2025-05-01 10:00","2025-05-01 10:10","acme","compute","A,1"\n'
        + ",,,,\n"
        + '2025-05-02 10:00,2025-05-02 10:10,acme,compute,"B ""2"""\n'
        + "\n"
        + "2025-05-03 10:00,2025-05-03 10:10,acme,compute,C\n"
    )
    path.write_bytes(b"\xef\xbb\xbf" + body.replace("\n", "\r\n").encode())
    result = run(report(str(path), "-f", "csv"))
    assert result.exit_code == 0, result.stderr
    (row,) = rows_of(result.stdout)
    assert row["incident_count"] == "3" and row["downtime_seconds"] == "1800"


def test_a_row_wider_than_the_header_is_an_error_not_dropped(tmp_path: Path) -> None:
    path = log(tmp_path, [GOOD, "2025-05-02 10:00,2025-05-02 11:00,acme,compute,I2,extra"])
    lines = assert_clean_failure(run(report(path)), 1)
    assert lines[0] == f"{path}:3: row has 6 cells but the header has 5"


def test_control_characters_in_file_names_and_values_are_escaped_on_stderr(
    tmp_path: Path,
) -> None:
    path = log(tmp_path, [GOOD, "\x1b]0;pwned\x07,,acme,compute,I2"], name="a\x1b[31mb.csv")
    result = run(report(path))
    lines = assert_clean_failure(result, 1)
    assert "a\\x1b[31mb.csv:3" in lines[0] and "\\x1b]0;pwned\\x07" in lines[0]


# --- bounded work on absurd values -------------------------------------------------------------

ABSURD = ["1e999999999", "1e-99999999", "9" * 5000, "0." + "1" * 5000, "1" + "0" * 400 + "e-400"]


@pytest.mark.parametrize("value", ABSURD)
def test_absurd_fees_in_contracts(tmp_path: Path, value: str) -> None:
    contracts = tmp_path / "contracts.csv"
    contracts.write_text(f"customer_id,service,monthly_fee\nacme,compute,{value}\n", "utf-8")
    path = log(tmp_path, [GOOD])
    result = run(["report", path, "--contracts", str(contracts), "--as-of", AS_OF])
    lines = assert_clean_failure(result, 1)
    assert lines[0].startswith(f"{contracts}:2: column 'monthly_fee': "), lines
    assert result.seconds < FAST  # type: ignore[attr-defined]


@pytest.mark.parametrize("value", ABSURD)
@pytest.mark.parametrize("option", ["--monthly-fee", "--sla-target"])
def test_absurd_option_numbers(tmp_path: Path, value: str, option: str) -> None:
    path = log(tmp_path, [GOOD])
    args = ["report", path, "--as-of", AS_OF, option, value]
    if option == "--sla-target":
        args += ["--monthly-fee", "100"]
    result = run(args)
    lines = assert_clean_failure(result, 2)
    assert lines[0].startswith(f"Error: {option} '") and len(lines) == 1
    assert len(lines[0]) < 300
    assert result.seconds < FAST  # type: ignore[attr-defined]


@pytest.mark.parametrize("value", [*ABSURD, "-1e999999999", "nan", "inf"])
def test_absurd_impacts(tmp_path: Path, value: str) -> None:
    path = log(
        tmp_path,
        [f"2025-05-01 10:00,2025-05-01 11:00,acme,compute,{value}"],
        header="start,end,customer_id,service,impact\n",
    )
    result = run(report(path))
    lines = assert_clean_failure(result, 1)
    assert lines[0].startswith(f"{path}:2: column 'impact': "), lines
    assert result.seconds < FAST  # type: ignore[attr-defined]


def _policy(tmp_path: Path, **override: str) -> Path:
    keys = {
        "name": '"p"',
        "mode": '"coefficient"',
        "default_target": "99.95",
        "cap_pct": "100",
        "target": "99.95",
        "coefficient": "1.25",
        "credit_pct": "5",
    }
    keys.update(override)
    text = (
        "\n".join(f"{k} = {keys[k]}" for k in ("name", "mode", "default_target", "cap_pct"))
        + "\n[[tiers]]\n"
        + "\n".join(f"{k} = {keys[k]}" for k in ("target", "coefficient", "credit_pct"))
    )
    path = tmp_path / "policy.toml"
    path.write_text(text + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("value", ["1e999999999", "1e-99999999", "9" * 5000, "1" + "0" * 5000])
@pytest.mark.parametrize("key", ["cap_pct", "coefficient", "credit_pct", "default_target"])
def test_absurd_policy_numbers(tmp_path: Path, key: str, value: str) -> None:
    policy = _policy(tmp_path, **{key: value})
    path = log(tmp_path, [GOOD])
    result = run(report(path, "--policy", str(policy)))
    lines = assert_clean_failure(result, 2)
    assert lines[0].startswith("Error: ") and "policy" in lines[0], lines
    assert result.seconds < FAST  # type: ignore[attr-defined]
    tiers = run(["tiers", "--policy", str(policy)])
    assert_clean_failure(tiers, 2)


@pytest.mark.parametrize(
    "text",
    [
        "a = " + "[" * 5000 + "]" * 5000,
        "x = {" + "a = {" * 5000 + "}" * 5001,
        "[" + ".".join(["a"] * 5000) + "]",
    ],
)
def test_deeply_nested_toml(tmp_path: Path, text: str) -> None:
    policy = tmp_path / "deep.toml"
    policy.write_text(text + "\n", encoding="utf-8")
    for args in (
        report(log(tmp_path, [GOOD]), "--policy", str(policy)),
        ["tiers", "--policy", str(policy)],
    ):
        result = run(args)
        lines = assert_clean_failure(result, 2)
        assert "deep.toml" in lines[0], lines
        assert result.seconds < FAST  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "month", ["9999-12", "0000-01", "1899-12", "2200-01", "2025-13", "-2025-01"]
)
@pytest.mark.parametrize("command", ["report", "explain", "budget"])
def test_months_out_of_range(tmp_path: Path, month: str, command: str) -> None:
    path = log(tmp_path, [GOOD])
    args = {
        "report": report(path, "--month", month),
        "explain": ["explain", path, "--customer", "acme", "--monthly-fee", "1", "--month", month],
        "budget": ["budget", "--month", month],
    }[command]
    result = run(args)
    lines = assert_clean_failure(result, 2)
    assert lines[0].startswith("Error: --month"), lines
    assert result.seconds < FAST  # type: ignore[attr-defined]


@pytest.mark.parametrize("as_of", ["9999-12-31T23:59:59Z", "0000-01-01", "1e999999999"])
def test_as_of_out_of_range_with_an_ongoing_incident(tmp_path: Path, as_of: str) -> None:
    path = log(tmp_path, ["2025-05-01 10:00,,acme,compute,ONGOING"])
    for args in (
        ["report", path, "--monthly-fee", "1", "--as-of", as_of],
        ["validate", path, "--as-of", as_of],
        ["disputes", str(SAMPLE_DIR / "disputes.csv"), "--as-of", as_of],
    ):
        result = run(args)
        lines = assert_clean_failure(result, 2)
        assert lines[0].startswith("Error: --as-of"), lines
        assert result.seconds < FAST  # type: ignore[attr-defined]


def test_a_report_of_more_than_1200_months_is_refused(tmp_path: Path) -> None:
    path = log(tmp_path, ["1901-01-01 10:00,,acme,compute,FOREVER"])
    result = run(["report", path, "--monthly-fee", "1", "--as-of", "2195-01-01T00:00:00+08:00"])
    lines = assert_clean_failure(result, 2)
    assert "more than 1200" in lines[0] and "--month" in lines[0]
    assert result.seconds < FAST  # type: ignore[attr-defined]
    chosen = run(
        [
            "report",
            path,
            "--monthly-fee",
            "1",
            "--as-of",
            "2195-01-01T00:00:00+08:00",
            "--month",
            "2025-01",
            "-f",
            "csv",
        ]
    )
    assert chosen.exit_code == 0 and len(rows_of(chosen.stdout)) == 1


@pytest.mark.parametrize("value", ["1e999999999", "9" * 5000, "99.9" + "9" * 5000, "-5", "nan"])
def test_absurd_budget_targets(value: str) -> None:
    result = run(["budget", "--month", "2025-06", "--", value])
    lines = assert_clean_failure(result, 2)
    assert lines[0].startswith("Error: PCT") and len(lines[0]) < 300
    assert result.seconds < FAST  # type: ignore[attr-defined]


@pytest.mark.parametrize("opened", ["9999-12-31T00:00:00Z", "0001-01-01", "2025-06-30 20:00 EST"])
def test_absurd_deadline_openings(opened: str) -> None:
    result = run(["deadline", "--level", "2", "--opened", opened])
    lines = assert_clean_failure(result, 2)
    assert lines[0].startswith("Error: --opened"), lines
    assert result.seconds < FAST  # type: ignore[attr-defined]


def test_absurd_dispute_dates(tmp_path: Path) -> None:
    disputes = tmp_path / "disputes.csv"
    disputes.write_text(
        "dispute_id,customer_id,level,opened_at,resolved_at\n"
        "D1,acme,2,9999-12-31T00:00:00Z,\n"
        "D2,acme,7,2025-05-01T00:00:00Z,\n"
        "D3,acme,1,2025-05-01T00:00:00Z,1e999999999\n",
        encoding="utf-8",
    )
    result = run(["disputes", str(disputes), "--as-of", AS_OF])
    lines = assert_clean_failure(result, 1)
    assert [line.split(":")[1] for line in lines[:3]] == ["2", "3", "4"], lines
    assert result.seconds < FAST  # type: ignore[attr-defined]


# --- files that are not what they claim --------------------------------------------------------


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_an_endless_binary_device_is_refused_at_once(device: str, fmt: str) -> None:
    result = run(["report", device, "--monthly-fee", "1", "--input-format", fmt])
    lines = assert_clean_failure(result, 1)
    assert lines[0].startswith(f"{device}:") and "binary data" in lines[0]
    assert result.seconds < FAST  # type: ignore[attr-defined]


def test_a_stream_without_line_breaks_is_refused_after_one_piece() -> None:
    result = run(["report", "-", "--monthly-fee", "1"], input="start," + "x" * (17 << 20))
    lines = assert_clean_failure(result, 1)
    assert lines[0] == "<stdin>: a line longer than 16 MiB: not an incident log"


def test_a_log_given_twice_is_refused_not_counted_twice(tmp_path: Path) -> None:
    path = log(tmp_path, [GOOD])
    twin = tmp_path / "twin.csv"
    os.link(path, twin)
    for second in (path, f"{tmp_path}/./incidents.csv", str(twin)):
        result = run(["report", path, second, "--monthly-fee", "1", "--as-of", AS_OF])
        lines = assert_clean_failure(result, 2)
        assert "is the same file as" in lines[0] and "count twice" in lines[0], lines


def test_standard_input_is_read_once(tmp_path: Path) -> None:
    for args in (["report", "-", "-", "--monthly-fee", "1"], ["report", "-", "--contracts", "-"]):
        result = run(args, input=HEADER + GOOD + "\n")
        lines = assert_clean_failure(result, 2)
        assert lines == ["Error: standard input ('-') can be read only once"]
