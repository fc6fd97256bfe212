"""slacalc's own incident log written out (slacalc/writing/incident_log.py): the text of each
format, and the same table and the same report read back from CSV, JSON Lines and Parquet."""

from __future__ import annotations

import io
import itertools
import json
import tempfile
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slacalc.dates.instants import from_us, get_zone
from slacalc.importing import ImportedRow
from slacalc.reading import input_format, read_incidents
from slacalc.writing.incident_log import (
    EXTENSIONS,
    LogFormat,
    log_format,
    log_table,
    write_incident_log,
    write_log_csv,
    write_log_jsonl,
)
from tests.test_native_formats import report_of

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
SHANGHAI = get_zone("Asia/Shanghai")


# --- the writers ------------------------------------------------------------------------------

ROWS = [
    ImportedRow(
        start=datetime(2025, 3, 4, 10, 0, tzinfo=UTC),
        end=datetime(2025, 3, 4, 10, 20, tzinfo=UTC),
        customer_id="*",
        service="api, eu",
        incident_id="p0wsy2mq1x7d/u1",
        category="outage",
        impact=Fraction(3, 10),
        source="statuspage:incidents.json",
    ),
    ImportedRow(
        start=datetime(2025, 3, 16, 1, 30, tzinfo=ZoneInfo("Europe/Berlin")),
        end=datetime(2025, 3, 16, 3, 30, 0, 500, tzinfo=ZoneInfo("Europe/Berlin")),
        customer_id="acme",
        service="=db",
        incident_id='weekly "db" window',
        category="maintenance",
        impact=Fraction(1),
        source="ics:maintenance.ics",
    ),
    ImportedRow(
        start=datetime(2025, 3, 7, 15, 0, 0, 123456, tzinfo=timezone(timedelta(hours=-5))),
        end=None,
        customer_id="globex",
        service="webhooks",
        incident_id="-1",
        category="outage",
        impact=Fraction(1, 8),
        source="pagerduty:-export.csv",
    ),
]


def test_the_csv_log_guards_formulas_quotes_cells_and_keeps_offsets() -> None:
    out = io.StringIO()
    write_log_csv(ROWS, out)
    assert out.getvalue().splitlines() == [
        "start,end,customer_id,service,incident_id,category,impact,source",
        '2025-03-04T10:00:00+00:00,2025-03-04T10:20:00+00:00,*,"api, eu",p0wsy2mq1x7d/u1,'
        "outage,0.3,statuspage:incidents.json",
        "2025-03-16T01:30:00+01:00,2025-03-16T03:30:00.000500+01:00,acme,'=db,"
        '"weekly ""db"" window",maintenance,1,ics:maintenance.ics',
        "2025-03-07T15:00:00.123456-05:00,,globex,webhooks,'-1,outage,0.125,pagerduty:-export.csv",
    ]
    raw = io.StringIO()
    write_log_csv(ROWS, raw, raw=True)
    assert ",=db," in raw.getvalue() and ",-1," in raw.getvalue()


def test_the_jsonl_log_is_one_object_per_line_with_exact_numbers() -> None:
    out = io.StringIO()
    write_log_jsonl(ROWS, out)
    lines = out.getvalue().splitlines()
    assert lines[2] == (
        '{"start": "2025-03-07T15:00:00.123456-05:00", "end": null, "customer_id": "globex", '
        '"service": "webhooks", "incident_id": "-1", "category": "outage", "impact": 0.125, '
        '"source": "pagerduty:-export.csv"}'
    )
    assert [json.loads(line, parse_float=Decimal)["impact"] for line in lines] == [
        Decimal("0.3"),
        1,
        Decimal("0.125"),
    ]


def test_the_parquet_log_has_typed_columns() -> None:
    table = log_table(ROWS)
    assert table.column_names == [
        "start",
        "end",
        "customer_id",
        "service",
        "incident_id",
        "category",
        "impact",
        "source",
    ]
    assert table.schema.field("start").type == pa.timestamp("us", "UTC")
    assert table.schema.field("impact").type == pa.decimal128(4, 3)
    assert table.column("impact").to_pylist() == [Decimal("0.3"), Decimal("1"), Decimal("0.125")]
    assert table.column("end").null_count == 1


@pytest.mark.parametrize("fmt", list(LogFormat))
def test_each_log_format_reads_back_to_the_same_rows(tmp_path: Path, fmt: LogFormat) -> None:
    path = tmp_path / f"log.{fmt}"
    write_incident_log(ROWS, str(path), fmt=fmt, raw=True)
    assert input_format(str(path)) == fmt
    rows = list(read_incidents([str(path)], SHANGHAI))
    assert [
        (r.start, r.end, r.customer_id, r.service, r.incident_id, r.category, r.impact, r.origin)
        for r in rows
    ] == [
        (
            int((w.start - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1)),
            None
            if w.end is None
            else int((w.end - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1)),
            w.customer_id,
            w.service,
            w.incident_id,
            w.category,
            w.impact,
            w.source,
        )
        for w in ROWS
    ]


def test_every_log_extension_is_read_back_in_its_format() -> None:
    for ext, fmt in EXTENSIONS.items():
        assert log_format(None, f"out{ext}") is fmt
        assert input_format(f"out{ext}") == fmt.value


# --- the same report, whichever format holds the log -------------------------------------------


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_the_sample_log_gives_the_same_report_in_every_format(tmp_path: Path, fmt: str) -> None:
    sample = ROOT / "samples" / "incidents.csv"
    contracts = str(ROOT / "samples" / "contracts.csv")
    as_of = "2025-06-28T12:00:00+08:00"
    expected = report_of([str(sample)], contracts=contracts, tz=SHANGHAI, as_of=as_of)
    typed = tmp_path / f"typed.{fmt}"
    write_incident_log(_as_rows(str(sample)), str(typed), fmt=LogFormat(fmt))
    assert report_of([str(typed)], contracts=contracts, tz=SHANGHAI, as_of=as_of) == expected


def _as_rows(path: str) -> list[ImportedRow]:
    """A CSV log's rows as the writer takes them (times in UTC)."""
    return [
        ImportedRow(
            start=from_us(r.start, UTC),
            end=None if r.end is None else from_us(r.end, UTC),
            customer_id=r.customer_id,
            service=r.service,
            incident_id=r.incident_id,
            category=r.category,
            impact=Fraction(r.impact),
            source="csv",
        )
        for r in read_incidents([path], SHANGHAI)
    ]


MARCH = datetime(2025, 3, 1, tzinfo=UTC)
AS_OF = datetime(2025, 4, 1, tzinfo=UTC)
ZONES = [UTC, SHANGHAI, ZoneInfo("America/New_York"), timezone(timedelta(hours=-3, minutes=-30))]
NAMES = st.sampled_from(["api", "db, eu", 'q"uote', "北京 region", "x\u2028y"])


@st.composite
def log_rows(draw: st.DrawFn) -> ImportedRow:
    """A row inside March 2025 (UTC), in any zone, ongoing or not, of any category."""
    start = MARCH + timedelta(
        seconds=draw(st.integers(0, 30 * 86400)),
        microseconds=draw(st.sampled_from([0, 0, 1, 123456, 999999])),
    )
    length = draw(st.one_of(st.none(), st.integers(0, 2 * 86400)))
    end = None if length is None else min(start + timedelta(seconds=length), AS_OF)
    zone = draw(st.sampled_from(ZONES))
    return ImportedRow(
        start=start.astimezone(zone),
        end=None if end is None else end.astimezone(draw(st.sampled_from(ZONES))),
        customer_id=draw(st.sampled_from(["acme", "globex", "*"])),
        service=draw(NAMES),
        incident_id="I" + draw(st.text(alphabet='abc ,"=é', max_size=6)),
        category=draw(
            st.sampled_from(["outage", "outage", "data_loss", "maintenance", "excluded"])
        ),
        impact=draw(
            st.sampled_from([Fraction(1), Fraction(3, 10), Fraction(1, 2), Fraction(1, 8)])
        ),
        source="statuspage:export, 1.json",
    )


def downtime_oracle(rows: list[ImportedRow], customer: str, service: str) -> Decimal:
    """Seconds of weighted downtime of one key in March, slowly and plainly: at each instant the
    largest impact of the active outages, none inside maintenance; ongoing rows end at AS_OF."""
    mine = [r for r in rows if r.service == service and r.customer_id in (customer, "*")]
    spans = [(r.start, r.end or AS_OF, r) for r in mine]
    edges = sorted({t.astimezone(UTC) for s, e, _ in spans for t in (s, e)})
    total = Fraction(0)
    for a, b in itertools.pairwise(edges):
        active = [r for s, e, r in spans if s <= a and e >= b]
        if any(r.category in ("maintenance", "excluded") for r in active):
            continue
        loss = max((r.impact for r in active if r.category in ("outage", "data_loss")), default=0)
        total += loss * Fraction((b - a) // timedelta(microseconds=1), 10**6)
    return Decimal(total.numerator / Decimal(total.denominator)).quantize(
        Decimal("0.001"), rounding=ROUND_HALF_UP
    )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(log_rows(), min_size=1, max_size=20))
def test_random_logs_give_the_same_table_and_report_in_every_format(
    rows: list[ImportedRow],
) -> None:
    contracts = FIXTURES / "import" / "contracts_everyone.csv"
    results = {}
    tables = {}
    with tempfile.TemporaryDirectory() as folder:
        for fmt in LogFormat:
            path = str(Path(folder) / f"log.{fmt}")
            write_incident_log(rows, path, fmt=fmt, raw=True)
            tables[fmt] = [
                r._replace(source="", line=0, start_text="", end_text="")
                for r in read_incidents([path], UTC)
            ]
            results[fmt] = report_of(
                [path], contracts=str(contracts), tz=UTC, as_of=AS_OF.isoformat()
            )
    assert tables[LogFormat.jsonl] == tables[LogFormat.csv]
    assert tables[LogFormat.parquet] == tables[LogFormat.csv]
    assert results[LogFormat.jsonl] == results[LogFormat.csv]
    assert results[LogFormat.parquet] == results[LogFormat.csv]
    records, _ = results[LogFormat.csv]
    march = {(r["customer_id"], r["service"]): r for r in records if r["month"] == "2025-03"}
    for customer in ("acme", "globex"):
        for service in {r.service for r in rows}:
            expected = downtime_oracle(rows, customer, service)
            row = march.get((customer, service))
            shown = Decimal(str(row["downtime_seconds"])) if row else Decimal(0)
            assert shown == expected, (customer, service)
