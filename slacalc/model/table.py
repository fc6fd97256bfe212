"""The incident table: the one form every reader produces and the engine consumes.

Each column is an array, one entry per incident: the key, start and end as integer microseconds,
the category, the exact impact, and where the row came from (file and line). A reader's only
job is to get each file's cells as text (:class:`RawPart`); :func:`build_table` gives them their
meaning, with the same rules for every reader, so which reader took a file decides only speed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import tzinfo
from fractions import Fraction
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from slacalc import speed
from slacalc.dates.instants import parse_instants
from slacalc.errors import Problem
from slacalc.model.cells import CATEGORIES, MAX_CELL, ZONE, parse_category, parse_impact

Key = tuple[str, str]
NO_END = np.iinfo(np.int64).max  # the end of an ongoing incident: counted up to --as-of

# The text columns of a part, in the order problems of one row are reported.
_TYPED = ("start", "end", "category", "impact")
_TEXT = ("customer_id", "service", "incident_id", "source")
_COLUMNS = (*_TYPED, *_TEXT)
# The columns of few distinct words, taken through those words: a reader may give them as
# dictionary arrays (the CSV reader's threads number the words as they parse).
CODED = ("customer_id", "service", "category", "impact", "source", ZONE)


@dataclass
class RawPart:
    """One file's incident cells as text, before they mean anything.

    ``cells`` maps a column name to a pyarrow string array, whole or in chunks (null or "" =
    empty; a column of :data:`CODED` may be a dictionary array); a column the file does not
    have is absent. ``lines`` holds each row's line number in the file (0 where the format has
    none).
    """

    name: str
    lines: Any  # int64 array
    cells: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.lines)


class Incident(NamedTuple):
    """One row of an incident table, for display and audit (the engine never builds these)."""

    start: int
    end: int | None  # None: ongoing
    customer_id: str
    service: str
    incident_id: str
    category: str
    impact: Fraction | int
    source: str  # the file
    line: int
    start_text: str = ""
    end_text: str = ""
    origin: str = ""  # the "source" column of imported rows (format and file)
    zone: str = ""  # the zone it downs ("": the whole key)

    @property
    def key(self) -> Key:
        return (self.customer_id, self.service)


@dataclass
class IncidentTable:
    """Incidents as columns. Rows keep the order they were read in.

    Keys are the distinct (customer_id, service) pairs, in order of first appearance, held as
    two string arrays; ``key`` numbers each row's. ``keys`` gives them as Python tuples.
    """

    key_customer: Any  # pyarrow string array: each key's customer
    key_service: Any  # pyarrow string array: each key's service
    key: Any  # int64: index of each row's key
    start: Any  # int64 epoch microseconds
    end: Any  # int64 epoch microseconds; NO_END while ongoing
    category: Any  # int8: index into cells.CATEGORIES
    impact: Any  # int32: index into impacts
    impacts: list[Fraction | int]  # exact shares 0 < impact <= 1
    file: Any  # int32: index into files
    files: list[str]
    line: Any  # int64: line in its file (0: none)
    incident_id: Any  # pyarrow string array
    source: Any = None  # pyarrow string array (imports' provenance) or None
    start_text: Any = None  # pyarrow string arrays of the cells as read (explain), or None
    end_text: Any = None
    # pyarrow string array: the zone each row downs ("" or null: the whole key); None when no
    # file had a zone column. Only a policy's [redundancy] gives it a meaning
    # (slacalc.computing.redundancy); otherwise every row downs its whole key.
    zone: Any = None
    # The keys as numbers into their distinct customers and services, when the join that
    # numbered them kept those: (customers, each key's customer, services, each key's service).
    # Sorting the keys then hashes nothing (see key_order).
    key_words: Any = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.start)

    @property
    def n_keys(self) -> int:
        return len(self.key_customer)

    @cached_property
    def keys(self) -> list[Key]:
        """The keys as ``(customer_id, service)`` tuples (built on first use)."""
        return list(zip(self.key_customer.to_pylist(), self.key_service.to_pylist(), strict=True))

    def key_order(self) -> Any:
        """The order that sorts the keys by (customer, service), as Python sorts the tuples."""
        if self.key_words is None:
            return sort_order(self.key_customer, self.key_service)
        return _by_ranks(*self.key_words)

    @classmethod
    def empty(cls) -> IncidentTable:
        z = np.zeros(0, dtype=np.int64)
        s = pa.array([], pa.string())
        return cls(
            s, s, z, z, z, z.astype(np.int8), z.astype(np.int32), [], z.astype(np.int32), [], z, s
        )

    def take(self, rows: Any) -> IncidentTable:
        """The rows at ``rows`` (an index array), keys renumbered in order of appearance."""
        rows = np.asarray(rows, dtype=np.int64)
        kept, key = speed.numbered(self.key[rows], self.n_keys)
        used = pa.array(kept)
        index = pa.array(rows)

        def text(col: Any) -> Any:
            return None if col is None else col.take(index)

        return replace(
            self,
            key_customer=self.key_customer.take(used),
            key_service=self.key_service.take(used),
            key=key,
            start=self.start[rows],
            end=self.end[rows],
            category=self.category[rows],
            impact=self.impact[rows],
            file=self.file[rows],
            line=self.line[rows],
            incident_id=self.incident_id.take(index),
            source=text(self.source),
            start_text=text(self.start_text),
            end_text=text(self.end_text),
            zone=text(self.zone),
            key_words=None,  # the keys are renumbered
        )

    def relabel(self, key: Key) -> IncidentTable:
        """The same rows, all under one key (a customer-wide row copied to a customer)."""
        return replace(
            self,
            key_customer=pa.array([key[0]], pa.string()),
            key_service=pa.array([key[1]], pa.string()),
            key=np.zeros(len(self), dtype=np.int64),
            key_words=None,
        )

    def rows_of(self, key: Key) -> Any:
        """The row indices of one key, in read order (empty when the key has none)."""
        k = self.key_index(key)
        return np.zeros(0, dtype=np.int64) if k < 0 else np.flatnonzero(self.key == k)

    def key_index(self, key: Key) -> int:
        """The number of ``key`` in this table, or -1."""
        hit = pc.and_(pc.equal(self.key_customer, key[0]), pc.equal(self.key_service, key[1]))
        found = np.flatnonzero(np.asarray(hit))
        return int(found[0]) if len(found) else -1

    def incident(self, row: int) -> Incident:
        """One row as an :class:`Incident` (slow; for display)."""
        end = int(self.end[row])
        k = int(self.key[row])
        customer, service = self.key_customer[k].as_py(), self.key_service[k].as_py()

        def text(col: Any) -> str:
            if col is None:
                return ""
            value = col[row].as_py()
            return "" if value is None else value.strip()

        return Incident(
            int(self.start[row]),
            None if end == NO_END else end,
            customer,
            service,
            text(self.incident_id),
            CATEGORIES[int(self.category[row])],
            self.impacts[int(self.impact[row])],
            self.files[int(self.file[row])],
            int(self.line[row]),
            text(self.start_text),
            text(self.end_text),
            text(self.source),
            text(self.zone),
        )

    def incidents(self, rows: Any = None) -> list[Incident]:
        rows = range(len(self)) if rows is None else np.asarray(rows).tolist()
        return [self.incident(int(r)) for r in rows]

    def __iter__(self) -> Any:
        """Every row as an :class:`Incident`, in read order (slow; for small logs and tests)."""
        return iter(self.incidents())

    @property
    def by_key(self) -> dict[Key, list[Incident]]:
        """The incidents of each key, keys in order of first appearance (slow; small logs)."""
        out: dict[Key, list[Incident]] = {key: [] for key in self.keys}
        for inc in self:
            out[inc.key].append(inc)
        return out

    def where(self, row: int) -> str:
        """Where a row was read: ``file:line``."""
        return f"{self.files[int(self.file[row])]}:{int(self.line[row])}"

    def first_row(self, key_index: int) -> int:
        return int(np.flatnonzero(self.key == key_index)[0])


def concat_tables(tables: Sequence[IncidentTable]) -> IncidentTable:
    """One table of several, rows in order, keys and impacts merged in order of appearance."""
    tables = [t for t in tables if len(t) or t.n_keys]
    if not tables:
        return IncidentTable.empty()
    if len(tables) == 1:
        return tables[0]

    def cat(name: str) -> Any:
        cols = [getattr(t, name) for t in tables]
        if all(c is None for c in cols):
            return None
        return pa.concat_arrays(
            [
                c if c is not None else pa.nulls(len(t), pa.string())
                for c, t in zip(cols, tables, strict=True)
            ]
        )

    impacts: dict[Fraction | int, int] = {}
    files: list[str] = []
    imp_maps, file_maps = [], []
    for t in tables:
        imp_maps.append(
            np.array([impacts.setdefault(v, len(impacts)) for v in t.impacts] or [0], np.int32)
        )
        file_maps.append(np.array([index_of(files, f) for f in t.files] or [0], dtype=np.int32))

    def columns() -> dict[str, Any]:
        return {
            "start": np.concatenate([t.start for t in tables]),
            "end": np.concatenate([t.end for t in tables]),
            "category": np.concatenate([t.category for t in tables]),
            "impact": np.concatenate([m[t.impact] for m, t in zip(imp_maps, tables, strict=True)]),
            "file": np.concatenate([m[t.file] for m, t in zip(file_maps, tables, strict=True)]),
            "line": np.concatenate([t.line for t in tables]),
            **{name: cat(name) for name in _TEXT_COLUMNS},
        }

    # every column but the keys is joined on a thread of its own while the keys are numbered
    joined = speed.meanwhile(columns)
    if all(t.key_words is not None for t in tables):
        customers, services, codes, words = _joined_keys(tables)
    else:
        customers, services, codes, words = _pairs(
            pa.concat_arrays([t.key_customer for t in tables]),
            pa.concat_arrays([t.key_service for t in tables]),
        )
    key_cols = []
    offset = 0
    for t in tables:
        key_map = codes[offset : offset + t.n_keys]
        offset += t.n_keys
        key_cols.append(key_map[t.key] if len(key_map) else t.key)
    return IncidentTable(
        key_customer=customers,
        key_service=services,
        key=np.concatenate(key_cols).astype(np.int64, copy=False),
        impacts=list(impacts),
        files=files,
        key_words=words,
        **joined(),
    )


# An incident table's columns of text as written (None: not kept).
_TEXT_COLUMNS = ("incident_id", "source", "start_text", "end_text", "zone")


def key_positions(table: IncidentTable, customers: Any, services: Any) -> Any:
    """Where each (customer, service) pair of the string arrays ``customers`` and
    ``services`` is among ``table``'s keys (-1: not a key of it), hashing the distinct words
    once (no Python tuple per key)."""
    if not len(customers):
        return np.zeros(0, dtype=np.int64)
    have, want = _pair_codes(
        (_array(table.key_customer), _array(table.key_service)),
        (_array(customers), _array(services)),
    )
    if not len(have):
        return np.full(len(want), -1, dtype=np.int64)
    order = np.argsort(have, kind="stable")
    at = np.minimum(np.searchsorted(have[order], want), len(have) - 1)
    return np.where(have[order][at] == want, order[at], -1)


def _pair_codes(*pairs: tuple[Any, Any]) -> list[Any]:
    """One int64 code per (customer, service) pair of each of ``pairs`` (two string arrays),
    equal codes for equal pairs across all of them."""
    words_c = pc.unique(pa.concat_arrays([c for c, _ in pairs]))
    words_s = pc.unique(pa.concat_arrays([sv for _, sv in pairs]))
    out = []
    for c, sv in pairs:
        ci = np.asarray(pc.index_in(c, value_set=words_c), dtype=np.int64)
        si = np.asarray(pc.index_in(sv, value_set=words_s), dtype=np.int64)
        out.append(ci * len(words_s) + si)
    return out


def _array(values: Any) -> Any:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def with_keys(table: IncidentTable, customers: Any, services: Any) -> IncidentTable:
    """``table`` with the (customer, service) pairs it lacks among ``customers`` and
    ``services`` (pyarrow string arrays) added as keys of no rows, after its own: keys measured
    by something other than incidents (request counts), or kept though none of their rows
    counted, get report rows as any other key."""
    return keys_added(table, customers, services)[0]


def keys_added(table: IncidentTable, customers: Any, services: Any) -> tuple[IncidentTable, Any]:
    """:func:`with_keys`, and where each pair is among the new table's keys (the words are
    hashed once for both)."""
    at = key_positions(table, customers, services)
    missing = np.flatnonzero(at < 0)
    if not len(missing):
        return table, at
    c = _array(customers).take(pa.array(missing))
    sv = _array(services).take(pa.array(missing))
    (codes,) = _pair_codes((c, sv))
    _, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
    order = np.argsort(first)  # each missing pair once, in order of first appearance
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    at[missing] = table.n_keys + rank[np.ravel(inverse)]
    firsts = pa.array(first[order])
    added = replace(
        table,
        key_customer=pa.concat_arrays([_array(table.key_customer), c.take(firsts)]),
        key_service=pa.concat_arrays([_array(table.key_service), sv.take(firsts)]),
        key_words=None,
    )
    return added, at


def from_columns(
    *,
    customers: Any,
    services: Any,
    start: Any,
    end: Any,
    category: Any,
    impact: Any,
    impacts: list[Fraction | int],
    file: Any,
    files: list[str],
    line: Any,
    incident_id: Any,
    source: Any = None,
    zone: Any = None,
    start_text: Any = None,
    end_text: Any = None,
) -> IncidentTable:
    """A table of typed columns, one entry per row (each row's customer and service as text):
    what a bucket of a large log stored on disk reads back as."""
    key_customer, key_service, key = pair_codes(customers, services)
    return IncidentTable(
        key_customer=key_customer,
        key_service=key_service,
        key=key,
        start=np.asarray(start, dtype=np.int64),
        end=np.asarray(end, dtype=np.int64),
        category=np.asarray(category, dtype=np.int8),
        impact=np.asarray(impact, dtype=np.int32),
        impacts=impacts,
        file=np.asarray(file, dtype=np.int32),
        files=files,
        line=np.asarray(line, dtype=np.int64),
        incident_id=incident_id,
        source=source,
        zone=zone,
        start_text=start_text,
        end_text=end_text,
    )


def index_of(names: list[str], name: str) -> int:
    """The position of ``name`` in ``names``, appended if new (one file read in pieces)."""
    if name not in names:
        names.append(name)
    return names.index(name)


def pair_codes(customers: Any, services: Any) -> tuple[Any, Any, Any]:
    """The distinct (customer, service) pairs of two string arrays, in order of appearance, and
    each position's pair number: ``(customers, services, codes)``.

    Each column is dictionary-encoded (a hash pass), the two codes are combined into one
    integer, and that is dictionary-encoded again: pyarrow keeps first appearances in order.
    """
    customers, services, codes, _ = _pairs(customers, services)
    return customers, services, codes


def _pairs(customers: Any, services: Any) -> tuple[Any, Any, Any, Any]:
    """:func:`pair_codes`, and the pairs as numbers into their distinct customers and services
    (an :attr:`IncidentTable.key_words`)."""
    if len(customers) == 0:
        empty = pa.array([], pa.string())
        none = np.zeros(0, dtype=np.int64)
        return empty, empty, none, (empty, none, empty, none)
    cust_words, cust = encoded(customers)
    svc_words, svc = encoded(services)
    return _numbered(cust_words, cust, svc_words, svc)


def _joined_keys(tables: Sequence[IncidentTable]) -> tuple[Any, Any, Any, Any]:
    """:func:`_pairs` of the keys of several tables, through the words each table's keys are
    numbers into (:attr:`IncidentTable.key_words`): each table's distinct customers and
    services are hashed once, all of them in one go (two halves side by side, by
    :func:`encoded`), never every key's text again, and the keys are numbered as pairs of
    integers."""

    def unified(word: int, of: int) -> tuple[Any, Any]:
        words, ids = encoded(pa.concat_arrays([t.key_words[word] for t in tables]))
        starts = np.cumsum([0, *(len(t.key_words[word]) for t in tables)])
        codes = [ids[lo + t.key_words[of]] for lo, t in zip(starts, tables, strict=False)]
        return words, np.concatenate(codes)

    cust_words, cust = unified(0, 1)
    svc_words, svc = unified(2, 3)
    return _numbered(cust_words, cust, svc_words, svc)


def _numbered(cust_words: Any, cust: Any, svc_words: Any, svc: Any) -> tuple[Any, Any, Any, Any]:
    """Keys given as (customer, service) numbers into their words, numbered as distinct pairs:
    the pairs' customers and services, each key's pair, and the pairs as word numbers."""
    width = max(len(svc_words), 1)
    codes = np.asarray(cust, dtype=np.int64) * width + svc
    pairs, key = speed.numbered(codes, len(cust_words) * width)
    of_customer, of_service = pairs // width, pairs % width
    return (
        cust_words.take(pa.array(of_customer)),
        svc_words.take(pa.array(of_service)),
        key,
        (cust_words, of_customer, svc_words, of_service),
    )


def sort_order(customers: Any, services: Any) -> Any:
    """The order that sorts keys by (customer, service), as Python sorts the tuples.

    Each column is ranked through its (smaller) dictionary of distinct values; the two ranks make
    one integer per key, sorted by numpy.
    """
    if len(customers) == 0:
        return np.zeros(0, dtype=np.int64)
    cust_words, cust = encoded(customers)
    svc_words, svc = encoded(services)
    return _by_ranks(cust_words, cust, svc_words, svc)


def sort_order_after(table: IncidentTable, keys: Any, customers: Any, services: Any) -> Any:
    """The order that sorts the table's keys numbered ``keys``, then more keys given as text
    (``customers``, ``services``), by (customer, service): through the words the table's keys
    are numbers into, when it kept them (then only the distinct words and the new keys are
    hashed, never every key's text)."""
    if table.key_words is None:
        index = pa.array(keys)
        return sort_order(
            pa.concat_arrays([table.key_customer.take(index), customers]),
            pa.concat_arrays([table.key_service.take(index), services]),
        )
    cust_words, of_customer, svc_words, of_service = table.key_words
    c_words, c_ids = encoded(pa.concat_arrays([cust_words, customers]))
    s_words, s_ids = encoded(pa.concat_arrays([svc_words, services]))
    key_c = np.concatenate([c_ids[of_customer[keys]], c_ids[len(cust_words) :]])
    key_s = np.concatenate([s_ids[of_service[keys]], s_ids[len(svc_words) :]])
    return _by_ranks(c_words, key_c, s_words, key_s)


def _by_ranks(customers: Any, of_customer: Any, services: Any, of_service: Any) -> Any:
    """The order of keys given as numbers into distinct customers and services: each word list
    is sorted once, and each key's two ranks make one integer (ties keep their order)."""
    if len(of_customer) == 0:
        return np.zeros(0, dtype=np.int64)

    def ranks(words: Any) -> Any:
        rank = np.empty(len(words), dtype=np.int64)
        rank[np.asarray(pc.sort_indices(words))] = np.arange(len(rank))
        return rank

    width = max(len(services), 1)
    combined = ranks(customers)[of_customer] * width + ranks(services)[of_service]
    return speed.sorting_order(combined, len(customers) * width)


def encoded(words: Any) -> tuple[Any, Any]:
    """``(dictionary, indices)`` of a string array, the dictionary in order of first appearance.

    A large array is encoded as two halves side by side and their dictionaries unified: the
    unifier keeps the first half's entries in order, then appends the second's new ones in
    theirs, so the result is the same as one pass."""
    n = len(words)
    # Large text columns are hashed as two halves (pyarrow's hash kernels release the GIL) and
    # the dictionaries unified: a third less wall time for 5M customer ids. (Integers hash
    # faster alone: the unifying costs more than it saves.)
    if not speed.halves(n, at_least=speed.PARALLEL_WORDS):
        whole = words.dictionary_encode()
        return whole.dictionary, np.asarray(whole.indices)
    half = n // 2
    parts = speed.both(
        lambda: pc.dictionary_encode(words.slice(0, half)),
        lambda: pc.dictionary_encode(words.slice(half)),
    )
    unified = pa.chunked_array(list(parts)).unify_dictionaries()
    indices = np.concatenate([np.asarray(chunk.indices) for chunk in unified.chunks])
    return unified.chunk(0).dictionary, indices


# --- from text cells to a table ---------------------------------------------------------------


def build_table(
    part: RawPart, tz: tzinfo, *, keep_text: bool = False, threads: bool = True
) -> tuple[IncidentTable, list[Problem]]:
    """Give one file's cells their meaning: the good rows as a table, and every problem.

    Rows whose known cells are all blank (``,,,`` from spreadsheet exports) are skipped. A
    large part has its timestamps read on a second thread while its words are numbered,
    unless ``threads`` is off (the caller already types parts side by side). The table keeps
    the words its keys are numbers into (:attr:`IncidentTable.key_words`):
    :func:`concat_tables` joins pieces through them.
    """
    # by columns, not by rows: two halves would have to be joined again (a tenth of a
    # 1M-row log's reading)
    table, problems = _build(part, tz, keep_text, threads=threads and speed.halves(len(part)))
    return table, [*part.problems, *problems]


def only_customers(part: RawPart, customers: set[str]) -> RawPart:
    """The rows of ``part`` whose customer (trimmed) is one of ``customers``."""
    words, codes = _trimmed(*_codes(part.cells.get("customer_id"), len(part)))
    wanted = np.isin(np.asarray(words.to_pylist(), dtype=object), list(customers))
    rows = np.flatnonzero(wanted[codes]) if len(words) else np.zeros(0, dtype=np.int64)
    index = pa.array(rows)
    cells = {c: v.take(index) for c, v in part.cells.items()}
    return RawPart(part.name, np.asarray(part.lines)[rows], cells, list(part.problems))


def _build(
    part: RawPart, tz: tzinfo, keep_text: bool, *, threads: bool = False
) -> tuple[IncidentTable, list[Problem]]:
    """:func:`build_table` of one piece of a file (its own problems only); with ``threads``,
    the timestamps are read on a second thread.

    The columns of few distinct values (:data:`CODED`: customer, service, category, impact,
    source, zone) are taken as numbers into their distinct words, and only those words are
    trimmed and read; timestamps are read as they are (a cell with surrounding spaces takes the
    exact one-by-one path); ids are kept as written. No full copy of a text column is made.
    """
    n = len(part)
    name = part.name
    columns = (*_COLUMNS, ZONE) if ZONE in part.cells else _COLUMNS

    def instants() -> dict[str, tuple[Any, Any]]:
        texts = {c: _text(part.cells.get(c), n) for c in ("start", "end")}
        return {c: (text, parse_instants(text, tz)) for c, text in texts.items()}

    # the timestamps are read on a thread of their own while the words are numbered
    read = speed.meanwhile(instants) if threads else instants
    # each column as written: text, or (for CODED) its distinct words and each row's number
    written = {c: _codes(part.cells.get(c), n) for c in columns if c in CODED}
    coded = {c: _trimmed(*written[c]) for c in written}
    raw = {"incident_id": _text(part.cells.get("incident_id"), n)}
    cust_words, cust_codes = coded["customer_id"]
    svc_words, svc_codes = coded["service"]
    width = max(len(svc_words), 1)
    # every row's key
    distinct, key = speed.numbered(cust_codes * width + svc_codes, len(cust_words) * width)
    parsed = read()
    raw |= {c: text for c, (text, _) in parsed.items()}
    found: list[tuple[int, int, Problem]] = []  # (row, column order, problem)
    lines = np.asarray(part.lines, dtype=np.int64)

    def cell(column: str, r: int) -> str:
        if column in raw:
            return raw[column][r].as_py() or ""
        words, codes = written[column]
        return words[int(codes[r])].as_py() or ""

    def problem(rows: Any, order: int, column: str | None, message: Any, cells: Any = None) -> None:
        for r in np.asarray(rows).tolist():
            text = None if cells is None else cell(cells, r)
            msg = message(r) if callable(message) else message
            found.append((r, order, Problem(name, int(lines[r]) or None, msg, column, text)))

    for c in columns:
        too_long = _too_long(raw[c]) if c in raw else _too_long_codes(*written[c])
        problem(
            too_long,
            -1,
            c,
            f"a cell longer than {MAX_CELL} characters: is a quote left open, or is this not an "
            "incident log?",
        )
    bad = np.zeros(n, dtype=bool)
    for r, _, _ in found:
        bad[r] = True

    start, start_empty, start_errors = parsed["start"][1]
    end, end_empty, end_errors = parsed["end"][1]
    blank = start_empty & end_empty
    for words, codes in coded.values():
        blank &= np.asarray(pc.equal(pc.binary_length(words), 0))[codes] if len(words) else True
    if blank.any():  # the ids, kept as written, only where every other cell is blank
        maybe = np.flatnonzero(blank)
        values = pc.utf8_trim_whitespace(raw["incident_id"].take(pa.array(maybe)))
        blank[maybe] = np.asarray(pc.equal(pc.binary_length(values), 0))

    empty_rows = np.flatnonzero(start_empty & ~blank & ~bad)
    problem(empty_rows, 0, "start", "empty timestamp", "start")
    for r, msg in start_errors.items():
        if not bad[r]:
            problem([r], 0, "start", msg, "start")
    for r, msg in end_errors.items():
        if not bad[r]:
            problem([r], 1, "end", msg, "end")

    category, cat_bad = _decoded(coded["category"], lambda t: CATEGORIES.index(parse_category(t)))
    impact_values: list[Fraction | int] = []

    def impact_code(text: str) -> int:
        value = parse_impact(text)
        if value not in impact_values:
            impact_values.append(value)
        return impact_values.index(value)

    impact, imp_bad = _decoded(coded["impact"], impact_code)
    for rows, msg in cat_bad:
        problem(rows[~blank[rows] & ~bad[rows]], 2, "category", msg, "category")
    for rows, msg in imp_bad:
        problem(rows[~blank[rows] & ~bad[rows]], 3, "impact", msg, "impact")
    for r, _, _ in found:
        bad[r] = True
    backwards = np.flatnonzero(~bad & ~end_empty & (end < start))
    problem(
        backwards,
        4,
        "end",
        lambda r: f"ends before it starts (start '{cell('start', r).strip()}')",
        "end",
    )

    keep = ~blank
    for r, _, _ in found:
        keep[r] = False
    every = bool(keep.all())  # the usual case: no row dropped, no text column copied
    rows = np.flatnonzero(keep) if not every else slice(None)
    index = pa.array(np.flatnonzero(keep))

    def kept(col: Any) -> Any:
        return col if every else col.take(index)

    def words_of(column: str) -> Any:
        words, codes = coded[column]
        return words.take(pa.array(codes[rows]))

    if not every:  # the keys of the rows kept, numbered in order of first appearance again
        kept_keys, key = speed.numbered(key[rows], len(distinct))
        distinct = distinct[kept_keys]
    of_customer, of_service = distinct // width, distinct % width
    table = IncidentTable(
        key_customer=cust_words.take(pa.array(of_customer)),
        key_service=svc_words.take(pa.array(of_service)),
        key=key,
        start=start[rows],
        end=np.where(end_empty, NO_END, end)[rows],
        category=category[rows].astype(np.int8),
        impact=impact[rows].astype(np.int32),
        impacts=impact_values,
        file=np.zeros(len(index), dtype=np.int32),
        files=[name],
        line=lines[rows],
        incident_id=kept(raw["incident_id"]),
        source=words_of("source") if "source" in part.cells else None,
        start_text=part_text(part, "start", index) if keep_text else None,
        end_text=part_text(part, "end", index) if keep_text else None,
        zone=words_of(ZONE) if ZONE in part.cells else None,
        key_words=(cust_words, of_customer, svc_words, of_service),
    )
    found.sort(key=lambda item: (item[0], item[1]))
    return table, [p for _, _, p in found]


def part_text(part: RawPart, column: str, index: Any) -> Any:
    col = part.cells.get(column)
    if col is None:
        return pa.nulls(len(index), pa.string())
    return _array(col.take(index))


def _text(col: Any, n: int) -> Any:
    """A column as one pyarrow string array, nulls as "" (an absent column: all "")."""
    if col is None:
        return pa.array([""], pa.string()).take(pa.array(np.zeros(n, dtype=np.int64)))
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if col.type != pa.string():
        col = pc.cast(col, pa.string())
    return pc.fill_null(col, "") if col.null_count else col


def _too_long(col: Any) -> Any:
    """The rows of a text column whose cell has more than :data:`MAX_CELL` characters."""
    if not pc.any(pc.greater(pc.binary_length(col), MAX_CELL)).as_py():
        return np.zeros(0, dtype=np.int64)  # no cell has that many bytes, so none that many
    return np.flatnonzero(np.asarray(pc.greater(pc.utf8_length(col), MAX_CELL)))


def _too_long_codes(words: Any, codes: Any) -> Any:
    """:func:`_too_long` of a column given as its distinct words and each row's number."""
    long = _too_long(words)
    return np.flatnonzero(np.isin(codes, long)) if len(long) else long


def _codes(col: Any, n: int) -> tuple[Any, Any]:
    """A column's distinct values as written (a string array, in order of first appearance)
    and each row's number among them (int64), whether the reader gave text or a dictionary
    array, whole or in chunks (an absent column: all "")."""
    if col is None:
        return pa.array([""] if n else [], pa.string()), np.zeros(n, dtype=np.int64)
    if pa.types.is_dictionary(col.type) and not col.null_count:
        if isinstance(col, pa.ChunkedArray):
            if not col.num_chunks:
                return pa.array([], pa.string()), np.zeros(0, dtype=np.int64)
            # one dictionary for every chunk: the first chunk's words in order, then each
            # later chunk's new ones (first appearance, as one encoding of the whole)
            col = col.unify_dictionaries()
            indices = [np.asarray(c.indices) for c in col.chunks]
            return col.chunk(0).dictionary, np.concatenate(indices, dtype=np.int64)
        return col.dictionary, np.asarray(col.indices, dtype=np.int64)
    encoded = _text(col, n).dictionary_encode()
    return encoded.dictionary, np.asarray(encoded.indices, dtype=np.int64)


def _trimmed(written: Any, codes: Any) -> tuple[Any, Any]:
    """A column's distinct values with surrounding white space removed (as ``str.strip``
    does), in order of first appearance, and each row's number among them, from its distinct
    values as written and each row's number among those (:func:`_codes`)."""
    words = trimmed(written)
    size = pc.sum(pc.binary_length(written)).as_py()
    if pc.sum(pc.binary_length(words)).as_py() == size:
        return words, codes  # nothing was trimmed: the words are still distinct
    again = words.dictionary_encode()  # " acme" and "acme" are one customer
    remap = np.asarray(again.indices, dtype=np.int64)
    return again.dictionary, remap[codes] if len(remap) else codes


def trimmed(col: Any) -> Any:
    """A string array with surrounding white space removed, as ``str.strip`` does (the ASCII
    kernel when every value is ASCII: the same result, faster)."""
    if pc.all(pc.string_is_ascii(col)).as_py() is not False:
        return pc.ascii_trim_whitespace(col)
    return pc.utf8_trim_whitespace(col)


def _decoded(coded: tuple[Any, Any], decode: Any) -> tuple[Any, list[tuple[Any, str]]]:
    """Codes of a column's distinct (trimmed) values through ``decode``; the rows of each bad
    value."""
    words, codes = coded
    out = np.zeros(max(len(words), 1), dtype=np.int64)
    bad: list[tuple[Any, str]] = []
    for i, text in enumerate(words.to_pylist()):
        try:
            out[i] = decode(text)
        except ValueError as exc:
            bad.append((np.flatnonzero(codes == i), str(exc)))
    return out[codes] if len(codes) else codes, bad
