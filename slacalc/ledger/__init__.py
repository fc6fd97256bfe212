"""The compensation ledger: what was owed, claimed, approved, issued and applied, on a database.

::

    import slacalc
    from slacalc.ledger import Ledger, post

    with Ledger("ledger.db", actor="billing-bot") as ledger:      # or a postgresql:// URL
        done = post(ledger, ["incidents.csv"], contracts="contracts.csv", as_of="2025-07-01")
        ledger.claim("acme:storage:2025-05", reference="TICKET-1", as_of=...)

:func:`post` computes through :func:`slacalc.report` (or reads a report file) and records
each breached key and month once (:meth:`Ledger.post`); the lifecycle, expiry and the
questions (``credits``, ``history``, ``due``) are :class:`Ledger`'s methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slacalc.ledger.credits import FORMS, STATES, IllegalTransition, credit_id

if TYPE_CHECKING:
    from slacalc.ledger.store import Ledger

# The database side loads when first asked for (PEP 562): a command line that never touches
# the ledger (``slacalc report``) does not import its store, SQL and schema.
_LAZY = {
    "DEFAULT_LEDGER": ("slacalc.ledger.credits", "DEFAULT_LEDGER"),
    "Ledger": ("slacalc.ledger.store", "Ledger"),
    "LedgerError": ("slacalc.ledger.sql", "LedgerError"),
    "SCHEMA_VERSION": ("slacalc.ledger.schema", "LATEST"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'slacalc.ledger' has no attribute {name!r}")


__all__ = [
    "DEFAULT_LEDGER",
    "FORMS",
    "SCHEMA_VERSION",
    "STATES",
    "IllegalTransition",
    "Ledger",
    "LedgerError",
    "PostResult",
    "credit_id",
    "post",
]


@dataclass
class PostResult:
    """What a post did: one record per credit it touched (``action``: posted, updated,
    adjusted, noted or unchanged), and the run's warnings."""

    records: list[dict[str, Any]]
    warnings: list[str]


def post(
    ledger: Ledger,
    incidents: Sequence[str] = (),
    *,
    from_report: str | None = None,
    contracts: str | None = None,
    policy: Any = None,
    tz: Any = None,
    as_of: str | int | datetime | None = None,
    holidays: str | None = None,
    **options: Any,
) -> PostResult:
    """Compute the months of ``incidents`` through :func:`slacalc.report` (every option as
    ``slacalc report`` takes it), or read the report file ``from_report``, and record it in
    ``ledger`` in one transaction. ``policy`` None: the report's default (``standard``), or,
    for a report file, the built-in or preset each row names."""
    from slacalc import run
    from slacalc.errors import UsageError
    from slacalc.ledger.proposals import from_report_file, from_run, input_digests

    deployments = options.get("deployments")
    requests = list(options.get("requests") or [])
    if "-" in (*incidents, contracts, from_report, holidays, deployments, *requests):
        raise UsageError(
            "a ledger post keeps the SHA-256 of every input: give a file, not standard input"
        )
    zone = run.as_zone(tz or run.DEFAULT_TZ)
    moment = run.as_instant(as_of, zone)
    if from_report is not None:
        if incidents or contracts or deployments or requests:
            raise UsageError(
                "--from-report posts a report: give no incident logs, --contracts, "
                "--deployments or --requests"
            )
        chosen = run.as_policy(policy) if policy is not None else None
        files = [("report", from_report), *_policy_file(policy)]
        found = from_report_file(
            from_report, tz=zone, policy=chosen, inputs=_digests_after(files, input_digests)
        )
    else:
        if not incidents and not requests:
            raise UsageError(
                "give the incident logs to post (or request counts with --requests FILE), or "
                "--from-report FILE"
            )
        with run.report(
            incidents,
            contracts=contracts,
            policy=policy if policy is not None else run.DEFAULT_POLICY,
            tz=zone,
            as_of=moment,
            holidays=holidays,
            deadlines=True,  # in memory: the ledger reads the rows' incidents
            **options,
        ) as result:
            files = [("incidents", p) for p in incidents]
            files += [("contracts", contracts)] if contracts else []
            files += [("holidays", holidays)] if holidays else []
            files += [("deployments", deployments)] if deployments else []
            files += [("requests", p) for p in requests]
            files += _policy_file(policy)
            found = from_run(result, input_digests(files))
    records = ledger.post(found, as_of=moment)
    return PostResult(records, found.warnings)


def _policy_file(policy: Any) -> list[tuple[str, str]]:
    """The policy as an input file, when it is one (a built-in or preset is not)."""
    if isinstance(policy, str) and Path(policy).is_file():
        return [("policy", policy)]
    return []


def _digests_after(files: list[tuple[str, str]], digests: Any) -> list[dict[str, Any]]:
    """The digests of files a reader has not opened yet: a missing one is the reader's error
    (``FILE: cannot read``), not a traceback here."""
    import os

    return digests([(role, path) for role, path in files if os.path.isfile(path)])
