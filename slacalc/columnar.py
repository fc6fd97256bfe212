"""A columnar fast path for large incident logs: pyarrow reads, numpy merges.

It computes exactly what the row-by-row reader and engine compute (the tests compare the two on
random logs), in integer microseconds, never floats. It takes a file only when it can vouch for
the result: plain UTF-8 CSV without quotes or blank lines (so a row's line number is its index
plus two), every row valid. Anything else, a bad row included, returns None and the caller uses
the row-by-row reader, which also produces the exact ``FILE:LINE`` messages.

Keys whose rows are all outages or data losses at impact 1 (the bulk of a real log) are merged
in numpy; the few keys with partial impacts or maintenance windows go through the row engine.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from fractions import Fraction
from typing import Any

from slacalc.csvread import open_csv
from slacalc.engine import ArrayUsage, MonthUsage, key_usage
from slacalc.errors import InputError
from slacalc.incidents import (
    CATEGORIES,
    COLUMNS,
    DOWN_CATEGORIES,
    Incident,
    Key,
    parse_category,
    parse_impact,
)
from slacalc.periods import MonthGrid
from slacalc.timeparse import MAX_US, MIN_US, InstantParser

# Below this many bytes the row reader is as fast (and pyarrow's import is not worth it).
MIN_BYTES = int(os.environ.get("SLACALC_COLUMNAR_MIN_BYTES", 4_000_000))

_US_PER_DAY = 86_400_000_000
_CODES = {name: i for i, name in enumerate(CATEGORIES)}  # outage 0, data_loss 1, ...
_DOWN_CODES = tuple(_CODES[c] for c in DOWN_CATEGORIES)


def available() -> bool:
    """Whether pyarrow and numpy can be imported here."""
    try:
        import numpy  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass
class _File:
    name: str
    first_row: int  # index of the file's first row in the log's arrays


class ColumnarLog:
    """Incidents as columns: one numpy array per field, keys as small integers."""

    def __init__(self, np: Any) -> None:
        self.np = np
        self.keys: list[Key] = []
        self.files: list[_File] = []
        self.key_idx: Any = None  # int64 per row
        self.start: Any = None  # int64 epoch microseconds
        self.end: Any = None  # int64, meaningless where ongoing
        self.ongoing: Any = None  # bool
        self.category: Any = None  # int8 code into CATEGORIES
        self.impact_idx: Any = None  # int32 into self.impacts
        self.impacts: list[Fraction | int] = []
        self.ids: list[Any] = []  # per file: the incident_id arrow array (or None)
        self.lines: Any = None  # int64 line numbers

    def __len__(self) -> int:
        return len(self.start)

    # --- the log protocol used by compute_report ---
    def span(self, as_of: int) -> tuple[int, int] | None:
        np = self.np
        ends = np.where(self.ongoing, np.maximum(self.start, as_of), self.end)
        real = ends > self.start
        if not real.any():
            return None
        return int(self.start[real].min()), int(ends[real].max())

    def first_incident(self, key: Key) -> Incident:
        k = self.keys.index(key)
        row = int(self.np.flatnonzero(self.key_idx == k)[0])
        return self.incident(row)

    def incidents_of(self, category: str) -> list[Incident]:
        """The rows of ``category`` grouped by key (keys in order of appearance), as read."""
        np = self.np
        rows = np.flatnonzero(self.category == _CODES[category])
        rows = rows[np.argsort(self.key_idx[rows], kind="stable")]
        return [self.incident(int(r)) for r in rows]

    def usage(self, grid: MonthGrid, as_of: int) -> ArrayUsage:
        """Per key and month of ``grid``: exactly ``key_usage`` of the key's incidents."""
        np = self.np
        n_keys = len(self.keys)
        # A key is simple when all its rows are outages/data losses at impact 1.
        one = self.impacts.index(1) if 1 in self.impacts else -1
        row_simple = np.isin(self.category, _DOWN_CODES) & (self.impact_idx == one)
        complex_key = np.zeros(n_keys, dtype=bool)
        complex_key[self.key_idx[~row_simple]] = True
        out: dict[Key, dict[int, MonthUsage]] = {}
        simple_rows = ~complex_key[self.key_idx]
        cells, downtime, counts = _simple_usage(np, self, simple_rows, grid, as_of)
        # The others through the row engine, their rows grouped by key with one sort.
        rows = np.flatnonzero(complex_key[self.key_idx])
        rows = rows[np.argsort(self.key_idx[rows], kind="stable")]
        if len(rows):
            owner = self.key_idx[rows]
            firsts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]]).tolist()
            for a, b in zip(firsts, [*firsts[1:], len(rows)], strict=True):
                incidents = [self.incident(r) for r in rows[a:b].tolist()]
                out[self.keys[int(owner[a])]] = key_usage(incidents, grid, as_of)
        return ArrayUsage(self.keys, len(grid.months), cells, downtime, counts, out)

    # --- rows as Incident tuples, for the few places that need them ---
    def incident(self, row: int) -> Incident:
        f = self._file_of(row)
        ids = self.ids[self.files.index(f)]
        incident_id = "" if ids is None else ids[row - f.first_row].as_py().strip()
        key = self.keys[int(self.key_idx[row])]
        return Incident(
            int(self.start[row]),
            None if self.ongoing[row] else int(self.end[row]),
            key[0],
            key[1],
            incident_id,
            CATEGORIES[int(self.category[row])],
            self.impacts[int(self.impact_idx[row])],
            f.name,
            int(self.lines[row]),
            "",
            "",
        )

    def _file_of(self, row: int) -> _File:
        found = self.files[0]
        for f in self.files:
            if f.first_row <= row:
                found = f
        return found


def read_columnar(paths: Sequence[str], tz: tzinfo) -> ColumnarLog | None:
    """Read incident logs column-wise, or None when the row reader must do it."""
    if not available():
        return None
    import numpy as np

    parts = []
    for path in paths:
        try:
            f = open_csv(path, required=("start",), known=COLUMNS)
        except InputError:
            return None  # the row reader reports it
        part = _read_file(np, f, tz)
        if part is None:
            return None
        parts.append(part)
    return _combine(np, parts)


def _read_file(np: Any, f: Any, tz: tzinfo) -> dict[str, Any] | None:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    data: bytes = f.data
    # Blank lines would shift line numbers; a lone CR would end a row for pyarrow but not a
    # line for us; quotes are taken only in the plain form both parsers read alike.
    if b"\n\n" in data or b"\n\r\n" in data:
        return None
    if b'"' in data and not _plain_quotes(np, data):
        return None
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return None
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    # pyarrow reads the file itself: the bytes need not stay in memory beside its columns.
    f.data = b""
    del data
    width = len(f.header)
    names = [f"c{i}" for i in range(width)]
    wanted = {c: f.column(c) for c in COLUMNS if f.column(c) is not None}
    try:
        table = pcsv.read_csv(
            f.name,
            read_options=pcsv.ReadOptions(column_names=names, skip_rows=1, use_threads=True),
            parse_options=pcsv.ParseOptions(
                quote_char='"', double_quote=False, newlines_in_values=False
            ),
            convert_options=pcsv.ConvertOptions(
                column_types={f"c{i}": pa.string() for i in wanted.values()},
                include_columns=[f"c{i}" for i in wanted.values()],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException, OSError):
        return None
    n = table.num_rows
    if n != lines - 1:
        return None  # some line was not a row (pyarrow skipped it): let the row reader say why

    def column(name: str) -> Any:
        """The column as one array, dropped from the table so only one copy lives."""
        nonlocal table
        i = wanted.get(name)
        if i is None:
            return None
        col = table.column(f"c{i}").combine_chunks()
        table = table.drop_columns([f"c{i}"])
        return col

    instant = InstantParser(tz)
    start = _instants(np, pc, column("start"), instant, n, allow_empty=False)
    if start is None:
        return None
    end_col = column("end")
    if end_col is None:
        end, ongoing = np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool)
    else:
        ends = np.frombuffer(end_col.buffers()[1], dtype=np.int32, count=n + 1,
                             offset=end_col.offset * 4)  # fmt: skip
        ongoing = np.diff(ends) == 0
        end = _instants(np, pc, end_col, instant, n, allow_empty=True)
        del end_col
        if end is None:
            return None
    if ((end < start) & ~ongoing).any():
        return None
    category = _codes(np, column("category"), n, parse_category, CATEGORIES)
    impact = _codes(np, column("impact"), n, parse_impact, None)
    if category is None or impact is None:
        return None
    cust_codes, customers = _values(np, column("customer_id"), n)
    svc_codes, services = _values(np, column("service"), n)
    pair, first_row, key_codes = np.unique(
        cust_codes * len(services) + svc_codes, return_index=True, return_inverse=True
    )
    # Number the keys in the order they first appear, as the row reader's dict does: the
    # order of error messages and deadlines must not depend on the reader.
    by_appearance = np.argsort(first_row, kind="stable")
    renumber = np.empty_like(by_appearance)
    renumber[by_appearance] = np.arange(len(by_appearance))
    key_codes = renumber[key_codes]
    pair = pair[by_appearance]
    keys = [
        (customers[p // len(services)].strip(), services[p % len(services)].strip())
        for p in pair.tolist()
    ]
    return {
        "name": f.name,
        "n": n,
        "start": start,
        "end": end,
        "ongoing": ongoing,
        "category": category[0],
        "impact_codes": impact[0],
        "impacts": impact[1],
        "key_codes": key_codes.astype(np.int64),
        "keys": keys,
        "ids": column("incident_id"),
    }


def _plain_quotes(np: Any, data: bytes) -> bool:
    """Whether every quote in ``data`` opens or closes a whole cell, ``"like, this"``.

    Such cells (no quote or line break inside, nothing between the quotes and the commas) are
    read alike by pyarrow and Python's csv module; anything else takes the row reader. The
    file is checked in blocks cut at line breaks, which a plain quoted cell never spans.
    """
    raw = np.frombuffer(data, dtype=np.uint8)
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    size = len(raw)
    lo = 0
    while lo < size:
        hi = data.find(b"\n", min(lo + (8 << 20), size))
        hi = size if hi < 0 else hi + 1
        block = raw[lo:hi]
        quotes = np.flatnonzero(block == 34).astype(np.int64) + lo
        if len(quotes) % 2:
            return False
        if len(quotes):
            opens, closes = quotes[0::2], quotes[1::2]
            before = raw[np.maximum(opens - 1, 0)]
            after = raw[np.minimum(closes + 1, size - 1)]
            if not (((opens == start) | (before == 44) | (before == 10)).all()
                    and ((closes == size - 1) | (after == 44) | (after == 10)
                         | (after == 13)).all()):  # fmt: skip
                return False
            breaks = np.flatnonzero((block == 10) | (block == 13)) + lo
            if not (np.searchsorted(breaks, opens) == np.searchsorted(breaks, closes)).all():
                return False
        lo = hi
    return True


def _values(np: Any, col: Any, n: int) -> tuple[Any, list[str]]:
    """Dictionary codes (int64) and distinct values of a text column ('' when absent)."""
    if col is None:
        return np.zeros(n, dtype=np.int64), [""]
    encoded = col.dictionary_encode()
    codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    return codes, encoded.dictionary.to_pylist()


_CHUNK = 1 << 17  # rows per block: bounds the memory of the byte-level parse
# The forms parsed in bulk, by cell length: (seconds written?, digits of fraction, zone), for
# YYYY-MM-DD HH:MM[:SS[.fff|.ffffff]] (or with T) followed by nothing (local time in the
# billing zone), Z, or an offset like +08:00. Anything else goes through InstantParser.
_FORMS = {
    16 + (3 if seconds else 0) + (1 + frac if frac else 0) + len(zone_text): (seconds, frac, zone)
    for seconds in (False, True)
    for frac in ((0, 3, 6) if seconds else (0,))
    for zone, zone_text in (("local", ""), ("utc", "Z"), ("offset", "+08:00"))
}
_MONTH_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _instants(
    np: Any, pc: Any, col: Any, instant: InstantParser, n: int, *, allow_empty: bool
) -> Any:
    """Epoch microseconds of a timestamp column; None if some cell is not valid.

    The ISO forms of ``_FORMS`` are parsed from the column's bytes in numpy and checked field
    by field (so ``2025-02-30`` is refused as fromisoformat refuses it); every other form, and
    every local time on a day with a DST switch, goes through ``InstantParser`` row by row.
    """
    buffers = col.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int32, count=n + 1, offset=col.offset * 4)
    data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else None
    lengths = np.diff(offsets)
    out = np.zeros(n, dtype=np.int64)
    empty = lengths == 0
    if empty.any() and not allow_empty:
        return None
    slow = ~empty
    if data is not None:
        for lo in range(0, n, _CHUNK):
            hi = min(n, lo + _CHUNK)
            chunk_lengths = lengths[lo:hi]
            for width, (seconds, frac, zone) in _FORMS.items():
                rows = np.flatnonzero(chunk_lengths == width)
                if not len(rows):
                    continue
                first, last = int(offsets[lo]), int(offsets[hi])
                if last - first == width * len(rows):  # only such cells (and empty ones)
                    b = data[first:last].reshape(-1, width)
                else:
                    b = data[offsets[lo:hi][rows][:, None] + np.arange(width, dtype=np.int32)]
                parsed = _parse_block(np, b, seconds, frac, zone, instant)
                if parsed is None:
                    continue
                valid, us = parsed
                out[lo:hi][rows[valid]] = us[valid]
                slow[lo:hi][rows[valid]] = False
    for row in np.flatnonzero(slow).tolist():
        try:
            out[row] = instant(col[row].as_py())
        except (ValueError, OverflowError):
            return None
    checked = out[~empty]
    if len(checked) and (checked.min() < MIN_US or checked.max() > MAX_US):
        return None
    return out


def _parse_block(
    np: Any, b: Any, seconds: bool, frac: int, zone: str, instant: InstantParser
) -> tuple[Any, Any] | None:
    """(valid, epoch microseconds) of fixed-width ISO cells, one row of bytes each."""
    digit_at = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15] + ([17, 18] if seconds else [])
    digits = b[:, digit_at].astype(np.int32) - 48
    valid = ((digits >= 0) & (digits <= 9)).all(axis=1)
    valid &= (b[:, 4] == 45) & (b[:, 7] == 45) & ((b[:, 10] == 32) | (b[:, 10] == 84))
    valid &= b[:, 13] == 58
    if seconds:
        valid &= b[:, 16] == 58
    y = digits[:, 0] * 1000 + digits[:, 1] * 100 + digits[:, 2] * 10 + digits[:, 3]
    mo = digits[:, 4] * 10 + digits[:, 5]
    d = digits[:, 6] * 10 + digits[:, 7]
    h = digits[:, 8] * 10 + digits[:, 9]
    mi = digits[:, 10] * 10 + digits[:, 11]
    sec = digits[:, 12] * 10 + digits[:, 13] if seconds else 0
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    dim = np.array(_MONTH_DAYS, dtype=np.int32)[np.clip(mo, 0, 12)] + ((mo == 2) & leap)
    valid &= (y >= 1) & (mo >= 1) & (mo <= 12) & (d >= 1) & (d <= dim)
    valid &= (h <= 23) & (mi <= 59) & (sec <= 59)
    if not valid.any():
        return None
    # Days since the epoch of the civil date (H. Hinnant's days_from_civil), exact.
    yy = y - (mo <= 2)
    era = np.where(yy >= 0, yy, yy - 399) // 400
    yoe = yy - era * 400
    doy = (153 * (mo + np.where(mo > 2, -3, 9)) + 2) // 5 + d - 1
    days = np.where(valid, era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468, 0)
    wall = days.astype(np.int64) * _US_PER_DAY + (
        (h * 60 + mi) * 60 + sec
    ).astype(np.int64) * 1_000_000
    end = 19 if seconds else 16
    if frac:  # .fff or .ffffff: milliseconds or microseconds
        valid &= b[:, end] == 46
        fraction = np.zeros(len(b), dtype=np.int64)
        for i in range(end + 1, end + 1 + frac):
            digit = b[:, i].astype(np.int64) - 48
            valid &= (digit >= 0) & (digit <= 9)
            fraction = fraction * 10 + digit
        wall = wall + fraction * 10 ** (6 - frac)
        end += 1 + frac
    if zone == "utc":
        valid &= b[:, end] == 90  # Z
        return valid, wall
    if zone == "offset":
        sign = b[:, end]
        oh = (b[:, end + 1].astype(np.int32) - 48) * 10 + b[:, end + 2] - 48
        om = (b[:, end + 4].astype(np.int32) - 48) * 10 + b[:, end + 5] - 48
        valid &= ((sign == 43) | (sign == 45)) & (b[:, end + 3] == 58)
        for i in (1, 2, 4, 5):
            valid &= (b[:, end + i] >= 48) & (b[:, end + i] <= 57)
        valid &= (oh <= 23) & (om <= 59)
        off = (oh * 3600 + om * 60).astype(np.int64) * 1_000_000
        return valid, wall - np.where(sign == 45, -off, off)
    # Local time in the billing zone: its offset per distinct day, unless the day has a switch.
    day_keys, inverse = np.unique(days, return_inverse=True)
    day_offsets = np.zeros(len(day_keys), dtype=np.int64)
    switch = np.zeros(len(day_keys), dtype=bool)
    for i, day in enumerate(day_keys.tolist()):
        off = instant.offset_on_day(int(day))
        if off is None:
            switch[i] = True
        else:
            day_offsets[i] = off
    return valid & ~switch[inverse], wall - day_offsets[inverse]


def _codes(
    np: Any, col: Any, n: int, parse: Any, names: Sequence[str] | None
) -> tuple[Any, list[Any]] | None:
    """Per-row codes of a small-vocabulary column, parsed once per distinct value."""
    if col is None:
        value = parse("")
        values = [value]
        codes = np.zeros(n, dtype=np.int32)
    else:
        encoded = col.dictionary_encode()
        values = []
        try:
            values = [parse(v) for v in encoded.dictionary.to_pylist()]
        except ValueError:
            return None
        codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int32)
    if names is not None:  # categories: codes into CATEGORIES
        table = np.array([names.index(v) for v in values], dtype=np.int8)
        return table[codes], list(names)
    # impacts: dedupe equal values written differently ("1", "100%", "")
    unique: list[Any] = []
    remap = []
    for v in values:
        if v not in unique:
            unique.append(v)
        remap.append(unique.index(v))
    return np.array(remap, dtype=np.int32)[codes], unique


def _combine(np: Any, parts: list[dict[str, Any]]) -> ColumnarLog:
    log = ColumnarLog(np)
    key_ids: dict[Key, int] = {}
    impacts: list[Any] = []
    key_idx, impact_idx, lines = [], [], []
    first = 0
    for p in parts:
        kmap = np.array([key_ids.setdefault(k, len(key_ids)) for k in p["keys"]], dtype=np.int64)
        key_idx.append(kmap[p["key_codes"]] if len(kmap) else p["key_codes"])
        imap = []
        for v in p["impacts"]:
            if v not in impacts:
                impacts.append(v)
            imap.append(impacts.index(v))
        impact_idx.append(np.array(imap, dtype=np.int32)[p["impact_codes"]])
        lines.append(np.arange(2, p["n"] + 2, dtype=np.int64))
        log.files.append(_File(p["name"], first))
        log.ids.append(p["ids"])
        first += p["n"]
    log.keys = list(key_ids)
    log.impacts = impacts
    log.key_idx = np.concatenate(key_idx)
    log.impact_idx = np.concatenate(impact_idx)
    log.lines = np.concatenate(lines)
    log.start = np.concatenate([p["start"] for p in parts])
    log.end = np.concatenate([p["end"] for p in parts])
    log.ongoing = np.concatenate([p["ongoing"] for p in parts])
    log.category = np.concatenate([p["category"] for p in parts])
    return log


def _simple_usage(
    np: Any, log: ColumnarLog, rows: Any, grid: MonthGrid, as_of: int
) -> tuple[Any, Any, Any]:
    """Interval union per key and split by month, for keys of outages at impact 1.

    Returns the sorted cells ``key * n_months + month`` that some row overlaps, with their
    downtime in microseconds and their incident count.
    """
    edges = np.array(grid.edges, dtype=np.int64)
    lo, hi = int(edges[0]), int(edges[-1])
    n_months = len(grid.months)
    key = log.key_idx[rows]
    s = log.start[rows]
    e = np.where(log.ongoing[rows], np.maximum(s, as_of), log.end[rows])
    np.maximum(s, lo, out=s)
    np.minimum(e, hi, out=e)
    real = e > s
    if not real.all():
        key, s, e = key[real], s[real], e[real]
    del real
    if not len(key):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    # incident_count: every month each row overlaps.
    first = np.searchsorted(edges, s, side="right") - 1
    extra = np.searchsorted(edges, e - 1, side="right") - 1 - first
    cells, counts = _expand_count(np, key * n_months + first, extra)
    del first, extra
    # The union per key: sort by (key, start), a running max of the ends within the key.
    order = np.lexsort((s, key))
    key, s, e = key[order], s[order], e[order]
    del order
    reach = _running_max_per_key(np, key, e, lo, hi)
    del e
    new_group = np.empty(len(key), dtype=bool)
    new_group[0] = True
    np.not_equal(key[1:], key[:-1], out=new_group[1:])
    new_group[1:] |= s[1:] > reach[:-1]
    starts = np.flatnonzero(new_group)
    del new_group
    ends_at = np.append(starts[1:] - 1, len(key) - 1)
    mk, ms, me = key[starts], s[starts], reach[ends_at]
    del key, s, reach, starts, ends_at
    # Split the merged windows at month edges and sum per (key, month).
    f = np.searchsorted(edges, ms, side="right") - 1
    span = np.searchsorted(edges, me - 1, side="right") - 1 - f
    flat, pieces = [], []
    for k in range(int(span.max()) + 1):
        sel = span >= k
        m = f[sel] + k
        piece = np.minimum(me[sel], edges[m + 1]) - np.maximum(ms[sel], edges[m])
        flat.append(mk[sel] * n_months + m)
        pieces.append(piece)
    flat_all = np.concatenate(flat)
    piece_all = np.concatenate(pieces)
    del flat, pieces, mk, ms, me, f, span
    order = np.argsort(flat_all, kind="stable")
    flat_all, piece_all = flat_all[order], piece_all[order]
    boundaries = np.flatnonzero(np.r_[True, flat_all[1:] != flat_all[:-1]])
    downtime = np.zeros(len(cells), dtype=np.int64)
    # Every cell with downtime is a cell some row overlaps: place the sums among the cells.
    downtime[np.searchsorted(cells, flat_all[boundaries])] = np.add.reduceat(
        piece_all, boundaries
    )
    return cells, downtime, counts.astype(np.int64)


def _running_max_per_key(np: Any, key: Any, e: Any, lo: int, hi: int) -> Any:
    """For rows sorted by key, the running maximum of ``e`` within each key's rows.

    numpy has no segmented accumulate, so each key is lifted above the previous ones
    (``rank * width``) and one running max does them all; keys are taken in batches small
    enough that the lifted values stay inside int64.
    """
    width = hi - lo + 1
    per_batch = max(1, (2**62) // width)
    out = np.empty_like(e)
    bounds = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])  # first row of each key
    for b in range(0, len(bounds), per_batch):
        r0 = int(bounds[b])
        r1 = int(bounds[b + per_batch]) if b + per_batch < len(bounds) else len(key)
        rank = key[r0:r1] - key[r0]
        if int(rank[-1]) >= per_batch:  # keys are not dense here: rank them
            rank = np.cumsum(np.r_[0, key[r0 + 1:r1] != key[r0:r1 - 1]])
        lift = rank.astype(np.int64) * width
        out[r0:r1] = np.maximum.accumulate(lift + (e[r0:r1] - lo)) - lift + lo
    return out


def _expand_count(np: Any, first_cell: Any, extra: Any) -> tuple[Any, Any]:
    """Count rows per cell, a row covering ``first_cell .. first_cell + extra``."""
    cells = [first_cell]
    for k in range(1, int(extra.max()) + 1 if len(extra) else 1):
        cells.append(first_cell[extra >= k] + k)
    return np.unique(np.concatenate(cells), return_counts=True)


def iter_rows(log: ColumnarLog) -> Iterable[Incident]:
    """Every row as an Incident (slow; for tests and debugging)."""
    for row in range(len(log)):
        yield log.incident(row)
