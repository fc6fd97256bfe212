"""The import map (``--map MAP.toml``): source names to slacalc services, customers and impacts.

    [services]    # source name (component, PagerDuty service, monitor, ICS category) -> service
    "API Gateway" = "api"
    [customers]   # source name -> customer ids; default "*"
    "Dedicated DB (acme)" = ["acme"]
    [impact]      # status / urgency / priority / severity value -> impact
    partial_outage = 0.5
    low = "25%"
    [labels]      # alertmanager: which labels carry the customer, the service and the severity
    customer_id = "tenant"
    service = "service"

Every part is optional. Numbers are read exactly (TOML floats as decimals).
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from slacalc.errors import InputError, Problem
from slacalc.importing.reading import decode_text, read_source
from slacalc.importing.rows import ALL_CUSTOMERS
from slacalc.model.cells import parse_impact
from slacalc.terms import numbers

TABLES = ("services", "customers", "impact", "labels")
LABEL_KEYS = ("customer_id", "service", "impact")
MAX_MAP_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class LabelMap:
    """Which alert labels name the service, the customer and the impact value."""

    service: str = "service"
    customer_id: str | None = None  # None: alerts are for every customer ("*")
    impact: str = "severity"


@dataclass(frozen=True)
class ImportMap:
    """A read, checked map. ``services`` is None when the map has no ``[services]`` table."""

    path: str = "<map>"
    services: dict[str, str] | None = None
    customers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    impact: dict[str, Fraction] = field(default_factory=dict)
    labels: LabelMap = field(default_factory=LabelMap)

    def service_for(self, name: str) -> str | None:
        """The slacalc service of a source name; None when a ``[services]`` table lacks it."""
        if self.services is None:
            return name
        return self.services.get(name)

    def customers_for(self, name: str, named: str | None = None) -> tuple[str, ...]:
        """The customer ids of a row: a customer the source names (``named``) goes through
        ``[customers]`` and stands for itself when not there; otherwise the source name goes
        through ``[customers]`` and is every customer (``*``) when not there.
        """
        if named is not None:
            return self.customers.get(named, (named,))
        return self.customers.get(name, (ALL_CUSTOMERS,))

    def impact_for(self, keys: tuple[str, ...], default: Fraction) -> Fraction:
        """The first of ``keys`` the ``[impact]`` table has, else ``default``."""
        for key in keys:
            if key in self.impact:
                return self.impact[key]
        return default


def parse_share(value: Any) -> Fraction:
    """An impact read exactly: a TOML number, ``"0.3"`` or ``"30%"``; 0 <= impact <= 1.

    0 is allowed here: it means "no row". Raises ValueError with what was expected.
    """
    expected = 'expected a share from 0 to 1, such as 0.3 or "30%"'
    if isinstance(value, bool):
        raise ValueError(expected)
    if isinstance(value, int):
        share = Fraction(value)
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(expected)
        share = Fraction(value)
    elif isinstance(value, str):
        text = value.strip()
        pct = text.endswith("%")
        if pct:
            text = text[:-1].strip()
        if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", text):
            raise ValueError(expected)
        try:
            share = Fraction(Decimal(text))
        except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
            raise ValueError(expected) from None
        if pct:
            share /= 100
    else:
        raise ValueError(expected)
    if not 0 <= share <= 1:
        raise ValueError("impact must be from 0 (no row) to 1 (100%)")
    if share:
        try:  # the incident log's own rule: what the import writes must read back
            parse_impact(numbers.share(share))
        except ValueError:
            raise ValueError(
                "too many decimals: an incident log keeps impacts to 10 decimal places"
            ) from None
    return share


def suggest(word: str, known: tuple[str, ...] | list[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest known word, or nothing."""
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.5)
    return f"; did you mean '{close[0]}'?" if close else ""


def read_map(path: str) -> ImportMap:
    """Read and check a map file; InputError lists every problem in it.

    >>> read_map("map.toml").service_for("API Gateway")  # doctest: +SKIP
    'api'
    """
    src = read_source(path)
    problems: list[Problem] = []
    if len(src.data) > MAX_MAP_BYTES:
        raise InputError(Problem(src.name, None, "map file is too large (over 4 MiB)"))
    text = decode_text(src, problems)
    if text is None:
        raise InputError(problems)
    try:
        doc = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        m = re.search(r"\(at line (\d+), column \d+\)", message)
        line = int(m.group(1)) if m else None
        raise InputError(Problem(src.name, line, f"not valid TOML: {message}")) from None
    except RecursionError:
        raise InputError(Problem(src.name, None, "not valid TOML: nested too deeply")) from None
    except ValueError as exc:  # an integer of thousands of digits: Python's own limit
        message = f"a number too long to be a map's: {exc}"
        raise InputError(Problem(src.name, None, message)) from None
    return _check_map(src.name, text, doc)


def _check_map(name: str, text: str, doc: dict[str, Any]) -> ImportMap:
    problems: list[Problem] = []
    lines = text.split("\n")

    def problem(message: str, *, line: int | None = None, value: Any = None) -> None:
        problems.append(Problem(name, line, message, value=None if value is None else str(value)))

    tables: dict[str, dict[str, Any]] = {}
    for key, value in doc.items():
        if key not in TABLES:
            problem(
                f"unknown {'table' if isinstance(value, dict) else 'key'} '{key}'"
                f"{suggest(key, TABLES)} (a map has the tables {', '.join(TABLES)})",
                line=_line_of(lines, key, table=isinstance(value, dict)),
            )
        elif not isinstance(value, dict):
            problem(f"'{key}' must be a table: [{key}]", line=_line_of(lines, key))
        else:
            tables[key] = value

    def where(key: str) -> int | None:
        return _line_of(lines, key)

    services: dict[str, str] | None = None
    if "services" in tables:
        services = {}
        for source, target in tables["services"].items():
            if isinstance(target, dict):
                problem(
                    f"[services] '{source}' is a table: a name with dots needs quotes, "
                    f'such as "{source}.…" = "service"',
                    line=where(source),
                )
            elif not isinstance(target, str) or not target.strip():
                problem(
                    f"[services] '{source}': expected a service name (a non-empty string)",
                    line=where(source),
                    value=target,
                )
            else:
                services[source] = target.strip()

    customers: dict[str, tuple[str, ...]] = {}
    for source, ids in tables.get("customers", {}).items():
        listed = [ids] if isinstance(ids, str) else ids
        if (
            not isinstance(listed, list)
            or not listed
            or not all(isinstance(i, str) and i.strip() for i in listed)
        ):
            problem(
                f"[customers] '{source}': expected a customer id or a non-empty list of them, "
                'such as ["acme", "globex"]',
                line=where(source),
                value=ids,
            )
            continue
        clean = tuple(dict.fromkeys(i.strip() for i in listed))
        if ALL_CUSTOMERS in clean and len(clean) > 1:
            problem(
                f"[customers] '{source}': '*' (every customer) cannot be listed with other ids",
                line=where(source),
            )
            continue
        customers[source] = clean

    impact: dict[str, Fraction] = {}
    for key, value in tables.get("impact", {}).items():
        try:
            impact[key] = parse_share(value)
        except ValueError as exc:
            problem(f"[impact] '{key}': {exc}", line=where(key), value=value)

    labels = LabelMap()
    label_table = tables.get("labels", {})
    chosen: dict[str, str] = {}
    for key, value in label_table.items():
        if key not in LABEL_KEYS:
            problem(
                f"[labels] unknown key '{key}'{suggest(key, LABEL_KEYS)} "
                f"(known: {', '.join(LABEL_KEYS)})",
                line=where(key),
            )
        elif not isinstance(value, str) or not value.strip():
            problem(f"[labels] '{key}': expected a label name", line=where(key), value=value)
        else:
            chosen[key] = value.strip()
    if chosen:
        labels = LabelMap(
            service=chosen.get("service", labels.service),
            customer_id=chosen.get("customer_id", labels.customer_id),
            impact=chosen.get("impact", labels.impact),
        )

    if problems:
        raise InputError(problems)
    return ImportMap(
        path=name, services=services, customers=customers, impact=impact, labels=labels
    )


def _line_of(lines: list[str], key: str, *, table: bool = False) -> int | None:
    """The line a key (or table header) is written on, when exactly one line starts with it."""
    quoted = re.escape(key)
    if table:
        pattern = re.compile(rf"\s*\[\s*(?:{quoted}|\"{quoted}\"|'{quoted}')\s*\]")
    else:
        pattern = re.compile(rf"\s*(?:{quoted}|\"{quoted}\"|'{quoted}')\s*[=.]")
    found = [i for i, line in enumerate(lines, start=1) if pattern.match(line)]
    return found[0] if len(found) == 1 else None
