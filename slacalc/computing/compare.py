"""The same months priced under several policies, side by side: what would these terms have
cost us?

Each contract keeps its fee and currency and is re-priced under each policy: its committed
target where the policy has that tier, else the policy's default tier. The per-contract
``policy`` column is set aside: the point is to try every contract under the same terms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from slacalc.computing.report import Report, Settings, compute_report
from slacalc.dates.months import Month
from slacalc.reading.contracts import Contract, ContractBook
from slacalc.reading.table import IncidentTable
from slacalc.terms.policy import Policy, Tier

FIELDS = (
    "customer_id",
    "service",
    "month",
    "policy",
    "availability_pct",
    "downtime_seconds",
    "sla_target_pct",
    "tier_band",
    "breached",
    "credit_pct",
    "compensation",
    "currency",
    "capped",
)
TEXT_FIELDS = ("customer_id", "service", "policy")
TOTAL_FIELDS = ("policy", "currency", "breached_rows", "compensation")


@dataclass
class Comparison:
    """One report per policy, over the same keys and months."""

    policies: list[Policy]
    reports: list[Report]

    def records(self) -> list[dict[str, Any]]:
        """Per key and month, one record per policy (in the order the policies were given)."""
        per_policy = [r.records() for r in self.reports]
        out = []
        for rows in zip(*per_policy, strict=True):
            for policy, rec in zip(self.policies, rows, strict=True):
                out.append({f: rec[f] if f != "policy" else policy.name for f in FIELDS})
        return out

    def totals(self) -> list[dict[str, Any]]:
        """Breached rows and compensation per policy and currency."""
        out = []
        for policy, report in zip(self.policies, self.reports, strict=True):
            counts = report.breached_counts()
            for currency, total in report.totals().items():
                out.append(
                    {
                        "policy": policy.name,
                        "currency": currency,
                        "breached_rows": counts.get(currency, 0),
                        "compensation": total,
                    }
                )
        return out


def tier_under(policy: Policy, tier: Tier) -> Tier:
    """The tier a contract committed to ``tier`` gets under ``policy``."""
    for candidate in policy.tiers:
        if candidate.target == tier.target:
            return candidate
    return policy.default_tier


def compare(
    table: IncidentTable,
    settings: Settings,
    policies: Sequence[Policy],
    *,
    contracts: ContractBook | None = None,
    months: Sequence[Month] | None = None,
) -> Comparison:
    """Price the same incidents and contracts under each of ``policies``."""
    reports = []
    for policy in policies:
        book = None
        if contracts is not None:
            book = ContractBook([_under(c, policy) for c in contracts.contracts])
        tier = settings.sla_target
        priced = replace(
            settings,
            policy=policy,
            sla_target=tier_under(policy, tier) if tier is not None else None,
        )
        reports.append(compute_report(table, priced, contracts=book, months=months))
    keys = {tuple(r.keys) for r in reports}
    months_seen = {tuple(r.months) for r in reports}
    if len(keys) > 1 or len(months_seen) > 1:  # the same inputs give the same rows
        raise AssertionError("the policies' reports do not cover the same keys and months")
    return Comparison(list(policies), reports)


def _under(contract: Contract, policy: Policy) -> Contract:
    return replace(contract, policy=policy, tier=tier_under(policy, contract.tier))
