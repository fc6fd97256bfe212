"""Running an import: read the files, let the format parse them, apply the map, sort the rows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from slacalc.errors import InputError, Problem, UsageError
from slacalc.importing.mapping import ImportMap, LabelMap, suggest
from slacalc.importing.reading import SourceFile, read_source
from slacalc.importing.rows import ImportedRow, ImportResult, SourceRow

UNMAPPED_CHOICES = ("error", "skip")
_BREAK_HINTS = {
    "service": ": give it a plain name in the map's [services]",
    "customer": ": give it plain ids in the map's [customers]",
    "incident id": "",
}


@dataclass(frozen=True)
class Context:
    """What a format needs besides the files: the billing zone, the window, the label names."""

    tz: tzinfo  # the billing zone: floating ICS times, naive CSV timestamps
    window: tuple[datetime, datetime] | None = None  # rows must overlap [from, until)
    labels: LabelMap = field(default_factory=LabelMap)


@dataclass
class Parsed:
    """What a format read from all its files: raw rows and every problem found."""

    rows: list[SourceRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class Importer:
    """One import format: its name, a line for ``--help`` and its parser."""

    name: str
    summary: str
    parse: Callable[[Sequence[SourceFile], Context], Parsed]


def run_import(
    importer: Importer,
    paths: list[str],
    *,
    mapping: ImportMap | None,
    unmapped: str,
    tz: tzinfo,
    window: tuple[datetime, datetime] | None,
) -> ImportResult:
    """The engine of ``import_files``: see there."""
    if unmapped not in UNMAPPED_CHOICES:
        raise UsageError(
            f"unmapped must be 'error' or 'skip', not '{unmapped}'"
            f"{suggest(unmapped, UNMAPPED_CHOICES)}"
        )
    if window is not None:
        start, until = window
        if start.tzinfo is None or until.tzinfo is None:
            raise UsageError("the import window needs aware datetimes (with a time zone)")
        if not start < until:
            raise UsageError("the import window must end after it starts")
    mapping = mapping or ImportMap()

    problems: list[Problem] = []
    files: list[SourceFile] = []
    for path in paths:
        try:
            files.append(read_source(path))
        except InputError as exc:
            problems.extend(exc.problems)
    parsed = importer.parse(files, Context(tz=tz, window=window, labels=mapping.labels))
    problems.extend(parsed.problems)

    basenames = {f.name: f.basename for f in files}
    rows: dict[tuple, ImportedRow] = {}
    skipped: dict[str, int] = {}
    unmapped_seen: dict[str, tuple[int, str]] = {}
    broken_seen: set[tuple[str, str]] = set()
    for raw in parsed.rows:
        if window is not None and not _overlaps(raw, window):
            continue
        impact = mapping.impact_for(raw.impact_keys, raw.default_impact)
        if impact == 0:
            continue  # "no row": e.g. Statuspage's degraded_performance by default
        service = mapping.service_for(raw.source_name)
        if service is None:
            count, first = unmapped_seen.get(raw.source_name, (0, raw.file))
            unmapped_seen[raw.source_name] = (count + 1, first)
            continue
        source = f"{importer.name}:{basenames.get(raw.file, raw.file)}"
        customers = mapping.customers_for(raw.source_name, raw.customer_name)
        broken = _line_break(raw, service, customers)
        if broken is not None:
            if broken not in broken_seen:
                broken_seen.add(broken)
                field_name, value = broken
                problems.append(
                    Problem(
                        raw.file,
                        None,
                        f"the {field_name} holds a line break, which no incident log cell "
                        f"may{_BREAK_HINTS[field_name]}",
                        value=value,
                    )
                )
            continue
        for customer in customers:
            row = ImportedRow(
                start=raw.start,
                end=raw.end,
                customer_id=customer,
                service=service,
                incident_id=raw.incident_id,
                category=raw.category,
                impact=impact,
                source=source,
            )
            # The same interval from two overlapping exports is one row, not two.
            key = (row.start, row.end, customer, service, row.incident_id, row.category, impact)
            rows.setdefault(key, row)

    if unmapped_seen:
        if unmapped == "skip":
            skipped = {name: count for name, (count, _) in sorted(unmapped_seen.items())}
        else:
            for name, (count, first) in sorted(unmapped_seen.items()):
                problems.append(
                    Problem(
                        first,
                        None,
                        f"'{name}' is not in the [services] table of {mapping.path} "
                        f"({count} row{'s' if count != 1 else ''}): add "
                        f'"{name}" = "<service>" or skip unmapped names (--unmapped skip)',
                        value=name,
                    )
                )
    if problems:
        raise InputError(problems)
    return ImportResult(rows=sorted(rows.values(), key=ImportedRow.sort_key), skipped=skipped)


def _overlaps(row: SourceRow, window: tuple[datetime, datetime]) -> bool:
    start, until = window
    if row.start >= until:
        return False
    return row.end is None or row.end > start


def _line_break(raw: SourceRow, service: str, customers: tuple[str, ...]) -> tuple[str, str] | None:
    """The first name of a row that holds a line break (a CSV log would split there)."""
    named = [("service", service), *(("customer", c) for c in customers)]
    named.append(("incident id", raw.incident_id))
    for field_name, value in named:
        if "\n" in value or "\r" in value:
            return field_name, value
    return None
