"""What the statement tests share: the logs they render, and reading a statement's HTML back."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from fractions import Fraction
from html.parser import HTMLParser
from pathlib import Path

from typer.testing import CliRunner

from slacalc.cli import app

ROOT = Path(__file__).resolve().parent.parent
INCIDENTS = str(ROOT / "samples" / "incidents.csv")
CONTRACTS = str(ROOT / "samples" / "contracts.csv")
AS_OF = "2025-06-28T12:00:00+08:00"
MARKUP_ID = "<script>alert(1)</script>"
MARKUP_SERVICE = '"><img src=x onerror=alert(2)>'

# A month with what a statement must show: ids with markup, partial impacts that overlap, an
# outage split by maintenance, a customer-wide outage, an incident without an id, a data loss
# that opens a working-day deadline across a month end, an ongoing outage, a blip the Tencent
# terms ignore (60 s or less) and one they round up.
_QUOTED = MARKUP_SERVICE.replace('"', '""')
_M = f'{MARKUP_ID},"{_QUOTED}"'  # a key with markup, CSV-quoted
EDGE_LOG = f"""\
incident_id,customer_id,service,category,start,end,impact
<b>X1</b>,{_M},outage,2025-06-03 10:00:00,2025-06-03 10:00:30,
X2,{_M},outage,2025-06-03 11:00:00,2025-06-03 11:05:01,0.5
X3,{_M},outage,2025-06-03 11:02:00,2025-06-03 11:03:00,1
,{_M},maintenance,2025-06-03 11:04:30,2025-06-03 12:00:00,
X4,*,db,outage,2025-06-05 01:00:00,2025-06-05 01:10:00,
X5,tenc,db,data_loss,2025-06-30 22:00:00,2025-07-01 01:00:00,30%
X6,tenc,db,outage,2025-06-29 22:00:00,,
X7,tenc,db,outage,2025-06-29 23:00:00,2025-06-30 00:00:00,
"""
EDGE_CONTRACTS = f"""\
customer_id,service,monthly_fee,currency,sla_target
{MARKUP_ID},*,1000,USD,99.95
tenc,db,5000,CNY,99.95
tenc,*,100,JPY,99.95
quiet,*,300,EUR,99.95
"""
EDGE_AS_OF = "2025-07-02T00:00:00+08:00"


def invoke(args: list[str], **kwargs):
    return CliRunner().invoke(app, args, **kwargs)


def report_rows(incidents: str, contracts: str, month: str, *extra: str) -> list[dict[str, str]]:
    """The report's CSV rows of ``month``."""
    result = invoke(
        ["report", incidents, "--contracts", contracts, "--month", month, "-f", "csv", *extra]
    )
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.stdout)))


def timeline_stretches(
    incidents: str, contracts: str, customer: str, service: str, month: str, *extra: str
) -> list[tuple[str, str, str]]:
    """An oracle for the chart: explain's JSON timeline, touching stretches of the same loss
    joined, as ``(start, end, loss)``."""
    import json

    args = ["--contracts", contracts, "--customer", customer, "--service", service]
    result = invoke(["explain", incidents, *args, "--month", month, "-f", "json", *extra])
    assert result.exit_code == 0, result.output
    out: list[tuple[str, str, str]] = []
    for item in json.loads(result.stdout)[0]["timeline"]:
        if Fraction(item["loss"]) == 0:
            continue
        if out and out[-1][1] == item["start"] and out[-1][2] == item["loss"]:
            out[-1] = (out[-1][0], item["end"], item["loss"])
        else:
            out.append((item["start"], item["end"], item["loss"]))
    return out


@dataclass
class Section:
    """One service's part of a statement as read back from the HTML."""

    service: str
    fields: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # (value, text)
    rects: list[dict[str, str]] = field(default_factory=list)


class StatementReader(HTMLParser):
    """Reads a statement back: each service section's data-field elements and chart rects
    (with its row in the appendix, ``data-row-of="N"``: the N-th service's), every tag seen,
    and the text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[Section] = []
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self._open: list[tuple[str, str, str, list[str]] | None] = []
        self._current: Section | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append((tag, a))
        if tag == "section":
            service = "service" in a.get("class", "").split()
            if service:
                self.sections.append(Section(a["data-service"]))
            self._current = self.sections[-1] if service else None
        if "data-row-of" in a:
            self._current = self.sections[int(a["data-row-of"]) - 1]
        if tag == "rect" and self._current is not None:
            self._current.rects.append(a)
        if "data-field" in a:
            self._open.append((tag, a["data-field"], a.get("data-value", ""), []))
        elif tag not in ("br", "meta", "path", "line", "rect", "input"):
            self._open.append(None)

    def handle_endtag(self, tag: str) -> None:
        if not self._open:
            return
        item = self._open.pop()
        if item is not None and self._current is not None:
            _, name, value, text = item
            self._current.fields.setdefault(name, []).append((value, "".join(text)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        for item in reversed(self._open):
            if item is not None:
                item[3].append(data)
                break


def read_statement(html: str) -> StatementReader:
    reader = StatementReader()
    reader.feed(html)
    reader.close()
    return reader


def write_edge_files(folder: Path) -> tuple[str, str]:
    incidents, contracts = folder / "edge.csv", folder / "edge_contracts.csv"
    incidents.write_text(EDGE_LOG, encoding="utf-8")
    contracts.write_text(EDGE_CONTRACTS, encoding="utf-8")
    return str(incidents), str(contracts)
