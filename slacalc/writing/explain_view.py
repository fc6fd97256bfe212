"""The audit trail of one report row as people read it."""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.text import Text

from slacalc.computing.explain import Explanation
from slacalc.dates.instants import format_instant
from slacalc.terms import rules
from slacalc.writing.tables import Column, Grid
from slacalc.writing.times import local_texts


def explanation_view(ex: Explanation) -> list[Any]:
    """The audit trail, top to bottom in the order of the computation."""
    row, tz = ex.row, ex.settings.tz
    d = row.to_dict()
    zone = getattr(tz, "key", str(tz))
    head = Text()
    head.append(f"{row.customer_id} / {row.service} / {row.month}", style="bold")
    head.append(
        f"\nperiod {format_instant(row.period_start, tz)} .. {format_instant(row.period_end, tz)}"
        f" = {d['period_seconds']} s ({rules.duration(row.period_end - row.period_start)}), "
        f"status {row.status}"
        f"\ncontract: fee {d['monthly_fee']} {row.currency}, committed {row.tier.label} %, "
        f"policy '{row.policy.name}' ({row.policy.mode})"
    )
    for line in row.policy.rules_text()[:-1]:
        head.append(f"\npolicy rule: {line}")
    parts: list[Any] = [head]
    t = ex.table
    inside = np.flatnonzero(ex.clipped_start >= 0)
    grid = Grid(
        f"1. Incidents of the key ({zone} local times)",
        [
            Column("Id"),
            Column("File:line", rank=3),
            Column("Category"),
            Column("Impact", "right"),
            Column("As read", rank=2),
            Column("Counted in the month"),
            Column("Excluded", "right", rank=1),
            Column("Note", rank=4),
        ],
    )
    starts = local_texts(ex.clipped_start[inside], tz)
    ends = local_texts(ex.clipped_end[inside], tz)
    ids = t.incident_id.take(inside).to_pylist() if len(inside) else []
    read_s = t.start_text.take(inside).to_pylist() if t.start_text is not None else []
    read_e = t.end_text.take(inside).to_pylist() if t.end_text is not None else []
    for j, i in enumerate(inside.tolist()):
        inc_category = t.category[i]
        excluded = int(ex.excluded_us[i])
        grid.add(
            (ids[j] or "").strip() or "-",
            f"{t.files[int(t.file[i])]}:{int(t.line[i])}",
            ("outage", "data_loss", "maintenance", "excluded")[int(inc_category)],
            rules.share(t.impacts[int(t.impact[i])]),
            f"{(read_s[j] or '').strip() if read_s else ''} .. "
            f"{((read_e[j] or '').strip() if read_e else '') or '(ongoing)'}",
            f"{starts[j]} .. {ends[j]}",
            rules.duration(excluded) if excluded else "",
            ex.notes[i],
        )
    outside = len(t) - len(inside)
    if outside:
        grid.caption = f"{outside} other incident(s) of this key fall outside {row.month}"
    parts.append(grid)
    exclusions = ex.exclusions
    if exclusions:
        ex_grid = Grid(
            "2. Maintenance / excluded time (union)",
            [Column("Start"), Column("End"), Column("Length", "right")],
        )
        s = local_texts(np.array([a for a, _ in exclusions]), tz)
        e = local_texts(np.array([b for _, b in exclusions]), tz)
        for (a, b), st, en in zip(exclusions, s, e, strict=True):
            ex_grid.add(st, en, rules.duration(b - a))
        parts.append(ex_grid)
    timeline = ex.timeline()
    tl = Grid(
        "3. Merged downtime timeline (overlaps counted once, largest impact wins)",
        [
            Column("Start"),
            Column("End"),
            Column("Length", "right"),
            Column("Loss", "right"),
            Column("Downtime", "right"),
        ],
    )
    s = local_texts(np.array([x[0] for x in timeline], dtype=np.int64), tz)
    e = local_texts(np.array([x[1] for x in timeline], dtype=np.int64), tz)
    for (a, b, loss, down), st, en in zip(timeline, s, e, strict=True):
        tl.add(st, en, rules.duration(b - a), rules.share(loss), rules.duration(down))
    tl.add(
        "",
        "",
        "",
        "total",
        f"{rules.duration(row.downtime_us)} = {d['downtime_seconds']} s",
        style="bold",
    )
    parts.append(tl)
    formula = Text("4. Availability, tier and compensation\n", style="bold")
    for line in ex.formula():
        formula.append("   " + line + "\n", style="red" if "BREACHED" in line else None)
    parts.append(formula)
    return parts
