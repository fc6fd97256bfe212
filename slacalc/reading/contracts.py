"""Customer contracts: fee, currency, committed tier and policy per customer and service."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from slacalc.errors import InputError, Problem, UsageError
from slacalc.reading.files import STDIN, open_csv
from slacalc.terms.money import minor_unit, parse_amount, parse_currency
from slacalc.terms.policy import Policy, Tier, load_policy

WILDCARD = "*"
COLUMNS = ("customer_id", "service", "monthly_fee", "currency", "sla_target", "policy")
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
    """Contracts looked up by key: an exact (customer, service) match wins over ``*``."""

    def __init__(self, contracts: list[Contract]) -> None:
        self.contracts = contracts
        self._exact = {(c.customer_id, c.service): c for c in contracts if not c.is_wildcard}
        self._wild = {c.customer_id: c for c in contracts if c.is_wildcard}

    def find(self, customer_id: str, service: str) -> Contract | None:
        return self._exact.get((customer_id, service)) or self._wild.get(customer_id)

    def lookup(self, customers: Any, services: Any) -> Any:
        """For string arrays of keys, the index in :attr:`contracts` of each key's contract
        (an exact match wins over the customer's ``*``), or -1: one hash pass, no loop."""
        import pyarrow as pa

        from slacalc.reading.table import pair_codes

        n = len(customers)
        out = np.full(n, -1, dtype=np.int64)
        exact = [i for i, c in enumerate(self.contracts) if not c.is_wildcard]
        wild = [i for i, c in enumerate(self.contracts) if c.is_wildcard]
        if exact:
            ec = pa.array([self.contracts[i].customer_id for i in exact], pa.string())
            es = pa.array([self.contracts[i].service for i in exact], pa.string())
            _, _, codes = pair_codes(
                pa.concat_arrays([customers, ec]), pa.concat_arrays([services, es])
            )
            position = np.full(int(codes.max()) + 1, -1, dtype=np.int64)
            position[codes[n:]] = exact
            out = position[codes[:n]]
        if wild:
            wc = pa.array([self.contracts[i].customer_id for i in wild], pa.string())
            codes = np.asarray(pa.concat_arrays([customers, wc]).dictionary_encode().indices)
            position = np.full(int(codes.max()) + 1, -1, dtype=np.int64)
            position[codes[n:]] = wild
            out = np.where(out >= 0, out, position[codes[:n]])
        return out

    def customers_of(self, service: str) -> list[str]:
        """The customers whose contracts cover ``service``: by name, or every service (``*``)."""
        named = [c for (c, s) in self._exact if s == service]
        return [*named, *(c for c in self._wild if (c, service) not in self._exact)]

    def __len__(self) -> int:
        return len(self.contracts)


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
    contracts either way."""
    if len(f.data) < BULK_BYTES:
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    from slacalc.reading import csv_bulk
    from slacalc.reading.table import pair_codes, trimmed

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
    # Control characters: str.strip() takes \x1c-\x1f as white space, Arrow does not.
    if any(pc.any(pc.match_substring_regex(c, "[\x00-\x1f\x7f]")).as_py() for c in raw.values()):
        return None

    def column(name: str) -> Any:
        if name not in raw:
            return pa.array([""] * n, pa.string())
        return trimmed(raw[name])

    customers, services = column("customer_id"), column("service")
    no_customer = pc.or_(pc.equal(customers, ""), pc.equal(customers, WILDCARD))
    if pc.any(no_customer).as_py():
        return None
    services = pc.if_else(pc.equal(services, ""), WILDCARD, services)
    fees = column("monthly_fee")
    if not pc.all(pc.match_substring_regex(fees, r"^[0-9]{1,15}(\.[0-9]{1,8})?$")).as_py():
        return None  # anything but plain digits: the row reader's full checks
    _, _, codes = pair_codes(customers, services)
    if len(codes) and int(codes.max()) + 1 != n:
        return None  # a key twice: the row reader names both lines
    try:
        codes_of, which = _distinct_values(
            column("currency"), lambda t: parse_currency(t) if t else default_currency
        )
        currency = [codes_of[i] for i in which.tolist()]
        # A fee with more decimals than its currency's minor unit, or trailing zeros, is read by
        # parse_fee: the one rule, which refuses the first (the row reader then names its line).
        places = np.array([minor_unit(c) for c in codes_of], dtype=np.int64)[which]
        point = np.asarray(pc.find_substring(fees, "."))
        decimals = np.where(point >= 0, np.asarray(pc.utf8_length(fees)) - point - 1, 0)
        for i in np.flatnonzero(decimals > places).tolist():
            parse_fee(fees[i].as_py(), currency[i])
        policies = _distinct(
            column("policy"), lambda t: load_policy(t, relative_to=folder) if t else policy
        )
        tier_of = _tier_reader()
        tiers = [
            tier_of(pol, text) if text else pol.default_tier
            for pol, text in zip(policies, column("sla_target").to_pylist(), strict=True)
        ]
    except (ValueError, UsageError):
        return None
    name = f.name
    lines = np.concatenate([np.asarray(p.lines) for p in parts]).tolist()
    return ContractBook(
        [
            Contract(c, s, Decimal(fee), cur, tier, pol, name, line)
            for c, s, fee, cur, tier, pol, line in zip(
                customers.to_pylist(),
                services.to_pylist(),
                fees.to_pylist(),
                currency,
                tiers,
                policies,
                lines,
                strict=True,
            )
        ]
    )


def _distinct(texts: Any, read: Any) -> list[Any]:
    """``read`` of each text of a column, each distinct text read once."""
    values, which = _distinct_values(texts, read)
    return [values[i] for i in which.tolist()]


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
    return ContractBook(contracts)
