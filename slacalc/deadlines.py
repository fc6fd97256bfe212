"""Dispute deadlines that a report opens: level 2 for every data-loss incident."""

from __future__ import annotations

from datetime import tzinfo

from slacalc.disputes import DisputeLevel, calendar_years, due_at
from slacalc.incidents import IncidentLog
from slacalc.report import Deadline, Report, data_loss_incidents
from slacalc.timeparse import from_us, to_us
from slacalc.workdays import WorkCalendar


def add_data_loss_deadlines(
    report: Report, log: IncidentLog, calendar: WorkCalendar, tz: tzinfo
) -> set[int]:
    """Add a level-2 deadline per data-loss incident of the report; return the years counted.

    A data loss is reported when it starts, so its 5 working days count from its start day.
    """
    years: set[int] = set()
    for inc in data_loss_incidents(log, report):
        opened = from_us(inc.start, tz)
        due = due_at(DisputeLevel.DATA_LOSS, opened, calendar, tz)
        years |= calendar_years(DisputeLevel.DATA_LOSS, opened, due)
        ref = inc.incident_id or f"{inc.source}:{inc.line}"
        report.extra_deadlines.append(
            Deadline(2, "data_loss", inc.customer_id, inc.service, ref, inc.start, to_us(due), tz)
        )
    return years
