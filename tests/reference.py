"""A slow, exact reference for the report, written from the README's rules alone.

It shares no code with slacalc: plain Python integers, ``Fraction`` and ``Decimal``, aware
``datetime`` and ``zoneinfo``, and brute force where slacalc sweeps arrays. Downtime is summed
over the elementary intervals between every start, end, month edge and service-hours edge, the
loss of each found by looking at every incident. It is meant for small logs (a few dozen rows):
the differential fuzzer (tests/test_differential.py, bench/fuzz.py) compares every field of
every row of slacalc's report, in memory, in buckets and on Spark, with what this computes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_FLOOR, Decimal, localcontext
from fractions import Fraction
from functools import cache
from itertools import pairwise
from zoneinfo import ZoneInfo

US = 1_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DOWN = ("outage", "data_loss")
EXCLUDED = ("maintenance", "excluded")
MINOR = {"JPY": 0, "KRW": 0, "CNY": 2, "USD": 2, "EUR": 2, "KWD": 3, "BHD": 3, "CLF": 4}
GUARDED = ("=", "+", "-", "@", "\t", "\r")

FIELDS = (
    "customer_id",
    "service",
    "month",
    "period_seconds",
    "downtime_seconds",
    "excluded_seconds",
    "availability_pct",
    "tier_band",
    "sla_target_pct",
    "breached",
    "coefficient",
    "monthly_fee",
    "compensation",
    "currency",
    "capped",
    "incident_count",
    "compensation_due_at",
    "status",
    "credit_pct",
    "credit_form",
    "claim_opens_at",
    "claim_closes_at",
    "policy",
    "claim_status",
)


class Refused(Exception):
    """The reference's verdict that the input is an error (slacalc must refuse it too)."""


# --- the input, as plain values --------------------------------------------------------------


@dataclass(frozen=True)
class Inc:
    start: int  # epoch microseconds
    end: int | None  # None: ongoing
    customer: str
    service: str
    category: str
    impact: Fraction


@dataclass(frozen=True)
class Tier:
    target: Decimal
    coefficient: Decimal
    credit_pct: Decimal
    bands: tuple[tuple[Decimal, Decimal], ...] = ()  # (below, credit_pct), highest below first


@dataclass(frozen=True)
class Pol:
    name: str
    mode: str  # coefficient or credit
    tiers: tuple[Tier, ...]  # highest target first
    default_target: Decimal
    cap_pct: Decimal = Decimal(100)
    min_outage: int = 0  # seconds
    round_up: int = 0  # seconds
    min_credit: Decimal = Decimal(0)
    base: str = "period"  # or period-minus-excluded
    hours: tuple[str, time, time | None] | None = None  # days, from, to (None: 24:00)
    window: tuple[int, int | None, int | None] | None = None  # opens wd, closes days, months
    credit_form: str = "cash"


@dataclass(frozen=True)
class Deal:
    customer: str
    service: str  # "*": every service of the customer
    fee: Decimal
    currency: str
    target: Decimal | None
    policy: Pol | None  # None: the report's policy


@dataclass
class Case:
    incidents: list[Inc]
    policy: Pol
    tz: str
    as_of: int
    deals: list[Deal] | None = None  # None: no contracts file
    fee: Decimal | None = None  # --monthly-fee
    target: Decimal | None = None  # --sla-target
    currency: str = "CNY"
    months: list[tuple[int, int]] | None = None
    days: dict[date, bool] = field(default_factory=dict)  # --holidays: True = working day


# --- time ------------------------------------------------------------------------------------


def us_of(dt: datetime) -> int:
    return (dt - EPOCH) // timedelta(microseconds=1)


def local(d: date, t: time, zone: ZoneInfo) -> int:
    """A local wall-clock time as an instant (PEP 495, fold=0 in gaps and overlaps)."""
    return us_of(datetime.combine(d, t, tzinfo=zone))


def month_start(year: int, month: int, zone: ZoneInfo) -> int:
    return local(date(year, month, 1), time(0), zone)


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def month_of(us: int, zone: ZoneInfo) -> tuple[int, int]:
    dt = (EPOCH + timedelta(microseconds=us)).astimezone(zone)
    return dt.year, dt.month


def iso(us: int, zone: ZoneInfo) -> str:
    dt = (EPOCH + timedelta(microseconds=us)).astimezone(zone)
    return dt.isoformat(timespec="microseconds" if dt.microsecond else "seconds")


def working(d: date, days: dict[date, bool]) -> bool:
    return days[d] if d in days else d.weekday() < 5


class Clock:
    """How much of a stretch of time counts: all of it, or its service hours."""

    def __init__(self, policy: Pol, zone: ZoneInfo, days: dict[date, bool]) -> None:
        self.hours, self.zone, self.days = policy.hours, zone, days

    def windows(self, a: int, b: int) -> list[tuple[int, int]]:
        assert self.hours is not None
        kind, start, end = self.hours
        first = (EPOCH + timedelta(microseconds=a)).astimezone(self.zone).date() - timedelta(2)
        last = (EPOCH + timedelta(microseconds=b)).astimezone(self.zone).date() + timedelta(2)
        out = []
        d = first
        while d <= last:
            if (
                kind == "all"
                or (kind == "mon-fri" and d.weekday() < 5)
                or (kind == "working" and working(d, self.days))
            ):
                w0 = local(d, start, self.zone)
                w1 = (
                    local(d + timedelta(1), time(0), self.zone)
                    if end is None
                    else local(d, end, self.zone)
                )
                if w1 > w0:
                    out.append((w0, w1))
            d += timedelta(1)
        return out

    def length(self, a: int, b: int) -> int:
        if b <= a:
            return 0
        if self.hours is None:
            return b - a
        return sum(max(0, min(b, w1) - max(a, w0)) for w0, w1 in self.windows(a, b))


# --- one key's month -------------------------------------------------------------------------


@dataclass
class Cell:
    period: int
    downtime: Fraction
    excluded: int
    count: int


def cell(incs: list[Inc], lo: int, hi: int, as_of: int, policy: Pol, clock: Clock) -> Cell:
    """Downtime, excluded time and incident count of one key's incidents in ``[lo, hi)``."""
    spans = []
    for inc in incs:
        end = as_of if inc.end is None else min(inc.end, as_of)
        end = max(end, inc.start)
        s, e = max(inc.start, lo), min(end, hi)
        if e > s:
            spans.append((s, e, inc))
    count = sum(1 for s, e, inc in spans if inc.category in DOWN)
    cuts = sorted({lo, hi, *(s for s, _, _ in spans), *(e for _, e, _ in spans)})
    pieces = []  # (start, end, loss, excluded)
    for a, b in pairwise(cuts):
        active = [inc for s, e, inc in spans if s <= a and b <= e]
        shut = any(inc.category in EXCLUDED for inc in active)
        loss = max((inc.impact for inc in active if inc.category in DOWN), default=Fraction(0))
        pieces.append((a, b, Fraction(0) if shut else loss, shut))
    excluded = sum(clock.length(a, b) for a, b, _, shut in pieces if shut)
    period = clock.length(lo, hi)
    # Stretches: maximal runs of touching pieces with nonzero loss.
    runs: list[list[tuple[int, int, Fraction]]] = []
    for a, b, loss, _ in pieces:
        if loss > 0:
            if runs and runs[-1][-1][1] == a:
                runs[-1].append((a, b, loss))
            else:
                runs.append([(a, b, loss)])
    downtime = Fraction(0)
    for run in runs:
        length = sum(clock.length(a, b) for a, b, _ in run)
        down = sum((loss * clock.length(a, b) for a, b, loss in run), Fraction(0))
        if policy.min_outage or policy.round_up:
            counted_len = length
            if policy.round_up:
                unit = policy.round_up * US
                counted_len = -(-length // unit) * unit
            if policy.min_outage and length <= policy.min_outage * US:
                counted_len = 0
            down = down * counted_len / length if length else Fraction(0)
        downtime += down
    downtime = min(downtime, Fraction(period - excluded))  # never more than the month can count
    return Cell(period, downtime, excluded, count)


# --- prices ----------------------------------------------------------------------------------


def half_up(value: Fraction) -> int:
    return int((value * 2 + 1) // 2)


def pct_text(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def coefficient_text(value: Decimal) -> str:
    whole, _, frac = pct_text(value).partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def fixed(units: int, places: int) -> str:
    if not places:
        return str(units)
    digits = str(units).rjust(places + 1, "0")
    return f"{digits[:-places]}.{digits[-places:]}"


def seconds_text(us: Fraction) -> str:
    ms = half_up(Fraction(us) / 1000)
    text = fixed(ms, 3).rstrip("0").rstrip(".")
    return text


def availability_text(up: Fraction) -> str:
    """``up`` (a share of 1) in percent, truncated toward zero to 4 decimals."""
    with localcontext() as ctx:
        ctx.prec = 60
        scaled = Decimal(up.numerator) * 1000000 / Decimal(up.denominator)
        units = int(scaled.to_integral_value(rounding=ROUND_FLOOR))
    # Decimal division at 60 digits could round up to a whole number it does not reach
    if Fraction(units, 1000000) > up:
        units -= 1
    return fixed(units, 4)


def tier_of(policy: Pol, target: Decimal | None) -> Tier:
    want = policy.default_target if target is None else target
    for tier in policy.tiers:
        if tier.target == want:
            return tier
    raise Refused(f"target {want} is not a tier of {policy.name}")


def claim(
    policy: Pol, year: int, month: int, zone: ZoneInfo, days: dict[date, bool]
) -> tuple[int, int | None]:
    ny, nm = next_month(year, month)
    first = date(ny, nm, 1)
    opens = local(first, time(0), zone)
    if policy.window is None:
        return opens, None
    opens_wd, closes_days, closes_months = policy.window
    if opens_wd:
        d, n = first - timedelta(1), 0
        while n < opens_wd:
            d += timedelta(1)
            if working(d, days):
                n += 1
        opens = local(d + timedelta(1), time(0), zone)
    closes = None
    if closes_days is not None:
        closes = local(first + timedelta(closes_days), time(0), zone)
    elif closes_months is not None:
        m = ny * 12 + nm - 1 + closes_months
        closes = local(date(m // 12, m % 12 + 1, 1), time(0), zone)
    if closes is not None and closes <= opens:
        raise Refused("claim window closes before it opens")
    return opens, closes


# --- policies that contradict themselves ----------------------------------------------------


@cache
def longest_months(n: int) -> int:
    """The most days any ``n`` consecutive calendar months hold (a Gregorian cycle has them
    all)."""
    out = 0
    for start in range(2000 * 12, 2400 * 12):
        end = start + n
        first = date(start // 12, start % 12 + 1, 1)
        out = max(out, (date(end // 12, end % 12 + 1, 1) - first).days)
    return out


def check_policy(policy: Pol) -> None:
    """A window that cannot open before it closes in any month is refused when read: it opens
    after the Nth working day of the next month, so at least N days after the month ends."""
    if policy.window is None:
        return
    opens, days, months = policy.window
    if days is not None and days <= opens:
        raise Refused(f"{policy.name}: the claim window closes before it can open")
    if months is not None and longest_months(months) <= opens:
        raise Refused(f"{policy.name}: the claim window closes before it can open")


# --- the report ------------------------------------------------------------------------------


def guard(text: str) -> str:
    return "'" + text if text.startswith(GUARDED) else text


def report(case: Case) -> list[dict[str, str]]:
    """Every row of the report, each field as its CSV text; raises Refused on bad input."""
    zone = ZoneInfo(case.tz)
    as_of = case.as_of
    check_policy(case.policy)
    for deal in case.deals or []:
        if deal.policy is not None:
            check_policy(deal.policy)
    stars = [i for i in case.incidents if i.customer == "*"]
    if stars and case.deals is None:
        raise Refused("customer '*' without --contracts")

    def effective(inc: Inc) -> tuple[int, int]:
        end = as_of if inc.end is None else min(inc.end, as_of)
        return inc.start, max(end, inc.start)

    # The months: those asked for, else every month some incident overlaps.
    if case.months is not None:
        months = sorted(set(case.months))
    else:
        touched = set()
        for inc in case.incidents:
            s, e = effective(inc)
            if e > s:
                y, m = month_of(s, zone)
                while month_start(y, m, zone) < e:
                    touched.add((y, m))
                    y, m = next_month(y, m)
        months = sorted(touched)
    if not months:
        return []  # an empty report (slacalc warns that there is no month)
    first, last = months[0], months[-1]
    if (last[0] - first[0]) * 12 + last[1] - first[1] + 1 > 1200:
        raise Refused("more than 1200 months")
    bounds = {
        (y, m): (month_start(y, m, zone), month_start(*next_month(y, m), zone)) for y, m in months
    }

    deals = case.deals or []
    exact = {(d.customer, d.service): d for d in deals if d.service != "*"}
    wild = {d.customer: d for d in deals if d.service == "*"}
    fallback = (
        Deal("", "", case.fee, case.currency, case.target, None) if case.fee is not None else None
    )

    def contract(customer: str, service: str) -> Deal | None:
        return exact.get((customer, service)) or wild.get(customer) or fallback

    def reached(service: str) -> set[str]:
        return {c for (c, s) in exact if s == service} | set(wild)

    # Each key's incidents: its own, and the customer-wide ones of its service that reach it.
    keys: dict[tuple[str, str], list[Inc]] = {}
    for inc in case.incidents:
        if inc.customer != "*":
            keys.setdefault((inc.customer, inc.service), []).append(inc)
    for inc in stars:
        for customer in reached(inc.service):
            keys.setdefault((customer, inc.service), []).append(inc)

    def touches(incs: list[Inc]) -> bool:
        for inc in incs:
            s, e = effective(inc)
            for lo, hi in bounds.values():
                if min(e, hi) > max(s, lo):
                    return True
        return False

    rows_of: dict[tuple[str, str], Deal] = {}
    for key, incs in keys.items():
        if touches(incs):
            deal = contract(*key)
            if deal is None:
                raise Refused(f"no contract for {key}")
            rows_of[key] = deal
    used = {id(d) for d in rows_of.values()}
    for d in deals:
        if id(d) not in used:
            rows_of[(d.customer, d.service)] = d

    out = []
    for key in sorted(rows_of):
        deal = rows_of[key]
        policy = deal.policy or case.policy
        tier = tier_of(policy, deal.target)
        clock = Clock(policy, zone, case.days)
        places = MINOR[deal.currency]
        for y, m in months:
            lo, hi = bounds[(y, m)]
            c = cell(keys.get(key, []), lo, hi, as_of, policy, clock)
            out.append(row(key, deal, policy, tier, c, y, m, lo, hi, places, case, zone))
    return out


def row(key, deal, policy, tier, c, y, m, lo, hi, places, case, zone) -> dict[str, str]:
    base = c.period - c.excluded if policy.base == "period-minus-excluded" else c.period
    up = Fraction(1) if base == 0 else 1 - c.downtime / base

    def meets(target: Decimal) -> bool:
        return base == 0 or up * 100 >= Fraction(target)

    met = [t for t in policy.tiers if meets(t.target)]
    band = pct_text(met[0].target) if met else "<" + pct_text(policy.tiers[-1].target)
    breached = base > 0 and not meets(tier.target)
    fee = Fraction(deal.fee)
    units, capped, credit = 0, False, ""
    opens = closes = None
    status = ""
    if breached:
        if policy.mode == "coefficient":
            price = c.downtime / base * fee * Fraction(tier.coefficient)
        else:
            bands = tier.bands or ((tier.target, tier.credit_pct),)
            pct = None
            for below, share in bands:
                if up * 100 < Fraction(below):
                    pct = share
            if pct is None:
                raise Refused("a breached month under no band")
            credit = pct_text(pct)
            price = fee * Fraction(pct) / 100
        cap = fee * Fraction(policy.cap_pct) / 100
        capped = price > cap
        units = half_up(min(price, cap) * 10**places)
        opens, closes = claim(policy, y, m, zone, case.days)
        status = (
            "not_open"
            if case.as_of < opens
            else "claim_expired"
            if closes is not None and case.as_of >= closes
            else "open"
        )
        if policy.min_credit:
            if units < half_up(Fraction(policy.min_credit) * 10**places):
                units = 0
            if units == 0:
                status = "below_min_credit"
    return {
        "customer_id": guard(key[0]),
        "service": guard(key[1]),
        "month": f"{y:04d}-{m:02d}",
        "period_seconds": seconds_text(Fraction(c.period)),
        "downtime_seconds": seconds_text(c.downtime),
        "excluded_seconds": seconds_text(Fraction(c.excluded)),
        "availability_pct": availability_text(up),
        "tier_band": band,
        "sla_target_pct": pct_text(tier.target),
        "breached": "true" if breached else "false",
        "coefficient": coefficient_text(tier.coefficient),
        "monthly_fee": fixed(half_up(fee * 10**places), places),
        "compensation": fixed(units, places),
        "currency": deal.currency,
        "capped": "true" if capped else "false",
        "incident_count": str(c.count),
        "compensation_due_at": iso(hi + 72 * 3600 * US, zone) if breached else "",
        "status": "final" if hi <= case.as_of else "provisional",
        "credit_pct": credit,
        "credit_form": policy.credit_form,
        "claim_opens_at": iso(opens, zone) if opens is not None else "",
        "claim_closes_at": iso(closes, zone) if closes is not None else "",
        "policy": guard(policy.name),
        "claim_status": status,
    }
