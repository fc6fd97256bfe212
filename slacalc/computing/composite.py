"""Composite services as incidents of their own key: the parts' timelines composed exactly.

A serial composite is down whenever a part is (the union of the parts' downtime, the largest
loss wins); a redundant one only while every part is (the intersection, the smallest loss).
That is the rule of a redundant deployment with the parts as its zones (at least one part
down, or all of them), so the composite's rows are made by the one transform of
:mod:`slacalc.computing.redundancy`: each part's rows (its own and the customer-wide ``*`` rows
of its service) are copied to the composite's key, tagged with the part as their zone, and the
composite is "deployed" in every part for all time. The parts keep their own rows and report
rows; the one engine then counts the composite as any other key.

A weighted composite is the weighted mean of its parts' availabilities, not a timeline: the
report computes it from the parts' rows (:func:`weighted_rows`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pyarrow as pa

from slacalc.model.cells import EVERY_CUSTOMER
from slacalc.model.table import IncidentTable, concat_tables, from_columns
from slacalc.terms.composite import WEIGHTED, Composite


def timeline_composites(book: Any) -> dict[tuple[str, str], Composite]:
    """The serial and redundant composites of a contract book (None: none)."""
    if book is None:
        return {}
    return {k: c for k, c in book.composites.items() if c.kind != WEIGHTED}


def composite_incidents(table: IncidentTable, book: Any, *, as_of: int) -> IncidentTable:
    """``table`` with the rows of every serial and redundant composite of ``book`` added, made
    from its parts' rows (see the module's doc). A table with no such composite comes back as
    it is. Composites of composites are not composed (their parts' rows are their own)."""
    from slacalc.computing.redundancy import key_incidents
    from slacalc.reading.deployments import Deployments

    composites = timeline_composites(book)
    if not composites or not len(table):
        return table
    customers = table.key_customer.to_pylist()
    services = table.key_service.to_pylist()
    keys_of: dict[tuple[str, str], int] = {
        (c, s): i for i, (c, s) in enumerate(zip(customers, services, strict=True))
    }
    order = sorted(composites.items())
    copies_rows, copies_key, copies_zone = [], [], []
    deployed = []
    for n, ((customer, service), composite) in enumerate(order):
        for part in composite.parts:
            deployed.append((customer, service, part, None, None))
            for owner in (customer, EVERY_CUSTOMER):
                k = keys_of.get((owner, part))
                if k is None:
                    continue
                rows = np.flatnonzero(table.key == k)
                copies_rows.append(rows)
                copies_key.append(np.full(len(rows), n, dtype=np.int64))
                copies_zone.append(
                    pa.array([part], pa.string()).take(pa.array(np.zeros(len(rows), np.int64)))
                )
    if not copies_rows:
        return table
    rows = np.concatenate(copies_rows)
    comp_customer = pa.array([c for (c, _), _ in order], pa.string())
    comp_service = pa.array([s for (_, s), _ in order], pa.string())
    which = pa.array(np.concatenate(copies_key))
    part_names = pa.concat_arrays(copies_zone)
    copies = from_columns(
        customers=comp_customer.take(which),
        services=comp_service.take(which),
        start=table.start[rows],
        end=table.end[rows],
        category=table.category[rows],
        impact=table.impact[rows],
        impacts=list(table.impacts),
        file=table.file[rows],
        files=list(table.files),
        line=table.line[rows],
        incident_id=table.incident_id.take(pa.array(rows)),
        source=table.source.take(pa.array(rows)) if table.source is not None else None,
        zone=part_names,
    )
    if table.start_text is not None:
        copies.start_text = table.start_text.take(pa.array(rows))
        copies.end_text = table.end_text.take(pa.array(rows))
    own = replace(table, zone=None)  # the parts' rows count whole (zones were counted before)
    merged = concat_tables([own, copies])
    rules = {key: comp.rule for key, comp in composites.items()}
    out, _ = key_incidents(
        merged,
        Deployments.of_rows(deployed),
        lambda key: rules.get(key),
        as_of=as_of,
    )
    return out


def check_weighted(table: IncidentTable, book: Any) -> None:
    """A weighted composite has no timeline of its own: an incident of its key is refused (on
    its line), never silently left out of its availability."""
    from slacalc.errors import InputError, Problem

    if book is None or not len(table):
        return
    weighted = {k for k, c in book.composites.items() if c.kind == WEIGHTED}
    if not weighted:
        return
    keys = table.keys
    hit = np.array([k in weighted for k in keys], dtype=bool)
    rows = np.flatnonzero(hit[table.key]) if len(hit) else np.zeros(0, dtype=np.int64)
    if len(rows):
        r = int(rows[0])
        customer, service = keys[int(table.key[r])]
        raise InputError(
            Problem(
                table.files[int(table.file[r])],
                int(table.line[r]) or None,
                f"customer '{customer}' service '{service}' is a weighted composite: its "
                "availability is its parts' weighted mean, so an incident of its own would not "
                "count; give the incident to a part",
            )
        )


__all__ = ["check_weighted", "composite_incidents", "timeline_composites"]
