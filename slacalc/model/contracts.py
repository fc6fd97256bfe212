"""Customer contracts as values: what one customer pays for one service (or every service,
``*``) and what it is promised, kept as columns (:class:`ContractTable`: a large cloud holds
hundreds of thousands), with a :class:`Contract` object made only for the one asked for (a table
row, an explanation), and looked up by key (:class:`ContractBook`). Reading them from a file is
:mod:`slacalc.reading.contracts`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

import numpy as np

from slacalc import speed
from slacalc.terms.numbers import ratio
from slacalc.terms.policy import Policy, Tier

WILDCARD = "*"


@dataclass(frozen=True)
class Contract:
    """What one customer pays for one service (or ``*``: every service) and what it is promised."""

    customer_id: str
    service: str  # WILDCARD for every service of the customer
    monthly_fee: Decimal
    currency: str
    tier: Tier
    policy: Policy
    source: str = ""
    line: int | None = None

    @property
    def is_wildcard(self) -> bool:
        return self.service == WILDCARD


@dataclass(eq=False)
class ContractTable(Sequence):
    """Contracts as columns, one entry each; ``table[i]`` is contract ``i`` as a
    :class:`Contract` (made when asked for). Policies, tiers and currencies are numbers into
    their (few) distinct values, so a report prices and writes a hundred thousand contracts a
    column at a time."""

    customer: Any  # pyarrow string array
    service: Any  # pyarrow string array (WILDCARD: every service of the customer)
    fee_text: Any  # pyarrow string array: each fee as Decimal() reads it back exactly
    fee_num: Any  # the fee as an exact ratio in lowest terms (exact arrays: speed.column)
    fee_den: Any
    currency: Any  # int64: index into currencies
    currencies: list[str]
    policy: Any  # int64: index into policies
    policies: list[Policy]
    tier: Any  # int64: index of the committed tier in its policy's tiers
    source: Any  # int64: index into sources
    sources: list[str]
    line: Any  # int64: the contract's line in its file (0: none)

    def __len__(self) -> int:
        return len(self.customer)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = int(i)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        made = self._made.get(i)
        if made is None:
            policy = self.policies[int(self.policy[i])]
            line = int(self.line[i])
            made = Contract(
                self.customer[i].as_py(),
                self.service[i].as_py(),
                Decimal(self.fee_text[i].as_py()),
                self.currencies[int(self.currency[i])],
                policy.tiers[int(self.tier[i])],
                policy,
                self.sources[int(self.source[i])],
                line or None,
            )
            self._made[i] = made
        return made

    @cached_property
    def _made(self) -> dict[int, Contract]:
        return {}

    @property
    def is_wildcard(self) -> Any:
        """Per contract: whether it covers every service of its customer."""
        import pyarrow.compute as pc

        return np.asarray(pc.equal(self.service, WILDCARD), dtype=bool)

    @classmethod
    def of(cls, contracts: Sequence[Contract]) -> ContractTable:
        """The table of contract objects (a small book, rows read one by one, a fallback)."""
        import pyarrow as pa

        if isinstance(contracts, ContractTable):
            return contracts
        policies: list[Policy] = []
        pindex: dict[int, int] = {}
        currencies: list[str] = []
        sources: list[str] = []
        policy, tier, currency, source, line = [], [], [], [], []
        tier_index: dict[tuple[int, int], int] = {}
        for c in contracts:
            p = pindex.get(id(c.policy))
            if p is None:
                p = pindex[id(c.policy)] = len(policies)
                policies.append(c.policy)
                tier_index.update({(id(c.policy), id(t)): k for k, t in enumerate(c.policy.tiers)})
            policy.append(p)
            found = tier_index.get((id(c.policy), id(c.tier)))
            tier.append(found if found is not None else c.policy.tiers.index(c.tier))
            currency.append(_index_of(currencies, c.currency))
            source.append(_index_of(sources, c.source))
            line.append(c.line or 0)
        fees = [ratio(c.monthly_fee) for c in contracts]
        return cls(
            customer=pa.array([c.customer_id for c in contracts], pa.string()),
            service=pa.array([c.service for c in contracts], pa.string()),
            fee_text=pa.array([str(c.monthly_fee) for c in contracts], pa.string()),
            fee_num=speed.column([f[0] for f in fees]),
            fee_den=speed.column([f[1] for f in fees]),
            currency=np.array(currency, dtype=np.int64),
            currencies=currencies,
            policy=np.array(policy, dtype=np.int64),
            policies=policies,
            tier=np.array(tier, dtype=np.int64),
            source=np.array(source, dtype=np.int64),
            sources=sources,
            line=np.array(line, dtype=np.int64),
        )

    def take(self, rows: Any) -> ContractTable:
        """The contracts at ``rows`` (an index array), in that order."""
        import pyarrow as pa

        rows = np.asarray(rows, dtype=np.int64)
        index = pa.array(rows)
        return ContractTable(
            customer=self.customer.take(index),
            service=self.service.take(index),
            fee_text=self.fee_text.take(index),
            fee_num=self.fee_num[rows],
            fee_den=self.fee_den[rows],
            currency=self.currency[rows],
            currencies=self.currencies,
            policy=self.policy[rows],
            policies=self.policies,
            tier=self.tier[rows],
            source=self.source[rows],
            sources=self.sources,
            line=self.line[rows],
        )

    def __add__(self, other: ContractTable) -> ContractTable:
        """This table's contracts, then ``other``'s (a fallback after a book's)."""
        import pyarrow as pa

        policies = list(self.policies)
        pindex = {id(p): i for i, p in enumerate(policies)}
        for p in other.policies:
            if id(p) not in pindex:
                pindex[id(p)] = len(policies)
                policies.append(p)
        currencies, sources = list(self.currencies), list(self.sources)
        cur_map = np.array([_index_of(currencies, c) for c in other.currencies] or [0])
        src_map = np.array([_index_of(sources, s) for s in other.sources] or [0])
        pol_map = np.array([pindex[id(p)] for p in other.policies] or [0])
        return ContractTable(
            customer=pa.concat_arrays([self.customer, other.customer]),
            service=pa.concat_arrays([self.service, other.service]),
            fee_text=pa.concat_arrays([self.fee_text, other.fee_text]),
            fee_num=np.concatenate([self.fee_num, other.fee_num]),
            fee_den=np.concatenate([self.fee_den, other.fee_den]),
            currency=np.concatenate([self.currency, cur_map[other.currency]]),
            currencies=currencies,
            policy=np.concatenate([self.policy, pol_map[other.policy]]),
            policies=policies,
            tier=np.concatenate([self.tier, other.tier]),
            source=np.concatenate([self.source, src_map[other.source]]),
            sources=sources,
            line=np.concatenate([self.line, other.line]),
        )


def _index_of(names: list[str], name: str) -> int:
    if name not in names:
        names.append(name)
    return names.index(name)


class ContractBook:
    """Contracts looked up by key: an exact (customer, service) match wins over ``*``.

    Made of :class:`Contract` objects, or of a :class:`ContractTable` (a large file read in
    bulk): :attr:`table` is the columns, :attr:`contracts` the objects, each made when first
    asked for."""

    def __init__(
        self,
        contracts: Sequence[Contract] | None = None,
        *,
        table: ContractTable | None = None,
        display_names: Mapping[str, str] | None = None,
        composites: Mapping[tuple[str, str], Any] | None = None,
    ) -> None:
        self._list = list(contracts) if contracts is not None else None
        self.table = table if table is not None else ContractTable.of(self._list or [])
        self._display_names = dict(display_names or {})
        # (customer, service) -> its slacalc.terms.composite.Composite, for composite services
        self.composites = dict(composites or {})

    def display_names(self) -> dict[str, str]:
        """Each customer's display name (the contracts' ``display_name`` column), for the
        customers that have one."""
        return dict(self._display_names)

    @property
    def contracts(self) -> list[Contract]:
        """Every contract as an object (made on first use: a report never needs them)."""
        if self._list is None:
            self._list = list(self.table)
        return self._list

    @cached_property
    def _exact(self) -> dict[tuple[str, str], int]:
        t = self.table
        keys = zip(t.customer.to_pylist(), t.service.to_pylist(), strict=True)
        wild = t.is_wildcard.tolist()
        return {k: i for i, (k, w) in enumerate(zip(keys, wild, strict=True)) if not w}

    @cached_property
    def _wild(self) -> dict[str, int]:
        t = self.table
        rows = np.flatnonzero(t.is_wildcard).tolist()
        customers = t.customer.to_pylist()
        return {customers[i]: i for i in rows}

    def index(self, customer_id: str, service: str) -> int:
        """The number of the contract of a key in :attr:`table` (-1: none)."""
        found = self._exact.get((customer_id, service))
        if found is None:
            found = self._wild.get(customer_id)
        return -1 if found is None else found

    def find(self, customer_id: str, service: str) -> Contract | None:
        i = self.index(customer_id, service)
        return None if i < 0 else self.contract(i)

    def contract(self, i: int) -> Contract:
        """Contract number ``i`` of :attr:`table` as an object."""
        return self._list[i] if self._list is not None else self.table[i]

    def lookup(self, customers: Any, services: Any, words: Any = None) -> Any:
        """For string arrays of keys, the index in :attr:`contracts` of each key's contract
        (an exact match wins over the customer's ``*``), or -1: each key's customer and
        service looked up among the contracts' (hash lookups), no loop. ``words``: the keys as
        numbers into their distinct customers and services (an incident table's
        ``key_words``), so that each distinct customer is looked up once."""
        import pyarrow.compute as pc

        from slacalc.model.table import encoded

        t = self.table
        out = np.full(len(customers), -1, dtype=np.int64)
        if not len(t) or not len(customers):
            return out
        cust_words, cust = encoded(t.customer)
        svc_words, svc = encoded(t.service)

        def among(texts: Any, known: Any) -> Any:
            return np.asarray(pc.fill_null(pc.index_in(texts, value_set=known), -1), np.int64)

        if words is not None:
            key_cust = among(words[0], cust_words)[words[1]]
            key_svc = among(words[2], svc_words)[words[3]]
        else:
            key_cust, key_svc = among(customers, cust_words), among(services, svc_words)
        width = len(svc_words)
        wild = np.asarray(pc.equal(svc_words, WILDCARD), dtype=bool)[svc]
        # the '*' contract of each customer, then the exact one of each (customer, service)
        star = np.full(len(cust_words), -1, dtype=np.int64)
        star[cust[wild]] = np.flatnonzero(wild)
        known = key_cust >= 0
        out[known] = star[key_cust[known]]
        exact = np.flatnonzero(~wild)
        if len(exact):
            pairs = cust[exact] * width + svc[exact]
            found = key_cust * width + key_svc
            hit = known & (key_svc >= 0)
            if len(cust_words) * width <= 8 * (len(customers) + len(exact)) + (1 << 20):
                position = np.full(len(cust_words) * width, -1, dtype=np.int64)
                position[pairs] = exact
                match = position[found[hit]]
            else:  # sparse pairs: a binary search
                order = np.argsort(pairs)
                at = np.minimum(np.searchsorted(pairs[order], found[hit]), len(pairs) - 1)
                match = np.where(pairs[order][at] == found[hit], exact[order][at], -1)
            rows = np.flatnonzero(hit)
            out[rows] = np.where(match >= 0, match, out[rows])
        return out

    def customers_of(self, service: str) -> list[str]:
        """The customers whose contracts cover ``service``: by name, or every service (``*``)."""
        named = [c for (c, s) in self._exact if s == service]
        return [*named, *(c for c in self._wild if (c, service) not in self._exact)]

    def __len__(self) -> int:
        return len(self.table)


def policies_of(book: ContractBook | None) -> list[Policy]:
    """The policies a contract book's contracts name (none without a book)."""
    return list(book.table.policies) if book is not None else []
