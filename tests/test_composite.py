"""Composite services: serial, redundant and weighted, from a contracts row's ``composite``
column, checked by hand and against a brute-force second-by-second oracle."""

from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mixins import run

import slacalc
from slacalc.terms.composite import parse_composite

AS_OF = "2025-07-01T00:00:00Z"
IMPACTS = ["1", "0.5", "0.25", "0.3"]
WINDOW = 1200  # seconds after 2025-05-10 00:00:00 UTC the generated incidents fall in


def test_cells_parse_each_kind() -> None:
    assert parse_composite("serial:web, db", "shop").parts == ("web", "db")
    assert parse_composite("Redundant:a,b", "pair").kind == "redundant"
    weighted = parse_composite("weighted:web=2,db=0.5", "portal")
    assert weighted.weights == (Fraction(2), Fraction(1, 2))
    assert weighted.text() == "weighted:web=2,db=0.5"


@pytest.mark.parametrize(
    "text, message",
    [
        ("serial", "expected serial:A,B"),
        ("parallel:a,b", "expected serial:A,B"),
        ("serial:web", "two or more parts"),
        ("serial:web,", "two or more parts"),
        ("serial:web,web", "named twice"),
        ("serial:web,shop", "another service"),
        ("weighted:web=2,db", "every part a weight"),
        ("serial:web=2,db=1", "every part a weight"),
        ("weighted:web=0,db=1", "above 0"),
        ("weighted:web=1e3,db=1", "above 0"),
    ],
)
def test_bad_cells_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_composite(text, "shop")


def test_a_bad_cell_is_a_problem_on_its_line(tmp_path: Path) -> None:
    contracts = tmp_path / "contracts.csv"
    contracts.write_text(
        'customer_id,service,monthly_fee,composite\nacme,shop,10,"serial:web"\n'
        'acme,,10,"serial:a,b"\n',
        encoding="utf-8",
    )
    log = tmp_path / "log.csv"
    log.write_text("customer_id,service,start,end\n", encoding="utf-8")
    result = run(["report", str(log), "--contracts", str(contracts), "-f", "csv"])
    assert result.exit_code == 1
    assert f"{contracts}:2: column 'composite'" in result.stderr
    assert f"{contracts}:3: column 'composite'" in result.stderr


def _write(tmp_path: Path, rows: list[tuple[str, int, int, str, str]], composites: dict) -> tuple:
    log = tmp_path / "log.csv"
    lines = ["incident_id,customer_id,service,start,end,category,impact"]
    for i, (part, s, e, category, impact) in enumerate(rows):
        shown = impact if category == "outage" else ""
        lines.append(f"I{i},acme,{part},{_at(s)},{_at(e)},{category},{shown}")
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    contracts = tmp_path / "contracts.csv"
    lines = ["customer_id,service,monthly_fee,composite"]
    parts = sorted(
        {"web", "db", "cache"}
        | {p for c in composites.values() for p in parse_composite(c, "x").parts}
    )
    lines += [f"acme,{p},100," for p in parts]
    lines += [f'acme,{name},1000,"{text}"' for name, text in composites.items()]
    contracts.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(log), str(contracts)


def _at(second: int) -> str:
    return f"2025-05-10T00:{second // 60:02d}:{second % 60:02d}Z"


def _downtime(log: str, contracts: str) -> dict[str, Fraction]:
    """Each key's May downtime in seconds, exactly, as the report computes it."""
    with slacalc.report([log], contracts=contracts, tz="UTC", as_of=AS_OF) as result:
        report = result.report
        cols, n_m = report.cols, len(report.months)
        month = [m.text for m in report.months].index("2025-05")
        out = {}
        for k, (_, service) in enumerate(report.keys):
            r = k * n_m + month
            den = cols["den"] if not hasattr(cols["den"], "__len__") else cols["den"][r]
            out[service] = Fraction(int(cols["down"][r]), int(den) * 1_000_000)
        return out


def _loss(rows: list, part: str, t: int) -> Fraction:
    """A part's loss in second ``t``: 0 under maintenance, else its largest active impact."""
    active = [(c, i) for p, s, e, c, i in rows if p == part and s <= t < e]
    if any(c == "maintenance" for c, _ in active):
        return Fraction(0)
    return max((Fraction(i) for c, i in active), default=Fraction(0))


incident = st.tuples(
    st.sampled_from(["web", "db", "cache"]),
    st.integers(0, WINDOW - 1),
    st.integers(1, 600),
    st.sampled_from(["outage", "outage", "outage", "maintenance"]),
    st.sampled_from(IMPACTS),
).map(lambda x: (x[0], x[1], min(x[1] + x[2], WINDOW), x[3], x[4]))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(incident, min_size=1, max_size=8), w=st.integers(1, 5))
def test_composites_match_a_second_by_second_oracle(tmp_path: Path, rows: list, w: int) -> None:
    composites = {
        "shop": "serial:web,db,cache",
        "pair": "redundant:web,db",
        "portal": f"weighted:web={w},db=1,cache=2",
    }
    got = _downtime(*_write(tmp_path, rows, composites))
    seconds = range(WINDOW)
    parts = ("web", "db", "cache")
    loss = {p: [_loss(rows, p, t) for t in seconds] for p in parts}
    assert got.get("web", 0) == sum(loss["web"])
    # serial: the largest loss of any part, but a part's maintenance never hides another's
    # loss; an instant only some part is in maintenance and none down counts nothing
    assert got["shop"] == sum(max(loss[p][t] for p in parts) for t in seconds)
    # redundant: down only while both are (the smallest loss); a part in maintenance is
    # taken as down for the rule, and that time is then excluded, not downtime
    expected_pair = Fraction(0)
    for t in seconds:
        web, db = loss["web"][t], loss["db"][t]
        expected_pair += min(web, db)
    assert got["pair"] == expected_pair
    # weighted: the weighted mean of the parts' downtime over the month
    weights = {"web": w, "db": 1, "cache": 2}
    assert got["portal"] == sum(weights[p] * sum(loss[p]) for p in parts) / sum(weights.values())


def test_hand_checked_month(tmp_path: Path) -> None:
    rows = [
        ("web", 0, 600, "outage", "1"),
        ("db", 300, 900, "outage", "0.5"),
        ("cache", 100, 200, "maintenance", ""),
    ]
    got = _downtime(
        *_write(
            tmp_path,
            rows,
            {"shop": "serial:web,db", "pair": "redundant:web,db", "portal": "weighted:web=2,db=1"},
        )
    )
    assert got["shop"] == 600 + 300 * Fraction(1, 2)  # web 0-600 at 1, then db 600-900 at 0.5
    assert got["pair"] == 300 * Fraction(1, 2)  # both down 300-600: the smaller loss
    assert got["portal"] == (2 * 600 + 1 * 300) / Fraction(3)  # 500 s


def test_weighted_composites_refuse_their_own_incidents(tmp_path: Path) -> None:
    log, contracts = _write(
        tmp_path, [("web", 0, 60, "outage", "1")], {"portal": "weighted:web=2,db=1"}
    )
    with open(log, "a", encoding="utf-8") as fh:
        fh.write("X,acme,portal,2025-05-10T01:00:00Z,2025-05-10T02:00:00Z,outage,1\n")
    result = run(["report", log, "--contracts", contracts, "-f", "csv", "--as-of", AS_OF])
    assert result.exit_code == 1 and f"{log}:3:" in result.stderr
    assert "weighted composite" in result.stderr


def test_explain_and_the_statement_show_a_weighted_composites_parts(tmp_path: Path) -> None:
    log, contracts = _write(
        tmp_path,
        [("web", 0, 600, "outage", "1"), ("db", 300, 900, "outage", "0.5")],
        {"portal": "weighted:web=2,db=1"},
    )
    common = ["--contracts", contracts, "--customer", "acme", "--month", "2025-05"]
    common += ["--tz", "UTC", "--as-of", AS_OF]
    result = run(["explain", log, *common, "--service", "portal", "-f", "json"])
    assert result.exit_code == 0, result.stderr
    (explained,) = json.loads(result.stdout)
    # web down 600 s, db 600 s at half (300 s): (2 x 600 + 1 x 300) / 3 = 500 s of the month
    assert explained["row"]["downtime_seconds"] in (500, "500")
    (note,) = [n for n in explained["notes"] if n["code"] == "weighted_composite"]
    assert note["parts"] == ["web", "db"] and note["weights"] == ["2", "1"]
    # 1 - 600/2678400 and 1 - 300/2678400, in percent, truncated to 8 decimals
    assert note["availabilities"] == ["99.97759856", "99.98879928"]
    page = tmp_path / "acme.html"
    result = run(["statement", log, *common, "-o", str(page)])
    assert result.exit_code == 0, result.stderr
    text = re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8"))  # the words, as shown
    assert "availability = (2 × 99.97759856 % (web) + 1 × 99.98879928 % (db)) ÷ (2 + 1)" in text


def test_a_statement_shows_the_composites_first(tmp_path: Path) -> None:
    log, contracts = _write(
        tmp_path,
        [("web", 0, 600, "outage", "1"), ("db", 300, 900, "outage", "1")],
        {"shop": "serial:web,db", "pair": "redundant:web,db"},
    )
    page = tmp_path / "acme.html"
    args = ["statement", log, "--contracts", contracts, "--customer", "acme", "--month"]
    result = run([*args, "2025-05", "--tz", "UTC", "--as-of", AS_OF, "-o", str(page)])
    assert result.exit_code == 0, result.stderr
    html = page.read_text(encoding="utf-8")
    at = {s: html.find(f'data-service="{s}"') for s in ("pair", "shop", "cache", "db", "web")}
    assert all(v >= 0 for v in at.values()), at
    assert max(at["pair"], at["shop"]) < min(at["cache"], at["db"], at["web"])
