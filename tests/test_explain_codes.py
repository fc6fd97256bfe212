"""explain's notes and formula steps are values (a code and typed parameters): every renderer says
every code, in each of its languages, and none falls back to raw text; the JSON carries the
codes; renderers only render; the engine runs once for the explanations of many keys."""

from __future__ import annotations

import io
import json
import re
from decimal import Decimal
from fractions import Fraction
from functools import partial
from pathlib import Path

import pytest
from statement_pages import EDGE_AS_OF, MARKUP_ID, write_edge_files
from typer.testing import CliRunner

from slacalc.cli import app
from slacalc.computing import explain as explaining
from slacalc.computing.explain import (
    Availability,
    BelowMinCredit,
    Cap,
    ClaimWindowStep,
    Clipped,
    CustomerWide,
    Due,
    EndsAfterAsOf,
    ErrorRateMonth,
    FullyExcluded,
    LargerImpact,
    MergedWith,
    NoBand,
    NoCompensation,
    NotDowntime,
    Note,
    Ongoing,
    OutageRulesApplied,
    OutsideMonth,
    PartlyExcluded,
    PriceByBand,
    PriceByCoefficient,
    Rounded,
    RoundedPastMonth,
    RuleFired,
    RuleIgnored,
    RuleRounded,
    Said,
    ServiceHours,
    Step,
    TargetBreached,
    TargetMet,
    WeightedComposite,
    ZoneDown,
    explain,
)
from slacalc.dates.instants import get_zone, parse_instant
from slacalc.dates.months import Month
from slacalc.reading import read_incidents
from slacalc.reading.contracts import read_contracts

ROOT = Path(__file__).resolve().parent.parent
INCIDENTS = str(ROOT / "samples" / "incidents.csv")
CONTRACTS = str(ROOT / "samples" / "contracts.csv")
AS_OF = "2025-06-28T12:00:00+08:00"
TZ = get_zone("Asia/Shanghai")
US = 1_000_000
T0 = parse_instant("2025-06-01T00:00:00+08:00", TZ)
HOUR = 3600 * US

# One of every note and step, with plausible numbers: a new code fails here until it has an
# example, and then every test below until every renderer says it.
EXAMPLES: dict[str, Said] = {
    x.code: x
    for x in (
        CustomerWide(),
        Ongoing(T0),
        EndsAfterAsOf(T0),
        OutsideMonth(),
        Clipped(),
        NotDowntime("maintenance"),
        PartlyExcluded(),
        FullyExcluded(),
        LargerImpact(Fraction(3, 10), 1),
        MergedWith(("INC-1", "INC-2")),
        RuleIgnored(1, Fraction(30 * US)),
        RuleRounded(2, Fraction(301 * US), Fraction(360 * US)),
        ServiceHours("working", "08:00", "20:00", 864000 * US),
        OutageRulesApplied(60, 60, 2, 1, Fraction(331 * US), Fraction(360 * US)),
        RoundedPastMonth(Fraction(31 * 86400 * US), Fraction(30 * 86400 * US)),
        ZoneDown("cn-sh-a", T0, T0 + HOUR, Fraction(1), "INC-1"),
        ErrorRateMonth(300, 8928, 0, 4, 3, 130, 16, "0.01299283"),
        WeightedComposite(("web", "db"), ("2", "1"), ("99.86559139", "99.89919354")),
        RuleFired("more_than:1", T0, T0 + HOUR, Fraction(1, 2), False, False),
        Availability(Fraction(18417, 10) * US, 2678400 * US, None, Fraction(1), Decimal("99.93")),
        TargetMet("99.99", Decimal("99.99")),
        TargetBreached("99.95", Decimal("99.99")),
        NoCompensation(),
        PriceByCoefficient(
            Fraction(1200 * US),
            2678400 * US,
            7200 * US,
            Decimal("30000.00"),
            "CNY",
            Decimal("2.50"),
            Fraction(50000, 1488),
        ),
        PriceByBand(Decimal("99.95"), Decimal(10), Decimal("4500.00"), "USD", Fraction(450)),
        NoBand(),
        Cap(Decimal(50), Decimal("100.00"), "EUR", Fraction(50)),
        BelowMinCredit(Decimal("1.00"), "USD"),
        Rounded(2, Decimal("7.74"), "USD", "voucher"),
        Due(T0 + 72 * HOUR, 72),
        ClaimWindowStep(T0, None, "open"),
    )
}


def test_every_code_has_an_example() -> None:
    assert set(EXAMPLES) == set(Note.TYPES) | set(Step.TYPES)
    assert not set(Note.TYPES) & set(Step.TYPES)


@pytest.mark.parametrize("code", sorted(EXAMPLES))
def test_explain_says_every_code_in_english(code: str) -> None:
    from slacalc.writing.explain_view import english

    text = english(EXAMPLES[code], TZ)
    assert text and "{" not in text and "<" not in text


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("code", sorted(EXAMPLES))
def test_the_statement_says_every_code_in_both_languages(code: str, lang: str) -> None:
    from slacalc.writing.statement.messages import MESSAGES, Catalogue
    from slacalc.writing.statement.phrases import say

    msg = say(EXAMPLES[code], TZ)
    assert msg.key in MESSAGES[lang]
    text = str(Catalogue(lang).say(msg))
    assert text and "{" not in text
    if lang == "zh":
        assert re.search("[\u4e00-\u9fff]", text), text


def test_an_unknown_code_is_an_error_never_raw_text() -> None:
    from slacalc.writing.explain_view import english
    from slacalc.writing.statement.messages import LANGS, MESSAGES
    from slacalc.writing.statement.phrases import say

    class Unknown(Said):
        code = "unknown"

    with pytest.raises(KeyError):
        english(Unknown(), TZ)
    with pytest.raises(KeyError):
        say(Unknown(), TZ)
    for lang in LANGS:  # no message that shows a text as it came
        assert all(text != "{text}" for text in MESSAGES[lang].values())


def test_every_claim_status_has_a_message_in_both_languages() -> None:
    from slacalc.computing.pricing import CLAIM_STATES
    from slacalc.writing.statement.messages import LANGS, MESSAGES

    for lang in LANGS:
        for status in filter(None, CLAIM_STATES):
            assert f"claim_status.{status}" in MESSAGES[lang], (lang, status)


def test_parameters_are_typed_and_json_names_their_units() -> None:
    step = EXAMPLES["price_coefficient"]
    assert step.to_dict(TZ) == {
        "step": "price_coefficient",
        "downtime_seconds": 1200,
        "period_seconds": 2678400,
        "excluded_seconds": 7200,
        "fee": "30000.00",
        "currency": "CNY",
        "coefficient": "2.50",
        "amount": "3125/93",
    }
    assert EXAMPLES["due"].to_dict(TZ) == {
        "step": "due",
        "due_at": "2025-06-04T00:00:00+08:00",
        "hours": 72,
    }
    assert EXAMPLES["not_downtime"].to_dict() == {"code": "not_downtime", "category": "maintenance"}


# --- the library and the JSON ----------------------------------------------------------------


def _sample(customer: str, service: str, month: Month, policy: str = "standard"):
    from slacalc import Settings, load_policy

    terms = load_policy(policy)
    settings = Settings(policy=terms, tz=TZ, as_of=parse_instant(AS_OF, TZ))
    table = read_incidents([INCIDENTS], TZ, keep_text=True)
    book = read_contracts(CONTRACTS, policy=terms, default_currency="CNY")
    return explain(table, settings, customer=customer, service=service, month=month, contracts=book)


def test_the_formula_carries_the_exact_numbers() -> None:
    ex = _sample("globex", "database", Month(2025, 5))
    down = Fraction(18417, 10) * US  # 30 % of 12m59s + 4m + 30 % of 1h15m59s
    base = 2678400 * US
    amount = down / base * 4500 * Fraction(5, 2)
    assert ex.formula == (
        Availability(down, base, None, 1 - down / base, Decimal("99.9312")),
        TargetBreached("<99.95", Decimal("99.99")),
        PriceByCoefficient(down, base, None, Decimal("4500.00"), "USD", Decimal("2.50"), amount),
        Rounded(2, Decimal("7.74"), "USD", "cash"),
        Due(ex.row.period_end + 72 * HOUR, 72),
        ClaimWindowStep(ex.row.period_end, None, "open"),
    )
    assert ex.month_notes == ()  # no service hours, no outage rules


def test_notes_are_values_with_parameters() -> None:
    ex = _sample("acme", "storage", Month(2025, 5))
    assert ex.notes == [(NotDowntime("maintenance"),), (PartlyExcluded(),)]
    partial_impact = _sample("globex", "database", Month(2025, 5))
    assert partial_impact.notes[0] == (LargerImpact(Fraction(3, 10), 1),)
    assert [r.incidents for r in partial_impact.runs] == [(0, 1)]


def explain_json(*args: str) -> dict:
    result = CliRunner().invoke(app, ["explain", *args, "-f", "json"])
    assert result.exit_code == 0, result.output
    (record,) = json.loads(result.stdout)
    return record


def test_explain_json_carries_the_codes_and_their_english() -> None:
    incidents, contracts = write_edge_files(Path(__import__("tempfile").mkdtemp()))
    record = explain_json(
        incidents,
        "--contracts",
        contracts,
        "--as-of",
        EDGE_AS_OF,
        "--policy",
        "tencent-cvm",
        "--customer",
        MARKUP_ID,
        "--month",
        "2025-06",
    )
    notes = [[n["code"] for n in i["notes"]] for i in record["incidents"]]
    assert notes == [[], ["partly_excluded", "larger_impact"], [], ["not_downtime"]]
    assert record["incidents"][1]["notes"][1] == {
        "code": "larger_impact",
        "impact": "0.5",
        "largest": "1",
        "text": "a larger impact may overlap it: the largest counts",
    }
    assert record["incidents"][3]["notes"][0]["category"] == "maintenance"
    for item in record["incidents"]:  # the table's text, said from the codes
        assert (item["note"] or "") == "; ".join(n["text"] for n in item["notes"])
    assert [r["notes"] for r in record["runs"]] == [
        [
            {
                "code": "rule_ignored",
                "run": 1,
                "downtime_seconds": 30,
                "text": "interval #1 counts 0 under the outage rules",
            }
        ],
        [
            {
                "code": "rule_rounded",
                "run": 2,
                "downtime_seconds": 165,  # 2 min at 50 %, 1 min at 100 %, 1.5 min at 50 %
                "counted_seconds": 183.333,  # its 270 s rounded up to 300 s: 165 x 300 / 270
                "text": "interval #2 is rounded up by the outage rules: 165 s count 183.333 s",
            }
        ],
    ]
    (rules,) = record["notes"]
    assert {k: v for k, v in rules.items() if k != "text"} == {
        "code": "outage_rules",
        "min_outage_seconds": 60,
        "round_up_seconds": 60,
        "intervals": 2,
        "ignored": 1,
        "downtime_seconds": 195,
        "counted_seconds": 183.333,
    }
    assert [s["step"] for s in record["formula"]] == [
        "availability",
        "target_met",
        "no_compensation",
    ]
    assert all(s["step"] in Step.TYPES and s["text"] for s in record["formula"])
    assert [t["run"] for t in record["timeline"]] == [1, 2, 2, 2]


def test_rounding_past_the_month_is_a_note_of_the_month(tmp_path: Path) -> None:
    policy = tmp_path / "daily.toml"
    policy.write_text(
        'name = "daily"\nmode = "coefficient"\ndefault_target = 99\nround_up_seconds = 86400\n'
        "[[tiers]]\ntarget = 99\ncoefficient = 1\n",
        encoding="utf-8",
    )
    log = tmp_path / "blips.csv"  # two one-second blips a day in June, each rounded to a day
    lines = [
        f"c,s,2025-06-{d:02d} {h}:00:00,2025-06-{d:02d} {h}:00:01"
        for d in range(1, 31)
        for h in (6, 18)
    ]
    log.write_text("customer_id,service,start,end\n" + "\n".join(lines) + "\n", encoding="utf-8")
    record = explain_json(
        str(log),
        "--monthly-fee",
        "100",
        "--policy",
        str(policy),
        "--as-of",
        "2025-08-01",
        "--customer",
        "c",
        "--month",
        "2025-06",
    )
    rules, past = record["notes"]
    assert (rules["code"], rules["intervals"], rules["downtime_seconds"]) == (
        "outage_rules",
        60,
        60,
    )
    assert {k: v for k, v in past.items() if k != "text"} == {
        "code": "rounded_past_month",
        "rounded_seconds": 60 * 86400,
        "counted_seconds": 30 * 86400,  # the month, wholly down
    }


# --- renderers only render ---------------------------------------------------------------------


def test_no_writer_computes_a_report_an_explanation_or_a_deadline() -> None:
    """The writing stage formats values computed before it: it neither runs the report, the
    engine or explain, nor applies a deadline rule of its own."""
    computing = re.compile(
        r"\b(compute_report|explain|explain_rows|month_report|cell_totals|level1_due|escalation_at"
        r"|due_at)\("
    )
    found = [
        f"{path.relative_to(ROOT)}: {m.group(0)}"
        for path in sorted((ROOT / "slacalc" / "writing").rglob("*.py"))
        for m in computing.finditer(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_the_report_table_takes_its_due_times_from_the_report(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from slacalc import Settings, compute_report, load_policy
    from slacalc.terms import deadlines
    from slacalc.writing.report_view import report_tables
    from slacalc.writing.tables import print_tables

    terms = load_policy("standard")
    settings = Settings(policy=terms, tz=TZ, as_of=parse_instant(AS_OF, TZ))
    table = read_incidents([INCIDENTS], TZ)
    book = read_contracts(CONTRACTS, policy=terms, default_currency="CNY")
    report = compute_report(table, settings, contracts=book)
    assert report.deadlines and report.text  # computed: what the view reads

    def no_rule(*args: object) -> None:
        raise AssertionError("a renderer applied the 72-hour rule")

    monkeypatch.setattr(deadlines, "level1_due", no_rule)
    out = io.StringIO()
    print_tables(report_tables(report), out)
    assert "06-04 00:00" in out.getvalue()  # May's breaches: due 72 h after the month


# --- the engine runs once for many keys ----------------------------------------------------------


def _count_passes(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Every engine run from now on: True for those keeping segments (explain's)."""
    from slacalc.computing import engine, keys

    runs: list[bool] = []

    def counting(*args: object, **kwargs: object):
        runs.append(bool(kwargs.get("keep_segments")))
        return engine.cell_totals(*args, **kwargs)

    monkeypatch.setattr(keys, "cell_totals", counting)
    monkeypatch.setattr(explaining, "cell_totals", counting)
    return runs


def test_a_statement_explains_all_its_services_with_one_engine_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = _count_passes(monkeypatch)
    out = tmp_path / "acme.html"
    result = CliRunner().invoke(
        app,
        [
            "statement",
            INCIDENTS,
            "--contracts",
            CONTRACTS,
            "--as-of",
            AS_OF,
            "--customer",
            "acme",
            "--month",
            "2025-05",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").count('<section class="service"') == 2
    # the report of acme's month, then one pass for the segments of both services (it was the
    # whole log's report, then a report and a pass per service: 5)
    assert runs == [False, True]


def test_explain_uses_the_reports_segments_when_the_report_kept_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from slacalc.computing import engine, keys

    fresh = _sample("globex", "database", Month(2025, 5))
    monkeypatch.setattr(keys, "cell_totals", partial(engine.cell_totals, keep_segments=True))
    runs: list[object] = []
    monkeypatch.setattr(explaining, "cell_totals", lambda *a, **k: runs.append(a))
    kept = _sample("globex", "database", Month(2025, 5))
    assert runs == []  # the report's engine run is the only one
    assert (kept.formula, kept.notes, kept.runs) == (fresh.formula, fresh.notes, fresh.runs)
    assert kept.timeline() == fresh.timeline()
