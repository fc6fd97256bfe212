"""The report's fields and the text of each, for every row at once.

The field list is the founding contract's 18, then the policy columns appended after them. Each
text comes from a rule function of :mod:`slacalc.terms`; values shared by many rows (a
key's customer, a month's due date, a contract's fee) are formatted once and repeated.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from slacalc import speed
from slacalc.dates.instants import NO_INSTANT, format_instant
from slacalc.terms import deadlines, money, numbers, tiers

FIELDS = (
    "customer_id",
    "service",
    "month",
    "period_seconds",
    "downtime_seconds",
    "excluded_seconds",
    "availability_pct",
    "tier_band",
    "sla_target_pct",
    "breached",
    "coefficient",
    "monthly_fee",
    "compensation",
    "currency",
    "capped",
    "incident_count",
    "compensation_due_at",
    "status",
    # appended by the real-terms issue: the policy that priced the row and its claim window
    "credit_pct",
    "credit_form",
    "claim_opens_at",
    "claim_closes_at",
    "policy",
    "claim_status",
)
# How each field is written: text from the input (guarded in CSV), numbers (bare in JSON),
# booleans; every other field is slacalc's own words.
TEXT, WORD, NUMBER, BOOL = "text", "word", "number", "bool"
KINDS = {
    "customer_id": TEXT,
    "service": TEXT,
    "policy": TEXT,
    "period_seconds": NUMBER,
    "downtime_seconds": NUMBER,
    "excluded_seconds": NUMBER,
    "incident_count": NUMBER,
    "breached": BOOL,
    "capped": BOOL,
}
TEXT_FIELDS = tuple(f for f in FIELDS if KINDS.get(f) == TEXT)
NUMBER_FIELDS = tuple(f for f in FIELDS if KINDS.get(f) == NUMBER)
# The report as an Arrow table (ReportRun.to_arrow, Spark's frame and Parquet folder): every
# field as the CSV writes it, but booleans as booleans and the incident count an integer.
ARROW_SCHEMA = pa.schema(
    [
        (
            f,
            pa.bool_()
            if KINDS.get(f) == BOOL
            else pa.int64()
            if f == "incident_count"
            else pa.string(),
        )
        for f in FIELDS
    ]
)


class FieldTexts:
    """The text of every field, for any range of rows: what is shared by many rows (a key's
    customer, a contract's fee, a month's due date) is formatted once, here; what differs per
    row is formatted per range, so a large report is written a piece at a time."""

    def __init__(self, report: Any) -> None:
        speed.phase_done()  # the report's numbers are done: the engine's scratch goes back
        c = report.cols
        self.report = report
        self.cols = c
        terms = c["terms"]
        self.terms = terms
        self.n_m = len(report.months)
        tz = report.settings.tz
        self.tz = tz
        policies = terms.policies
        # per (policy, tier): one text each, picked per terms by its position in the flat list
        tiers_of = [t for p in policies for t in p.tiers]
        first_tier = np.cumsum([0, *(len(p.tiers) for p in policies)])[:-1]
        tier_at = pa.array(np.asarray(first_tier[terms.policy] + terms.tier, dtype=np.int64))
        coefficients = [
            "" if t.coefficient is None else money.format_coefficient(t.coefficient)
            for t in tiers_of
        ]
        by_policy = pa.array(terms.policy)
        table = terms.contracts

        def strings(values: list[str]) -> Any:
            return pa.array(values, pa.string())

        self.by_terms = {
            "sla_target_pct": strings([t.label for t in tiers_of]).take(tier_at),
            "coefficient": strings(coefficients).take(tier_at),
            "monthly_fee": money.ratio_moneys(terms.fee_num, terms.fee_den, terms.places),
            "currency": strings(table.currencies).take(pa.array(table.currency)),
            "credit_form": strings([p.credit_form for p in policies]).take(by_policy),
            "policy": strings([p.name for p in policies]).take(by_policy),
        }
        self.by_month = {
            "month": strings([m.text for m in report.months]),
            # "" for a row not breached, then each month's due date: one take per piece
            "due": strings(
                ["", *(format_instant(deadlines.level1_due(e), tz) for e in report.ends)]
            ),
        }
        self.labels = [pa.array(tiers.band_labels(p.labels), pa.string()) for p in terms.policies]
        self.credits = strings(["", *(numbers.format_pct(v) for v in c["credits"])])
        self.status = strings([deadlines.PROVISIONAL, deadlines.FINAL])
        from slacalc.computing.pricing import CLAIM_STATES

        self.claims = strings(list(CLAIM_STATES))
        distinct = set(terms.places.tolist())
        self.one_places = distinct.pop() if len(distinct) == 1 else None
        # every key under the same terms (a report priced by --monthly-fee): their columns are
        # the same text on every row
        of_key = terms.of_key
        one = bool(len(of_key)) and int(of_key.min()) == int(of_key.max())
        self.one_terms: int | None = int(of_key[0]) if one else None  # (their number)
        self._repeated: dict[str, Any] = {}

    def chunk(self, lo: int, hi: int) -> dict[str, Any]:
        """Every field of rows ``lo`` to ``hi`` (keys major, months minor) as pyarrow arrays."""
        c, terms, n_m = self.cols, self.terms, self.n_m
        rows = np.arange(lo, hi, dtype=np.int64)
        key = rows // n_m if n_m else rows
        month = pa.array(rows % n_m if n_m else rows)
        by_key = pa.array(key)
        of_terms = terms.of_key[key] if len(key) else key
        by_terms = pa.array(of_terms)
        part = {
            name: c[name][lo:hi]
            for name in (
                "down",
                "base",
                "period",
                "excluded",
                "band",
                "units",
                "count",
                "credit",
                "claim",
            )
        }
        den = c["den"] if np.ndim(c["den"]) == 0 else c["den"][lo:hi]
        band = part["band"]
        policy_of = terms.policy[of_terms]
        band_text = None
        for pi, labels in enumerate(self.labels):
            # positions past this policy's tiers belong to other policies' rows
            text = labels.take(pa.array(np.minimum(band, len(labels) - 1)))
            band_text = text if pi == 0 else pc.if_else(pa.array(policy_of == pi), text, band_text)
        up, total = tiers.availability(part["down"], den, part["base"])
        breached = pa.array(c["breached"][lo:hi])
        plan = self.report.plan
        out = {
            "customer_id": plan.key_customer.take(by_key),
            "service": plan.key_service.take(by_key),
            "month": self.by_month["month"].take(month),
            "period_seconds": _few(part["period"], numbers.seconds_texts),
            "downtime_seconds": numbers.seconds_texts(part["down"], den),
            "excluded_seconds": _few(part["excluded"], numbers.seconds_texts),
            "availability_pct": tiers.pct_texts(up, total),
            "tier_band": band_text if band_text is not None else pa.array([], pa.string()),
            "breached": breached,
            "compensation": money.money_texts(part["units"], self.places(of_terms)),
            "capped": pa.array(c["capped"][lo:hi]),
            "incident_count": pa.array(part["count"]),
            "compensation_due_at": self.by_month["due"].take(
                pa.array(np.where(c["breached"][lo:hi], rows % n_m + 1 if n_m else 0, 0))
            ),
            "status": self.status.take(pa.array(c["final"][lo:hi].astype(np.int8))),
            "credit_pct": self.credits.take(pa.array(part["credit"] + 1)),
            "claim_opens_at": self._instants(c["claim_opens"][lo:hi]),
            "claim_closes_at": self._instants(c["claim_closes"][lo:hi]),
            "claim_status": self.claims.take(pa.array(part["claim"])),
        }
        for name, values in self.by_terms.items():
            if self.one_terms is not None:
                out[name] = self._same(name, values, len(rows))
            else:
                out[name] = values.take(by_terms)
        return {name: out[name] for name in FIELDS}

    def _same(self, name: str, values: Any, n: int) -> Any:
        """A column of ``n`` rows that all hold the one terms' text, cut from one built for the
        longest piece asked so far (pieces are of one size: built once, then sliced)."""
        column = self._repeated.get(name)
        if column is None or len(column) < n:
            column = values.take(pa.array(np.full(n, self.one_terms, dtype=np.int64)))
            self._repeated[name] = column
        return column.slice(0, n)

    def places(self, of_terms: Any) -> Any:
        """The money decimals of each row: one number when every contract's currency agrees."""
        return self.one_places if self.one_places is not None else self.terms.places[of_terms]

    def _instants(self, values: Any) -> Any:
        """Instants (NO_INSTANT: none) as ISO 8601 text; each distinct one formatted once."""
        encoded = pa.array(values).dictionary_encode()
        texts = [
            "" if v == NO_INSTANT else format_instant(int(v), self.tz)
            for v in encoded.dictionary.to_pylist()
        ]
        return pa.array(texts, pa.string()).take(encoded.indices)


def field_texts(report: Any) -> dict[str, Any]:
    """Every field of every row as a pyarrow array."""
    return FieldTexts(report).chunk(0, len(report))


def python_values(name: str, values: Any) -> list[Any]:
    """A field's values as a record holds them: numbers for seconds and counts, bools, text."""
    kind = KINDS.get(name, WORD)
    items = values.to_pylist()
    if kind == NUMBER:
        return [
            v if isinstance(v, int) else (int(v) if "." not in v else Decimal(v)) for v in items
        ]
    return items


def _few(values: Any, texts: Any) -> Any:
    """``texts(values)`` for a column of few distinct numbers (month lengths): each formatted
    once."""
    encoded = pa.array(values).dictionary_encode()
    return texts(encoded.dictionary.to_numpy(zero_copy_only=False)).take(encoded.indices)
