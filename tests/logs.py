"""One incident log written in every format slacalc reads, for tests that must hold for all."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import strategies as st

FORMATS = ("csv-rows", "csv-bulk", "jsonl", "parquet")
EXTENSIONS = {"csv-rows": ".csv", "csv-bulk": ".csv", "jsonl": ".jsonl", "parquet": ".parquet"}


def write_log(folder: Path, text: str, fmt: str, name: str = "incidents") -> Path:
    """The CSV log ``text`` (header first) as a file of format ``fmt``.

    JSON Lines keeps every value a string and drops empty cells (a missing key is an empty
    cell); Parquet stores every column as text, empty cells as nulls.
    """
    path = folder / (name + EXTENSIONS[fmt])
    if fmt.startswith("csv"):
        path.write_text(text, encoding="utf-8")
        return path
    rows = list(csv.DictReader(io.StringIO(text)))
    if fmt == "jsonl":
        path.write_text(
            "".join(json.dumps({k: v for k, v in r.items() if v != ""}) + "\n" for r in rows),
            encoding="utf-8",
        )
    else:
        header = next(csv.reader(io.StringIO(text)))
        table = pa.table({h: pa.array([r[h] or None for r in rows], pa.string()) for h in header})
        pq.write_table(table, path)
    return path


# --- random month-end logs: partial impacts, maintenance, data loss, '*' rows, policies, DST ---
# (shared by the tests that compare two ways of computing one report)

CUSTOMERS = ("acme", "globex", "initech", "*")
SERVICES = ("compute", "storage", "db")
POLICIES = ("", "standard", "aws-ec2-region", "azure-vm", "tencent-cvm")
CATEGORIES = ("outage", "outage", "maintenance", "data_loss", "excluded")
IMPACTS = ("", "", "0.5", "30%", "0.125")

incident = st.tuples(
    st.sampled_from(CUSTOMERS),
    st.sampled_from(SERVICES),
    st.sampled_from(CATEGORIES),
    st.sampled_from(IMPACTS),
    st.sampled_from(("2025-03", "2025-11", "2025-06")),
    st.integers(1, 30),
    st.integers(0, 23),
    st.integers(1, 600),  # minutes
    st.booleans(),  # ongoing
)
contract = st.tuples(
    st.sampled_from(("acme", "globex", "initech", "hooli")),
    st.sampled_from(("*", *SERVICES)),
    st.sampled_from(POLICIES),
    st.sampled_from(("100.00", "2500", "99.5")),
)


def log_text(rows: list[tuple]) -> str:
    from datetime import datetime, timedelta

    lines = ["incident_id,customer_id,service,category,impact,start,end"]
    for i, (cust, svc, cat, impact, month, day, hour, minutes, ongoing) in enumerate(rows):
        year, mon = map(int, month.split("-"))
        start = datetime(year, mon, min(day, 28), hour, 7)
        end = "" if ongoing and i % 3 == 0 else str(start + timedelta(minutes=minutes))
        lines.append(f"INC-{i},{cust},{svc},{cat},{impact},{start},{end}")
    return "\n".join(lines) + "\n"


def contracts_text(rows: list[tuple]) -> str:
    lines = ["customer_id,service,monthly_fee,currency,policy"]
    seen = set()
    for cust, svc, policy, fee in rows:
        if (cust, svc) not in seen:
            seen.add((cust, svc))
            lines.append(f"{cust},{svc},{fee},USD,{policy}")
    return "\n".join(lines) + "\n"


def star_case(folder: Path, *, wildcard: bool = True) -> list[str]:
    """A log and contracts with customer '*' rows (one of a service nobody has), a customer's
    own rows merged with '*' rows, a contract without incidents, DST in New York: the report's
    arguments, written into ``folder``. With ``wildcard``, acme's first contract is ``*``."""
    rows = [
        ("*", "db", "outage", "", "2025-03", 9, 1, 300, False),
        ("*", "storage", "outage", "0.5", "2025-03", 9, 1, 300, False),
        ("acme", "storage", "outage", "", "2025-03", 9, 3, 120, False),
        ("globex", "compute", "data_loss", "", "2025-11", 2, 1, 90, False),
        ("globex", "compute", "maintenance", "", "2025-11", 2, 0, 240, False),
    ]
    (folder / "incidents.csv").write_text(log_text(rows), encoding="utf-8")
    deals = [
        ("acme", "*" if wildcard else "compute", "aws-ec2-region", "100.00"),
        ("acme", "storage", "azure-vm", "2500"),
        ("globex", "compute", "tencent-cvm", "99.5"),
        ("hooli", "compute", "", "100.00"),
    ]
    (folder / "contracts.csv").write_text(contracts_text(deals), encoding="utf-8")
    args = [str(folder / "incidents.csv"), "--contracts", str(folder / "contracts.csv")]
    return [*args, "--tz", "America/New_York", "--calendar", "US", "--as-of", "2025-11-02T02:00:00"]
