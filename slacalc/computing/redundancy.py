"""Redundant deployments: zone incidents turned into key-level downtime, before the one engine.

A row with a ``zone`` downs only that zone of its (customer_id, service); a deployments file
(:mod:`slacalc.reading.deployments`) says in which zones each key runs, over time; a policy's
``[redundancy]`` rule (:class:`~slacalc.terms.redundancy.RedundancyRule`) says how many down
zones make the key down. :func:`key_incidents` turns the zone rows into key-level rows with
exact impacts and passes every other row through, so :func:`slacalc.computing.engine.cell_totals`
then computes availability, tiers and money unchanged.

The rule, at each instant, for a key with zone rows (its "transformed" keys):

- D = the zones the key is deployed in; a zone's loss is the largest impact of its active
  outage / data-loss rows, and 0 while one of its maintenance / excluded rows is active.
  Rows in zones (or at times) where the key is not deployed count for nothing (the trace
  names them).
- k = the zones needed: |D| for ``all`` (and never down with no zone deployed), N + 1 for
  ``more_than:N``, N for ``at_least:N``. The key is down at level x while at least k deployed
  zones have a loss >= x: its loss is the k-th largest zone loss ("all": the smallest).
- The key's own rows without a zone still down (or exclude) the whole key, as ever: the key's
  loss is the larger of the two, and 0 inside a whole-key exclusion.
- A zone in maintenance counts as excluded, not down: an instant where the key has no loss,
  but would have with its zones in maintenance counted as down, is excluded time of the key.
  Maintenance never hides a loss the rule finds without it.
- ``min_period_seconds``: each maximal run of nonzero key loss (months do not cut it; an
  ongoing one is measured to ``as_of``) shorter than it counts 0 (GCP's Downtime Period).

The output rows of a transformed key are its key-level down stretches (``outage``, one row per
stretch of one loss level) and excluded stretches (``excluded``), each naming the incidents
behind it (``incident_id`` joined with ``+``, ``source`` = ``zones:a+b``, file and line of the
first one). Every ``data_loss`` row of a transformed key is also kept as a zero-length marker at
its start: it adds no downtime, and still opens its level-2 dispute. Zoned rows of customer
``*`` count for every customer deployed in their service and zone. The trace
(:class:`ZoneTrace`) keeps what ``explain`` shows.

Everything is a numpy event sweep over all keys at once: integer microseconds, impacts as
integer levels (exact fractions), no floats.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from slacalc.computing.engine import effective_ends
from slacalc.errors import Problem
from slacalc.model.cells import CATEGORIES, DATA_LOSS, DOWN_CODES, EVERY_CUSTOMER, EXCLUDED, OUTAGE
from slacalc.model.table import (
    NO_END,
    IncidentTable,
    Key,
    concat_tables,
    from_columns,
    pair_codes,
    trimmed,
)
from slacalc.reading.deployments import Deployments
from slacalc.terms.redundancy import ALL, RedundancyRule

RuleOf = RedundancyRule | Callable[[Key], RedundancyRule | None]
_OUT, _EXCL, _LOSS = (
    CATEGORIES.index(OUTAGE),
    CATEGORIES.index(EXCLUDED),
    CATEGORIES.index(DATA_LOSS),
)


@dataclass
class ZoneTrace:
    """What the rule saw and did, as columns (for ``explain`` and warnings).

    The transformed keys are ``key_customer`` / ``key_service`` (string arrays), each with its
    rule (``rules[key_rule[k]]``). ``pieces``: each zone row's deployed part (``key``,
    ``zone``, ``start``, ``end``, ``row`` into the input table, ``level``: its impact is
    ``levels[level]``, 0 for maintenance). ``periods``: the key-level stretches of loss or
    exclusion between the key's event times (``key``, ``start``, ``end``, ``level``,
    ``excluded``, ``dropped`` by ``min_period_seconds``). ``undeployed``: input rows with time
    in no deployment of their zone (``row``, ``us``)."""

    key_customer: Any
    key_service: Any
    rules: list[RedundancyRule]
    key_rule: Any
    levels: list[Fraction]
    pieces: dict[str, Any]
    periods: dict[str, Any]
    undeployed: dict[str, Any]
    table: IncidentTable  # the input table the rows refer to

    @classmethod
    def empty(cls, table: IncidentTable) -> ZoneTrace:
        z = np.zeros(0, dtype=np.int64)
        s = pa.array([], pa.string())
        pieces = {"key": z, "zone": s, "start": z, "end": z, "row": z, "level": z}
        periods = {"key": z, "start": z, "end": z, "level": z, "excluded": z.astype(bool)}
        periods["dropped"] = z.astype(bool)
        return cls(s, s, [], z, [Fraction(0)], pieces, periods, {"row": z, "us": z}, table)

    @property
    def keys(self) -> list[Key]:
        """The transformed keys as tuples (slow; for display)."""
        return list(zip(self.key_customer.to_pylist(), self.key_service.to_pylist(), strict=True))

    def of_key(self, key: Key) -> dict[str, Any]:
        """One key's zones down, and the stretches the rule made of them (slow; for display):
        ``{"rule", "zones_down": [(zone, start, end, loss, incident)], "periods": [(start, end,
        loss, excluded, dropped)], "undeployed": [(incident, seconds)]}``; ``loss`` is 0 for
        maintenance (in ``zones_down``) and for an excluded stretch."""
        keys = self.keys
        if key not in keys:
            return {"rule": None, "zones_down": [], "periods": [], "undeployed": []}
        k = keys.index(key)
        p, q, lv = self.pieces, self.periods, self.levels
        zones = [
            (
                p["zone"][i].as_py(),
                int(p["start"][i]),
                int(p["end"][i]),
                lv[int(p["level"][i])],
                self._ref(int(p["row"][i])),
            )
            for i in np.flatnonzero(p["key"] == k).tolist()
        ]
        periods = [
            (
                int(q["start"][i]),
                int(q["end"][i]),
                lv[int(q["level"][i])],
                bool(q["excluded"][i]),
                bool(q["dropped"][i]),
            )
            for i in np.flatnonzero(q["key"] == k).tolist()
        ]
        t = self.table
        undeployed = [
            (self._ref(int(r)), Fraction(int(us), 1_000_000))
            for r, us in zip(
                self.undeployed["row"].tolist(), self.undeployed["us"].tolist(), strict=True
            )
            if (t.key_customer[int(t.key[r])].as_py() in (key[0], EVERY_CUSTOMER))
            and t.key_service[int(t.key[r])].as_py() == key[1]
        ]
        return {
            "rule": self.rules[int(self.key_rule[k])],
            "zones_down": zones,
            "periods": periods,
            "undeployed": undeployed,
        }

    def _ref(self, row: int) -> str:
        ident = self.table.incident_id[row].as_py()
        return (ident or "").strip() or self.table.where(row)

    def notes(self) -> list[Problem]:
        """A warning per zone row with time in no deployment of its zone (that time counts
        for nothing): kind ``zone_not_deployed``, on the row's file and line."""
        out = []
        t = self.table
        rows, amounts = self.undeployed["row"].tolist(), self.undeployed["us"].tolist()
        for r, us in zip(rows, amounts, strict=True):
            zone = (t.zone[r].as_py() or "").strip()
            customer, service = t.keys[int(t.key[r])]
            shown = str(us // 1_000_000) + (
                f".{us % 1_000_000:06d}".rstrip("0") if us % 1_000_000 else ""
            )
            out.append(
                Problem(
                    t.files[int(t.file[r])],
                    int(t.line[r]) or None,
                    f"warning: {shown} s of this incident fall where customer '{customer}' "
                    f"(service '{service}') is not deployed in zone '{zone}': they count for "
                    "nothing",
                    "zone",
                    zone,
                    kind="zone_not_deployed",
                )
            )
        return out


def key_incidents(
    table: IncidentTable,
    deployments: Deployments,
    rule: RuleOf,
    *,
    as_of: int | None = None,
) -> tuple[IncidentTable, ZoneTrace]:
    """The incident table with every zone row turned into key-level rows by ``rule`` (one
    rule for every key, or a function of the key giving its rule, None: the zone column is
    ignored for that key), and the trace. Ongoing rows and deployments end at ``as_of`` (as
    the engine would end them; None: never). Pure: the same inputs give the same rows.

    >>> from slacalc.terms.redundancy import parse_redundancy
    >>> rule, _ = parse_redundancy({"unit": "zone", "down_when": "all"})
    >>> out, trace = key_incidents(table, deployments, rule, as_of=as_of)  # doctest: +SKIP
    """
    if table.zone is None or not len(table):
        return table, ZoneTrace.empty(table)
    n = len(table)
    start = np.asarray(table.start, dtype=np.int64)
    end = np.asarray(table.end if as_of is None else effective_ends(table, as_of), dtype=np.int64)
    zone = trimmed(pc.fill_null(table.zone, ""))
    zoned = np.asarray(pc.greater(pc.binary_length(zone), 0))
    star_key = np.asarray(pc.equal(table.key_customer, EVERY_CUSTOMER))
    star = star_key[table.key] if table.n_keys else np.zeros(n, dtype=bool)

    # The rule of each key that may need one: the table's own keys with zone rows, and the
    # deployments' keys (a zone row of customer "*" reaches those).
    own_zoned = np.bincount(table.key[zoned & ~star], minlength=table.n_keys) > 0
    dep_cust, dep_serv, dep_pair = _pairs(deployments.customer, deployments.service)
    if isinstance(rule, RedundancyRule):  # one rule: no key asked one by one
        rules = [rule]
        table_rule = np.where(own_zoned, 0, -1)
        dep_key_rule = np.zeros(len(dep_cust), dtype=np.int64)
    else:
        rule_index: dict[RedundancyRule, int] = {}

        def index_of(r: RedundancyRule | None) -> int:
            return -1 if r is None else rule_index.setdefault(r, len(rule_index))

        table_rule = np.full(table.n_keys, -1, dtype=np.int64)
        for k in np.flatnonzero(own_zoned).tolist():
            key = (table.key_customer[k].as_py(), table.key_service[k].as_py())
            table_rule[k] = index_of(rule(key))
        pairs = zip(dep_cust.to_pylist(), dep_serv.to_pylist(), strict=True)
        dep_key_rule = np.array([index_of(rule(key)) for key in pairs], dtype=np.int64)
        rules = list(rule_index)
    dep_ok = dep_key_rule[dep_pair] >= 0 if len(deployments) else np.zeros(0, dtype=bool)

    # Zone rows joined to the deployments of their (customer, service, zone): the pieces.
    ruled_row = zoned & ~star & (table_rule[table.key] >= 0)
    star_row = zoned & star
    row_c = table.key_customer.take(pa.array(table.key))
    row_s = table.key_service.take(pa.array(table.key))
    dep_rows = np.flatnonzero(dep_ok)
    deps = pa.table(
        {
            "d": pa.array(dep_rows),
            "c": deployments.customer.take(pa.array(dep_rows)),
            "s": deployments.service.take(pa.array(dep_rows)),
            "z": deployments.zone.take(pa.array(dep_rows)),
        }
    )

    def joined(rows: Any, on: list[str]) -> tuple[Any, Any]:
        if not len(rows) or not len(dep_rows):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        index = pa.array(rows)
        cols = {"r": index, "c": row_c.take(index), "s": row_s.take(index), "z": zone.take(index)}
        left = pa.table({c: v for c, v in cols.items() if c == "r" or c in on})
        right = deps.select(["d", *on])
        both = left.join(right, keys=on, join_type="inner", use_threads=False)
        return (
            np.asarray(both.column("r"), dtype=np.int64),
            np.asarray(both.column("d"), dtype=np.int64),
        )

    own_r, own_d = joined(np.flatnonzero(ruled_row), ["c", "s", "z"])
    star_r, star_d = joined(np.flatnonzero(star_row), ["s", "z"])
    piece_r = np.concatenate([own_r, star_r])
    piece_d = np.concatenate([own_d, star_d])
    piece_s = np.maximum(start[piece_r], deployments.start[piece_d])
    piece_e = np.minimum(end[piece_r], deployments.end[piece_d])
    live = piece_e > piece_s
    order = np.lexsort((piece_d, piece_r))
    piece_r, piece_d, piece_s, piece_e = (a[order] for a in (piece_r, piece_d, piece_s, piece_e))
    live = live[order]
    piece_r, piece_d, piece_s, piece_e = (a[live] for a in (piece_r, piece_d, piece_s, piece_e))
    undeployed = _undeployed(start, end, ruled_row, star_row, piece_r, piece_s, piece_e)

    # The transformed keys: the table's own keys with ruled zone rows, and the deployments'
    # keys a "*" zone row reached; one numbering for both, through the deployments' pairs.
    own_keys = np.flatnonzero(own_zoned & (table_rule >= 0))
    reached = np.unique(dep_pair[piece_d[star_row[piece_r]]])
    t_cust = pa.concat_arrays(
        [table.key_customer.take(pa.array(own_keys)), dep_cust.take(pa.array(reached))]
    )
    t_serv = pa.concat_arrays(
        [table.key_service.take(pa.array(own_keys)), dep_serv.take(pa.array(reached))]
    )
    if not len(t_cust):
        return table, ZoneTrace.empty(table)
    t_rule_all = np.concatenate([table_rule[own_keys], dep_key_rule[reached]])
    # One numbering of the transformed keys, the deployments' keys and the table's keys.
    _, _, codes = pair_codes(
        pa.concat_arrays([t_cust, dep_cust, table.key_customer]),
        pa.concat_arrays([t_serv, dep_serv, table.key_service]),
    )
    n_t, n_dep = len(t_cust), len(dep_cust)
    _, firsts = np.unique(codes[:n_t], return_index=True)
    firsts = np.sort(firsts)
    code_to_t = np.full(int(codes.max()) + 1, -1, dtype=np.int64)
    code_to_t[codes[firsts]] = np.arange(len(firsts))
    t_cust, t_serv = t_cust.take(pa.array(firsts)), t_serv.take(pa.array(firsts))
    t_rule = t_rule_all[firsts]
    dep_t = code_to_t[codes[n_t : n_t + n_dep]]
    table_t = np.where(star_key, -1, code_to_t[codes[n_t + n_dep :]])
    row_t = table_t[table.key]  # each row's transformed key (-1: passed through)
    piece_k = dep_t[dep_pair[piece_d]]

    # Zones: one number per (transformed key, zone) of the deployments.
    zone_words = deployments.zone.dictionary_encode()
    zone_code = np.asarray(zone_words.indices, dtype=np.int64)
    n_zones = max(len(zone_words.dictionary), 1)
    unit_of_dep = dep_t[dep_pair] * n_zones + zone_code if len(deployments) else zone_code

    # Impact levels: the distinct impacts of the down pieces and of the keys' own whole-key
    # rows, ascending, as integers over their common denominator.
    down = np.isin(table.category, DOWN_CODES)
    whole = (row_t >= 0) & ~zoned & (end > start)
    used = np.concatenate([table.impact[piece_r[down[piece_r]]], table.impact[whole & down]])
    values = sorted({Fraction(table.impacts[int(c)]) for c in np.unique(used).tolist()})
    m = len(values)
    level_of_code = np.zeros(max(len(table.impacts), 1), dtype=np.int64)
    for c in np.unique(used).tolist():
        level_of_code[c] = values.index(Fraction(table.impacts[c])) + 1
    piece_level = np.where(down[piece_r], level_of_code[table.impact[piece_r]], 0)

    # --- the zones' sweep: per (key, zone), when it is deployed, down at >= each level, and
    # in maintenance; each change of what it counts for becomes a key event.
    span_lo = int(min(piece_s.min(initial=NO_END), start[whole].min(initial=NO_END)))
    span_hi = int(max(piece_e.max(initial=0), end[whole].max(initial=0)))
    used_deps = np.flatnonzero(dep_ok & (dep_t[dep_pair] >= 0)) if len(deployments) else dep_rows
    d_s = np.maximum(deployments.start[used_deps], span_lo)
    d_e = np.minimum(deployments.end[used_deps], span_hi)
    keep = d_e > d_s
    used_deps, d_s, d_e = used_deps[keep], d_s[keep], d_e[keep]
    # kind: -1 deployed, 0 maintenance, j >= 1 down at level j
    u = np.concatenate([unit_of_dep[used_deps], unit_of_dep[piece_d]])
    s = np.concatenate([d_s, piece_s])
    e = np.concatenate([d_e, piece_e])
    kind = np.concatenate([np.full(len(used_deps), -1, dtype=np.int64), piece_level])
    ev_u, ev_t, ev_step, ev_kind = _events(u, s, e, kind)
    counters = [_count(ev_step, ev_kind == -1), _count(ev_step, ev_kind == 0)]
    counters += [_count(ev_step, ev_kind >= j) for j in range(1, m + 1)]
    last = _group_ends(ev_u, ev_t)
    dep_on = counters[0][last] > 0
    maint = counters[1][last] > 0
    ind = [dep_on]
    ind += [(c[last] > 0) & ~maint for c in counters[2:]]
    ind.append(maint | (counters[2][last] > 0) if m else maint)
    g_u = ev_u[last]
    first = np.ones(len(last), dtype=bool)
    first[1:] = g_u[1:] != g_u[:-1]
    deltas = []
    for flag in ind:
        f = flag.astype(np.int64)
        prev = np.concatenate([[0], f[:-1]])
        prev[first] = 0
        deltas.append(f - prev)
    moved = np.zeros(len(last), dtype=bool)
    for d in deltas:
        moved |= d != 0
    changed = np.flatnonzero(moved)
    z_key = g_u[changed] // n_zones
    z_t = ev_t[last][changed]
    z_delta = [d[changed] for d in deltas]  # deployed, level 1..m, counted-with-maintenance

    # --- the keys' own whole-key rows, as key events (down at each level, excluded)
    w = np.flatnonzero(whole)
    w_level = np.where(down[w], level_of_code[table.impact[w]], 0)
    wk, wt, wstep, wkind = _events(row_t[w], start[w], end[w], w_level)

    # --- the keys' sweep: every counter after each (key, time)
    n_z = len(z_key)
    k_key = np.concatenate([z_key, wk])
    k_t = np.concatenate([z_t, wt])
    order = _order(k_key, k_t)
    k_key, k_t = k_key[order], k_t[order]

    def col(zone_part: Any, whole_part: Any) -> Any:
        return np.cumsum(np.concatenate([zone_part, whole_part])[order])

    zeros_w = np.zeros(len(wk), dtype=np.int64)
    zeros_z = np.zeros(n_z, dtype=np.int64)
    c_dep = col(z_delta[0], zeros_w)
    c_lv = [col(z_delta[j], zeros_w) for j in range(1, m + 1)]
    c_x = col(z_delta[m + 1], zeros_w)
    u_lv = [col(zeros_z, np.where(wkind >= j, wstep, 0)) for j in range(1, m + 1)]
    u_x = col(zeros_z, np.where(wkind == 0, wstep, 0))
    ends_ = _group_ends(k_key, k_t)
    key_g, t_g = k_key[ends_], k_t[ends_]
    kinds = np.array([r.down_when == ALL for r in rules], dtype=bool)[t_rule]
    fixed = np.array([0 if r.down_when == ALL else r.needed(0) for r in rules])[t_rule]
    need = np.where(kinds[key_g], np.maximum(c_dep[ends_], 1), fixed[key_g])
    lz = np.zeros(len(ends_), dtype=np.int64)
    lu = np.zeros(len(ends_), dtype=np.int64)
    for j in range(m):
        lz += c_lv[j][ends_] >= need
        lu += u_lv[j][ends_] > 0
    excluded = (u_x[ends_] > 0) | ((lz == 0) & (lu == 0) & (c_x[ends_] >= need))
    level = np.where(excluded, 0, np.maximum(lz, lu))

    # Stretches between a key's consecutive event times.
    nxt = np.flatnonzero((key_g[1:] == key_g[:-1]) & (t_g[1:] > t_g[:-1]))
    shown = np.flatnonzero((level[nxt] > 0) | excluded[nxt])  # what the trace keeps
    seg_k, seg_s, seg_e = key_g[nxt], t_g[nxt], t_g[nxt + 1]
    seg_l, seg_x = level[nxt].copy(), excluded[nxt]

    # min_period_seconds: runs of nonzero loss shorter than the key's minimum count 0.
    min_us = np.array([r.min_period_us for r in rules], dtype=np.int64)[t_rule]
    downs = seg_l > 0
    new_run = downs.copy()
    new_run[1:] &= ~(downs[:-1] & (seg_k[1:] == seg_k[:-1]) & (seg_s[1:] == seg_e[:-1]))
    run = np.cumsum(new_run) - 1
    dropped = np.zeros(len(seg_l), dtype=bool)
    if downs.any() and min_us.any():
        r_first = np.flatnonzero(new_run)
        r_last = np.flatnonzero(downs & np.append(new_run[1:] | ~downs[1:], True))
        r_start, r_end = seg_s[r_first], seg_e[r_last]
        short = (r_end != NO_END) & (r_end - r_start < min_us[seg_k[r_first]])
        dropped = downs & short[np.maximum(run, 0)]
        seg_l = np.where(dropped, 0, seg_l)

    # Output stretches: consecutive segments of one key, level and exclusion merged.
    keep = (seg_l > 0) | seg_x
    starts = keep.copy()
    starts[1:] &= ~(
        keep[:-1]
        & (seg_k[1:] == seg_k[:-1])
        & (seg_s[1:] == seg_e[:-1])
        & (seg_l[1:] == seg_l[:-1])
        & (seg_x[1:] == seg_x[:-1])
    )
    firsts = np.flatnonzero(starts)
    group = np.cumsum(starts) - 1
    lasts = np.zeros(len(firsts), dtype=np.int64)
    lasts[group[keep]] = np.flatnonzero(keep)  # the last segment of each stretch
    o_k, o_s, o_e = seg_k[firsts], seg_s[firsts], seg_e[lasts]
    o_l, o_x = seg_l[firsts], seg_x[firsts]

    # Provenance: the pieces and whole-key rows of each stretch's key that overlap it.
    c_k = np.concatenate([piece_k, row_t[w]])
    c_s = np.concatenate([piece_s, start[w]])
    c_e = np.concatenate([piece_e, end[w]])
    c_row = np.concatenate([piece_r, w])
    c_zone = pa.concat_arrays([zone.take(pa.array(piece_r)), pa.array([""] * len(w), pa.string())])
    pair_o, pair_c = _overlapping(o_k, o_s, o_e, c_k, c_s, c_e)
    o_rows, ids, zones_text = _provenance(table, len(o_k), pair_o, c_row[pair_c], c_zone, pair_c)

    # Data-loss markers: each data-loss row of a transformed key, kept at its start, no length.
    loss_rows = np.flatnonzero((table.category == _LOSS) & (row_t >= 0))
    star_loss = np.flatnonzero(table.category[piece_r] == _LOSS)
    mark_r = np.concatenate([loss_rows, piece_r[star_loss]])
    mark_k = np.concatenate([row_t[loss_rows], piece_k[star_loss]])
    mark = np.unique(np.stack([mark_k, mark_r]), axis=1) if len(mark_r) else np.zeros((2, 0), int)
    mark_k, mark_r = mark[0].astype(np.int64), mark[1].astype(np.int64)

    impacts: list[Fraction | int] = [1 if v == 1 else v for v in values] or [1]
    cust, serv = t_cust, t_serv
    all_k = np.concatenate([o_k, mark_k])
    first_row = np.concatenate([o_rows, mark_r])
    new = from_columns(
        customers=cust.take(pa.array(all_k)),
        services=serv.take(pa.array(all_k)),
        start=np.concatenate([o_s, start[mark_r]]),
        end=np.concatenate([o_e, start[mark_r]]),
        category=np.concatenate([np.where(o_x, _EXCL, _OUT), np.full(len(mark_r), _LOSS)]).astype(
            np.int8
        ),
        impact=np.concatenate(
            [np.maximum(o_l - 1, 0), np.zeros(len(mark_r), dtype=np.int64)]
        ).astype(np.int32),
        impacts=impacts,
        file=np.concatenate([table.file[first_row]]) if len(first_row) else np.zeros(0),
        files=list(table.files),
        line=table.line[first_row] if len(first_row) else np.zeros(0),
        incident_id=pa.concat_arrays([ids, table.incident_id.take(pa.array(mark_r))]),
        source=pa.concat_arrays([zones_text, pa.array([""] * len(mark_r), pa.string())]),
        zone=pa.array([""] * (len(o_k) + len(mark_r)), pa.string()),
    )
    if table.start_text is not None:  # explain shows each row as read: these as made, in UTC
        from datetime import UTC

        from slacalc.dates.instants import format_instant

        new.start_text, new.end_text = (
            pa.array([format_instant(int(v), UTC) for v in values], pa.string())
            for values in (new.start, new.end)
        )
    kept = np.flatnonzero((row_t < 0) & ~star_row)
    out = concat_tables([table.take(kept), new]) if len(kept) else new

    trace = ZoneTrace(
        key_customer=t_cust,
        key_service=t_serv,
        rules=rules,
        key_rule=t_rule,
        levels=[Fraction(0), *values],
        pieces={
            "key": piece_k,
            "zone": zone.take(pa.array(piece_r)),
            "start": piece_s,
            "end": piece_e,
            "row": piece_r,
            "level": piece_level,
        },
        periods={
            "key": seg_k[shown],
            "start": seg_s[shown],
            "end": seg_e[shown],
            "level": level[nxt][shown],
            "excluded": seg_x[shown],
            "dropped": dropped[shown],
        },
        undeployed=undeployed,
        table=table,
    )
    return out, trace


def _pairs(customers: Any, services: Any) -> tuple[Any, Any, Any]:
    """The distinct (customer, service) pairs, in order of appearance (their customers and
    services), and each row's pair number."""
    if not len(customers):
        empty = pa.array([], pa.string())
        return empty, empty, np.zeros(0, dtype=np.int64)
    cust, serv, codes = pair_codes(customers, services)
    return cust, serv, np.asarray(codes, dtype=np.int64)


def _events(unit: Any, s: Any, e: Any, kind: Any) -> tuple[Any, Any, Any, Any]:
    """Start (+1) and end (-1) events of intervals, sorted by (unit, time)."""
    n = len(unit)
    ev_u = np.concatenate([unit, unit]).astype(np.int64)
    ev_t = np.concatenate([s, e]).astype(np.int64)
    step = np.concatenate([np.ones(n, dtype=np.int64), -np.ones(n, dtype=np.int64)])
    ev_kind = np.concatenate([kind, kind])
    order = _order(ev_u, ev_t)
    return ev_u[order], ev_t[order], step[order], ev_kind[order]


def _order(a: Any, t: Any) -> Any:
    """The order of (a, t) pairs (a >= 0): one sort of packed int64 values when they fit (in
    whole seconds when every instant is one, as logs write them), else a lexsort. Ties may go
    any way: the sweeps read the state after a tie only."""
    if not len(a):
        return np.zeros(0, dtype=np.int64)
    lo, hi = int(t.min()), int(t.max())
    unit = 1_000_000 if not np.any(t % 1_000_000) else 1
    width = (hi - lo) // unit + 1
    if (int(a.max()) + 1) * width < (1 << 62):
        return np.argsort(a * width + (t - lo) // unit)
    return np.lexsort((t, a))


def _count(step: Any, which: Any) -> Any:
    """Running count of the active intervals selected by ``which``."""
    return np.cumsum(np.where(which, step, 0))


def _group_ends(a: Any, t: Any) -> Any:
    """The last index of each run of equal (a, t) in sorted arrays: where the state is read."""
    if not len(a):
        return np.zeros(0, dtype=np.int64)
    last = np.ones(len(a), dtype=bool)
    last[:-1] = (a[1:] != a[:-1]) | (t[1:] != t[:-1])
    return np.flatnonzero(last)


def _undeployed(
    start: Any, end: Any, own: Any, star: Any, r: Any, s: Any, e: Any
) -> dict[str, Any]:
    """Zone rows with time in no deployment of their zone, and how much (microseconds).

    An own row's pieces are disjoint (one zone's deployments never overlap), so their total
    is its deployed time. A ``*`` row is joined once per deployed customer: it is reported
    only when no customer is deployed in its zone at all (its whole time then counts for
    nobody)."""
    covered = np.zeros(len(start), dtype=np.int64)
    if len(r):  # the pieces are sorted by row: one sum per row
        heads = np.flatnonzero(np.diff(r, prepend=-1))
        sums = np.add.reduceat(np.minimum(e - s, NO_END // 4), heads)
        covered[r[heads]] = np.where(star[r[heads]], NO_END, sums)
    length = np.minimum(end, NO_END // 2) - np.maximum(start, -(NO_END // 2))
    missing = np.where(star, np.where(covered > 0, 0, length), length - covered)
    rows = np.flatnonzero((own | star) & (end > start) & (missing > 0))
    return {"row": rows, "us": missing[rows]}


def _overlapping(o_k: Any, o_s: Any, o_e: Any, c_k: Any, c_s: Any, c_e: Any) -> tuple[Any, Any]:
    """Pairs (stretch, contributor) of one key whose intervals overlap. The stretches are
    sorted by (key, start) and disjoint within a key: each contributor's stretches are a
    contiguous range, found by binary search on (key, time rank) codes."""
    if not len(o_k) or not len(c_k):
        z = np.zeros(0, dtype=np.int64)
        return z, z
    mine = np.flatnonzero(np.isin(c_k, o_k))  # only the keys with stretches
    pair_o, pair_c = _overlapping_of(o_k, o_s, o_e, c_k[mine], c_s[mine], c_e[mine])
    return pair_o, mine[pair_c]


def _overlapping_of(o_k: Any, o_s: Any, o_e: Any, c_k: Any, c_s: Any, c_e: Any) -> tuple:
    times = np.sort(np.concatenate([o_s, o_e, c_s, c_e]))
    width = len(times) + 1

    def code(k: Any, t: Any, side: str = "left") -> Any:
        return k * width + np.searchsorted(times, t, side=side)

    lo = np.searchsorted(code(o_k, o_e), code(c_k, c_s), side="right")
    hi = np.searchsorted(code(o_k, o_s), code(c_k, c_e), side="left")
    count = np.maximum(hi - lo, 0)
    pair_c = np.repeat(np.arange(len(c_k)), count)
    offsets = np.repeat(lo - np.concatenate([[0], np.cumsum(count)[:-1]]), count)
    pair_o = np.arange(len(pair_c)) + offsets
    return pair_o, pair_c


def _provenance(
    table: IncidentTable, n_out: int, pair_o: Any, rows: Any, c_zone: Any, pair_c: Any
) -> tuple[Any, Any, Any]:
    """Each stretch's first source row, its incident ids joined with ``+`` and its zones as
    ``zones:a+b`` (both distinct, in order of first appearance by start)."""
    first = np.zeros(n_out, dtype=np.int64)
    if not n_out:
        empty = pa.array([], pa.string())
        return first, empty, empty
    order = np.lexsort((table.start[rows], pair_o))
    pair_o, rows, pair_c = pair_o[order], rows[order], pair_c[order]
    head = np.ones(len(pair_o), dtype=bool)
    head[1:] = pair_o[1:] != pair_o[:-1]
    first[pair_o[head]] = rows[head]

    def joined(values: Any, prefix: str) -> Any:
        # distinct (stretch, value) pairs, kept in the order they first appear
        words = values.dictionary_encode()
        code = np.asarray(words.indices, dtype=np.int64)
        width = max(len(words.dictionary), 1)
        _, at = np.unique(pair_o * width + code, return_index=True)
        at = np.sort(at)
        nonblank = np.asarray(pc.greater(pc.binary_length(words.dictionary), 0))
        at = at[nonblank[code[at]]] if len(words.dictionary) else at[:0]
        offsets = np.searchsorted(pair_o[at], np.arange(n_out + 1), side="left")
        lists = pa.ListArray.from_arrays(
            pa.array(offsets, pa.int32()), words.dictionary.take(pa.array(code[at]))
        )
        text = pc.binary_join(lists, "+")
        if not prefix:
            return text
        return pc.if_else(
            pc.greater(pc.binary_length(text), 0),
            pc.binary_join_element_wise(prefix, text, ""),
            text,
        )

    ids = trimmed(pc.fill_null(table.incident_id.take(pa.array(rows)), ""))
    return first, joined(ids, ""), joined(c_zone.take(pa.array(pair_c)), "zones:")
