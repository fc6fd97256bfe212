"""Properties of the report maths, checked on random incident logs (hypothesis).

The logs live on a minute grid over five days around the end of March 2025 in Europe/London,
which holds both a month boundary (2025-04-01 00:00 BST = 2025-03-31 23:00Z) and a DST change
(2025-03-30 01:00Z). On such a grid the loss is constant within each minute, so a per-minute
brute force is an exact, independent oracle for downtime, exclusions and incident counts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import count
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slacalc import Month, Settings, compute_report, load_policy, read_incidents

LONDON = ZoneInfo("Europe/London")
ORIGIN = datetime(2025, 3, 29, tzinfo=UTC)
SPAN = 5 * 24 * 60  # minutes on the grid
MAX_LEN = 12 * 60  # longest incident, minutes
MONTHS = [Month(2025, 3), Month(2025, 4)]
# Real lengths, by hand: March 2025 in London loses an hour to BST; April has 30 plain days.
PERIOD = {"2025-03": 31 * 86400 - 3600, "2025-04": 30 * 86400}
KEYS = [("a", "x"), ("a", "y"), ("b", "x")]
IMPACTS = {
    "": Fraction(1),
    "100%": Fraction(1),
    "0.5": Fraction(1, 2),
    "30%": Fraction(3, 10),
    "0.25": Fraction(1, 4),
}
DOWN = ("outage", "data_loss")
HEADER = "incident_id,customer_id,service,category,start,end,impact\n"
US = 1_000_000

# The month (in London) of every minute of the grid, computed once with zoneinfo.
MONTH_OF = [
    (ORIGIN + timedelta(minutes=m)).astimezone(LONDON).strftime("%Y-%m")
    for m in range(SPAN + MAX_LEN + 1)
]

# Each month's minutes form one contiguous range of the grid.
MONTH_RANGE = {
    month: range(MONTH_OF.index(month), len(MONTH_OF) - MONTH_OF[::-1].index(month))
    for month in sorted(set(MONTH_OF))
}

PROPS = settings(max_examples=100, deadline=None)


@dataclass(frozen=True)
class Row:
    key: tuple[str, str]
    category: str
    start: int  # minutes from ORIGIN
    end: int | None  # None: ongoing
    impact: str
    local: bool = False  # written as naive London wall time instead of UTC

    def csv(self, n: int) -> str:
        end = "" if self.end is None else stamp(self.end, self.local)
        return (
            f"I{n},{self.key[0]},{self.key[1]},{self.category},"
            f"{stamp(self.start, self.local)},{end},{self.impact}\n"
        )

    def end_at(self, as_of: int) -> int:
        """Counted up to --as-of: ongoing incidents, and closed ones that end after it."""
        return max(self.start, as_of if self.end is None else min(self.end, as_of))


def stamp(minute: int, local: bool = False) -> str:
    """UTC with a Z, or naive local time (never ambiguous here: BST starts, nothing ends)."""
    instant = ORIGIN + timedelta(minutes=minute)
    if local:
        return instant.astimezone(LONDON).strftime("%Y-%m-%d %H:%M")
    return instant.strftime("%Y-%m-%dT%H:%MZ")


@st.composite
def rows(
    draw: st.DrawFn, *, categories: tuple[str, ...] = (*DOWN, "maintenance", "excluded")
) -> Row:
    start = draw(st.integers(0, SPAN - 1))
    length = draw(st.one_of(st.none(), st.integers(0, MAX_LEN)))
    return Row(
        key=draw(st.sampled_from(KEYS)),
        category=draw(st.sampled_from(categories)),
        start=start,
        end=None if length is None else start + length,
        impact=draw(st.sampled_from(sorted(IMPACTS))),
        local=draw(st.booleans()),
    )


logs = st.lists(rows(), min_size=1, max_size=10)
as_ofs = st.integers(0, SPAN)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("props")


_names = count()


def write(folder: Path, log: list[Row]) -> str:
    path = folder / f"log{next(_names)}.csv"
    path.write_text(HEADER + "".join(r.csv(i) for i, r in enumerate(log)), encoding="utf-8")
    return str(path)


def report(
    folder: Path,
    logs_: list[list[Row]],
    as_of: int,
    *,
    policy: str = "standard",
    fee: str = "1000",
    target: str | None = None,
) -> list[dict[str, Any]]:
    pol = load_policy(policy)
    settings_ = Settings(
        policy=pol,
        tz=LONDON,
        as_of=int((ORIGIN + timedelta(minutes=as_of)).timestamp()) * US,
        monthly_fee=Decimal(fee),
        sla_target=pol.parse_target(target) if target else None,
    )
    log = read_incidents([write(folder, part) for part in logs_], LONDON)
    return [r.to_dict() for r in compute_report(log, settings_, months=MONTHS).rows]


def exact_rows(folder: Path, log: list[Row], as_of: int) -> dict[tuple[str, str, str], Any]:
    pol = load_policy("standard")
    settings_ = Settings(
        policy=pol,
        tz=LONDON,
        as_of=int((ORIGIN + timedelta(minutes=as_of)).timestamp()) * US,
        monthly_fee=Decimal(1000),
    )
    got = compute_report(read_incidents([write(folder, log)], LONDON), settings_, months=MONTHS)
    return {(r.customer_id, r.service, str(r.month)): r for r in got.rows}


# --- the brute-force oracle ---------------------------------------------------------------------


def oracle(log: list[Row], as_of: int) -> dict[tuple[str, str, str], tuple[Fraction, int, int]]:
    """Per key and month: (downtime seconds, excluded seconds, incident count), minute by minute."""
    size = len(MONTH_OF)
    # losses in twentieths, so the sums are plain integers (every impact is a multiple of 1/20)
    loss: dict[tuple[str, str], list[int]] = {}
    excl: dict[tuple[str, str], list[bool]] = {}
    counted: dict[tuple[str, str, str], int] = {}
    keys = set()
    for r in log:
        end = r.end_at(as_of)
        if end <= r.start:
            continue
        keys.add(r.key)
        lk = loss.setdefault(r.key, [0] * size)
        ek = excl.setdefault(r.key, [False] * size)
        if r.category in DOWN:
            for month in {MONTH_OF[m] for m in range(r.start, end)}:
                counted[(*r.key, month)] = counted.get((*r.key, month), 0) + 1
            twentieths = int(IMPACTS[r.impact] * 20)
            for m in range(r.start, end):
                if lk[m] < twentieths:
                    lk[m] = twentieths
        else:
            for m in range(r.start, end):
                ek[m] = True
    out = {}
    for key in keys:
        lk, ek = loss[key], excl[key]
        for month in PERIOD:
            minutes = MONTH_RANGE[month]
            down = Fraction(sum(lk[m] for m in minutes if not ek[m]), 20)
            gone = sum(1 for m in minutes if ek[m])
            out[(*key, month)] = (down * 60, gone * 60, counted.get((*key, month), 0))
    return out


def half_up_cents(value: Fraction) -> str:
    cents = value * 100
    q, r = divmod(cents.numerator, cents.denominator)
    if 2 * r >= cents.denominator:
        q += 1
    return f"{q // 100}.{q % 100:02d}"


@PROPS
@given(log=logs, as_of=as_ofs)
def test_brute_force_oracle(folder: Path, log: list[Row], as_of: int) -> None:
    expected = oracle(log, as_of)
    got = exact_rows(folder, log, as_of)
    assert set(got) == set(expected)
    for k, (down, gone, n) in expected.items():
        row = got[k]
        assert row.downtime_us == down * US, k
        assert row.excluded_us == gone * US, k
        assert row.incident_count == n, k
        period = PERIOD[k[2]]
        d = row.to_dict()
        assert d["period_seconds"] == period
        availability = 1 - down / period
        assert d["availability_pct"] == f"{Decimal(int(availability * 10**6)) / 10**4:.4f}"
        breached = availability * 100 < Fraction(9995, 100)  # the default tier, 99.95
        assert d["breached"] is breached
        # 1000 CNY at 1.25, capped at the fee, rounded once half-up to the fen
        owed = min(down / period * 1250, Fraction(1000)) if breached else Fraction(0)
        assert d["compensation"] == half_up_cents(owed), k


# --- properties ------------------------------------------------------------------------------


@PROPS
@given(
    log=st.lists(
        st.builds(
            Row,
            key=st.sampled_from(KEYS),
            category=st.sampled_from([*DOWN, "maintenance"]),
            start=st.integers(-40 * 24 * 60, SPAN),
            end=st.none() | st.integers(0, 70 * 24 * 60),
            impact=st.sampled_from(sorted(IMPACTS)),
        ).filter(lambda r: r.end is None or r.end >= r.start),
        min_size=1,
        max_size=8,
    ),
    as_of=st.integers(0, 60 * 24 * 60),
)
def test_availability_is_between_0_and_1(folder: Path, log: list[Row], as_of: int) -> None:
    for row in exact_rows(folder, log, as_of).values():
        assert 0 <= row.availability <= 1
        assert 0 <= Decimal(row.to_dict()["availability_pct"]) <= 100
        assert 0 <= row.downtime_us <= row.period_us
        assert 0 <= row.excluded_us <= row.period_us


@PROPS
@given(
    log=logs,
    extra=rows(categories=DOWN),
    as_of=as_ofs,
    policy=st.sampled_from(["standard", "standard-credit", "premium"]),
    target=st.sampled_from(["99.95", "99.99", "99.999"]),
    fee=st.sampled_from(["1000", "0.03", "123456.78"]),
)
def test_compensation_never_falls_when_downtime_grows(
    folder: Path, log: list[Row], extra: Row, as_of: int, policy: str, target: str, fee: str
) -> None:
    if policy == "premium":
        policy = str(Path(__file__).parent.parent / "samples" / "policy.toml")
    before = {
        (r["customer_id"], r["service"], r["month"]): r
        for r in report(folder, [log], as_of, policy=policy, fee=fee, target=target)
    }
    after = {
        (r["customer_id"], r["service"], r["month"]): r
        for r in report(folder, [[*log, extra]], as_of, policy=policy, fee=fee, target=target)
    }
    assert set(before) <= set(after)
    for k, b in before.items():
        a = after[k]
        assert Decimal(a["downtime_seconds"]) >= Decimal(b["downtime_seconds"])
        assert Decimal(a["availability_pct"]) <= Decimal(b["availability_pct"])
        assert Decimal(a["compensation"]) >= Decimal(b["compensation"]), k
        assert a["breached"] >= b["breached"]


@PROPS
@given(log=logs, as_of=as_ofs, seed=st.integers(0, 2**32))
def test_row_order_does_not_matter(folder: Path, log: list[Row], as_of: int, seed: int) -> None:
    shuffled = list(log)
    random.Random(seed).shuffle(shuffled)
    assert report(folder, [shuffled], as_of) == report(folder, [log], as_of)


@PROPS
@given(log=logs, as_of=as_ofs)
def test_splitting_by_key_into_files_changes_nothing(
    folder: Path, log: list[Row], as_of: int
) -> None:
    parts: dict[tuple[str, str], list[Row]] = {}
    for r in log:
        parts.setdefault(r.key, []).append(r)
    assert report(folder, list(parts.values()), as_of) == report(folder, [log], as_of)


@PROPS
@given(log=logs, as_of=as_ofs)
def test_duplicating_every_row_only_doubles_the_count(
    folder: Path, log: list[Row], as_of: int
) -> None:
    once = report(folder, [log], as_of)
    twice = report(folder, [log + log], as_of)  # also as two files: report(…, [log, log])
    assert report(folder, [log, log], as_of) == twice
    assert len(once) == len(twice)
    for a, b in zip(once, twice, strict=True):
        # incident_count counts rows, so duplicated rows double it; nothing else moves
        assert b["incident_count"] == 2 * a["incident_count"]
        assert {**b, "incident_count": 0} == {**a, "incident_count": 0}


@PROPS
@given(log=logs, as_of=as_ofs)
def test_the_two_thread_halves_change_nothing(folder: Path, log: list[Row], as_of: int) -> None:
    # Large logs are typed and computed as two halves on two threads; forcing that on small
    # random logs must give the same report as one piece.
    from slacalc import speed

    whole = report(folder, [log], as_of)
    with pytest.MonkeyPatch.context() as m:
        for name in ("PARALLEL_ROWS", "PARALLEL_WORDS", "PARALLEL_PRICES"):
            m.setattr(speed, name, 2)
        m.setattr(speed, "KEYS_PER_TERMS", 0)
        halves = report(folder, [log], as_of)
    assert halves == whole
