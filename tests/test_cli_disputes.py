"""`slacalc disputes` and `slacalc deadline` through the command line.

Working days are hand-counted from the State Council's announcements:
- National Day 2025: 1-8 Oct off; Sun 28 Sep and Sat 11 Oct worked.
- Spring Festival 2026: Sun 15 - Mon 23 Feb off; Sat 14 Feb and Sat 28 Feb worked.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from slacalc.cli import app

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "disputes.csv"
GOLDEN = Path(__file__).resolve().parent / "golden" / "disputes.csv"
SAMPLE_AS_OF = "2026-03-02T12:00:00+08:00"
HEADER = "dispute_id,customer_id,level,category,opened_at,due_at,escalation_at,resolved_at,status"


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACALC_TZ", "SLACALC_CALENDAR"):
        monkeypatch.delenv(name, raising=False)


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input)


def disputes_csv(tmp_path: Path, *rows: str, name: str = "disputes.csv") -> str:
    path = tmp_path / name
    path.write_text(
        "dispute_id,customer_id,level,opened_at,resolved_at\n"
        + "".join(row + "\n" for row in rows),
        encoding="utf-8",
    )
    return str(path)


def records(tmp_path: Path, *rows: str, opts: tuple[str, ...] = ()) -> list[dict[str, str]]:
    """Run `disputes` on ``rows`` as JSON and return its records."""
    result = run("disputes", disputes_csv(tmp_path, *rows), "-f", "json", *opts)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def one(tmp_path: Path, row: str, *opts: str) -> dict[str, str]:
    [record] = records(tmp_path, row, opts=opts)
    return record


# --- the sample, golden ----------------------------------------------------------------------


# Hand count of samples/disputes.csv at 2026-03-02 12:00 +08:00 (three of the rows):
# - DSP-2025-0420, level 3, opened Sun 28 Sep 2025 09:15 (a make-up workday, not counted):
#   1 Mon 29 Sep, 2 Tue 30, (1-8 Oct off), 3 Thu 9 Oct, 4 Fri 10, 5 Sat 11 (make-up),
#   6 Mon 13, 7 Tue 14, 8 Wed 15, 9 Thu 16, 10 Fri 17 -> due 2025-10-17 23:59:59;
#   escalates 28 Sep + 15 d = 13 Oct 09:15; resolved 20 Oct 17:00 > due -> resolved_late.
# - DSP-2026-0112, level 2, opened Thu 12 Feb 2026 11:00, unresolved:
#   1 Fri 13, 2 Sat 14 (make-up), (15-23 off), 3 Tue 24, 4 Wed 25, 5 Thu 26
#   -> due 2026-02-26 23:59:59; escalates 27 Feb 11:00 <= as-of -> escalated.
# - DSP-2026-0121, level 2, opened Fri 20 Feb 2026 15:00 (a holiday), unresolved:
#   1 Tue 24, 2 Wed 25, 3 Thu 26, 4 Fri 27, 5 Sat 28 (make-up) -> due 2026-02-28 23:59:59;
#   escalates 7 Mar 15:00; as-of 2 Mar is past due, before escalation -> overdue.
# - DSP-2026-0107, level 1, opened 2026-02-13T14:40Z = 22:40 +08:00 -> due 16 Feb 22:40
#   (72 h, holidays do not matter); resolved 16 Feb 10:15 -> resolved.
# - DSP-2026-0115, level 3, opened Tue 10 Feb 2026 16:00: 11, 12, 13, 14 (make-up), 24, 25,
#   26, 27, 28 (make-up), 2 Mar -> due 2026-03-02 23:59:59; resolved 27 Feb -> resolved
#   (after its escalation instant, but resolution in time wins).
def test_sample_csv_matches_golden() -> None:
    result = run("disputes", str(SAMPLE), "--as-of", SAMPLE_AS_OF, "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout == GOLDEN.read_text(encoding="utf-8")
    statuses = [line.rsplit(",", 1)[1] for line in result.stdout.splitlines()[1:]]
    assert sorted(set(statuses)) == ["escalated", "open", "overdue", "resolved", "resolved_late"]


def test_sample_json_has_numeric_levels_and_utf8() -> None:
    result = run("disputes", str(SAMPLE), "--as-of", SAMPLE_AS_OF, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data) == 10
    assert list(data[0]) == HEADER.split(",")
    assert {d["level"] for d in data} == {1, 2, 3}
    assert "Zürich Re 上海分公司" in result.stdout  # not \u-escaped


def test_sample_table_sorted_by_due_with_summary() -> None:
    result = run("disputes", str(SAMPLE), "--as-of", SAMPLE_AS_OF)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("Disputes at 2026-03-02 12:00:00 (Asia/Shanghai, CN calendar)")
    order = [line.split("│")[1].strip() for line in out.splitlines() if "│ DSP-" in line]
    assert order == [
        "DSP-2025-0412",
        "DSP-2025-0413",
        "DSP-2025-0420",
        "DSP-2025-0431",
        "DSP-2026-0107",
        "DSP-2026-0112",
        "DSP-2026-0121",
        "DSP-2026-0115",
        "DSP-2026-0140",
        "DSP-2026-0133",
    ]
    assert "北京云图科技有限公司" in out
    assert out.rstrip().endswith(
        "10 disputes: 5 resolved, 1 resolved_late, 2 open, 1 overdue, 1 escalated"
    )


def test_output_file_json(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    result = run("disputes", str(SAMPLE), "--as-of", SAMPLE_AS_OF, "-o", str(target))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    data = json.loads(target.read_text(encoding="utf-8"))
    assert [d["dispute_id"] for d in data][:2] == ["DSP-2025-0412", "DSP-2025-0413"]
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no temporary left behind


def test_standard_input() -> None:
    text = "dispute_id,level,opened_at\nD-1,1,2025-09-30 10:00\n"
    result = run("disputes", "-", "--as-of", SAMPLE_AS_OF, "-f", "csv", input=text)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1] == (
        "D-1,,1,sla_breach,2025-09-30T10:00:00+08:00,2025-10-03T10:00:00+08:00,"
        "2025-10-15T10:00:00+08:00,,escalated"
    )


# --- deadlines, hand-counted -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "opened", "due"),
    [
        # Tue 30 Sep: 1 Thu 9 Oct, 2 Fri 10, 3 Sat 11 (make-up), 4 Mon 13, 5 Tue 14.
        ("2", "2025-09-30 10:00", "2025-10-14T23:59:59+08:00"),
        # ... 6 Wed 15, 7 Thu 16, 8 Fri 17, 9 Mon 20, 10 Tue 21.
        ("3", "2025-09-30 10:00", "2025-10-21T23:59:59+08:00"),
        # Opened in the holiday, Fri 3 Oct: counting starts as from 30 Sep.
        ("data_loss", "2025-10-03 08:00", "2025-10-14T23:59:59+08:00"),
        # Opened on make-up Sat 11 Oct, which never counts: 13, 14, 15, 16, 17.
        ("2", "2025-10-11 14:05", "2025-10-17T23:59:59+08:00"),
        # Opened on make-up Sun 28 Sep: 29, 30, 9 Oct, 10, 11 (make-up).
        ("2", "2025-09-28 09:00", "2025-10-11T23:59:59+08:00"),
        # Thu 12 Feb 2026: 1 Fri 13, 2 Sat 14 (make-up), 3 Tue 24, 4 Wed 25, 5 Thu 26.
        ("2", "2026-02-12 11:00", "2026-02-26T23:59:59+08:00"),
        # Opened on make-up Sat 14 Feb 2026: 24, 25, 26, 27, 28 (make-up), 2, 3, 4, 5, 6 Mar.
        ("resource_allocation", "2026-02-14 16:30", "2026-03-06T23:59:59+08:00"),
        # Level 1 ignores the calendar: 72 h, straight through the Spring Festival.
        ("sla_breach", "2026-02-14 16:30", "2026-02-17T16:30:00+08:00"),
    ],
)
def test_hand_counted_deadlines(tmp_path: Path, level: str, opened: str, due: str) -> None:
    record = one(tmp_path, f"D,c,{level},{opened},", "--as-of", SAMPLE_AS_OF)
    assert record["due_at"] == due
    result = run("deadline", "--level", level, "--opened", opened, "-f", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["due_at"] == due


def test_calendar_none_is_monday_to_friday(tmp_path: Path) -> None:
    # Tue 30 Sep: Wed 1, Thu 2, Fri 3, Mon 6, Tue 7 Oct; the holidays do not exist.
    row = "D,c,2,2025-09-30 10:00,"
    assert one(tmp_path, row, "--calendar", "none")["due_at"] == "2025-10-07T23:59:59+08:00"
    assert one(tmp_path, row, "--calendar", "None")["due_at"] == "2025-10-07T23:59:59+08:00"


def test_calendar_from_environment(tmp_path: Path) -> None:
    path = disputes_csv(tmp_path, "D,c,2,2025-09-30 10:00,")
    result = CliRunner().invoke(
        app, ["disputes", path, "-f", "csv"], env={"SLACALC_CALENDAR": "none"}
    )
    assert result.exit_code == 0, result.output
    assert ",2025-10-07T23:59:59+08:00," in result.stdout


def test_holidays_file_overrides_the_calendar(tmp_path: Path) -> None:
    # A company day off on Mon 13 Oct and Sun 12 Oct worked instead: 9, 10, 11, 12, 14.
    overrides = tmp_path / "company.csv"
    overrides.write_text("date,kind\n2025-10-13,holiday\n2025-10-12,workday\n", encoding="utf-8")
    record = one(tmp_path, "D,c,2,2025-09-30 10:00,", "--holidays", str(overrides))
    assert record["due_at"] == "2025-10-14T23:59:59+08:00"
    record = one(tmp_path, "D,c,3,2025-09-30 10:00,", "--holidays", str(overrides))
    # 9, 10, 11, 12, 14, 15, 16, 17, 20, 21 -> same as without: one day swapped for another.
    assert record["due_at"] == "2025-10-21T23:59:59+08:00"
    overrides.write_text("date,kind\n2025-10-10,holiday\n", encoding="utf-8")
    record = one(tmp_path, "D,c,2,2025-09-30 10:00,", "--holidays", str(overrides))
    assert record["due_at"] == "2025-10-15T23:59:59+08:00"  # 9, 11, 13, 14, 15


def test_other_time_zone(tmp_path: Path) -> None:
    # 23:30 on Fri 3 Oct in Berlin; the working days are counted in Berlin's dates (CN calendar).
    record = one(tmp_path, "D,c,2,2025-10-03 23:30,", "--tz", "Europe/Berlin")
    assert record["opened_at"] == "2025-10-03T23:30:00+02:00"
    assert record["due_at"] == "2025-10-14T23:59:59+02:00"
    assert record["escalation_at"] == "2025-10-18T23:30:00+02:00"


# --- statuses at exact second boundaries -----------------------------------------------------

# Level 2 opened Tue 30 Sep 10:00: due 14 Oct 23:59:59, escalates 15 Oct 10:00:00.
OPEN_ROW = "D,c,2,2025-09-30 10:00,"


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2025-10-14T23:59:59+08:00", "open"),
        ("2025-10-14T23:59:59.999+08:00", "open"),
        ("2025-10-15T00:00:00+08:00", "overdue"),
        ("2025-10-15T09:59:59+08:00", "overdue"),
        ("2025-10-15T10:00:00+08:00", "escalated"),
        ("2025-10-15T02:00:00Z", "escalated"),  # the same instant in UTC
        ("2025-10-15T01:59:59Z", "overdue"),
    ],
)
def test_status_boundaries_unresolved(tmp_path: Path, as_of: str, expected: str) -> None:
    assert one(tmp_path, OPEN_ROW, "--as-of", as_of)["status"] == expected


@pytest.mark.parametrize(
    ("resolved", "expected"),
    [
        ("2025-10-14 23:59:59", "resolved"),
        ("2025-10-15 00:00:00", "resolved_late"),
        ("2025-10-30 00:00:00", "resolved_late"),
    ],
)
def test_status_boundaries_resolved(tmp_path: Path, resolved: str, expected: str) -> None:
    row = OPEN_ROW + resolved
    assert one(tmp_path, row, "--as-of", "2025-11-01")["status"] == expected


def test_resolution_after_as_of_is_not_yet_known(tmp_path: Path) -> None:
    row = OPEN_ROW + "2025-10-14 18:00"
    assert one(tmp_path, row, "--as-of", "2025-10-14 17:59:59")["status"] == "open"
    assert one(tmp_path, row, "--as-of", "2025-10-14 18:00")["status"] == "resolved"


# --- unconfirmed calendar years --------------------------------------------------------------


def test_warns_for_an_unconfirmed_year(tmp_path: Path) -> None:
    # Mon 28 Dec 2026, level 2: 29, 30, 31 Dec, then 2027 days the package only guesses.
    path = disputes_csv(tmp_path, "D1,c,2,2026-12-28 10:00,", "D2,c,3,2026-12-29 10:00,")
    result = run("disputes", path, "--as-of", SAMPLE_AS_OF, "-f", "csv")
    assert result.exit_code == 0, result.output
    warnings = result.stderr.splitlines()
    assert len(warnings) == 1  # once per year, not per dispute
    assert warnings[0].startswith("warning: the CN working-day calendar for 2027 is not confirmed")
    assert "--holidays FILE" in warnings[0]


def test_no_warning_when_a_holidays_file_covers_the_year(tmp_path: Path) -> None:
    overrides = tmp_path / "cn2027.csv"
    overrides.write_text("date,kind\n2027-01-01,holiday\n", encoding="utf-8")
    path = disputes_csv(tmp_path, "D1,c,2,2026-12-28 10:00,")
    result = run("disputes", path, "--holidays", str(overrides), "-f", "csv")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_no_warning_for_level_1_or_calendar_none(tmp_path: Path) -> None:
    path = disputes_csv(tmp_path, "D1,c,1,2027-03-01 10:00,")
    assert run("disputes", path, "-f", "csv").stderr == ""
    path = disputes_csv(tmp_path, "D1,c,2,2027-03-01 10:00,")
    assert run("disputes", path, "-f", "csv", "--calendar", "none").stderr == ""


def test_deadline_warns_too() -> None:
    result = run("deadline", "--level", "2", "--opened", "2026-12-28 10:00", "-f", "csv")
    assert result.exit_code == 0, result.output
    assert "calendar for 2027 is not confirmed" in result.stderr


# --- bad input, bad usage --------------------------------------------------------------------


def test_bad_rows_exit_1_with_file_and_line(tmp_path: Path) -> None:
    path = disputes_csv(
        tmp_path,
        "D1,c,2,2025-09-30 10:00,",
        "D1,c,4,2025-09-30 10:00,",
        "D3,c,1,30/09,",
        "D4,c,1,2025-10-01 10:00,2025-09-30 10:00",
    )
    target = tmp_path / "out.csv"
    result = run("disputes", path, "-o", str(target))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{path}:3: column 'dispute_id': duplicate dispute id (first on line 2) (value 'D1')",
        f"{path}:3: column 'level': unknown dispute level: expected 1, 2, 3 or one of "
        "sla_breach, data_loss, resource_allocation (value '4')",
        f"{path}:4: column 'opened_at': not a timestamp: expected ISO 8601 such as "
        "2025-05-14T07:57:01+08:00 (value '30/09')",
        f"{path}:5: column 'resolved_at': resolved before it was opened (opened_at "
        "'2025-10-01 10:00') (value '2025-09-30 10:00')",
        "4 problems found",
    ]
    assert not target.exists()


def test_missing_file_exits_1(tmp_path: Path) -> None:
    result = run("disputes", str(tmp_path / "nope.csv"))
    assert result.exit_code == 1
    assert result.stderr == f"{tmp_path / 'nope.csv'}: no such file\n1 problem found\n"


def test_bad_holidays_file_exits_1(tmp_path: Path) -> None:
    overrides = tmp_path / "h.csv"
    overrides.write_text("date,kind\n2025-10-13,vacation\n", encoding="utf-8")
    result = run("disputes", str(SAMPLE), "--holidays", str(overrides))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{overrides}:2: column 'kind':")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--tz", "Mars/Olympus"), "Error: unknown time zone 'Mars/Olympus'"),
        (("--calendar", "XX"), "Error: unknown calendar 'XX'"),
        (("--as-of", "soon"), "Error: --as-of 'soon': not a timestamp"),
        (("-o", "out.xlsx"), "Error: cannot tell the format of 'out.xlsx'"),
        (("--format", "xml"), "Invalid value for '--format'"),
        (("--bogus",), "No such option: --bogus"),
    ],
)
def test_disputes_bad_options_exit_2(args: tuple[str, ...], message: str) -> None:
    result = run("disputes", str(SAMPLE), *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--level", "4", "--opened", "2025-09-30"),
            "Error: --level '4': unknown dispute level: expected 1, 2, 3 or one of sla_breach, "
            "data_loss, resource_allocation",
        ),
        (("--level", "data loss", "--opened", "2025-09-30"), "Error: --level 'data loss'"),
        (("--level", "2", "--opened", "next tuesday"), "Error: --opened 'next tuesday':"),
        (("--level", "2", "--opened", "01/02/2025"), "ambiguous date"),
        (
            ("--level", "2", "--opened", "9999-12-30"),
            "Error: --opened '9999-12-30': out of the supported range (years 1900 to 2199)",
        ),
        (
            (
                "--level",
                "2",
            ),
            "Missing option '--opened'",
        ),
        (("--opened", "2025-09-30"), "Missing option '--level'"),
    ],
)
def test_deadline_bad_options_exit_2(args: tuple[str, ...], message: str) -> None:
    result = run("deadline", *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert result.stdout == ""


# --- CSV formula injection -------------------------------------------------------------------


def test_csv_guards_formulas_unless_raw(tmp_path: Path) -> None:
    path = disputes_csv(tmp_path, '=HYPERLINK("http://x"),@acme,1,2025-09-30 10:00,')
    result = run("disputes", path, "-f", "csv", "--as-of", SAMPLE_AS_OF)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1].startswith('"\'=HYPERLINK(""http://x"")",\'@acme,1,')
    result = run("disputes", path, "-f", "csv", "--as-of", SAMPLE_AS_OF, "--raw-csv")
    assert result.stdout.splitlines()[1].startswith('"=HYPERLINK(""http://x"")",@acme,1,')


def test_table_does_not_interpret_markup(tmp_path: Path) -> None:
    path = disputes_csv(tmp_path, "[bold]D1[/bold],[red]acme,1,2025-09-30 10:00,")
    result = run("disputes", path, "--as-of", SAMPLE_AS_OF)
    assert result.exit_code == 0, result.output
    assert "[bold]D1[/bold]" in result.stdout
    assert "[red]acme" in result.stdout


def test_empty_file_has_a_header_only(tmp_path: Path) -> None:
    path = disputes_csv(tmp_path)
    assert run("disputes", path, "-f", "csv").stdout == HEADER + "\n"
    assert run("disputes", path, "-f", "json").stdout == "[]\n"
    assert run("disputes", path).stdout.rstrip().endswith("0 disputes")


# --- `slacalc deadline` ----------------------------------------------------------------------


def test_deadline_table_lists_the_working_days() -> None:
    result = run("deadline", "--level", "2", "--opened", "2025-09-30T10:00:00+08:00")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    lines = [" ".join(line.strip("│ ").split()) for line in result.stdout.splitlines()]
    assert "level │ 2" in lines
    assert "category │ data_loss" in lines
    assert "opened_at │ 2025-09-30T10:00:00+08:00" in lines
    assert "due_at │ 2025-10-14T23:59:59+08:00" in lines
    assert "escalation_at │ 2025-10-15T10:00:00+08:00" in lines
    assert (
        "counted │ 5 working days (CN calendar): 2025-10-09, 10-10, 10-11 (make-up Saturday), "
        "10-13, 10-14"
    ) in lines


def test_deadline_table_across_a_year_and_for_level_1() -> None:
    result = run(
        "deadline",
        "--level",
        "2",
        "--opened",
        "2026-12-30 09:00",
        "--holidays",
        "-",
        input="date,kind\n2027-01-01,holiday\n",
    )
    assert result.exit_code == 0, result.output
    assert "2026-12-31, 2027-01-04, 01-05, 01-06, 01-07" in result.stdout
    result = run("deadline", "--level", "sla_breach", "--opened", "2026-02-14 16:30")
    assert "72 hours after opening" in result.stdout
    assert "due_at        │ 2026-02-17T16:30:00+08:00" in result.stdout


def test_deadline_csv_and_json() -> None:
    args = ("deadline", "--level", "resource_allocation", "--opened", "2026-02-12 11:00")
    result = run(*args, "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "level,category,opened_at,due_at,escalation_at,working_days_counted,working_days,"
        "make_up_days\n"
        "3,resource_allocation,2026-02-12T11:00:00+08:00,2026-03-04T23:59:59+08:00,"
        "2026-02-27T11:00:00+08:00,10,2026-02-13 2026-02-14 2026-02-24 2026-02-25 2026-02-26 "
        "2026-02-27 2026-02-28 2026-03-02 2026-03-03 2026-03-04,2026-02-14 2026-02-28\n"
    )
    data = json.loads(run(*args, "-f", "json").stdout)
    assert data == [
        {
            "level": 3,
            "category": "resource_allocation",
            "opened_at": "2026-02-12T11:00:00+08:00",
            "due_at": "2026-03-04T23:59:59+08:00",
            "escalation_at": "2026-02-27T11:00:00+08:00",
            "working_days_counted": 10,
            "working_days": [
                "2026-02-13",
                "2026-02-14",
                "2026-02-24",
                "2026-02-25",
                "2026-02-26",
                "2026-02-27",
                "2026-02-28",
                "2026-03-02",
                "2026-03-03",
                "2026-03-04",
            ],
            "make_up_days": ["2026-02-14", "2026-02-28"],
        }
    ]


def test_deadline_output_file(tmp_path: Path) -> None:
    target = tmp_path / "deadline.json"
    result = run("deadline", "-l", "1", "--opened", "2025-09-30 10:00", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text())[0]["due_at"] == "2025-10-03T10:00:00+08:00"


@pytest.mark.parametrize("command", ["disputes", "deadline"])
def test_help_has_an_example(command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0
    assert f"Example: slacalc {command}" in result.stdout
