"""The files the fuzzer hands to commands: copies of the samples and fixtures, and hostile files
made for the purpose (empty, binary, NUL bytes, huge numbers, years 0001 and 9999, bad zones,
unclosed quotes, BOMs, CRLF, folders, endless recurrences, ...).

Everything lives in one pool folder made per session, never in the repository: a run that wrote
where it should not can only spoil the pool, and :func:`snapshot` tells when it did. Arguments
name pool files as ``{pool}/NAME``; :data:`ROLES` says which names suit which parameter.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
FIXTURES = ROOT / "tests" / "fixtures"

BOM = "\ufeff"
HEADER = "incident_id,customer_id,service,category,start,end,impact\n"
DISPUTE_HEADER = "dispute_id,customer_id,level,opened_at,resolved_at\n"
CONTRACT_HEADER = "customer_id,service,monthly_fee,currency,sla_target\n"
HUGE = "9" * 5000
BINARY = bytes(range(256)) * 8


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _incidents(*rows: str) -> str:
    return HEADER + "".join(r + "\n" for r in rows)


def _ok(i: int = 1, customer: str = "acme", service: str = "compute") -> str:
    return f"I{i},{customer},{service},outage,2025-05-0{i} 10:00,2025-05-0{i} 11:00,"


def _parquet(kind: str) -> bytes:
    """A Parquet log: the sample's rows as text, as typed columns, or of a wrong type."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    sample = SAMPLES / "incidents.csv"
    strings = pacsv.ConvertOptions(
        column_types={n: pa.string() for n in ("start", "end", "impact", "summary")}
    )
    table = pacsv.read_csv(sample, convert_options=strings)
    if kind == "typed":
        start = pa.array([0, 3_600_000_000] * 2, pa.timestamp("us", tz="UTC"))
        end = pa.array([1_800_000_000, 7_200_000_000] * 2, pa.timestamp("us", tz="UTC"))
        table = pa.table(
            {
                "customer_id": ["acme", "acme", "globex", "globex"],
                "service": ["compute"] * 4,
                "start": start,
                "end": end,
                "impact": pa.array([0.3, 1.0, None, 1e-7]),
            }
        )
    elif kind == "ints":
        table = pa.table(
            {
                "customer_id": ["acme"],
                "service": ["compute"],
                "start": pa.array([2**62]),
                "end": pa.array([-(2**62)]),
            }
        )
    elif kind == "nested":
        table = pa.table(
            {
                "customer_id": pa.array([["a", "b"]]),
                "service": pa.array([{"x": 1}]),
                "start": ["2025-05-01"],
                "end": ["2025-05-02"],
            }
        )
    elif kind == "empty":
        table = table.slice(0, 0)
    elif kind == "far":
        table = pa.table(
            {
                "customer_id": ["acme", "acme"],
                "service": ["compute", "compute"],
                "start": pa.array([-(2**63) + 1, 0], pa.timestamp("ns")),
                "end": pa.array([2**63 - 1, 1], pa.timestamp("ns")),
            }
        )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    data = buffer.getvalue()
    return data[: len(data) // 2] if kind == "cut" else data


def _all_holidays() -> str:
    """Every day from 2023 to 2028 a holiday: no working day to count."""
    from datetime import date, timedelta

    day, end, lines = date(2023, 1, 1), date(2029, 1, 1), ["date,kind"]
    while day < end:
        lines.append(f"{day.isoformat()},holiday")
        day += timedelta(days=1)
    return "\n".join(lines) + "\n"


def _deep(open_: str, close: str, n: int = 100_000) -> str:
    return open_ * n + close * n


_ICS_HEAD = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//fuzz//EN\r\n"
_ICS_TAIL = "END:VCALENDAR\r\n"


def _ics(*events: str) -> str:
    body = "".join(
        f"BEGIN:VEVENT\r\nUID:e{i}@fuzz\r\nDTSTAMP:20250101T000000Z\r\nSUMMARY:maint\r\n"
        f"CATEGORIES:API Gateway\r\n{e}END:VEVENT\r\n"
        for i, e in enumerate(events)
    )
    return _ICS_HEAD + body + _ICS_TAIL


EDGE_CREDIT = """\
name = "edge-credit"
mode = "credit"
default_target = 99.9999999
cap_pct = 0.0001
min_outage_seconds = 86400
round_up_seconds = 86400
min_credit = 1000000000
credit_form = "voucher"
availability_base = "period-minus-excluded"

[service_hours]
days = "working"
from = "23:59"
to = "24:00"

[claim_window]
opens_after_working_days = 60
closes_after_months = 120

[[tiers]]
target = 99.9999999
bands = [ { below = 99.9999999, credit_pct = 0.0001 }, { below = 0.0001, credit_pct = 100 } ]

[[tiers]]
target = 0.0001
credit_pct = 100
"""
EDGE_COEFFICIENT = """\
name = "edge-coefficient"
default_target = 99.95
round_up_seconds = 1
min_outage_seconds = 0

[service_hours]
days = "mon-fri"
from = "00:00"
to = "00:01"

[claim_window]
opens_after_working_days = 0
closes_after_days = 3660

[[tiers]]
target = 99.95
coefficient = 1000000
credit_pct = 100

[[tiers]]
target = 99.99999999
coefficient = 0.000001
"""

_ODD = "\x1b[31m=cmd\u202e"
_NAMES = re.compile(r"name|summary|title|^id$|description|service|tenant|instance|component")
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d")


def _mutate(value: Any, how: str, n: list[int]) -> Any:
    """A JSON document with every value of one kind changed (see :func:`_json_mutants`)."""
    n[0] += 1
    if isinstance(value, dict):
        out = {k: _mutate(v, how, n) for k, v in value.items()}
        if how == "odd-text":  # names and ids only: a status or version stays one
            out = {
                k: _ODD + v + "\x00é" if isinstance(v, str) and _NAMES.search(k) else v
                for k, v in out.items()
            }
        if how == "nulls":
            out = {
                k: None if isinstance(v, str) and _TIMESTAMP.match(v) else v for k, v in out.items()
            }
        return out
    if isinstance(value, list):
        items = [_mutate(v, how, n) for v in value]
        return items + items if how == "twice" else items
    if isinstance(value, str) and _TIMESTAMP.match(value):
        if how == "far":
            return "2199-12-30T00:00:00Z" if n[0] % 2 else "1900-01-02T00:00:00Z"
        if how == "bad-times":
            return ["not a time", "", "9999-99-99T99:99:99Z", "2025-02-29T10:00:00Z"][n[0] % 4]
        if how == "reversed":
            return value[:4] + "-12-31T23:59:59Z" if n[0] % 2 else value[:4] + "-01-01T00:00:00Z"
    if how == "types" and n[0] % 3 == 0:
        return {str: 12345, int: "x", float: [], bool: "true", type(None): {}}.get(
            type(value), value
        )
    if how == "huge" and isinstance(value, int | float) and not isinstance(value, bool):
        return 10**30 if isinstance(value, int) else 1e308
    return value


_HOWS = ("far", "bad-times", "reversed", "nulls", "types", "huge", "odd-text", "twice")


def _json_mutants() -> dict[str, Content]:
    """Each JSON and JSON Lines import fixture with its timestamps far or wrong, its values
    of the wrong type, huge, odd text or given twice: documents that parse, so that the
    importers' own rules are reached."""
    out: dict[str, Content] = {}
    sources = [SAMPLES / "imports" / "statuspage.json"]
    sources += sorted(p for p in (FIXTURES / "import").iterdir() if p.suffix in (".json", ".jsonl"))
    for path in sources:
        text = path.read_text(encoding="utf-8")
        for how in _HOWS:
            name = f"mut-{how}-{path.name}"
            if path.suffix == ".jsonl":
                lines = []
                for line in text.splitlines():
                    try:
                        lines.append(json.dumps(_mutate(json.loads(line), how, [0])))
                    except ValueError:
                        lines.append(line)
                out[name] = "\n".join(lines) + "\n"
            else:
                out[name] = json.dumps(_mutate(json.loads(text), how, [0]), indent=1)
    return out


def _ics_mutants() -> dict[str, Content]:
    """The iCalendar fixtures with their times far or wrong, endless or huge recurrences and
    unknown zones."""
    out: dict[str, Content] = {}
    changes = {
        "far": [(r"(DT(?:START|END)[^:]*):\d{8}T\d{6}", r"\1:21991229T235959")],
        "bad-times": [(r"(DT(?:START|END)[^:]*):\d{8}", r"\1:20250230")],
        "endless": [
            (r"RRULE:[^\r\n]*", "RRULE:FREQ=MINUTELY"),
            (r"(END:VEVENT)", r"RRULE:FREQ=SECONDLY\r\n\1"),
        ],
        "zones": [(r"TZID=[^:;]*", "TZID=Mars/Olympus")],
        "reversed": [(r"DTEND([^:]*):(\d{4})", r"DTEND\1:1999")],
    }
    for path in sorted((FIXTURES / "import").glob("*.ics")):
        text = path.read_text(encoding="utf-8")
        for how, subs in changes.items():
            changed = text
            for pattern, repl in subs:
                changed = re.sub(pattern, repl, changed)
            out[f"mut-{how}-{path.name}"] = changed
    return out


# name -> content (text, bytes, or a function making either). Text is written as UTF-8.
Content = str | bytes | Callable[[], str | bytes]

_SAMPLE_INCIDENTS = _text(SAMPLES / "incidents.csv")

INCIDENT_FILES: dict[str, Content] = {
    "incidents.csv": _SAMPLE_INCIDENTS,
    "broken-export.csv": _text(SAMPLES / "broken-export.csv"),
    "imported.jsonl": _text(SAMPLES / "imports" / "incidents.jsonl"),
    **{p.name: p.read_bytes() for p in sorted(FIXTURES.glob("*.csv"))},
    **{p.name: p.read_bytes() for p in sorted(FIXTURES.glob("*.jsonl"))},
    # valid, at the edges: the supported years 1900-2199, a microsecond, whole months,
    # every category, formula-like and non-Latin names
    "inc-edges.csv": _incidents(
        "I1,acme,compute,outage,1900-01-03 00:00,1900-01-03 00:00:00.000001,",
        "I2,acme,compute,outage,2199-12-30 00:00,2199-12-30 23:59:59.999999,0.0000001",
        "I3,acme,storage,data_loss,2199-12-29 10:00,,",
        "I4,globex,database,maintenance,2025-05-01 00:00,2025-06-01 00:00,",
        "I5,globex,database,outage,2025-05-01 00:00,2025-06-01 00:00,1",
        "I6,globex,database,excluded,2025-05-15 00:00,2025-05-16 00:00,",
        'I7,"=HYPERLINK(""x"")",compute,outage,2025-05-03 10:00,2025-05-03 10:00:00.5,50%',
        "I8,客户,计算,outage,2025-05-31T23:59:59.999999+14:00,2025-06-01T00:00:00.000001-12:00,",
    ),
    "inc-empty.csv": "",
    "inc-newline.csv": "\n\n",
    "inc-bom-only.csv": BOM,
    "inc-header-only.csv": HEADER,
    "inc-bom.csv": BOM + _SAMPLE_INCIDENTS,
    "inc-crlf.csv": _SAMPLE_INCIDENTS.replace("\n", "\r\n"),
    "inc-cr.csv": _SAMPLE_INCIDENTS.replace("\n", "\r"),
    "inc-bom-crlf.csv": BOM + _SAMPLE_INCIDENTS.replace("\n", "\r\n"),
    "inc-binary.csv": BINARY,
    "inc-nul.csv": _incidents(_ok(1), "I2,ac\x00me,compute,outage,2025-05-02 10:00,,"),
    "inc-nul-only.csv": b"\x00" * 4096,
    "inc-unclosed-quote.csv": _incidents(
        _ok(1), 'I2,acme,"compute,outage,2025-05-02 10:00,,', _ok(3)
    ),
    "inc-quoted-newline.csv": _incidents('I1,"ac\nme",compute,outage,2025-05-01 10:00,,'),
    "inc-huge-impact.csv": _incidents(
        "I1,acme,compute,outage,2025-05-01 10:00,2025-05-01 11:00,1e999999999",
        f"I2,acme,compute,outage,2025-05-02 10:00,2025-05-02 11:00,{HUGE}",
        "I3,acme,compute,outage,2025-05-03 10:00,2025-05-03 11:00,1e-999999999",
        "I4,acme,compute,outage,2025-05-04 10:00,2025-05-04 11:00,nan",
        "I5,acme,compute,outage,2025-05-05 10:00,2025-05-05 11:00,-inf",
        "I6,acme,compute,outage,2025-05-06 10:00,2025-05-06 11:00,0.0000000000000000000001",
        "I7,acme,compute,outage,2025-05-07 10:00,2025-05-07 11:00,99.999999999999999999%",
    ),
    "inc-tiny-impacts.csv": _incidents(
        "I1,acme,compute,outage,2025-05-01 10:00,2025-05-01 11:00,0.0000001",
        "I2,acme,compute,outage,2025-05-01 10:30,2025-05-01 12:00,0.9999999",
        "I3,acme,compute,outage,2025-05-01 10:45,2025-05-01 10:45:00.000001,1e-6",
        "I4,acme,storage,outage,2025-05-31 23:59:59.999999,2025-06-01 00:00:00.000001,33.3333333%",
    ),
    "inc-years.csv": _incidents(
        "I1,acme,compute,outage,0001-01-01 00:00,0001-01-01 01:00,",
        "I2,acme,compute,outage,9999-12-31 22:00,9999-12-31 23:59:59.999999,",
        "I3,acme,compute,outage,0001-01-01T00:00:00Z,9999-12-31T23:59:59Z,",
        "I4,acme,compute,outage,1969-12-31T23:59:59Z,1970-01-01T00:00:01Z,",
    ),
    "inc-long-span.csv": _incidents(
        "I1,acme,compute,outage,1900-01-01 00:00,2100-01-01 00:00,",
        "I2,globex,storage,maintenance,1970-01-01 00:00,2070-01-01 00:00,",
    ),
    "inc-year-one.csv": _incidents("I1,acme,compute,outage,0001-01-01 00:00,0001-01-01 00:30,"),
    "inc-year-9999.csv": _incidents("I1,acme,compute,outage,9999-12-31 23:00,9999-12-31 23:30,"),
    "inc-ongoing.csv": _incidents(
        "I1,acme,compute,outage,2025-05-01 10:00,,",
        "I2,acme,compute,outage,9999-12-31 23:00,,",
        "I3,acme,compute,outage,0001-01-01 00:00,,",
    ),
    "inc-bad-zones.csv": _incidents(
        "I1,acme,compute,outage,2025-05-01 10:00 Mars/Olympus,2025-05-01 11:00,",
        "I2,acme,compute,outage,2025-05-01T10:00+25:00,2025-05-01T11:00+08:00,",
        "I3,acme,compute,outage,2025-05-01 10:00 EST,2025-05-01 11:00 EST,",
        "I4,acme,compute,outage,2025-05-01 10:00 UTC+8,2025-05-01 11:00 GMT-14,",
        "I5,acme,compute,outage,2025-05-01T10:00+08:60,2025-05-01T11:00-23:59,",
        "I6,acme,compute,outage,2025-05-01 10:00 Asia/Shanghai,2025-05-01 11:00 +0800,",
    ),
    "inc-dst.csv": _incidents(
        "I1,acme,compute,outage,2025-03-09 02:30,2025-03-09 03:30,",
        "I2,acme,compute,outage,2025-11-02 01:30,2025-11-02 01:45,",
        "I3,acme,compute,outage,2025-03-30 02:30,2025-10-26 02:30,",
    ),
    "inc-odd-times.csv": _incidents(
        "I1,acme,compute,outage,2024-02-29 10:00,2024-02-29 11:00,",
        "I2,acme,compute,outage,2016-12-31T23:59:60Z,2017-01-01T00:00:01Z,",
        "I3,acme,compute,outage,2025-05-01T24:00:00,2025-05-02T00:00:00,",
        "I4,acme,compute,outage,1719561600,1719565200,",
        "I5,acme,compute,outage,2025-05-01 10:00:00.123456789,2025-05-01 10:00:00.9999999999,",
        "I6,acme,compute,outage,May 1 2025 10am,May 1 2025 11am,",
        "I7,acme,compute,outage,2025-W18-4,2025-W18-5,",
        "I8,acme,compute,outage,2025-121,2025-122,",
        "I9,acme,compute,outage,03/04/2025 10:00,04/05/2025 10:00,",
    ),
    "inc-start-after-end.csv": _incidents(
        "I1,acme,compute,outage,2025-05-02 10:00,2025-05-01 10:00,"
    ),
    "inc-all-maintenance.csv": _incidents(
        "I1,acme,compute,maintenance,2025-04-01 00:00,2025-07-01 00:00,",
        "I2,acme,compute,outage,2025-05-10 00:00,2025-05-10 01:00,",
        "I3,acme,storage,excluded,2025-04-01 00:00,2025-07-01 00:00,",
    ),
    "inc-whole-month.csv": _incidents(
        "I1,acme,compute,outage,2025-04-01 00:00,2025-07-01 00:00,",
        "I2,acme,compute,data_loss,2025-05-01 00:00,2025-06-01 00:00,1",
    ),
    "inc-categories.csv": _incidents(
        "I1,acme,compute,OUTAGE,2025-05-01 10:00,2025-05-01 11:00,",
        "I2,acme,compute,incident,2025-05-02 10:00,2025-05-02 11:00,",
        "I3,acme,compute,,2025-05-03 10:00,2025-05-03 11:00,",
        "I4,acme,compute,Maintenance ,2025-05-04 10:00,2025-05-04 11:00,",
    ),
    "inc-latin1.csv": _incidents(_ok(1)).encode()
    + "I2,Zürich,compute,outage,2025-05-02 10:00,,\n".encode("latin-1"),
    "inc-utf16.csv": (BOM + _SAMPLE_INCIDENTS).encode("utf-16-le"),
    "inc-bad-utf8.csv": _incidents(_ok(1)).encode()
    + b"I2,\xed\xa0\x80\xff,compute,outage,2025-05-02 10:00,,\n",
    "inc-long-cell.csv": _incidents(
        f"I1,{'a' * 200_000},compute,outage,2025-05-01 10:00,2025-05-01 11:00,"
    ),
    "inc-many-columns.csv": ",".join(
        ["customer_id", "service", "start", "end"] + [f"c{i}" for i in range(5000)]
    )
    + "\n"
    + ",".join(["acme", "compute", "2025-05-01 10:00", "2025-05-01 11:00"] + ["x"] * 5000)
    + "\n",
    "inc-ragged.csv": _incidents(
        "I1,acme,compute,outage,2025-05-01 10:00,2025-05-01 11:00,,extra,more",
        "I2,acme",
        "",
        ",,,,,,",
    ),
    "inc-formula.csv": _incidents(
        "=1+1,=cmd|' /C calc'!A0,+compute,outage,2025-05-01 10:00,2025-05-01 11:00,",
        "@SUM(A1),-acme,\tservice,outage,2025-05-02 10:00,2025-05-02 11:00,",
    ),
    "inc-control-chars.csv": _incidents(
        "I1,\x1b[31macme\x1b[0m,comp\x07ute,outage,2025-05-01 10:00,2025-05-01 11:00,",
        "I2,\u202eemca,\u200bcompute,outage,2025-05-02 10:00,2025-05-02 11:00,",
    ),
    "inc-star.csv": _incidents(
        "I1,*,compute,outage,2025-05-01 10:00,2025-05-01 11:00,",
        "I2,*,*,outage,2025-05-02 10:00,2025-05-02 11:00,",
        "I3,acme,*,outage,2025-05-03 10:00,2025-05-03 11:00,",
    ),
    "inc-duplicate-ids.csv": _incidents(_ok(1), _ok(1), _ok(1, "globex")),
    "inc-duplicate-header.csv": "start,start,end,customer_id,service\n"
    "2025-05-01,2025-05-02,2025-05-03,acme,compute\n",
    "inc-blank-header.csv": ",,,,\n1,2,3,4,5\n",
    "inc-semicolon.csv": _SAMPLE_INCIDENTS.replace(",", ";"),
    "inc-tabs.tsv": _SAMPLE_INCIDENTS.replace(",", "\t"),
    "inc-no-final-newline.csv": _SAMPLE_INCIDENTS.rstrip("\n"),
    "inc-unicode.csv": _incidents(
        "I1,客户,计算,outage,2025-05-01 10:00,2025-05-01 11:00,",
        "I2,Zürich Re 上海分公司,storage,outage,２０２５-05-02 10:00,2025-05-02 11:00,１",
    ),
    "inc.parquet": lambda: _parquet("text"),
    "inc-typed.parquet": lambda: _parquet("typed"),
    "inc-ints.parquet": lambda: _parquet("ints"),
    "inc-nested.parquet": lambda: _parquet("nested"),
    "inc-empty.parquet": lambda: _parquet("empty"),
    "inc-far.parquet": lambda: _parquet("far"),
    "inc-cut.parquet": lambda: _parquet("cut"),
    "inc-csv-named.parquet": _SAMPLE_INCIDENTS,
    "inc.jsonl": "".join(
        f'{{"customer_id": "acme", "service": "compute", "start": "2025-05-0{i} 10:00", '
        f'"end": "2025-05-0{i} 11:00", "impact": 0.5}}\n'
        for i in range(1, 5)
    ),
    "inc-bom.jsonl": BOM
    + '{"customer_id": "acme", "service": "compute", "start": "2025-05-01 10:00"}\n',
    "inc-junk.jsonl": '{\n[1,2]\nnull\n"text"\n{"customer_id": 1e999999999}\n{} {}\n',
    "inc-numbers.jsonl": '{"customer_id": "acme", "service": "compute", "start": 1e999999999, '
    '"end": ' + HUGE + ', "impact": NaN}\n{"customer_id": "acme", "service": "compute", '
    '"start": "2025-05-01 10:00", "end": "2025-05-01 11:00", "impact": Infinity}\n',
    "inc-deep.jsonl": _deep("[", "]") + "\n",
    "inc-deep-object.jsonl": '{"a":' * 50_000 + "1" + "}" * 50_000 + "\n",
    "inc-duplicate-keys.jsonl": '{"customer_id": "acme", "customer_id": "globex", '
    '"service": "compute", "start": "2025-05-01 10:00", "end": "2025-05-01 11:00"}\n',
    "inc-json-types.jsonl": '{"customer_id": ["acme"], "service": {"a": 1}, "start": true, '
    '"end": null, "impact": "50%"}\n{"customer_id": 12, "service": 3.5, '
    '"start": "2025-05-01", "end": "2025-05-02"}\n',
    "inc-jsonl-named.csv": '{"customer_id": "acme"}\n',
}

CONTRACT_FILES: dict[str, Content] = {
    "contracts.csv": _text(SAMPLES / "contracts.csv"),
    "import-contracts.csv": _text(FIXTURES / "import" / "contracts.csv"),
    "import-contracts-everyone.csv": _text(FIXTURES / "import" / "contracts_everyone.csv"),
    "con-edges.csv": CONTRACT_HEADER
    + "acme,*,0.001,KWD,99.95\n"
    + "acme,storage,999999999,JPY,99.99\n"
    + "globex,*,0.01,USD,99.95\n"
    + '"=cmd",*,100,CNY,99.95\n'
    + "客户,*,100,EUR,99.99\n",
    "con-empty.csv": "",
    "con-header-only.csv": CONTRACT_HEADER,
    "con-bom-crlf.csv": BOM + _text(SAMPLES / "contracts.csv").replace("\n", "\r\n"),
    "con-huge.csv": CONTRACT_HEADER
    + "acme,*,1e999999999,CNY,99.95\n"
    + f"acme,storage,{HUGE},CNY,99.99\n"
    + "globex,*,99999999999999999999999999.99,USD,99.95\n",
    "con-odd-values.csv": CONTRACT_HEADER
    + "acme,*,-100,CNY,99.95\n"
    + "acme,storage,0.000000001,CNY,99.99\n"
    + "globex,*,12.345,KWD,99.95\n"
    + "globex,db,1.2345,CLF,99.9\n"
    + "initech,*,100,XYZ,99.95\n"
    + "umbrella,*,100,JPY,101\n"
    + "hooli,*,100,jpy,99.5\n"
    + "wayne,*,nan,CNY,nan\n"
    + "stark,*,1e-999999999,CNY,1e-99999999\n",
    "con-duplicates.csv": CONTRACT_HEADER + "acme,*,1,CNY,99.95\nacme,*,2,CNY,99.99\n",
    "con-star.csv": CONTRACT_HEADER + "*,*,100,CNY,99.95\n*,compute,5,USD,99.99\n",
    "con-missing-columns.csv": "customer_id,fee\nacme,5\n",
    "con-formula.csv": CONTRACT_HEADER + "=cmd,+svc,100,CNY,99.95\n",
    "con-binary.csv": BINARY,
    "con-unclosed-quote.csv": CONTRACT_HEADER + 'acme,"*,100,CNY,99.95\nglobex,*,1,USD,99.9\n',
}

_SAMPLE_DISPUTES = _text(SAMPLES / "disputes.csv")
DISPUTE_FILES: dict[str, Content] = {
    "disputes.csv": _SAMPLE_DISPUTES,
    "dis-edges.csv": DISPUTE_HEADER
    + "D1,acme,3,2199-12-20 10:00,\n"
    + "D2,acme,1,2199-12-30 23:00,\n"
    + "D3,acme,data_loss,1900-01-03 00:00,2199-12-30 00:00\n"
    + "D4,=cmd,resource_allocation,2025-03-09 02:30,\n"
    + "D5,acme,2,2025-09-30T10:00:00-23:59,2025-09-30T10:00:00+14:00\n",
    "dis-empty.csv": "",
    "dis-header-only.csv": DISPUTE_HEADER,
    "dis-bom-crlf.csv": BOM + _SAMPLE_DISPUTES.replace("\n", "\r\n"),
    "dis-years.csv": DISPUTE_HEADER
    + "D1,acme,1,9999-12-31 23:00,,\n"
    + "D2,acme,3,9999-12-20 10:00,,\n"
    + "D3,acme,2,0001-01-01 00:00,0001-01-02 00:00\n"
    + "D4,acme,data_loss,9999-12-31T23:59:59Z,\n",
    "dis-bad-values.csv": DISPUTE_HEADER
    + "D1,acme,9,2025-09-30 10:00,\n"
    + "D2,acme,0,2025-09-30 10:00,\n"
    + "D3,acme,,2025-09-30 10:00,\n"
    + "D4,acme,2,2025-09-30 10:00 Mars/Olympus,\n"
    + "D5,acme,2,2025-10-01 10:00,2025-09-01 10:00\n"
    + "D6,acme,1.0,2025-02-29 10:00,\n"
    + "D7,acme,DATA_LOSS,1e999999999,\n",
    "dis-duplicates.csv": DISPUTE_HEADER
    + "D1,acme,1,2025-09-30 10:00,\nD1,acme,2,2025-09-30 10:00,\n",
    "dis-missing-columns.csv": "dispute_id,level\nD1,1\n",
    "dis-dst.csv": DISPUTE_HEADER + "D1,acme,1,2025-03-09 02:30,\nD2,acme,2,2025-11-02 01:30,\n",
    "dis-unclosed-quote.csv": DISPUTE_HEADER + 'D1,"acme,1,2025-09-30 10:00,\n',
}

HOLIDAY_FILES: dict[str, Content] = {
    "holidays.csv": "date,kind\n2025-10-11,workday\n2025-10-01,holiday\n",
    "hol-edges.csv": "date,kind\n1900-01-03,workday\n2199-12-31,holiday\n2025-10-11,workday\n",
    "hol-empty.csv": "",
    "hol-header-only.csv": "date,kind\n",
    "hol-bom-crlf.csv": BOM + "date,kind\r\n2025-10-11,workday\r\n",
    "hol-years.csv": "date,kind\n0001-01-01,workday\n9999-12-31,holiday\n9999-12-30,workday\n",
    "hol-bad.csv": "date,kind\n2025-02-30,holiday\n2025-10-11,vacation\n,holiday\n"
    "2025-13-01,workday\n",
    "hol-contradicting.csv": "date,kind\n2025-10-11,holiday\n2025-10-11,workday\n",
    "hol-all-holidays.csv": _all_holidays,
    "hol-no-header.csv": "2025-10-11,workday\n",
    "hol-unclosed-quote.csv": 'date,kind\n"2025-10-11,workday\n',
}

POLICY_FILES: dict[str, Content] = {
    "policy.toml": _text(SAMPLES / "policy.toml"),
    **{p.name: p.read_bytes() for p in sorted(FIXTURES.glob("*.toml"))},
    **{
        f"preset-{p.name}": p.read_bytes()
        for p in sorted((ROOT / "slacalc" / "presets").glob("*.toml"))
    },
    # valid, at the edges of what a policy may say: they get past loading to the computing
    "pol-edge-credit.toml": EDGE_CREDIT,
    "pol-edge-coefficient.toml": EDGE_COEFFICIENT,
    "pol-empty.toml": "",
    "pol-bom-crlf.toml": BOM + _text(SAMPLES / "policy.toml").replace("\n", "\r\n"),
    "pol-invalid.toml": "name = \nmode = coefficient\n[[tiers]\n",
    "pol-unclosed-quote.toml": 'name = "premium\nmode = "credit"\n',
    "pol-huge.toml": "cap_pct = 1e999999999\ndefault_target = 99.95\n[[tiers]]\ntarget = 99.95\n"
    f"coefficient = {HUGE}\ncredit_pct = 1e-999999999\n",
    "pol-huge-int.toml": f"default_target = {HUGE}\n",
    "pol-no-tiers.toml": 'mode = "credit"\ntiers = []\n',
    "pol-contradicting.toml": "default_target = 99.9\n"
    "[[tiers]]\ntarget = 99.95\ncoefficient = 1\ncredit_pct = 10\n"
    "[[tiers]]\ntarget = 99.95\ncoefficient = 2\ncredit_pct = 20\n"
    "[[tiers]]\ntarget = 99.99\n"
    "bands = [{below = 90, credit_pct = 10}, {below = 99, credit_pct = 5}]\n",
    "pol-out-of-range.toml": 'mode = "credit"\ncap_pct = 150\ndefault_target = 100\n'
    "[[tiers]]\ntarget = 100\ncredit_pct = 101\n[[tiers]]\ntarget = 0\ncredit_pct = -1\n"
    "[[tiers]]\ntarget = 0.0000000000000000000001\ncredit_pct = 1\n",
    "pol-edges.toml": 'mode = "credit"\ndefault_target = 99.999999999\ncap_pct = 0\n'
    "min_outage_seconds = 86400\nround_up_seconds = 86400\nmin_credit = 1e20\n"
    'credit_form = "voucher"\navailability_base = "period-minus-excluded"\n'
    "[claim_window]\nopens_after_working_days = 60\ncloses_after_months = 120\n"
    "[[tiers]]\ntarget = 99.999999999\nbands = [{below = 99.999999999, credit_pct = 100}]\n",
    "pol-service-hours.toml": 'default_target = 99.95\n[service_hours]\ndays = "working"\n'
    'from = "24:00"\nto = "00:00"\n[[tiers]]\ntarget = 99.95\ncoefficient = 1.25\n',
    "pol-empty-hours.toml": 'default_target = 99.95\navailability_base = "period-minus-excluded"\n'
    '[service_hours]\ndays = "mon-fri"\nfrom = "08:00"\nto = "08:00"\n'
    "[[tiers]]\ntarget = 99.95\ncoefficient = 1.25\n",
    "pol-excluded-base.toml": 'mode = "credit"\ndefault_target = 99.9\n'
    'availability_base = "period-minus-excluded"\n[service_hours]\ndays = "working"\n'
    "[[tiers]]\ntarget = 99.9\ncredit_pct = 10\n",
    "pol-types.toml": 'name = 5\nmode = ["credit"]\ncap_pct = "ten"\ndefault_target = 1979-05-27\n'
    "[[tiers]]\ntarget = true\ncoefficient = {a = 1}\n[tiers.extra]\nx = 1\n[claim_window]\n"
    "closes_after_days = -1\ncloses_after_months = 1.5\n",
    "pol-unknown-keys.toml": 'nmae = "x"\nmdoe = "credit"\n[[tiers]]\ntraget = 99.95\n',
    "pol-deep.toml": "a = " + _deep("[", "]", 20_000) + "\n",
    "pol-nul.toml": 'name = "a\x00b"\n',
    "pol-binary.toml": BINARY,
    "pol-latin1.toml": 'title = "Zürich"\n'.encode("latin-1"),
}

MAP_FILES: dict[str, Content] = {
    "map.toml": _text(SAMPLES / "imports" / "map.toml"),
    "import-map.toml": _text(FIXTURES / "import" / "map.toml"),
    "map-empty.toml": "",
    "map-invalid.toml": "[services\n",
    "map-odd.toml": '[services]\n"" = ""\n"API" = "*"\n[customers]\n"API" = "acme"\n"x" = []\n'
    '[impact]\nlow = 1e999999999\nhigh = "150%"\nneg = -1\nnan = "nan"\nhuge = ' + HUGE + "\n"
    '[labels]\ncustomer_id = ""\nunknown = "x"\n[extra]\na = 1\n',
    "map-huge-int.toml": f"[impact]\nlow = {HUGE}\n",
    "map-types.toml": "services = 5\ncustomers = [1]\nimpact = {a = {b = 1}}\n",
    "map-deep.toml": "a = " + _deep("[", "]", 20_000) + "\n",
    "map-binary.toml": BINARY,
}

_SP = FIXTURES / "import"
IMPORT_FILES: dict[str, Content] = {
    "statuspage.json": _text(SAMPLES / "imports" / "statuspage.json"),
    **{
        p.name: p.read_bytes()
        for p in sorted(_SP.iterdir())
        if p.suffix in (".json", ".jsonl", ".ics", ".csv") and "contracts" not in p.name
    },
    "imp-empty.json": "",
    "imp-null.json": "null",
    "imp-array.json": "[]",
    "imp-object.json": "{}",
    "imp-truncated.json": '{"incidents": [{"id": "x", "components": [',
    "imp-deep.json": _deep("[", "]"),
    "imp-numbers.json": '{"incidents": [{"id": 1e999999999, "created_at": '
    + HUGE
    + ', "impact": NaN}]}',
    "imp-bom.json": BOM + _text(SAMPLES / "imports" / "statuspage.json"),
    "imp-latin1.json": '{"incidents": [{"name": "Zürich"}]}'.encode("latin-1"),
    "imp-junk.jsonl": "{\n[]\nnull\n"
    + '{"alerts": [{"startsAt": "9999-12-31T23:59:59Z", "endsAt": "0001-01-01T00:00:00Z"}]}\n',
    "imp-endless.ics": _ics(
        "DTSTART:20250101T010000Z\r\nDTEND:20250101T020000Z\r\nRRULE:FREQ=SECONDLY\r\n",
        "DTSTART;TZID=Mars/Olympus:20250101T010000\r\nDURATION:PT1H\r\nRRULE:FREQ=MINUTELY;COUNT=100000000\r\n",
    ),
    "imp-odd.ics": _ics(
        "DTSTART:99991231T230000Z\r\nDTEND:00010101T000000Z\r\n",
        "DTSTART;VALUE=DATE:20250230\r\nDTEND;VALUE=DATE:20250301\r\n",
        "DTSTART:20250101T010000\r\nDURATION:P9999999W\r\n",
        "DTSTART:20250101T010000Z\r\nRRULE:FREQ=YEARLY;UNTIL=99991231T000000Z;BYMONTH=2;BYMONTHDAY=30\r\n",
        "DTSTART:20250101T010000Z\r\nDTEND:20250101T020000Z\r\nEXDATE:notadate\r\nRRULE:FREQ=DAILY;INTERVAL=0\r\n",
    ),
    "imp-unclosed.ics": _ICS_HEAD + "BEGIN:VEVENT\r\nDTSTART:20250101T010000Z\r\n",
    "imp-folded.ics": _ics("DTSTART:2025010\r\n 1T010000Z\r\nDTEND:20250101T0\r\n\t20000Z\r\n"),
    "imp-bad.csv": "id,created_on\nx,1e999999999\n",
    **_json_mutants(),
    **_ics_mutants(),
}

ALL: dict[str, Content] = {
    **INCIDENT_FILES,
    **CONTRACT_FILES,
    **DISPUTE_FILES,
    **HOLIDAY_FILES,
    **POLICY_FILES,
    **MAP_FILES,
    **IMPORT_FILES,
}
# Names that are not regular files made from content: made by build_pool.
FOLDER = "a-folder.csv"
MISSING = "missing.csv"
ODD_PATHS = [FOLDER, MISSING, "a-folder.csv/", "missing-folder/x.csv", "empty-dir"]

ROLES: dict[str, list[str]] = {
    "incidents": list(INCIDENT_FILES),
    "contracts": list(CONTRACT_FILES),
    "disputes": list(DISPUTE_FILES),
    "holidays": list(HOLIDAY_FILES),
    "policy": list(POLICY_FILES),
    "map": list(MAP_FILES),
    "import": list(IMPORT_FILES),
    "any": [*ALL, *ODD_PATHS],
}


def build_pool(folder: Path) -> None:
    """Write every pool file into ``folder`` (made if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in ALL.items():
        data = content() if callable(content) else content
        (folder / name).write_bytes(
            data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
        )
    (folder / FOLDER).mkdir(exist_ok=True)
    (folder / "empty-dir").mkdir(exist_ok=True)


def snapshot(folder: Path) -> dict[str, tuple[int, int, int]]:
    """What each pool entry is (size, modification time, mode): a run must change none."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            info = os.lstat(path)
            out[os.path.relpath(path, folder)] = (info.st_size, info.st_mtime_ns, info.st_mode)
    return out
