"""Reading the disputes file, computing it, and the one-off deadline with its working days."""

from __future__ import annotations

import io
import sys
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from slacalc.computing.disputes import (
    DEADLINE_FIELDS,
    FIELDS,
    calendar_years_of,
    compute_deadline,
    compute_disputes,
    weekend_days,
)
from slacalc.dates.workdays import WorkCalendar
from slacalc.errors import InputError
from slacalc.reading.disputes import read_disputes
from slacalc.terms.deadlines import DisputeLevel, compute_dispute

SH = ZoneInfo("Asia/Shanghai")
AS_OF = datetime(2026, 3, 2, 12, 0, tzinfo=SH)


@pytest.fixture(scope="module")
def cn() -> WorkCalendar:
    return WorkCalendar.create("CN")


def write(tmp_path: Path, text: str, name: str = "disputes.csv") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return str(path)


def problems(path: str) -> list[str]:
    with pytest.raises(InputError) as info:
        read_disputes(path, SH)
    return [str(p) for p in info.value.problems]


# --- reading ---------------------------------------------------------------------------------


def test_reads_rows_in_file_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "\ufeff Dispute_ID ,LEVEL,Opened_At,Resolved_At,Customer_ID,notes\r\n"
        "D-1,data_loss,2025-09-30 10:00,2025-10-13T18:30:00+08:00, acme ,x\r\n"
        "D-2, 3 ,2025-09-30T02:00:00Z,,,\r\n"
        "\r\n"
        "D-3,Sla_Breach,2025-10-11 14:05,,Zürich Re 上海,\r\n",
    )
    rows = read_disputes(path, SH)
    assert [(r.dispute_id, r.customer_id, r.level, r.line) for r in rows] == [
        ("D-1", "acme", DisputeLevel.DATA_LOSS, 2),
        ("D-2", "", DisputeLevel.RESOURCE_ALLOCATION, 3),
        ("D-3", "Zürich Re 上海", DisputeLevel.SLA_BREACH, 5),  # the blank line 4 is skipped
    ]
    assert rows[0].opened_at == datetime(2025, 9, 30, 10, tzinfo=SH)  # naive: billing zone
    assert rows[0].resolved_at == datetime(2025, 10, 13, 18, 30, tzinfo=SH)
    assert rows[1].opened_at == datetime(2025, 9, 30, 10, tzinfo=SH)  # same instant
    assert rows[1].resolved_at is None
    assert rows[0].source == path


def test_customer_column_is_optional(tmp_path: Path) -> None:
    path = write(tmp_path, "dispute_id,level,opened_at\nD-1,1,2025-09-30 10:00\n")
    [row] = read_disputes(path, SH)
    assert (row.customer_id, row.resolved_at) == ("", None)


def test_reads_standard_input(monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"dispute_id,level,opened_at\nD-1,2,2025-09-30 10:00\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    [row] = read_disputes("-", SH)
    assert (row.dispute_id, row.source) == ("D-1", "<stdin>")


def test_missing_required_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "id,level,opened\nD-1,1,2025-09-30\n")
    assert problems(path) == [
        f"{path}:1: missing required column 'dispute_id', 'opened_at' (header has: 'id', "
        "'level', 'opened')"
    ]


def test_every_bad_cell_is_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "dispute_id,customer_id,level,opened_at,resolved_at\n"
        "D-1,acme,2,2025-09-30 10:00,\n"  # 2: fine
        ",acme,2,2025-09-30 10:00,\n"  # 3: no id
        "D-1,acme,data loss,2025-09-30 10:00,\n"  # 4: duplicate id and bad level
        "D-4,acme,,,\n"  # 5: empty level and opened_at
        "D-5,acme,1,yesterday,2025-13-01\n"  # 6: two bad timestamps
        "D-6,acme,1,2025-10-01 10:00,2025-10-01 09:59:59\n"  # 7: resolved before opened
        "D-7,acme,1,2025-10-01 10:00,,surplus\n"  # 8: one cell too many
        "D-8,acme,1,2025-10-01 10:00,2025-10-01 10:00\n",  # 9: resolved at once: fine
    )
    levels = "1, 2, 3 or one of sla_breach, data_loss, resource_allocation"
    assert problems(path) == [
        f"{path}:3: column 'dispute_id': empty; every dispute needs an id",
        f"{path}:4: column 'dispute_id': duplicate dispute id (first on line 2) (value 'D-1')",
        f"{path}:4: column 'level': unknown dispute level: expected {levels} (value 'data loss')",
        f"{path}:5: column 'level': empty; expected {levels}",
        f"{path}:5: column 'opened_at': empty; expected a timestamp such as "
        "2025-09-30T10:00:00+08:00",
        f"{path}:6: column 'opened_at': not a timestamp: expected ISO 8601 such as "
        "2025-05-14T07:57:01+08:00 (value 'yesterday')",
        f"{path}:6: column 'resolved_at': not a timestamp: expected ISO 8601 such as "
        "2025-05-14T07:57:01+08:00 (value '2025-13-01')",
        f"{path}:7: column 'resolved_at': resolved before it was opened (opened_at "
        "'2025-10-01 10:00') (value '2025-10-01 09:59:59')",
        f"{path}:8: row has 6 cells but the header has 5",
    ]


def test_a_bad_first_row_does_not_claim_its_id(tmp_path: Path) -> None:
    # The id of a row with other problems still counts as seen: a second row with the same id
    # is a duplicate the user must fix too.
    path = write(tmp_path, "dispute_id,level,opened_at\nD-1,9,2025-10-01\nD-1,1,2025-10-01\n")
    assert problems(path) == [
        f"{path}:2: column 'level': unknown dispute level: expected 1, 2, 3 or one of "
        "sla_breach, data_loss, resource_allocation (value '9')",
        f"{path}:3: column 'dispute_id': duplicate dispute id (first on line 2) (value 'D-1')",
    ]


def test_line_numbers_follow_multi_line_cells(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "dispute_id,customer_id,level,opened_at,subject\n"
        'D-1,acme,1,2025-10-01,"API errors\nthen timeouts"\nD-2,x,7,2025-10-01,\n',
    )
    assert problems(path)[0].startswith(f"{path}:4: column 'level'")


def test_missing_file_and_empty_file(tmp_path: Path) -> None:
    assert problems(str(tmp_path / "nope.csv")) == [f"{tmp_path / 'nope.csv'}: no such file"]
    path = write(tmp_path, "")
    assert problems(path)[0].startswith(f"{path}: empty file")


# --- computing -------------------------------------------------------------------------------


def test_compute_disputes_keeps_order_and_lines(tmp_path: Path, cn: WorkCalendar) -> None:
    path = write(
        tmp_path,
        "dispute_id,level,opened_at,resolved_at\nB,3,2026-02-13 09:30,\nA,1,2026-03-01 20:00,\n",
    )
    results = compute_disputes(read_disputes(path, SH), calendar=cn, tz=SH, as_of=AS_OF)
    assert [(r.dispute_id, r.line, r.status) for r in results] == [
        ("B", 2, "escalated"),  # escalates 28 Feb 09:30, before its due date 5 Mar
        ("A", 3, "open"),
    ]
    assert results[0].to_dict()["due_at"] == "2026-03-05T23:59:59+08:00"
    assert calendar_years_of(results) == {2026}


def test_a_date_past_the_supported_years_is_a_row_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "dispute_id,level,opened_at\nD-1,1,2025-10-01\nD-2,2,9999-12-30\n")
    with pytest.raises(InputError) as info:
        read_disputes(path, SH)
    assert [str(p) for p in info.value.problems] == [
        f"{path}:3: column 'opened_at': out of the supported range (years 1900 to 2199) "
        "(value '9999-12-30')"
    ]


def test_a_calendar_without_working_days_is_a_row_problem(tmp_path: Path) -> None:
    # a holidays file that turns every day of five years off: no deadline can be found
    from datetime import date, timedelta

    off = {date(2026, 1, 1) + timedelta(days=i): False for i in range(6 * 366)}
    cal = WorkCalendar.create("none", off)
    path = write(tmp_path, "dispute_id,level,opened_at\nD-1,2,2026-01-01\n")
    with pytest.raises(InputError) as info:
        compute_disputes(read_disputes(path, SH), calendar=cal, tz=SH, as_of=AS_OF)
    assert "no deadline can be computed: no working day in the" in str(info.value.problems[0])


def test_fields_are_the_result_records_keys(cn: WorkCalendar) -> None:
    result = compute_dispute(
        "D", "", 1, datetime(2025, 10, 1, tzinfo=SH), None, calendar=cn, tz=SH, as_of=AS_OF
    )
    assert tuple(result.to_dict()) == FIELDS
    deadline = compute_deadline(1, datetime(2025, 10, 1, tzinfo=SH), calendar=cn, tz=SH)
    assert tuple(deadline.to_dict()) == DEADLINE_FIELDS


# --- one deadline and its working days -------------------------------------------------------


def test_working_days_after(cn: WorkCalendar) -> None:
    days = cn.working_days_after(date(2025, 9, 30), 5)
    assert [d.isoformat() for d in days] == [
        "2025-10-09",
        "2025-10-10",
        "2025-10-11",
        "2025-10-13",
        "2025-10-14",
    ]
    assert days[-1] == cn.add_working_days(date(2025, 9, 30), 5)
    with pytest.raises(ValueError):
        cn.working_days_after(date(2025, 9, 30), 0)


def test_deadline_over_spring_festival(cn: WorkCalendar) -> None:
    # Opened Thu 12 Feb 2026: 1 Fri 13, 2 Sat 14 (make-up), Sun 15 - Mon 23 off, 3 Tue 24,
    # 4 Wed 25, 5 Thu 26, 6 Fri 27, 7 Sat 28 (make-up), Sun 1 Mar off, 8 Mon 2, 9 Tue 3, 10 Wed 4.
    result = compute_deadline(
        "resource_allocation", datetime(2026, 2, 12, 11, tzinfo=SH), calendar=cn, tz=SH
    )
    assert result.to_dict() == {
        "level": 3,
        "category": "resource_allocation",
        "opened_at": "2026-02-12T11:00:00+08:00",
        "due_at": "2026-03-04T23:59:59+08:00",
        "escalation_at": "2026-02-27T11:00:00+08:00",
        "working_days_counted": 10,
        "working_days": "2026-02-13 2026-02-14 2026-02-24 2026-02-25 2026-02-26 2026-02-27 "
        "2026-02-28 2026-03-02 2026-03-03 2026-03-04",
        "make_up_days": "2026-02-14 2026-02-28",
    }
    assert [d.day for d in result.working_days] == [13, 14, 24, 25, 26, 27, 28, 2, 3, 4]
    assert result.make_up_days == {date(2026, 2, 14), date(2026, 2, 28)}
    assert result.calendar_years == {2026}


def test_level_1_deadline_counts_no_days(cn: WorkCalendar) -> None:
    result = compute_deadline(1, datetime(2025, 9, 30, 10, tzinfo=SH), calendar=cn, tz=SH)
    assert result.to_dict()["due_at"] == "2025-10-03T10:00:00+08:00"
    assert (result.working_days, result.make_up_days, result.calendar_years) == ((), set(), set())


def test_a_workday_override_on_a_weekend_is_a_make_up_day() -> None:
    cal = WorkCalendar.create("none", {date(2025, 10, 4): True})  # a Saturday
    result = compute_deadline(2, datetime(2025, 10, 3, 9, tzinfo=SH), calendar=cal, tz=SH)
    assert [d.day for d in result.working_days] == [4, 6, 7, 8, 9]
    assert result.make_up_days == {date(2025, 10, 4)}


def test_weekend_days() -> None:
    assert weekend_days(WorkCalendar.create("none")) == {5, 6}
    assert weekend_days(WorkCalendar.create("CN")) == {5, 6}
    assert weekend_days(WorkCalendar.create("SA")) == {4, 5}  # Friday-Saturday
