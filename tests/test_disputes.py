"""Dispute levels, deadlines and statuses."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from slacalc.dates.workdays import WorkCalendar
from slacalc.terms.deadlines import (
    DisputeLevel,
    DisputeResult,
    DisputeStatus,
    calendar_years,
    compute_dispute,
    due_at,
    escalation_at,
    parse_level,
    status,
)

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")


@pytest.fixture(scope="module")
def cn() -> WorkCalendar:
    return WorkCalendar.create("CN")


def iso(dt: datetime) -> str:
    return dt.isoformat(timespec="seconds")


# --- levels ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("1", DisputeLevel.SLA_BREACH),
        (" 2 ", DisputeLevel.DATA_LOSS),
        (3, DisputeLevel.RESOURCE_ALLOCATION),
        ("sla_breach", DisputeLevel.SLA_BREACH),
        (" Data_Loss ", DisputeLevel.DATA_LOSS),
        ("RESOURCE_ALLOCATION", DisputeLevel.RESOURCE_ALLOCATION),
    ],
)
def test_parse_level(text: str | int, level: DisputeLevel) -> None:
    assert parse_level(text) is level


@pytest.mark.parametrize("text", ["", "0", "4", "data loss", "outage", "2.0"])
def test_parse_level_refuses(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_level(text)
    assert str(info.value) == (
        "unknown dispute level: expected 1, 2, 3 or one of sla_breach, data_loss, "
        "resource_allocation"
    )


def test_categories() -> None:
    assert [lvl.category for lvl in DisputeLevel] == [
        "sla_breach",
        "data_loss",
        "resource_allocation",
    ]


# --- deadlines -------------------------------------------------------------------------------

OPENED = datetime(2025, 9, 30, 10, 0, tzinfo=SH)


def test_level_1_is_72_hours(cn: WorkCalendar) -> None:
    assert iso(due_at(1, OPENED, cn, SH)) == "2025-10-03T10:00:00+08:00"  # holidays don't matter


def test_level_2_over_national_day(cn: WorkCalendar) -> None:
    # Tue 30 Sep is the opening day. Oct 1-8 off. 1: Thu 9, 2: Fri 10, 3: Sat 11 (make-up),
    # Sun 12 off, 4: Mon 13, 5: Tue 14.
    assert iso(due_at(2, OPENED, cn, SH)) == "2025-10-14T23:59:59+08:00"


def test_level_3_over_national_day(cn: WorkCalendar) -> None:
    # ... 6: Wed 15, 7: Thu 16, 8: Fri 17, Sat 18 and Sun 19 off, 9: Mon 20, 10: Tue 21.
    assert iso(due_at(3, OPENED, cn, SH)) == "2025-10-21T23:59:59+08:00"


def test_opened_on_a_make_up_day_does_not_count_it(cn: WorkCalendar) -> None:
    # Opened Sun 28 Sep 2025, a worked day: 1: Mon 29, 2: Tue 30, 3: Thu 9 Oct, 4: Fri 10,
    # 5: Sat 11 (make-up).
    opened = datetime(2025, 9, 28, 9, 0, tzinfo=SH)
    assert iso(due_at(2, opened, cn, SH)) == "2025-10-11T23:59:59+08:00"
    # Opened Sat 14 Feb 2026 (make-up): Feb 15-23 off; 24, 25, 26, 27, Sat 28 (make-up).
    opened = datetime(2026, 2, 14, 16, 30, tzinfo=SH)
    assert iso(due_at(2, opened, cn, SH)) == "2026-02-28T23:59:59+08:00"


def test_opening_day_is_the_local_date(cn: WorkCalendar) -> None:
    # 17:00 UTC on 30 Sep is 01:00 on 1 Oct in Shanghai: the opening day is 1 Oct, a holiday,
    # and the count is the same as from 30 Sep.
    opened = datetime(2025, 9, 30, 17, 0, tzinfo=UTC)
    due = due_at(2, opened, cn, SH)
    assert iso(due) == "2025-10-14T23:59:59+08:00"
    # 15:00 UTC on 9 Oct is 23:00 local on the 9th: the 9th is the opening day, not counted:
    # 1: Fri 10, 2: Sat 11 (make-up), 3: Mon 13, 4: Tue 14, 5: Wed 15.
    assert iso(due_at(2, datetime(2025, 10, 9, 15, 0, tzinfo=UTC), cn, SH)) == (
        "2025-10-15T23:59:59+08:00"
    )
    # 16:00 UTC on 9 Oct is already the 10th in Shanghai: one working day later.
    assert iso(due_at(2, datetime(2025, 10, 9, 16, 0, tzinfo=UTC), cn, SH)) == (
        "2025-10-16T23:59:59+08:00"
    )


def test_working_days_with_the_none_calendar() -> None:
    cal = WorkCalendar.create("none")
    assert iso(due_at(2, OPENED, cal, SH)) == "2025-10-07T23:59:59+08:00"


def test_escalation_is_15_days_later() -> None:
    assert iso(escalation_at(OPENED, SH)) == "2025-10-15T10:00:00+08:00"


def test_level_1_across_dst_is_72_elapsed_hours(cn: WorkCalendar) -> None:
    # New York springs forward on Sun 9 Mar 2025: 72 h after Sat 12:00 EST is Tue 13:00 EDT.
    opened = datetime(2025, 3, 8, 12, 0, tzinfo=NY)
    due = due_at(1, opened, cn, NY)
    assert iso(due) == "2025-03-11T13:00:00-04:00"
    assert due.astimezone(UTC) - opened.astimezone(UTC) == timedelta(hours=72)
    # And falls back on Sun 2 Nov 2025: Sat 12:00 EDT + 72 h is Tue 11:00 EST.
    opened = datetime(2025, 11, 1, 12, 0, tzinfo=NY)
    assert iso(due_at(1, opened, cn, NY)) == "2025-11-04T11:00:00-05:00"


def test_escalation_across_dst_keeps_the_wall_clock() -> None:
    opened = datetime(2025, 3, 1, 10, 0, tzinfo=NY)
    escalation = escalation_at(opened, NY)
    assert iso(escalation) == "2025-03-16T10:00:00-04:00"
    # Python subtracts same-zone datetimes by wall clock: compare in UTC.
    assert escalation.astimezone(UTC) - opened.astimezone(UTC) == timedelta(hours=15 * 24 - 1)


def test_escalation_into_a_dst_gap_or_overlap() -> None:
    # 02:30 on 9 Mar 2025 does not exist in New York: moved forward by the gap.
    assert iso(escalation_at(datetime(2025, 2, 22, 2, 30, tzinfo=NY), NY)) == (
        "2025-03-09T03:30:00-04:00"
    )
    # 01:30 on 2 Nov 2025 happens twice: the first one (EDT).
    assert iso(escalation_at(datetime(2025, 10, 18, 1, 30, tzinfo=NY), NY)) == (
        "2025-11-02T01:30:00-04:00"
    )


def test_naive_datetimes_are_refused(cn: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="opened_at must carry a time zone"):
        due_at(1, datetime(2025, 9, 30, 10), cn, SH)


# --- which years a deadline depended on ------------------------------------------------------


def test_calendar_years() -> None:
    assert calendar_years(1, OPENED, OPENED + timedelta(hours=72)) == set()
    due = datetime(2027, 1, 8, 23, 59, 59, tzinfo=SH)
    assert calendar_years(2, datetime(2026, 12, 30, 9, tzinfo=SH), due) == {2026, 2027}
    # Opened on 31 Dec: the first day counted is already in the next year.
    assert calendar_years(2, datetime(2026, 12, 31, 9, tzinfo=SH), due) == {2027}


def test_unconfirmed_year_from_a_result(cn: WorkCalendar) -> None:
    as_of = datetime(2026, 12, 31, tzinfo=SH)
    result = compute_dispute(
        "D1", "C1", 3, datetime(2026, 12, 28, 9, tzinfo=SH), None, calendar=cn, tz=SH, as_of=as_of
    )
    assert cn.unconfirmed_years(result.calendar_years) == [2027]
    confirmed = WorkCalendar.create("CN", {result.due_at.date(): True})
    assert confirmed.unconfirmed_years(result.calendar_years) == []


# --- status ----------------------------------------------------------------------------------

DUE = datetime(2025, 10, 14, 23, 59, 59, tzinfo=SH)
ESC = datetime(2025, 10, 15, 10, 0, 0, tzinfo=SH)
SECOND = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (DUE - SECOND, "open"),
        (DUE, "open"),
        (DUE + timedelta(microseconds=999_999), "open"),  # still within the due second
        (DUE + SECOND, "overdue"),
        (ESC - SECOND, "overdue"),
        (ESC, "escalated"),
        (ESC + timedelta(days=30), "escalated"),
    ],
)
def test_status_unresolved(as_of: datetime, expected: str) -> None:
    assert status(DUE, ESC, None, as_of) == expected


@pytest.mark.parametrize(
    ("resolved", "expected"),
    [
        (DUE - SECOND, "resolved"),
        (DUE, "resolved"),
        (DUE + SECOND, "resolved_late"),
        (ESC + SECOND, "resolved_late"),
    ],
)
def test_status_resolved(resolved: datetime, expected: str) -> None:
    assert status(DUE, ESC, resolved, ESC + timedelta(days=1)) == expected


def test_escalated_can_come_before_due() -> None:
    # A level-3 deadline can lie past the 15-day escalation: unresolved, it escalates anyway.
    due = datetime(2025, 10, 21, 23, 59, 59, tzinfo=SH)
    assert status(due, ESC, None, ESC) == "escalated"


def test_resolution_after_as_of_has_not_happened_yet() -> None:
    assert status(DUE, ESC, DUE, DUE - SECOND) == "open"
    assert status(DUE, ESC, ESC + SECOND, ESC) == "escalated"
    assert status(DUE, ESC, DUE, DUE) == "resolved"


def test_status_compares_instants_not_wall_clocks() -> None:
    assert status(DUE, ESC, None, DUE.astimezone(UTC) + SECOND) == "overdue"


# --- results ---------------------------------------------------------------------------------


def test_compute_dispute_and_to_dict(cn: WorkCalendar) -> None:
    result = compute_dispute(
        "D-7",
        "ACME",
        "data_loss",
        datetime(2025, 9, 30, 2, 0, tzinfo=UTC),
        datetime(2025, 10, 14, 16, 0, 0, 500_000, tzinfo=UTC),
        calendar=cn,
        tz=SH,
        as_of=datetime(2025, 11, 1, tzinfo=SH),
        line=4,
    )
    assert result.status == DisputeStatus.RESOLVED_LATE
    assert result.line == 4
    assert result.to_dict() == {
        "dispute_id": "D-7",
        "customer_id": "ACME",
        "level": 2,
        "category": "data_loss",
        "opened_at": "2025-09-30T10:00:00+08:00",
        "due_at": "2025-10-14T23:59:59+08:00",
        "escalation_at": "2025-10-15T10:00:00+08:00",
        "resolved_at": "2025-10-15T00:00:00+08:00",
        "status": "resolved_late",
    }
    assert list(result.to_dict()) == [f.name for f in fields(DisputeResult)][:-1]


def test_compute_unresolved_dispute(cn: WorkCalendar) -> None:
    result = compute_dispute(
        "D-8", "", 1, OPENED, None, calendar=cn, tz=SH, as_of=datetime(2025, 10, 5, tzinfo=SH)
    )
    row = result.to_dict()
    assert (row["level"], row["category"], row["resolved_at"], row["status"]) == (
        1,
        "sla_breach",
        None,  # null in JSON, empty in CSV
        "overdue",
    )
    assert row["due_at"] == "2025-10-03T10:00:00+08:00"
    assert result.calendar_years == set()


def test_resolved_before_opened_is_refused(cn: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="resolved_at is before opened_at"):
        compute_dispute("D-9", "", 2, OPENED, OPENED - SECOND, calendar=cn, tz=SH, as_of=OPENED)
