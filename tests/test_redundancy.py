"""Redundant deployments: the zone column, the deployments file, the [redundancy] rule and the
transform to key-level rows, checked by hand and against a brute-force grid (tests/zone_oracle)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from fractions import Fraction
from itertools import pairwise
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slacalc.computing.engine import cell_totals
from slacalc.computing.redundancy import key_incidents
from slacalc.dates.months import Month, MonthGrid
from slacalc.errors import InputError
from slacalc.reading import read_incidents
from slacalc.reading.deployments import Deployments, read_deployments
from slacalc.terms.redundancy import RedundancyRule, parse_down_when, parse_redundancy
from tests import zone_oracle
from tests.zone_oracle import Deployed, Row

UTC_ZONE = __import__("zoneinfo").ZoneInfo("UTC")
BERLIN = __import__("zoneinfo").ZoneInfo("Europe/Berlin")
FAR = 4_000_000_000 * 1_000_000  # an as-of far after every log


def rule(text: str, min_period: int = 0) -> RedundancyRule:
    found, problems = parse_redundancy(
        {"unit": "zone", "down_when": text, "min_period_seconds": min_period}
    )
    assert not problems and found is not None
    return found


def write(tmp: Path, name: str, text: str) -> str:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return str(path)


LOG = """start,end,customer_id,service,zone,incident_id,category,impact
2025-05-10T10:00:00Z,2025-05-10T11:00:00Z,acme,vm,a,I1,,
2025-05-10T10:30:00Z,2025-05-10T12:00:00Z,acme,vm,b,I2,,
2025-05-10T10:45:00Z,2025-05-10T10:50:00Z,acme,vm,c,I3,,
"""
DEPLOYED_ABC = """customer_id,service,zone,from,to
acme,vm,a,,
acme,vm,b,,
acme,vm,c,,
"""


def month_downtime(
    log: str, deployments: str, r: RedundancyRule, tmp: Path, tz=UTC_ZONE, as_of: int = FAR
) -> dict[tuple[str, str, str], tuple[Fraction, Fraction]]:
    """(downtime, excluded) seconds per (customer, service, month) after the transform."""
    table = read_incidents([write(tmp, "log.csv", log)], tz)
    deps = read_deployments(write(tmp, "deployments.csv", deployments), tz)
    out, _ = key_incidents(table, deps, r, as_of=as_of)
    return engine_cells(out, tz, as_of, Month(2025, 1), Month(2025, 12))


def engine_cells(out, tz, as_of, first, last):
    grid = MonthGrid(first, last, tz)
    totals = cell_totals(out, grid.edges, as_of)
    found = {}
    for k, (customer, service) in enumerate(out.keys):
        for m, (down, excluded, _) in totals.of_key(k).items():
            found[(customer, service, str(grid.months[m]))] = (
                down / 1_000_000,
                Fraction(excluded, 1_000_000),
            )
    return found


# --- hand-computed examples (the same numbers as docs/redundancy.md) -------------------------


@pytest.mark.parametrize(
    ("down_when", "seconds"),
    [("more_than:1", 1800), ("at_least:2", 1800), ("all", 300), ("at_least:1", 7200)],
)
def test_three_zones_each_rule(tmp_path: Path, down_when: str, seconds: int) -> None:
    # a 10:00-11:00, b 10:30-12:00, c 10:45-10:50: two or more down 10:30-11:00, all three
    # 10:45-10:50, any 10:00-12:00.
    got = month_downtime(LOG, DEPLOYED_ABC, rule(down_when), tmp_path)
    assert got == {("acme", "vm", "2025-05"): (Fraction(seconds), Fraction(0))}


def test_all_takes_the_smallest_impact_and_at_least_the_nth_largest(tmp_path: Path) -> None:
    log = """start,end,customer_id,service,zone,impact
2025-05-10T10:00:00Z,2025-05-10T11:00:00Z,acme,vm,a,1
2025-05-10T10:00:00Z,2025-05-10T11:00:00Z,acme,vm,b,50%
2025-05-10T10:00:00Z,2025-05-10T11:00:00Z,acme,vm,c,0.3
"""
    cases = {"all": Fraction(3, 10), "at_least:2": Fraction(1, 2), "at_least:1": Fraction(1)}
    for text, share in cases.items():
        got = month_downtime(log, DEPLOYED_ABC, rule(text), tmp_path)
        assert got[("acme", "vm", "2025-05")][0] == 3600 * share


def test_deployment_changing_mid_incident(tmp_path: Path) -> None:
    # b leaves at 10:30: "all" is then a alone (down); more_than:1 cannot fire with one zone.
    log = """start,end,customer_id,service,zone
2025-05-10T10:00:00Z,2025-05-10T11:00:00Z,acme,vm,a
2025-05-10T10:00:00Z,2025-05-10T11:00:00Z,acme,vm,b
"""
    deps = """customer_id,service,zone,from,to
acme,vm,a,,
acme,vm,b,,2025-05-10T10:30:00Z
"""
    assert month_downtime(log, deps, rule("all"), tmp_path)[("acme", "vm", "2025-05")][0] == 3600
    got = month_downtime(log, deps, rule("more_than:1"), tmp_path)
    assert got[("acme", "vm", "2025-05")][0] == 1800


def test_min_period_drops_short_periods_only(tmp_path: Path) -> None:
    # 59 s of both zones down counts 0 under a 60 s Downtime Period; 60 s counts whole.
    log = """start,end,customer_id,service,zone
2025-05-10T10:00:00Z,2025-05-10T10:00:59Z,acme,vm,a
2025-05-10T10:00:00Z,2025-05-10T10:00:59Z,acme,vm,b
2025-05-10T10:05:00Z,2025-05-10T10:06:00Z,acme,vm,a
2025-05-10T10:05:00Z,2025-05-10T10:06:00Z,acme,vm,b
"""
    deps = "customer_id,service,zone\nacme,vm,a\nacme,vm,b\n"
    got = month_downtime(log, deps, rule("all", 60), tmp_path)
    assert got[("acme", "vm", "2025-05")][0] == 60
    assert month_downtime(log, deps, rule("all"), tmp_path)[("acme", "vm", "2025-05")][0] == 119


def test_zone_maintenance_is_excluded_time_not_downtime(tmp_path: Path) -> None:
    # a down 10:00-11:00, b in maintenance 10:00-10:30: the key would be down with b counted
    # as down (excluded), and is up once b is back.
    log = """start,end,customer_id,service,zone,category
2025-05-10T10:00:00Z,2025-05-10T11:00:00Z,acme,vm,a,outage
2025-05-10T10:00:00Z,2025-05-10T10:30:00Z,acme,vm,b,maintenance
"""
    deps = "customer_id,service,zone\nacme,vm,a\nacme,vm,b\n"
    got = month_downtime(log, deps, rule("all"), tmp_path)
    assert got == {("acme", "vm", "2025-05"): (Fraction(0), Fraction(1800))}


def test_undeployed_zone_counts_nothing_and_is_noted(tmp_path: Path) -> None:
    log = LOG + "2025-05-11T10:00:00Z,2025-05-11T10:05:00Z,acme,vm,d,I4,,\n"
    table = read_incidents([write(tmp_path, "log.csv", log)], UTC_ZONE)
    deps = read_deployments(write(tmp_path, "d.csv", DEPLOYED_ABC), UTC_ZONE)
    out, trace = key_incidents(table, deps, rule("at_least:1"), as_of=FAR)
    (note,) = trace.notes()
    assert (note.file.endswith("log.csv"), note.line, note.kind) == (True, 5, "zone_not_deployed")
    assert note.value == "d" and "300 s" in note.message
    assert engine_cells(out, UTC_ZONE, FAR, Month(2025, 5), Month(2025, 5)) == {
        ("acme", "vm", "2025-05"): (Fraction(7200), Fraction(0))
    }


def test_provenance_unzoned_rows_data_loss_and_trace(tmp_path: Path) -> None:
    log = LOG.replace("c,I3,,", "c,I3,data_loss,") + (
        "2025-05-12T10:00:00Z,2025-05-12T10:10:00Z,acme,vm,,I5,,0.5\n"
        "2025-05-12T10:00:00Z,2025-05-12T10:10:00Z,beta,vm,,I6,,\n"
    )
    table = read_incidents([write(tmp_path, "log.csv", log)], UTC_ZONE)
    deps = read_deployments(write(tmp_path, "d.csv", DEPLOYED_ABC), UTC_ZONE)
    out, trace = key_incidents(table, deps, rule("more_than:1"), as_of=FAR)
    rows = {(i.customer_id, i.incident_id, i.category, i.origin, i.end - i.start) for i in out}
    assert rows == {
        ("acme", "I1+I2+I3", "outage", "zones:a+b+c", 1800 * 10**6),
        ("acme", "I3", "data_loss", "", 0),  # the level-2 dispute keeps its incident
        ("acme", "I5", "outage", "", 600 * 10**6),  # a row without a zone: the whole key
        ("beta", "I6", "outage", "", 600 * 10**6),  # a key without zones: passed through
    }
    seen = trace.of_key(("acme", "vm"))
    assert seen["rule"].text() == "more_than:1"
    assert [z[0] for z in seen["zones_down"]] == ["a", "b", "c"]
    assert seen["periods"][0][:2] == (
        int(datetime(2025, 5, 10, 10, 30, tzinfo=UTC).timestamp()) * 10**6,
        int(datetime(2025, 5, 10, 10, 45, tzinfo=UTC).timestamp()) * 10**6,
    )


def test_every_customer_zone_row_counts_for_the_deployed_customers(tmp_path: Path) -> None:
    log = """start,end,customer_id,service,zone
2025-05-10T10:00:00Z,2025-05-10T11:00:00Z,*,vm,a
2025-05-10T10:30:00Z,2025-05-10T11:00:00Z,acme,vm,b
"""
    deps = "customer_id,service,zone\nacme,vm,a\nacme,vm,b\nbeta,vm,a\nbeta,vm,c\n"
    got = month_downtime(log, deps, rule("all"), tmp_path)
    assert got == {("acme", "vm", "2025-05"): (Fraction(1800), Fraction(0))}


def test_every_customer_zone_rows_that_reach_no_deployment_count_nothing(tmp_path: Path) -> None:
    # the only zone rows are '*' rows in a zone nobody runs in: nothing to transform, but
    # the rows are still zone rows (they once stayed in the table as whole-key rows, and every
    # customer of the service got their downtime), and each is warned of
    log = "start,end,customer_id,service,zone\n2025-05-10T10:00:00Z,2025-05-10T11:00:00Z,*,vm,z\n"
    deps = "customer_id,service,zone\nacme,vm,a\nbeta,vm,b\n"
    table = read_incidents([write(tmp_path, "log.csv", log)], UTC_ZONE)
    read = read_deployments(write(tmp_path, "d.csv", deps), UTC_ZONE)
    out, trace = key_incidents(table, read, rule("all"), as_of=FAR)
    assert len(out) == 0
    (note,) = trace.notes()
    assert note.line == 2 and "3600 s" in note.message and "zone 'z'" in note.message


def test_ongoing_rows_end_at_as_of(tmp_path: Path) -> None:
    log = "start,end,customer_id,service,zone\n2025-05-10T10:00:00Z,,acme,vm,a\n"
    as_of = int(datetime(2025, 5, 10, 10, 0, 30, tzinfo=UTC).timestamp()) * 10**6
    deps = "customer_id,service,zone\nacme,vm,a\n"
    assert month_downtime(log, deps, rule("all", 60), tmp_path, as_of=as_of) == {}
    got = month_downtime(log, deps, rule("all"), tmp_path, as_of=as_of)
    assert got[("acme", "vm", "2025-05")][0] == 30


def test_a_log_without_zones_is_unchanged(tmp_path: Path) -> None:
    table = read_incidents(
        [write(tmp_path, "log.csv", "start,end\n2025-05-10,2025-05-11\n")], UTC_ZONE
    )
    out, trace = key_incidents(table, Deployments.of_rows([]), rule("all"))
    assert out is table and not trace.keys


# --- the zone column in every reader ---------------------------------------------------------


def test_zone_column_in_every_format(tmp_path: Path) -> None:
    csv = write(tmp_path, "a.csv", "start,Resource\n2025-05-10T10:00:00Z, eu-1a \n")
    jsonl = write(tmp_path, "b.jsonl", json.dumps({"start": "2025-05-10", "zone": "eu-1b"}) + "\n")
    parquet = tmp_path / "c.parquet"
    pq.write_table(pa.table({"start": ["2025-05-10"], "ZONE": ["eu-1c"]}), parquet)
    table = read_incidents([csv, jsonl, str(parquet)], UTC_ZONE)
    assert table.zone.to_pylist() == ["eu-1a", "eu-1b", "eu-1c"]
    assert [i.zone for i in table] == ["eu-1a", "eu-1b", "eu-1c"]
    plain = read_incidents([write(tmp_path, "d.csv", "start\n2025-05-10\n")], UTC_ZONE)
    assert plain.zone is None


def test_zone_and_resource_together_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "start,zone,resource\n2025-05-10,a,b\n")
    with pytest.raises(InputError) as err:
        read_incidents([path], UTC_ZONE)
    (problem,) = err.value.problems
    assert problem.line == 1 and "'zone' and 'resource'" in problem.message


# --- the deployments file --------------------------------------------------------------------


def test_deployments_file_problems_name_their_lines(tmp_path: Path) -> None:
    text = """customer_id,service,zone,from,to
acme,vm,a,2025-05-01,2025-05-20
acme,vm,a,2025-05-10,
acme,vm,,2025-05-10,
*,vm,b,,
acme,vm,c,2025-05-10,2025-05-01
acme,vm,d,soon,
acme,vm,a,2025-05-20,2025-05-25
"""
    with pytest.raises(InputError) as err:
        read_deployments(write(tmp_path, "d.csv", text), UTC_ZONE)
    got = [(p.line, p.column) for p in err.value.problems]
    assert got == [
        (3, "from"),
        (4, "zone"),
        (5, "customer_id"),
        (6, "to"),
        (7, "from"),
        (8, "from"),
    ]
    assert "line 2" in err.value.problems[0].message


def test_deployments_read_as_intervals(tmp_path: Path) -> None:
    text = "Customer_ID,service,resource,from,to\nacme,vm,a,2025-05-10 08:00,\n\nacme,vm,b,,\n"
    d = read_deployments(write(tmp_path, "d.csv", text), BERLIN)
    assert d.zone.to_pylist() == ["a", "b"] and d.line.tolist() == [2, 4]
    assert int(d.start[0]) == int(datetime(2025, 5, 10, 6, tzinfo=UTC).timestamp()) * 10**6


# --- the rule -------------------------------------------------------------------------------


def test_rule_parser() -> None:
    assert parse_down_when(" More_Than:2 ") == ("more_than", 2)
    assert rule("all").needed(0) == 1 and rule("all").needed(3) == 3
    assert rule("more_than:1").needed(3) == 2 and rule("at_least:2").needed(5) == 2
    _, problems = parse_redundancy(
        {"unit": "region", "down_when": "at_least:0", "min_period": 60, "min_period_seconds": 1.5}
    )
    keys = sorted(k for k, _ in problems)
    assert keys == [
        "redundancy.down_when",
        "redundancy.min_period",
        "redundancy.min_period_seconds",
        "redundancy.unit",
    ]
    assert "did you mean 'min_period_seconds'" in dict(problems)["redundancy.min_period"]
    assert parse_redundancy("all")[1][0][0] == "redundancy"


# --- against the brute-force grid ------------------------------------------------------------

# (grid start, grid end, step seconds, months): Berlin's spring and autumn DST changes and the
# month edges beside them, and a fine grid across a month edge (sub-minute periods).
WINDOWS = [
    (datetime(2025, 3, 30, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC), 300, (3, 4)),
    (datetime(2025, 10, 25, 12, tzinfo=UTC), datetime(2025, 11, 1, 12, tzinfo=UTC), 300, (10, 11)),
    (datetime(2025, 4, 30, 21, tzinfo=UTC), datetime(2025, 4, 30, 23, tzinfo=UTC), 10, (4, 5)),
]
IMPACTS = {"1": Fraction(1), "0.5": Fraction(1, 2), "30%": Fraction(3, 10)}
IMPACTS["0.1234567891"] = Fraction("0.1234567891")


@st.composite
def scenario(draw):
    lo_dt, hi_dt, step, months = draw(st.sampled_from(WINDOWS))
    lo, hi = int(lo_dt.timestamp()), int(hi_dt.timestamp())
    cells = (hi - lo) // step
    instant = st.integers(0, cells).map(lambda i: lo + i * step)
    customers = ["acme", "beta"]
    zones = ["a", "b", "c"]
    deployments = []
    for c in customers:
        for z in zones:
            cuts = sorted(set(draw(st.lists(instant, max_size=3))))
            bounds = [None, *cuts, None]
            for a, b in pairwise(bounds):
                if draw(st.booleans()):
                    deployments.append(Deployed(c, "vm", z, a, b))
    rows = []
    for _ in range(draw(st.integers(0, 9))):
        s = draw(instant)
        length = draw(st.integers(1, cells // 2 + 1)) * step
        end = None if draw(st.integers(0, 9)) == 0 else min(s + length, hi)
        if end is not None and end <= s:
            continue
        rows.append(
            Row(
                draw(st.sampled_from(customers)),
                "vm",
                draw(st.sampled_from(["", "a", "b", "c", "d"])),
                s,
                end,
                draw(st.sampled_from(["outage", "outage", "data_loss", "maintenance"])),
                draw(st.sampled_from(sorted(IMPACTS))),
            )
        )
    down_when = draw(
        st.sampled_from(["all", "more_than:0", "more_than:1", "more_than:2", "at_least:1"])
        | st.sampled_from(["at_least:2", "at_least:3"])
    )
    min_period = draw(st.sampled_from([0, 0, 30, 60, 300, 900, 3600]))
    as_of = draw(st.sampled_from([hi, lo + (cells // 2) * step]))
    return lo, hi, step, months, deployments, rows, down_when, min_period, as_of


def iso(second: int) -> str:
    return datetime.fromtimestamp(second, UTC).isoformat()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(scenario())
def test_against_the_grid_oracle(tmp_path: Path, case) -> None:
    lo, hi, step, months, deployments, rows, down_when, min_period, as_of = case
    log = "start,end,customer_id,service,zone,category,impact\n" + "".join(
        f"{iso(r.start)},{'' if r.end is None else iso(r.end)},{r.customer},{r.service},"
        f"{r.zone},{r.category},{r.impact}\n"
        for r in rows
    )
    deps = "customer_id,service,zone,from,to\n" + "".join(
        f"{d.customer},{d.service},{d.zone},{'' if d.start is None else iso(d.start)},"
        f"{'' if d.end is None else iso(d.end)}\n"
        for d in deployments
    )
    table = read_incidents([write(tmp_path, "log.csv", log)], BERLIN)
    read = read_deployments(write(tmp_path, "d.csv", deps), BERLIN)
    out, _ = key_incidents(table, read, rule(down_when, min_period), as_of=as_of * 10**6)
    got = engine_cells(out, BERLIN, as_of * 10**6, Month(2025, months[0]), Month(2025, months[1]))
    got = {k: v[0] for k, v in got.items() if v[0]}
    oracle_rows = [
        Row(r.customer, r.service, r.zone, r.start, r.end, r.category, IMPACTS[r.impact])
        for r in rows
    ]
    want = zone_oracle.downtime(
        oracle_rows,
        deployments,
        down_when,
        min_period=min_period,
        lo=lo,
        hi=hi,
        step=step,
        as_of=as_of,
        tz=BERLIN,
    )
    assert got == want


# --- speed: the transform at scale (issue 22, item 4) -----------------------------------------


def test_the_rule_is_asked_once_per_key_with_zone_rows(tmp_path: Path) -> None:
    # a library caller's (or the contracts') rule function runs in Python, once per key: the
    # keys with zone rows only, and the deployments' keys only when a "*" zone row may reach them
    deps = DEPLOYED_ABC + "beta,vm,a,,\nbeta,vm,b,,\ngamma,vm,a,,\n"
    log = LOG + "2025-05-11T10:00:00Z,2025-05-11T11:00:00Z,beta,vm,,I4,,\n"
    table = read_incidents([write(tmp_path, "log.csv", log)], UTC_ZONE)
    read = read_deployments(write(tmp_path, "d.csv", deps), UTC_ZONE)
    asked: list[tuple[str, str]] = []

    def rule_of(key: tuple[str, str]) -> RedundancyRule:
        asked.append(key)
        return rule("all")

    key_incidents(table, read, rule_of, as_of=FAR)
    assert asked == [("acme", "vm")]
    star = log + "2025-05-12T10:00:00Z,2025-05-12T11:00:00Z,*,vm,a,I5,,\n"
    table = read_incidents([write(tmp_path, "star.csv", star)], UTC_ZONE)
    asked.clear()
    out, _ = key_incidents(table, read, rule_of, as_of=FAR)
    assert sorted(asked) == [("acme", "vm"), ("beta", "vm"), ("gamma", "vm")]
    got = engine_cells(out, UTC_ZONE, FAR, Month(2025, 5), Month(2025, 5))
    assert got[("gamma", "vm", "2025-05")][0] == 3600  # its one zone is every zone it runs in


def test_touching_deployments_of_one_zone_are_one(tmp_path: Path) -> None:
    # a zone left and rejoined at the same instant counts as deployed throughout: the same rows
    # and the same stretches (explain's periods) as one deployment
    split = DEPLOYED_ABC.replace("acme,vm,b,,\n", "acme,vm,b,,2025-05-10T10:40:00Z\n")
    split += "acme,vm,b,2025-05-10T10:40:00Z,\n"
    table = read_incidents([write(tmp_path, "log.csv", LOG)], UTC_ZONE)
    found = []
    for deps in (DEPLOYED_ABC, split):
        read = read_deployments(write(tmp_path, "d.csv", deps), UTC_ZONE)
        out, trace = key_incidents(table, read, rule("at_least:2"), as_of=FAR)
        found.append(([(i.start, i.end, i.incident_id) for i in out], trace.of_key(("acme", "vm"))))
    assert found[0][0] == found[1][0]
    assert found[0][1]["periods"] == found[1][1]["periods"]


def zone_log(rows: int, seed: int = 22) -> tuple[str, str]:
    """A month of zone rows (three zones a key, some rows of the whole key, maintenance, data
    loss, partial impacts) and its deployments (one key in twenty moves from zone c to d)."""
    import random

    rnd = random.Random(seed)
    keys = max(rows // 10, 1)
    lo = int(datetime(2025, 5, 1, tzinfo=UTC).timestamp())
    lines = ["incident_id,customer_id,service,zone,start,end,category,impact"]
    for i in range(rows):
        s = lo + rnd.randrange(30 * 86400)
        category = rnd.choices(["outage", "maintenance", "data_loss"], [90, 5, 5])[0]
        impact = "" if category == "maintenance" else rnd.choice(["", "1", "0.5", "30%"])
        lines.append(
            f"I{i},c{rnd.randrange(keys)},vm,{rnd.choice('abcabc ').strip()},{iso(s)},"
            f"{iso(s + rnd.randrange(30, 6 * 3600))},{category},{impact}"
        )
    deps = ["customer_id,service,zone,from,to"]
    mid = iso(lo + 15 * 86400)
    for k in range(keys):
        deps += [f"c{k},vm,a,,", f"c{k},vm,b,,"]
        deps += [f"c{k},vm,c,,{mid}", f"c{k},vm,d,{mid},"] if k % 20 == 0 else [f"c{k},vm,c,,"]
    return "\n".join(lines) + "\n", "\n".join(deps) + "\n"


@pytest.mark.parametrize("down_when", ["all", "more_than:1", "at_least:1"])
def test_fast_paths_agree_with_the_general_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, down_when: str
) -> None:
    # With the int64 bound at 0 (speed.fits says no), nothing is packed: events sorted by
    # lexsort, every piece through both sweeps, overlaps found through time ranks. The rows
    # and the trace must be the same.
    from slacalc import speed

    log, deps = zone_log(3000)
    table = read_incidents([write(tmp_path, "log.csv", log)], UTC_ZONE)
    read = read_deployments(write(tmp_path, "d.csv", deps), UTC_ZONE)
    as_of = int(datetime(2025, 5, 25, tzinfo=UTC).timestamp()) * 10**6  # some still going
    found = []
    for limit in (speed.LIMIT, 0):
        monkeypatch.setattr(speed, "LIMIT", limit)
        out, trace = key_incidents(table, read, rule(down_when, 60), as_of=as_of)
        found.append(
            (
                [(i.customer_id, i.start, i.end, i.category, i.impact, i.incident_id) for i in out],
                {k: v.tolist() for k, v in trace.periods.items()},
                {k: v.tolist() for k, v in trace.undeployed.items()},
            )
        )
    assert found[0] == found[1]
    assert found[0][0] and found[0][1]["key"]
