"""Golden files: the sample report in CSV and JSON, checked byte for byte.

    slacalc report samples/incidents.csv --contracts samples/contracts.csv \
        --as-of 2025-06-28T12:00:00+08:00 --format csv|json

Rewrite them with ``SLACALC_UPDATE_GOLDEN=1 pytest tests/test_golden.py`` — but only after
checking the new numbers against HAND below, which pins every row to a computation by hand.

Hand computation (Asia/Shanghai, no DST: May = 31 d = 2678400 s, June = 30 d = 2592000 s;
compensation = downtime / period x fee x coefficient, capped at the fee, rounded once half-up;
breached rows are due 72 h after the period ends: 2025-06-04 / 2025-07-04 00:00 +08:00;
as-of 2025-06-28 12:00 +08:00, so May is final and June provisional):

acme,compute (acme,*: 12000 CNY, 99.95, 1.25)
  May: INC-1001 02:14:00-02:31:30 and INC-1002 02:25:00-02:48:10 overlap: one window
       02:14:00-02:48:10 = 34 min 10 s = 2050 s (not 1050 + 1390 = 2440). 2 incidents.
       availability 1 - 2050/2678400 = 0.99923461... -> 99.9234 % < 99.95: breached, band <99.95.
       2050/2678400 x 12000 x 1.25 = 30750000/2678400 = 11.4807... -> 11.48 CNY.
  June: INC-1013 21:00:00-21:00:40 = 40 s; 1 - 40/2592000 = 0.9999845... -> 99.9984, band 99.99.
acme,storage (exact contract wins over acme,*: 30000 CNY, 99.99, 2.50)
  May: maintenance INC-1003 01:00-03:00 (7200 s excluded) overlaps outage INC-1004 02:40-03:20:
       only 03:00-03:20 = 1200 s is downtime. 1 incident (maintenance is not counted).
       1 - 1200/2678400 = 0.99955197... -> 99.9551, band 99.95, < 99.99: breached.
       1200/2678400 x 30000 x 2.50 = 90000000/2678400 = 33.6021... -> 33.60 CNY.
  June: no incident: 100.0000, band 99.999.
globex,database (4500 USD, 99.99, 2.50)
  May: partial impact. INC-1005 07:57:01-09:30:00 at 30 %, INC-1006 08:10-08:14 at 100 %:
       07:57:01-08:10:00 779 s x 0.3 = 233.7; 08:10-08:14 240 s x 1 = 240;
       08:14-09:30 4560 s x 0.3 = 1368; total 1841.7 s. 2 incidents.
       1 - 1841.7/2678400 = 0.99931238... -> 99.9312, band <99.95, breached.
       1841.7/2678400 x 4500 x 2.50 = 20719125/2678400 = 7.7356... -> 7.74 USD.
  June: INC-1014 ongoing from 06-27 03:00 to the as-of 06-28 12:00 = 33 h = 118800 s.
       1 - 118800/2592000 = 0.9541666... -> 95.4166 (truncated, not 95.4167), breached.
       118800/2592000 x 11250 = 515.625 exactly -> half-up 515.63 USD.
globex,network (1800 USD, 99.95)
  May: INC-1007 2025-05-21T16:02:00Z-16:05:30Z = 210 s, i.e. 05-22 00:02 Shanghai: still May.
       1 - 210/2678400 = 0.99992159... -> 99.9921, band 99.99, not breached.
  June: no incident.
initech,compute (initech,*: 1500000 JPY, 99.999, 5.00; JPY has no minor unit)
  INC-1008 05-31 23:50 -> 06-01 00:20 crosses the month boundary: 600 s in May, 1200 s in June,
  counted once in each month.
  May: 1 - 600/2678400 = 0.99977598... -> 99.9775, band 99.95, < 99.999: breached.
       600/2678400 x 1500000 x 5 = 4500000000/2678400 = 1680.107... -> 1680 JPY.
  June: 1 - 1200/2592000 = 0.99953703... -> 99.9537, band 99.95, breached.
       1200/2592000 x 7500000 = 3472.22... -> 3472 JPY.
initech,storage (initech,*)
  May: no incident (the key has June incidents, so it has a May row too).
  June: data loss INC-1009 14:00-14:45 = 2700 s counts as downtime.
       1 - 2700/2592000 = 0.99895833... -> 99.8958, band <99.95, breached.
       2700/2592000 x 7500000 = 7812.5 exactly -> half-up 7813 JPY.
umbrella,compute (8000 EUR, 99.99, 2.50)
  May: no incident.
  June: outage INC-1010 09:00-09:12, excluded window INC-1012 09:10-09:30 (1200 s excluded):
       downtime 09:00-09:10 = 600 s. 1 incident.
       1 - 600/2592000 = 0.99976851... -> 99.9768, band 99.95, breached.
       600/2592000 x 8000 x 2.50 = 12000000/2592000 = 4.6296... -> 4.63 EUR.
umbrella,storage (3000 EUR, 99.95)
  June: INC-1011 09:05-09:08 at 0.5 = 180 x 0.5 = 90 s. 1 - 90/2592000 = 0.99996527...
       -> 99.9965, band 99.99, not breached.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from slacalc.cli import app

ROOT = Path(__file__).parent.parent
GOLDEN = Path(__file__).parent / "golden"
ARGS = [
    "report",
    str(ROOT / "samples" / "incidents.csv"),
    "--contracts",
    str(ROOT / "samples" / "contracts.csv"),
    "--as-of",
    "2025-06-28T12:00:00+08:00",
]
UPDATE = os.environ.get("SLACALC_UPDATE_GOLDEN") == "1"

D05, D06 = "2025-06-04T00:00:00+08:00", "2025-07-04T00:00:00+08:00"
# (customer, service, month): period, downtime, excluded, availability, band, target, breached,
# coefficient, fee, compensation, currency, count, due, status -- from the docstring above.
HAND = {
    ("acme", "compute", "2025-05"): (
        "2678400",
        "2050",
        "0",
        "99.9234",
        "<99.95",
        "99.95",
        "true",
        "1.25",
        "12000.00",
        "11.48",
        "CNY",
        "2",
        D05,
        "final",
    ),
    ("acme", "compute", "2025-06"): (
        "2592000",
        "40",
        "0",
        "99.9984",
        "99.99",
        "99.95",
        "false",
        "1.25",
        "12000.00",
        "0.00",
        "CNY",
        "1",
        "",
        "provisional",
    ),
    ("acme", "storage", "2025-05"): (
        "2678400",
        "1200",
        "7200",
        "99.9551",
        "99.95",
        "99.99",
        "true",
        "2.50",
        "30000.00",
        "33.60",
        "CNY",
        "1",
        D05,
        "final",
    ),
    ("acme", "storage", "2025-06"): (
        "2592000",
        "0",
        "0",
        "100.0000",
        "99.999",
        "99.99",
        "false",
        "2.50",
        "30000.00",
        "0.00",
        "CNY",
        "0",
        "",
        "provisional",
    ),
    ("globex", "database", "2025-05"): (
        "2678400",
        "1841.7",
        "0",
        "99.9312",
        "<99.95",
        "99.99",
        "true",
        "2.50",
        "4500.00",
        "7.74",
        "USD",
        "2",
        D05,
        "final",
    ),
    ("globex", "database", "2025-06"): (
        "2592000",
        "118800",
        "0",
        "95.4166",
        "<99.95",
        "99.99",
        "true",
        "2.50",
        "4500.00",
        "515.63",
        "USD",
        "1",
        D06,
        "provisional",
    ),
    ("globex", "network", "2025-05"): (
        "2678400",
        "210",
        "0",
        "99.9921",
        "99.99",
        "99.95",
        "false",
        "1.25",
        "1800.00",
        "0.00",
        "USD",
        "1",
        "",
        "final",
    ),
    ("globex", "network", "2025-06"): (
        "2592000",
        "0",
        "0",
        "100.0000",
        "99.999",
        "99.95",
        "false",
        "1.25",
        "1800.00",
        "0.00",
        "USD",
        "0",
        "",
        "provisional",
    ),
    ("initech", "compute", "2025-05"): (
        "2678400",
        "600",
        "0",
        "99.9775",
        "99.95",
        "99.999",
        "true",
        "5.00",
        "1500000",
        "1680",
        "JPY",
        "1",
        D05,
        "final",
    ),
    ("initech", "compute", "2025-06"): (
        "2592000",
        "1200",
        "0",
        "99.9537",
        "99.95",
        "99.999",
        "true",
        "5.00",
        "1500000",
        "3472",
        "JPY",
        "1",
        D06,
        "provisional",
    ),
    ("initech", "storage", "2025-05"): (
        "2678400",
        "0",
        "0",
        "100.0000",
        "99.999",
        "99.999",
        "false",
        "5.00",
        "1500000",
        "0",
        "JPY",
        "0",
        "",
        "final",
    ),
    ("initech", "storage", "2025-06"): (
        "2592000",
        "2700",
        "0",
        "99.8958",
        "<99.95",
        "99.999",
        "true",
        "5.00",
        "1500000",
        "7813",
        "JPY",
        "1",
        D06,
        "provisional",
    ),
    ("umbrella", "compute", "2025-05"): (
        "2678400",
        "0",
        "0",
        "100.0000",
        "99.999",
        "99.99",
        "false",
        "2.50",
        "8000.00",
        "0.00",
        "EUR",
        "0",
        "",
        "final",
    ),
    ("umbrella", "compute", "2025-06"): (
        "2592000",
        "600",
        "1200",
        "99.9768",
        "99.95",
        "99.99",
        "true",
        "2.50",
        "8000.00",
        "4.63",
        "EUR",
        "1",
        D06,
        "provisional",
    ),
    ("umbrella", "storage", "2025-05"): (
        "2678400",
        "0",
        "0",
        "100.0000",
        "99.999",
        "99.95",
        "false",
        "1.25",
        "3000.00",
        "0.00",
        "EUR",
        "0",
        "",
        "final",
    ),
    ("umbrella", "storage", "2025-06"): (
        "2592000",
        "90",
        "0",
        "99.9965",
        "99.99",
        "99.95",
        "false",
        "1.25",
        "3000.00",
        "0.00",
        "EUR",
        "1",
        "",
        "provisional",
    ),
}
CAPPED = "false"  # no sample row reaches the cap


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("SLACALC_") and name != "SLACALC_FORMAT":
            monkeypatch.delenv(name)


def run(fmt: str) -> str:
    result = CliRunner().invoke(app, [*ARGS, "--format", fmt])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_golden(fmt: str) -> None:
    path = GOLDEN / f"report.{fmt}"
    out = run(fmt)
    if UPDATE:
        path.write_text(out, encoding="utf-8", newline="")
    assert out == path.read_text(encoding="utf-8")


def test_golden_csv_matches_the_hand_computation() -> None:
    text = (GOLDEN / "report.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    got = {
        (r["customer_id"], r["service"], r["month"]): (
            r["period_seconds"],
            r["downtime_seconds"],
            r["excluded_seconds"],
            r["availability_pct"],
            r["tier_band"],
            r["sla_target_pct"],
            r["breached"],
            r["coefficient"],
            r["monthly_fee"],
            r["compensation"],
            r["currency"],
            r["incident_count"],
            r["compensation_due_at"],
            r["status"],
        )
        for r in rows
    }
    assert list(got) == list(HAND)  # also the order: customer, service, month
    assert got == HAND
    assert {r["capped"] for r in rows} == {CAPPED}


def test_golden_json_is_the_csv_with_types() -> None:
    data = json.loads((GOLDEN / "report.json").read_text(encoding="utf-8"))
    rows = list(csv.DictReader(io.StringIO((GOLDEN / "report.csv").read_text(encoding="utf-8"))))
    assert len(data) == len(rows)
    numbers = {"period_seconds", "downtime_seconds", "excluded_seconds", "incident_count"}
    booleans = {"breached", "capped"}
    for obj, row in zip(data, rows, strict=True):
        assert list(obj) == list(row)
        for field, text in row.items():
            value = obj[field]
            if field in numbers:
                assert isinstance(value, int | float) and not isinstance(value, bool)
                assert value == float(text)
            elif field in booleans:
                assert value is (text == "true")
            elif text == "":  # an empty value: null in JSON
                assert value is None, field
            else:
                assert value == text, field
