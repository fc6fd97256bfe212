"""Every reader gives the same table: which reader takes a file decides only speed.

Random CSV files, well-formed or not (quotes, CRLF, blank lines, lone carriage returns, spaces,
bad cells), are read row by row and in bulk, and must give the same incidents and the same
problems; well-formed logs must also read the same from JSON Lines and Parquet.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slacalc import speed
from slacalc.dates.instants import get_zone
from slacalc.errors import InputError
from slacalc.reading import collect_incidents, csv_bulk
from tests.logs import write_log

SH = get_zone("Asia/Shanghai")
HEADER = "incident_id,customer_id,service,category,start,end,impact"

cells = {
    "incident_id": st.sampled_from(["I1", "I2", "", '"quoted, id"', '"say ""hi"""', " I3 "]),
    "customer_id": st.sampled_from(["acme", " acme", "globex", "", "阿里", '"a,b"']),
    "service": st.sampled_from(["db", "db ", "web", ""]),
    "category": st.sampled_from(["", "outage", "maintenance", "Data_Loss", "excluded", "nope"]),
    "start": st.sampled_from(
        [
            "2025-05-01 10:00",
            "2025-05-01T10:00:00+08:00",
            " 2025-05-02 10:00",
            "May 3 2025 10:00",
            "2025-02-30 10:00",
            "",
            "2025-05-01T02:00:00Z",
        ]
    ),
    "end": st.sampled_from(["2025-05-01 11:00", "", "2025-05-04", "2025-04-30 09:00", "later"]),
    "impact": st.sampled_from(["", "1", "0.3", "30%", "0", "1.5", "50 %"]),
}
row = st.tuples(*cells.values()).map(",".join)
separators = st.sampled_from(["\n", "\r\n"])


@st.composite
def csv_texts(draw: st.DrawFn) -> str:
    sep = draw(separators)
    rows = draw(st.lists(row, min_size=0, max_size=8))
    extras = draw(st.sampled_from(["", "blank", "lone-cr", "only-commas", "no-final-break"]))
    lines = [HEADER, *rows]
    if extras == "blank" and rows:
        lines.insert(2, "")
    if extras == "only-commas":
        lines.append(",,,,,,")
    text = sep.join(lines) + ("" if extras == "no-final-break" else sep)
    if extras == "lone-cr" and rows:
        text = text.replace(sep, "\r", 1) if sep == "\n" else text
    return text


@contextmanager
def reader(*, bulk: bool, piece: int | None = None) -> Iterator[None]:
    """CSV logs read by the row reader, or in bulk: parsed whole (typed on two threads however
    few its rows), or (``piece``) streamed in pieces of that many bytes."""
    saved = csv_bulk.MIN_BYTES, csv_bulk.PIECE_BYTES, speed.WHOLE_FILE_BYTES, speed.PARALLEL_ROWS
    csv_bulk.MIN_BYTES = 0 if bulk else 1 << 62
    csv_bulk.PIECE_BYTES = piece or saved[1]
    speed.WHOLE_FILE_BYTES = 0 if piece else 1 << 62
    speed.PARALLEL_ROWS = 1 if bulk else saved[3]
    try:
        yield
    finally:
        (
            csv_bulk.MIN_BYTES,
            csv_bulk.PIECE_BYTES,
            speed.WHOLE_FILE_BYTES,
            speed.PARALLEL_ROWS,
        ) = saved


def read(path: Path, *, bulk: bool, piece: int | None = None) -> tuple[list, list[str]]:
    """The table and problems of the log at ``path`` read by :func:`reader`; its keys must be
    those of its rows, in order of first appearance (rows dropped as blank or bad count
    nowhere)."""
    with reader(bulk=bulk, piece=piece):
        table, problems = collect_incidents([str(path)], SH)
    incidents = list(table)
    assert table.keys == list(dict.fromkeys(i.key for i in incidents))
    return incidents, [str(p) for p in problems]


@settings(max_examples=200, deadline=None)
@given(text=csv_texts())
def test_bulk_and_row_readers_agree(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    path = tmp_path_factory.mktemp("readers") / "log.csv"
    path.write_bytes(text.encode("utf-8"))
    by_rows = read(path, bulk=False)
    assert read(path, bulk=True) == by_rows
    assert read(path, bulk=True, piece=128) == by_rows  # a few rows a piece


def test_pieces_keep_line_numbers_keys_and_order(tmp_path: Path) -> None:
    """A log typed in many pieces on two threads: the same table and problems, in file order,
    as the row reader gives; keys first seen in a later piece keep their order."""
    rows = []
    for i in range(3000):
        customer = f"c{(i * 7) % 311}"
        start = f"2025-05-{1 + i % 28:02d} {i % 24:02d}:00:00"
        end = "" if i % 13 == 0 else f"2025-05-{1 + i % 28:02d} {i % 24:02d}:30:00"
        impact = ["", "0.3", "1", "30%"][i % 4]
        category = "bogus" if i % 997 == 0 else ["outage", "maintenance", "data_loss"][i % 3]
        rows.append(f"I{i},{customer},svc{i % 5},{category},{start},{end},{impact}")
    path = tmp_path / "log.csv"
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    by_rows = read(path, bulk=False)
    readers = []
    batches = csv_bulk._batches
    csv_bulk._batches = lambda data, options: readers.append(data.size) or batches(data, options)
    try:
        in_pieces = read(path, bulk=True, piece=4096)
    finally:
        csv_bulk._batches = batches
    assert in_pieces == by_rows
    # the second half, from a line start, was parsed by a reader of its own
    assert len(readers) == 2 and sum(readers) == path.stat().st_size
    assert len(by_rows[1]) == 4  # rows 0, 997, 1994, 2991: an unknown category, each
    assert by_rows[1][1].startswith(f"{path}:999: ")


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["acme", "globex", "阿里"]),
            st.sampled_from(["db", "web"]),
            st.sampled_from(["outage", "maintenance", "data_loss"]),
            st.sampled_from(
                ["2025-05-01 10:00:00", "2025-05-01T10:00:00+08:00", "2025-05-31 23:30:00"]
            ),
            st.sampled_from(["2025-05-01 11:00:00", "", "2025-06-01T01:00:00+08:00"]),
            st.sampled_from(["", "1", "0.3", "30%"]),
        ),
        min_size=1,
        max_size=10,
    )
)
def test_every_format_reads_the_same_log(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str, ...]]
) -> None:
    text = "customer_id,service,category,start,end,impact\n" + "".join(
        ",".join(r) + "\n" for r in rows
    )
    folder = tmp_path_factory.mktemp("formats")
    tables = []
    for fmt in ("csv-rows", "jsonl", "parquet"):
        path = write_log(folder, text, fmt)
        table, problems = collect_incidents([str(path)], SH)
        tables.append([(p.message, p.column, p.value) for p in problems])
        tables.append(
            [(i.start, i.end, i.customer_id, i.service, i.category, i.impact) for i in table]
        )
    assert tables[0:2] == tables[2:4] == tables[4:6]


def test_an_unclosed_quote_is_a_problem_on_its_line_at_any_size(tmp_path: Path) -> None:
    good = "I,acme,db,outage,2025-05-01 10:00,2025-05-01 11:00,\n"
    body = good * 50_000 + 'I,acme,db,outage,"Hypervisor panic,2025-05-01 11:00,\n' + good * 10
    path = tmp_path / "big.csv"
    path.write_text(HEADER + "\n" + body, encoding="utf-8")
    for bulk in (True, False):
        _, problems = read(path, bulk=bulk)
        assert problems and problems[0].startswith(f"{path}:50002: ")
        assert "quote" in problems[0]
    with pytest.raises(InputError):
        from slacalc.reading import read_incidents

        read_incidents([str(path)], SH)


@settings(max_examples=100, deadline=None)
@given(text=csv_texts(), piece=st.sampled_from([128, 256, 1 << 20]))
def test_keys_sort_as_python_sorts_them(
    tmp_path_factory: pytest.TempPathFactory, text: str, piece: int
) -> None:
    """A table's key order (through the words its join kept, when read in pieces) is Python's
    order of the (customer, service) tuples; a subset of its rows renumbers its keys and sorts
    them the same way."""
    path = tmp_path_factory.mktemp("order") / "log.csv"
    path.write_bytes(text.encode("utf-8"))
    with reader(bulk=True, piece=piece):  # streamed in pieces
        table, _ = collect_incidents([str(path)], SH)
    assert [table.keys[i] for i in table.key_order()] == sorted(table.keys)
    part = table.take(range(0, len(table), 2))
    assert part.key_words is None
    assert [part.keys[i] for i in part.key_order()] == sorted(part.keys)


@pytest.mark.parametrize("piece", [None, 4096])
def test_the_timestamps_as_written_are_kept_in_bulk(
    tmp_path: Path, piece: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Explanations and statements keep each row's timestamps as written: read in bulk (whole
    or in pieces, typed as two halves) as the row reader keeps them."""
    monkeypatch.setattr(speed, "PARALLEL_ROWS", 100)
    rows = [
        f"I{i},c{i % 97},svc{i % 3},outage,2025-05-{1 + i % 28:02d} 10:00:00,"
        + ("" if i % 5 == 0 else f"2025-05-{1 + i % 28:02d}T11:00:00+08:00")
        + ","
        for i in range(2000)
    ]
    path = tmp_path / "log.csv"
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    tables = []
    for bulk in (False, True):
        with reader(bulk=bulk, piece=piece):
            table, _ = collect_incidents([str(path)], SH, keep_text=True)
        tables.append((table.start_text.to_pylist(), table.end_text.to_pylist()))
    assert tables[0] == tables[1]
    assert tables[0][0][0] == "2025-05-01 10:00:00" and tables[0][1][1].endswith("+08:00")
