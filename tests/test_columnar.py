"""The columnar fast path against the row-by-row reader: the very same report, or None.

``read_columnar`` may decline any file (the CLI then falls back to ``read_incidents``), but
whatever it accepts must give exactly what the row reader gives: every report row, every
deadline (level 2 included, with its ``FILE:LINE`` reference) and every ``FILE:LINE`` message.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from slacalc import (
    ContractBook,
    InputError,
    Month,
    Terms,
    columnar,
    compute_report,
    load_policy,
    read_contracts,
    read_incidents,
)
from slacalc.columnar import read_columnar
from slacalc.deadlines import add_data_loss_deadlines
from slacalc.timeparse import parse_instant
from slacalc.workdays import WorkCalendar

pytest.importorskip("pyarrow")
pytest.importorskip("numpy")

ROOT = Path(__file__).parent.parent
SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
STANDARD = load_policy("standard")
CREDIT = load_policy("standard-credit")
CALENDAR = WorkCalendar.create("CN")
FEE = Decimal("1000")
HEADER = "incident_id,customer_id,service,category,start,end,impact\n"

CONTRACTS = (
    "customer_id,service,monthly_fee,currency,sla_target\n"
    "acme,*,12000.00,CNY,99.95\n"
    "acme,compute,30000.00,CNY,99.99\n"
    "客户甲,存储,800,USD,99.999\n"
    "b,net,1500000,JPY,99.99\n"
    "Ünïcode,*,4500.00,EUR,\n"
)


# --- helpers ------------------------------------------------------------------------------------


def write(path: Path, text: str, *, bom: bool = False, crlf: bool = False) -> str:
    data = text.replace("\n", "\r\n") if crlf else text
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data.encode("utf-8"))
    return str(path)


def read_rows(paths: list[str], tz: ZoneInfo) -> tuple[Any, InputError | None]:
    try:
        return read_incidents(paths, tz), None
    except InputError as exc:
        return None, exc


def outcome(
    log: Any,
    terms: Terms,
    *,
    contracts: ContractBook | None = None,
    months: list[Month] | None = None,
    ordered: bool = True,
) -> Any:
    """Everything a report shows: rows, deadlines (level 2 added), warnings; or the problems."""
    try:
        report = compute_report(log, terms, contracts=contracts, months=months)
    except InputError as exc:
        problems = [str(p) for p in exc.problems]
        return ("InputError", problems if ordered else sorted(problems))
    add_data_loss_deadlines(report, log, CALENDAR, terms.tz)
    deadlines = [json.dumps(d.to_dict(), sort_keys=True) for d in report.deadlines]
    return (
        [row.to_dict() for row in report.rows],
        deadlines if ordered else sorted(deadlines),
        report.warnings,
    )


def terms(tz: ZoneInfo, as_of: str, *, policy: Any = STANDARD, fee: Decimal | None = FEE) -> Terms:
    return Terms(policy=policy, tz=tz, as_of=parse_instant(as_of, tz), monthly_fee=fee,
                 sla_target=None)  # fmt: skip


def book(tmp: Path, policy: Any = STANDARD, text: str = CONTRACTS) -> ContractBook:
    return read_contracts(write(tmp / f"contracts-{policy.name}.csv", text), policy=policy,
                          default_currency="CNY")  # fmt: skip


def assert_same(paths: list[str], tz: ZoneInfo, as_of: str, tmp: Path, **kwargs: Any) -> Any:
    """Both readers accept the files, and every report variant is identical; the columnar log."""
    rows, error = read_rows(paths, tz)
    assert error is None, error
    col = read_columnar(paths, tz)
    assert col is not None
    t = terms(tz, as_of)
    for variant in (
        {},
        {"months": [Month(2025, 5), Month(2025, 6)]},
        {"contracts": book(tmp)},
    ):
        assert outcome(col, t, **variant, **kwargs) == outcome(rows, t, **variant, **kwargs)
    credit = terms(tz, as_of, policy=CREDIT)
    cbook = book(tmp, CREDIT)
    assert outcome(col, credit, contracts=cbook) == outcome(rows, credit, contracts=cbook)
    return col


# --- the property -------------------------------------------------------------------------------

# Wall times near a DST switch (gap or fold) or a month edge, per zone.
ANCHORS = {
    "Asia/Shanghai": ["2025-05-31 22:00:00", "2025-06-30 23:30:00", "2025-02-28 23:59:00"],
    "America/New_York": ["2025-03-09 01:30:00", "2025-11-02 00:45:00", "2025-02-28 23:00:00",
                         "2025-10-31 23:00:00"],
    "Europe/London": ["2025-03-30 00:30:00", "2025-10-26 00:30:00", "2025-03-31 23:30:00",
                      "2025-10-31 23:50:00"],
}  # fmt: skip
OPTIONAL = ("end", "customer_id", "service", "incident_id", "category", "impact")
EXTRAS = ("summary", "owner")
CUSTOMERS = ("acme", " acme", "acme ", "Ünïcode", "客户甲", "b")
SERVICES = ("compute", " compute ", "存储", "net", "")
SIMPLE_CATEGORIES = ("", "outage", "Outage", " OUTAGE ", "data_loss", "Data_Loss")
CATEGORIES = (*SIMPLE_CATEGORIES, "maintenance", "Maintenance", " excluded")
SIMPLE_IMPACTS = ("", "1", "100%", "1.0")
IMPACTS = (*SIMPLE_IMPACTS, "0.5", "30%", " 0.25 ")
IDS = ("", "", "INC-1", "INC-2", " INC-3 ", "事故-4")
NOTES = ("", "disk full", "网络 抖动", "a;b", "x|y")
OFFSETS = ("+08:00", "-05:00", "+00:00", "Z", "+01:00", "-04:00")
KINDS = ("space", "T", "minutes", "frac3", "frac6", "offset", "padded")


@dataclass(frozen=True)
class Stamp:
    kind: str
    offset: str

    def format(self, wall: datetime) -> str:
        base = f"{wall:%Y-%m-%d %H:%M:%S}"
        if self.kind == "T":
            return f"{wall:%Y-%m-%dT%H:%M:%S}"
        if self.kind == "minutes":
            return f"{wall:%Y-%m-%d %H:%M}"
        if self.kind == "frac3":
            return f"{base}.{wall.microsecond // 1000:03d}"
        if self.kind == "frac6":
            return f"{base}.{wall.microsecond:06d}"
        if self.kind == "offset":
            return f"{wall:%Y-%m-%dT%H:%M:%S}{self.offset}"
        if self.kind == "padded":
            return f" {base} "
        return base


stamps = st.builds(Stamp, st.sampled_from(KINDS), st.sampled_from(OFFSETS))
# Mostly the fast path's plain form, which the others must agree with.
start_stamps = st.one_of(st.just(Stamp("space", "")), st.just(Stamp("T", "")), stamps)


@st.composite
def incident_rows(draw: Any, anchor: datetime) -> dict[str, str]:
    minutes = draw(st.one_of(st.integers(-240, 240), st.integers(-4 * 1440, 4 * 1440)))
    seconds = draw(st.integers(0, 59))
    micros = draw(st.sampled_from([0, 0, 250_000, 123_456]))
    start = anchor + timedelta(minutes=minutes, seconds=seconds, microseconds=micros)
    stamp = draw(start_stamps)
    duration = draw(st.one_of(
        st.none(),  # ongoing
        st.just(timedelta(0)),
        st.integers(1, 600).map(lambda m: timedelta(minutes=m)),
        st.integers(1, 40).map(lambda d: timedelta(days=d, minutes=7)),
    ))  # fmt: skip
    end_stamp = draw(st.one_of(st.just(stamp), stamps))
    simple = draw(st.booleans())
    return {
        "start": stamp.format(start),
        "end": "" if duration is None else end_stamp.format(start + duration),
        "customer_id": draw(st.sampled_from(CUSTOMERS)),
        "service": draw(st.sampled_from(SERVICES)),
        "incident_id": draw(st.sampled_from(IDS)),
        "category": draw(st.sampled_from(SIMPLE_CATEGORIES if simple else CATEGORIES)),
        "impact": draw(st.sampled_from(SIMPLE_IMPACTS if simple else IMPACTS)),
        "summary": draw(st.sampled_from(NOTES)),
        "owner": draw(st.sampled_from(NOTES)),
    }


@st.composite
def layouts(draw: Any) -> dict[str, Any]:
    """How one file is written: which columns in which order, header spelling, line ends."""
    columns = ["start"] + [c for c in (*OPTIONAL, *EXTRAS) if draw(st.integers(0, 5))]
    columns = draw(st.permutations(columns))
    spelled = [draw(st.sampled_from([c, c.upper(), f" {c} ", c.title()])) for c in columns]
    return {
        "columns": columns,
        "header": spelled,
        "crlf": draw(st.booleans()),
        "bom": draw(st.booleans()),
        "final_newline": draw(st.integers(0, 4)) > 0,
        # none, every cell, or every other cell in quotes (as spreadsheets and exports write)
        "quotes": draw(st.sampled_from(["none", "all", "some"])),
    }


@st.composite
def cases(draw: Any) -> dict[str, Any]:
    zone = draw(st.sampled_from(sorted(ANCHORS)))
    anchor = datetime.fromisoformat(draw(st.sampled_from(ANCHORS[zone])))
    n_files = draw(st.integers(1, 2))
    files = []
    for _ in range(n_files):
        rows = draw(st.lists(incident_rows(anchor), min_size=1, max_size=8))
        files.append((draw(layouts()), rows))
    as_of = anchor + timedelta(minutes=draw(st.integers(-1440, 5 * 1440)))
    month = Month(anchor.year, anchor.month)
    picked = draw(st.sets(st.sampled_from([-1, 0, 1, 2]), min_size=1, max_size=3))
    months = []
    for shift in sorted(picked):
        m = month if shift >= 0 else Month(month.year, month.month - 1)
        for _ in range(max(shift, 0)):
            m = m.next()
        months.append(m)
    return {"tz": ZoneInfo(zone), "files": files, "as_of": f"{as_of:%Y-%m-%d %H:%M:%S}",
            "months": months}  # fmt: skip


def render(layout: dict[str, Any], rows: list[dict[str, str]]) -> str:
    def cells(values: list[str]) -> str:
        mode = layout.get("quotes", "none")
        return ",".join(
            f'"{v}"' if mode == "all" or (mode == "some" and i % 2) else v
            for i, v in enumerate(values)
        )

    lines = [cells(layout["header"])]
    lines += [cells([row[c] for c in layout["columns"]]) for row in rows]
    return "\n".join(lines) + ("\n" if layout["final_newline"] else "")


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ContractBook]:
    tmp = tmp_path_factory.mktemp("columnar_books")
    return {"standard": book(tmp), "credit": book(tmp, CREDIT)}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_columnar_matches_rows_on_random_logs(case: dict[str, Any], books: dict) -> None:
    tz: ZoneInfo = case["tz"]
    with tempfile.TemporaryDirectory() as tmp:
        paths, texts = [], []
        for i, (layout, rows) in enumerate(case["files"]):
            text = render(layout, rows)
            texts.append(text)
            paths.append(write(Path(tmp) / f"log{i}.csv", text, bom=layout["bom"],
                               crlf=layout["crlf"]))  # fmt: skip
        rows_log, error = read_rows(paths, tz)
        col = read_columnar(paths, tz)
    event("declined" if col is None else "accepted")
    if col is None:
        declined = any("\n\n" in t for t in texts)  # plain quotes are taken, too
        assert error is not None or declined, "columnar declined a clean, valid log"
        return
    assert error is None, f"columnar accepted a log the row reader rejects: {error}"
    fee = terms(tz, case["as_of"])
    no_fee = terms(tz, case["as_of"], fee=None)
    credit = terms(tz, case["as_of"], policy=CREDIT)
    # Compared in order: problems and deadlines come out the same whichever reader ran.
    variants = [
        (fee, {}),
        (fee, {"months": case["months"]}),
        (fee, {"contracts": books["standard"]}),
        (fee, {"contracts": books["standard"], "months": case["months"]}),
        (no_fee, {"contracts": books["standard"]}),
        (credit, {"contracts": books["credit"]}),
    ]
    for t, kwargs in variants:
        assert outcome(col, t, **kwargs) == outcome(
            rows_log, t, **kwargs
        ), kwargs


# --- declined files -----------------------------------------------------------------------------

ROW = "INC-1,acme,compute,outage,2025-05-03 02:14:00,2025-05-03 02:31:30,"

START = "INC-1,acme,compute,outage,"

DECLINED = {
    "quoted line break": HEADER + 'INC-1,"ac\nme",compute,outage,2025-05-03 02:14:00,,\n',
    "quote inside a cell": HEADER + 'INC-1,ac"me,compute,outage,2025-05-03 02:14:00,,\n',
    "doubled quote": HEADER + 'INC-1,"ac""me",compute,outage,2025-05-03 02:14:00,,\n',
    "space before a quote": HEADER + 'INC-1, "acme",compute,outage,2025-05-03 02:14:00,,\n',
    "text after a quote": HEADER + 'INC-1,"acme"x,compute,outage,2025-05-03 02:14:00,,\n',
    "odd quotes": HEADER + 'INC-1,"acme,compute,outage,2025-05-03 02:14:00,,\n',
    "blank line": HEADER + ROW + "\n\n" + ROW + "\n",
    "blank line, CRLF": (HEADER + ROW + "\n\n" + ROW + "\n").replace("\n", "\r\n"),
    "lone CR": HEADER + ROW + "\r" + ROW + "\n",
    "bad timestamp": HEADER + "INC-1,acme,compute,outage,yesterday,,\n",
    "end before start": HEADER + START + "2025-05-03 02:14:00,2025-05-03 02:00:00,\n",
    "impact 1.5": HEADER + ROW + "1.5\n",
    "impact 0": HEADER + ROW + "0\n",
    "unknown category": HEADER + "INC-1,acme,compute,planned,2025-05-03 02:14:00,,\n",
    "fewer cells than header": HEADER + "INC-1,acme,compute,outage,2025-05-03 02:14:00\n",
    "row of only commas": HEADER + ROW + "\n,,,,,,\n",
    "empty start": HEADER + "INC-1,acme,compute,outage,,,\n",
    "Feb 30": HEADER + "INC-1,acme,compute,outage,2025-02-30 10:00:00,,\n",
    "month 13": HEADER + "INC-1,acme,compute,outage,2025-13-01 00:00:00,,\n",
    "hour 24": HEADER + "INC-1,acme,compute,outage,2025-05-01 24:00:00,,\n",
    "second 60": HEADER + "INC-1,acme,compute,outage,2025-05-01 10:00:60,,\n",
    "year 9999 with offset": HEADER + "INC-1,acme,compute,outage,9999-12-31T10:00:00+08:00,,\n",
    "year 9999 naive": HEADER + "INC-1,acme,compute,outage,9999-12-31 10:00:00,,\n",
    "year 0001": HEADER + "INC-1,acme,compute,outage,0001-01-01 10:00:00,,\n",
    "bad end in fast form": HEADER + START + "2025-05-01 10:00:00,2025-04-31 10:00:00,\n",
    "no start column": "customer_id,end\nacme,2025-05-01 10:00:00\n",
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(DECLINED))
def test_declined(name: str, tmp_path: Path) -> None:
    path = write(tmp_path / "log.csv", DECLINED[name])
    assert read_columnar([path], SHANGHAI) is None


def test_declined_when_any_file_is(tmp_path: Path) -> None:
    good = write(tmp_path / "good.csv", HEADER + ROW + "\n")
    bad = write(tmp_path / "bad.csv", HEADER + ROW + "1.5\n")
    assert read_columnar([good], SHANGHAI) is not None
    assert read_columnar([good, bad], SHANGHAI) is None
    assert read_columnar([good, str(tmp_path / "missing.csv")], SHANGHAI) is None


# --- the same report ----------------------------------------------------------------------------


def test_simple_log(tmp_path: Path) -> None:
    """Every row an outage at impact 1: all keys take the numpy merge."""
    text = HEADER + (
        "INC-1,acme,compute,outage,2025-05-03 02:14:00,2025-05-03 02:31:30,\n"
        "INC-2,acme,compute,outage,2025-05-03 02:25:00,2025-05-03 02:48:10,1\n"  # overlaps
        "INC-3,acme,compute,outage,2025-05-03 02:48:10,2025-05-03 03:00:00,100%\n"  # touches
        "INC-4,acme,storage,Outage,2025-05-31 23:50:00,2025-06-01 00:20:00,\n"  # month edge
        "INC-5, b ,net,outage,2025-05-14T07:57:01+08:00,2025-05-14T09:30:00Z,\n"
        "INC-6,b,net,outage,2025-06-27 03:00:00,,\n"  # ongoing
        "INC-7,客户甲,存储,outage,2025-06-01 00:00:00,2025-06-01 00:00:00,\n"  # zero length
        "INC-8,Ünïcode,compute,outage,2025-04-30 23:59:59.5,2025-06-02 00:00:00,\n"
    )
    path = write(tmp_path / "simple.csv", text)
    assert_same([path], SHANGHAI, "2025-06-28T12:00:00+08:00", tmp_path)


def test_plain_quoted_cells_take_the_columnar_path(tmp_path: Path) -> None:
    """Whole quoted cells, as spreadsheets write them, read alike by both readers."""
    text = HEADER + (
        '"INC-1","acme, inc.","compute","outage","2025-05-03 02:14:00","2025-05-03 02:31:30",""\n'
        'INC-2,"acme, inc.",compute,outage,2025-05-03 02:25:00,2025-05-03 02:48:10,"1"\n'
        'INC-3,"=cmd","",outage,"2025-05-04 10:00:00",,\n'
    )
    path = write(tmp_path / "quoted.csv", text)
    assert read_columnar([path], SHANGHAI) is not None
    assert_same([path], SHANGHAI, "2025-06-28T12:00:00+08:00", tmp_path)


def test_partial_impacts_and_maintenance_beside_simple_keys(tmp_path: Path) -> None:
    text = HEADER + (
        "INC-1,acme,compute,outage,2025-05-03 02:14:00,2025-05-03 02:31:30,\n"
        "INC-2,acme,storage,maintenance,2025-05-10 01:00:00,2025-05-10 03:00:00,\n"
        "INC-3,acme,storage,outage,2025-05-10 02:40:00,2025-05-10 03:20:00,\n"
        "INC-4,globex,database,outage,2025-05-14 07:57:01,2025-05-14 09:30:00,30%\n"
        "INC-5,globex,database,outage,2025-05-14 08:10:00,2025-05-14 08:14:00,100%\n"
        "INC-6,globex,network,outage,2025-05-21 16:02:00,2025-05-21 16:05:30,\n"
        "INC-7,umbrella,compute,outage,2025-06-12 09:00:00,2025-06-12 09:12:00,\n"
        "INC-8,umbrella,compute,excluded,2025-06-12 09:10:00,2025-06-12 09:30:00,\n"
        "INC-9,umbrella,storage,outage,2025-06-12 09:05:00,2025-06-12 09:08:00,0.5\n"
        "INC-10,initech,compute,outage,2025-05-31 23:50:00,2025-06-01 00:20:00,\n"
        "INC-11,acme,compute,outage,2025-06-18 21:00:00,2025-06-18 21:00:40,\n"
    )
    path = write(tmp_path / "mixed.csv", text)
    assert_same([path], SHANGHAI, "2025-06-28T12:00:00+08:00", tmp_path)


@pytest.mark.parametrize(
    ("zone", "rows"),
    [
        # New York: 02:00-03:00 does not exist on 03-09; 01:00-02:00 happens twice on 11-02.
        (NEW_YORK, ["2025-03-09 01:30:00,2025-03-09 02:30:00", "2025-03-09 02:15:00,",
                    "2025-11-02 01:30:00,2025-11-02 01:45:00",
                    "2025-11-02 00:59:59,2025-11-02 02:00:00",
                    "2025-03-31 23:30:00,2025-04-01 00:30:00"]),
        # London: 01:00-02:00 does not exist on 03-30; 01:00-02:00 happens twice on 10-26.
        (LONDON, ["2025-03-30 00:30:00,2025-03-30 01:30:00",
                  "2025-03-30 01:59:59,2025-03-30 03:00:00",
                  "2025-10-26 01:00:00,2025-10-26 01:30:00",
                  "2025-10-26 00:00:00,2025-10-26 02:00:00",
                  "2025-03-31 23:30:00,2025-04-01 00:30:00"]),
    ],
)  # fmt: skip
def test_dst_gap_and_fold(zone: ZoneInfo, rows: list[str], tmp_path: Path) -> None:
    text = "customer_id,start,end\n" + "".join(f"c{i},{r}\n" for i, r in enumerate(rows))
    rows_log = read_incidents([write(tmp_path / "dst.csv", text)], zone)
    col = read_columnar([str(tmp_path / "dst.csv")], zone)
    assert col is not None
    assert [(i.start, i.end) for i in columnar.iter_rows(col)] == [
        (i.start, i.end) for i in rows_log
    ]
    t = terms(zone, "2025-12-01 00:00:00")
    assert outcome(col, t) == outcome(rows_log, t)


def test_more_rows_than_one_block(tmp_path: Path) -> None:
    """Past the byte parser's block size, around New York's fall-back day, a few slow forms."""
    rng = random.Random(7)
    base = datetime(2025, 10, 20)
    lines = ["customer_id,service,start,end,impact"]
    for _ in range(columnar._CHUNK + 5000):
        s = base + timedelta(minutes=rng.randrange(20 * 1440))
        e = s + timedelta(minutes=rng.randrange(300))
        start = f"{s:%Y-%m-%d %H:%M:%S}" if rng.random() < 0.9 else f"{s:%Y-%m-%dT%H:%M}"
        end = "" if rng.random() < 0.01 else f"{e:%Y-%m-%d %H:%M:%S}"
        impact = "0.5" if rng.random() < 0.001 else ""
        lines.append(f"c{rng.randrange(50)},s{rng.randrange(3)},{start},{end},{impact}")
    path = write(tmp_path / "big.csv", "\n".join(lines) + "\n")
    rows_log, col = read_incidents([path], NEW_YORK), read_columnar([path], NEW_YORK)
    assert col is not None
    t = terms(NEW_YORK, "2025-11-05 00:00:00")
    assert outcome(col, t) == outcome(rows_log, t)


def test_header_only(tmp_path: Path) -> None:
    for name, text in (("nl.csv", HEADER), ("crlf.csv", HEADER.replace("\n", "\r\n"))):
        path = write(tmp_path / name, text)
        col = read_columnar([path], SHANGHAI)
        if col is None:
            continue  # declining is allowed; a wrong report is not
        rows_log = read_incidents([path], SHANGHAI)
        t = terms(SHANGHAI, "2025-06-28 12:00:00")
        for kwargs in ({}, {"months": [Month(2025, 6)]}, {"contracts": book(tmp_path)}):
            assert outcome(col, t, **kwargs) == outcome(rows_log, t, **kwargs)


def test_several_files(tmp_path: Path) -> None:
    """Keys spanning files, each file with its own columns, BOM and line ends."""
    a = write(tmp_path / "a.csv", HEADER + (
        "INC-1,acme,compute,outage,2025-05-03 02:14:00,2025-05-03 02:31:30,\n"
        "INC-2,globex,database,outage,2025-05-14 07:57:01,2025-05-14 09:30:00,30%\n"
    ), crlf=True)  # fmt: skip
    b = write(tmp_path / "b.csv", (
        "Start,Customer_ID,Summary,Service,End\n"
        "2025-05-03 02:25:00,acme,retry storm,compute,2025-05-03 02:48:10\n"
        "2025-05-20 10:00:00,initech,power,storage,2025-05-20 11:00:00\n"
        "2025-06-01 10:00:00,globex,lag,database,2025-06-01 10:30:00\n"
    ), bom=True)  # fmt: skip
    c = write(tmp_path / "c.csv", "start,customer_id,service\n")  # header only
    assert_same([a, b, c], SHANGHAI, "2025-06-28 12:00:00", tmp_path)
    assert_same([c, b, a], SHANGHAI, "2025-06-28 12:00:00", tmp_path)


def test_missing_contract_message_names_file_and_line(tmp_path: Path) -> None:
    """A key first seen in the second file: the same ``FILE:LINE`` as the row reader's."""
    a = write(tmp_path / "a.csv", HEADER + (
        "INC-1,acme,compute,outage,2025-05-03 02:14:00,2025-05-03 02:31:30,\n"
        "INC-2,acme,storage,outage,2025-05-14 07:57:01,2025-05-14 09:30:00,30%\n"
    ))  # fmt: skip
    b = write(tmp_path / "b.csv", "start,end,customer_id,service\n" + (
        "2025-05-03 02:25:00,2025-05-03 02:48:10,acme,compute\n"
        "2025-05-20 10:00:00,2025-05-20 11:00:00,initech,storage\n"
        "2025-05-21 10:00:00,2025-05-21 11:00:00,initech,storage\n"
    ))  # fmt: skip
    rows_log, col = read_incidents([a, b], SHANGHAI), read_columnar([a, b], SHANGHAI)
    assert col is not None
    only_acme = book(tmp_path, text="customer_id,service,monthly_fee\nacme,*,100\n")
    t = terms(SHANGHAI, "2025-06-28 12:00:00", fee=None)
    with pytest.raises(InputError) as by_rows:
        compute_report(rows_log, t, contracts=only_acme)
    with pytest.raises(InputError) as by_columns:
        compute_report(col, t, contracts=only_acme)
    assert str(by_columns.value) == str(by_rows.value)
    assert str(by_rows.value).startswith(f"{b}:3: column 'customer_id': no contract for "
                                         "customer 'initech' service 'storage'")  # fmt: skip
    # A partial-impact key (the row engine's path inside the columnar log) the same way.
    only_initech = book(tmp_path, text="customer_id,service,monthly_fee\ninitech,*,100\n"
                                       "acme,compute,100\n")  # fmt: skip
    assert outcome(col, t, contracts=only_initech) == outcome(rows_log, t, contracts=only_initech)
    assert outcome(col, t, contracts=only_initech)[1][0].startswith(f"{a}:3: ")


def test_data_loss_reference(tmp_path: Path) -> None:
    """Level 2 names the incident id, or ``FILE:LINE`` when the row has none."""
    a = write(tmp_path / "a.csv", HEADER + (
        "INC-1,acme,compute,outage,2025-05-03 02:14:00,2025-05-03 02:31:30,\n"
        ",acme,compute,data_loss,2025-06-07 10:00:00,2025-06-07 10:30:00,0.5\n"
        "INC-9 ,initech,storage,data_loss,2025-06-06 14:00:00,2025-06-06 14:45:00,\n"
    ))  # fmt: skip
    b = write(tmp_path / "b.csv", "start,end,customer_id,category\n" + (
        "2025-05-20 10:00:00,2025-05-20 11:00:00,initech,outage\n"
        "2025-05-21 10:00:00,2025-05-21 11:00:00,umbrella,Data_Loss\n"
    ))  # fmt: skip
    col = assert_same([a, b], SHANGHAI, "2025-06-28 12:00:00", tmp_path)
    report = compute_report(col, terms(SHANGHAI, "2025-06-28 12:00:00"))
    add_data_loss_deadlines(report, col, CALENDAR, SHANGHAI)
    level2 = [d.reference for d in report.deadlines if d.level == 2]
    assert level2 == [f"{a}:3", "INC-9", f"{b}:3"]


# --- order of problems and deadlines -------------------------------------------------------


@pytest.mark.parametrize(
    "rows",
    [
        # simple keys only: (a, y), (b, x), (a, x)
        ["a,y,", "b,x,", "a,x,"],
        # a partial-impact key before a simple one
        ["a,x,0.5", "b,x,"],
    ],
)
def test_missing_contract_problem_order(rows: list[str], tmp_path: Path) -> None:
    text = "customer_id,service,impact,start,end\n" + "".join(
        f"{r},2025-05-0{i + 1} 10:00:00,2025-05-0{i + 1} 11:00:00\n" for i, r in enumerate(rows)
    )
    path = write(tmp_path / "log.csv", text)
    rows_log, col = read_incidents([path], SHANGHAI), read_columnar([path], SHANGHAI)
    assert col is not None
    t = terms(SHANGHAI, "2025-06-28 12:00:00", fee=None)
    assert outcome(col, t, contracts=ContractBook([])) == outcome(
        rows_log, t, contracts=ContractBook([])
    )


def test_data_loss_deadline_order(tmp_path: Path) -> None:
    path = write(tmp_path / "log.csv", HEADER + (
        "L-1,a,x,data_loss,2025-05-01 10:00:00,2025-05-01 11:00:00,\n"
        "L-2,b,x,data_loss,2025-05-02 10:00:00,2025-05-02 11:00:00,\n"
        "L-3,a,x,data_loss,2025-05-03 10:00:00,2025-05-03 11:00:00,\n"
    ))  # fmt: skip
    rows_log, col = read_incidents([path], SHANGHAI), read_columnar([path], SHANGHAI)
    assert col is not None
    t = terms(SHANGHAI, "2025-06-28 12:00:00")
    assert outcome(col, t) == outcome(rows_log, t)


# --- the CLI ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_cli_columnar_output_is_byte_identical(
    fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from slacalc.cli import app

    incidents = ROOT / "samples" / "incidents.csv"
    data = incidents.read_bytes()
    if b'"' in data:  # the fast path declines quotes: test it on a copy without them
        incidents = tmp_path / "incidents.csv"
        incidents.write_bytes(data.replace(b'"', b""))
    args = ["report", str(incidents), "--contracts", str(ROOT / "samples" / "contracts.csv"),
            "--as-of", "2025-06-28T12:00:00+08:00", "--format", fmt]  # fmt: skip
    for name in [n for n in os.environ if n.startswith("SLACALC_")]:
        monkeypatch.delenv(name)
    taken: list[bool] = []
    real = columnar.read_columnar

    def spy(paths: list[str], tz: Any) -> Any:
        log = real(paths, tz)
        taken.append(log is not None)
        return log

    monkeypatch.setattr(columnar, "read_columnar", spy)
    monkeypatch.setattr(columnar, "MIN_BYTES", 10**12)
    by_rows = CliRunner().invoke(app, args)
    assert taken == []
    monkeypatch.setattr(columnar, "MIN_BYTES", 0)
    by_columns = CliRunner().invoke(app, args)
    assert taken == [True]  # the fast path really ran
    assert by_rows.exit_code == by_columns.exit_code == 0, by_columns.output
    assert by_columns.stdout_bytes == by_rows.stdout_bytes
    assert by_columns.stderr_bytes == by_rows.stderr_bytes
    assert by_rows.stdout_bytes.strip()
