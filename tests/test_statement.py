"""statement: the customer's monthly page says what the report says, in both languages, safely.

The browser and PDF checks are in test_statement_browser.py.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import stat
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from statement_pages import (
    AS_OF,
    CONTRACTS,
    EDGE_AS_OF,
    INCIDENTS,
    MARKUP_ID,
    MARKUP_SERVICE,
    ROOT,
    invoke,
    read_statement,
    report_rows,
    timeline_stretches,
    write_edge_files,
)

from slacalc.computing.fields import FIELDS
from slacalc.dates.months import Month
from slacalc.writing.statement import StatementFormat, file_name
from slacalc.writing.statement.messages import EN, MESSAGES, ZH, Catalogue, parse_lang

SAMPLE = ["--contracts", CONTRACTS, "--as-of", AS_OF]
# Fields whose text on the page is exactly the CSV's wherever they appear; the others (booleans,
# instants, words) are shown in the statement's language and carry the CSV text in data-value.
FIGURES = {
    "customer_id",
    "availability_pct",
    "sla_target_pct",
    "tier_band",
    "downtime_seconds",
    "excluded_seconds",
    "incident_count",
    "policy",
}
# Money: the CSV's exact digits, grouped by thousands (Python's own "," format of the Decimal,
# an independent oracle), the currency code beside them.
MONEY = {"monthly_fee", "compensation"}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "SLACALC_TZ",
        "SLACALC_POLICY",
        "SLACALC_CURRENCY",
        "SLACALC_CALENDAR",
        "SLACALC_LANG",
        "LC_ALL",
        "LC_MESSAGES",
        "LANG",
    ):
        monkeypatch.delenv(name, raising=False)


def statement(tmp_path: Path, *args: str, name: str = "s.html") -> str:
    out = tmp_path / name
    result = invoke(["statement", *args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8")


def check_against_report(html: str, rows: list[dict[str, str]], customer: str) -> None:
    """Every field of every row of ``customer`` is on the page, as the report's CSV has it."""
    page = read_statement(html)
    mine = [r for r in rows if r["customer_id"] == customer]
    assert [s.service for s in page.sections] == [r["service"] for r in mine]
    for section, row in zip(page.sections, mine, strict=True):
        for name in FIELDS:
            shown = section.fields.get(name)
            assert shown, f"{row['service']}: field {name} is not on the page"
            for value, text in shown:
                assert value == row[name], (row["service"], name, value, row[name])
                if name in FIGURES:
                    assert text == row[name], (row["service"], name, text)
                if name in MONEY and text != row[name]:  # the appendix has the CSV's text
                    assert text == format(Decimal(row[name]), ","), (row["service"], name, text)
            # the report's row, field by field, shows the CSV's text itself
            assert (row[name], row[name]) in shown, (row["service"], name)


# --- the figures are the report's --------------------------------------------------------


@pytest.mark.parametrize("month", ["2025-05", "2025-06"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_sample_customer_shows_the_reports_figures(
    tmp_path: Path, month: str, lang: str
) -> None:
    rows = report_rows(INCIDENTS, CONTRACTS, month, "--as-of", AS_OF)
    for customer in dict.fromkeys(r["customer_id"] for r in rows):
        args = [INCIDENTS, *SAMPLE, "--customer", customer, "--month", month, "--lang", lang]
        check_against_report(statement(tmp_path, *args), rows, customer)


@pytest.mark.parametrize("policy", ["standard", "tencent-cvm"])
def test_hard_cases_show_the_reports_figures(tmp_path: Path, policy: str) -> None:
    incidents, contracts = write_edge_files(tmp_path)
    extra = ["--as-of", EDGE_AS_OF, "--policy", policy]
    rows = report_rows(incidents, contracts, "2025-06", *extra)
    for customer in dict.fromkeys(r["customer_id"] for r in rows):
        for lang in ("en", "zh"):
            html = statement(
                tmp_path,
                incidents,
                "--contracts",
                contracts,
                *extra,
                "--customer",
                customer,
                "--month",
                "2025-06",
                "--lang",
                lang,
            )
            check_against_report(html, rows, customer)


def test_totals_are_the_sum_per_currency(tmp_path: Path) -> None:
    html = statement(tmp_path, INCIDENTS, *SAMPLE, "--customer", "acme", "--month", "2025-05")
    assert re.search(r'data-total="CNY">45.08<', html)  # 11.48 + 33.60


# --- the chart ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("customer", "service", "bars"),
    [("acme", "compute", 1), ("acme", "storage", 1), ("globex", "database", 3)],
)
def test_the_chart_has_one_shaded_rect_per_down_interval(
    tmp_path: Path, customer: str, service: str, bars: int
) -> None:
    html = statement(tmp_path, INCIDENTS, *SAMPLE, "--customer", customer, "--month", "2025-05")
    (section,) = [s for s in read_statement(html).sections if s.service == service]
    expected = timeline_stretches(
        INCIDENTS, CONTRACTS, customer, service, "2025-05", "--as-of", AS_OF
    )
    assert len(expected) == bars
    assert [r["class"].split()[0] for r in section.rects] == ["down"] * bars
    shown = [(r["data-start"], r["data-end"]) for r in section.rects]
    assert shown == [(a, b) for a, b, _ in expected]
    assert all(float(r["width"]) > 0 and float(r["fill-opacity"]) > 0 for r in section.rects)


def test_partial_impacts_are_lighter_and_exclusions_are_marked(tmp_path: Path) -> None:
    html = statement(tmp_path, INCIDENTS, *SAMPLE, "--customer", "globex", "--month", "2025-05")
    (db, _) = read_statement(html).sections
    assert [r["data-loss"] for r in db.rects] == ["30", "100", "30"]
    assert [float(r["fill-opacity"]) for r in db.rects] == [0.51, 1.0, 0.51]
    html = statement(tmp_path, INCIDENTS, *SAMPLE, "--customer", "acme", "--month", "2025-05")
    storage = html.split('data-service="storage"', 2)[2]
    assert re.search(r'<path class="window maintenance" fill="url\(#hatch-2\)"', storage)
    assert html.count('<text class="day') == 2 * 31  # the month's days, per chart


def test_a_service_without_downtime_has_an_empty_chart(tmp_path: Path) -> None:
    html = statement(tmp_path, INCIDENTS, *SAMPLE, "--customer", "umbrella", "--month", "2025-05")
    assert [len(s.rects) for s in read_statement(html).sections] == [0, 0]
    assert "No downtime in the month." in html


# --- what the statement holds ------------------------------------------------------------


def test_incidents_formula_claim_and_deadlines(tmp_path: Path) -> None:
    html = statement(tmp_path, INCIDENTS, *SAMPLE, "--customer", "acme", "--month", "2025-05")
    text = re.sub(r"\s+", " ", " ".join(read_statement(html).text))  # as a browser shows it
    assert "merged with INC-1002" in text and "merged with INC-1001" in text
    assert "partly inside maintenance or excluded time" in text
    assert "maintenance: excluded from downtime" in text
    assert "compensation = 2050 s ÷ 2678400 s × CNY 12,000.00 × 1.25 = CNY 11.480734…" in text
    assert "rounded half-up to 2 decimal(s): CNY 11.48" in text
    assert "1 · SLA breach: automatic compensation" in text
    assert "72 hours after it opens" in text
    assert "Standard: downtime x monthly fee x coefficient" in text  # the policy's title
    assert "credit paid as cash" in text


def test_a_data_loss_deadline_counts_its_working_days(tmp_path: Path) -> None:
    html = statement(
        tmp_path, INCIDENTS, *SAMPLE, "--customer", "initech", "--month", "2025-06", "--lang", "zh"
    )
    # INC-1009 on Friday 6 June: Mon 9 .. Fri 13 June are the five working days
    assert 'data-working-days="5"' in html
    assert "6月9日、6月10日、6月11日、6月12日、6月13日" in html
    assert '<time class="due" datetime="2025-06-13T23:59:59+08:00">2025年6月13日 23:59:59' in html


def test_claim_window_and_voucher_under_tencent_terms(tmp_path: Path) -> None:
    incidents, contracts = write_edge_files(tmp_path)
    html = statement(
        tmp_path,
        incidents,
        "--contracts",
        contracts,
        "--as-of",
        EDGE_AS_OF,
        "--policy",
        "tencent-cvm",
        "--customer",
        "tenc",
        "--month",
        "2025-06",
        "--lang",
        "zh",
    )
    assert "代金券" in html
    assert 'data-field="claim_opens_at" data-value="2025-07-08T00:00:00+08:00"' in html
    assert "2025年8月30日 00:00:00" in html  # closes 60 days after the month
    assert "尚未开放" in html  # not open at the as-of time
    assert "故障规则" in html and "60 秒及以下的故障不计" in html
    assert "尚未结束" in html  # the ongoing outage
    markup = statement(
        tmp_path,
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
    assert "interval #1 counts 0 under the outage rules" in markup  # the 30-second blip
    assert "interval #2 is rounded up by the outage rules" in markup


def test_the_as_of_time_and_the_digest_of_every_input(tmp_path: Path) -> None:
    html = statement(tmp_path, INCIDENTS, *SAMPLE, "--customer", "acme", "--month", "2025-05")
    assert '<time class="as-of" datetime="2025-06-28T12:00:00+08:00">' in html
    for path in (INCIDENTS, CONTRACTS):
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        assert f'<code class="sha256">{digest}</code>' in html


def test_a_policy_file_and_standard_input_are_digested_too(tmp_path: Path) -> None:
    policy = ROOT / "samples" / "policy.toml"
    data = Path(INCIDENTS).read_bytes()
    out = tmp_path / "s.html"
    result = invoke(
        [
            "statement",
            "-",
            "--monthly-fee",
            "1000",
            "--policy",
            str(policy),
            "--as-of",
            AS_OF,
            "--customer",
            "acme",
            "--month",
            "2025-05",
            "-o",
            str(out),
        ],
        input=data,
    )
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "&lt;stdin&gt;" in html
    assert hashlib.sha256(data).hexdigest() in html
    assert hashlib.sha256(policy.read_bytes()).hexdigest() in html


def test_presets_are_digested_and_cited(tmp_path: Path) -> None:
    html = statement(
        tmp_path, INCIDENTS, *SAMPLE, "--customer", "acme", "--month", "2025-05"
    )  # the built-in policy has no file
    assert 'data-role="policy"' not in html
    incidents, contracts = write_edge_files(tmp_path)
    html = statement(
        tmp_path,
        incidents,
        "--contracts",
        contracts,
        "--policy",
        "tencent-cvm",
        "--as-of",
        EDGE_AS_OF,
        "--customer",
        "tenc",
        "--month",
        "2025-06",
    )
    preset = ROOT / "slacalc" / "presets" / "tencent-cvm.toml"
    assert hashlib.sha256(preset.read_bytes()).hexdigest() in html
    assert "https://cloud.tencent.com/document/product/301/34278" in html


# --- languages ---------------------------------------------------------------------------


def test_chinese_labels_dates_and_amounts(tmp_path: Path) -> None:
    html = statement(
        tmp_path, INCIDENTS, *SAMPLE, "--customer", "acme", "--month", "2025-05", "--lang", "zh"
    )
    assert '<html lang="zh-CN">' in html
    assert "<h1>服务健康报告</h1>" in html
    assert "2025年6月4日 00:00:00" in html  # compensation due
    assert (
        '<span class="money"><span class="cur">CNY</span>\u00a0<span class="amount" '
        'data-field="compensation" data-value="11.48">11.48</span></span>'
    ) in html
    assert (
        '<span class="cur">CNY</span>\u00a0<span class="amount" data-field="monthly_fee" ' in html
    )
    assert ">12,000.00</span>" in html and "¥" not in html
    # no English label of the catalogue is left on the Chinese page
    labels = {
        text
        for key, text in MESSAGES[EN].items()
        if "{" not in text and re.search("[a-z]{3}", text) and MESSAGES[ZH][key] != text
    }
    # the words of the page, less the stylesheet and data: the report's CSV rows, file names
    words = re.sub(
        r'(?s)<style>.*?</style>|<section id="appendix">.*?</section>'
        r'|<td class="file"[^>]*>.*?</td>',
        "",
        html,
    )
    visible = " ".join(read_statement(words).text)
    left = [x for x in sorted(labels) if re.search(rf"(?<![\w-]){re.escape(x)}(?![\w-])", visible)]
    assert left == []


def test_english_has_no_chinese(tmp_path: Path) -> None:
    html = statement(tmp_path, INCIDENTS, *SAMPLE, "--customer", "acme", "--month", "2025-05")
    assert '<html lang="en">' in html
    assert not re.search("[\u4e00-\u9fff]", html)
    assert "4 Jun 2025 00:00:00" in html


def test_both_languages_have_the_same_messages_and_placeholders() -> None:
    assert MESSAGES[EN].keys() == MESSAGES[ZH].keys()
    for key, text in MESSAGES[EN].items():
        holes = set(re.findall(r"\{(\w+)\}", text))
        assert holes == set(re.findall(r"\{(\w+)\}", MESSAGES[ZH][key])), key


def test_date_and_duration_forms() -> None:
    from datetime import date

    zh, en = Catalogue(ZH), Catalogue(EN)
    assert zh.date(date(2025, 6, 4)) == "2025年6月4日"
    assert en.date(date(2025, 6, 4)) == "4 Jun 2025"
    assert zh.month(2025, 5) == "2025年5月"
    assert zh.duration(90061_000_000) == "1天 1小时 1分 1秒"
    assert en.duration(90061_000_000) == "1d 1h 1m 1s"


@pytest.mark.parametrize(
    ("env", "lang"),
    [
        ({"LANG": "zh_CN.UTF-8"}, "zh-CN"),
        ({"LC_ALL": "zh_TW.UTF-8", "LANG": "en_US.UTF-8"}, "zh-CN"),
        ({"LC_ALL": "C.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
        ({"LANG": "de_DE.UTF-8"}, "en"),
        ({}, "en"),
        ({"LANG": "zh_CN.UTF-8", "SLACALC_LANG": "en"}, "en"),
    ],
)
def test_the_default_language_follows_the_locale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], lang: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    html = statement(tmp_path, INCIDENTS, *SAMPLE, "--customer", "acme", "--month", "2025-05")
    assert f'<html lang="{lang}">' in html


def test_lang_spellings() -> None:
    assert [parse_lang(x) for x in ("zh", "ZH-cn", "zh_CN.UTF-8", "en", "en-GB")] == [
        "zh",
        "zh",
        "zh",
        "en",
        "en",
    ]
    with pytest.raises(ValueError):
        parse_lang("fr")


# --- safety ------------------------------------------------------------------------------


def test_ids_with_markup_are_text(tmp_path: Path) -> None:
    incidents, contracts = write_edge_files(tmp_path)
    for lang in ("en", "zh"):
        html = statement(
            tmp_path,
            incidents,
            "--contracts",
            contracts,
            "--as-of",
            EDGE_AS_OF,
            "--customer",
            MARKUP_ID,
            "--month",
            "2025-06",
            "--lang",
            lang,
        )
        page = read_statement(html)
        assert {tag for tag, _ in page.tags} & {"script", "img", "b", "iframe"} == set()
        assert not any(k.startswith("on") for _, attrs in page.tags for k in attrs)
        text = "".join(page.text)
        assert MARKUP_ID in text and MARKUP_SERVICE in text and "<b>X1</b>" in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_page_is_self_contained(tmp_path: Path) -> None:
    html = statement(tmp_path, INCIDENTS, *SAMPLE, "--customer", "globex", "--month", "2025-05")
    page = read_statement(html)
    assert {tag for tag, _ in page.tags} & {"script", "link", "img", "iframe", "object"} == set()
    for _, attrs in page.tags:
        assert "src" not in attrs
        assert attrs.get("href", "#").startswith("#")
    assert "@import" not in html and "@font-face" not in html
    html = statement(tmp_path, INCIDENTS, *SAMPLE, "--customer", "acme", "--month", "2025-05")
    assert re.findall(r"url\(([^)]*)\)", html) == ["#hatch-2"]  # storage's maintenance


@given(st.lists(st.text(max_size=80), unique=True, max_size=8))
def test_file_names_are_safe_and_distinct_for_any_ids(ids: list[str]) -> None:
    names = [file_name(i, Month(2025, 5), "zh", StatementFormat.pdf) for i in ids]
    for name in names:
        assert re.fullmatch(r"[a-z0-9][a-z0-9_~-]*-2025-05\.zh\.pdf", name) or re.fullmatch(
            r"customer~[0-9a-f]{10}-2025-05\.zh\.pdf", name
        ), name
        assert len(name) < 100
    assert len({n.lower() for n in names}) == len(names)


def test_plain_ids_keep_their_names() -> None:
    assert file_name("acme", Month(2025, 5), "en", StatementFormat.html) == "acme-2025-05.en.html"
    assert file_name("Acme", Month(2025, 5), "en", StatementFormat.html).startswith("acme~")


# --- the command -------------------------------------------------------------------------


def test_all_customers_writes_one_file_each(tmp_path: Path) -> None:
    incidents, contracts = write_edge_files(tmp_path)
    folder = tmp_path / "out"
    result = invoke(
        [
            "statement",
            incidents,
            "--contracts",
            contracts,
            "--as-of",
            EDGE_AS_OF,
            "--all-customers",
            "--month",
            "2025-06",
            "-o",
            str(folder),
        ]
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(
        [
            "quiet-2025-06.en.html",
            "tenc-2025-06.en.html",
            file_name(MARKUP_ID, Month(2025, 6), "en", StatementFormat.html),
        ]
    )
    assert names[1].startswith("script_alert_1_script~")
    for path in folder.iterdir():
        page = read_statement(path.read_text(encoding="utf-8"))
        (main,) = [attrs for tag, attrs in page.tags if tag == "main"]
        assert main["data-customer"] in (MARKUP_ID, "tenc", "quiet")


ALL = ["statement", INCIDENTS, *SAMPLE, "--all-customers", "--month", "2025-05"]
NAMES = [f"{c}-2025-05.en.html" for c in ("acme", "globex", "initech", "umbrella")]


def _failing_second(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    """The second statement's file fails half-way through being written."""
    from slacalc.writing.statement import files

    real, calls = files._writer, []

    def writer(body):
        write = real(body)

        def failing(out) -> None:
            calls.append(1)
            if len(calls) == 2:
                out.write(body[:100])
                raise error
            write(out)

        return failing

    monkeypatch.setattr(files, "_writer", writer)


@pytest.mark.parametrize(
    ("error", "code"),
    [(OSError(28, "No space left on device"), 1), (KeyboardInterrupt(), 130)],
    ids=["disk-full", "ctrl-c"],
)
def test_all_customers_into_a_new_folder_writes_all_or_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException, code: int
) -> None:
    _failing_second(monkeypatch, error)
    folder = tmp_path / "out"
    result = invoke([*ALL, "-o", str(folder)])
    assert result.exit_code == code, result.output
    assert list(tmp_path.iterdir()) == []  # no folder, no temporary one
    assert "wrote" not in result.stderr


@pytest.mark.parametrize(
    ("error", "code"),
    [(OSError(28, "No space left on device"), 1), (KeyboardInterrupt(), 130)],
    ids=["disk-full", "ctrl-c"],
)
def test_all_customers_into_a_folder_keeps_it_as_it_was_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException, code: int
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / NAMES[0]).write_text("last month's run\n")
    (folder / "notes.txt").write_text("mine\n")
    _failing_second(monkeypatch, error)
    result = invoke([*ALL, "-o", str(folder)])
    assert result.exit_code == code, result.output
    assert sorted(p.name for p in folder.iterdir()) == [NAMES[0], "notes.txt"]
    assert (folder / NAMES[0]).read_text() == "last month's run\n"


def test_all_customers_puts_the_replaced_files_back_when_a_rename_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from slacalc.writing import output

    folder = tmp_path / "out"
    folder.mkdir()
    for name in NAMES[:2]:
        (folder / name).write_text(f"old {name}\n")
    real, calls = os.replace, []

    def replace(src, dst) -> None:
        if str(dst).endswith(".html"):
            calls.append(dst)
            if len(calls) == 3:
                raise OSError(5, "Input/output error")
        real(src, dst)

    monkeypatch.setattr(output.os, "replace", replace)
    result = invoke([*ALL, "-o", str(folder)])
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [
        f"Error: cannot write into '{folder}': Input/output error"
    ]
    assert sorted(p.name for p in folder.iterdir()) == NAMES[:2]
    for name in NAMES[:2]:
        assert (folder / name).read_text() == f"old {name}\n"
    # once the renames work, the new set replaces the old whole, each file keeping its mode
    os.chmod(folder / NAMES[1], 0o640)
    monkeypatch.setattr(output.os, "replace", real)
    result = invoke([*ALL, "-o", str(folder)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == NAMES
    assert (folder / NAMES[1]).read_text().startswith("<!DOCTYPE html>")
    assert stat.S_IMODE((folder / NAMES[1]).stat().st_mode) == 0o640
    assert result.stderr.splitlines() == [f"wrote {folder / name}" for name in NAMES]


# --- ids that try to drive a terminal or reverse the text -----------------------------------

HOSTILE_ID = "ev\x1b]0;pwned\x07il\u202eTXT"
HOSTILE_SERVICE = "svc\x1b[2J\u2066x"
HOSTILE_INCIDENT = "inc\x07\x9b31m\u202e"
RAW_CONTROLS = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]"
)


def _hostile_log(folder: Path) -> str:
    path = folder / "hostile.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["incident_id", "customer_id", "service", "start", "end"])
        w.writerow(
            [HOSTILE_INCIDENT, HOSTILE_ID, HOSTILE_SERVICE, "2025-05-03 10:00", "2025-05-03 11:00"]
        )
        w.writerow(
            ["b\u202e2", HOSTILE_ID, HOSTILE_SERVICE, "2025-05-03 10:30", "2025-05-03 11:30"]
        )
    return str(path)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_control_characters_and_bidi_overrides_in_ids_are_shown_escaped_and_isolated(
    tmp_path: Path, lang: str
) -> None:
    log = _hostile_log(tmp_path)
    args = [log, "--monthly-fee", "100", "--as-of", AS_OF, "--month", "2025-05", "--lang", lang]
    html = statement(tmp_path, *args, "--customer", HOSTILE_ID)
    assert not RAW_CONTROLS.search(html), [hex(ord(c)) for c in RAW_CONTROLS.findall(html)]
    shown_id = "ev\\x1b]0;pwned\\x07il\\u202eTXT"
    shown_service = "svc\\x1b[2J\\u2066x"
    shown_incident = "inc\\x07\\x9b31m\\u202e"
    # every time the page shows them as text, they stand isolated in a <bdi>
    for shown in (shown_id, shown_service, shown_incident, "b\\u202e2"):
        body = html.split("<body>", 1)[1]
        texts = re.findall(rf">([^<]*{re.escape(shown)}[^<]*)<", body)
        assert texts, shown
        for m in re.finditer(rf"(<[^>]*>)([^<]*){re.escape(shown)}", body):
            assert m.group(1) == "<bdi>" and m.group(2) == "", (shown, m.group(0))
    # the report's fields carry the same escaped text
    page = read_statement(html)
    (section,) = page.sections
    assert {v for v, _ in section.fields["customer_id"]} == {shown_id}
    assert {t for _, t in section.fields["service"]} == {shown_service}
    assert f"· {shown_id} ·" in html.split("</title>")[0]  # the page's title: text only


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--month", "2025-05"], "give either --customer ID or --all-customers -o DIR"),
        (
            ["--month", "2025-05", "--customer", "acme", "--all-customers", "-o", "x"],
            "give either --customer ID or --all-customers -o DIR",
        ),
        (["--month", "2025-05", "--all-customers"], "give -o DIR"),
        (["--month", "2025-05", "--customer", "acme", "-f", "pdf"], "give -o FILE.pdf"),
        (["--month", "2025-05", "--customer", "acme", "--lang", "fr"], "--lang 'fr'"),
        (["--month", "2025-13", "--customer", "acme"], "--month"),
        (["--month", "2025-05", "--customer", "nobody"], "no report row for customer 'nobody'"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    result = invoke(["statement", INCIDENTS, *SAMPLE, *args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert result.stdout == ""


def test_html_to_stdout_and_format_from_the_extension(tmp_path: Path) -> None:
    result = invoke(["statement", INCIDENTS, *SAMPLE, "--customer", "acme", "--month", "2025-05"])
    assert result.exit_code == 0
    assert result.stdout.startswith("<!DOCTYPE html>")


def test_no_browser_is_an_error_and_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACALC_CHROMIUM", "no-such-browser-here")
    out = tmp_path / "acme.pdf"
    result = invoke(
        [
            "statement",
            INCIDENTS,
            *SAMPLE,
            "--customer",
            "acme",
            "--month",
            "2025-05",
            "-o",
            str(out),
        ]
    )
    assert result.exit_code == 1
    assert "cannot make a PDF: no Chromium browser found" in result.stderr
    assert "apt-get install chromium fonts-noto-cjk" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_bad_data_is_exit_1_with_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("start,end,customer_id\nnot a time,,acme\n", encoding="utf-8")
    out = tmp_path / "s.html"
    args = [str(bad), "--monthly-fee", "1", "--customer", "acme", "-m", "2025-05"]
    result = invoke(["statement", *args, "-o", str(out)])
    assert result.exit_code == 1
    assert f"{bad}:2: column 'start'" in result.stderr
    assert not out.exists()


# --- the samples the README links to -----------------------------------------------------


def test_the_sample_statements_are_up_to_date(monkeypatch: pytest.MonkeyPatch) -> None:
    from slacalc.writing.statement import samples

    monkeypatch.chdir(ROOT)
    made = samples.samples()
    assert sorted(p.name for p in made) == ["acme-2025-05.en.html", "acme-2025-05.zh.html"]
    for path, body in made.items():
        assert (ROOT / path).read_text(encoding="utf-8") == body, (
            f"{path} is stale: python -m slacalc.writing.statement.samples"
        )


def test_services_priced_under_different_policies_show_each(tmp_path: Path) -> None:
    contracts = tmp_path / "mixed.csv"  # acme's compute under Tencent's terms, the rest standard
    header, *lines = Path(CONTRACTS).read_text(encoding="utf-8").splitlines()
    lines = [f"{x},tencent-cvm" if x.startswith("acme,*,") else f"{x}," for x in lines]
    contracts.write_text("\n".join([f"{header},policy", *lines]) + "\n", encoding="utf-8")
    extra = ["--as-of", AS_OF]
    rows = report_rows(INCIDENTS, str(contracts), "2025-05", *extra)
    html = statement(
        tmp_path,
        INCIDENTS,
        "--contracts",
        str(contracts),
        *extra,
        "--customer",
        "acme",
        "-m",
        "2025-05",
    )
    check_against_report(html, rows, "acme")
    page = read_statement(html)
    policies = [a["data-policy"] for tag, a in page.tags if "data-policy" in a]
    assert policies == ["tencent-cvm", "standard"]
