"""slacalc's own incident log as JSON Lines and Parquet: the readers' problems (FILE:LINE for
JSON Lines, whole-file for Parquet), typed Parquet columns, and the same report as the CSV log."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from slacalc.computing.report import compute_report
from slacalc.dates.instants import get_zone, parse_instant
from slacalc.errors import InputError
from slacalc.model.settings import Settings
from slacalc.reading import read_incidents
from slacalc.reading.contracts import read_contracts
from slacalc.terms.policy import load_policy
from tests.logs import write_log

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
SHANGHAI = get_zone("Asia/Shanghai")


def problems(path: Path | str, *, fmt: str | None = None) -> list[str]:
    with pytest.raises(InputError) as info:
        read_incidents([str(path)], SHANGHAI, fmt=fmt)
    return [str(p) for p in info.value.problems]


# --- JSON Lines: FILE:LINE problems ------------------------------------------------------------


def test_jsonl_problems_name_the_file_line_and_key() -> None:
    path = FIXTURES / "bad_rows.jsonl"
    assert problems(path) == [
        f"{path}:1: column 'end': ends before it starts (start '2025-05-01 10:00') "
        "(value '2025-05-01 09:00')",
        f"{path}:2: column 'impact': impact must be greater than 0 and at most 1 (100%) "
        "(value '1.5')",
        f"{path}:3: column 'category': expected one of outage, data_loss, maintenance, excluded "
        "(value 'incident')",
        f"{path}:4: not JSON: Expecting value at column 1; each line must be one JSON object",
        f"{path}:5: missing field 'start': every incident needs one, such as "
        '"start": "2025-05-14T07:57:01+08:00"',
        f"{path}:6: column 'start': expected a timestamp as a string, not a number "
        "(value '1746064800')",
        f"{path}:7: column 'impact': expected a string or a number, not an object "
        """(value '{"share": 0.5}')""",
        f"{path}:8: column 'end': expected a timestamp as a string, not a boolean (value 'true')",
        f"{path}:11: expected a JSON object such as "
        """{"start": "2025-05-14T07:57:01+08:00"}, got a list """
        """(value '["B9", "acme", "compute", "2025-05-01 10:00"]')""",
        f"{path}:12: column 'start': appears more than once in the object",
        f"{path}:13: not JSON: Expecting ',' delimiter at column 96; each line must be one "
        "JSON object",
    ]


def test_jsonl_problems_through_the_cli_exit_1_without_a_traceback() -> None:
    from typer.testing import CliRunner

    from slacalc.cli import app

    path = str(FIXTURES / "bad_rows.jsonl")
    result = CliRunner().invoke(app, ["report", path, "--monthly-fee", "100"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[3] == (
        f"{path}:4: not JSON: Expecting value at column 1; each line must be one JSON object"
    )
    assert result.stderr.splitlines()[-1] == "11 problems found"


def test_jsonl_numbers_are_exact_and_ids_may_be_numbers(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text(
        '{"start": "2025-05-01T10:00:00+08:00", "end": "2025-05-01T11:00:00+08:00", '
        '"impact": 0.1, "incident_id": 4711, "customer_id": 42, "service": "db"}\n'
        '{"start": "2025-05-01T10:30:00+08:00", "END": null, "impact": "30%", "Service": "db",'
        ' "customer_id": "42"}\n',
        encoding="utf-8",
    )
    rows = list(read_incidents([str(path)], SHANGHAI))
    assert [(r.customer_id, r.service, r.incident_id, r.impact, r.end) for r in rows] == [
        ("42", "db", "4711", Fraction(1, 10), rows[0].end),
        ("42", "db", "", Fraction(3, 10), None),
    ]
    assert [r.line for r in rows] == [1, 2]


def test_jsonl_lines_end_at_line_feeds_only(tmp_path: Path) -> None:
    # JSON strings may hold U+2028 raw; str.splitlines would split the object there. CRLF ends
    # are lines too, and blank lines are skipped but counted.
    path = tmp_path / "log.jsonl"
    path.write_bytes(
        '{"start": "2025-05-01 10:00", "incident_id": "a\u2028b", "service": "x\u0085y"}\r\n'
        "\r\n"
        '{"start": "2025-05-01 10:00", "end": "2025-05-01 09:00"}\r\n'.encode()
    )
    assert problems(path) == [
        f"{path}:3: column 'end': ends before it starts (start '2025-05-01 10:00') "
        "(value '2025-05-01 09:00')"
    ]
    path.write_bytes('{"start": "2025-05-01 10:00", "incident_id": "a\u2028b"}\r\n'.encode())
    (row,) = read_incidents([str(path)], SHANGHAI)
    assert row.incident_id == "a\u2028b"


def test_an_empty_jsonl_log_has_no_incidents(tmp_path: Path) -> None:
    path = tmp_path / "quiet-month.jsonl"
    path.write_text("", encoding="utf-8")
    assert len(read_incidents([str(path)], SHANGHAI)) == 0
    path.write_text("\n\n", encoding="utf-8")
    assert len(read_incidents([str(path)], SHANGHAI)) == 0


# --- Parquet: whole-file problems --------------------------------------------------------------


def _parquet(path: Path, columns: dict[str, pa.Array]) -> Path:
    pq.write_table(pa.table(columns), path)
    return path


def test_parquet_files_that_cannot_be_read_say_what_they_are(tmp_path: Path) -> None:
    csv_file = tmp_path / "really.parquet"
    csv_file.write_text("start,end\n2025-05-01 10:00,\n", encoding="utf-8")
    empty = tmp_path / "empty.parquet"
    empty.write_bytes(b"")
    good = _parquet(tmp_path / "good.parquet", {"start": pa.array(["2025-05-01 10:00"])})
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(good.read_bytes()[:-20])
    assert problems(csv_file) == [
        f"{csv_file}: not a Parquet file (no Parquet footer): a CSV or JSON Lines log needs a "
        ".csv or .jsonl name, or --input-format csv|jsonl"
    ]
    assert problems(empty) == [f"{empty}: empty file: expected a Parquet incident log"]
    (message,) = problems(cut)
    assert message.startswith(f"{cut}: a damaged Parquet file (cut short?): ")
    assert problems(tmp_path / "missing.parquet") == [f"{tmp_path}/missing.parquet: no such file"]
    folder = tmp_path / "folder.parquet"
    folder.mkdir()
    assert problems(folder) == [f"{folder}: is a directory, not a Parquet file"]
    # A JSON Lines file read as Parquet because --input-format says so.
    assert problems(FIXTURES / "bad_rows.jsonl", fmt="parquet")[0].endswith(
        "not a Parquet file (no Parquet footer): a CSV or JSON Lines log needs a .csv or .jsonl "
        "name, or --input-format csv|jsonl"
    )


def test_parquet_columns_of_the_wrong_type_are_refused_whole(tmp_path: Path) -> None:
    path = _parquet(
        tmp_path / "types.parquet",
        {
            "start": pa.array([1746064800, 1746068400]),
            "impact": pa.array([[1], [2]]),
            "service": pa.array([{"a": 1}, {"a": 2}]),
        },
    )
    assert problems(path) == [
        f"{path}: column 'start': int64 values: expected timestamps, or ISO 8601 text such as "
        "2025-05-14T07:57:01+08:00",
        f"{path}: column 'service': struct<a: int64> values: expected text, timestamps or numbers",
        f"{path}: column 'impact': list<element: int64> values: expected text, timestamps or "
        "numbers",
    ]
    nostart = _parquet(tmp_path / "nostart.parquet", {"End": pa.array(["x"]), "id": pa.array([1])})
    assert problems(nostart) == [
        f"{nostart}: missing required column 'start' (columns: 'End', 'id')"
    ]
    twice = _parquet(
        tmp_path / "twice.parquet", {"start": pa.array(["x"]), "START ": pa.array(["y"])}
    )
    assert problems(twice) == [f"{twice}: column 'start' appears more than once"]


def test_parquet_bad_cells_get_their_row_number(tmp_path: Path) -> None:
    start = "2025-05-01 10:00"
    path = _parquet(
        tmp_path / "cells.parquet",
        {
            "start": pa.array([start, start, start, None]),
            "end": pa.array(["2025-05-01 11:00", "2025-05-01 09:00", None, "2025-05-01 11:00"]),
            "impact": pa.array([Decimal("0.3"), None, Decimal("1.5"), None], pa.decimal128(3, 2)),
        },
    )
    assert problems(path) == [
        f"{path}:2: column 'end': ends before it starts (start '2025-05-01 10:00') "
        "(value '2025-05-01 09:00')",
        f"{path}:3: column 'impact': impact must be greater than 0 and at most 1 (100%) "
        "(value '1.50')",
        f"{path}:4: column 'start': empty timestamp (value '')",
    ]


def test_parquet_typed_columns_read_as_their_exact_text(tmp_path: Path) -> None:
    # 2025-05-01T02:00:00.123456789Z in nanoseconds (floored to the microsecond, as CSV drops
    # digits past the sixth), a zoned end, a naive local start, float32 and dictionary columns.
    ns = 1746064800_123456789
    path = _parquet(
        tmp_path / "typed.parquet",
        {
            "start": pa.array([ns, ns], pa.timestamp("ns", "UTC")),
            "end": pa.array([1746068400_000000, None], pa.timestamp("us", "Asia/Shanghai")),
            "customer_id": pa.array(["acme", "acme"]).dictionary_encode(),
            "service": pa.nulls(2),
            "impact": pa.array([0.3, 0.125], pa.float32()),
            "category": pa.array(["outage", "maintenance"], pa.large_string()),
        },
    )
    table = read_incidents([str(path)], SHANGHAI, keep_text=True)
    first, second = table.incidents()
    assert first.start == 1746064800_123456 and first.end == 1746068400_000000
    assert first.start_text == "2025-05-01T02:00:00.123456Z"
    assert first.end_text == "2025-05-01T03:00:00Z"
    assert (first.customer_id, first.service, first.impact) == ("acme", "", Fraction(3, 10))
    assert (second.category, second.impact, second.end) == ("maintenance", Fraction(1, 8), None)
    naive = _parquet(
        tmp_path / "naive.parquet",
        {"start": pa.array([datetime(2025, 5, 1, 10, 0)], pa.timestamp("s"))},
    )
    (row,) = read_incidents([str(naive)], SHANGHAI)
    assert row.start == parse_instant("2025-05-01T10:00:00+08:00", SHANGHAI)


# --- the same report as the CSV log ------------------------------------------------------------


def report_of(paths: list[str], *, contracts: str | None, tz: ZoneInfo, as_of: str):
    """The report's records and deadlines of incident logs (any format, by extension)."""
    policy = load_policy("standard")
    settings = Settings(policy=policy, tz=tz, as_of=parse_instant(as_of, tz))
    book = read_contracts(contracts, policy=policy, default_currency="CNY") if contracts else None
    report = compute_report(read_incidents(paths, tz), settings, contracts=book)
    return report.records(), [d.to_dict() for d in report.deadlines]


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_the_sample_log_gives_the_same_report_in_every_format(tmp_path: Path, fmt: str) -> None:
    # The sample CSV's cells as text in JSON Lines and Parquet (tests/logs.py); the typed
    # Parquet of slacalc's own writer is checked in tests/test_incident_log.py.
    sample = ROOT / "samples" / "incidents.csv"
    contracts = str(ROOT / "samples" / "contracts.csv")
    as_of = "2025-06-28T12:00:00+08:00"
    expected = report_of([str(sample)], contracts=contracts, tz=SHANGHAI, as_of=as_of)
    assert len(expected[0]) == 16 and len(expected[1]) == 9
    path = write_log(tmp_path, sample.read_text(encoding="utf-8"), fmt)
    assert report_of([str(path)], contracts=contracts, tz=SHANGHAI, as_of=as_of) == expected


def test_a_parquet_log_reads_from_standard_input(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from slacalc.cli import app

    sample = (ROOT / "samples" / "incidents.csv").read_text(encoding="utf-8")
    parquet = write_log(tmp_path, sample, "parquet").read_bytes()
    args = ["--contracts", str(ROOT / "samples" / "contracts.csv"), "-f", "csv"]
    args += ["--as-of", "2025-06-28T12:00:00+08:00"]
    runner = CliRunner()
    piped = runner.invoke(app, ["report", "-", "--input-format", "parquet", *args], input=parquet)
    direct = runner.invoke(app, ["report", str(ROOT / "samples" / "incidents.csv"), *args])
    assert piped.exit_code == 0, piped.stderr
    assert piped.stdout == direct.stdout
