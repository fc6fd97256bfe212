"""Random reports over the whole documented input domain, and the runs that must agree on them.

:func:`cases` draws a case that spans what the README allows: impacts with 1 to 10 decimals (as
decimals and percentages), fees from 0 to the largest allowed in currencies of 0 to 4 decimals,
timestamps from 1900 to 2199 to the microsecond (with offsets, ``Z`` or naive local time, in
zones with DST, half-hour and 45-minute offsets and skipped days), several keys, customer ``*``
rows and ``*`` contracts, ``--monthly-fee`` fallbacks, chosen months, and policies with every
feature (coefficient and credit modes, bands, caps, minimum outages, rounding up, minimum
credits, service hours, claim windows, the excluded-time base, a second policy per contract).

:func:`run_cli` writes a case's files and runs ``slacalc report -f csv`` in process, in memory or
in buckets; :func:`check` compares every field of every row with :mod:`tests.reference`.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from tests import reference as ref
from tests.logs import write_log

ZONES = (
    "Asia/Shanghai",
    "Europe/London",
    "America/New_York",
    "Australia/Lord_Howe",  # a half-hour DST change
    "Pacific/Chatham",  # +12:45 / +13:45
    "America/St_Johns",  # -03:30
    "Asia/Kathmandu",  # +05:45
    "Europe/Dublin",  # negative DST in the tz database
    "America/Sao_Paulo",  # DST that changed at midnight
    "Pacific/Apia",  # skipped 2011-12-30 whole
    "UTC",
)
CUSTOMERS = ("a", "b", "客户", "-c")  # "-c" is guarded in CSV output
SERVICES = ("x", "y")
CATEGORIES = ("outage", "outage", "data_loss", "maintenance", "excluded")
CURRENCIES = ("CNY", "JPY", "KWD", "CLF", "USD")
FEE_DIGITS = 15  # a fee is below 10**15 (the README's domain)
US = ref.US
DAY = 86_400 * US
# The README's domain: instants from 1900-01-02 to 2199-12-31 00:00 UTC (a day inside each end,
# so that any zone's local month of any instant can be built).
LO = ref.us_of(datetime(1900, 1, 2, tzinfo=UTC))
HI = ref.us_of(datetime(2199, 12, 31, tzinfo=UTC))


@dataclass
class Drawn:
    """A case and the text of its files."""

    case: ref.Case
    log: str  # the incident log as CSV text
    fmt: str  # csv-rows, csv-bulk, jsonl or parquet
    policies: dict[str, str]  # file name -> TOML
    contracts: str | None
    holidays: str | None
    args: list[str]


# --- numbers ---------------------------------------------------------------------------------


@st.composite
def decimals(draw, *, low: int, high: int, places: int, typical=()) -> Decimal:
    """A decimal in [low, high] with up to ``places`` decimals, often a typical one."""
    if typical and draw(st.booleans()):
        return Decimal(draw(st.sampled_from(typical)))
    p = draw(st.integers(0, places))
    units = draw(st.integers(low * 10**p, high * 10**p))
    return Decimal(units).scaleb(-p)


def text(value: Decimal) -> str:
    return format(value, "f")


@st.composite
def impacts(draw) -> tuple[str, Fraction]:
    """An impact as written, and its value: 1 to 10 decimals, as a share or a percentage."""
    form = draw(st.sampled_from(("empty", "one", "share", "share", "share", "pct")))
    if form == "empty":
        return "", Fraction(1)
    if form == "one":
        return draw(st.sampled_from(("1", "100%", "1.0"))), Fraction(1)
    # a share has up to 10 decimals; a percentage too, so its share up to 12
    d = draw(st.integers(1, 10 if form == "share" else 12))
    k = draw(st.integers(1, 10**d))
    value = Fraction(k, 10**d)
    if form == "share":
        written = format(Decimal(k).scaleb(-d), "f")
        if draw(st.booleans()):
            written = written.rstrip("0").rstrip(".") if "." in written else written
        return written, value
    # percent: the same value with the point two places later
    return format(Decimal(k).scaleb(2 - d), "f") + "%", value


@st.composite
def fees(draw, currency: str) -> Decimal:
    places = ref.MINOR[currency]
    digits = draw(st.integers(1, FEE_DIGITS + places))
    top = min(10**digits, 10 ** (FEE_DIGITS + places)) - 1
    units = draw(st.one_of(st.integers(0, top), st.sampled_from((0, 1, top))))
    return Decimal(units).scaleb(-places)


# --- time ------------------------------------------------------------------------------------


def us_of(dt: datetime) -> int:
    return ref.us_of(dt)


def local_dt(us: int, zone: ZoneInfo) -> datetime:
    return (ref.EPOCH + timedelta(microseconds=us)).astimezone(zone)


def in_domain(dt: datetime) -> bool:
    return 1900 <= dt.year <= 2199


@st.composite
def stamps(draw, us: int, zone: ZoneInfo) -> tuple[str, int]:
    """An instant written some way slacalc reads, and the instant the text means.

    Naive text means local time with fold=0, which in a repeated hour may be another instant
    than the one drawn: the instant returned is the text's."""
    dt = local_dt(us, zone)
    form = draw(st.sampled_from(("naive", "offset", "z", "space")))
    if form in ("naive", "space") and not LO <= us_of(dt.replace(fold=0)) <= HI:
        form = "z"  # the naive text would mean an instant outside the domain
    frac = f".{dt.microsecond:06d}" if dt.microsecond else ""
    if form in ("naive", "space"):
        sep = " " if form == "space" else "T"
        naive = dt.replace(tzinfo=None, fold=0)
        written = naive.strftime(f"%Y-%m-%d{sep}%H:%M:%S") + frac
        return written, us_of(naive.replace(tzinfo=zone))
    if form == "z":
        u = dt.astimezone(UTC)
        if in_domain(u):
            frac = f".{u.microsecond:06d}" if u.microsecond else ""
            return u.strftime("%Y-%m-%dT%H:%M:%S") + frac + "Z", us
    minutes = draw(st.integers(-14 * 60, 14 * 60))
    shifted = dt.astimezone(timezone(timedelta(minutes=minutes)))
    if not in_domain(shifted):
        shifted = dt.astimezone(timezone(timedelta(hours=8)))
    if not in_domain(shifted):
        naive = dt.replace(tzinfo=None, fold=0)
        return naive.strftime("%Y-%m-%dT%H:%M:%S") + frac, us_of(naive.replace(tzinfo=zone))
    off = shifted.utcoffset()
    total = int(off.total_seconds()) // 60
    sign = "-" if total < 0 else "+"
    offset = f"{sign}{abs(total) // 60:02d}:{abs(total) % 60:02d}"
    return shifted.strftime("%Y-%m-%dT%H:%M:%S") + frac + offset, us


# --- policies --------------------------------------------------------------------------------

TARGETS = ("99.95", "99.99", "99.999", "99.9", "99.5", "99", "95", "90", "100")


@st.composite
def policies(draw, name: str) -> ref.Pol:
    mode = draw(st.sampled_from(("coefficient", "credit")))
    n = draw(st.integers(1, 3))
    targets = sorted(
        set(
            draw(
                st.lists(
                    decimals(low=0, high=100, places=8, typical=TARGETS), min_size=n, max_size=n
                )
            )
        )
        - {Decimal(0)},
        reverse=True,
    ) or [Decimal("99.95")]
    tiers = []
    for t in targets:
        coefficient = draw(decimals(low=0, high=10**6, places=8, typical=("1.25", "2.5", "5")))
        credit = draw(decimals(low=0, high=100, places=8, typical=("5", "10", "25", "100")))
        bands: tuple = ()
        if mode == "credit" and draw(st.booleans()):
            belows = sorted(
                {t, *draw(st.lists(decimals(low=0, high=100, places=8), max_size=3))}
                - {Decimal(0)},
                reverse=True,
            )
            belows = [b for b in belows if b <= t]
            shares = sorted(
                draw(
                    st.lists(
                        decimals(low=0, high=100, places=8, typical=("10", "25", "100")),
                        min_size=len(belows),
                        max_size=len(belows),
                    )
                )
            )
            bands = tuple(zip(belows, shares, strict=True))
        tiers.append(ref.Tier(t, coefficient, credit, bands))
    hours = None
    if draw(st.integers(0, 4)) == 0:
        start = draw(st.integers(0, 23 * 60))
        end = draw(st.integers(start + 1, 24 * 60))
        hours = (
            draw(st.sampled_from(("all", "mon-fri", "working"))),
            time(start // 60, start % 60),
            None if end == 24 * 60 else time(end // 60, end % 60),
        )
    window = None
    if draw(st.integers(0, 2)) == 0:
        opens = draw(st.sampled_from((0, 0, 5, draw(st.integers(0, 60)))))
        close = draw(st.sampled_from(("none", "days", "months")))
        window = (
            opens,
            draw(st.integers(opens + 1, 3660)) if close == "days" else None,
            draw(st.integers(1, 120)) if close == "months" else None,
        )
    return ref.Pol(
        name=name,
        mode=mode,
        tiers=tuple(tiers),
        default_target=draw(st.sampled_from(targets)),
        cap_pct=draw(decimals(low=0, high=100, places=8, typical=("100", "50", "10")))
        or Decimal(100),
        min_outage=draw(st.sampled_from((0, 0, 0, 1, 60, 300, 86_400))),
        round_up=draw(st.sampled_from((0, 0, 0, 1, 60, 300, 86_400))),
        min_credit=draw(
            st.sampled_from((Decimal(0), Decimal(0), Decimal("1"), Decimal("0.5"), Decimal("100")))
        ),
        base=draw(st.sampled_from(("period", "period", "period-minus-excluded"))),
        hours=hours,
        window=window,
        credit_form=draw(st.sampled_from(("cash", "voucher"))),
    )


def policy_toml(p: ref.Pol) -> str:
    lines = [
        f'name = "{p.name}"',
        f'mode = "{p.mode}"',
        f"default_target = {text(p.default_target)}",
        f"cap_pct = {text(p.cap_pct)}",
        f'credit_form = "{p.credit_form}"',
        f'availability_base = "{p.base}"',
    ]
    if p.min_outage:
        lines.append(f"min_outage_seconds = {p.min_outage}")
    if p.round_up:
        lines.append(f"round_up_seconds = {p.round_up}")
    if p.min_credit:
        lines.append(f"min_credit = {text(p.min_credit)}")
    if p.hours:
        days, start, end = p.hours
        to = "24:00" if end is None else end.strftime("%H:%M")
        lines += ["[service_hours]", f'days = "{days}"', f'from = "{start:%H:%M}"', f'to = "{to}"']
    if p.window:
        opens, days_, months = p.window
        lines += ["[claim_window]", f"opens_after_working_days = {opens}"]
        if days_ is not None:
            lines.append(f"closes_after_days = {days_}")
        if months is not None:
            lines.append(f"closes_after_months = {months}")
    for t in p.tiers:
        lines += ["[[tiers]]", f"target = {text(t.target)}", f"coefficient = {text(t.coefficient)}"]
        if t.bands:
            cells = ", ".join(
                f"{{ below = {text(b)}, credit_pct = {text(c)} }}" for b, c in t.bands
            )
            lines.append(f"bands = [{cells}]")
        else:
            lines.append(f"credit_pct = {text(t.credit_pct)}")
    return "\n".join(lines) + "\n"


# --- cases -----------------------------------------------------------------------------------


@st.composite
def cases(draw) -> Drawn:
    tz = draw(st.sampled_from(ZONES))
    zone = ZoneInfo(tz)
    # An anchor month anywhere in 1900-2199, its edges now and then.
    year = draw(st.one_of(st.integers(1900, 2199), st.sampled_from((1900, 2199, 2025))))
    month = draw(st.integers(1, 12))
    anchor = us_of(datetime(year, month, 1, tzinfo=zone))
    lo, hi = LO, HI
    span = draw(st.sampled_from((2 * DAY, 45 * DAY, 100 * DAY)))

    def instant() -> int:
        t = anchor + draw(st.integers(-span // 3, span))
        return min(max(t, lo), hi)

    lengths = st.one_of(
        st.integers(0, 10 * US),
        st.integers(0, 3600 * US),
        st.integers(0, 3 * DAY),
        st.integers(0, 70 * DAY),
    )
    stars = draw(st.booleans())
    customers = CUSTOMERS + (("*",) if stars else ())
    rows = []
    written = []
    for _ in range(draw(st.integers(1, 12))):
        start_text, start = draw(stamps(instant(), zone))
        ongoing = draw(st.integers(0, 9)) == 0
        end_text, end = "", None
        if not ongoing:
            end_text, end = draw(stamps(min(start + draw(lengths), hi), zone))
            if end < start:  # a naive repeated hour read back earlier: keep the order
                end_text, end = start_text, start
        impact_text, impact = draw(impacts())
        customer = draw(st.sampled_from(customers))
        service = draw(st.sampled_from(SERVICES))
        category = draw(st.sampled_from(CATEGORIES))
        rows.append(ref.Inc(start, end, customer, service, category, impact))
        written.append((start_text, end_text, customer, service, category, impact_text))
    log = "incident_id,start,end,customer_id,service,category,impact\n" + "".join(
        f"I{i},{s},{e},{c},{v},{k},{m}\n" for i, (s, e, c, v, k, m) in enumerate(written)
    )
    p0 = draw(policies(draw(st.sampled_from(("p0", "=p0")))))
    p1 = draw(policies("p1")) if draw(st.booleans()) else None
    files = {"p0.toml": policy_toml(p0)}
    if p1 is not None:
        files["p1.toml"] = policy_toml(p1)
    as_of = min(max(anchor + draw(st.integers(-10 * DAY, 120 * DAY)), lo), hi)
    as_of_text, as_of = draw(stamps(as_of, zone))
    args = ["--policy", "p0.toml", "--tz", tz, "--calendar", "none", "--as-of", as_of_text]

    deals = None
    contracts = None
    if draw(st.integers(0, 3)) > 0:
        deals = []
        seen = set()
        lines = ["customer_id,service,monthly_fee,currency,sla_target,policy"]
        for _ in range(draw(st.integers(1, 5))):
            c = draw(st.sampled_from(CUSTOMERS))
            s = draw(st.sampled_from(("*", *SERVICES)))
            if (c, s) in seen:
                continue
            seen.add((c, s))
            cur = draw(st.sampled_from(CURRENCIES))
            fee = draw(fees(cur))
            pol = p1 if p1 is not None and draw(st.booleans()) else None
            chosen = pol or p0
            target = draw(st.sampled_from((None, *(t.target for t in chosen.tiers))))
            deals.append(ref.Deal(c, s, fee, cur, target, pol))
            lines.append(
                f"{c},{s},{text(fee)},{cur},{'' if target is None else text(target)},"
                f"{'p1.toml' if pol is not None else ''}"
            )
        contracts = "\n".join(lines) + "\n"
        args += ["--contracts", "contracts.csv"]
    fee = target = None
    currency = draw(st.sampled_from(CURRENCIES))
    args += ["--currency", currency]
    if deals is None or draw(st.booleans()):
        fee = draw(fees(currency))
        args += ["--monthly-fee", text(fee)]
        if draw(st.booleans()):
            target = draw(st.sampled_from([t.target for t in p0.tiers]))
            args += ["--sla-target", text(target)]
    months = None
    if draw(st.integers(0, 3)) == 0:
        first = datetime(year, month, 1)
        months = sorted(
            {
                (
                    (first.year * 12 + first.month - 1 + k) // 12,
                    (first.year * 12 + first.month - 1 + k) % 12 + 1,
                )
                for k in draw(st.lists(st.integers(-1, 3), min_size=1, max_size=3))
            }
        )
        months = [(y, m) for y, m in months if 1900 <= y <= 2199]
        for y, m in months:
            args += ["--month", f"{y:04d}-{m:02d}"]
        months = months or None
    days: dict[date, bool] = {}
    holidays = None
    if draw(st.booleans()):
        base = datetime(year, month, 1).date()
        for _ in range(draw(st.integers(1, 8))):
            d = base + timedelta(draw(st.integers(-5, 70)))
            if 1900 <= d.year <= 2199:
                days[d] = draw(st.booleans())
        holidays = "date,kind\n" + "".join(
            f"{d.isoformat()},{'workday' if w else 'holiday'}\n" for d, w in sorted(days.items())
        )
        args += ["--holidays", "holidays.csv"]
    case = ref.Case(
        incidents=rows,
        policy=p0,
        tz=tz,
        as_of=as_of,
        deals=deals,
        fee=fee,
        target=target,
        currency=currency,
        months=months,
        days=days,
    )
    fmt = draw(st.sampled_from(("csv-rows", "csv-bulk", "jsonl", "parquet")))
    return Drawn(case, log, fmt, files, contracts, holidays, args)


# --- running slacalc -------------------------------------------------------------------------


def write_files(drawn: Drawn, folder: Path) -> Path:
    """The case's files in ``folder``; the incident log's path."""
    for name, body in drawn.policies.items():
        (folder / name).write_text(body, encoding="utf-8")
    if drawn.contracts is not None:
        (folder / "contracts.csv").write_text(drawn.contracts, encoding="utf-8")
    if drawn.holidays is not None:
        (folder / "holidays.csv").write_text(drawn.holidays, encoding="utf-8")
    return write_log(folder, drawn.log, drawn.fmt)


@dataclass
class Outcome:
    code: int
    rows: list[dict[str, str]]
    stderr: str
    explained: dict[str, str] | None = None  # explain's row of the report's middle row


def run_cli(
    drawn: Drawn,
    folder: Path,
    *,
    buckets: int | None = None,
    spark: bool = False,
    explain: bool = False,
) -> Outcome:
    """``slacalc report -f csv`` of the case, in process: in memory, or (``buckets``) as a log
    larger than memory, computed that many buckets of customers at a time, or (``spark``) with
    ``--engine spark`` on the Spark session the caller started (CSV and Parquet logs only)."""
    if spark and drawn.fmt == "jsonl":
        drawn = replace(drawn, fmt="csv-rows")
    import pytest
    from typer.testing import CliRunner

    from slacalc.cli import app
    from slacalc.computing import partitioned
    from slacalc.reading import csv_bulk

    log = write_files(drawn, folder)
    here = os.getcwd()
    with pytest.MonkeyPatch.context() as m:
        m.setattr(csv_bulk, "MIN_BYTES", 0 if drawn.fmt == "csv-bulk" else 1 << 62)
        if buckets is not None:
            m.setattr(partitioned, "memory_needed", lambda paths: 1 << 50)
            m.setattr(partitioned, "bucket_count", lambda paths, budget: buckets)
        os.chdir(folder)
        try:
            args = [str(folder / a) if a.endswith(".toml") else a for a in drawn.args]
            engine = ["--engine", "spark"] if spark else ["--memory", "384M"]
            result = CliRunner().invoke(app, ["report", str(log), *args, "-f", "csv", *engine])
        finally:
            os.chdir(here)
    rows = []
    if result.exit_code in (0, 3) and result.stdout:
        rows = list(csv.DictReader(io.StringIO(result.stdout)))
    outcome = Outcome(result.exit_code, rows, result.stderr)
    if explain and rows:
        outcome.explained = _explain(folder, log, args, rows[len(rows) // 2])
    return outcome


def _explain(folder: Path, log: Path, args: list[str], row: dict[str, str]) -> dict[str, str]:
    """``slacalc explain -f json`` of one report row: its ``row`` object, every value as the
    CSV writes it."""
    import json

    from typer.testing import CliRunner

    from slacalc.cli import app

    def unguarded(text: str) -> str:
        return text[1:] if text.startswith("'") else text

    keep = [
        a for i, a in enumerate(args) if a != "--month" and (i == 0 or args[i - 1] != "--month")
    ]
    here = os.getcwd()
    os.chdir(folder)
    try:
        result = CliRunner().invoke(
            app,
            [
                "explain",
                str(log),
                *keep,
                "--customer",
                unguarded(row["customer_id"]),
                "--service",
                unguarded(row["service"]),
                "--month",
                row["month"],
                "-f",
                "json",
            ],
        )
    finally:
        os.chdir(here)
    assert result.exit_code == 0, result.output[-2000:]
    got = json.loads(result.stdout)[0]["row"]

    def text(value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    return {k: text(v) for k, v in got.items()}


def check(drawn: Drawn, got: Outcome, what: str) -> None:
    """``got`` is what the reference computes for the case: every field of every row, or a
    refusal (exit 1 or 2, with a message) where the reference refuses."""
    try:
        want = ref.report(drawn.case)
    except ref.Refused as why:
        assert got.code in (1, 2), f"{what}: the reference refuses ({why}), slacalc exit {got.code}"
        assert got.stderr.strip(), f"{what}: a refusal without a message"
        return
    assert got.code in (0, 3), f"{what}: exit {got.code}: {got.stderr[-2000:]}"
    assert "Traceback" not in got.stderr
    assert len(got.rows) == len(want), (
        f"{what}: {len(got.rows)} rows, the reference has {len(want)}:\n"
        + "\n".join(f"  {r['customer_id']},{r['service']},{r['month']}" for r in got.rows)
        + "\n  --\n"
        + "\n".join(f"  {r['customer_id']},{r['service']},{r['month']}" for r in want)
    )
    if got.explained is not None:
        w = want[len(want) // 2]
        raw = {f: w[f][1:] if w[f].startswith("'") else w[f] for f in ref.FIELDS}
        differ = {
            f: (got.explained.get(f), raw[f]) for f in ref.FIELDS if got.explained.get(f) != raw[f]
        }
        assert not differ, (
            f"{what}: explain of {w['customer_id']},{w['service']},{w['month']}: "
            + (", ".join(f"{f}: slacalc {a!r} reference {b!r}" for f, (a, b) in differ.items()))
        )
    for i, (g, w) in enumerate(zip(got.rows, want, strict=True)):
        differ = {f: (g.get(f), w[f]) for f in ref.FIELDS if g.get(f) != w[f]}
        assert not differ, f"{what}: row {i} ({w['customer_id']},{w['service']},{w['month']}) " + (
            ", ".join(f"{f}: slacalc {a!r} reference {b!r}" for f, (a, b) in differ.items())
        )
