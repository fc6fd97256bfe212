"""statement as a finance document: the issuer (its file read strictly), the statement's number,
the customer's display name, money in one notation with thousands separators, the period as
whole days, and the report's raw rows in an appendix.

What a browser shows of them (the issuer in view, timestamps on one line, rest days, fonts) is
in test_statement_browser.py.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from statement_pages import (
    AS_OF,
    CONTRACTS,
    EDGE_AS_OF,
    INCIDENTS,
    ROOT,
    invoke,
    read_statement,
    write_edge_files,
)

import slacalc
from slacalc.computing.statements import Statement, statement_number
from slacalc.dates.months import Month
from slacalc.errors import InputError
from slacalc.reading.issuer import LANGUAGES, Issuer, read_issuer
from slacalc.writing.statement import render_html
from slacalc.writing.statement.messages import EN, LANGS, ZH, Catalogue, grouped

ISSUER = str(ROOT / "samples" / "issuer.toml")
SAMPLE = [INCIDENTS, "--contracts", CONTRACTS, "--as-of", AS_OF]
ACME = [*SAMPLE, "--customer", "acme", "--month", "2025-05"]
NBSP = "\u00a0"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACALC_TZ", "SLACALC_POLICY", "SLACALC_CURRENCY", "SLACALC_CALENDAR"):
        monkeypatch.delenv(name, raising=False)
    for name in ("SLACALC_LANG", "SLACALC_ISSUER", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)


def page(tmp_path: Path, *args: str, name: str = "s.html") -> str:
    out = tmp_path / name
    result = invoke(["statement", *args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8")


def visible(html: str) -> str:
    """The page's text as a browser shows it, spaces (no-break ones too) collapsed."""
    body = html.split("<body>", 1)[1]
    blocks = r"div|dt|dd|p|li|h[1-6]|td|th|tr|address|section|header|figure"
    body = re.sub(rf"<(/?)({blocks})\b", r" <\1\2", body)  # a block's text stands apart
    return re.sub(r"\s+", " ", "".join(read_statement(body).text))


# --- money: one notation, thousands separators, the currency's own decimals -----------------


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        ("12000", "CNY", "CNY 12,000.00"),
        ("11.48", "CNY", "CNY 11.48"),
        ("0", "USD", "USD 0.00"),
        ("999.995", "USD", "USD 1,000.00"),  # half-up, to the cent
        ("1234567", "JPY", "JPY 1,234,567"),  # no decimals
        ("120000.4", "JPY", "JPY 120,000"),
        ("1234.5", "KWD", "KWD 1,234.500"),  # three
        ("1000000.12345", "CLF", "CLF 1,000,000.1235"),  # four
        ("123456789012345.67", "EUR", "EUR 123,456,789,012,345.67"),
    ],
)
def test_money_has_the_code_its_decimals_and_thousands_separators(
    lang: str, amount: str, currency: str, shown: str
) -> None:
    assert Catalogue(lang).money(Decimal(amount), currency) == shown.replace(" ", NBSP)


@given(
    st.decimals(min_value=0, max_value=10**15, places=6, allow_nan=False),
    st.sampled_from([("CNY", 2), ("JPY", 0), ("KWD", 3), ("CLF", 4), ("USD", 2)]),
    st.sampled_from(LANGS),
)
def test_money_is_exact_against_pythons_own_grouping(
    amount: Decimal, unit: tuple[str, int], lang: str
) -> None:
    currency, places = unit
    exact = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    assert Catalogue(lang).money(amount, currency) == f"{currency}{NBSP}{exact:,}"


def test_exact_texts_are_grouped_as_they_are() -> None:
    assert grouped("11.480734…") == "11.480734…"
    assert grouped("1234567.891…") == "1,234,567.891…"
    assert grouped("100") == "100" and grouped("1000") == "1,000"
    assert Catalogue(ZH).amount("-1234.5", "USD") == f"-USD{NBSP}1,234.5"


def test_every_amount_on_the_page_has_the_same_notation(tmp_path: Path) -> None:
    """Summary, cards, fees, totals and the formula: "CNY 12,000.00", never "¥12000.00 CNY";
    JPY without decimals."""
    for lang in LANGS:
        html = page(tmp_path, *ACME, "--lang", lang)
        text = visible(html)
        assert "¥" not in html and "12000.00 CNY" not in text
        assert text.count("CNY 12,000.00") == 2  # the fee, and in the formula
        assert "× CNY 12,000.00 × 1.25 = CNY 11.480734…" in text
        assert re.search(r"CNY 11\.48\b", text) and "CNY 45.08" in text  # total
        # no amount with a code after it, or a bare amount of four digits or more
        assert not re.search(r"\d (CNY|JPY|USD)\b", text), text
    incidents, contracts = write_edge_files(tmp_path)
    args = [incidents, "--contracts", contracts, "--as-of", EDGE_AS_OF, "--customer", "tenc"]
    text = visible(page(tmp_path, *args, "--month", "2025-06", "--lang", "zh"))
    assert "JPY 100 " in text and "CNY 5,000.00" in text
    assert "JPY 100.00" not in text


# --- the period: whole days, both included ---------------------------------------------------


def _statement(month: Month) -> Statement:
    return Statement("acme", month, None, [], [], [])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("month", "en", "zh"),
    [
        (Month(2025, 5), "1–31 May 2025", "2025年5月1日至31日"),
        (Month(2025, 6), "1–30 June 2025", "2025年6月1日至30日"),
        (Month(2026, 2), "1–28 February 2026", "2026年2月1日至28日"),
        (Month(2024, 2), "1–29 February 2024", "2024年2月1日至29日"),
        (Month(2000, 2), "1–29 February 2000", "2000年2月1日至29日"),
        (Month(2100, 2), "1–28 February 2100", "2100年2月1日至28日"),
        (Month(2025, 12), "1–31 December 2025", "2025年12月1日至31日"),
    ],
)
def test_the_period_is_the_months_days_both_included(month: Month, en: str, zh: str) -> None:
    days = _statement(month).days
    assert Catalogue(EN).period(*days) == en
    assert Catalogue(ZH).period(*days) == zh


def test_periods_across_months_and_years() -> None:
    en, zh = Catalogue(EN), Catalogue(ZH)
    assert en.period(date(2025, 5, 28), date(2025, 6, 3)) == "28 May – 3 June 2025"
    assert zh.period(date(2025, 5, 28), date(2025, 6, 3)) == "2025年5月28日至6月3日"
    assert en.period(date(2025, 12, 30), date(2026, 1, 2)) == "30 December 2025 – 2 January 2026"
    assert zh.period(date(2025, 12, 30), date(2026, 1, 2)) == "2025年12月30日至2026年1月2日"
    assert en.period(date(2025, 6, 3), date(2025, 6, 3)) == "3 June 2025"


@pytest.mark.parametrize(
    ("lang", "shown"),
    [
        ("en", "Period 1–31 May 2025 (Asia/Shanghai, UTC+08:00)"),
        ("zh", "服务周期 2025年5月1日至31日（Asia/Shanghai，UTC+08:00）"),
    ],
)
def test_the_header_shows_the_inclusive_period(tmp_path: Path, lang: str, shown: str) -> None:
    html = page(tmp_path, *ACME, "--lang", lang)
    assert shown in visible(html)
    assert "6月1日 00:00" not in html.split("</header>")[0]
    assert "1 Jun 2025 00:00:00" not in html.split("</header>")[0]
    assert '<time class="period" datetime="2025-05"' in html


def test_a_month_whose_offset_changes_shows_both(tmp_path: Path) -> None:
    html = page(
        tmp_path,
        *SAMPLE,
        "--customer",
        "acme",
        "--month",
        "2025-03",
        "--tz",
        "Europe/Berlin",
    )
    assert "1–31 March 2025 (Europe/Berlin, UTC+01:00/+02:00)" in visible(html)


# --- the statement's number ------------------------------------------------------------------


def _oracle(key: str, customer: str, month: str) -> str:
    data = "\x00".join(["slacalc-statement-v1", key, customer, month]).encode()
    return hashlib.sha256(data).hexdigest()[:8].upper()


def test_the_number_is_the_documented_hash() -> None:
    may = Month(2025, 5)
    assert statement_number("acme", may) == f"SLA-2025-05-ACME-{_oracle('', 'acme', '2025-05')}"
    issuer = read_issuer(ISSUER)
    assert statement_number("acme", may, issuer) == (
        f"SLA-2025-05-ACME-{_oracle('91310115MA1K000000', 'acme', '2025-05')}"
    )
    assert statement_number("acme", may) == "SLA-2025-05-ACME-8270AF18"  # pinned: it is printed


def test_the_number_is_stable_and_unique_per_issuer_customer_and_month() -> None:
    may, june = Month(2025, 5), Month(2025, 6)
    one = Issuer("One Co.", ("1 Road",), tax_id="T1")
    moved = Issuer("One Co.", ("2 Other Road",), tax_id="T1", phone="+1 555 0100")
    other = Issuer("One Co.", ("1 Road",), tax_id="T2")
    untaxed = Issuer("One Co.", ("1 Road",))
    assert statement_number("acme", may, one) == statement_number("acme", may, moved)
    numbers = [
        statement_number(c, m, i)
        for c in ("acme", "ACME", "Acme", "ac-me", "acme ")
        for m in (may, june)
        for i in (None, one, other, untaxed)
    ]
    assert len(set(numbers)) == len(numbers)


@given(st.text(max_size=60))
def test_every_customer_id_makes_a_plain_number(customer: str) -> None:
    number = statement_number(customer, Month(2025, 5))
    assert re.fullmatch(r"SLA-2025-05-[A-Z0-9]{1,12}-[0-9A-F]{8}", number), number


@pytest.mark.parametrize("lang", LANGS)
def test_the_number_is_in_the_header_and_the_title(tmp_path: Path, lang: str) -> None:
    html = page(tmp_path, *ACME, "--lang", lang, "--issuer", ISSUER)
    number = statement_number("acme", Month(2025, 5), read_issuer(ISSUER))
    title = html.split("<title>", 1)[1].split("</title>", 1)[0]
    assert number in title
    header = html.split("</header>", 1)[0]
    assert f'<span class="number">{number}</span>' in header
    label = "报告编号" if lang == "zh" else "Statement number"
    assert f"{label} {number}" in visible(html)
    # the same run again: the same number
    assert page(tmp_path, *ACME, "--lang", lang, "--issuer", ISSUER, name="again.html") == html


# --- the issuer --------------------------------------------------------------------------------


def test_the_sample_issuer_file() -> None:
    issuer = read_issuer(ISSUER)
    assert issuer.name == "Example Cloud Computing Co., Ltd."
    assert issuer.address == (
        "Floor 12, 1 Example Road, Pudong New Area",
        "Shanghai 200120",
        "China",
    )
    assert (issuer.tax_id, issuer.email, issuer.phone) == (
        "91310115MA1K000000",
        "billing@example.com",
        "+86 21 5555 0100",
    )
    zh = issuer.in_language("zh")
    assert zh.name == "示例云计算有限公司" and zh.tax_id == issuer.tax_id
    assert issuer.in_language("en") == issuer
    assert LANGUAGES == LANGS  # a table per language the statement is written in


def _write(tmp_path: Path, text: str, name: str = "issuer.toml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _problems(path: str) -> list[str]:
    with pytest.raises(InputError) as info:
        read_issuer(path)
    return [str(p) for p in info.value.problems]


def test_every_problem_of_an_issuer_file_is_reported_with_its_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        'nmae = "Typo Co."\n'
        "address = []\n"
        "tax_id = 91310115\n"
        'email = "billing"\n'
        'phone = "call us"\n'
        'note = ""\n'
        "[zh]\n"
        'name = "示例\\u001b]0;x"\n'
        'fax = "1"\n',
    )
    assert _problems(path) == [
        f"{path}:1: key 'nmae': unknown key; did you mean 'name'? (known: name, address, "
        "tax_id, email, phone, note, en, zh)",
        f"{path}: key 'name': missing: the issuer's legal name and postal address are required",
        f"{path}:2: key 'address': expected 1 to 8 lines, got 0",
        f"{path}:3: key 'tax_id': expected text in quotes, got a number (value '91310115')",
        f"{path}:4: key 'email': not an e-mail address (name@example.com) (value 'billing')",
        f"{path}:5: key 'phone': not a phone number (digits, +, spaces, - ( ) .) (value 'call us')",
        f"{path}:6: key 'note': empty; write the value, or leave the key out if it is optional",
        f"{path}:9: key 'zh.fax': unknown key (known: name, address, note)",
        f"{path}:8: key 'zh.name': holds a control character; write one line "
        "(value '示例\\x1b]0;x')",
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'name = "A"\naddress ["x"]\n', ":2: not valid TOML: Expected '=' after a key"),
        (b'name = "A"\naddress = ["x"\n', ": not valid TOML: Unclosed array (at end of doc"),
        (b'name = "\xff"\naddress = ["x"]\n', ":1: not UTF-8 text; save the file as UTF-8"),
        (b'name = "A"\naddress = "x"\n[zh]\naddress = 3\n', ":4: key 'zh.address': expected"),
        (b'name = "' + b"A" * 201 + b'"\naddress = ["x"]\n', ":1: key 'name': longer than 200"),
        (b'name = "A"\naddress = [' + b'"x",' * 9 + b"]\n", ":2: key 'address': expected 1 to 8"),
        (b'name = "A"\naddress = ["x"]\nzh = 1\n', ":3: key 'zh': expected a table [zh]"),
        (b"#" * (64 << 10) + b"\n", ": larger than 64 KiB; is it an issuer file?"),
    ],
    ids=["toml", "toml-end", "utf8", "zh-address", "long", "lines", "zh-table", "large"],
)
def test_bad_issuer_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "issuer.toml"
    path.write_bytes(content)
    (problem,) = _problems(str(path))
    assert problem.startswith(f"{path}{message}"), problem


def test_an_issuer_may_be_a_name_and_an_address_only(tmp_path: Path) -> None:
    path = _write(tmp_path, 'name = "Solo"\naddress = """\n1 Road\nTown\n"""\n')
    issuer = read_issuer(path)
    assert (issuer.name, issuer.address, issuer.tax_id) == ("Solo", ("1 Road", "Town"), None)
    assert issuer.key == "Solo"


def test_files_that_cannot_be_issuer_files(tmp_path: Path) -> None:
    assert _problems(str(tmp_path / "none.toml")) == [f"{tmp_path / 'none.toml'}: no such file"]
    assert _problems(str(tmp_path)) == [f"{tmp_path}: is a folder, not an issuer file"]
    assert _problems("-") == ["<stdin>: an issuer file cannot be standard input: give its path"]
    assert _problems("") == ["--issuer: the issuer file's path is empty"]
    assert _problems("a\x00b") == ["a\\x00b: a path cannot hold a NUL character"]


# --- the command -------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_the_issuer_block_comes_from_the_file(tmp_path: Path, lang: str) -> None:
    html = page(tmp_path, *ACME, "--lang", lang, "--issuer", ISSUER)
    header = html.split("</header>", 1)[0]
    text = visible(header)
    if lang == "zh":
        assert "出具方 示例云计算有限公司 上海市浦东新区示例路 1 号 12 楼 邮政编码 200120" in text
        assert "纳税人识别号：91310115MA1K000000 电子邮箱：billing@example.com" in text
    else:
        assert "Issued by Example Cloud Computing Co., Ltd. Floor 12, 1 Example Road" in text
        assert "Tax ID: 91310115MA1K000000 Email: billing@example.com Phone: +86 21 5555" in text
    assert '<address class="issuer"' in header and 'class="issuer missing"' not in header
    # the issuer file is an input of the statement, with its digest
    digest = hashlib.sha256(Path(ISSUER).read_bytes()).hexdigest()
    assert f'<code class="sha256">{digest}</code>' in html
    assert '<tr data-role="issuer">' in html


def test_the_issuer_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACALC_ISSUER", ISSUER)
    html = page(tmp_path, *ACME)
    assert "Example Cloud Computing Co., Ltd." in html


def test_without_an_issuer_the_statement_says_so(tmp_path: Path) -> None:
    for lang, said in [
        ("en", "No issuer is named on this statement"),
        ("zh", "本报告未注明出具方"),
    ]:
        html = page(tmp_path, *ACME, "--lang", lang)
        header = html.split("</header>", 1)[0]
        assert '<p class="issuer missing">' in header and said in header
        assert "<address" not in html and 'data-role="issuer"' not in html


def test_a_bad_issuer_file_is_exit_1_naming_the_file_and_writes_nothing(tmp_path: Path) -> None:
    bad = _write(tmp_path, 'name = "A"\naddress = ["1 Road"]\nemail = "a@b"\n')
    out = tmp_path / "s.html"
    result = invoke(["statement", *ACME, "--issuer", bad, "-o", str(out)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{bad}:3: key 'email': not an e-mail address (name@example.com) (value 'a@b')",
        "1 problem found",
    ]
    assert result.stdout == "" and not out.exists()
    result = invoke(["statement", *ACME, "--issuer", str(tmp_path / "gone.toml")])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{tmp_path / 'gone.toml'}: no such file",
        "1 problem found",
    ]


def test_the_output_never_overwrites_the_issuer_file(tmp_path: Path) -> None:
    issuer = _write(tmp_path, Path(ISSUER).read_text(encoding="utf-8"), name="issuer.html")
    before = Path(issuer).read_bytes()
    result = invoke(["statement", *ACME, "--issuer", issuer, "-o", issuer])
    assert result.exit_code == 2, result.output
    assert Path(issuer).read_bytes() == before


def test_all_customers_each_with_the_issuer(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    args = [*SAMPLE, "--all-customers", "--month", "2025-05", "--issuer", ISSUER]
    result = invoke(["statement", *args, "-o", str(folder)])
    assert result.exit_code == 0, result.output
    numbers = set()
    for path in sorted(folder.iterdir()):
        html = path.read_text(encoding="utf-8")
        assert "Example Cloud Computing Co., Ltd." in html
        numbers.add(re.search(r'data-number="([^"]+)"', html).group(1))
    assert len(numbers) == 4


# --- the display name --------------------------------------------------------------------------

HOSTILE_NAME = "Evil\x1b]0;x\x07 <b>Corp</b>\u202e"


def _render(lang: str, names: dict[str, str]) -> dict[str, str]:
    run = slacalc.statements(
        [INCIDENTS],
        month="2025-05",
        contracts=CONTRACTS,
        as_of=AS_OF,
        display_names=names,
    )
    return {s.customer: render_html(s, lang) for s in run.statements}


@pytest.mark.parametrize(
    ("lang", "shown"),
    [("en", "Acme Corporation (acme)"), ("zh", "Acme Corporation（acme）")],
)
def test_the_display_name_stands_beside_the_id(lang: str, shown: str) -> None:
    pages = _render(lang, {"acme": "  Acme Corporation ", "globex": "", "nobody": "Nobody"})
    acme = pages["acme"]
    header = visible(acme.split("</header>", 1)[0])
    assert " acme · " not in header and f"{shown} · " in header  # the subtitle
    label = "客户" if lang == "zh" else "Customer"
    assert f"{label} {shown}" in header
    title = acme.split("<title>", 1)[1].split("</title>", 1)[0]
    assert f"· {shown} ·" in title
    # the id keeps its field; a customer without a name (or an empty one) shows its id alone
    assert '<span data-field="customer_id" data-value="acme"><bdi>acme</bdi></span>' in acme
    assert "<title>" in pages["globex"] and "(globex)" not in pages["globex"]
    assert "display-name" not in pages["globex"].split("</style>")[1]


def test_a_hostile_display_name_is_text() -> None:
    html = _render("en", {"acme": HOSTILE_NAME})["acme"]
    shown = "Evil\\x1b]0;x\\x07 &lt;b&gt;Corp&lt;/b&gt;\\u202e"
    assert f'<span class="display-name"><bdi>{shown}</bdi></span>' in html
    assert "\x1b" not in html and "\u202e" not in html and "<b>" not in html
    title = html.split("<title>", 1)[1].split("</title>", 1)[0]
    assert shown in title


# --- the appendix ------------------------------------------------------------------------------


def test_the_raw_fields_are_in_one_appendix_at_the_end(tmp_path: Path) -> None:
    html = page(tmp_path, *ACME)
    body = html.split("<body>", 1)[1]
    appendix = body.index('<section id="appendix">')
    # after every other section, before the footer; no raw field list anywhere else
    assert appendix > body.rindex("<section") - 1 and body.index("<footer>") > appendix
    assert body.count('<dl class="fields">') == 2 == body[appendix:].count('<dl class="fields">')
    assert body[:appendix].count("<code>compensation_due_at</code>") == 0
    # every raw field kept, in the CSV's text, each service's row linked from its section
    rows = re.findall(r'<div class="report-row" id="row-(\d)" data-row-of="\d"', body)
    assert rows == ["1", "2"]
    assert body.count('href="#row-1"') == 1 and body.count('href="#row-2"') == 1
    assert 'data-field="monthly_fee" data-value="12000.00">12000.00</dd>' in body
    assert (
        '<dd data-field="compensation_due_at" data-value="2025-06-04T00:00:00+08:00" class="iso">'
        in body
    )
