#!/usr/bin/env python3
"""Realistic month-end incident logs with zones, and their deployments file, for the redundancy
benchmark (issue 22, item 4: ``bench/redundancy.py``).

The log is gen_realistic.py's log of the same (rows, seed), row for row, with a ``zone`` column
added; deterministic for (rows, seed). Every key of the log runs in three zones (``cn-sh-a``,
``cn-sh-b``, ``cn-sh-c``) for the whole log:

  * 85 % of the rows carry a zone, drawn uniformly among the key's three; the other 15 % have an
    empty zone (an incident of the whole key, as a region-wide one is), maintenance included;
  * so derived rows (staggered overlaps, nested pairs, adjacent incidents, maintenance around
    an outage) mostly fall in another zone than the incident they overlap: "more than one zone
    down" and "every zone down" both happen;
  * 5 % of the keys move out of ``cn-sh-c`` into ``cn-sh-d`` on a day of the log (two
    deployment rows: ``cn-sh-c`` until that instant, ``cn-sh-d`` from it); their rows drawn in
    the third zone are in ``cn-sh-d`` once they start on or after it (one that starts before
    and ends after has time where the key is no longer deployed: a ``zone_not_deployed``
    warning, as in life);
  * 10 % of the customers also have deployments for the services the log has no incident of.

Deployments: ``customer_id,service,zone,from,to`` with naive local times (Asia/Shanghai), as
the log writes them; an empty ``from`` / ``to`` is unbounded.

    python bench/gen_zones.py --rows 1000000 -o /tmp/slacalc-bench/zones.csv \\
        --deployments /tmp/slacalc-bench/deployments.csv
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import gen_realistic as gr  # noqa: E402
from log_span import DAY, HORIZON  # noqa: E402

HEADER = "incident_id,customer_id,service,zone,start,end,category,impact"
DEPLOYMENTS_HEADER = "customer_id,service,zone,from,to"
ZONES = ("cn-sh-a", "cn-sh-b", "cn-sh-c", "cn-sh-d")  # d: where a moving key goes
P_ZONED = 0.85
P_MOVES = 0.05
P_EXTRA_SERVICES = 0.10
GENERATOR_VERSION = 1  # bump when the output for a given (rows, seed) changes


def default_paths(rows: int, seed: int, data_dir: Path) -> tuple[Path, Path]:
    """(incident log, deployments) paths under ``data_dir`` for this size and seed."""
    stem = f"zones-{rows}-s{seed}-v{gr.GENERATOR_VERSION}.{GENERATOR_VERSION}"
    return data_dir / f"incidents-{stem}.csv", data_dir / f"deployments-{stem}.csv"


def generate(rows: int, seed: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The log (gen_realistic's columns plus ``zone``: an index into ZONES, -1 for none) and
    the deployments (``cust``, ``svc``, ``zone``, ``start`` and ``end`` second offsets from
    the log's start, -1 when unbounded)."""
    log = gr.generate(rows, seed)
    rng = np.random.default_rng(seed + 22)
    n_customers = gr.customer_count(rows)
    n_svc = len(gr.SERVICES)
    key = log["cust"] * n_svc + log["svc"]

    # the keys that move from zone c to d, and when (a whole hour, on a day of the log)
    n_keys = n_customers * n_svc
    moves = rng.random(n_keys) < P_MOVES
    move_at = rng.integers(1, HORIZON // DAY, n_keys) * DAY + rng.integers(0, 24, n_keys) * 3600

    n = len(key)
    zone = rng.integers(0, 3, n)
    zone = np.where(rng.random(n) < P_ZONED, zone, -1)
    moved = (zone == 2) & moves[key] & (log["start"] >= move_at[key])
    zone = np.where(moved, 3, zone)
    log["zone"] = zone

    # deployments: every key of the log, plus every service of a few customers
    present = np.zeros(n_keys, dtype=bool)
    present[key] = True
    extra = np.repeat(rng.random(n_customers) < P_EXTRA_SERVICES, n_svc)
    keys = np.flatnonzero(present | extra)
    mv = keys[moves[keys]]
    cols = {
        "key": [np.repeat(keys, 3), mv],
        "zone": [np.tile(np.arange(3), len(keys)), np.full(len(mv), 3)],
        "start": [np.full(3 * len(keys), -1), move_at[mv]],
        "end": [np.full(3 * len(keys), -1), np.full(len(mv), -1)],
    }
    deps = {name: np.concatenate(parts) for name, parts in cols.items()}
    left = (deps["zone"] == 2) & moves[deps["key"]]  # zone c until the move
    deps["end"] = np.where(left, move_at[deps["key"]], deps["end"])
    order = np.lexsort((deps["zone"], deps["key"]))
    deps = {name: col[order] for name, col in deps.items()}
    deps["cust"], deps["svc"] = deps["key"] // n_svc, deps["key"] % n_svc
    return log, deps


def _chunk(
    log: dict[str, np.ndarray], lo: int, hi: int, n_customers: int, ts: gr._Timestamps
) -> bytes:
    """CSV lines of rows ``lo:hi`` (gen_realistic's byte matrix, with the zone column)."""
    n = hi - lo
    id_width = max(7, len(str(len(log["start"]))))
    cust_width = max(5, len(str(n_customers - 1)))
    zones = gr._padded(("", *ZONES))  # row 0: no zone
    parts = [
        gr._const("INC-", n),
        gr._digits(np.arange(lo + 1, hi + 1, dtype=np.int64), id_width),
        gr._const(",cust-", n),
        gr._digits(log["cust"][lo:hi], cust_width),
        gr._const(",", n),
        gr._padded(gr.SERVICES)[log["svc"][lo:hi]],
        gr._const(",", n),
        zones[log["zone"][lo:hi] + 1],
        gr._const(",", n),
        ts(log["start"][lo:hi]),
        gr._const(",", n),
        ts(log["end"][lo:hi]),
        gr._const(",", n),
        gr._padded(gr.CATEGORIES)[log["category"][lo:hi]],
        gr._const(",", n),
        gr._padded(gr.IMPACTS)[log["impact"][lo:hi]],
        gr._const("\n", n),
    ]
    flat = np.concatenate(parts, axis=1).ravel()
    return flat[flat != 0].tobytes()


def _deployment_lines(deps: dict[str, np.ndarray], n_customers: int, ts: gr._Timestamps) -> bytes:
    n = len(deps["cust"])
    if not n:
        return b""
    cust_width = max(5, len(str(n_customers - 1)))
    parts = [
        gr._const("cust-", n),
        gr._digits(deps["cust"], cust_width),
        gr._const(",", n),
        gr._padded(gr.SERVICES)[deps["svc"]],
        gr._const(",", n),
        gr._padded(ZONES)[deps["zone"]],
        gr._const(",", n),
        ts(deps["start"]),
        gr._const(",", n),
        ts(deps["end"]),
        gr._const("\n", n),
    ]
    flat = np.concatenate(parts, axis=1).ravel()
    return flat[flat != 0].tobytes()


def write(log_path: Path, deployments_path: Path, rows: int, seed: int) -> tuple[Path, Path]:
    """Generate the log and its deployments and write both (LF line endings), atomically."""
    log, deps = generate(rows, seed)
    ts = gr._Timestamps()
    n_customers = gr.customer_count(rows)
    for path in (log_path, deployments_path):
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = log_path.with_name(log_path.name + ".tmp")
    with tmp.open("wb") as fh:
        fh.write((HEADER + "\n").encode())
        for lo in range(0, rows, gr.CHUNK):
            fh.write(_chunk(log, lo, min(rows, lo + gr.CHUNK), n_customers, ts))
    tmp.replace(log_path)
    tmp = deployments_path.with_name(deployments_path.name + ".tmp")
    with tmp.open("wb") as fh:
        fh.write((DEPLOYMENTS_HEADER + "\n").encode())
        fh.write(_deployment_lines(deps, n_customers, ts))
    tmp.replace(deployments_path)
    return log_path, deployments_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("-o", "--output", type=Path, required=True, help="the incident log")
    parser.add_argument("--deployments", type=Path, required=True, help="the deployments CSV")
    args = parser.parse_args(argv)
    write(args.output, args.deployments, args.rows, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
