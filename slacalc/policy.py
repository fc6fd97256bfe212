"""Compensation policies: the SLA tiers, their coefficients and credit shares, and the cap."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import cached_property
from pathlib import Path

from slacalc.errors import InputError, Problem, UsageError

COEFFICIENT = "coefficient"
CREDIT = "credit"
MODES = (COEFFICIENT, CREDIT)


@dataclass(frozen=True)
class Tier:
    """One committed SLA level: its availability target in percent and what a breach costs."""

    target: Decimal
    coefficient: Decimal
    credit_pct: Decimal

    @cached_property
    def label(self) -> str:
        """The target as people write it: ``99.95``, ``99.999``."""
        return format_pct(self.target)

    @cached_property
    def ratio(self) -> tuple[int, int]:
        """The target as an exact integer ratio ``(num, den)`` of percent."""
        return self.target.as_integer_ratio()

    def met_by(self, up: int, total: int) -> bool:
        """Whether availability ``up / total`` (integers) reaches the target, exactly."""
        num, den = self.ratio
        return up * 100 * den >= num * total


@dataclass(frozen=True)
class Policy:
    """A compensation policy. Tiers are kept highest target first."""

    name: str
    mode: str
    default_target: Decimal
    cap_pct: Decimal
    tiers: tuple[Tier, ...]

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
            return self.tier(Decimal(raw))
        except (InvalidOperation, KeyError):
            raise ValueError(
                f"not a tier of policy '{self.name}': expected one of {self.tier_labels()}"
            ) from None

    def tier_labels(self) -> str:
        return ", ".join(t.label for t in self.tiers)

    @property
    def default_tier(self) -> Tier:
        return self.tier(self.default_target)

    def band(self, availability: Fraction) -> str:
        """The highest tier ``availability`` (a fraction of 1) meets, exactly; else ``<lowest``."""
        return self.band_of(availability.numerator, availability.denominator)

    def band_of(self, up: int, total: int) -> str:
        """``band`` for availability ``up / total`` given as integers (no Fraction needed)."""
        for tier in self.tiers:
            if tier.met_by(up, total):
                return tier.label
        return "<" + self.tiers[-1].label

    def ratios(self, tier: Tier, fee: Decimal) -> PriceRatios:
        """The integer ratios that price a breach of ``tier`` at ``fee`` under this policy."""
        fn, fd = fee.as_integer_ratio()
        kn, kd = self.cap_pct.as_integer_ratio()
        if self.mode == COEFFICIENT:
            sn, sd = tier.coefficient.as_integer_ratio()
        else:
            sn, sd = tier.credit_pct.as_integer_ratio()
            sd *= 100  # a credit is a percentage of the fee
        return PriceRatios(fn * sn, fd * sd, fn * kn, fd * kd * 100, self.mode == COEFFICIENT)

    def compensation(
        self, *, tier: Tier, fee: Decimal, downtime_us: Fraction | int, period_us: int
    ) -> tuple[Fraction, bool]:
        """The exact (unrounded) compensation of a breached month and whether the cap bit."""
        r = self.ratios(tier, fee)
        num, den = r.share_num, r.share_den
        if r.per_downtime:  # downtime / period x fee x coefficient
            d = Fraction(downtime_us)
            num, den = d.numerator * num, d.denominator * period_us * den
        if num * r.cap_den > r.cap_num * den:
            return Fraction(r.cap_num, r.cap_den), True
        return Fraction(num, den), False


@dataclass(frozen=True)
class PriceRatios:
    """A breach's price as integers: ``share_num / share_den`` of the fee (times the share of
    the period that was down, when ``per_downtime``), capped at ``cap_num / cap_den``."""

    share_num: int
    share_den: int
    cap_num: int
    cap_den: int
    per_downtime: bool


def format_pct(value: Decimal) -> str:
    """A percentage without an exponent or trailing zeros: ``99.95``, ``100``, ``5``."""
    text = f"{value.normalize():f}"
    return text


def _tiers(*rows: tuple[str, str, str]) -> tuple[Tier, ...]:
    return tuple(Tier(Decimal(t), Decimal(c), Decimal(p)) for t, c, p in rows)


_STANDARD_TIERS = _tiers(("99.999", "5.00", "50"), ("99.99", "2.50", "25"), ("99.95", "1.25", "5"))

BUILTIN: dict[str, Policy] = {
    "standard": Policy("standard", COEFFICIENT, Decimal("99.95"), Decimal(100), _STANDARD_TIERS),
    "standard-credit": Policy(
        "standard-credit", CREDIT, Decimal("99.95"), Decimal(100), _STANDARD_TIERS
    ),
}


def load_policy(name_or_path: str) -> Policy:
    """A built-in policy by name, or a TOML policy file. UsageError/InputError when wrong."""
    key = name_or_path.strip()
    if key in BUILTIN:
        return BUILTIN[key]
    path = Path(key)
    if not path.is_file():
        raise UsageError(
            f"unknown policy '{name_or_path}': use one of {', '.join(BUILTIN)} or a TOML file"
        )
    return read_policy_file(path)


def read_policy_file(path: Path) -> Policy:
    """Read a TOML policy; numbers become Decimals (never binary floats)."""
    name = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"), parse_float=Decimal)
    except UnicodeDecodeError:
        raise InputError(Problem(name, None, "not UTF-8 text")) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(Problem(name, _toml_line(exc), f"not valid TOML: {exc}")) from None
    except OSError as exc:
        raise InputError(Problem(name, None, f"cannot read: {exc.strerror}")) from None
    problems: list[Problem] = []

    def bad(field: str, msg: str, value: object = None) -> None:
        problems.append(
            Problem(name, None, msg, column=field, value=None if value is None else str(value))
        )

    def number(field: str, value: object, *, positive: bool = False) -> Decimal | None:
        if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
            bad(field, "expected a number", value)
            return None
        try:
            dec = Decimal(str(value).strip().removesuffix("%"))
        except InvalidOperation:
            bad(field, "expected a number", value)
            return None
        if not dec.is_finite() or dec < 0 or (positive and dec == 0):
            bad(field, "expected a finite number " + ("> 0" if positive else ">= 0"), value)
            return None
        return dec

    mode = str(data.get("mode", COEFFICIENT)).strip().lower()
    if mode not in MODES:
        bad("mode", f"expected one of {', '.join(MODES)}", mode)
    cap = number("cap_pct", data.get("cap_pct", 100))
    tiers: list[Tier] = []
    raw_tiers = data.get("tiers")
    if not isinstance(raw_tiers, list) or not raw_tiers:
        bad("tiers", "expected at least one [[tiers]] table with target, coefficient, credit_pct")
        raw_tiers = []
    for i, raw in enumerate(raw_tiers, 1):
        if not isinstance(raw, dict):
            bad(f"tiers[{i}]", "expected a table", raw)
            continue
        target = number(f"tiers[{i}].target", raw.get("target"), positive=True)
        missing = [f for f in ("target", "coefficient", "credit_pct") if f not in raw]
        if missing:
            bad(f"tiers[{i}]", f"missing {', '.join(missing)}: every tier states target, "
                "coefficient and credit_pct")
            continue
        coef = number(f"tiers[{i}].coefficient", raw.get("coefficient"))
        credit = number(f"tiers[{i}].credit_pct", raw.get("credit_pct"))
        if target is not None and target > 100:
            bad(f"tiers[{i}].target", "a target is a percentage, at most 100", target)
        elif None not in (target, coef, credit):
            tiers.append(Tier(target, coef, credit))  # type: ignore[arg-type]
    targets = [t.target for t in tiers]
    if len(set(targets)) != len(targets):
        bad("tiers", "two tiers have the same target")
    default = None
    if "default_target" in data:
        default = number("default_target", data["default_target"], positive=True)
        if default is not None and default not in targets:
            bad("default_target", "is not the target of any tier", default)
    elif tiers:
        default = min(targets)
    if problems:
        raise InputError(problems)
    return Policy(
        name=str(data.get("name", path.stem)),
        mode=mode,
        default_target=default,  # type: ignore[arg-type]
        cap_pct=cap,  # type: ignore[arg-type]
        tiers=tuple(sorted(tiers, key=lambda t: t.target, reverse=True)),
    )


def _toml_line(exc: tomllib.TOMLDecodeError) -> int | None:
    line = getattr(exc, "lineno", None)  # Python 3.14+
    if line is None:
        found = re.search(r"at line (\d+)", str(exc))
        line = int(found.group(1)) if found else None
    return line
