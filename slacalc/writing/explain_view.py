"""The audit trail of one report row as people read it: the table view, and the JSON record.

Explain's notes and formula steps are values (a code and typed parameters,
:mod:`slacalc.computing.explain`); :data:`ENGLISH` says each code in English, here and nowhere
else. A key may have a million incidents: every column is written in bulk (times by pyarrow,
durations by :func:`~slacalc.writing.times.durations`, impacts once per distinct value, each
distinct set of notes once), and a long table is aligned plain text (see
:data:`slacalc.writing.tables.LARGE`), as the report's is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import tzinfo
from fractions import Fraction
from functools import partial
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from rich.text import Text

from slacalc import speed
from slacalc.computing.explain import Explanation, Note, Said
from slacalc.dates.instants import format_instant, local_texts
from slacalc.errors import printable
from slacalc.model.cells import CATEGORIES
from slacalc.terms import money, numbers
from slacalc.writing import times
from slacalc.writing.tables import Column, Grid
from slacalc.writing.times import durations

_ALL = "-f json"  # explain's format with every field (it has no CSV)


def explanation_view(ex: Explanation) -> list[Any]:
    """The audit trail, top to bottom in the order of the computation."""
    return [
        _head(ex),
        _incidents(ex),
        *([_exclusions(ex)] if ex.exclusions else []),
        _timeline(ex),
        _formula(ex),
    ]


def _head(ex: Explanation) -> Text:
    row, tz = ex.row, ex.settings.tz
    d = row.to_dict()
    head = Text()
    head.append(printable(f"{row.customer_id} / {row.service} / {row.month}"), style="bold")
    head.append(
        f"\nperiod {format_instant(row.period_start, tz)} .. {format_instant(row.period_end, tz)}"
        f" = {d['period_seconds']} s ({times.duration(row.period_end - row.period_start)}), "
        f"status {row.status}"
        f"\ncontract: fee {d['monthly_fee']} {row.currency}, committed {row.tier.label} %, "
        + printable(f"policy '{row.policy.name}' ({row.policy.mode})")
    )
    for line in row.policy.rules_text()[:-1]:
        head.append("\npolicy rule: " + printable(line))
    return head


def _incidents(ex: Explanation) -> Grid:
    """Each incident of the key as read (file, line, source) and as counted in the month."""
    t, tz = ex.table, ex.settings.tz
    zone = getattr(tz, "key", str(tz))
    inside = np.flatnonzero(ex.clipped_start >= 0)
    columns = [
        Column("Id"),
        Column("File:line", rank=4),
        Column("Category"),
        Column("Impact", "right"),
        Column("As read", rank=2),
        Column(
            "Counted in the month",
            compact=partial(_same_month, _year(ex)),
            short=f"Counted {_year(ex)}",
        ),
        Column("Excluded", "right", rank=1),
        Column("Note", rank=5),
    ]
    has_source = t.source is not None
    if has_source:  # imported rows name their origin: format and file
        columns.insert(2, Column("Source", rank=3))
    grid = Grid(f"1. Incidents of the key ({zone} local times)", columns, every_field=_ALL)
    n = len(inside)
    index = pa.array(inside, pa.int64())
    ids = pc.if_else(
        pc.equal(_trimmed(t.incident_id.take(index)), ""), "-", _trimmed(t.incident_id.take(index))
    )
    files = pa.array(t.files, pa.string()).take(pa.array(t.file[inside], pa.int32()))
    lines = t.line[inside]
    where = pc.if_else(
        pa.array(lines > 0),
        pc.binary_join_element_wise(files, pa.array(lines, pa.int64()).cast(pa.string()), ":"),
        files,
    )
    category = pa.array(CATEGORIES, pa.string()).take(pa.array(t.category[inside], pa.int32()))
    shares = pa.array([numbers.share(v) for v in t.impacts] or ["1"], pa.string())
    impact = shares.take(pa.array(t.impact[inside], pa.int32()))
    counted = pc.binary_join_element_wise(
        local_texts(ex.clipped_start[inside], tz), local_texts(ex.clipped_end[inside], tz), " .. "
    )
    removed = np.asarray(ex.excluded_us)[inside]
    excluded = pc.if_else(pa.array(removed > 0), durations(removed), "")
    notes = pa.array(note_texts(ex.notes, tz), pa.string()).take(index)
    data = [ids, where, category, impact, _as_read(t, index), counted, excluded, notes]
    if has_source:
        data.insert(2, _trimmed(t.source.take(index)))
    grid.extend(data)
    outside = len(t) - n
    if outside:
        grid.caption = f"{outside} other incident(s) of this key fall outside {ex.row.month}"
    return grid


def _as_read(t: Any, index: Any) -> Any:
    """Start and end cells exactly as the file wrote them (``(ongoing)`` for no end)."""
    blank = pa.array([""] * len(index), pa.string())
    start = _trimmed(t.start_text.take(index)) if t.start_text is not None else blank
    end = _trimmed(t.end_text.take(index)) if t.end_text is not None else blank
    end = pc.if_else(pc.equal(end, ""), "(ongoing)", end)
    return pc.binary_join_element_wise(start, end, " .. ")


def _trimmed(values: Any) -> Any:
    return pc.utf8_trim_whitespace(pc.fill_null(values.cast(pa.string()), ""))


def _exclusions(ex: Explanation) -> Grid:
    tz = ex.settings.tz
    grid = Grid(
        "2. Maintenance / excluded time (union)",
        [
            Column("Start", compact=partial(_no_year, _year(ex)), short=f"Start {_year(ex)}"),
            Column("End", compact=partial(_no_year, _year(ex)), short=f"End {_year(ex)}"),
            Column("Length", "right"),
        ],
        every_field=_ALL,
    )
    spans = np.array(ex.exclusions, dtype=np.int64).reshape(-1, 2)
    grid.extend(
        [
            local_texts(spans[:, 0], tz),
            local_texts(spans[:, 1], tz),
            durations(spans[:, 1] - spans[:, 0]),
        ]
    )
    return grid


def _timeline(ex: Explanation) -> Grid:
    """The merged downtime timeline, from the explanation's segments (the stretches outside
    exclusions), every column written in bulk."""
    row, tz = ex.row, ex.settings.tz
    d = row.to_dict()
    grid = Grid(
        "3. Merged downtime timeline (overlaps counted once, largest impact wins)",
        [
            Column("Start", compact=partial(_no_year, _year(ex)), short=f"Start {_year(ex)}"),
            Column("End", compact=partial(_no_year, _year(ex)), short=f"End {_year(ex)}"),
            Column("Length", "right"),
            Column("Loss", "right"),
            Column("Downtime", "right"),
        ],
        every_field=_ALL,
    )
    s = ex.segments
    down = ~np.asarray(s.excluded, dtype=bool)
    start = np.asarray(s.start, dtype=np.int64)[down]
    end = np.asarray(s.end, dtype=np.int64)[down]
    loss = np.asarray(s.loss_num)[down]
    length = np.asarray(s.length)[down]
    distinct, index = np.unique(loss, return_inverse=True)
    shares = np.array(
        [numbers.share(Fraction(int(v), s.den)) for v in distinct.tolist()] or ["0"],
        dtype=object,
    )
    loss_text = pa.array(shares[index].tolist() if len(loss) else [], pa.string())
    grid.extend(
        [
            local_texts(start, tz),
            local_texts(end, tz),
            durations(end - start),
            loss_text,
            durations(speed.product(loss, length), s.den),
        ]
    )
    grid.add(
        "",
        "",
        "",
        "total",
        f"{times.duration(row.downtime_us)} = {d['downtime_seconds']} s",
        style="bold",
    )
    return grid


def _formula(ex: Explanation) -> Text:
    formula = Text("4. Availability, tier and compensation\n", style="bold")
    tz = ex.settings.tz
    for said in (*ex.month_notes, *ex.formula):
        style = "red" if said.code == "target_breached" else None
        formula.append("   " + printable(english(said, tz)) + "\n", style=style)
    return formula


# --- the JSON record ---------------------------------------------------------------------------


def explanation_record(ex: Explanation) -> dict[str, Any]:
    """What ``explain -f json`` writes: :meth:`Explanation.to_dict` (notes and steps as
    ``{code, params}``), each note and step with its English ``text``, and each incident's
    notes joined in ``note`` as the table shows them."""
    tz = ex.settings.tz
    out = ex.to_dict()
    for item, notes in zip(out["incidents"], ex.notes, strict=True):
        item["note"] = note_text(notes, tz)
        for record, note in zip(item["notes"], notes, strict=True):
            record["text"] = english(note, tz)
    for record, run in zip(out["runs"], ex.runs, strict=True):
        for item, note in zip(record["notes"], run.notes, strict=True):
            item["text"] = english(note, tz)
    for item, note in zip(out["notes"], ex.month_notes, strict=True):
        item["text"] = english(note, tz)
    for item, step in zip(out["formula"], ex.formula, strict=True):
        item["text"] = english(step, tz)
    return out


# --- explain's notes and steps in English --------------------------------------------------


def english(said: Said, tz: tzinfo) -> str:
    """A note or a formula step in English (a code without a sentence is a bug: KeyError)."""
    return ENGLISH[said.code](said, tz)


def note_text(notes: Sequence[Note], tz: tzinfo) -> str:
    """An incident's notes, ``; ``-joined."""
    return "; ".join(english(n, tz) for n in notes)


def note_texts(notes: Sequence[Sequence[Note]], tz: tzinfo) -> list[str]:
    """Every incident's notes, each set said once (incidents alike share one tuple of notes:
    a million incidents have a few)."""
    said: dict[int, str] = {}
    out = []
    for group in notes:
        text = said.get(id(group))
        if text is None:
            text = said[id(group)] = note_text(group, tz)
        out.append(text)
    return out


def _s(us: Fraction | int) -> str:
    return f"{numbers.seconds(us)} s"


def _base(period_us: int, excluded_us: int | None) -> str:
    if excluded_us is None:
        return _s(period_us)
    return f"({_s(period_us)} - {_s(excluded_us)} excluded)"


def _money(step: Any, name: str = "fee") -> str:
    return money.format_money(getattr(step, name), step.currency)


def _outage_rules(n: Any) -> str:
    applied = []
    if n.min_outage_seconds:
        applied.append(f"outages of {n.min_outage_seconds} s or less count 0")
    if n.round_up_seconds:
        applied.append(f"each outage is rounded up to a multiple of {n.round_up_seconds} s")
    return (
        f"outage rules ({'; '.join(applied)}): {n.intervals} interval(s), {n.ignored} ignored; "
        f"downtime {_s(n.downtime_us)} counts {_s(n.counted_us)}"
    )


def _claim(n: Any, tz: tzinfo) -> str:
    closes = "never" if n.closes_at is None else format_instant(n.closes_at, tz)
    return f"claim window: {format_instant(n.opens_at, tz)} .. {closes} ({n.status} at --as-of)"


ENGLISH: dict[str, Callable[[Any, tzinfo], str]] = {
    # an incident
    "customer_wide": lambda n, tz: "customer-wide (*) incident",
    "ongoing": lambda n, tz: "ongoing: counted up to --as-of",
    "ends_after_as_of": lambda n, tz: "ends after --as-of: counted up to it",
    "outside_month": lambda n, tz: "outside the month",
    "clipped": lambda n, tz: "clipped to the month",
    "not_downtime": lambda n, tz: f"{n.category}: excluded from downtime",
    "partly_excluded": lambda n, tz: "partly inside maintenance/excluded time",
    "fully_excluded": lambda n, tz: "wholly inside maintenance/excluded time",
    "larger_impact": lambda n, tz: "a larger impact may overlap it: the largest counts",
    "merged_with": lambda n, tz: f"merged with {', '.join(n.incidents)}",
    # a merged interval
    "rule_ignored": lambda n, tz: f"interval #{n.run} counts 0 under the outage rules",
    "rule_rounded": lambda n, tz: (
        f"interval #{n.run} is rounded up by the outage rules: "
        f"{_s(n.downtime_us)} count {_s(n.counted_us)}"
    ),
    # the month
    "service_hours": lambda n, tz: (
        f"period = service time in the month ({n.days} days {n.start}-{n.end}): {_s(n.period_us)}"
    ),
    "outage_rules": lambda n, tz: _outage_rules(n),
    "rounded_past_month": lambda n, tz: (
        f"rounded up to {_s(n.rounded_us)}, more than the month can count: downtime stops at "
        f"the month's time less excluded time ({_s(n.counted_us)})"
    ),
    "error_rate_month": lambda n, tz: (
        f"measured by error rate: {n.intervals} interval(s) of {n.interval_seconds} s"
        + (f" ({n.partial} cut by the month's edges)" if n.partial else "")
        + f", {n.with_requests} with requests, {n.with_errors} with errors; {n.failed} of "
        f"{n.total} requests failed; mean error rate {n.mean_error_rate_pct} % (rounded up): "
        "the downtime below is its equivalent (no incident timeline)"
    ),
    "weighted_composite": lambda n, tz: (
        "weighted composite: availability = ("
        + " + ".join(
            f"{w} x {a} % ({p})"
            for p, w, a in zip(n.parts, n.weights, n.availabilities, strict=True)
        )
        + f") / ({' + '.join(n.weights)})"
    ),
    "zone_down": lambda n, tz: (
        f"zone {n.zone} "
        + ("in maintenance" if n.loss == 0 else f"down (loss {numbers.share(n.loss)})")
        + f" {format_instant(n.start_at, tz)} .. {format_instant(n.end_at, tz)} ({n.incident})"
    ),
    "rule_fired": lambda n, tz: (
        f"rule {n.rule} held {format_instant(n.start_at, tz)} .. {format_instant(n.end_at, tz)}: "
        + (
            "excluded time"
            if n.excluded
            else f"the key down at loss {numbers.share(n.loss)}"
            + (" (shorter than the minimum period: counts 0)" if n.dropped else "")
        )
    ),
    # the formula
    "availability": lambda n, tz: (
        f"availability = 1 - {_s(n.downtime_us)} / {_base(n.period_us, n.excluded_us)} = "
        f"{_exact(n.availability * 100, 8)} % (shown truncated: {n.shown_pct:f} %)"
    ),
    "target_met": lambda n, tz: (
        f"tier band = {n.band}; committed target = {numbers.format_pct(n.target)} % -> met"
    ),
    "target_breached": lambda n, tz: (
        f"tier band = {n.band}; committed target = {numbers.format_pct(n.target)} % -> BREACHED"
    ),
    "no_compensation": lambda n, tz: "compensation = 0 (the committed target is met)",
    "price_coefficient": lambda n, tz: (
        f"compensation = {_s(n.downtime_us)} / {_base(n.period_us, n.excluded_us)} x "
        f"{_money(n)} {n.currency} x {money.format_coefficient(n.coefficient)} = "
        f"{_exact(n.amount, money.minor_unit(n.currency) + 4)} {n.currency}"
    ),
    "price_credit": lambda n, tz: (
        f"band: availability below {numbers.format_pct(n.below)} % -> credit "
        f"{numbers.format_pct(n.credit_pct)} %; compensation = {_money(n)} {n.currency} x "
        f"{numbers.format_pct(n.credit_pct)} % = "
        f"{_exact(n.amount, money.minor_unit(n.currency) + 4)} {n.currency}"
    ),
    "no_band": lambda n, tz: "compensation = 0: no band of the tier covers this availability",
    "cap": lambda n, tz: (
        f"cap = {numbers.format_pct(n.cap_pct)} % of {_money(n)} = "
        f"{_exact(n.cap, money.minor_unit(n.currency) + 4)} {n.currency}: the cap applies"
    ),
    "min_credit": lambda n, tz: (
        f"below the minimum credit of {numbers.format_pct(n.min_credit)} {n.currency}: "
        "no credit is issued"
    ),
    "rounded": lambda n, tz: (
        f"rounded half-up to {n.places} decimals: {_money(n, 'amount')} {n.currency} "
        f"as {n.credit_form}"
    ),
    "due": lambda n, tz: (
        f"due {format_instant(n.due_at, tz)} ({n.hours} hours after the month ends)"
    ),
    "claim_window": _claim,
}


def _exact(value: Fraction, places: int) -> str:
    """An exact value to ``places`` decimals, truncated, ``...`` marking that more follow."""
    scaled = value * 10**places
    whole = scaled.numerator // scaled.denominator
    sign = "-" if whole < 0 else ""
    digits = str(abs(whole)).rjust(places + 1, "0")
    text = f"{sign}{digits[:-places]}.{digits[-places:]}"
    return text if whole == scaled else text + "..."


def _year(ex: Explanation) -> str:
    """The explained month's year: a narrow table leaves it out of the times in that year, and
    names it in their column's header."""
    return ex.row.month.text[:4]


def _no_year(year: str, text: str) -> str:
    """``2025-05-14 07:57:01`` as ``05-14 07:57:01`` when ``year`` is 2025 (its column's header
    names it); a time of another year (a December's end, 01-01 00:00 of the next) keeps its."""
    return text[5:] if len(text) >= 19 and text.startswith(year + "-") else text


def _same_month(year: str, text: str) -> str:
    """``2025-05-14 07:57:01 .. 2025-05-14 09:30:00`` as ``05-14 07:57:01 .. 09:30:00``."""
    start, sep, end = text.partition(" .. ")
    if not sep:
        return text
    if start[:10] == end[:10]:
        return f"{_no_year(year, start)} .. {end[11:]}"
    return f"{_no_year(year, start)} .. {_no_year(year, end)}"


def code_table() -> str:
    """Every note and formula step explain's JSON can carry, as a Markdown table (the
    README's): the kind, the code, its parameters as the JSON names them, and what it means."""
    from dataclasses import fields

    from slacalc.computing.explain import Step

    rows = ["| kind | code | parameters | meaning |", "|---|---|---|---|"]
    for kind, types in (("note", Note.TYPES), ("step", Step.TYPES)):
        for code, cls in types.items():
            names = [_json_name(f.name) for f in fields(cls)]
            meaning = " ".join((cls.__doc__ or "").split("\n\n")[0].split()).replace("``", "`")
            params = ", ".join(f"`{n}`" for n in names)
            rows.append(f"| {kind} | `{code}` | {params} | {meaning} |")
    return "\n".join(rows)


def _json_name(name: str) -> str:
    return name[:-3] + "_seconds" if name.endswith("_us") else name
