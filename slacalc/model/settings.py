"""The settings of a report run, shared by every stage: the policy, the billing zone, the moment
of truth (``as_of``), the working-day calendar, and the fallback terms of keys without a contract
(``--monthly-fee``, ``--sla-target``)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from zoneinfo import ZoneInfo

from slacalc.dates.workdays import WorkCalendar
from slacalc.model.contracts import Contract
from slacalc.terms.policy import Policy, Tier


@dataclass(frozen=True)
class Settings:
    """Report-wide settings: policy, zone, the moment of truth, calendar, contract fallbacks."""

    policy: Policy
    tz: ZoneInfo
    as_of: int  # epoch microseconds: ongoing incidents end here; later months are provisional
    currency: str = "CNY"
    monthly_fee: Decimal | None = None  # --monthly-fee: for keys without a contract
    sla_target: Tier | None = None  # --sla-target: with --monthly-fee
    calendar: WorkCalendar | None = None  # working days: deadlines, claim windows, service hours

    @cached_property
    def fallback(self) -> Contract | None:
        """The terms of ``--monthly-fee`` and ``--sla-target``, for keys without a contract."""
        if self.monthly_fee is None:
            return None
        tier = self.sla_target or self.policy.default_tier
        return Contract("", "", self.monthly_fee, self.currency, tier, self.policy)

    @cached_property
    def work_calendar(self) -> WorkCalendar:
        return self.calendar if self.calendar is not None else WorkCalendar.create("CN")
