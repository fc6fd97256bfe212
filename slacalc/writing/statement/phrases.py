"""Explain's notes and formula steps as the statement's messages: each code is a catalogue key
(``note.<code>``, ``f.<code>``), each parameter a text form (seconds, money, percentages as the
report writes them; categories and statuses as messages of their own; instants as
:class:`~slacalc.writing.statement.messages.Instant` and amounts as
:class:`~slacalc.writing.statement.messages.Amount`, said in the page's language).

A code without a phrase here, or without a message in a language, is a bug the tests catch:
nothing falls back to raw text.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo
from decimal import Decimal
from fractions import Fraction
from typing import Any

from slacalc.computing.explain import Said, Step
from slacalc.terms import money, numbers
from slacalc.terms.policy import ServiceHours
from slacalc.writing.statement.messages import Amount, Data, Instant, Msg

__all__ = ["PHRASES", "SHOWN_ELSEWHERE", "exact", "hours_msg", "say"]


def say(said: Said, tz: tzinfo) -> Msg:
    """A note or a step as a message of the catalogue."""
    prefix = "f" if isinstance(said, Step) else "note"
    key, values = PHRASES[said.code](said, tz)
    return Msg(f"{prefix}.{key}", values)


def hours_msg(hours: ServiceHours) -> Msg:
    """A policy's service hours as a message: ``working days 08:00–20:00``."""
    end = "24:00" if hours.end_of_day else hours.end.strftime("%H:%M")
    return _hours(hours.days, hours.start.strftime("%H:%M"), end)


def _hours(days: str, start: str, end: str) -> Msg:
    return Msg("hours", {"days": Msg(f"days.{days}"), "start": start, "end": end})


def _s(us: Fraction | int) -> str:
    return str(numbers.seconds(us))


def _base(period_us: int, excluded_us: int | None) -> Msg:
    if excluded_us is None:
        return Msg("f.base", {"period": _s(period_us)})
    return Msg("f.base_minus_excluded", {"period": _s(period_us), "excluded": _s(excluded_us)})


def _money(step: Any) -> dict[str, Any]:
    return {"fee": Amount(money.format_money(step.fee, step.currency), step.currency)}


def _amount(value: Decimal, currency: str) -> Amount:
    """A policy's amount with the currency's decimals, or with its own when it has more
    (a minimum credit of 0.005 USD is not shown as 0.01)."""
    text = money.format_money(value, currency)
    return Amount(text if Decimal(text) == value else numbers.format_pct(value), currency)


def _exact(value: Fraction, currency: str) -> Amount:
    """An exact amount to 4 decimals past the currency's own, ``…`` when more follow."""
    return Amount(exact(value, money.minor_unit(currency) + 4), currency)


def exact(value: Fraction, places: int) -> str:
    """An exact value to ``places`` decimals, truncated, ``…`` marking that more digits
    follow (the text form is :func:`numbers.decimal_texts`, the report's own)."""
    scaled = value * 10**places
    whole = scaled.numerator // scaled.denominator
    text = numbers.decimal_texts([abs(whole)], places, strip=whole == scaled)[0].as_py()
    text = ("-" if whole < 0 else "") + text
    return text if whole == scaled else text + "…"


def _claim(n: Any, tz: tzinfo) -> tuple[str, dict[str, Any]]:
    values = {
        "opens": Instant(n.opens_at, tz),
        "status": Msg(f"claim_status.{n.status}"),
    }
    if n.closes_at is None:
        return "claim_window_open_ended", values
    return "claim_window", {**values, "closes": Instant(n.closes_at, tz)}


_NONE: dict[str, Any] = {}
Phrase = Callable[[Any, tzinfo], tuple[str, dict[str, Any]]]

PHRASES: dict[str, Phrase] = {
    # an incident
    "customer_wide": lambda n, tz: ("customer_wide", _NONE),
    "ongoing": lambda n, tz: ("ongoing", _NONE),
    "ends_after_as_of": lambda n, tz: ("ends_after_as_of", _NONE),
    "outside_month": lambda n, tz: ("outside_month", _NONE),
    "clipped": lambda n, tz: ("clipped", _NONE),
    "not_downtime": lambda n, tz: (
        "not_downtime",
        {"category": Msg(f"category.{n.category}")},
    ),
    "partly_excluded": lambda n, tz: ("partly_excluded", _NONE),
    "fully_excluded": lambda n, tz: ("fully_excluded", _NONE),
    "larger_impact": lambda n, tz: ("larger_impact", _NONE),
    "merged_with": lambda n, tz: ("merged_with", {"ids": Data(", ".join(n.incidents))}),
    # a merged interval
    "rule_ignored": lambda n, tz: ("rule_ignored", {"run": n.run}),
    "rule_rounded": lambda n, tz: ("rule_rounded", {"run": n.run}),
    # the month
    "service_hours": lambda n, tz: (
        "service_hours",
        {"hours": _hours(n.days, n.start, n.end), "period": _s(n.period_us)},
    ),
    "outage_rules": lambda n, tz: (
        "outage_rules",
        {
            "runs": n.intervals,
            "ignored": n.ignored,
            "raw": _s(n.downtime_us),
            "counted": _s(n.counted_us),
        },
    ),
    "rounded_past_month": lambda n, tz: (
        "rounded_past_month",
        {"rounded": _s(n.rounded_us), "counted": _s(n.counted_us)},
    ),
    "error_rate_month": lambda n, tz: (
        "error_rate_month",
        {
            "intervals": n.intervals,
            "seconds": n.interval_seconds,
            "with_requests": n.with_requests,
            "with_errors": n.with_errors,
            "failed": n.failed,
            "total": n.total,
            "rate": n.mean_error_rate_pct,
        },
    ),
    "weighted_composite": lambda n, tz: (
        "weighted_composite",
        {
            "terms": Data(
                " + ".join(
                    f"{w} × {a} % ({p})"
                    for p, w, a in zip(n.parts, n.weights, n.availabilities, strict=True)
                )
            ),
            "total": Data(" + ".join(n.weights)),
        },
    ),
    "zone_down": lambda n, tz: (
        "zone_maintenance" if n.loss == 0 else "zone_down",
        {
            "zone": Data(n.zone),
            "loss": numbers.share(n.loss),
            "start": Instant(n.start_at, tz),
            "end": Instant(n.end_at, tz),
            "incident": Data(n.incident),
        },
    ),
    "rule_fired": lambda n, tz: (
        "rule_excluded" if n.excluded else "rule_dropped" if n.dropped else "rule_fired",
        {
            "rule": Data(n.rule),
            "loss": numbers.share(n.loss),
            "start": Instant(n.start_at, tz),
            "end": Instant(n.end_at, tz),
        },
    ),
    # the formula
    "availability": lambda n, tz: (
        "availability",
        {
            "down": _s(n.downtime_us),
            "base": _base(n.period_us, n.excluded_us),
            "exact": exact(n.availability * 100, 8),
            "pct": f"{n.shown_pct:f}",
        },
    ),
    "target_met": lambda n, tz: (
        "target_met",
        {"band": n.band, "target": numbers.format_pct(n.target)},
    ),
    "target_breached": lambda n, tz: (
        "target_breached",
        {"band": n.band, "target": numbers.format_pct(n.target)},
    ),
    "no_compensation": lambda n, tz: ("no_compensation", _NONE),
    "price_coefficient": lambda n, tz: (
        "price_coefficient",
        {
            **_money(n),
            "down": _s(n.downtime_us),
            "base": _base(n.period_us, n.excluded_us),
            "coefficient": money.format_coefficient(n.coefficient),
            "exact": _exact(n.amount, n.currency),
        },
    ),
    "price_credit": lambda n, tz: (
        "price_credit",
        {
            **_money(n),
            "below": numbers.format_pct(n.below),
            "pct": numbers.format_pct(n.credit_pct),
            "exact": _exact(n.amount, n.currency),
        },
    ),
    "no_band": lambda n, tz: ("no_band", _NONE),
    "cap": lambda n, tz: (
        "cap",
        {**_money(n), "cap": numbers.format_pct(n.cap_pct), "exact": _exact(n.cap, n.currency)},
    ),
    "min_credit": lambda n, tz: (
        "min_credit",
        {"min": _amount(n.min_credit, n.currency)},
    ),
    "rounded": lambda n, tz: (
        "rounded",
        {
            "places": n.places,
            "amount": Amount(money.format_money(n.amount, n.currency), n.currency),
            "form": Msg(f"credit_form.{n.credit_form}"),
        },
    ),
    "due": lambda n, tz: ("due", {"due": Instant(n.due_at, tz), "hours": n.hours}),
    "claim_window": _claim,
}

# the formula's steps the statement shows in their own section ("Compensation and claim")
SHOWN_ELSEWHERE = frozenset({"due", "claim_window"})
