"""Which keys get report rows, which contract prices each, and whose cell totals each takes.

A key with incidents in the reported months needs a price (its contract, a ``*`` contract of its
customer, or ``--monthly-fee``); every contract gets rows too, with or without incidents.
Incidents of customer ``*`` reach every contract of their service without being copied per
customer. Keys whose policies share service hours and outage rules form one engine group: one
run of :func:`slacalc.computing.engine.totals`. Keys are handled as arrays throughout: a month
of a large cloud has hundreds of thousands of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property, partial
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from slacalc import speed
from slacalc.computing.engine import CellTotals, Measure, cell_totals
from slacalc.dates.instants import US_PER_SECOND
from slacalc.dates.months import MonthGrid
from slacalc.errors import InputError, Problem
from slacalc.model.cells import EVERY_CUSTOMER
from slacalc.model.contracts import ContractBook, ContractTable
from slacalc.model.table import IncidentTable, Key, concat_tables, sort_order_after
from slacalc.terms import outages
from slacalc.terms.outages import OutageRules
from slacalc.terms.policy import Policy


@dataclass
class Group:
    """Keys that share service hours and outage rules: their cell totals and how time is
    measured."""

    policy: Policy  # one policy of the group (their hours and rules are the same)
    measure: Measure
    totals: CellTotals | None  # None: no incident of the group's keys
    table_keys: Any  # the table's key numbers in the group, ascending (the cell totals' key order)


@dataclass
class KeyPlan:
    """The report's keys, sorted, with their contracts and where their cell totals come from."""

    key_customer: Any  # pyarrow string arrays, sorted by (customer, service)
    key_service: Any
    contracts: ContractTable  # the contracts that price the keys (``contracts[i]``: an object)
    contract: Any  # per key: index into contracts
    group: Any  # per key: index into groups
    local: Any  # per key: the key's number in its group's cell totals (-1: no incidents)
    source: Any  # per key: the table key whose incidents it takes (-1: none)
    groups: list[Group]
    table: IncidentTable  # the log, with customer-wide rows merged into the keys that need them

    def __len__(self) -> int:
        return len(self.key_customer)

    @cached_property
    def keys(self) -> list[Key]:
        return list(zip(self.key_customer.to_pylist(), self.key_service.to_pylist(), strict=True))


def plan_keys(
    table: IncidentTable,
    *,
    settings: Any,
    book: ContractBook | None,
    grid: MonthGrid,
    wanted: list[int] | None,
    nobody: list[tuple[str, str]] | None = None,
    requests: Any = None,
    keep: Any = None,
) -> tuple[KeyPlan, list[int]]:
    """The key plan, and the reported months (``wanted`` given, or those incidents touch, and
    those ``requests`` (a :class:`~slacalc.reading.requests.RequestTable`) have counts in).
    ``keep``: numbers of the table's keys reported even with no row left (customer-wide rows
    only add keys after the table's own, so the numbers hold)."""
    table, alias = customer_wide(table, book, _signature(settings.policy), nobody, keep)
    contracts, of_key = contracts_of(table, settings, book)
    # Without contracts the report's keys are the table's own: their order (a sort of their
    # text) is found on a thread of its own while the engine runs, which leaves a core idle
    # at times.
    key_order = speed.meanwhile(table.key_order) if book is None else table.key_order
    groups, group_of_key, local_of_key = engine_groups(
        table, contracts, of_key, grid, settings, requests
    )
    n_grid = len(grid.months)
    if wanted is None:
        hit = np.zeros(n_grid, dtype=bool)
        for g in groups:
            if g.totals is not None:
                hit[g.totals.cells % n_grid] = True
        wanted = np.flatnonzero(hit).tolist()
    used = np.zeros(table.n_keys, dtype=bool)
    month_wanted = np.zeros(n_grid, dtype=bool)
    month_wanted[wanted] = True
    for g in groups:
        if g.totals is not None:
            cells = g.totals.cells
            hit = month_wanted[cells % n_grid]
            used[g.table_keys[cells[hit] // n_grid]] = True
    if keep is not None:  # keys that had incidents, none of which counted: reported all the same
        used[keep[keep >= 0]] = True
    more_customers, more_services, contract, source, own = _chosen(
        table, alias, contracts, of_key, used, book, settings
    )
    if own == len(source):  # the table's own keys only: sorted through its distinct words
        rank = np.empty(table.n_keys, dtype=np.int64)
        rank[key_order()] = np.arange(table.n_keys)
        order = speed.sorting_order(rank[source], table.n_keys)
        index = pa.array(source[order])  # the keys' text taken once, in order, side by side
        customers, services = speed.both(
            partial(table.key_customer.take, index), partial(table.key_service.take, index)
        )
    else:  # and contracts' keys: through the table's words and the others' own
        order = sort_order_after(table, source[:own], more_customers, more_services)
        mine, index = pa.array(source[:own]), pa.array(order)
        customers = pa.concat_arrays([table.key_customer.take(mine), more_customers]).take(index)
        services = pa.concat_arrays([table.key_service.take(mine), more_services]).take(index)
    contract, source = contract[order], source[order]
    group = np.zeros(len(order), dtype=np.int64)
    local = np.full(len(order), -1, dtype=np.int64)
    has = source >= 0
    group[has] = group_of_key[source[has]]
    local[has] = local_of_key[source[has]]
    if (~has).any():
        by_policy = np.array(
            [_group_for(groups, p, grid, settings) for p in contracts.policies], dtype=np.int64
        )
        group[~has] = by_policy[contracts.policy[contract[~has]]]
    plan = KeyPlan(customers, services, contracts, contract, group, local, source, groups, table)
    return plan, wanted


def customer_wide(
    table: IncidentTable,
    book: ContractBook | None,
    default: tuple = (),
    nobody: list[tuple[str, str]] | None = None,
    sealed: Any = None,
) -> tuple[IncidentTable, dict[Key, int]]:
    """Rows of customer ``*`` reach every contract of their service.

    A key with rows of its own gets a copy of its service's ``*`` rows (they must merge with its
    own, never counted twice); a key with none uses the ``*`` key's results as they are, so one
    regional outage is computed once, not once per customer (unless its contract's policy
    measures time differently from ``default``, the signature the ``*`` key is computed under).
    Returns the table and, per such key, the number of the ``*`` key it uses; ``nobody`` gets
    ``(where, service)`` of the ``*`` rows whose service no contract has. ``sealed``: numbers
    of keys whose zones were counted, which took the ``*`` rows in that count already
    (:func:`~slacalc.computing.redundancy.key_incidents`): they get neither.
    """
    star = np.flatnonzero(np.asarray(pc.equal(table.key_customer, EVERY_CUSTOMER))).tolist()
    if not star:
        return table, {}
    nobody = nobody if nobody is not None else []
    if book is None:
        first = table.first_row(star[0])
        raise InputError(
            Problem(
                table.files[int(table.file[first])],
                int(table.line[first]),
                "customer '*' (every customer of the service) needs --contracts to know who "
                "they are",
                "customer_id",
                "*",
            )
        )
    own = set(table.keys)
    done: set[Key] = set()
    if sealed is not None and len(sealed):
        at = pa.array(np.asarray(sealed)[np.asarray(sealed) >= 0])
        done = set(
            zip(
                table.key_customer.take(at).to_pylist(),
                table.key_service.take(at).to_pylist(),
                strict=True,
            )
        )
    alias: dict[Key, int] = {}
    parts = [table]
    for s in star:
        service = table.key_service[s].as_py()
        star_rows = np.flatnonzero(table.key == s)
        if not book.customers_of(service):
            nobody.append((table.where(table.first_row(s)), service))
        for customer in book.customers_of(service):
            key = (customer, service)
            if key in done:
                continue
            contract = book.find(customer, service)
            differs = contract is not None and _signature(contract.policy) != default
            if key in own or differs:
                parts.append(table.take(star_rows).relabel(key))
            else:
                alias[key] = s
    return (concat_tables(parts) if len(parts) > 1 else table), alias


def reaches_nobody(where: str, service: str) -> str:
    """The warning for customer ``*`` rows (the first at ``where``) that no contract takes."""
    return (
        f"{where}: customer '*' rows of service '{service}' reach no contract (no customer has "
        "that service): they count for nobody"
    )


def contracts_of(
    table: IncidentTable, settings: Any, book: ContractBook | None
) -> tuple[ContractTable, Any]:
    """The contracts that may price the table's keys (the book's, then ``--monthly-fee``'s
    terms), and each key's (-1: none)."""
    fallback = settings.fallback
    contracts = book.table if book is not None else ContractTable.of([])
    of_key = np.full(table.n_keys, -1, dtype=np.int64)
    if book is not None and table.n_keys:
        of_key = book.lookup(table.key_customer, table.key_service, table.key_words)
    if fallback is not None:
        of_key = np.where(of_key >= 0, of_key, len(contracts))
        contracts = contracts + ContractTable.of([fallback])
    return contracts, of_key


def _signature(policy: Policy) -> tuple:
    return (
        policy.service_hours,
        policy.min_outage_seconds,
        policy.round_up_seconds,
        policy.measure,
    )


def engine_groups(
    table: IncidentTable,
    contracts: ContractTable,
    of_key: Any,
    grid: MonthGrid,
    settings: Any,
    requests: Any = None,
) -> tuple[list[Group], Any, Any]:
    """Run the engine once per group of keys with the same hours and rules; a group whose
    policy measures error rates takes its cell totals from ``requests`` instead
    (:func:`slacalc.computing.error_rate.request_totals`: an equivalent downtime, exact).

    Returns the groups and, per table key, its group and its number in the group's cell totals.
    """
    sigs: dict[tuple, int] = {}
    policies: list[Policy] = []
    group_of_policy = []
    for policy in [*contracts.policies, settings.policy]:
        sig = _signature(policy)
        if sig not in sigs:
            sigs[sig] = len(policies)
            policies.append(policy)
        group_of_policy.append(sigs[sig])
    # per contract, then the default's for keys without one (-1)
    of_policy = np.array(group_of_policy, dtype=np.int64)
    group_of_contract = np.append(of_policy[contracts.policy], of_policy[-1])
    group_of_key = group_of_contract[of_key]
    local_of_key = np.full(table.n_keys, -1, dtype=np.int64)
    groups = []
    # a key with no row (a request key, a key kept though none of its rows counted) has no
    # number in a downtime group's cell totals: the engine numbers the keys of its rows only
    has_rows = np.bincount(table.key, minlength=table.n_keys) > 0
    for gi, policy in enumerate(policies):
        keys = np.flatnonzero(group_of_key == gi)
        if policy.measure is None:
            keys = keys[has_rows[keys]]
        local_of_key[keys] = np.arange(len(keys))
        measure = measure_of(policy, grid, settings)
        result = None
        if policy.measure is not None:
            result = _request_group(table, keys, policy, grid, requests)
        elif len(keys):
            sub = table
            if len(keys) != table.n_keys:
                # take() numbers the keys by first row, as the table does: ascending numbers
                sub = table.take(np.flatnonzero(np.isin(table.key, keys)))
            outage = OutageRules(
                policy.min_outage_seconds * US_PER_SECOND, policy.round_up_seconds * US_PER_SECOND
            )
            result = cell_totals(
                sub, grid.edges, settings.as_of, measure=measure, rules=outage or None
            )
        groups.append(Group(policy, measure, result, keys))
    if requests is not None and len(requests):
        _check_request_keys(table, requests, [g.policy for g in groups], group_of_key)
    return groups, group_of_key, local_of_key


def _table_keys_of(table: IncidentTable, requests: Any) -> Any:
    """The table's number of each request key (the run gave the table every request key)."""
    number = {k: i for i, k in enumerate(table.keys)}
    return np.array([number[k] for k in requests.keys], dtype=np.int64)


def _request_group(
    table: IncidentTable, keys: Any, policy: Policy, grid: MonthGrid, requests: Any
) -> Any:
    """The cell totals of the error-rate keys ``keys`` (ascending table keys) from their
    request counts; incidents of such keys are refused, never counted or dropped silently."""
    from slacalc.computing.error_rate import request_totals

    has_rows = np.flatnonzero(np.isin(table.key, keys))
    if len(has_rows):
        r = int(has_rows[0])
        customer, service = table.keys[int(table.key[r])]
        raise InputError(
            Problem(
                table.files[int(table.file[r])],
                int(table.line[r]) or None,
                f"customer '{customer}' service '{service}' is measured by error rate (policy "
                f"'{policy.name}'): its incidents would not count; give its request counts "
                "(--requests) only",
            )
        )
    if requests is None or not len(requests) or not len(keys):
        return None
    local = np.full(table.n_keys, -1, dtype=np.int64)
    local[keys] = np.arange(len(keys))
    number = local[_table_keys_of(table, requests)]
    rows = np.flatnonzero(number[requests.key] >= 0)
    if not len(rows):
        return None
    return request_totals(requests.take(rows), grid.edges, policy.measure, key_number=number).totals


def _check_request_keys(
    table: IncidentTable, requests: Any, policies: list[Policy], group_of_key: Any
) -> None:
    """Every request row's key is priced by a policy that measures error rates."""
    groups = group_of_key[_table_keys_of(table, requests)][requests.key]
    measured = np.array([p.measure is not None for p in policies], dtype=bool)
    wrong = np.flatnonzero(~measured[groups])
    if len(wrong):
        r = int(wrong[0])
        customer, service = requests.keys[int(requests.key[r])]
        policy = policies[int(groups[r])]
        raise InputError(
            Problem(
                requests.files[int(requests.file[r])],
                int(requests.line[r]),
                f"customer '{customer}' service '{service}' is priced by policy "
                f"'{policy.name}', which measures downtime, not error rates: its request "
                'counts need a policy with measure = "error_rate" (e.g. --policy aws-s3)',
            )
        )


def _group_for(groups: list[Group], policy: Policy, grid: MonthGrid, settings: Any) -> int:
    """The group whose hours and rules ``policy`` shares (a new, empty one if none does)."""
    sig = _signature(policy)
    for gi, g in enumerate(groups):
        if _signature(g.policy) == sig:
            return gi
    groups.append(Group(policy, measure_of(policy, grid, settings), None, np.zeros(0, np.int64)))
    return len(groups) - 1


def measure_of(policy: Policy, grid: MonthGrid, settings: Any) -> Measure:
    """All of the time, or only the policy's service hours in the grid's months."""
    hours = policy.service_hours
    if hours is None:
        return Measure()
    first = grid.months[0].first_day()
    last = grid.months[-1].next().first_day() - timedelta(days=1)
    return Measure(outages.service_windows(hours, first, last, settings.tz, settings.work_calendar))


def _chosen(
    table: IncidentTable,
    alias: dict[Key, int],
    contracts: ContractTable,
    of_key: Any,
    used: Any,
    book: ContractBook | None,
    settings: Any,
) -> tuple[Any, Any, Any, Any, int]:
    """Every key that gets rows: ``(customers, services, contract, source, own)``, where source
    is the table key whose cell totals it takes (-1: none) and the first ``own`` keys are the
    table's own (the others take a customer-wide key's cell totals, or none); ``customers`` and
    ``services`` are the others' text (the table's own keys are its keys ``source[:own]``). An
    unpriced key with incidents in the reported months is an error naming it."""
    star = np.asarray(pc.equal(table.key_customer, EVERY_CUSTOMER)) if table.n_keys else used
    picked = np.flatnonzero(used & ~star)
    unpriced = picked[of_key[picked] < 0]
    if len(unpriced):
        hint = (
            "add it to --contracts or give --monthly-fee"
            if book is not None
            else "give --contracts FILE or --monthly-fee AMOUNT"
        )
        problems = []
        for k in unpriced.tolist():
            customer, service = table.keys[k]
            first = table.first_row(k)
            problems.append(
                Problem(
                    table.files[int(table.file[first])],
                    int(table.line[first]),
                    f"no contract for customer '{customer}' service '{service}': {hint}",
                    "customer_id",
                    customer,
                )
            )
        raise InputError(problems)
    customers = [pa.array([], pa.string())]
    services = [pa.array([], pa.string())]
    contract = [of_key[picked]]
    source = [picked]
    covered = np.zeros(len(contracts), dtype=bool)
    covered[of_key[picked]] = True
    extra: list[tuple[str, str, int, int]] = []
    for key, s in alias.items():
        found = book.index(*key) if book is not None else -1
        if used[s] and found >= 0:
            covered[found] = True
            extra.append((key[0], key[1], found, s))
    if extra:
        customers.append(pa.array([e[0] for e in extra], pa.string()))
        services.append(pa.array([e[1] for e in extra], pa.string()))
        contract.append(np.array([e[2] for e in extra], dtype=np.int64))
        source.append(np.array([e[3] for e in extra], dtype=np.int64))
    if book is not None:
        # Every contract gets rows: one its keys did not reach yet gets its own key (its
        # service, or '*'). A key reaches an exact contract only by being that contract's key:
        # exact matches win.
        rest = np.flatnonzero(~covered[: len(book)])
        if len(rest):
            index = pa.array(rest)
            customers.append(book.table.customer.take(index))
            services.append(book.table.service.take(index))
            contract.append(rest)
            source.append(np.full(len(rest), -1, dtype=np.int64))
    return (
        pa.concat_arrays(customers),
        pa.concat_arrays(services),
        np.concatenate(contract).astype(np.int64),
        np.concatenate(source).astype(np.int64),
        len(picked),
    )
