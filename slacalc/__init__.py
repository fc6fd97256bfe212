"""slacalc: SLA availability, tiers, compensation and dispute deadlines from incident logs.

A billing script gets what ``slacalc report`` writes from one call, every option the command
line has (text as the command line takes it, or values), in memory, in buckets beyond
``memory`` or on Spark::

    import slacalc

    with slacalc.report(["incidents.csv"], contracts="contracts.csv", as_of="2025-07-01") as run:
        run.write("report.csv")  # the bytes of `slacalc report ... -o report.csv`
        table = run.to_arrow()
        totals = run.totals()  # per currency: breached rows and compensation
        print(run.warnings)

The steps are there too, for a caller that wants the rows as objects::

    from slacalc import Settings, compute_report, load_policy, read_contracts, read_incidents
    from slacalc.dates.instants import get_zone, parse_instant

    tz = get_zone("Asia/Shanghai")
    policy = load_policy("standard")
    settings = Settings(policy=policy, tz=tz, as_of=parse_instant("2025-07-01", tz))
    table = read_incidents(["incidents.csv"], tz)
    book = read_contracts("contracts.csv", policy=policy, default_currency="CNY")
    report = compute_report(table, settings, contracts=book)
    for record in report.records():
        print(record)
    print(report.deadlines)

The package is laid out by stage: ``reading`` (files into an :class:`IncidentTable`),
``computing`` (the engine, the report, explain, validate), ``dates`` (instants, months,
working days), ``terms`` (policies and the rules: tiers, prices, rounding, deadlines, text
forms), ``writing`` (CSV, JSON, tables) and ``cli``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from slacalc.version import __version__

# The names below load their modules on first use: `import slacalc` (and so `slacalc.cli`,
# which installs the Ctrl-C handler first thing) costs no numpy or pyarrow import.
_EXPORTS = {
    "report": "slacalc.run",
    "compare": "slacalc.run",
    "explain": "slacalc.run",
    "statements": "slacalc.run",
    "ReportRun": "slacalc.run",
    "StatementRun": "slacalc.run",
    "Deadline": "slacalc.computing.report",
    "Report": "slacalc.computing.report",
    "ReportRow": "slacalc.computing.report",
    "Settings": "slacalc.model.settings",
    "compute_report": "slacalc.computing.report",
    "Month": "slacalc.dates.months",
    "InputError": "slacalc.errors",
    "Problem": "slacalc.errors",
    "SlacalcError": "slacalc.errors",
    "UsageError": "slacalc.errors",
    "read_incidents": "slacalc.reading",
    "Contract": "slacalc.model.contracts",
    "ContractBook": "slacalc.model.contracts",
    "read_contracts": "slacalc.reading.contracts",
    "Incident": "slacalc.model.table",
    "IncidentTable": "slacalc.model.table",
    "Policy": "slacalc.terms.policy",
    "Tier": "slacalc.terms.policy",
    "load_policy": "slacalc.terms.policy",
}

if TYPE_CHECKING:
    from slacalc.computing.report import Deadline, Report, ReportRow, compute_report
    from slacalc.dates.months import Month
    from slacalc.errors import InputError, Problem, SlacalcError, UsageError
    from slacalc.model.contracts import Contract, ContractBook
    from slacalc.model.settings import Settings
    from slacalc.model.table import Incident, IncidentTable
    from slacalc.reading import read_incidents
    from slacalc.reading.contracts import read_contracts
    from slacalc.run import ReportRun, StatementRun, compare, explain, report, statements
    from slacalc.terms.policy import Policy, Tier, load_policy


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'slacalc' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


__all__ = [
    "Contract",
    "ContractBook",
    "Deadline",
    "Incident",
    "IncidentTable",
    "InputError",
    "Month",
    "Policy",
    "Problem",
    "Report",
    "ReportRow",
    "ReportRun",
    "Settings",
    "SlacalcError",
    "StatementRun",
    "Tier",
    "UsageError",
    "__version__",
    "compare",
    "compute_report",
    "explain",
    "load_policy",
    "read_contracts",
    "read_incidents",
    "report",
    "statements",
]
