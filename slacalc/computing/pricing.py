"""Bands, breaches, prices and claim windows of every report row, as whole columns.

Rows are grouped by contract terms (fee, currency, committed tier, policy): each rule of
:mod:`slacalc.terms` (money, tiers, deadlines) is applied to the rows of one policy or tier at a
time, never row by row. Prices are exact: Python integers where a product's bound does not
fit ``int64`` (:mod:`slacalc.speed`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import numpy as np

from slacalc import speed
from slacalc.dates.instants import NO_INSTANT, from_us
from slacalc.model.contracts import Contract, ContractTable
from slacalc.model.table import index_of
from slacalc.terms import deadlines, money, numbers, tiers
from slacalc.terms.policy import BASE_MINUS_EXCLUDED, COEFFICIENT, Policy, check_claim_bounds

CLAIM_STATES = (
    "",
    deadlines.NOT_OPEN,
    deadlines.OPEN,
    deadlines.CLAIM_EXPIRED,
    deadlines.BELOW_MIN_CREDIT,
)


@dataclass
class Terms:
    """The contract terms of a report's keys, as arrays (a key's: ``of_key``): one entry per
    contract that prices some key."""

    contracts: ContractTable  # those contracts (``contracts[i]`` is one as an object)
    of_key: Any  # per key: index into contracts
    fee_num: Any  # per terms: the fee as an exact ratio (exact arrays: speed.column)
    fee_den: Any
    places: Any  # per terms: the currency's decimals
    policies: list[Policy]
    policy: Any  # per terms: index into policies
    tier: Any  # per terms: index of the committed tier in its policy's tiers

    @classmethod
    def of(cls, all_contracts: ContractTable | list[Contract], of_key: Any) -> Terms:
        """The terms of the contracts ``of_key`` picks out of ``all_contracts``."""
        table = ContractTable.of(all_contracts)
        of_key = np.asarray(of_key, dtype=np.int64)
        used = np.flatnonzero(np.bincount(of_key, minlength=len(table)))
        renumber = np.zeros(max(len(table), 1), dtype=np.int64)
        renumber[used] = np.arange(len(used))
        of_key = renumber[of_key] if len(of_key) else of_key
        contracts = table.take(used)
        # the policies in use, in order of first appearance
        distinct, first = np.unique(contracts.policy, return_index=True)
        in_order = distinct[np.argsort(first)]
        pindex = np.zeros(max(len(table.policies), 1), dtype=np.int64)
        pindex[in_order] = np.arange(len(in_order))
        places = np.array([money.minor_unit(c) for c in contracts.currencies] or [0], np.int64)
        return cls(
            contracts,
            of_key,
            contracts.fee_num,
            contracts.fee_den,
            places[contracts.currency] if len(contracts) else np.zeros(0, np.int64),
            [contracts.policies[i] for i in in_order.tolist()],
            pindex[contracts.policy] if len(contracts) else np.zeros(0, np.int64),
            contracts.tier,
        )


# What price() reads of each row.
_ROW_INPUTS = ("down", "den", "period", "excluded")


# The columns price() adds besides the base, each with its type and the value of a row no rule
# sets (None: every row is set).
_OUTPUTS = {
    "band": (np.int8, 0),  # a position among a policy's few tiers
    "breached": (np.bool_, None),
    "units": (np.int64, 0),  # Python integers only where a price needs them
    "capped": (np.bool_, False),
    "credit": (np.int32, -1),
    "claim_opens": (np.int64, NO_INSTANT),
    "claim_closes": (np.int64, NO_INSTANT),
    "claim": (np.int8, 0),
    "final": (np.bool_, None),
}


def price(cols: dict[str, Any], terms: Terms, n_m: int, ends: list[int], settings: Any) -> None:
    """Add every row's band, breach, price, cap, credit and claim to ``cols``.

    Rows are key-major: a large report is priced as two halves of its keys side by side, each
    writing into its own rows of the columns (joining two halves' columns copied every one of
    a 5M-row report's: a third of the pricing), their credit percentages renumbered into one
    list."""
    n_k = len(terms.of_key)
    n = n_k * n_m
    period = cols["period"]
    less = any(p.availability_base == BASE_MINUS_EXCLUDED for p in terms.policies)
    # each half sets its own rows of the columns (their first touch, side by side too)
    out = {name: np.empty(n, dtype=kind) for name, (kind, _) in _OUTPUTS.items()}
    # the availability base: the period, unless a policy takes excluded time off it
    out["base"] = period.copy() if less else period
    few_terms = len(terms.contracts) * speed.KEYS_PER_TERMS <= n_k
    if n_k < 2 or not speed.halves(n, at_least=speed.PARALLEL_PRICES) or not few_terms:
        cols.update(out)
        _price(cols, terms, n_m, ends, settings)
        return
    cut = (n_k // 2) * n_m
    halves = []
    for keys, rows in (
        (slice(0, n_k // 2), slice(0, cut)),
        (slice(n_k // 2, n_k), slice(cut, None)),
    ):
        part = {f: v if np.ndim(v) == 0 else v[rows] for f, v in cols.items() if f in _ROW_INPUTS}
        part.update({f: v[rows] for f, v in out.items()})
        halves.append((part, replace(terms, of_key=terms.of_key[keys])))
    (first, a), (second, b) = halves
    speed.both(
        lambda: _price(first, a, n_m, ends, settings),
        lambda: _price(second, b, n_m, ends, settings),
    )
    credits = list(first["credits"])
    renumber = np.array([index_of(credits, c) for c in second["credits"]] or [0], dtype=np.int64)
    if second["credits"] and (renumber != np.arange(len(renumber))).any():
        later = second["credit"]
        later[:] = np.where(later >= 0, renumber[np.maximum(later, 0)], -1)
    if speed.is_wide(first["units"]) or speed.is_wide(second["units"]):  # a price past int64
        out["units"] = np.concatenate([first["units"].astype(object), second["units"]])
    cols.update(out)
    cols["credits"] = credits


def _price(cols: dict[str, Any], terms: Terms, n_m: int, ends: list[int], settings: Any) -> None:
    """Price the rows of ``cols`` in place: its output columns (:data:`_OUTPUTS`) are given,
    unset, and filled; ``units`` is replaced by Python integers if a price needs them, and
    ``credits`` added."""
    for name, (_, value) in _OUTPUTS.items():
        if value is not None:
            cols[name].fill(value)
    n = len(terms.of_key) * n_m
    down, den, period, excluded = cols["down"], cols["den"], cols["period"], cols["excluded"]
    row_terms = np.repeat(terms.of_key, n_m)
    several = len(terms.policies) > 1
    row_policy = terms.policy[row_terms] if several else None
    band, base = cols["band"], cols["base"]
    met = np.zeros(n, dtype=bool)
    less = [p.availability_base == BASE_MINUS_EXCLUDED for p in terms.policies]
    for pi, policy in enumerate(terms.policies):
        # one policy (the usual report): every row, through views rather than copies
        rows: Any = np.flatnonzero(row_policy == pi) if several else slice(None)
        if less[pi]:
            base[rows] = period[rows] - excluded[rows]
        d, b = down[rows], base[rows]
        dd = den if np.ndim(den) == 0 else den[rows]
        allowed = tiers.allowance(b, dd)  # the bases looked through once for every tier
        band[rows] = tiers.band_positions(d, dd, b, policy.targets, allowed)
        if terms.tier.min() == terms.tier.max():  # one committed tier for every contract
            tier = policy.tiers[int(terms.tier[0])]
            met[rows] = np.asarray(tiers.meets(d, dd, b, tier.ratio, allowed), dtype=bool)
            continue
        of_rows = terms.tier[row_terms[rows]]
        for t, tier in enumerate(policy.tiers):
            sel = np.flatnonzero(of_rows == t)
            if len(sel):
                at = sel if isinstance(rows, slice) else rows[sel]
                met[at] = np.asarray(
                    tiers.meets(d[sel], dd if np.ndim(dd) == 0 else dd[sel], b[sel], tier.ratio),
                    dtype=bool,
                )
    breached = cols["breached"]
    np.logical_and(~met, base > 0, out=breached)
    del met
    units, capped, credit = cols["units"], cols["capped"], cols["credit"]
    credits: list[Decimal] = []
    hit = np.flatnonzero(breached)
    for pi, policy in enumerate(terms.policies):
        sel = hit[row_policy[hit] == pi] if several else hit
        if len(sel):
            u, cap, pct = _price_rows(policy, terms, sel, row_terms[sel], down, den, base)
            u = speed.narrowed(np.asarray(u))
            if speed.is_wide(u) and not speed.is_wide(units):
                units = units.astype(object)
            units[sel] = u
            capped[sel] = cap
            if pct is not None:
                for value in {v for v in pct.tolist() if v is not None}:
                    if value not in credits:
                        credits.append(value)
                codes = np.array([-1 if v is None else credits.index(v) for v in pct.tolist()])
                credit[sel] = codes
    cols.update(units=units, credits=credits)
    _claims(cols, terms, n_m, ends, settings)


def _price_rows(
    policy: Policy, terms: Terms, rows: Any, row_terms: Any, down: Any, den: Any, base: Any
) -> tuple[Any, Any, Any]:
    """Minor units, cap flags and (credit policies) credit % of breached rows of one policy.

    Everything per terms is an exact column (:func:`slacalc.speed.column`), so a cloud's
    hundred thousand contracts cost a few array operations, not a loop."""
    fee = (terms.fee_num, terms.fee_den)
    cap = money.cap_of(fee, numbers.ratio(policy.cap_pct))
    pct = None
    if policy.mode == COEFFICIENT:
        d = np.asarray(down[rows])
        dd = den if np.ndim(den) == 0 else np.asarray(den[rows])
        b = np.asarray(base[rows])
        # each terms' coefficient: its tier's in this policy (other policies' terms: unused)
        ratios = [numbers.ratio(t.coefficient or 0) for t in policy.tiers]
        tier = np.minimum(terms.tier, len(ratios) - 1)
        coefficient_num = speed.column([r[0] for r in ratios])
        coefficient = (coefficient_num[tier], speed.column([r[1] for r in ratios])[tier])
        # x * multiplier / divisor per terms; the divisor's per-row part is den x base
        _, multiplier, per_terms = money.coefficient_price(1, 1, 1, fee, coefficient)
        per_row = speed.product(speed.product(b, dd), per_terms[row_terms])
        units, capped = money.capped_units(d, per_row, row_terms, multiplier, cap, terms.places)
    else:
        d = np.asarray(down[rows]).astype(object)
        dd = den if np.ndim(den) == 0 else np.asarray(den[rows]).astype(object)
        b = np.asarray(base[rows]).astype(object)
        pct = band_credit(policy, terms.tier[row_terms], d, dd, b)
        # one price per (terms, credit %) a row has: a credit does not depend on the downtime
        shares = sorted({p for p in pct.tolist() if p is not None})
        code = np.array(
            [0 if p is None else shares.index(p) + 1 for p in pct.tolist()], dtype=np.int64
        )
        n_shares = len(shares) + 1
        combos, index = np.unique(row_terms * n_shares + code, return_inverse=True)
        of_terms, of_share = combos // n_shares, combos % n_shares
        ratios = [(0, 1), *(numbers.ratio(v) for v in shares)]
        share = (
            speed.column([r[0] for r in ratios])[of_share],
            speed.column([r[1] for r in ratios])[of_share],
        )
        _, multiplier, divisor = money.credit_price((fee[0][of_terms], fee[1][of_terms]), share)
        units, capped = money.capped_units(
            np.ones(len(rows), dtype=np.int64),
            divisor[index],
            index,
            multiplier,
            (cap[0][of_terms], cap[1][of_terms]),
            terms.places[of_terms],
        )
    if policy.min_credit:
        distinct = np.unique(terms.places)
        floor = {p: money.minor_units(policy.min_credit, p) for p in distinct.tolist()}
        floors = speed.column([floor[p] for p in distinct.tolist()])
        floor_of = floors[np.searchsorted(distinct, terms.places)][row_terms]
        below = np.asarray(units < floor_of, dtype=bool)
        units = np.where(below, 0, units)  # withheld; `capped` still says whether the cap bit
    return units, np.asarray(capped, dtype=bool), pct


def band_credit(policy: Policy, tier_of: Any, d: Any, dd: Any, b: Any) -> Any:
    """The credit % of the lowest band each row's availability falls under (None: none)."""
    out = np.full(len(d), None, dtype=object)
    for t, tier in enumerate(policy.tiers):
        sel = np.flatnonzero(tier_of == t)
        if not len(sel):
            continue
        for band in tier.bands:  # highest 'below' first: the lowest that applies wins
            under = ~np.asarray(
                tiers.meets(d[sel], dd if np.ndim(dd) == 0 else dd[sel], b[sel], band.below_ratio),
                dtype=bool,
            )
            out[sel[under]] = band.credit_pct
    return out


def _claims(cols: dict[str, Any], terms: Terms, n_m: int, ends: list[int], settings: Any) -> None:
    """Claim window and status of every breached row; provisional or final of every row."""
    tz, as_of = settings.tz, settings.as_of
    opens, closes, claim = cols["claim_opens"], cols["claim_closes"], cols["claim"]
    breached, units = cols["breached"], cols["units"]
    hit = np.flatnonzero(breached)
    row_policy = terms.policy[np.repeat(terms.of_key, n_m)][hit]
    month = hit % n_m
    for pi, policy in enumerate(terms.policies):
        window = policy.claim_window
        calendar = (
            settings.work_calendar
            if window is not None and window.opens_after_working_days
            else None
        )
        for j, end in enumerate(ends):
            sel = hit[(row_policy == pi) & (month == j)]
            if not len(sel):
                continue
            next_month = from_us(end, tz).date()
            o, c = deadlines.claim_bounds(window, next_month, tz, calendar)
            check_claim_bounds(policy, next_month, tz, o, c)
            opens[sel] = o
            closes[sel] = NO_INSTANT if c is None else c
            claim[sel] = CLAIM_STATES.index(deadlines.claim_status(o, c, as_of))
            if policy.min_credit:
                zero = sel[np.asarray(units[sel] == 0, dtype=bool)]
                claim[zero] = CLAIM_STATES.index(deadlines.BELOW_MIN_CREDIT)
    final = np.asarray(deadlines.period_final(np.array(ends, dtype=np.int64), as_of), dtype=bool)
    if n_m:  # row = key x months + month
        cols["final"].reshape(-1, n_m)[:] = final
