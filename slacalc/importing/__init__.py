"""Importing incident logs from other tools: Statuspage, PagerDuty, Alertmanager/Grafana,
UptimeRobot and iCalendar maintenance calendars, turned into slacalc incident rows.

The pure parsing core of ``slacalc import``: one module per format reads the vendor's export
into raw intervals named in the source's own words; the map (``mapping``) turns those names
into slacalc services, customers and impacts.

>>> from zoneinfo import ZoneInfo
>>> result = import_files("statuspage", ["incidents.json"], tz=ZoneInfo("UTC"))  # doctest: +SKIP
>>> result.rows[0].service, result.rows[0].impact  # doctest: +SKIP
('API', Fraction(3, 10))
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from slacalc.errors import UsageError
from slacalc.importing import alertmanager, ics, pagerduty, statuspage, uptimerobot
from slacalc.importing.importer import DEFAULT_MAX_ROWS, Importer, run_import
from slacalc.importing.mapping import ImportMap, LabelMap, read_map, suggest
from slacalc.importing.rows import ImportedRow, ImportResult

FORMATS: dict[str, Importer] = {
    module.IMPORTER.name: module.IMPORTER
    for module in (statuspage, pagerduty, alertmanager, uptimerobot, ics)
}

__all__ = [
    "DEFAULT_MAX_ROWS",
    "FORMATS",
    "ImportMap",
    "ImportResult",
    "ImportedRow",
    "Importer",
    "LabelMap",
    "import_files",
    "read_map",
]


def import_files(
    fmt: str,
    paths: list[str],
    *,
    mapping: ImportMap | None = None,
    unmapped: str = "error",
    tz: tzinfo,
    window: tuple[datetime, datetime] | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> ImportResult:
    """Read ``paths`` (``-`` is standard input) in format ``fmt`` into slacalc incident rows.

    ``mapping`` names services, customers and impacts (see ``read_map``); a source name missing
    from its ``[services]`` table is an error, or with ``unmapped="skip"`` is left out and
    counted in ``ImportResult.skipped``. ``tz`` is the billing zone: the zone of floating
    iCalendar times and of CSV timestamps without an offset. ``window`` (aware ``from``,
    ``until``) keeps the rows that overlap it and is the horizon of endless recurrences.
    ``max_rows`` caps the rows made: one more is an InputError as soon as it is made (an
    iCalendar's occurrences are counted before they become rows).

    Every row lies in the years an incident log holds (1900 to 2199): a start or end outside
    them is a problem naming the file and line (or JSON path) it came from.
    ``ImportResult.warnings`` says what was taken but is worth a look (of two versions of a
    Statuspage incident, which one won).

    Raises InputError listing every problem of every file, UsageError for a bad argument.
    """
    importer = FORMATS.get(fmt)
    if importer is None:
        raise UsageError(
            f"unknown import format '{fmt}'{suggest(fmt, list(FORMATS))} "
            f"(known: {', '.join(FORMATS)})"
        )
    return run_import(
        importer,
        paths,
        mapping=mapping,
        unmapped=unmapped,
        tz=tz,
        window=window,
        max_rows=max_rows,
    )
