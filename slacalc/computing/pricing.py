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
from slacalc.reading.contracts import Contract
from slacalc.reading.table import index_of
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
    """The distinct contract terms of a report's keys, as arrays (a key's: ``of_key``)."""

    contracts: list[Contract]  # one per distinct terms
    of_key: Any  # per key: index into contracts
    fee_num: Any  # per terms: the fee as an exact ratio (object arrays of Python integers)
    fee_den: Any
    places: Any  # per terms: the currency's decimals
    policies: list[Policy]
    policy: Any  # per terms: index into policies
    tier: Any  # per terms: index of the committed tier in its policy's tiers

    @classmethod
    def of(cls, all_contracts: list[Contract], of_key: Any) -> Terms:
        """The terms of the contracts ``of_key`` picks out of ``all_contracts``."""
        of_key = np.asarray(of_key, dtype=np.int64)
        used = np.flatnonzero(np.bincount(of_key, minlength=len(all_contracts)))
        renumber = np.zeros(max(len(all_contracts), 1), dtype=np.int64)
        renumber[used] = np.arange(len(used))
        of_key = renumber[of_key] if len(of_key) else of_key
        contracts = [all_contracts[i] for i in used.tolist()]
        policies: list[Policy] = []
        pindex: dict[int, int] = {}
        for c in contracts:
            if id(c.policy) not in pindex:
                pindex[id(c.policy)] = len(policies)
                policies.append(c.policy)
        fees = [numbers.ratio(c.monthly_fee) for c in contracts]
        tier_index = {(id(p), id(t)): i for p in policies for i, t in enumerate(p.tiers)}
        return cls(
            contracts,
            of_key,
            np.array([f[0] for f in fees], dtype=object),
            np.array([f[1] for f in fees], dtype=object),
            np.array([money.minor_unit(c.currency) for c in contracts], dtype=np.int64),
            policies,
            np.array([pindex[id(c.policy)] for c in contracts], dtype=np.int64),
            np.array(
                [_tier_of(c, tier_index) for c in contracts],
                dtype=np.int64,
            ),
        )


# What price() reads of each row, and what it adds.
_ROW_INPUTS = ("down", "den", "period", "excluded")
_ROW_OUTPUTS = (
    "band",
    "breached",
    "units",
    "capped",
    "credit",
    "base",
    "claim_opens",
    "claim_closes",
    "claim",
    "final",
)


def _tier_of(contract: Contract, index: dict[tuple[int, int], int]) -> int:
    """The position of a contract's tier in its policy's tiers (by identity, else equality)."""
    found = index.get((id(contract.policy), id(contract.tier)))
    return found if found is not None else contract.policy.tiers.index(contract.tier)


def price(cols: dict[str, Any], terms: Terms, n_m: int, ends: list[int], settings: Any) -> None:
    """Add every row's band, breach, price, cap, credit and claim to ``cols``.

    Rows are key-major: a large report is priced as two halves of its keys side by side, and
    the halves' columns joined (their credit percentages renumbered into one list)."""
    n_k = len(terms.of_key)
    few_terms = len(terms.contracts) * speed.KEYS_PER_TERMS <= n_k
    if n_k < 2 or not speed.halves(n_k * n_m, at_least=speed.PARALLEL_PRICES) or not few_terms:
        _price(cols, terms, n_m, ends, settings)
        return
    cut = (n_k // 2) * n_m
    halves = []
    for keys, rows in (
        (slice(0, n_k // 2), slice(0, cut)),
        (slice(n_k // 2, n_k), slice(cut, None)),
    ):
        part = {f: v if np.ndim(v) == 0 else v[rows] for f, v in cols.items() if f in _ROW_INPUTS}
        halves.append((part, replace(terms, of_key=terms.of_key[keys])))
    (first, a), (second, b) = halves
    speed.both(
        lambda: _price(first, a, n_m, ends, settings),
        lambda: _price(second, b, n_m, ends, settings),
    )
    credits = list(first["credits"])
    renumber = np.array([index_of(credits, c) for c in second["credits"]] or [0], dtype=np.int64)
    later = second["credit"]
    second["credit"] = np.where(later >= 0, renumber[np.maximum(later, 0)], -1)
    cols.update({f: np.concatenate([first[f], second[f]]) for f in _ROW_OUTPUTS})
    cols["credits"] = credits


def _price(cols: dict[str, Any], terms: Terms, n_m: int, ends: list[int], settings: Any) -> None:
    n = len(terms.of_key) * n_m
    down, den, period, excluded = cols["down"], cols["den"], cols["period"], cols["excluded"]
    row_terms = np.repeat(terms.of_key, n_m)
    row_policy = terms.policy[row_terms]
    row_tier = terms.tier[row_terms]
    band = np.zeros(n, dtype=np.int64)
    met = np.zeros(n, dtype=bool)
    base = period.copy()
    for pi, policy in enumerate(terms.policies):
        rows = np.flatnonzero(row_policy == pi) if len(terms.policies) > 1 else np.arange(n)
        if policy.availability_base == BASE_MINUS_EXCLUDED:
            base[rows] = period[rows] - excluded[rows]
        d, b = down[rows], base[rows]
        dd = den if np.ndim(den) == 0 else den[rows]
        band[rows] = tiers.band_positions(d, dd, b, policy.targets)
        for t, tier in enumerate(policy.tiers):
            sel = np.flatnonzero(row_tier[rows] == t)
            if len(sel):
                met[rows[sel]] = np.asarray(
                    tiers.meets(d[sel], dd if np.ndim(dd) == 0 else dd[sel], b[sel], tier.ratio),
                    dtype=bool,
                )
    breached = ~met & (base > 0)
    units: Any = np.zeros(n, dtype=object)
    capped = np.zeros(n, dtype=bool)
    credit = np.full(n, -1, dtype=np.int64)
    credits: list[Decimal] = []
    hit = np.flatnonzero(breached)
    for pi, policy in enumerate(terms.policies):
        sel = hit[row_policy[hit] == pi] if len(terms.policies) > 1 else hit
        if len(sel):
            u, cap, pct = _price_rows(policy, terms, sel, row_terms[sel], down, den, base)
            units[sel] = u
            capped[sel] = cap
            if pct is not None:
                for value in {v for v in pct.tolist() if v is not None}:
                    if value not in credits:
                        credits.append(value)
                codes = np.array([-1 if v is None else credits.index(v) for v in pct.tolist()])
                credit[sel] = codes
    units = speed.narrowed(units)
    cols.update(
        band=band,
        breached=breached,
        units=units,
        capped=capped,
        credit=credit,
        credits=credits,
        base=base,
    )
    _claims(cols, terms, n_m, ends, settings)


def _price_rows(
    policy: Policy, terms: Terms, rows: Any, row_terms: Any, down: Any, den: Any, base: Any
) -> tuple[Any, Any, Any]:
    """Minor units, cap flags and (credit policies) credit % of breached rows of one policy."""
    fees = list(zip(terms.fee_num.tolist(), terms.fee_den.tolist(), strict=True))
    places = terms.places.tolist()
    cap_pct = numbers.ratio(policy.cap_pct)
    pct = None
    if policy.mode == COEFFICIENT:
        d = np.asarray(down[rows])
        dd = den if np.ndim(den) == 0 else np.asarray(den[rows])
        b = np.asarray(base[rows])
        coefficients = [numbers.ratio(c.tier.coefficient or 0) for c in terms.contracts]
        # x * multiplier / divisor per terms; the divisor's per-row part is den x base
        parts = [
            money.coefficient_price(1, 1, 1, f, k) for f, k in zip(fees, coefficients, strict=True)
        ]
        multiplier = [p[1] for p in parts]
        per_terms = speed.narrowed(np.array([p[2] for p in parts], dtype=object))
        per_row = speed.product(speed.product(b, dd), per_terms[row_terms])
        units, capped = money.capped_units(
            d, per_row, row_terms, multiplier, [money.cap_of(f, cap_pct) for f in fees], places
        )
    else:
        d = np.asarray(down[rows]).astype(object)
        dd = den if np.ndim(den) == 0 else np.asarray(den[rows]).astype(object)
        b = np.asarray(base[rows]).astype(object)
        pct = band_credit(policy, terms.tier[row_terms], d, dd, b)
        # one price per (terms, credit %): a credit does not depend on the downtime
        shares = sorted({p for p in pct.tolist() if p is not None})
        code = np.array(
            [0 if p is None else shares.index(p) + 1 for p in pct.tolist()], dtype=np.int64
        )
        n_shares = len(shares) + 1
        combos = row_terms * n_shares + code
        multiplier, divisors, caps, combo_places = [], [], [], []
        for t in range(len(fees)):
            for s in range(n_shares):
                share = numbers.ratio(shares[s - 1]) if s else (0, 1)
                _, m, dv = money.credit_price(fees[t], share)
                multiplier.append(m)
                divisors.append(dv)
                caps.append(money.cap_of(fees[t], cap_pct))
                combo_places.append(places[t])
        divisor = speed.narrowed(np.array(divisors, dtype=object)[combos])
        units, capped = money.capped_units(
            np.ones(len(rows), dtype=np.int64), divisor, combos, multiplier, caps, combo_places
        )
    if policy.min_credit:
        floors = np.array([money.minor_units(policy.min_credit, p) for p in places], dtype=object)[
            row_terms
        ]
        below = np.asarray(units < floors, dtype=bool)
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
    n = len(terms.of_key) * n_m
    tz, as_of = settings.tz, settings.as_of
    opens = np.full(n, NO_INSTANT, dtype=np.int64)
    closes = np.full(n, NO_INSTANT, dtype=np.int64)
    claim = np.zeros(n, dtype=np.int8)
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
    final = np.tile(
        np.asarray(deadlines.period_final(np.array(ends, dtype=np.int64), as_of)), len(terms.of_key)
    )
    cols.update(claim_opens=opens, claim_closes=closes, claim=claim, final=final)
