"""slacalc: SLA availability, tiers, compensation and dispute deadlines from incident logs.

The library computes exactly what the command line prints::

    from slacalc import read_incidents, read_contracts, compute_report, Terms, load_policy
    from slacalc.timeparse import get_zone, parse_instant

    tz = get_zone("Asia/Shanghai")
    policy = load_policy("standard")
    log = read_incidents(["incidents.csv"], tz)
    book = read_contracts("contracts.csv", policy=policy, default_currency="CNY")
    terms = Terms(policy=policy, tz=tz, as_of=parse_instant("2025-07-01", tz))
    for row in compute_report(log, terms, contracts=book).rows:
        print(row.to_dict())
"""

from __future__ import annotations

__version__ = "0.1.0"

from slacalc.contracts import Contract, ContractBook, read_contracts
from slacalc.errors import InputError, Problem, SlacalcError, UsageError
from slacalc.incidents import Incident, IncidentLog, read_incidents
from slacalc.periods import Month
from slacalc.policy import Policy, Tier, load_policy
from slacalc.report import Report, ReportRow, Terms, compute_report

__all__ = [
    "Contract", "ContractBook", "Incident", "IncidentLog", "InputError", "Month", "Policy",
    "Problem", "Report", "ReportRow", "SlacalcError", "Terms", "Tier", "UsageError",
    "__version__", "compute_report", "load_policy", "read_contracts", "read_incidents",
]  # fmt: skip
