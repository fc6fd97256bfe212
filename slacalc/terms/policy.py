"""Compensation policies: tiers and their band tables, outage rules, service hours, claim windows.

A policy is a built-in (``standard``, ``standard-credit``), a preset shipped in
``slacalc/presets/`` (the published terms of cloud providers), or a TOML file. Files are read
strictly: numbers exactly (never binary floats) and within their :data:`DOMAINS`, every key
known, bands ordered; a mistake is a :class:`PolicyError` naming the file, the key and a
suggestion. A policy that contradicts itself is refused too: bands that pay less for a worse
month, a breached month under no band, a cap of nothing, a claim window that closes before it
opens (:func:`check_claim_bounds` catches the months where that depends on the calendar).
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field
from datetime import date, time, timedelta, tzinfo
from decimal import Decimal
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from slacalc.dates.instants import from_us
from slacalc.errors import UsageError
from slacalc.terms.credit_forms import CASH, FORMS, parse_form
from slacalc.terms.numbers import format_pct, parse_decimal, ratio
from slacalc.terms.redundancy import RedundancyRule, parse_redundancy
from slacalc.terms.requests import (
    INTERVAL_DOMAIN_ALSO,
    INTERVAL_DOMAIN_TEXT,
    ErrorRateMeasure,
    parse_measure,
)
from slacalc.terms.requests import KEYS as MEASURE_KEYS

COEFFICIENT = "coefficient"
CREDIT = "credit"
MODES = (COEFFICIENT, CREDIT)
BASE_PERIOD, BASE_MINUS_EXCLUDED = "period", "period-minus-excluded"
DAYS_ALL, DAYS_WORKING, DAYS_MON_FRI = "all", "working", "mon-fri"

PRESETS_DIR = Path(__file__).resolve().parent.parent / "presets"
MAX_POLICY_BYTES = 1 << 20


class PolicyError(UsageError):
    """A policy that cannot be used: unknown, unreadable, wrong or contradicting itself (exit 2)."""


# --- the values a policy number may take -----------------------------------------------------


@dataclass(frozen=True)
class Domain:
    """The values one kind of policy number may take: a range and at most ``places`` decimals
    (0: a whole number, written as a TOML integer). Every check and message reads these."""

    low: Decimal
    high: Decimal | None  # None: below 10**15, the longest number a policy holds
    places: int
    above_low: bool = False  # ``low`` itself is refused ("above 0")

    @property
    def digits(self) -> int:
        """Digits before the point of the largest value."""
        return len(str(int(self.high))) if self.high is not None else NUMBER_DIGITS

    def text(self) -> str:
        """The domain in words: ``above 0, at most 100; up to 8 decimals``."""
        if not self.places:
            return f"a whole number from {self.low} to {self.high}"
        low = f"above {self.low}" if self.above_low else f"at least {self.low}"
        high = f"at most {self.high}" if self.high is not None else f"below 10^{NUMBER_DIGITS}"
        return f"{low}, {high}; up to {self.places} decimals"


NUMBER_DIGITS = 15  # digits before the point of any policy number: below 10**15
PERCENT_PLACES = 8
TARGET_DOMAIN = Domain(Decimal(0), Decimal(100), PERCENT_PLACES, above_low=True)
SHARE_DOMAIN = Domain(Decimal(0), Decimal(100), PERCENT_PLACES)
CAP_DOMAIN = Domain(Decimal(0), Decimal(100), PERCENT_PLACES, above_low=True)
COEFFICIENT_DOMAIN = Domain(Decimal(0), Decimal(10**6), PERCENT_PLACES)
# Money in the contract's currency: no ISO 4217 currency has more than 4 decimals (CLF, UYW).
MIN_CREDIT_DOMAIN = Domain(Decimal(0), None, 4)
SECONDS_DOMAIN = Domain(Decimal(0), Decimal(86_400), 0)
OPENS_DOMAIN = Domain(Decimal(0), Decimal(60), 0)
CLOSES_DAYS_DOMAIN = Domain(Decimal(1), Decimal(3660), 0)
CLOSES_MONTHS_DOMAIN = Domain(Decimal(1), Decimal(120), 0)

# Every number of a policy file, its domain and what else it must agree with: the README's
# table is :func:`domain_table`.
DOMAINS: tuple[tuple[str, Domain, str], ...] = (
    ("tiers[].target", TARGET_DOMAIN, "no two tiers the same"),
    ("default_target", TARGET_DOMAIN, "one of the tiers' targets (default: the lowest)"),
    ("tiers[].coefficient", COEFFICIENT_DOMAIN, "needed in mode `coefficient`"),
    ("tiers[].credit_pct", SHARE_DOMAIN, "one band, below the tier's target"),
    (
        "tiers[].bands[].below",
        TARGET_DOMAIN,
        "the first is the tier's target (every breached month has a band), then each lower",
    ),
    (
        "tiers[].bands[].credit_pct",
        SHARE_DOMAIN,
        "never less than the band before it: a worse month never earns less",
    ),
    ("cap_pct", CAP_DOMAIN, "a cap of 0 would pay nothing for any breach"),
    (
        "annual_cap_pct",
        CAP_DOMAIN,
        "the ledger's: a key's credits over the trailing 12 months, against 12 months of its fee",
    ),
    (
        "customer_cap_pct",
        CAP_DOMAIN,
        "the ledger's: a customer's credits of a month, against that month's fees of all its "
        "services (per currency)",
    ),
    ("min_credit", MIN_CREDIT_DOMAIN, "money, in each contract's currency"),
    ("min_outage_seconds", SECONDS_DOMAIN, ""),
    ("round_up_seconds", SECONDS_DOMAIN, ""),
    ("claim_window.opens_after_working_days", OPENS_DOMAIN, "0: when the month ends"),
    (
        "claim_window.closes_after_days",
        CLOSES_DAYS_DOMAIN,
        "more than `opens_after_working_days`; a month whose window would still close before "
        "it opens (holidays) stops the report",
    ),
    (
        "claim_window.closes_after_months",
        CLOSES_MONTHS_DOMAIN,
        "likewise; not with `closes_after_days`",
    ),
)
HOURS_DOMAIN = '"HH:MM", 00:00 to 24:00; `from` before `to`'


def domain_table() -> str:
    """The policy numbers' domains as a Markdown table (the README's)."""
    rows = ["| key | allowed values | also |", "|---|---|---|"]
    rows += [f"| `{key}` | {domain.text()} | {also} |" for key, domain, also in DOMAINS]
    rows.append(f"| `service_hours.from`, `service_hours.to` | {HOURS_DOMAIN} | |")
    rows.append(f"| `interval_seconds` | {INTERVAL_DOMAIN_TEXT} | {INTERVAL_DOMAIN_ALSO} |")
    return "\n".join(rows)


@dataclass(frozen=True)
class Band:
    """Availability below ``below`` % earns ``credit_pct`` % of the monthly fee."""

    below: Decimal
    credit_pct: Decimal

    @cached_property
    def below_ratio(self) -> tuple[int, int]:
        return ratio(self.below)


@dataclass(frozen=True)
class Tier:
    """One committed SLA level: its target in percent and what a breach costs."""

    target: Decimal
    coefficient: Decimal | None
    bands: tuple[Band, ...]  # highest ``below`` first

    @cached_property
    def label(self) -> str:
        """The target as people write it: ``99.95``, ``99.999``."""
        return format_pct(self.target)

    @cached_property
    def ratio(self) -> tuple[int, int]:
        """The target as an exact integer ratio ``(num, den)`` of percent."""
        return ratio(self.target)

    @property
    def credit_pct(self) -> Decimal:
        """The credit of the first band (the whole credit of a one-band tier)."""
        return self.bands[0].credit_pct if self.bands else Decimal(0)

    def bands_text(self) -> str:
        """``<99.99:10 <99.0:30 <95.0:100``: the band table in one cell."""
        return " ".join(f"<{format_pct(b.below)}:{format_pct(b.credit_pct)}" for b in self.bands)


@dataclass(frozen=True)
class ServiceHours:
    """The hours a business-hours SLA covers, on the report's calendar and in its zone."""

    days: str  # DAYS_ALL, DAYS_WORKING (the working-day calendar) or DAYS_MON_FRI
    start: time
    end: time  # time(0) with end_of_day: up to midnight
    end_of_day: bool = False

    def text(self) -> str:
        end = "24:00" if self.end_of_day else self.end.strftime("%H:%M")
        return f"{self.days} days {self.start.strftime('%H:%M')}-{end}"


@dataclass(frozen=True)
class ClaimWindow:
    """When a customer may claim a month's credit."""

    opens_after_working_days: int = 0  # 0: when the period ends
    closes_after_days: int | None = None
    closes_after_months: int | None = None

    def text(self) -> str:
        return f"{self.opens_text()}, {self.close_text()}"

    def opens_text(self) -> str:
        n = self.opens_after_working_days
        if not n:
            return "opens when the month ends"
        return f"opens after the {_ordinal(n)} working day of the next month"

    def close_text(self) -> str:
        if self.closes_after_months is not None:
            n = self.closes_after_months
            return f"closes {_count(n, 'month')} after the month ends"
        if self.closes_after_days is not None:
            return f"closes {_count(self.closes_after_days, 'day')} after the month ends"
        return "does not close"

    def close_key(self) -> tuple[str, int | None]:
        """The key that says when the window closes, and its value."""
        if self.closes_after_months is not None:
            return "closes_after_months", self.closes_after_months
        return "closes_after_days", self.closes_after_days

    def latest_close_days(self) -> int | None:
        """The most days after a month's end that its window can close (None: never closes)."""
        if self.closes_after_months is not None:
            return _longest_months(self.closes_after_months)
        return self.closes_after_days


def _longest_months(n: int) -> int:
    """Days in the longest run of ``n`` calendar months: over a leap year and three common
    years, every run of months there is (the Gregorian century rule only shortens one)."""
    starts = [date(year, month, 1) for year in range(2000, 2004) for month in range(1, 13)]
    return max((_months_later(d, n) - d).days for d in starts)


def _months_later(first: date, n: int) -> date:
    months = first.year * 12 + first.month - 1 + n
    return first.replace(year=months // 12, month=months % 12 + 1)


def _count(n: int, unit: str) -> str:
    """``1 day``, ``2 days``."""
    return f"{n} {unit}{'s' if n != 1 else ''}"


def _ordinal(n: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``4th``, ``11th``, ``21st``."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@dataclass(frozen=True)
class Policy:
    """A compensation policy. Tiers are kept highest target first."""

    name: str
    mode: str
    default_target: Decimal
    cap_pct: Decimal
    tiers: tuple[Tier, ...]
    min_outage_seconds: int = 0
    round_up_seconds: int = 0
    min_credit: Decimal = Decimal(0)
    credit_form: str = CASH
    availability_base: str = BASE_PERIOD
    service_hours: ServiceHours | None = None
    claim_window: ClaimWindow | None = None
    # When a key deployed in several zones counts as down (None: every incident downs its key)
    redundancy: RedundancyRule | None = None
    # Availability from request error rates (None: from incident downtime)
    measure: ErrorRateMeasure | None = None
    # The ledger's limits over time (slacalc ledger post applies them; the report does not)
    annual_cap_pct: Decimal | None = None
    customer_cap_pct: Decimal | None = None
    title: str = ""
    source: str = ""
    read_on: str = ""
    origin: str = "built-in"  # built-in, preset or the file's path
    meta: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def tier(self, target: Decimal) -> Tier:
        """The tier whose target equals ``target`` (``99.950`` is ``99.95``). KeyError if none."""
        for tier in self.tiers:
            if tier.target == target:
                return tier
        raise KeyError(target)

    def parse_target(self, text: str) -> Tier:
        """Read a committed tier such as ``99.99`` or ``99.99%``; ValueError names the choices."""
        raw = text.strip().removesuffix("%").strip()
        try:
            return self.tier(
                parse_decimal(raw, max_digits=TARGET_DOMAIN.digits, max_places=TARGET_DOMAIN.places)
            )
        except (ValueError, KeyError):
            raise ValueError(
                f"not a tier of policy '{self.name}': expected one of {self.tier_labels()}"
            ) from None

    def tier_labels(self) -> str:
        return ", ".join(t.label for t in self.tiers)

    @property
    def default_tier(self) -> Tier:
        return self.tier(self.default_target)

    @cached_property
    def targets(self) -> list[tuple[int, int]]:
        """The tiers' targets as exact ratios, highest first (for band positions)."""
        return [t.ratio for t in self.tiers]

    @cached_property
    def labels(self) -> list[str]:
        return [t.label for t in self.tiers]

    @property
    def has_outage_rules(self) -> bool:
        return bool(self.min_outage_seconds or self.round_up_seconds)

    def rules_text(self) -> list[str]:
        """The policy's rules beyond its tiers, one line each, for people."""
        out = []
        if self.min_outage_seconds:
            out.append(f"outages of {self.min_outage_seconds} s or less count 0")
        if self.round_up_seconds:
            out.append(f"each outage is rounded up to a multiple of {self.round_up_seconds} s")
        if self.min_credit:
            out.append(f"credits below {format_pct(self.min_credit)} are not issued")
        if self.availability_base == BASE_MINUS_EXCLUDED:
            out.append("excluded time is taken out of the month's length")
        if self.service_hours is not None:
            out.append(f"service hours: {self.service_hours.text()}")
        if self.claim_window is not None:
            out.append(f"claim window: {self.claim_window.text()}")
        if self.redundancy is not None:
            out.append(f"redundancy: {self.redundancy.describe()}")
        if self.measure is not None:
            out.append(f"measured by error rate: {self.measure.text()}")
        if self.annual_cap_pct is not None:
            out.append(
                f"ledger: credits of 12 months capped at {format_pct(self.annual_cap_pct)} % of "
                "12 months' fees"
            )
        if self.customer_cap_pct is not None:
            out.append(
                f"ledger: a customer's credits of a month capped at "
                f"{format_pct(self.customer_cap_pct)} % of its fees that month"
            )
        out.append(f"credit paid as {self.credit_form}")
        return out


def _band_tiers(*rows: tuple[str, str, str]) -> tuple[Tier, ...]:
    return tuple(Tier(Decimal(t), Decimal(c), (Band(Decimal(t), Decimal(p)),)) for t, c, p in rows)


_STANDARD_TIERS = _band_tiers(
    ("99.999", "5.00", "50"), ("99.99", "2.50", "25"), ("99.95", "1.25", "5")
)
_SEED = "the service-policy document of the SLA (slacalc's founding contract)"

BUILTIN: dict[str, Policy] = {
    "standard": Policy(
        "standard",
        COEFFICIENT,
        Decimal("99.95"),
        Decimal(100),
        _STANDARD_TIERS,
        title="Standard: downtime x monthly fee x coefficient",
        source=_SEED,
    ),
    "standard-credit": Policy(
        "standard-credit",
        CREDIT,
        Decimal("99.95"),
        Decimal(100),
        _STANDARD_TIERS,
        title="Standard credit table: a share of the fee by committed tier",
        source=_SEED,
    ),
}


def preset_names() -> list[str]:
    """The presets shipped in the package, by name."""
    if not PRESETS_DIR.is_dir():
        return []
    return sorted(p.stem for p in PRESETS_DIR.glob("*.toml"))


def policy_names() -> list[str]:
    return [*BUILTIN, *preset_names()]


def load_policy(name_or_path: str, *, relative_to: Path | None = None) -> Policy:
    """A built-in or preset policy by name, or a TOML policy file (a path relative to
    ``relative_to`` when given, as the contracts file's ``policy`` column is).

    A file is read again whenever it may have changed (another file at that path, another
    working folder, an edit): only the reading of one unchanged file is remembered."""
    key = name_or_path.strip()
    if key in BUILTIN:
        return BUILTIN[key]
    if key in preset_names():
        return _read_known(str(PRESETS_DIR / f"{key}.toml"), "preset", None)
    path = Path(key)
    if relative_to is not None and not path.is_absolute():
        path = Path(relative_to) / path
    try:
        seen = path.stat()
    except OSError:
        seen = None
    if seen is None or not path.is_file():
        close = difflib.get_close_matches(key, policy_names(), n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise PolicyError(
            f"unknown policy '{key}'{hint} (use one of {', '.join(policy_names())}, or a TOML "
            "file; list them with: slacalc policies)"
        )
    version = (str(path.resolve()), seen.st_ino, seen.st_size, seen.st_mtime_ns)
    return _read_known(str(path), None, version)


@lru_cache(maxsize=64)
def _read_known(path: str, origin: str | None, version: tuple | None) -> Policy:
    """A policy file read once per ``version`` (its resolved path, inode, size and time)."""
    return read_policy_file(Path(path), origin=origin)


_TOP_KEYS = {
    "name",
    "title",
    "source",
    "read_on",
    "terms_dated",
    "note",
    "mode",
    "default_target",
    "cap_pct",
    "annual_cap_pct",
    "customer_cap_pct",
    "min_outage_seconds",
    "round_up_seconds",
    "min_credit",
    "credit_form",
    "availability_base",
    "service_hours",
    "claim_window",
    "redundancy",
    *MEASURE_KEYS,
    "tiers",
}
_TIER_KEYS = {"target", "coefficient", "credit_pct", "bands"}
_BAND_KEYS = {"below", "credit_pct"}
_HOURS_KEYS = {"days", "from", "to"}
_CLAIM_KEYS = {"opens_after_working_days", "closes_after_days", "closes_after_months"}


def read_policy_file(path: Path, *, origin: str | None = None) -> Policy:
    """Read a TOML policy strictly; every problem is reported together as a PolicyError."""
    name = str(path)
    try:
        if path.stat().st_size > MAX_POLICY_BYTES:
            raise PolicyError(f"policy file '{name}': larger than 1 MiB; is it a policy?")
        text = path.read_text(encoding="utf-8-sig")
        data = tomllib.loads(text, parse_float=Decimal)
    except UnicodeDecodeError:
        raise PolicyError(f"policy file '{name}': not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"policy file '{name}': not valid TOML: {exc}") from None
    except RecursionError:
        raise PolicyError(f"policy file '{name}': nested too deeply to be a policy") from None
    except ValueError as exc:  # an integer of thousands of digits: Python's own limit
        msg = f"policy file '{name}': a number too long to be a policy's: {exc}"
        raise PolicyError(msg) from None
    except OSError as exc:
        raise PolicyError(f"policy file '{name}': cannot read: {exc.strerror}") from None
    reader = _Reader(name)
    policy = reader.policy(data, origin or name, default_name=path.stem)
    if reader.problems:
        raise PolicyError("\n".join(reader.problems))
    return policy  # type: ignore[return-value]


class _Reader:
    """Checks one policy document, collecting a message per problem."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.problems: list[str] = []

    def bad(self, key: str, message: str) -> None:
        self.problems.append(f"policy file '{self.name}': key '{key}': {message}")

    def unknown(self, table: dict[str, Any], known: set[str], where: str) -> None:
        for key in table:
            if key not in known:
                close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.5)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                self.bad(f"{where}{key}", f"unknown key{hint} (known: {', '.join(sorted(known))})")

    def number(self, key: str, value: Any, domain: Domain) -> Decimal | None:
        """A decimal within ``domain`` (written as a TOML number or as text), or None."""
        if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
            self.bad(key, f"expected a number, got {_type_name(value)}")
            return None
        text = str(value)
        try:
            dec = parse_decimal(
                text.strip().removesuffix("%"), max_digits=NUMBER_DIGITS, max_places=domain.places
            )
        except ValueError as exc:
            self.bad(key, f"{exc} (value '{text[:40]}')")
            return None
        if dec < domain.low or (domain.above_low and dec == domain.low):
            low = "above" if domain.above_low else "at least"
            self.bad(key, f"must be {low} {domain.low} (value '{text}')")
            return None
        if domain.high is not None and dec > domain.high:
            self.bad(key, f"must be at most {domain.high} (value '{text}')")
            return None
        return dec

    def whole(self, key: str, value: Any, domain: Domain) -> int | None:
        """A whole number (a TOML integer) within ``domain``, or None."""
        if isinstance(value, Decimal):
            self.bad(key, f"expected a whole number (value '{value}')")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.bad(key, f"expected a whole number, got {_type_name(value)}")
            return None
        assert domain.high is not None  # every whole number has a largest value
        if not domain.low <= value <= domain.high:
            self.bad(key, f"must be between {domain.low} and {domain.high} (value {value})")
            return None
        return value

    def choice(self, key: str, value: Any, choices: tuple[str, ...]) -> str | None:
        if not isinstance(value, str) or value.strip().lower() not in choices:
            self.bad(
                key, f"expected one of {', '.join(repr(c) for c in choices)} (value {value!r})"
            )
            return None
        return value.strip().lower()

    def form(self, key: str, value: Any) -> str | None:
        """A credit form, one of the ledger's (``refund`` is read as ``cash``), or None."""
        if isinstance(value, str):
            try:
                return parse_form(value)
            except UsageError:
                pass
        choices = ", ".join(repr(f) for f in FORMS)
        self.bad(key, f"expected one of {choices}, or 'refund' for 'cash' (value {value!r})")
        return None

    def text(self, key: str, value: Any) -> str:
        if isinstance(value, date):
            return value.isoformat()
        if not isinstance(value, str):
            self.bad(key, f"expected text, got {_type_name(value)}")
            return ""
        return value

    def policy(self, data: dict[str, Any], origin: str, *, default_name: str) -> Policy | None:
        self.unknown(data, _TOP_KEYS, "")
        mode = self.choice("mode", data.get("mode", COEFFICIENT), MODES) or COEFFICIENT
        cap = self.number("cap_pct", data.get("cap_pct", 100), CAP_DOMAIN)
        limits = {
            key: self.number(key, data[key], CAP_DOMAIN) if key in data else None
            for key in ("annual_cap_pct", "customer_cap_pct")
        }
        tiers = self.tiers(data.get("tiers"), mode)
        targets = [t.target for t in tiers]
        default: Decimal | None = None
        if "default_target" in data:
            default = self.number("default_target", data["default_target"], TARGET_DOMAIN)
            if default is not None and tiers and default not in targets:
                self.bad(
                    "default_target",
                    f"is not the target of any tier (tiers: "
                    f"{', '.join(format_pct(t) for t in targets)})",
                )
        elif tiers:
            default = min(targets)
        rules = {
            "min_outage_seconds": self.whole(
                "min_outage_seconds", data.get("min_outage_seconds", 0), SECONDS_DOMAIN
            ),
            "round_up_seconds": self.whole(
                "round_up_seconds", data.get("round_up_seconds", 0), SECONDS_DOMAIN
            ),
            "min_credit": self.number("min_credit", data.get("min_credit", 0), MIN_CREDIT_DOMAIN),
            "credit_form": self.form("credit_form", data.get("credit_form", CASH)),
            "availability_base": self.choice(
                "availability_base",
                data.get("availability_base", BASE_PERIOD),
                (BASE_PERIOD, BASE_MINUS_EXCLUDED),
            ),
        }
        hours = self.service_hours(data["service_hours"]) if "service_hours" in data else None
        claim = self.claim_window(data["claim_window"]) if "claim_window" in data else None
        measure = parse_measure(data, self.bad)
        redundancy = None
        if "redundancy" in data:
            redundancy, found = parse_redundancy(data["redundancy"])
            for key, message in found:
                self.bad(key, message)
        meta = {k: self.text(k, data[k]) for k in ("terms_dated", "note") if k in data}
        if self.problems or cap is None or default is None:
            return None
        return Policy(
            name=self.text("name", data.get("name", default_name)) or default_name,
            mode=mode,
            default_target=default,
            cap_pct=cap,
            tiers=tuple(sorted(tiers, key=lambda t: t.target, reverse=True)),
            service_hours=hours,
            claim_window=claim,
            redundancy=redundancy,
            measure=measure,
            title=self.text("title", data.get("title", "")),
            source=self.text("source", data.get("source", "")),
            read_on=self.text("read_on", data.get("read_on", "")),
            origin=origin,
            meta=meta,
            **limits,
            **rules,  # type: ignore[arg-type]
        )

    def tiers(self, raw: Any, mode: str) -> list[Tier]:
        if not isinstance(raw, list) or not raw:
            self.bad("tiers", "expected at least one [[tiers]] table with a target")
            return []
        tiers: list[Tier] = []
        for i, item in enumerate(raw, 1):
            where = f"tiers[{i}]"
            if not isinstance(item, dict):
                self.bad(where, f"expected a table, got {_type_name(item)}")
                continue
            self.unknown(item, _TIER_KEYS, f"{where}.")
            if "target" not in item:
                self.bad(where, "missing 'target'")
                continue
            target = self.number(f"{where}.target", item["target"], TARGET_DOMAIN)
            coefficient = None
            if "coefficient" in item:
                coefficient = self.number(
                    f"{where}.coefficient", item["coefficient"], COEFFICIENT_DOMAIN
                )
            elif mode == COEFFICIENT:
                self.bad(where, "missing 'coefficient' (the policy's mode is 'coefficient')")
            if "bands" in item and "credit_pct" in item:
                self.bad(
                    where,
                    "give either 'credit_pct' (one band below the target) or 'bands', not both",
                )
                continue
            credit = None
            if "credit_pct" in item:
                credit = self.number(f"{where}.credit_pct", item["credit_pct"], SHARE_DOMAIN)
            if target is None:
                continue
            if "bands" in item:
                bands = self.bands(where, item["bands"], target)
            elif "credit_pct" in item:
                bands = [] if credit is None else [Band(target, credit)]
            else:
                if mode == CREDIT:
                    self.bad(
                        where, "missing 'bands' or 'credit_pct' (the policy's mode is 'credit')"
                    )
                bands = []
            tiers.append(Tier(target, coefficient, tuple(bands)))
        targets = [t.target for t in tiers]
        if len(set(targets)) != len(targets):
            self.bad("tiers", "two tiers have the same target")
        return tiers

    def bands(self, where: str, raw: Any, target: Decimal) -> list[Band]:
        if not isinstance(raw, list) or not raw:
            self.bad(f"{where}.bands", "expected a list of { below = X, credit_pct = Y }")
            return []
        bands: list[Band] = []
        first_key = ""
        ordered = True
        for j, item in enumerate(raw, 1):
            key = f"{where}.bands[{j}]"
            if not isinstance(item, dict):
                self.bad(key, f"expected {{ below = X, credit_pct = Y }}, got {_type_name(item)}")
                continue
            self.unknown(item, _BAND_KEYS, f"{key}.")
            missing = [k for k in ("below", "credit_pct") if k not in item]
            if missing:
                self.bad(key, f"missing {', '.join(repr(m) for m in missing)}")
                continue
            below = self.number(f"{key}.below", item["below"], TARGET_DOMAIN)
            credit = self.number(f"{key}.credit_pct", item["credit_pct"], SHARE_DOMAIN)
            if below is None or credit is None:
                continue
            if below > target:
                self.bad(
                    f"{key}.below",
                    f"{format_pct(below)} is above the tier's target "
                    f"{format_pct(target)}: availability there is not a breach",
                )
            if bands and below >= bands[-1].below:
                ordered = False
                self.bad(
                    f"{key}.below",
                    "bands must be listed from the highest 'below' down, "
                    f"without repeats ({format_pct(below)} after "
                    f"{format_pct(bands[-1].below)})",
                )
            elif bands and credit < bands[-1].credit_pct:
                above = bands[-1]
                self.bad(
                    f"{key}.credit_pct",
                    f"a worse month must not earn less: {format_pct(credit)} % below "
                    f"{format_pct(below)} is less than the {format_pct(above.credit_pct)} % "
                    f"of the band above it (below {format_pct(above.below)}) "
                    f"(value '{item['credit_pct']}')",
                )
            first_key = first_key or key
            bands.append(Band(below, credit))
        if ordered and len(bands) == len(raw) and bands[0].below < target:
            # A month from the first 'below' up to the target is breached and under no band:
            # it would be owed nothing, and its claim shown open.
            low, high = format_pct(bands[0].below), format_pct(target)
            self.bad(
                f"{first_key}.below",
                f"a breached month from {low} % up to the tier's target {high} % falls under no "
                f"band and would be owed nothing; start the bands at below = {high} "
                f"(value '{low}')",
            )
        return bands

    def service_hours(self, raw: Any) -> ServiceHours | None:
        if not isinstance(raw, dict):
            self.bad("service_hours", 'expected { days = "working", from = "08:00", to = "20:00" }')
            return None
        self.unknown(raw, _HOURS_KEYS, "service_hours.")
        days = self.choice(
            "service_hours.days", raw.get("days", DAYS_ALL), (DAYS_ALL, DAYS_WORKING, DAYS_MON_FRI)
        )
        start = self.clock("service_hours.from", raw.get("from", "00:00"))
        end = self.clock("service_hours.to", raw.get("to", "24:00"))
        if days is None or start is None or end is None:
            return None
        end_of_day = end == "24:00"
        end_time = time(0) if end_of_day else time.fromisoformat(end)
        start_time = time.fromisoformat(start) if start != "24:00" else None
        if start_time is None or (not end_of_day and end_time <= start_time):
            self.bad("service_hours.to", f"must be after 'from' on the same day ({start}-{end})")
            return None
        return ServiceHours(days, start_time, end_time, end_of_day)

    def clock(self, key: str, value: Any) -> str | None:
        if isinstance(value, time):
            value = value.strftime("%H:%M")
        if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
            self.bad(key, f'expected a clock time "HH:MM" (value {value!r})')
            return None
        if value == "24:00":
            return value
        try:
            time.fromisoformat(value)
        except ValueError:
            self.bad(key, f'expected a clock time "HH:MM" (value {value!r})')
            return None
        return value

    def claim_window(self, raw: Any) -> ClaimWindow | None:
        if not isinstance(raw, dict):
            self.bad("claim_window", "expected a table [claim_window]")
            return None
        self.unknown(raw, _CLAIM_KEYS, "claim_window.")
        opens = self.whole(
            "claim_window.opens_after_working_days",
            raw.get("opens_after_working_days", 0),
            OPENS_DOMAIN,
        )
        days = months = None
        if "closes_after_days" in raw:
            days = self.whole(
                "claim_window.closes_after_days", raw["closes_after_days"], CLOSES_DAYS_DOMAIN
            )
        if "closes_after_months" in raw:
            months = self.whole(
                "claim_window.closes_after_months", raw["closes_after_months"], CLOSES_MONTHS_DOMAIN
            )
        if days is not None and months is not None:
            self.bad("claim_window", "give closes_after_days or closes_after_months, not both")
            return None
        if opens is None:
            return None
        window = ClaimWindow(opens, days, months)
        # The window opens N working days into the next month: N days after the month ends at
        # the earliest (when the first N days all work). A close no later than that comes before
        # the opening in every month, on every calendar; later closes are checked per month.
        latest = window.latest_close_days()
        if latest is not None and latest <= opens:
            key, value = window.close_key()
            self.bad(
                f"claim_window.{key}",
                f"the window would never be open: it {window.opens_text()}, at least "
                f"{_count(opens, 'day')} after the month ends, and {window.close_text()}; it must "
                f"close later (value {value})",
            )
            return None
        return window


def check_claim_bounds(
    policy: Policy, next_month: date, tz: tzinfo, opens: int, closes: int | None
) -> None:
    """Refuse a month whose claim window closes no later than it opens (a PolicyError, exit 2).

    ``opens`` and ``closes`` are what :func:`slacalc.terms.deadlines.claim_bounds` gives for the
    month before ``next_month`` under ``policy``. Files whose window can never open are refused
    when read; whether a window that opens N working days into the next month closes in time
    depends on the month (holidays, make-up days, a ``--holidays`` file), so it is checked here,
    for each month a report prices.
    """
    window = policy.claim_window
    if window is None or closes is None or closes > opens:
        return
    month = (next_month - timedelta(days=1)).strftime("%Y-%m")
    opens_day, closes_day = from_us(opens, tz).date(), from_us(closes, tz).date()
    key, value = window.close_key()
    if window.opens_after_working_days:
        nth = opens_day - timedelta(days=1)
        opening = (
            f"after the {_ordinal(window.opens_after_working_days)} working day of "
            f"{next_month:%Y-%m}, {nth.isoformat()}"
        )
    else:
        opening = "when the month ends"
    hint = ""
    if key == "closes_after_days":
        need = (opens_day - next_month).days + 1
        hint = f"; for {month}, closes_after_days would have to be at least {need}"
    raise PolicyError(
        f"{_policy_where(policy)}: key 'claim_window.{key}': the claim window of {month} would "
        f"close on {closes_day.isoformat()} ({window.close_text()}), before it opens on "
        f"{opens_day.isoformat()} ({opening}, on this calendar){hint} (value {value})"
    )


def _policy_where(policy: Policy) -> str:
    """How a message names a policy: its file, or its name for a built-in or a preset."""
    if policy.origin in ("built-in", "preset"):
        return f"policy '{policy.name}' ({policy.origin})"
    return f"policy file '{policy.origin}'"


def _type_name(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true/false"
    return type(value).__name__
