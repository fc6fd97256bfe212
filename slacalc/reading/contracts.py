"""Reading customer contracts (fee, currency, committed tier, policy, display name per customer
and service) from a CSV file, in bulk when every row is plainly good, else row by row naming
every problem on its line. The contracts themselves are :mod:`slacalc.model.contracts`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from slacalc import speed
from slacalc.errors import InputError, Problem, UsageError
from slacalc.model.contracts import WILDCARD, Contract, ContractBook, ContractTable
from slacalc.reading.files import STDIN, open_csv
from slacalc.terms.composite import Composite, parse_composite
from slacalc.terms.money import minor_unit, parse_amount, parse_currency
from slacalc.terms.policy import Policy, load_policy

COLUMNS = (
    "customer_id",
    "service",
    "monthly_fee",
    "currency",
    "sla_target",
    "policy",
    "display_name",
    "composite",
)
# A customer's name as statements show it beside its id: at most this many characters.
MAX_DISPLAY_NAME = 200
REQUIRED = ("customer_id", "monthly_fee")


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

    from slacalc.model.table import trimmed
    from slacalc.reading import csv_bulk

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

    if "composite" in raw and pc.any(pc.not_equal(trimmed(raw["composite"]), "")).as_py():
        return None  # composites are few: the row reader reads a file that defines any

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
    from slacalc.model.table import encoded

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
    composites: dict[tuple[str, str], Composite] = {}

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
        composite_text = cell("composite").strip()
        composite = None
        if composite_text:
            try:
                if service == WILDCARD:
                    raise ValueError("a composite is one named service, not every service (*)")
                composite = parse_composite(composite_text, service)
            except ValueError as exc:
                problems.append(Problem(name, line, str(exc), "composite", composite_text))
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
        if composite is not None:
            composites[key] = composite
    if problems:
        raise InputError(problems)
    return ContractBook(
        contracts,
        display_names={c: n for c, (n, _) in names.items()},
        composites=composites,
    )
