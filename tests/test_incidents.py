"""The incident-log reader: real exports (odd headers, BOM, CRLF, multi-line cells), bad rows."""

from __future__ import annotations

import io
import sys
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from slacalc.dates.instants import parse_instant
from slacalc.errors import InputError
from slacalc.model.cells import parse_category, parse_impact
from slacalc.reading import read_incidents

SH = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.usefixtures("csv_reader")
FIXTURES = Path(__file__).parent / "fixtures"


def at(text: str) -> int:
    return parse_instant(text, SH)


def write(tmp_path: Path, data: bytes | str, name: str = "incidents.csv") -> str:
    path = tmp_path / name
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return str(path)


def problems(paths: list[str]) -> list[str]:
    with pytest.raises(InputError) as info:
        read_incidents(paths, SH)
    return info.value.lines()


# --- impact and category cells -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 1),
        ("  ", 1),
        ("1", 1),
        ("100%", 1),
        ("30%", Fraction(3, 10)),
        ("30 %", Fraction(3, 10)),
        ("0.3", Fraction(3, 10)),
        (" 0.30 ", Fraction(3, 10)),
        ("0.5%", Fraction(1, 200)),
        ("1e-1", Fraction(1, 10)),
        ("0.333", Fraction(333, 1000)),  # exact, never a binary float
    ],
)
def test_parse_impact(text: str, expected: Fraction | int) -> None:
    value = parse_impact(text)
    assert value == expected
    assert not isinstance(value, float)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0", "impact must be greater than 0 and at most 1 (100%)"),
        ("0%", "impact must be greater than 0 and at most 1 (100%)"),
        ("1.5", "impact must be greater than 0 and at most 1 (100%)"),
        ("150%", "impact must be greater than 0 and at most 1 (100%)"),
        ("-0.1", "impact must be greater than 0 and at most 1 (100%)"),
        ("nan", "expected a share 0 < impact <= 1, such as 0.3 or 30%"),
        ("inf", "expected a share 0 < impact <= 1, such as 0.3 or 30%"),
        ("half", "expected a share 0 < impact <= 1, such as 0.3 or 30%"),
    ],
)
def test_parse_impact_refuses(text: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_impact(text)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "outage"),
        ("outage", "outage"),
        (" Data_Loss ", "data_loss"),
        ("MAINTENANCE", "maintenance"),
        ("excluded", "excluded"),
    ],
)
def test_parse_category(text: str, expected: str) -> None:
    assert parse_category(text) == expected


# --- headers, encodings, line endings ------------------------------------------------------


def test_odd_header_unknown_columns_and_defaults() -> None:
    # " Start ", "END", " Customer_ID " match; "Owner" is ignored; no service, incident_id,
    # category columns: empty strings and outage.
    log = read_incidents([str(FIXTURES / "odd_header.csv")], SH)
    rows = list(log)
    assert [(i.customer_id, i.service, i.incident_id, i.category) for i in rows] == [
        ("acme", "", "", "outage")
    ] * 3
    assert [i.impact for i in rows] == [Fraction(3, 10), Fraction(3, 10), 1]
    assert rows[0].start == at("2025-05-01T10:00:00+08:00")
    assert rows[0].end == at("2025-05-01T10:30:00+08:00")
    assert rows[1].end is None  # ongoing
    assert [i.line for i in rows] == [2, 3, 4]
    assert list(log.by_key) == [("acme", "")]


def test_only_start_is_required(tmp_path: Path) -> None:
    log = read_incidents([write(tmp_path, "start\n2025-05-01 10:00\n")], SH)
    (inc,) = list(log)
    assert inc.key == ("", "")
    assert inc.end is None
    assert inc.impact == 1
    assert inc.category == "outage"


def test_missing_start_column(tmp_path: Path) -> None:
    path = write(tmp_path, "begin,end\n2025-05-01 10:00,2025-05-01 11:00\n")
    assert problems([path]) == [
        f"{path}:1: missing required column 'start' (header has: 'begin', 'end')",
        "1 problem found",
    ]


def test_duplicate_known_column(tmp_path: Path) -> None:
    path = write(tmp_path, "start,Start\n2025-05-01 10:00,2025-05-01 11:00\n")
    assert problems([path]) == [
        f"{path}:1: column 'start' appears more than once",
        "1 problem found",
    ]


def test_bom_and_crlf(tmp_path: Path) -> None:
    data = (
        "\ufeffStart,End,Customer_ID,Service\r\n"
        "2025-05-01 10:00,2025-05-01 10:30,acme,compute\r\n"
        "2025-05-02 10:00,2025-05-02 10:30,acme,compute\r\n"
    )
    log = read_incidents([write(tmp_path, data)], SH)
    rows = list(log)
    assert [i.line for i in rows] == [2, 3]
    assert rows[0].key == ("acme", "compute")  # no "\r" left on the last cell
    assert rows[1].end == at("2025-05-02T10:30:00+08:00")


def test_quoted_multiline_cells_keep_line_numbers(tmp_path: Path) -> None:
    data = (
        "incident_id,start,end,summary,impact\r\n"  # line 1
        'A,2025-05-01 10:00,2025-05-01 11:00,"three\r\nline\r\nsummary",2\r\n'  # lines 2-4
        "\r\n"  # line 5: blank, skipped
        "B,2025-05-01 10:00,2025-05-01 09:00,x,\r\n"  # line 6
        'C,2025-05-01 10:00,2025-05-01 11:00,"two\nlines",1\n'  # lines 7-8
        "D,2025-05-01 10:00,2025-05-01 11:00,x,half\n"  # line 9
    )
    path = write(tmp_path, data)
    assert problems([path]) == [
        f"{path}:2: column 'impact': impact must be greater than 0 and at most 1 (100%) "
        "(value '2')",
        f"{path}:6: column 'end': ends before it starts (start '2025-05-01 10:00') "
        "(value '2025-05-01 09:00')",
        f"{path}:9: column 'impact': expected a share 0 < impact <= 1, such as 0.3 or 30% "
        "(value 'half')",
        "3 problems found",
    ]


def test_good_row_after_multiline_cell_has_its_own_line(tmp_path: Path) -> None:
    data = 'incident_id,start,summary\nA,2025-05-01 10:00,"x\ny\nz"\n\nB,2025-05-02 10:00,w\n'
    rows = list(read_incidents([write(tmp_path, data)], SH))
    assert [(i.incident_id, i.line) for i in rows] == [("A", 2), ("B", 6)]


def test_every_bad_row_is_reported_with_file_line_column_value() -> None:
    path = str(FIXTURES / "bad_rows.csv")
    iso_hint = "not a timestamp: expected ISO 8601 such as 2025-05-14T07:57:01+08:00"
    range_msg = "impact must be greater than 0 and at most 1 (100%)"
    assert problems([path]) == [
        f"{path}:2: column 'end': ends before it starts (start '2025-05-01 10:00') "
        "(value '2025-05-01 09:00')",
        f"{path}:3: column 'impact': {range_msg} (value '0')",
        f"{path}:4: column 'impact': {range_msg} (value '1.5')",
        f"{path}:5: column 'impact': expected a share 0 < impact <= 1, such as 0.3 or 30% "
        "(value 'nan')",
        f"{path}:6: column 'category': expected one of outage, data_loss, maintenance, "
        "excluded (value 'incident')",
        f"{path}:7: column 'start': ambiguous date: day and month could be read either way; "
        "use ISO 8601 (YYYY-MM-DD) (value '03/04/2025')",
        f"{path}:8: column 'start': empty timestamp (value '')",
        f"{path}:10: column 'start': {iso_hint} (value 'soon')",
        f"{path}:10: column 'end': {iso_hint} (value 'later')",
        f"{path}:10: column 'impact': {range_msg} (value '150%')",
        f"{path}:11: row has 8 cells but the header has 7",
        "11 problems found",
    ]


def test_problems_from_several_files_are_collected(tmp_path: Path) -> None:
    a = write(tmp_path, "start\nnope\n", "a.csv")
    b = write(tmp_path, "start,impact\n2025-05-01,0\n", "b.csv")
    lines = problems([a, b])
    assert [line.split(": ")[0] for line in lines[:-1]] == [f"{a}:2", f"{b}:2"]
    assert lines[-1] == "2 problems found"


def test_more_than_50_bad_rows_are_cut_with_a_count(tmp_path: Path) -> None:
    path = write(tmp_path, "start\n" + "bad\n" * 60)
    lines = problems([path])
    assert len(lines) == 51
    assert lines[0].startswith(f"{path}:2: column 'start': ")
    assert lines[49].startswith(f"{path}:51: column 'start': ")
    assert lines[-1] == "60 problems found (10 more not shown)"


def test_end_equal_to_start_is_accepted(tmp_path: Path) -> None:
    (inc,) = list(read_incidents([write(tmp_path, "start,end\n2025-05-01,2025-05-01\n")], SH))
    assert inc.start == inc.end


def test_trailing_empty_cells_are_fine(tmp_path: Path) -> None:
    (inc,) = list(read_incidents([write(tmp_path, "start,end\n2025-05-01,,,\n")], SH))
    assert inc.end is None


# --- files that are not incident logs ------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, b"")
    assert problems([path]) == [
        f"{path}: empty file: expected a header line with 'start'",
        "1 problem found",
    ]


def test_blank_file(tmp_path: Path) -> None:
    path = write(tmp_path, "\n\r\n  \n")
    assert problems([path])[0] == f"{path}: empty file: expected a header line with 'start'"


def test_header_only_gives_an_empty_log(tmp_path: Path) -> None:
    log = read_incidents([write(tmp_path, "start,end,customer_id,service\n")], SH)
    assert len(log) == 0
    assert log.by_key == {}


def test_binary_junk(tmp_path: Path) -> None:
    path = write(tmp_path, b"start,end\n\x00\x01\x02\xff")
    assert problems([path]) == [
        f"{path}:2: binary data (a NUL byte): this is not a CSV text file",
        "1 problem found",
    ]


def test_latin1_bytes_name_the_line_and_the_fix(tmp_path: Path) -> None:
    path = write(tmp_path, b"start,customer_id\n2025-05-01,acme\n2025-05-02,caf\xe9\n")
    assert problems([path]) == [
        f"{path}:3: not UTF-8 (byte 0xe9); save the file as UTF-8, e.g. iconv -f latin1 -t "
        f"utf-8 {path}",
        "1 problem found",
    ]


def test_missing_file(tmp_path: Path) -> None:
    path = str(tmp_path / "nope.csv")
    assert problems([path]) == [f"{path}: no such file", "1 problem found"]


def test_directory(tmp_path: Path) -> None:
    assert problems([str(tmp_path)])[0] == f"{tmp_path}: is a directory, not a CSV file"


def test_stdin_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"\xef\xbb\xbfstart,customer_id\r\n2025-05-01 10:00,acme\r\nbad,acme\r\n"
    stdin = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    lines = problems(["-"])
    assert lines[0].startswith("<stdin>:3: column 'start': not a timestamp")


def test_unicode_customer_ids(tmp_path: Path) -> None:
    (inc,) = list(read_incidents([write(tmp_path, "start,customer_id\n2025-05-01,阿里\n")], SH))
    assert inc.customer_id == "阿里"


def test_cells_are_trimmed_and_keys_grouped(tmp_path: Path) -> None:
    data = (
        "start,customer_id,service,incident_id\n"
        "2025-05-01, acme ,compute , I1 \n"
        "2025-05-02,acme, compute,I2\n"
        "2025-05-03,beta,compute,I3\n"
    )
    log = read_incidents([write(tmp_path, data)], SH)
    assert {k: [i.incident_id for i in v] for k, v in log.by_key.items()} == {
        ("acme", "compute"): ["I1", "I2"],
        ("beta", "compute"): ["I3"],
    }
