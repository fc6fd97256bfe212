"""Customer contracts: fee, currency, committed tier and policy per customer and service.

A contracts file of a large cloud holds hundreds of thousands of contracts: they are kept as
columns (:class:`ContractTable`), and a :class:`Contract` object is made only for the one asked
for (a table row, an explanation).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from slacalc import speed
from slacalc.errors import InputError, Problem, UsageError
from slacalc.reading.files import STDIN, open_csv
from slacalc.terms.money import minor_unit, parse_amount, parse_currency
from slacalc.terms.numbers import ratio
from slacalc.terms.policy import Policy, Tier, load_policy

WILDCARD = "*"
COLUMNS = (
    "customer_id",
    "service",
    "monthly_fee",
    "currency",
    "sla_target",
    "policy",
    "display_name",
)
# A customer's name as statements show it beside its id: at most this many characters.
MAX_DISPLAY_NAME = 200
REQUIRED = ("customer_id", "monthly_fee")


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


def parse_fee(text: str, currency: str) -> Decimal:
    """A monthly fee in ``currency``: a non-negative amount below 10**15 with no more decimals
    than the currency's minor unit (ISO 4217), so that no fee is rounded before it is used: at
    most 999999999999999.99 CNY, 999999999999999 JPY, 999999999999999.999 KWD. Trailing zeros
    do not count (``1500000.00`` JPY is whole). Raises ValueError naming what is wrong.

    >>> parse_fee("100.5", "JPY")
    Traceback (most recent call last):
    ...
    ValueError: finer than the currency's minor unit: JPY has no minor unit, a fee in JPY is whole
    """
    value = parse_amount(text)
    places = minor_unit(currency)
    if value.scaleb(places) % 1:
        if places:
            unit = f"at most {places} decimals for {currency}"
        else:
            unit = f"{currency} has no minor unit, a fee in {currency} is whole"
        raise ValueError(f"finer than the currency's minor unit: {unit}")
    return value


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
    ) -> None:
        self._list = list(contracts) if contracts is not None else None
        self.table = table if table is not None else ContractTable.of(self._list or [])
        self._display_names = dict(display_names or {})

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

        from slacalc.reading.table import encoded

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


def read_contracts(path: str, *, policy: Policy, default_currency: str) -> ContractBook:
    """Read a contracts CSV, checking every row against its policy's tiers.

    ``policy`` prices the contracts whose ``policy`` cell is empty; a cell names a built-in or
    preset policy, or a TOML file relative to the contracts file.
    """
    f = open_csv(path, required=REQUIRED, known=COLUMNS)
    folder = Path(path).parent if path != STDIN else Path(".")
    book = _clean_file(f, policy=policy, default_currency=default_currency, folder=folder)
    if book is not None:
        return book
    col = {c: f.column(c) for c in COLUMNS}

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        for line, _, cells in f.rows():
            yield line, {c: cells[i] for c, i in col.items() if i is not None and i < len(cells)}

    return contracts_of_rows(
        f.name, rows(), policy=policy, default_currency=default_currency, folder=folder
    )


# Contracts files of at least this many bytes are first read in bulk (a large cloud's hundreds
# of thousands of contracts); smaller ones row by row, which is as fast for them.
BULK_BYTES = 1 << 20


def _clean_file(
    f: Any, *, policy: Policy, default_currency: str, folder: Path
) -> ContractBook | None:
    """The contracts of a large file read in bulk, when every row is plainly good: a customer
    that is not ``*``, a fee of plain digits, known currencies, policies and targets, no key
    twice. None otherwise (or when the bulk reader does not vouch for the file): the row
    reader then reads it and names every problem on its line. A good file gives the same
    contracts either way. Each distinct currency, policy and (policy, target) is read once;
    the rest is columns."""
    if len(f.data) < BULK_BYTES:
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    from slacalc.reading import csv_bulk
    from slacalc.reading.table import trimmed

    pieces = csv_bulk.bulk_pieces(f, columns=COLUMNS)
    if pieces is None:
        return None
    try:
        parts = list(pieces)
    except csv_bulk.NotBulk:
        return None
    if not parts or any(p.problems for p in parts):
        return None
    n = sum(len(p) for p in parts)
    raw = {
        name: pc.fill_null(pa.chunked_array([p.cells[name] for p in parts]).combine_chunks(), "")
        for name in COLUMNS
        if name in parts[0].cells
    }
    # Control characters: str.strip() takes \x1c-\x1f as white space, Arrow does not. Looked
    # for in the file's bytes at once (line ends aside: the bulk reader vouched for them), so a
    # control character in a column no contract reads sends the file to the row reader too.
    if _has_control(f.data):
        return None

    def column(name: str) -> Any:
        if name not in raw:
            return pa.array([""], pa.string()).take(pa.array(np.zeros(n, dtype=np.int64)))
        return trimmed(raw[name])

    customers, services = column("customer_id"), column("service")
    no_customer = pc.or_(pc.equal(customers, ""), pc.equal(customers, WILDCARD))
    if pc.any(no_customer).as_py():
        return None
    services = pc.if_else(pc.equal(services, ""), WILDCARD, services)
    fees = column("monthly_fee")
    parts_of = pc.extract_regex(fees, r"^(?P<whole>[0-9]{1,15})(?:\.(?P<frac>[0-9]{1,8}))?$")
    if parts_of.null_count:
        return None  # anything but plain digits: the row reader's full checks
    if _twice(customers, services):
        return None  # a key twice: the row reader names both lines
    try:
        currencies, currency = _distinct_values(
            column("currency"), lambda t: parse_currency(t) if t else default_currency
        )
        # A fee with more decimals than its currency's minor unit, or trailing zeros, is read by
        # parse_fee: the one rule, which refuses the first (the row reader then names its line).
        places = np.array([minor_unit(c) for c in currencies], dtype=np.int64)[currency]
        frac = parts_of.field("frac")
        decimals = np.asarray(pc.utf8_length(frac))
        for i in np.flatnonzero(decimals > places).tolist():
            parse_fee(fees[i].as_py(), currencies[int(currency[i])])
        policies, policy_of = _distinct_values(
            column("policy"), lambda t: load_policy(t, relative_to=folder) if t else policy
        )
        policies, policy_of = _by_identity(policies, policy_of)
        tier = _tiers(policies, policy_of, column("sla_target"))
    except (ValueError, UsageError):
        return None
    names = _display_names(customers, column("display_name"))
    if names is None:
        return None  # a name too long, or two names for one customer: the row reader says where
    # each fee as whole + fraction / 10**8, then in lowest terms (as Decimal.as_integer_ratio)
    whole = np.asarray(pc.cast(parts_of.field("whole"), pa.int64()))
    fraction = np.asarray(pc.cast(pc.utf8_rpad(frac, 8, "0"), pa.int64()))
    common = np.gcd(fraction, 10**8)  # 10**8 where there is no fraction
    den = 10**8 // common
    num = speed.exact(whole, speed.top(whole) * 10**8) * den + fraction // common
    table = ContractTable(
        customer=customers,
        service=services,
        fee_text=fees,
        fee_num=speed.narrowed(np.asarray(num)),
        fee_den=den,
        currency=currency,
        currencies=currencies,
        policy=policy_of,
        policies=policies,
        tier=tier,
        source=np.zeros(n, dtype=np.int64),
        sources=[f.name],
        line=np.concatenate([np.asarray(p.lines, dtype=np.int64) for p in parts]),
    )
    return ContractBook(table=table, display_names=names)


def _display_names(customers: Any, names: Any) -> dict[str, str] | None:
    """Each customer's display name from the bulk reader's columns, or None when one is too
    long or a customer has two different ones (the row reader then names the line)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    given = pc.not_equal(names, "")
    if not pc.any(given).as_py():
        return {}
    if pc.max(pc.utf8_length(names)).as_py() > MAX_DISPLAY_NAME:
        return None
    pairs = pa.table({"c": customers, "n": names}).filter(given).group_by(["c", "n"]).aggregate([])
    mapping = dict(zip(pairs["c"].to_pylist(), pairs["n"].to_pylist(), strict=True))
    return mapping if len(mapping) == pairs.num_rows else None


def _has_control(data: Any) -> bool:
    """Whether ``data`` holds a control character other than a line end (``\\n``, ``\\r``)."""
    raw = np.frombuffer(data, dtype=np.uint8)
    block = 16 << 20
    for lo in range(0, len(raw), block):
        part = raw[lo : lo + block]
        control = (part < 32) | (part == 127)
        if np.count_nonzero(control) > np.count_nonzero((part == 10) | (part == 13)):
            return True
    return False


def _twice(customers: Any, services: Any) -> bool:
    """Whether some (customer, service) pair comes twice: customers and services numbered
    (each column hashed once), the pairs counted."""
    from slacalc.reading.table import encoded

    if not len(customers):
        return False
    cust_words, cust = encoded(customers)
    svc_words, svc = encoded(services)
    pair = cust.astype(np.int64) * max(len(svc_words), 1) + svc
    if len(cust_words) * max(len(svc_words), 1) <= 8 * len(pair) + (1 << 20):
        return bool(np.bincount(pair).max() > 1)
    pair.sort()
    return bool((pair[1:] == pair[:-1]).any())


def _by_identity(values: list[Any], which: Any) -> tuple[list[Any], Any]:
    """Distinct values (several texts may name one policy) and each row's number among them."""
    distinct: list[Any] = []
    seen: dict[int, int] = {}
    remap = []
    for v in values:
        if id(v) not in seen:
            seen[id(v)] = len(distinct)
            distinct.append(v)
        remap.append(seen[id(v)])
    return distinct, np.array(remap or [0], dtype=np.int64)[which] if len(which) else which


def _tiers(policies: list[Policy], policy_of: Any, targets: Any) -> Any:
    """Each row's tier, as its index in its policy's tiers: each distinct (policy, target)
    read once (an empty target: the policy's default tier). ValueError as the policy says."""
    texts, text_of = _distinct_values(targets, lambda t: t)
    pair = policy_of * max(len(texts), 1) + text_of
    distinct, inverse = np.unique(pair, return_inverse=True)
    index = np.zeros(len(distinct), dtype=np.int64)
    for j, code in enumerate(distinct.tolist()):
        pol = policies[code // max(len(texts), 1)]
        text = texts[code % max(len(texts), 1)]
        tier = pol.parse_target(text) if text else pol.default_tier
        index[j] = next(k for k, t in enumerate(pol.tiers) if t is tier or t == tier)
    return index[inverse] if len(pair) else np.zeros(0, dtype=np.int64)


def _distinct_values(texts: Any, read: Any) -> tuple[list[Any], Any]:
    """``read`` of each distinct text of a column, and each row's index into them."""
    encoded = texts.dictionary_encode()
    values = [read(t) for t in encoded.dictionary.to_pylist()]
    return values, np.asarray(encoded.indices, dtype=np.int64)


def _once(parse: Any, key: Any = None) -> Any:
    """``parse`` remembering what it gave (or the ValueError it raised) for each argument."""
    seen: dict[Any, Any] = {}

    def remembered(*args: Any) -> Any:
        k = key(*args) if key is not None else args
        if k not in seen:
            try:
                seen[k] = parse(*args)
            except ValueError as exc:
                seen[k] = exc
        found = seen[k]
        if isinstance(found, ValueError):
            raise found
        return found

    return remembered


def _tier_reader() -> Any:
    """``(policy, text) -> Tier``, each distinct pair read once (a ValueError as it came)."""
    return _once(lambda pol, text: pol.parse_target(text), key=lambda pol, text: (id(pol), text))


def contracts_of_rows(
    name: str,
    rows: Iterable[tuple[int | None, Mapping[str, str | None]]],
    *,
    policy: Policy,
    default_currency: str,
    folder: Path = Path("."),
) -> ContractBook:
    """Contracts from rows of cells by column name (a missing or None cell is empty), with
    :func:`read_contracts`' checks; ``line`` is None where the rows' source has no lines (a
    Spark DataFrame). ``folder`` is where the policy files the rows name are looked up."""
    problems: list[Problem] = []
    contracts: list[Contract] = []
    seen: dict[tuple[str, str], int | None] = {}
    # A cloud's contracts repeat a few currencies and targets: each distinct text is read once.
    currency_of = _once(parse_currency)
    tier_of = _tier_reader()
    names: dict[str, tuple[str, int | None]] = {}  # customer -> (display name, its line)

    for line, cells in rows:

        def cell(column: str) -> str:
            return cells.get(column) or ""  # noqa: B023 - called within this iteration only

        before = len(problems)
        cust = cell("customer_id").strip()
        if not cust:
            problems.append(
                Problem(
                    name, line, "is empty; every contract names a customer", "customer_id", cust
                )
            )
        elif cust == WILDCARD:
            problems.append(
                Problem(name, line, "a contract names one customer, not '*'", "customer_id", cust)
            )
        service = cell("service").strip() or WILDCARD
        cur_text = cell("currency")
        currency = default_currency
        bad_currency = None
        if cur_text.strip():
            try:
                currency = currency_of(cur_text)
            except ValueError as exc:
                bad_currency = Problem(name, line, str(exc), "currency", cur_text)
        fee_text = cell("monthly_fee")
        try:
            # an unknown currency has no minor unit to check the fee against
            fee = parse_amount(fee_text) if bad_currency else parse_fee(fee_text, currency)
        except ValueError as exc:
            problems.append(Problem(name, line, str(exc), "monthly_fee", fee_text))
        if bad_currency:
            problems.append(bad_currency)
        pol = policy
        pol_text = cell("policy").strip()
        if pol_text:
            try:
                pol = load_policy(pol_text, relative_to=folder)
            except UsageError as exc:
                problems.append(Problem(name, line, str(exc), "policy", pol_text))
                continue
        target_text = cell("sla_target")
        tier = pol.default_tier
        if target_text.strip():
            try:
                tier = tier_of(pol, target_text)
            except ValueError as exc:
                problems.append(Problem(name, line, str(exc), "sla_target", target_text))
        name_text = cell("display_name").strip()
        if len(name_text) > MAX_DISPLAY_NAME:
            problems.append(
                Problem(
                    name,
                    line,
                    f"is longer than {MAX_DISPLAY_NAME} characters",
                    "display_name",
                    name_text,
                )
            )
        elif name_text and cust:
            first_name, first_line = names.setdefault(cust, (name_text, line))
            if first_name != name_text:
                where = f" on line {first_line}" if first_line is not None else ""
                problems.append(
                    Problem(
                        name,
                        line,
                        f"differs from the customer's display name{where} ('{first_name}')",
                        "display_name",
                        name_text,
                    )
                )
        if len(problems) > before:
            continue
        key = (cust, service)
        if key in seen:
            first = seen[key]
            where = f" (first on line {first})" if first is not None else ""
            problems.append(
                Problem(
                    name,
                    line,
                    f"a second contract for the same customer and service{where}",
                    "customer_id",
                    cust,
                )
            )
            continue
        seen[key] = line
        contracts.append(Contract(cust, service, fee, currency, tier, pol, name, line))
    if problems:
        raise InputError(problems)
    return ContractBook(contracts, display_names={c: n for c, (n, _) in names.items()})
