"""Realistic month-end incident logs (and matching contracts) for the slacalc benchmark.

Vectorised with numpy and written in chunks, so a million rows take a few seconds and 20M
rows stay feasible.  Deterministic for a given (rows, seed).  Times are naive local times in
Asia/Shanghai (UTC+8, no DST) between 2025-03-01 and the as-of instant 2025-06-01 00:00:00;
nothing ends after as-of, so the log touches three months.

What a log of N rows holds (shares of N, approximate):
  * about N/10 customers (`cust-000042`, a few of them much busier than the rest), services
    compute / storage / network / database;
  * 5 % `maintenance` windows: half at night on whole half-hours, half overlapping an
    outage of the same key (so excluded time cuts into downtime);
  * 2 % `data_loss` rows;
  * 8 % partial impacts on outages: `0.3`, `30%`, `0.5`, `0.25`;
  * the rest outages with empty impact or `1`;
  * staggered overlaps (6 %), nested pairs (2 %: one inside the first half of an incident,
    then one starting in its second half and ending after it: a merge needs a running max),
    adjacent incidents (1 %), exact duplicates (1 %), month-boundary spans (2 % of the
    first incidents), ongoing incidents with an empty `end` (0.1 %).

Contracts (`customer_id,service,monthly_fee,currency,sla_target`) cover every key of the log:
most customers have one `*` row (a few written with an empty service), some add exact rows
that override it, some have exact rows for all four services only; about 1 % more customers
have contracts but no incidents.  Tiers 99.95 / 99.99 / 99.999, currencies CNY / USD / JPY,
a few rows leave currency or sla_target empty (the defaults apply).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from log_span import DAY, HORIZON, HOUR, LOG_START, MONTH_BOUNDARIES

HEADER = "incident_id,customer_id,service,start,end,category,impact"
CONTRACTS_HEADER = "customer_id,service,monthly_fee,currency,sla_target"
SERVICES = ("compute", "storage", "network", "database")
SERVICE_WEIGHTS = (0.35, 0.25, 0.20, 0.20)
CATEGORIES = ("outage", "data_loss", "maintenance")
OUTAGE, DATA_LOSS, MAINTENANCE = range(3)
# impact texts; index 0 and 1 are full impact, the rest partial
IMPACTS = ("", "1", "0.3", "30%", "0.5", "0.25")
PARTIAL_IMPACTS = np.array([2, 3, 4, 5])
PARTIAL_WEIGHTS = np.array([0.3, 0.2, 0.3, 0.2])
ROWS_PER_CUSTOMER = 10
GENERATOR_VERSION = 1  # bump when the output for a given (rows, seed) changes
CHUNK = 500_000  # rows formatted at a time (bounds the memory of a 20M-row log)

# shares of all rows, by how a row is made
P_MAINT_OVERLAP = 0.025
P_MAINT_NIGHT = 0.025
P_STAGGERED = 0.06
P_NESTED_PAIRS = 0.01  # each pair is two rows
P_ADJACENT = 0.01
P_DUPLICATE = 0.01
P_DATA_LOSS = 0.02
P_PARTIAL = 0.08
# shares of the first incidents
P_ONGOING = 0.0012
P_MONTH_SPAN = 0.02


def customer_count(rows: int) -> int:
    return max(1, round(rows / ROWS_PER_CUSTOMER))


def default_paths(rows: int, seed: int, data_dir: Path) -> tuple[Path, Path]:
    """(incident log, contracts) paths under ``data_dir`` for this size and seed."""
    stem = f"realistic-{rows}-s{seed}-v{GENERATOR_VERSION}"
    return data_dir / f"incidents-{stem}.csv", data_dir / f"contracts-{stem}.csv"


# ---------------------------------------------------------------- the rows


def _durations(rng: np.random.Generator, n: int) -> np.ndarray:
    """Mostly minutes to hours, a few up to two days (seconds)."""
    roll = rng.random(n)
    short = rng.integers(30, HOUR, n, endpoint=True)
    medium = rng.integers(HOUR, 6 * HOUR, n, endpoint=True)
    long = rng.integers(6 * HOUR, 48 * HOUR, n, endpoint=True)
    return np.where(roll < 0.55, short, np.where(roll < 0.95, medium, long))


def _between(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Uniform integers in [lo, hi], element-wise (hi >= lo)."""
    return lo + (rng.random(len(lo)) * (hi - lo + 1)).astype(np.int64)


def generate(rows: int, seed: int) -> dict[str, np.ndarray]:
    """The log as columns, sorted by start: customer, service, start, end (-1 = ongoing),
    category and impact (indexes into CATEGORIES and IMPACTS)."""
    rng = np.random.default_rng(seed)
    n_customers = customer_count(rows)
    counts = {
        name: int(rows * share)
        for name, share in (
            ("maint_overlap", P_MAINT_OVERLAP),
            ("maint_night", P_MAINT_NIGHT),
            ("staggered", P_STAGGERED),
            ("nested", P_NESTED_PAIRS),
            ("adjacent", P_ADJACENT),
            ("duplicate", P_DUPLICATE),
        )
    }
    n_base = rows - sum(counts.values()) - counts["nested"]  # a nested pair is two rows

    # first incidents: plain, month-spanning or ongoing
    cust = (n_customers * rng.random(n_base) ** 1.5).astype(np.int64)  # some busier customers
    svc = rng.choice(len(SERVICES), n_base, p=SERVICE_WEIGHTS)
    start = rng.integers(0, HORIZON - 1, n_base, endpoint=True)
    end = np.minimum(start + _durations(rng, n_base), HORIZON)
    roll = rng.random(n_base)
    span = roll < P_MONTH_SPAN
    boundary = np.array(MONTH_BOUNDARIES)[rng.integers(0, len(MONTH_BOUNDARIES), n_base)]
    start = np.where(span, boundary - rng.integers(1, 6 * HOUR, n_base, endpoint=True), start)
    end = np.where(span, boundary + rng.integers(1, 6 * HOUR, n_base, endpoint=True), end)
    ongoing = (roll >= P_MONTH_SPAN) & (roll < P_MONTH_SPAN + P_ONGOING)
    start = np.where(ongoing, rng.integers(HORIZON - 45 * DAY, HORIZON - 60, n_base), start)
    end = np.where(ongoing, -1, end)
    category = np.full(n_base, OUTAGE, dtype=np.int8)
    impact = rng.integers(0, 2, n_base).astype(np.int8)  # "" or "1"
    cols = {"cust": [cust], "svc": [svc], "start": [start], "end": [end]}
    cols |= {"category": [category], "impact": [impact]}

    parents = np.flatnonzero(~ongoing)

    def add(parent: np.ndarray, s: np.ndarray, e: np.ndarray, cat: Any = OUTAGE) -> None:
        n = len(parent)
        cols["cust"].append(cust[parent])
        cols["svc"].append(svc[parent])
        cols["start"].append(s)
        cols["end"].append(np.minimum(e, HORIZON))
        cols["category"].append(np.broadcast_to(np.int8(cat), n).copy())
        cols["impact"].append(
            np.zeros(n, np.int8) if cat == MAINTENANCE else rng.integers(0, 2, n).astype(np.int8)
        )

    def pick(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        p = rng.choice(parents, n) if len(parents) else np.zeros(0, np.int64)
        return p, start[p], end[p]

    p, ps, pe = pick(counts["staggered"])  # starts inside, ends after
    add(p, _between(rng, ps + 1, pe - 1), pe + rng.integers(1, 2 * HOUR, len(p), endpoint=True))
    p, ps, pe = pick(counts["nested"])  # one inside the first half, one from the second half on
    mid = ps + (pe - ps) // 2
    s2 = _between(rng, ps + 1, mid - 1)
    add(p, s2, _between(rng, s2 + 1, mid))
    add(p, _between(rng, mid + 1, pe - 1), pe + rng.integers(1, 3 * HOUR, len(p), endpoint=True))
    p, _, pe = pick(counts["adjacent"])
    add(p, pe, pe + _durations(rng, len(p)))
    p, ps, _ = pick(counts["maint_overlap"])  # around the start of an outage of the same key
    s = np.clip(ps + rng.integers(-2 * HOUR, HOUR, len(p), endpoint=True), 0, HORIZON - 1800)
    add(p, s, s + rng.integers(2, 8, len(p), endpoint=True) * 1800, MAINTENANCE)
    n = counts["maint_night"]  # announced windows: 00:00-05:30 local, whole half-hours
    night = rng.integers(0, HORIZON // DAY, n) * DAY + rng.integers(0, 11, n) * 1800
    cols["cust"].append((n_customers * rng.random(n) ** 1.5).astype(np.int64))
    cols["svc"].append(rng.choice(len(SERVICES), n, p=SERVICE_WEIGHTS))
    cols["start"].append(night)
    cols["end"].append(np.minimum(night + rng.integers(2, 8, n, endpoint=True) * 1800, HORIZON))
    cols["category"].append(np.full(n, MAINTENANCE, np.int8))
    cols["impact"].append(np.zeros(n, np.int8))
    out = {name: np.concatenate(parts) for name, parts in cols.items()}

    # categories and partial impacts of the down rows, then exact duplicates of whole rows
    down = np.flatnonzero(out["category"] != MAINTENANCE)
    chosen = rng.permutation(down)
    n_loss = min(int(rows * P_DATA_LOSS), len(chosen))
    n_partial = min(int(rows * P_PARTIAL), len(chosen) - n_loss)
    out["category"][chosen[:n_loss]] = DATA_LOSS
    partial = chosen[n_loss : n_loss + n_partial]
    out["impact"][partial] = rng.choice(PARTIAL_IMPACTS, len(partial), p=PARTIAL_WEIGHTS)
    dup = rng.choice(parents, counts["duplicate"]) if len(parents) else np.zeros(0, np.int64)
    out = {name: np.concatenate([col, col[dup]]) for name, col in out.items()}

    order = np.argsort(out["start"], kind="stable")  # an export sorted by start
    return {name: col[order] for name, col in out.items()}


# ---------------------------------------------------------------- CSV text


def _padded(texts: list[str] | tuple[str, ...]) -> np.ndarray:
    """Texts as rows of a uint8 matrix, padded with NUL (removed when the lines are joined)."""
    width = max(1, *(len(t) for t in texts))
    return np.array([list(t.encode().ljust(width, b"\0")) for t in texts], dtype=np.uint8)


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded decimal digits of non-negative integers, as an (n, width) uint8 matrix."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (values[:, None] // powers % 10 + ord("0")).astype(np.uint8)


class _Timestamps:
    """'YYYY-MM-DD HH:MM:SS' for second offsets from LOG_START, by table lookups."""

    def __init__(self) -> None:
        import datetime as dt

        n_days = HORIZON // DAY + 2
        self.days = _padded(
            [(LOG_START + dt.timedelta(days=d)).strftime("%Y-%m-%d ") for d in range(n_days)]
        )
        sod = np.arange(DAY)
        hh, mm, ss = _digits(sod // HOUR, 2), _digits(sod // 60 % 60, 2), _digits(sod % 60, 2)
        self.clock = np.concatenate([hh, _colon(DAY), mm, _colon(DAY), ss], axis=1)

    def __call__(self, t: np.ndarray) -> np.ndarray:
        """(n, 19) matrix; negative offsets (ongoing) become NUL, i.e. an empty cell."""
        out = np.concatenate([self.days[t // DAY], self.clock[t % DAY]], axis=1)
        out[t < 0] = 0
        return out


def _colon(n: int) -> np.ndarray:
    return np.full((n, 1), ord(":"), np.uint8)


def _const(text: str, n: int) -> np.ndarray:
    return np.broadcast_to(np.frombuffer(text.encode(), np.uint8), (n, len(text)))


def format_chunk(
    log: dict[str, np.ndarray], lo: int, hi: int, n_customers: int, ts: _Timestamps
) -> bytes:
    """CSV lines of rows ``lo:hi``: fields laid side by side in a NUL-padded byte matrix,
    then the NULs dropped (one numpy pass, no per-row Python)."""
    n = hi - lo
    id_width = max(7, len(str(len(log["start"]))))
    cust_width = max(5, len(str(n_customers - 1)))
    parts = [
        _const("INC-", n),
        _digits(np.arange(lo + 1, hi + 1, dtype=np.int64), id_width),
        _const(",cust-", n),
        _digits(log["cust"][lo:hi], cust_width),
        _const(",", n),
        _padded(SERVICES)[log["svc"][lo:hi]],
        _const(",", n),
        ts(log["start"][lo:hi]),
        _const(",", n),
        ts(log["end"][lo:hi]),
        _const(",", n),
        _padded(CATEGORIES)[log["category"][lo:hi]],
        _const(",", n),
        _padded(IMPACTS)[log["impact"][lo:hi]],
        _const("\n", n),
    ]
    flat = np.concatenate(parts, axis=1).ravel()
    return flat[flat != 0].tobytes()


def write_incident_log(path: Path, rows: int, seed: int) -> Path:
    """Generate ``rows`` incidents and write them as CSV (LF line endings), atomically."""
    log = generate(rows, seed)
    ts = _Timestamps()
    n_customers = customer_count(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as fh:
        fh.write((HEADER + "\n").encode())
        for lo in range(0, rows, CHUNK):
            fh.write(format_chunk(log, lo, min(rows, lo + CHUNK), n_customers, ts))
    tmp.replace(path)
    return path


# ---------------------------------------------------------------- contracts


def write_contracts(path: Path, rows: int, seed: int) -> Path:
    """Contracts for every customer of the log of ``rows`` rows, plus ~1 % without incidents."""
    rng = np.random.default_rng(seed + 1)
    n_log = customer_count(rows)
    n = n_log + max(1, n_log // 100)
    width = max(5, len(str(n_log - 1)))
    kind = rng.random(n)  # < 0.1: exact rows for every service; < 0.3: wildcard + overrides
    currency = rng.choice(3, n, p=(0.7, 0.2, 0.1))  # CNY, USD, JPY

    wild = np.flatnonzero(kind >= 0.10)
    every = np.flatnonzero(kind < 0.10)
    over = np.flatnonzero((kind >= 0.10) & (kind < 0.30))
    first = rng.integers(0, len(SERVICES), len(over))
    two = rng.random(len(over)) < 0.5
    second = (first + rng.integers(1, len(SERVICES), len(over)))[two] % len(SERVICES)
    # service codes: 0-3 SERVICES, 4 "*", 5 "" (also every service)
    customer = np.concatenate([wild, np.repeat(every, len(SERVICES)), over, over[two]])
    service = np.concatenate(
        [
            np.where(rng.random(len(wild)) < 0.05, 5, 4),
            np.tile(np.arange(len(SERVICES)), len(every)),
            first,
            second,
        ]
    )
    order = np.argsort(customer, kind="stable")
    customer, service = customer[order], service[order]
    m = len(customer)
    cur = currency[customer]
    cents = rng.integers(5_000, np.where(cur == 0, 200_000, 30_000) * 100)
    whole = rng.random(m) < 0.3  # whole amounts are written without decimals
    jpy_fee = rng.integers(100, 50_000, m) * 100
    tier = rng.choice(3, m, p=(0.6, 0.3, 0.1))
    no_target = rng.random(m) < 0.03  # the policy's default tier
    no_currency = (cur == 0) & (rng.random(m) < 0.05)  # the default currency, CNY

    services = (*SERVICES, "*", "")
    currencies = ("CNY", "USD", "JPY")
    targets = ("99.95", "99.99", "99.999")
    lines = [CONTRACTS_HEADER]
    for c, s, k, ct, w, jf, t, nt, nc in zip(
        customer.tolist(),
        service.tolist(),
        cur.tolist(),
        cents.tolist(),
        whole.tolist(),
        jpy_fee.tolist(),
        tier.tolist(),
        no_target.tolist(),
        no_currency.tolist(),
        strict=True,
    ):
        if k == 2:
            fee = str(jf)
        elif w:
            fee = str(ct // 100)
        else:
            fee = f"{ct // 100}.{ct % 100:02d}"
        cur_text = "" if nc else currencies[k]
        target = "" if nt else targets[t]
        lines.append(f"cust-{c:0{width}d},{services[s]},{fee},{cur_text},{target}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
