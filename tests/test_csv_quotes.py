"""A quote that closes lines after it opened never swallows rows (issue 18).

``"INC-1`` on one line and ``...,x"`` at the end of a later one is valid CSV: Python's csv module
and pyarrow read every line in between as part of one value, so those rows vanish. The rule
every CSV reader shares (:func:`slacalc.reading.files.quoted_span_problems`): a value spanning
lines is an error on the line where it opened, naming the line where it closed, in a column
slacalc reads; in a column it ignores (free text) only when rows hide in it.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mixins import AS_OF, assert_clean_failure, run
from typer.testing import Result

from slacalc.errors import InputError, shown
from slacalc.reading import stream_incidents
from slacalc.reading.csv_bulk import _shape
from slacalc.reading.files import quoted_span_problems

FIX = 'an unbalanced quote? close it where the value ends, or double a quote that is text ("")'
HEADER = "start,end,customer_id,service,incident_id,notes\n"
SH = ZoneInfo("Asia/Shanghai")


def row(i: int, notes: str = "n") -> str:
    day = 1 + i % 28
    return f"2025-05-{day:02d} 10:00:00,2025-05-{day:02d} 10:05:00,c{i % 7},svc,I{i},{notes}"


def window(first: int = 0, n: int = 40) -> list[str]:
    """``n`` rows from row ``first`` on, the second of which opens a quote in its notes that
    the 21st closes at the end of its line: the 19 rows after the second vanish into its value
    (lines 4 to 22 of a file that starts with the window)."""
    rows = [row(first + k) for k in range(n)]
    rows[1] = row(first + 1, '"INC-1')
    rows[20] = row(first + 20, 'x"')
    return rows


def write(folder: Path, rows: list[str], name: str = "incidents.csv", header: str = HEADER) -> str:
    path = folder / name
    path.write_text(header + "".join(r + "\n" for r in rows), encoding="utf-8")
    return str(path)


def swallowed(path: str, opened: int) -> str:
    """The problem of the window's value, opened on line ``opened``."""
    first = opened - 3  # the window's first row (row k is on line k + 2)
    value = "\n".join(["INC-1", *(row(first + k) for k in range(2, 20)), row(first + 20, "x")])
    return (
        f"{path}:{opened}: column 'notes': a quoted value runs from line {opened} to line "
        f"{opened + 19}, and line {opened + 1} in it reads as a row of its own: {FIX} "
        f"(value '{shown(value)}')"
    )


def report(path: str) -> list[str]:
    return ["report", path, "--monthly-fee", "100", "--as-of", AS_OF, "-f", "csv"]


# --- incident logs ---------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["report", "validate"])
def test_a_quote_closing_lines_later_in_an_ignored_column_is_an_error(
    tmp_path: Path, csv_reader: str, command: str
) -> None:
    path = write(tmp_path, window())
    args = report(path) if command == "report" else ["validate", path]
    lines = assert_clean_failure(run(args), 1, on_stdout=command == "validate")
    assert lines[0] == swallowed(path, 3)
    assert lines[-1] == (
        "FAILED: 1 problem, 0 warnings" if command == "validate" else "1 problem found"
    )


@pytest.mark.parametrize("command", ["report", "validate"])
def test_a_value_slacalc_reads_never_spans_lines(
    tmp_path: Path, csv_reader: str, command: str
) -> None:
    rows = [row(k).rsplit(",", 1)[0] for k in range(40)]  # no notes column: incident_id last
    rows[1] = rows[1].rsplit(",", 1)[0] + ',"INC-1'
    rows[20] = rows[20] + 'x"'
    path = write(tmp_path, rows, header="start,end,customer_id,service,incident_id\n")
    args = report(path) if command == "report" else ["validate", path]
    lines = assert_clean_failure(run(args), 1, on_stdout=command == "validate")
    assert lines[0].startswith(
        f"{path}:3: column 'incident_id': a quoted value runs from line 3 to line 22: {FIX} "
        "(value 'INC-1\\n2025-05-03 10:00:00,"
    ), lines


def test_every_such_value_is_reported_with_the_other_problems(tmp_path: Path) -> None:
    rows = [*window(0), row(40, "bad start").replace("2025-05-13 10:00:00,", "soon,", 1)]
    rows += window(41)
    path = write(tmp_path, rows)
    lines = assert_clean_failure(run(["validate", path]), 1, on_stdout=True)
    assert lines[0] == swallowed(path, 3)
    assert lines[1].startswith(f"{path}:42: column 'start': "), lines
    assert lines[2] == swallowed(path, 44)
    assert lines[-1] == "FAILED: 3 problems, 0 warnings"


def test_text_such_as_5_inches_cannot_hide_a_value_from_the_bulk_reader(tmp_path: Path) -> None:
    # Each line holds two quotes, so counting quotes per line sees nothing open; but Python
    # reads s"vc and I"20 as text, and the value opened between them runs from line 3 to 22.
    def notes_first(k: int, service: str = "svc", notes: str = "n", incident: str = "") -> str:
        start, end, customer, _, _, _ = row(k).split(",")
        return f"{start},{end},{customer},{service},{notes},{incident or f'I{k}'}"

    rows = [notes_first(k) for k in range(40_000)]
    rows[1] = notes_first(1, service='s"vc', notes='"INC-1')
    rows[20] = notes_first(20, notes='x"', incident='I"20')
    header = "start,end,customer_id,service,notes,incident_id\n"
    path = write(tmp_path, rows, header=header)
    assert Path(path).stat().st_size > 1 << 20  # large enough for the bulk reader
    for args in (report(path), ["validate", path]):
        result = run(args)
        lines = (result.stdout if args[0] == "validate" else result.stderr).splitlines()
        assert result.exit_code == 1, result.output
        assert lines[0].startswith(
            f"{path}:3: column 'notes': a quoted value runs from line 3 to line 22, and line 4 "
            "in it reads as a row of its own"
        ), lines


def test_a_large_log_gives_the_same_error_as_a_small_one(tmp_path: Path) -> None:
    """16 MiB and more: the defect straddles the first block the bulk reader's checks scan."""
    small = write(tmp_path, window(), "small.csv")
    filler, size = [], len(HEADER)
    while size < (16 << 20) - 10 * 80:
        filler.append(row(len(filler)))
        size += len(filler[-1]) + 1
    opened = len(filler) + 3  # header, the filler, the window's first row
    large = write(tmp_path, filler + window(len(filler)), "large.csv")
    assert Path(large).stat().st_size > 16 << 20
    for path, line in ((small, 3), (large, opened)):
        for args in (report(path), ["validate", path]):
            result = run(args)
            assert result.exit_code == 1, result.output
            out = result.stdout if args[0] == "validate" else result.stderr
            assert out.splitlines()[0] == swallowed(path, line)
            assert "Traceback" not in result.output


def test_the_streaming_reader_reports_it_in_the_piece_it_meets_it(tmp_path: Path) -> None:
    # Pieces of 1,000 rows: the second value is met as the first piece fills up.
    rows = [row(k) for k in range(990)] + window(990) + window(1030)
    path = write(tmp_path, rows + [row(k) for k in range(1070, 2100)])
    pieces = list(stream_incidents([path], SH, row_reader=[path], piece_bytes=1))
    assert len(pieces) == 3
    assert [str(p) for _, found in pieces for p in found] == [
        swallowed(path, 993),
        swallowed(path, 1033),
    ]
    assert sum(len(t) for t, _ in pieces) == 2100 - 2 * 20


@pytest.mark.parametrize("command", ["report", "validate"])
def test_free_text_spanning_lines_in_an_ignored_column_is_still_read(
    tmp_path: Path, csv_reader: str, command: str
) -> None:
    rows = [row(k) for k in range(10)]
    rows[2] = row(2, '"Root cause: a bad deploy.\nRolled back, at 10:04, by on-call."')
    rows[5] = row(5, '"A ""quoted"" word,\r\nthen a second line\n\nand a last one"')
    path = write(tmp_path, rows)
    result = run(report(path) if command == "report" else ["validate", path])
    assert result.exit_code == 0, result.output
    if command == "validate":
        assert result.stdout.startswith("10 incident rows in 1 file(s)"), result.stdout
    else:
        assert "I9" not in result.stderr


def test_a_multi_line_value_in_the_middle_of_its_row_is_read(tmp_path: Path) -> None:
    header = "incident_id,notes,start,end,customer_id,service\n"
    rows = [
        'A,"first line\nsecond line, with a comma",2025-05-01 10:00,2025-05-01 11:00,acme,svc',
        "B,ok,2025-05-02 10:00,2025-05-02 11:00,acme,svc",
    ]
    path = write(tmp_path, rows, header=header)
    result = run(["validate", path])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("2 incident rows in 1 file(s)"), result.stdout


# --- the rule itself -------------------------------------------------------------------------


def test_the_rule() -> None:
    header = ["incident_id", "notes", "start", "end"]
    read = [0, 2, 3]

    def why(cells: list[str]) -> list[str]:
        found = quoted_span_problems("f.csv", header, 2, cells, reads=read)
        return [p.message.split(": an unbalanced")[0] for p in found]

    # free text in an ignored column
    assert why(["A", "one\ntwo", "2025-05-01", "2025-05-02"]) == []
    # a column slacalc reads
    assert why(["A", "x", "2025-05-01\n", "2025-05-02"]) == [
        "a quoted value runs from line 2 to line 3"
    ]
    # a line in the middle with the header's width: a row
    assert why(["A", "one\nB,x,2025-05-01,2025-05-02\nC", "2025-05-01", "2025-05-02"]) == [
        "a quoted value runs from line 2 to line 4, and line 3 in it reads as a row of its own"
    ]
    # the lines it opens and closes on both read as rows: one row hides the next
    assert why(["A", "x,2025-05-01,2025-05-02\nB,y", "2025-05-02", "2025-05-03"]) == [
        "a quoted value runs from line 2 to line 3, and lines 2 and 3 each read as a row of "
        "their own"
    ]
    # the row it leaves is short: the rest of it is in the value
    assert why(["A", "x,2025-05-01\nz"]) == [
        "a quoted value runs from line 2 to line 3, and leaves its row 2 cells for the header's 4"
    ]
    # every value of the row is named, with the line it opened on
    assert [
        (p.line, p.column)
        for p in quoted_span_problems("f.csv", header, 5, ["A\nB", "x", "1\n\n", "2"], reads=read)
    ] == [(5, "incident_id"), (6, "start")]


# The bytes the bulk reader's checks must get right: quotes in every position, line ends.
_PIECES = st.lists(st.sampled_from(["a", ",", '"', '"', "\n", "\r\n", "b"]), max_size=16)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieces=_PIECES)
def test_the_bulk_reader_takes_a_file_only_when_python_reads_a_row_per_line(
    pieces: list[str],
) -> None:
    """The oracle: Python's csv module (strict, as the row reader reads)."""
    text = "h1,h2\n" + "".join(pieces)
    shape = _shape(text.encode())
    if shape is None:
        return
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records = list(reader)  # raises csv.Error if the bulk reader took a file Python refuses
    assert reader.line_num == len(records), (text, records)  # no record spans lines
    assert shape.rows == len(records) - 1


@pytest.mark.parametrize(
    "text",
    [
        'h1,h2\nb",a,,"\na",a"\n',
        'h1,h2\nb","\n""",a"',
        'h1,h2\na",",\n",b"',
    ],
)
def test_quotes_in_text_cannot_fool_the_bulk_checks(text: str) -> None:
    # Every line has an even count of quotes, yet Python reads a value spanning two lines.
    records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    assert len(records) < text.count("\n") + (not text.endswith("\n"))
    assert _shape(text.encode()) is None


def test_a_bom_and_a_quoted_header_keep_the_bulk_reader() -> None:
    text = '\ufeff"start","end"\n"2025-05-01 10:00","2025-05-01 11:00"\n'
    assert _shape(text.encode()) is not None


# --- vendor exports: PagerDuty's incident CSV ------------------------------------------------

PD_HEADER = (
    "id,incident_number,description,service_id,service_name,escalation_policy_id,"
    "escalation_policy_name,created_on,resolved_on,seconds_to_first_ack,seconds_to_resolve,"
    "auto_resolved,acknowledge_count,assignment_count,acknowledged_by_user_ids,"
    "acknowledged_by_user_names,resolved_by_user_id,resolved_by_user_name,urgency,"
    "escalation_count,auto_escalation_count,assigned_to_user_ids,assigned_to_user_names\n"
)


def pd_row(n: int, description: str | None = None, assignee: str = "Earline Greenholt") -> str:
    description = description if description is not None else f"API Gateway errors {n}"
    return (
        f"Q{n},{1200 + n},{description},PIJ90N7,API Gateway,PT20YPA,Platform on-call,"
        f"2025-03-0{n}T10:00:00Z,2025-03-0{n}T10:30:00Z,95,1800,0,1,1,PXPGF42,"
        f"Earline Greenholt,PXPGF42,Earline Greenholt,high,0,0,PXPGF42,{assignee}"
    )


def pd_import(tmp_path: Path, rows: list[str]) -> tuple[str, Result]:
    path = write(tmp_path, rows, "pagerduty.csv", header=PD_HEADER)
    return path, run(["import", "pagerduty", path, "--tz", "UTC", "-f", "csv"])


def test_pagerduty_a_description_closing_at_the_end_of_a_later_row(tmp_path: Path) -> None:
    rows = [pd_row(n) for n in range(1, 9)]
    rows[1] = pd_row(2, '"API Gateway 5xx, EU')  # Q2, line 3
    rows[5] = pd_row(6, assignee='Wendell x"')  # Q6, line 7
    path, result = pd_import(tmp_path, rows)
    lines = assert_clean_failure(result, 1)
    value = "\n".join(
        [pd_row(2, "API Gateway 5xx, EU"), *rows[2:5], pd_row(6, assignee="Wendell x")]
    )
    assert lines == [
        f"{path}:3: column 'description': a quoted value runs from line 3 to line 7, and line 4 "
        f"in it reads as a row of its own: {FIX} (value '{shown(value.split(',', 2)[2])}')",
        "1 problem found",
    ]


def test_pagerduty_q2_never_takes_a_later_rows_times(tmp_path: Path) -> None:
    # Q6's description ends with a quote: Q2's value closes there, and the rest of Q6's line
    # (its times) would fill Q2's columns.
    rows = [pd_row(n) for n in range(1, 9)]
    rows[1] = pd_row(2, '"API Gateway 5xx')
    rows[5] = pd_row(6, 'x"')
    path, result = pd_import(tmp_path, rows)
    lines = assert_clean_failure(result, 1)
    assert lines[0].startswith(
        f"{path}:3: column 'description': a quoted value runs from line 3 to line 7, and line 4 "
        "in it reads as a row of its own: an unbalanced quote?"
    ), lines


def test_pagerduty_one_row_cannot_hide_the_next(tmp_path: Path) -> None:
    # No line in between: the lines the value opens and closes on are each a row.
    rows = [pd_row(n) for n in range(1, 5)]
    rows[1] = pd_row(2, '"API Gateway 5xx')
    rows[2] = pd_row(3, 'x"')
    path, result = pd_import(tmp_path, rows)
    lines = assert_clean_failure(result, 1)
    assert lines[0].startswith(
        f"{path}:3: column 'description': a quoted value runs from line 3 to line 4, and lines "
        "3 and 4 each read as a row of their own"
    ), lines


def test_pagerduty_a_quote_never_closed_is_an_error(tmp_path: Path) -> None:
    rows = [pd_row(n) for n in range(1, 5)]
    rows[1] = pd_row(2, '"API Gateway 5xx')
    path, result = pd_import(tmp_path, rows)
    lines = assert_clean_failure(result, 1)
    assert lines[0].startswith(
        f"{path}:3: column 'description': a quoted value runs from line 3 to line 6"
    ), lines


def test_pagerduty_a_multi_line_description_is_still_read(tmp_path: Path) -> None:
    rows = [pd_row(n) for n in range(1, 4)]
    rows[0] = pd_row(1, '"API Gateway 5xx\nAffected: EU, US, APAC\nRolled back."')
    _, result = pd_import(tmp_path, rows)
    assert result.exit_code == 0, result.output
    assert [r.split(",")[4] for r in result.stdout.splitlines()[1:]] == ["Q1", "Q2", "Q3"]


# --- disputes, contracts, holidays -----------------------------------------------------------

DISPUTES = "dispute_id,customer_id,level,opened_at,resolved_at,subject\n"


def dispute(n: int, subject: str = "API errors") -> str:
    return f"DSP-{n},acme,1,2025-09-{10 + n}T10:00:00+08:00,,{subject}"


def test_disputes_a_subject_that_swallows_rows(tmp_path: Path) -> None:
    rows = [dispute(n) for n in range(1, 9)]
    rows[1] = dispute(2, '"API errors')
    rows[5] = dispute(6, 'see DSP-2"')
    path = write(tmp_path, rows, "disputes.csv", header=DISPUTES)
    lines = assert_clean_failure(run(["disputes", path, "--as-of", AS_OF]), 1)
    value = "\n".join(["API errors", *rows[2:5], dispute(6, "see DSP-2")])
    assert lines == [
        f"{path}:3: column 'subject': a quoted value runs from line 3 to line 7, and line 4 in "
        f"it reads as a row of its own: {FIX} (value '{shown(value)}')",
        "1 problem found",
    ]


def test_disputes_a_value_slacalc_reads_never_spans_lines(tmp_path: Path) -> None:
    rows = [dispute(1), dispute(2).replace(",acme,", ',"acme\nLtd",'), "DSP-3,x,7,2025-10-01,,"]
    path = write(tmp_path, rows, "disputes.csv", header=DISPUTES)
    lines = assert_clean_failure(run(["disputes", path, "--as-of", AS_OF]), 1)
    assert lines[0] == (
        f"{path}:3: column 'customer_id': a quoted value runs from line 3 to line 4: {FIX} "
        "(value 'acme\\nLtd')"
    )
    assert lines[1].startswith(f"{path}:5: column 'level': "), lines  # its own line number


def test_disputes_a_multi_line_subject_is_still_read(tmp_path: Path) -> None:
    rows = [dispute(n) for n in range(1, 4)]
    rows[1] = dispute(2, '"API errors,\nthen timeouts, in EU and US"')
    path = write(tmp_path, rows, "disputes.csv", header=DISPUTES)
    result = run(["disputes", path, "--as-of", AS_OF, "-f", "csv"])
    assert result.exit_code == 0, result.output
    assert [r.split(",")[0] for r in result.stdout.splitlines()[1:]] == [
        "DSP-1",
        "DSP-2",
        "DSP-3",
    ]


def test_contracts_and_holidays_share_the_rule(tmp_path: Path) -> None:
    from slacalc.reading.contracts import read_contracts
    from slacalc.reading.holidays import read_holidays_file
    from slacalc.terms.policy import load_policy

    contracts = tmp_path / "contracts.csv"
    contracts.write_text(
        "customer_id,service,monthly_fee,notes\n"
        'acme,svc,100,"renewed\n'
        "beta,svc,200,x\n"
        'gamma,svc,300,y"\n',
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        read_contracts(str(contracts), policy=load_policy("standard"), default_currency="CNY")
    assert str(info.value.problems[0]).startswith(
        f"{contracts}:2: column 'notes': a quoted value runs from line 2 to line 4, and line 3 "
        "in it reads as a row of its own"
    )
    holidays = tmp_path / "holidays.csv"
    holidays.write_text('date,kind\n2027-02-06,"workday\n2027-02-08,holiday"\n', encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_holidays_file(str(holidays))
    assert str(info.value.problems[0]).startswith(
        f"{holidays}:2: column 'kind': a quoted value runs from line 2 to line 3: an unbalanced"
    )


def test_a_large_stream_reports_it_on_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, [row(k) for k in range(20_000)] + window(20_000))
    assert Path(path).stat().st_size > 1 << 20  # large enough for the bulk reader
    pieces = list(stream_incidents([path], SH))
    assert [str(p) for _, found in pieces for p in found] == [swallowed(path, 20_003)]
