"""Dispute levels and their settlement deadlines, from the service-policy document.

1. SLA breach: settled within 72 hours (elapsed time).
2. Data loss: within 5 working days after the opening day.
3. Resource allocation: within 10 working days after the opening day.

Unresolved 15 calendar days after opening, any dispute escalates. Pure functions: reading the
disputes file and printing belong elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from enum import IntEnum, StrEnum
from typing import Any

from slacalc.dates.instants import US_PER_SECOND, from_us, to_us
from slacalc.dates.workdays import WorkCalendar

ESCALATION_DAYS = 15
_END_OF_DAY = time(23, 59, 59)


class DisputeLevel(IntEnum):
    """A dispute's level; its ``category`` is the name used in files (``data_loss``)."""

    SLA_BREACH = 1
    DATA_LOSS = 2
    RESOURCE_ALLOCATION = 3

    @property
    def category(self) -> str:
        """The level's name as written in input and output files."""
        return self.name.lower()

    @property
    def working_days(self) -> int | None:
        """Working days allowed after the opening day, or None for the 72-hour level."""
        return _WORKING_DAYS.get(self)


_WORKING_DAYS = {DisputeLevel.DATA_LOSS: 5, DisputeLevel.RESOURCE_ALLOCATION: 10}


class DisputeStatus(StrEnum):
    """Where a dispute stands at the ``as_of`` instant."""

    RESOLVED = "resolved"
    RESOLVED_LATE = "resolved_late"
    OPEN = "open"
    OVERDUE = "overdue"
    ESCALATED = "escalated"


def parse_level(text: str | int) -> DisputeLevel:
    """A level from ``1``/``2``/``3`` or its category name, any case, surrounding spaces ignored.

    >>> parse_level(" Data_Loss ")
    <DisputeLevel.DATA_LOSS: 2>
    """
    cleaned = str(text).strip()
    if cleaned in {"1", "2", "3"}:
        return DisputeLevel(int(cleaned))
    try:
        return DisputeLevel[cleaned.upper()]
    except KeyError:
        names = ", ".join(level.category for level in DisputeLevel)
        raise ValueError(f"unknown dispute level: expected 1, 2, 3 or one of {names}") from None


def due_at(
    level: DisputeLevel | int, opened_at: datetime, calendar: WorkCalendar, tz: tzinfo
) -> datetime:
    """When a dispute must be settled, as an aware datetime in ``tz``.

    Level 1: exactly 72 elapsed hours after ``opened_at`` (across a DST change the wall clock
    moves 71 or 73 hours). Levels 2 and 3: 23:59:59 local time of the 5th / 10th working day
    after the opening day, the local date of ``opened_at`` in ``tz``; that day never counts.

    >>> from zoneinfo import ZoneInfo
    >>> sh = ZoneInfo("Asia/Shanghai")
    >>> due_at(2, datetime(2025, 9, 30, 10, tzinfo=sh), WorkCalendar.create("CN"), sh).isoformat()
    '2025-10-14T23:59:59+08:00'
    """
    _require_aware(opened_at, "opened_at")
    level = DisputeLevel(level)
    days = level.working_days
    if days is None:
        return from_us(level1_due(to_us(opened_at)), tz)
    last_day = calendar.add_working_days(opened_at.astimezone(tz).date(), days)
    return _local(datetime.combine(last_day, _END_OF_DAY), tz)


def escalation_at(opened_at: datetime, tz: tzinfo) -> datetime:
    """When an unresolved dispute escalates: the same local wall-clock time 15 days later.

    "15 days" is read as calendar days, the way a support lead counts them (opened 1 March
    10:00, escalates 16 March 10:00), not as 360 elapsed hours; the two differ by an hour
    across a DST change. A wall time that does not exist that day (the spring-forward gap) is
    moved forward by the gap; one that occurs twice (fall-back) is its first occurrence.
    """
    _require_aware(opened_at, "opened_at")
    local = opened_at.astimezone(tz).replace(tzinfo=None)
    return _local(local + timedelta(days=ESCALATION_DAYS), tz)


def calendar_years(level: DisputeLevel | int, opened_at: datetime, due: datetime) -> set[int]:
    """The years whose working days a deadline depended on (none for the 72-hour level).

    The days counted run from the day after the opening day to the due day, in ``due``'s
    zone. Pass the result to :meth:`WorkCalendar.unconfirmed_years` to warn about guesses.
    """
    if DisputeLevel(level).working_days is None:
        return set()
    first = opened_at.astimezone(due.tzinfo).date() + timedelta(days=1)
    return set(range(first.year, due.date().year + 1))


def status(
    due: datetime, escalation: datetime, resolved_at: datetime | None, as_of: datetime
) -> DisputeStatus:
    """Where a dispute stands at ``as_of``.

    Resolved: ``resolved`` on or before ``due``, else ``resolved_late``. Unresolved:
    ``escalated`` at or after ``escalation``, ``overdue`` after ``due``, else ``open``.
    Instants are compared to the whole second (fractions dropped), the precision of the
    output: a deadline of 23:59:59 holds through that whole second. A resolution after
    ``as_of`` has not happened yet at ``as_of``, so the dispute counts as unresolved then;
    this lets a past ``as_of`` reproduce the status as it was.
    """
    as_of = _second(as_of)
    if resolved_at is not None and _second(resolved_at) <= as_of:
        return (
            DisputeStatus.RESOLVED
            if _second(resolved_at) <= _second(due)
            else (DisputeStatus.RESOLVED_LATE)
        )
    if as_of >= _second(escalation):
        return DisputeStatus.ESCALATED
    if as_of > _second(due):
        return DisputeStatus.OVERDUE
    return DisputeStatus.OPEN


@dataclass(frozen=True)
class DisputeResult:
    """One dispute with its deadlines and status; datetimes are aware, in the billing zone."""

    dispute_id: str
    customer_id: str
    level: int
    category: str
    opened_at: datetime
    due_at: datetime
    escalation_at: datetime
    resolved_at: datetime | None
    status: str
    line: int | None = None  # the input file's line, for messages; not exported

    @property
    def calendar_years(self) -> set[int]:
        """The years whose working days :attr:`due_at` depended on."""
        return calendar_years(self.level, self.opened_at, self.due_at)

    def to_dict(self) -> dict[str, Any]:
        """The output record: the spec's fields in order, datetimes as ISO 8601 to the second,
        no resolution None (empty in CSV, null in JSON)."""
        return {
            "dispute_id": self.dispute_id,
            "customer_id": self.customer_id,
            "level": int(self.level),
            "category": self.category,
            "opened_at": _iso(self.opened_at),
            "due_at": _iso(self.due_at),
            "escalation_at": _iso(self.escalation_at),
            "resolved_at": None if self.resolved_at is None else _iso(self.resolved_at),
            "status": str(self.status),
        }


def compute_dispute(
    dispute_id: str,
    customer_id: str,
    level: DisputeLevel | int | str,
    opened_at: datetime,
    resolved_at: datetime | None,
    *,
    calendar: WorkCalendar,
    tz: tzinfo,
    as_of: datetime,
    line: int | None = None,
) -> DisputeResult:
    """Deadlines and status of one dispute; ``opened_at``/``resolved_at`` are shown in ``tz``.

    Raises ValueError for a naive datetime, an unknown level, or ``resolved_at`` before
    ``opened_at`` (a reader turns these into a problem on the row's line).
    """
    lvl = level if isinstance(level, DisputeLevel) else parse_level(level)
    _require_aware(opened_at, "opened_at")
    _require_aware(as_of, "as_of")
    if resolved_at is not None:
        _require_aware(resolved_at, "resolved_at")
        if resolved_at < opened_at:
            raise ValueError("resolved_at is before opened_at")
    due = due_at(lvl, opened_at, calendar, tz)
    escalation = escalation_at(opened_at, tz)
    return DisputeResult(
        dispute_id=dispute_id,
        customer_id=customer_id,
        level=int(lvl),
        category=lvl.category,
        opened_at=opened_at.astimezone(tz),
        due_at=due,
        escalation_at=escalation,
        resolved_at=None if resolved_at is None else resolved_at.astimezone(tz),
        status=status(due, escalation, resolved_at, as_of),
        line=line,
    )


def _local(wall: datetime, tz: tzinfo) -> datetime:
    # Through UTC and back: a wall time in a DST gap comes out shifted forward by the gap
    # instead of as a time the clock never shows. fold=0 picks the first of a repeated hour.
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC).astimezone(tz)


def _second(dt: datetime) -> datetime:
    return dt.replace(microsecond=0)


def _iso(dt: datetime) -> str:
    return dt.isoformat(timespec="seconds")


def _require_aware(dt: datetime, name: str) -> None:
    # A naive time is ambiguous here; the readers attach the billing zone when they parse.
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{name} must carry a time zone (got naive {dt.isoformat()})")


# --- the 72-hour rule, status and claim windows -----------------------------------------

LEVEL1_HOURS = 72


LEVEL1_DELAY_US = LEVEL1_HOURS * 3600 * US_PER_SECOND


def level1_due(opened_us: Any) -> Any:
    """The 72-hour rule: a level-1 dispute (an SLA breach, its compensation) is due 72 elapsed
    hours after it opens; a breached month's compensation opens when the month ends."""
    return opened_us + LEVEL1_DELAY_US


FINAL, PROVISIONAL = "final", "provisional"


def period_final(period_end_us: Any, as_of_us: int) -> Any:
    """A month is final once it has ended at ``--as-of``; before that it is provisional."""
    return period_end_us <= as_of_us


def claim_bounds(window: Any, next_month: Any, tz: Any, calendar: Any) -> tuple[int, int | None]:
    """When the claim window of a period opens and closes (epoch microseconds; None: never).

    ``next_month`` is the first day of the month after the period. The window opens when the
    period ends, or at 00:00 after the Nth working day of the next month; it closes N days or N
    months after the period ends (local midnight), as the policy says.
    """
    from datetime import datetime, timedelta

    from slacalc.dates.instants import to_us

    end = datetime.combine(next_month, datetime.min.time(), tzinfo=tz)
    opens = to_us(end)
    if window is None:
        return opens, None
    if window.opens_after_working_days:
        nth = calendar.add_working_days(
            next_month - timedelta(days=1), window.opens_after_working_days
        )
        day = nth + timedelta(days=1)
        opens = to_us(datetime.combine(day, datetime.min.time(), tzinfo=tz))
    closes = None
    if window.closes_after_days is not None:
        day = next_month + timedelta(days=window.closes_after_days)
        closes = to_us(datetime.combine(day, datetime.min.time(), tzinfo=tz))
    elif window.closes_after_months is not None:
        months = next_month.year * 12 + next_month.month - 1 + window.closes_after_months
        day = next_month.replace(year=months // 12, month=months % 12 + 1)
        closes = to_us(datetime.combine(day, datetime.min.time(), tzinfo=tz))
    return opens, closes


NOT_OPEN, OPEN, CLAIM_EXPIRED, BELOW_MIN_CREDIT = (
    "not_open",
    "open",
    "claim_expired",
    "below_min_credit",
)


def claim_status(opens: int, closes: int | None, as_of: int) -> str:
    """Where a breached month's claim stands at ``as_of``."""
    if as_of < opens:
        return NOT_OPEN
    if closes is not None and as_of >= closes:
        return CLAIM_EXPIRED
    return OPEN
