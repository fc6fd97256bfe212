"""Composite services: a customer's service made of other services of the same customer, as
a contracts row defines it in its ``composite`` column::

    customer_id,service,monthly_fee,composite
    acme,shop,5000,serial:web,db          # down whenever web or db is down
    acme,storage-pair,800,redundant:s1,s2 # down only while both are down
    acme,portal,1200,weighted:web=2,db=1  # the weighted mean of the parts' availabilities

``serial``: the union of the parts' downtime (at each instant the largest loss of any part);
``redundant``: the intersection (the smallest loss of all parts, so down only while every part
is down); ``weighted``: availability = sum(w x A_part) / sum(w), each part's availability as
its own report row has it. How the timelines are composed: :mod:`slacalc.computing.composite`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from math import prod

from slacalc.terms.redundancy import ALL, AT_LEAST, RedundancyRule

SERIAL, REDUNDANT, WEIGHTED = "serial", "redundant", "weighted"
KINDS = (SERIAL, REDUNDANT, WEIGHTED)
MAX_PARTS = 100
MAX_WEIGHT = 1_000_000
# How each kind's planning estimate is made (Composite.estimate), as its output says.
ESTIMATE_BASIS = {
    SERIAL: "product of the parts' targets; assumes independent failures",
    REDUNDANT: "1 - product of the parts' unavailabilities; assumes independent failures",
    WEIGHTED: "weighted mean of the parts' targets",
}
_WEIGHT = re.compile(r"[0-9]{1,7}(?:\.[0-9]{1,6})?")


@dataclass(frozen=True)
class Composite:
    """A composite service: how its parts (services of the same customer) combine."""

    kind: str  # SERIAL, REDUNDANT or WEIGHTED
    parts: tuple[str, ...]
    weights: tuple[Fraction, ...] = ()  # WEIGHTED only, one per part, each > 0

    @property
    def rule(self) -> RedundancyRule | None:
        """The parts as the zones of one deployment: serial is down while at least one part
        is, redundant while all are (None for weighted: not a timeline)."""
        if self.kind == SERIAL:
            return RedundancyRule(AT_LEAST, 1)
        if self.kind == REDUNDANT:
            return RedundancyRule(ALL)
        return None

    def estimate(self, targets: tuple[Fraction, ...]) -> Fraction:
        """The planning estimate of the composite's availability from its parts' targets (as
        shares, one per part): serial A = prod(a), redundant A = 1 - prod(1 - a), weighted
        A = sum(w x a) / sum(w). Exact. The first two assume the parts fail independently,
        which a measured month need not bear out: only the report composes real timelines.

        >>> Composite(SERIAL, ("web", "db")).estimate((Fraction(999, 1000), Fraction(99, 100)))
        Fraction(98901, 100000)
        """
        if self.kind == SERIAL:
            return prod(targets, start=Fraction(1))
        if self.kind == REDUNDANT:
            return 1 - prod((1 - a for a in targets), start=Fraction(1))
        weighted = zip(self.weights, targets, strict=True)
        return sum((w * a for w, a in weighted), Fraction(0)) / sum(self.weights)

    def text(self) -> str:
        """As a contracts cell writes it."""
        if self.kind == WEIGHTED:
            pairs = zip(self.parts, self.weights, strict=True)
            parts = ",".join(f"{p}={_number(w)}" for p, w in pairs)
            return f"{self.kind}:{parts}"
        return f"{self.kind}:{','.join(self.parts)}"

    def describe(self) -> str:
        """One line for people."""
        names = ", ".join(self.parts)
        if self.kind == SERIAL:
            return f"down whenever any of {names} is down"
        if self.kind == REDUNDANT:
            return f"down only while all of {names} are down"
        pairs = zip(self.parts, self.weights, strict=True)
        parts = ", ".join(f"{p} x {_number(w)}" for p, w in pairs)
        return f"availability: the weighted mean of {parts}"


def parse_composite(text: str, service: str) -> Composite:
    """A ``composite`` cell (``serial:web,db``, ``redundant:a,b``, ``weighted:web=2,db=1``) of
    the contract of ``service``; ValueError saying what is wrong.

    >>> parse_composite("weighted:web=2,db=0.5", "shop").weights
    (Fraction(2, 1), Fraction(1, 2))
    """
    kind, sep, rest = text.strip().partition(":")
    kind = kind.strip().lower()
    if not sep or kind not in KINDS:
        raise ValueError(
            "expected serial:A,B, redundant:A,B or weighted:A=2,B=1 (the parts: services of "
            "the same customer)"
        )
    items = [item.strip() for item in rest.split(",")]
    if len(items) < 2 or any(not item for item in items):
        raise ValueError(f"a {kind} composite names two or more parts, separated by commas")
    if len(items) > MAX_PARTS:
        raise ValueError(f"at most {MAX_PARTS} parts")
    parts, weights = [], []
    for item in items:
        name, eq, weight = item.partition("=")
        name = name.strip()
        if (kind == WEIGHTED) != bool(eq):
            raise ValueError(
                f"part '{name}': a weighted composite gives every part a weight (web=2), "
                "the others none"
            )
        if eq:
            weight = weight.strip()
            if not _WEIGHT.fullmatch(weight) or not 0 < Fraction(weight) <= MAX_WEIGHT:
                raise ValueError(
                    f"part '{name}': a weight is a number above 0 and at most {MAX_WEIGHT}, "
                    "with at most 6 decimals"
                )
            weights.append(Fraction(weight))
        if name in ("*", service):
            raise ValueError(f"part '{name}': a part is another service of the customer")
        if name in parts:
            raise ValueError(f"part '{name}' is named twice")
        parts.append(name)
    return Composite(kind, tuple(parts), tuple(weights))


def _number(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    from decimal import Decimal

    return format(Decimal(value.numerator) / Decimal(value.denominator), "f").rstrip("0")
