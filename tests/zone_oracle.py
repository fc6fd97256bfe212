"""A slow, independent reference for redundant deployments: a brute-force time grid.

It shares no code with slacalc: plain Python, ``Fraction``, ``zoneinfo``. Every instant of the
logs lies on a grid of ``step`` seconds; for each grid cell it looks at every deployment and
every incident to find which zones are deployed, down (and how much) and in maintenance, applies
the rule as docs/redundancy.md states it, drops down periods shorter than the minimum, and adds
each cell's loss to its calendar month in the billing zone. Meant for small logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

US = 1_000_000
DOWN = ("outage", "data_loss")


@dataclass(frozen=True)
class Row:
    """One incident: instants in whole seconds since the epoch (end None: ongoing)."""

    customer: str
    service: str
    zone: str  # "" = the whole key
    start: int
    end: int | None
    category: str = "outage"
    impact: Fraction = Fraction(1)


@dataclass(frozen=True)
class Deployed:
    customer: str
    service: str
    zone: str
    start: int | None  # seconds; None = unbounded
    end: int | None


def month_of(second: int, tz: ZoneInfo) -> str:
    local = (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=second)).astimezone(tz)
    return f"{local.year:04d}-{local.month:02d}"


def needed(rule: str, deployed: int) -> int | None:
    """How many down zones make the key down; None: never (all, with nothing deployed)."""
    if rule == "all":
        return deployed or None
    kind, n = rule.split(":")
    return int(n) + 1 if kind == "more_than" else int(n)


def key_loss(
    rows: list[Row], deployments: list[Deployed], rule: str, t: int, as_of: int
) -> tuple[Fraction, bool]:
    """The key's loss over the grid cell starting at ``t``, and whether it is excluded."""

    def active(r: Row) -> bool:
        end = as_of if r.end is None else min(r.end, as_of)
        return r.start <= t < end

    zones = {
        d.zone
        for d in deployments
        if (d.start is None or d.start <= t) and (d.end is None or t < d.end)
    }
    losses, counted = [], 0
    for z in zones:
        mine = [r for r in rows if r.zone == z and active(r)]
        maint = any(r.category not in DOWN for r in mine)
        loss = max((r.impact for r in mine if r.category in DOWN), default=Fraction(0))
        if maint or loss > 0:
            counted += 1
        if not maint and loss > 0:
            losses.append(loss)
    losses.sort(reverse=True)
    k = needed(rule, len(zones))
    zone_loss = losses[k - 1] if k is not None and len(losses) >= k else Fraction(0)
    whole = [r for r in rows if r.zone == "" and active(r)]
    whole_excl = any(r.category not in DOWN for r in whole)
    whole_loss = max((r.impact for r in whole if r.category in DOWN), default=Fraction(0))
    excluded = whole_excl or (zone_loss == 0 and whole_loss == 0 and k is not None and counted >= k)
    return (Fraction(0) if excluded else max(zone_loss, whole_loss)), excluded


def downtime(
    rows: list[Row],
    deployments: list[Deployed],
    rule: str,
    *,
    min_period: int,
    lo: int,
    hi: int,
    step: int,
    as_of: int,
    tz: ZoneInfo,
) -> dict[tuple[str, str, str], Fraction]:
    """Downtime seconds per (customer, service, month) over the grid ``[lo, hi)``.

    A key with a zone row follows the rule; any other key the founding rule (largest impact,
    0 inside an exclusion). Months with no downtime are left out."""
    out: dict[tuple[str, str, str], Fraction] = {}
    for key in sorted({(r.customer, r.service) for r in rows}):
        mine = [r for r in rows if (r.customer, r.service) == key]
        deps = [d for d in deployments if (d.customer, d.service) == key]
        zoned = any(r.zone for r in mine)
        cells = []
        for t in range(lo, hi, step):
            if zoned:
                loss, _ = key_loss(mine, deps, rule, t, as_of)
            else:
                loss, _ = key_loss([r for r in mine if not r.zone], [], "all", t, as_of)
            cells.append(loss)
        if zoned and min_period:
            i = 0
            while i < len(cells):
                if cells[i] == 0:
                    i += 1
                    continue
                j = i
                while j < len(cells) and cells[j] > 0:
                    j += 1
                if (j - i) * step < min_period:
                    cells[i:j] = [Fraction(0)] * (j - i)
                i = j
        for i, loss in enumerate(cells):
            if loss:
                m = (key[0], key[1], month_of(lo + i * step, tz))
                out[m] = out.get(m, Fraction(0)) + loss * step
    return out
