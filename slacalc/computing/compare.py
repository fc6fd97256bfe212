"""The same months priced under several policies, side by side: what would these terms have
cost us?

Each contract keeps its fee and currency and is re-priced under each policy: its committed
target where the policy has that tier, else the policy's default tier. The per-contract
``policy`` column is set aside: the point is to try every contract under the same terms.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from slacalc.computing.fields import python_values
from slacalc.model.contracts import Contract, ContractBook
from slacalc.model.settings import Settings
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
    """One report run per policy, over the same keys and months (in memory or in buckets: the
    rows come from each run's text, a piece at a time, so a comparison of a log larger than
    memory is written as a stream)."""

    policies: list[Policy]
    runs: list[Any]  # slacalc.run.ReportRun, one per policy

    def __enter__(self) -> Comparison:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for run in self.runs:
            run.close()

    @property
    def warnings(self) -> list[str]:
        return self.runs[0].warnings

    def iter_records(self) -> Iterator[dict[str, Any]]:
        """Per key and month, one record per policy (in the order the policies were given)."""
        streams = [_rows(run) for run in self.runs]
        for rows in zip(*streams, strict=True):
            keys = {(r["customer_id"], r["service"], r["month"]) for r in rows}
            if len(keys) != 1:  # the same inputs give the same rows under every policy
                raise AssertionError("the policies' reports do not cover the same keys and months")
            for policy, rec in zip(self.policies, rows, strict=True):
                yield {f: rec[f] if f != "policy" else policy.name for f in FIELDS}

    def records(self) -> list[dict[str, Any]]:
        return list(self.iter_records())

    def totals(self) -> list[dict[str, Any]]:
        """Breached rows and compensation per policy and currency."""
        return [
            {
                "policy": policy.name,
                "currency": t.currency,
                "breached_rows": t.breached_rows,
                "compensation": t.compensation,
            }
            for policy, run in zip(self.policies, self.runs, strict=True)
            for t in run.totals()
        ]


def _rows(run: Any) -> Iterator[dict[str, Any]]:
    """A run's rows as records of the compared fields (seconds as numbers, booleans)."""
    wanted = [f for f in FIELDS if f != "policy"]
    for piece in run.text_parts():
        cols = piece()
        values = [python_values(f, cols[f]) for f in wanted]
        for row in zip(*values, strict=True):
            yield dict(zip(wanted, row, strict=True))


def tier_under(policy: Policy, tier: Tier) -> Tier:
    """The tier a contract committed to ``tier`` gets under ``policy``."""
    for candidate in policy.tiers:
        if candidate.target == tier.target:
            return candidate
    return policy.default_tier


def repriced(
    settings: Settings, contracts: ContractBook | None, policy: Policy
) -> tuple[Settings, ContractBook | None]:
    """The settings and contracts of the same inputs priced under ``policy``: every contract at
    its committed target where the policy has that tier, else the policy's default tier (the
    contracts' own ``policy`` column is set aside)."""
    book = None
    if contracts is not None:
        book = ContractBook(
            [_under(c, policy) for c in contracts.contracts],
            display_names=contracts.display_names(),
            composites=contracts.composites,
        )
    tier = settings.sla_target
    priced = replace(
        settings, policy=policy, sla_target=tier_under(policy, tier) if tier is not None else None
    )
    return priced, book


def _under(contract: Contract, policy: Policy) -> Contract:
    return replace(contract, policy=policy, tier=tier_under(policy, contract.tier))
