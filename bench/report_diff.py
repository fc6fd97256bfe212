"""Compare two report CSVs: byte-identical, or where and in which numbers they differ.

    python bench/report_diff.py A.csv B.csv      # exit 0 when identical (in the columns both have)

Rows are matched by (customer_id, service, month).  The summary counts rows only in one file
and, for matched rows, differing values of each column; downtime, compensation and breached
are the ones the benchmark's contract is about.
"""

from __future__ import annotations

import csv
import filecmp
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

KEY = ("customer_id", "service", "month")
WATCHED = ("downtime_seconds", "compensation", "breached")


@dataclass
class ReportDiff:
    identical: bool
    shared: int = 0  # columns in both (one header a prefix of the other), identical row by row
    first: list[tuple[str, str, str]] = field(default_factory=list)  # (key, row a, row b)
    only_a: int = 0
    only_b: int = 0
    rows_a: int = 0
    rows_b: int = 0
    columns: Counter[str] = field(default_factory=Counter)  # column -> differing rows
    header_a: list[str] = field(default_factory=list)
    header_b: list[str] = field(default_factory=list)

    def summary(self, name_a: str, name_b: str) -> str:
        if self.identical:
            return "byte-identical"
        if self.shared:
            wider = name_a if len(self.header_a) > len(self.header_b) else name_b
            extra = abs(len(self.header_a) - len(self.header_b))
            return (
                f"identical in the {self.shared} shared columns, row by row and in order "
                f"({wider} has {extra} more columns after them)"
            )
        out = [f"DIFFER ({name_a}: {self.rows_a} rows, {name_b}: {self.rows_b} rows)"]
        if self.header_a != self.header_b:
            out.append(f"  header {name_a}: {','.join(self.header_a)}")
            out.append(f"  header {name_b}: {','.join(self.header_b)}")
        for key, a, b in self.first:
            out.append(f"  {key}:")
            out.append(f"    {name_a}: {a}")
            out.append(f"    {name_b}: {b}")
        watched = ", ".join(f"{c} {self.columns.get(c, 0)}" for c in WATCHED)
        out.append(f"  differing values in matched rows: {watched}")
        others = {c: n for c, n in self.columns.items() if c not in WATCHED}
        if others:
            out.append("  other columns: " + ", ".join(f"{c} {n}" for c, n in others.items()))
        out.append(f"  rows only in {name_a}: {self.only_a}, only in {name_b}: {self.only_b}")
        return "\n".join(out)


def _rows(path: Path) -> tuple[list[str], dict[tuple[str, ...], dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        header = list(reader.fieldnames or [])
        rows = {tuple(r.get(k, "") for k in KEY): r for r in reader}
    return header, rows


def compare_reports(a: Path, b: Path, *, limit: int = 5) -> ReportDiff:
    """Byte comparison first (cheap); the row-by-row summary only when the files differ.

    ``first`` holds the first ``limit`` differing rows in the order of ``a``, then rows only
    in ``b``."""
    if filecmp.cmp(a, b, shallow=False):
        return ReportDiff(identical=True)
    shared = _shared_prefix(a, b)
    if shared:
        diff = ReportDiff(identical=False, shared=shared)
        with a.open(encoding="utf-8", newline="") as fa, b.open(encoding="utf-8", newline="") as fb:
            diff.header_a, diff.header_b = next(csv.reader(fa)), next(csv.reader(fb))
        return diff
    diff = ReportDiff(identical=False)
    diff.header_a, rows_a = _rows(a)
    diff.header_b, rows_b = _rows(b)
    diff.rows_a, diff.rows_b = len(rows_a), len(rows_b)
    columns = [c for c in diff.header_a if c in diff.header_b and c not in KEY]

    def show(key: tuple[str, ...], a_row: dict[str, str] | None, b_row: dict[str, str] | None):
        if len(diff.first) < limit:
            a_text = ",".join(a_row.values()) if a_row else "<no such row>"
            b_text = ",".join(b_row.values()) if b_row else "<no such row>"
            diff.first.append(("/".join(key), a_text, b_text))

    for key, row_a in rows_a.items():
        row_b = rows_b.get(key)
        if row_b is None:
            diff.only_a += 1
            show(key, row_a, None)
            continue
        differing = [c for c in columns if row_a[c] != row_b[c]]
        diff.columns.update(differing)
        if differing:
            show(key, row_a, row_b)
    for key, row_b in rows_b.items():
        if key not in rows_a:
            diff.only_b += 1
            show(key, None, row_b)
    if not diff.first and diff.header_a == diff.header_b:  # same rows, other order or bytes
        diff.first.append(("order or formatting", "same rows, not the same bytes", ""))
    return diff


def _shared_prefix(a: Path, b: Path) -> int:
    """The number of leading columns both files have, when one header extends the other and
    every row agrees on those columns (same rows, same order); else 0."""
    with a.open(encoding="utf-8", newline="") as fa, b.open(encoding="utf-8", newline="") as fb:
        ra, rb = csv.reader(fa), csv.reader(fb)
        ha, hb = next(ra, []), next(rb, [])
        k = min(len(ha), len(hb))
        if not k or ha[:k] != hb[:k]:
            return 0
        for row_a, row_b in zip(ra, rb, strict=False):
            if row_a[:k] != row_b[:k]:
                return 0
        if next(ra, None) is not None or next(rb, None) is not None:
            return 0
    return k


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    a, b = Path(args[0]), Path(args[1])
    diff = compare_reports(a, b)
    print(diff.summary(a.name, b.name))
    return 0 if diff.identical or diff.shared else 1


if __name__ == "__main__":
    sys.exit(main())
