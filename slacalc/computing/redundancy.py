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
integer levels (exact fractions), no floats. Two sweeps: the zones' (each zone's pieces become
stretches of one state) and the keys' (the zones' stretches, whole-key rows and changing
deployments become the key's loss). What keeps it within a small factor of the engine's own
run (issue 22; ``bench/redundancy.py``): keys and zones are integer codes, so rows meet their
deployments by a lookup, not a string join; the rule function is asked once per key; events
are sorted as packed int64 values by the engine's sort (:func:`slacalc.speed.packs` holds
the bound); a zone deployed over the whole span is a count, not two events; and a piece that
meets no other of its zone is a stretch as it is, one that overlaps nothing else of its key
(where the key needs two zones or more) cannot down it and skips both sweeps. Where a packed
value would not fit, the same steps run unpacked, every piece through both sweeps.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from slacalc import speed
from slacalc.computing.engine import _sorted_events, effective_ends
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

    def notes(self, *, stars: bool = True) -> list[Problem]:
        """A warning per zone row with time in no deployment of its zone (that time counts
        for nothing): kind ``zone_not_deployed``, on the row's file and line, in row order.
        ``stars=False`` leaves out the rows of customer ``*`` (a bucket of customers sees only
        its own deployments: those rows are warned of once, from all of them)."""
        out = []
        t = self.table
        rows, amounts = self.undeployed["row"].tolist(), self.undeployed["us"].tolist()
        for r, us in sorted(zip(rows, amounts, strict=True)):
            zone = (t.zone[r].as_py() or "").strip()
            k = int(t.key[r])  # one key's words (t.keys would make every key's tuple)
            customer, service = t.key_customer[k].as_py(), t.key_service[k].as_py()
            if customer == EVERY_CUSTOMER and not stars:
                continue
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
    reach: Callable[[str], Collection[str]] | None = None,
) -> tuple[IncidentTable, ZoneTrace]:
    """The incident table with every zone row turned into key-level rows by ``rule`` (one
    rule for every key, or a function of the key giving its rule, None: the zone column is
    ignored for that key), and the trace. Ongoing rows and deployments end at ``as_of`` (as
    the engine would end them; None: never). Pure: the same inputs give the same rows.

    A row of customer ``*`` without a zone is a row of every customer ``reach(service)``
    names (the contracts': :meth:`ContractBook.customers_of`): a transformed key of such a
    customer takes it as a whole-key row of its own, in the same sweep as its zones (so it
    is never hidden by a zone's maintenance, and ``min_period_seconds`` sees it), and the
    engine must then leave that key out of the ``*`` rows' reach
    (:func:`~slacalc.computing.keys.customer_wide`'s ``sealed``).

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

    # One numbering of the table's keys and the deployments' (customer, service) pairs.
    n_tk, n_dep = table.n_keys, len(deployments)
    _, _, pair = pair_codes(
        pa.concat_arrays([table.key_customer, deployments.customer]),
        pa.concat_arrays([table.key_service, deployments.service]),
    )
    pair = np.asarray(pair, dtype=np.int64)
    n_pairs = int(pair.max()) + 1 if len(pair) else 0
    key_pair, dep_pair = pair[:n_tk], pair[n_tk:]

    # The rule of each pair that may need one: the table's own keys with zone rows, and (when a
    # zone row of customer "*" may reach them) the deployments' pairs; each asked once.
    own_zoned = np.bincount(table.key[zoned & ~star], minlength=n_tk) > 0
    star_row = zoned & star
    asked = np.zeros(n_pairs, dtype=bool)
    asked[key_pair[own_zoned]] = True
    if star_row.any():
        asked[dep_pair] = True
    pair_rule = np.full(n_pairs, -1, dtype=np.int64)
    firsts = _first_positions(pair)  # where each pair first appears
    pair_cust = pa.concat_arrays([table.key_customer, deployments.customer])
    pair_serv = pa.concat_arrays([table.key_service, deployments.service])
    if isinstance(rule, RedundancyRule):  # one rule: no key asked one by one
        rules = [rule]
        pair_rule[asked] = 0
    else:
        pairs = np.flatnonzero(asked)
        at = pa.array(firsts[pairs])
        keys = zip(pair_cust.take(at).to_pylist(), pair_serv.take(at).to_pylist(), strict=True)
        rules, pair_rule[pairs] = _numbered_rules(list(map(rule, keys)))

    # The transformed keys: the table's own keys with ruled zone rows (in the table's order),
    # then the deployments' keys a "*" zone row reaches (found below; in the file's order).
    transformed = np.zeros(n_pairs, dtype=bool)
    transformed[key_pair[own_zoned]] = True
    transformed &= pair_rule >= 0
    ruled_row = zoned & ~star & transformed[key_pair[table.key]]

    # Zones: one code for the rows' and the deployments' zone names.
    zone_words = pa.concat_arrays([zone, deployments.zone]).dictionary_encode()
    zone_code = np.asarray(zone_words.indices, dtype=np.int64)
    row_zone, dep_zone = zone_code[:n], zone_code[n:]
    n_zones = max(len(zone_words.dictionary), 1)

    # Zone rows joined to the deployments of their (customer, service, zone): the pieces.
    dep_ok = pair_rule[dep_pair] >= 0 if n_dep else np.zeros(0, dtype=bool)
    own_r, own_d = _joined(
        np.flatnonzero(ruled_row),
        key_pair[table.key] * n_zones + row_zone,
        np.flatnonzero(dep_ok & transformed[dep_pair]),
        dep_pair * n_zones + dep_zone,
    )
    if star_row.any():
        serv_words = pair_serv.dictionary_encode()
        serv_code = np.asarray(serv_words.indices, dtype=np.int64)
        row_serv, dep_serv = serv_code[:n_tk][table.key], serv_code[n_tk:]
        star_r, star_d = _joined(
            np.flatnonzero(star_row),
            row_serv * n_zones + row_zone,
            np.flatnonzero(dep_ok),
            dep_serv * n_zones + dep_zone,
        )
        piece_r = np.concatenate([own_r, star_r])
        piece_d = np.concatenate([own_d, star_d])
        order = np.lexsort((piece_d, piece_r))
        piece_r, piece_d = piece_r[order], piece_d[order]
    else:
        piece_r, piece_d = own_r, own_d
    piece_s = np.maximum(start[piece_r], deployments.start[piece_d])
    piece_e = np.minimum(end[piece_r], deployments.end[piece_d])
    live = piece_e > piece_s
    piece_r, piece_d, piece_s, piece_e = (a[live] for a in (piece_r, piece_d, piece_s, piece_e))
    undeployed = _undeployed(start, end, ruled_row, star_row, piece_r, piece_s, piece_e)
    t_pairs = np.flatnonzero(transformed)
    reached = piece_d[star_row[piece_r]]  # the deployments "*" rows reached
    if len(reached):
        reached = np.unique(reached)  # in file order: their keys by first appearance
        _, at = np.unique(dep_pair[reached], return_index=True)
        more = dep_pair[reached[np.sort(at)]]
        t_pairs = np.concatenate([t_pairs, more[~transformed[more]]])
    if not len(t_pairs):  # no key to transform: the '*' zone rows reached no deployment
        trace = replace(ZoneTrace.empty(table), undeployed=undeployed)
        return (table.take(np.flatnonzero(~star_row)) if star_row.any() else table), trace
    pair_t = np.full(n_pairs, -1, dtype=np.int64)
    pair_t[t_pairs] = np.arange(len(t_pairs))
    at = pa.array(firsts[t_pairs])
    t_cust, t_serv = pair_cust.take(at), pair_serv.take(at)
    t_rule = pair_rule[t_pairs]
    row_t = np.where(star_key, -1, pair_t[key_pair])[table.key]
    dep_t = pair_t[dep_pair]
    piece_k = dep_t[piece_d]

    # The whole-key rows of each transformed key: its own, and the '*' rows it is reached by.
    down = np.isin(table.category, DOWN_CODES)
    whole = (row_t >= 0) & ~zoned & (end > start)
    w = np.flatnonzero(whole)
    w_k = row_t[w]
    if reach is not None:
        w, w_k = _with_star_rows(
            w, w_k, star & ~zoned & (end > start), table, t_cust, t_serv, reach
        )

    # Impact levels: the distinct impacts of the down pieces and of the keys' whole-key rows,
    # ascending, as integers over their common denominator.
    n_codes = max(len(table.impacts), 1)
    seen = np.bincount(table.impact[piece_r[down[piece_r]]], minlength=n_codes) > 0
    seen |= np.bincount(table.impact[w[down[w]]], minlength=n_codes) > 0
    used = np.flatnonzero(seen).tolist()
    values = sorted({Fraction(table.impacts[c]) for c in used})
    m = len(values)
    level_of_code = np.zeros(n_codes, dtype=np.int64)
    for c in used:
        level_of_code[c] = values.index(Fraction(table.impacts[c])) + 1
    piece_level = np.where(down[piece_r], level_of_code[table.impact[piece_r]], 0)

    # --- the zones' sweep: per (key, zone), the largest level its pieces are down at, and
    # whether one is maintenance; each stretch of one state becomes a key-level interval.
    w_level = np.where(down[w], level_of_code[table.impact[w]], 0)
    span_lo = int(min(piece_s.min(initial=NO_END), start[w].min(initial=NO_END)))
    span_hi = int(max(piece_e.max(initial=0), end[w].max(initial=0)))
    # --- the deployed zones of each key (for "all"): a zone deployed over the whole span
    # counts as a constant, the others as intervals in the keys' sweep.
    used_deps = np.flatnonzero(dep_t >= 0) if n_dep else np.zeros(0, dtype=np.int64)
    n_t = len(t_rule)
    static, d_key, d_s, d_e = _deployed(
        dep_t[used_deps] * n_zones + dep_zone[used_deps],
        np.maximum(deployments.start[used_deps], span_lo),
        np.minimum(deployments.end[used_deps], span_hi),
        (span_lo, span_hi),
        n_zones,
        n_t,
    )

    # A piece that overlaps nothing else of its key (no other piece, no whole-key row) cannot
    # down or exclude a key that needs two zones or more at every instant: it skips the sweeps.
    kinds = np.array([r.down_when == ALL for r in rules], dtype=bool)[t_rule]
    fixed = np.array([0 if r.down_when == ALL else r.needed(0) for r in rules])[t_rule]
    least = np.where(kinds, np.maximum(static, 1), fixed)  # the fewest zones a key needs
    swept = np.flatnonzero(
        (least[piece_k] < 2)
        | ~_alone(
            np.concatenate([piece_k, w_k]),
            np.concatenate([piece_s, start[w]]),
            np.concatenate([piece_e, end[w]]),
            (span_lo, span_hi),
        )[: len(piece_k)]
    )
    z_key, z_s, z_e, z_state = _zone_stretches(
        piece_k[swept] * n_zones + dep_zone[piece_d[swept]],
        piece_s[swept],
        piece_e[swept],
        piece_level[swept],
        m,
        n_zones,
    )

    # --- the keys' sweep: every interval of a key as a coded event; codes 1..m a zone down
    # at that level (and counted with maintenance), m + 1 a zone counted only with
    # maintenance, m + 1 + j a whole-key row down at level j, 2m + 2 a whole-key exclusion,
    # 2m + 3 a deployment.
    k_key = np.concatenate([z_key, w_k, d_key])
    k_s = np.concatenate([z_s, start[w], d_s])
    k_e = np.concatenate([z_e, end[w], d_e])
    w_code = np.where(w_level > 0, m + 1 + w_level, 2 * m + 2)
    k_code = np.concatenate([z_state, w_code, np.full(len(d_key), 2 * m + 3)])
    key_g, t_g, step, code = _sorted_events(k_key, k_s, k_e, k_code, span_lo, span_hi)
    ends_ = _group_ends(key_g, t_g)
    key_g, t_g = key_g[ends_], t_g[ends_]

    def counted(which: Any) -> Any:  # the running count of the intervals ``which`` selects
        return np.cumsum(np.where(which, step, 0), dtype=np.int64)[ends_]

    need = fixed[key_g]
    alls = kinds[key_g]
    if alls.any():
        deployed = static[key_g] + counted(code == 2 * m + 3)
        need = np.where(alls, np.maximum(deployed, 1), need)
    lz = np.zeros(len(ends_), dtype=np.int64)
    lu = np.zeros(len(ends_), dtype=np.int64)
    zone_code_ = (code >= 1) & (code <= m)
    for j in range(1, m + 1):
        lz += counted(zone_code_ & (code >= j)) >= need
        lu += counted((code >= m + 1 + j) & (code <= 2 * m + 1)) > 0
    c_x = counted(code <= m + 1)
    u_x = counted(code == 2 * m + 2) > 0
    excluded = u_x | ((lz == 0) & (lu == 0) & (c_x >= need))
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

    # Provenance: the pieces and whole-key rows of each stretch's key that overlap it (a piece
    # that skipped the sweeps overlaps no stretch).
    c_k = np.concatenate([piece_k[swept], w_k])
    c_s = np.concatenate([piece_s[swept], start[w]])
    c_e = np.concatenate([piece_e[swept], end[w]])
    c_row = np.concatenate([piece_r[swept], w])
    blank = pa.repeat(pa.scalar("", pa.string()), len(w))
    c_zone = pa.concat_arrays([zone.take(pa.array(piece_r[swept])), blank])
    pair_o, pair_c = _overlapping(o_k, o_s, o_e, c_k, c_s, c_e)
    o_rows, ids, zones_text = _provenance(table, len(o_k), pair_o, c_row[pair_c], c_zone, pair_c)

    # Data-loss markers: each data-loss row of a transformed key, kept at its start, no length.
    loss_rows = np.flatnonzero((table.category == _LOSS) & (row_t >= 0))
    star_loss = np.flatnonzero(table.category[piece_r] == _LOSS)
    reached_loss = np.flatnonzero((table.category[w] == _LOSS) & (row_t[w] < 0))
    mark_r = np.concatenate([loss_rows, piece_r[star_loss], w[reached_loss]])
    mark_k = np.concatenate([row_t[loss_rows], piece_k[star_loss], w_k[reached_loss]])
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


def _with_star_rows(
    w: Any,
    w_k: Any,
    star_whole: Any,
    table: IncidentTable,
    t_cust: Any,
    t_serv: Any,
    reach: Callable[[str], Collection[str]],
) -> tuple[Any, Any]:
    """The whole-key rows ``w`` (of keys ``w_k``) and, for each transformed key, the rows of
    customer ``*`` (``star_whole`` selects them) of its service whose reach names it."""
    rows = np.flatnonzero(star_whole)
    if not len(rows) or not len(t_cust):
        return w, w_k
    services = table.key_service.take(pa.array(table.key[rows])).to_pylist()
    by_service: dict[str, list[int]] = {}
    for r, s in zip(rows.tolist(), services, strict=True):
        by_service.setdefault(s, []).append(r)
    extra_r, extra_k = [], []
    customers, keys_services = t_cust.to_pylist(), t_serv.to_pylist()
    reached = {s: set(reach(s)) for s in by_service}
    for k, (c, s) in enumerate(zip(customers, keys_services, strict=True)):
        if s in by_service and c in reached[s]:
            extra_r += by_service[s]
            extra_k += [k] * len(by_service[s])
    if not extra_r:
        return w, w_k
    w = np.concatenate([w, np.array(extra_r, dtype=np.int64)])
    w_k = np.concatenate([w_k, np.array(extra_k, dtype=np.int64)])
    return w, w_k


def _first_positions(codes: Any) -> Any:
    """Where each code first appears, by code, for codes numbered in order of first
    appearance (as :func:`pair_codes` numbers pairs): a position is a first one when its code
    is above every code before it."""
    if not len(codes):
        return np.zeros(0, dtype=np.int64)
    new = np.ones(len(codes), dtype=bool)
    new[1:] = codes[1:] > np.maximum.accumulate(codes)[:-1]
    return np.flatnonzero(new)


def _numbered_rules(found: list[RedundancyRule | None]) -> tuple[list[RedundancyRule], Any]:
    """The distinct rules of ``found`` (in order of first appearance, equal rules once) and
    each one's number among them (-1 for None). A policy's rule is one object, so only the
    distinct objects are compared, not every key's."""
    ids = np.fromiter(map(id, found), dtype=np.uint64, count=len(found))
    distinct, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    rules: list[RedundancyRule] = []
    index: dict[RedundancyRule, int] = {}
    number = np.full(len(distinct), -1, dtype=np.int64)
    for d in np.argsort(first).tolist():
        r = found[int(first[d])]
        if r is not None:
            number[d] = index.setdefault(r, len(index))
            if number[d] == len(rules):
                rules.append(r)
    return rules, number[inverse.ravel()]


def _joined(rows: Any, row_unit: Any, deps: Any, dep_unit: Any) -> tuple[Any, Any]:
    """The pairs (row, deployment) of ``rows`` and ``deps`` with the same unit code (``row_unit``
    and ``dep_unit`` give every row's and deployment's, >= 0): by row, each row's deployments
    in file order. A hash-free join on integers: the deployments grouped by unit once, each
    row's group looked up (in a table by unit when the units are dense, else by binary
    search)."""
    if not len(rows) or not len(deps):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    du = dep_unit[deps]
    ru = row_unit[rows]
    size = int(max(du.max(), ru.max())) + 1
    if size <= 4 * (len(du) + len(ru)) + (1 << 20):
        count_of = np.bincount(du, minlength=size)
        if count_of.max() == 1:  # one deployment per unit (as most files have): a lookup
            only = np.full(size, -1, dtype=np.int64)
            only[du] = deps
            found = only[ru]
            hit = found >= 0
            return rows[hit], found[hit]
        order = np.argsort(du, kind="stable")
        lo = (np.cumsum(count_of) - count_of)[ru]
        count = count_of[ru]
    else:
        order = np.argsort(du, kind="stable")
        du = du[order]
        lo = np.searchsorted(du, ru, side="left")
        count = np.searchsorted(du, ru, side="right") - lo
    total = int(count.sum())
    r = np.repeat(rows, count)
    at = np.arange(total, dtype=np.int64) + np.repeat(lo - (np.cumsum(count) - count), count)
    return r, deps[order[at]]


def _alone(key: Any, s: Any, e: Any, span: tuple[int, int], *, touching: bool = False) -> Any:
    """Which intervals (``s`` < ``e``, within ``span``) overlap no other interval of their key
    (``touching``: nor touch one). Sorted by (key, start) as packed int64 values: an interval
    meets an earlier one when it starts before (or at) the largest end so far in its key, and
    then the one just before it meets its own successor. When the values do not fit, every
    interval counts as meeting another (the sweeps then see them all: slower, the same
    result)."""
    lo, hi = span
    packed = speed.packs(int(key.max(initial=0)) + 1, hi - lo, 1, s - lo, e - lo)
    if packed is None or not len(key):
        return np.zeros(len(key), dtype=bool)
    unit, width = packed
    base = key * width
    starts = base + (s - lo) // unit
    order = np.argsort(starts)
    starts = starts[order]
    ends = (base + (e - lo) // unit)[order]
    reach = np.maximum.accumulate(ends)  # the largest end so far: of this key, or below it
    meets = np.zeros(len(key), dtype=bool)
    meets[1:] = starts[1:] <= reach[:-1] if touching else starts[1:] < reach[:-1]
    meets[:-1] |= meets[1:].copy()
    out = np.empty(len(key), dtype=bool)
    out[order] = ~meets
    return out


def _zone_stretches(
    unit: Any, s: Any, e: Any, level: Any, m: int, n_zones: int
) -> tuple[Any, Any, Any, Any]:
    """The stretches of one state of each zone (``unit`` = key x ``n_zones`` + zone) from its
    pieces (``level`` 0: maintenance, j: down at level j): ``(key, start, end, state)``, state
    j (1..m) while the zone is down at level j and in no maintenance, m + 1 while it is in
    maintenance (counted only with maintenance); stretches where it counts for nothing are
    left out, and consecutive stretches of one state are one."""
    if not len(unit):
        z = np.zeros(0, dtype=np.int64)
        return z, z, z, z
    # a piece that meets no other of its zone is a stretch as it is
    alone = _alone(unit, s, e, (int(s.min()), int(e.max())), touching=True)
    if alone.any():
        a, rest = np.flatnonzero(alone), np.flatnonzero(~alone)
        swept = _zone_stretches(unit[rest], s[rest], e[rest], level[rest], m, n_zones)
        own = (unit[a] // n_zones, s[a], e[a], np.where(level[a] > 0, level[a], m + 1))
        k, a_s, a_e, st = (np.concatenate([x, y]) for x, y in zip(own, swept, strict=True))
        return k, a_s, a_e, st
    ev_u, ev_t, step, lv = _sorted_events(unit, s, e, level, int(s.min()), int(e.max()))
    last = _group_ends(ev_u, ev_t)
    maint = np.cumsum(np.where(lv == 0, step, 0), dtype=np.int64)[last] > 0
    top = np.zeros(len(last), dtype=np.int64)  # the largest level down: how many are active
    for j in range(1, m + 1):
        top += np.cumsum(np.where(lv >= j, step, 0), dtype=np.int64)[last] > 0
    state = np.where(maint, m + 1, top)
    g_u, g_t = ev_u[last], ev_t[last]
    # every unit ends in state 0 (its pieces all end): a change opens each stretch, and the
    # next change (in the same unit) closes it
    prev = np.empty_like(state)
    prev[0] = 0
    prev[1:] = np.where(g_u[1:] == g_u[:-1], state[:-1], 0)
    changes = np.flatnonzero(state != prev)
    opens = np.flatnonzero(state[changes] > 0)
    at, to = changes[opens], changes[opens + 1]
    return g_u[at] // n_zones, g_t[at], g_t[to], state[at]


def _deployed(
    unit: Any, s: Any, e: Any, span: tuple[int, int], n_zones: int, n_keys: int
) -> tuple[Any, Any, Any, Any]:
    """The deployed zones of each key, from deployment intervals (``unit`` = key x ``n_zones``
    + zone, clipped to the ``span`` swept): how many zones each key has deployed over the
    whole span (a count per key), and the other intervals as ``(key, start, end)``, those of
    one zone that touch or overlap merged (a zone counts once)."""
    keep = e > s
    unit, s, e = unit[keep], s[keep], e[keep]
    lo, hi = span
    always = (s <= lo) & (e >= hi)
    per_unit = np.bincount(unit, minlength=1)
    if np.any(per_unit[unit[always]] > 1):  # a zone deployed throughout, twice or more
        always[always] = per_unit[unit[always]] == 1
    static = np.bincount(unit[always] // n_zones, minlength=n_keys)
    unit, s, e = unit[~always], s[~always], e[~always]
    order = np.lexsort((s, unit))
    unit, s, e = unit[order], s[order], e[order]
    same = unit[1:] == unit[:-1]
    if np.any(same & (s[1:] <= e[:-1])):  # touching (or, from a library caller, overlapping)
        merged: list[tuple[int, int, int]] = []
        for u, a, b in zip(unit.tolist(), s.tolist(), e.tolist(), strict=True):
            if merged and merged[-1][0] == u and a <= merged[-1][2]:
                merged[-1] = (u, merged[-1][1], max(merged[-1][2], b))
            else:
                merged.append((u, a, b))
        cols = np.array(merged, dtype=np.int64).reshape(-1, 3)
        unit, s, e = cols[:, 0], cols[:, 1], cols[:, 2]
    return static, unit // n_zones, s, e


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
    contiguous range, found by binary search on (key, time) codes."""
    if not len(o_k) or not len(c_k):
        z = np.zeros(0, dtype=np.int64)
        return z, z
    has = np.zeros(int(max(o_k.max(), c_k.max())) + 1, dtype=bool)
    has[o_k] = True
    mine = np.flatnonzero(has[c_k])  # only the keys with stretches
    pair_o, pair_c = _overlapping_of(o_k, o_s, o_e, c_k[mine], c_s[mine], c_e[mine])
    return pair_o, mine[pair_c]


def _overlapping_of(o_k: Any, o_s: Any, o_e: Any, c_k: Any, c_s: Any, c_e: Any) -> tuple:
    if not len(c_k):
        z = np.zeros(0, dtype=np.int64)
        return z, z
    lo = int(min(o_s.min(), c_s.min()))
    width = int(max(o_e.max(), c_e.max())) - lo + 1
    if speed.fits((int(max(o_k.max(), c_k.max())) + 1) * width):

        def code(k: Any, t: Any) -> Any:
            return k * width + (t - lo)

    else:  # times as their ranks among all of them: the same order, smaller codes
        times = np.sort(np.concatenate([o_s, o_e, c_s, c_e]))
        width = len(times) + 1

        def code(k: Any, t: Any) -> Any:
            return k * width + np.searchsorted(times, t)

    lo_ = np.searchsorted(code(o_k, o_e), code(c_k, c_s), side="right")
    hi_ = np.searchsorted(code(o_k, o_s), code(c_k, c_e), side="left")
    count = np.maximum(hi_ - lo_, 0)
    pair_c = np.repeat(np.arange(len(c_k)), count)
    offsets = np.repeat(lo_ - np.concatenate([[0], np.cumsum(count)[:-1]]), count)
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
