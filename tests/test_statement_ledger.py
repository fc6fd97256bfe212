"""statement --ledger: each credit line shows what the compensation ledger knows of it (status,
claim, document number, caps, adjustments, its own form; "not yet posted" when the ledger has
none), with totals computed / approved / issued, in English and Chinese, and the ledger is only
read. The policy key credit_form takes the ledger's five forms.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import sqlite3
from pathlib import Path

import pytest
from statement_pages import invoke, read_statement
from test_ledger import pg_cluster, target  # noqa: F401  (a ledger on SQLite and on PostgreSQL)
from typer.testing import CliRunner

from slacalc.cli import app
from slacalc.ledger import FORMS
from slacalc.terms.policy import PolicyError, read_policy_file
from slacalc.writing.statement.messages import EN, LANGS, MESSAGES, ZH

NBSP = "\u00a0"
MONTH = "2025-05"
POSTED_AT = "2025-06-05T00:00:00+08:00"  # May is over: its credits are final
CLAIMED_AT = "2025-06-10T00:00:00+08:00"
STATEMENT_AT = "2025-06-28T12:00:00+08:00"

# One hour down on a different day for each service: 3600 / 2678400 s x 1000 x 1.25 = 1.68 CNY.
SERVICES = {
    "a-cash": 3,
    "b-account": 4,
    "c-voucher": 5,
    "d-extension": 6,
    "e-grant": 7,
    "f-denied": 8,
    "g-claimed": 9,
    "h-detected": 10,
    "i-unposted": 11,  # in the statement's log, not in the posted one
}
CONTRACTS = "customer_id,service,monthly_fee,currency,sla_target\nacme,*,1000.00,CNY,99.95\n"
POLICY = """\
name = "claims"
credit_form = "voucher"
[claim_window]
closes_after_days = 60
[[tiers]]
target = "99.95"
coefficient = "1.25"
"""


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACALC_TZ", "SLACALC_POLICY", "SLACALC_CURRENCY", "SLACALC_CALENDAR"):
        monkeypatch.delenv(name, raising=False)
    for name in ("SLACALC_LANG", "SLACALC_ISSUER", "SLACALC_LEDGER", "LC_ALL", "LANG"):
        monkeypatch.delenv(name, raising=False)


def log(services: dict[str, int], *extra: str) -> str:
    rows = [
        f"{name.upper()},acme,{name},outage,2025-05-{day:02d} 10:00:00,2025-05-{day:02d} 11:00:00,"
        for name, day in services.items()
    ]
    return "incident_id,customer_id,service,category,start,end,impact\n" + "\n".join(
        [*rows, *extra, ""]
    )


def ok(args: list[str]) -> str:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, (args, result.output)
    return result.stdout


class Books:
    """A month posted to a ledger and walked through the lifecycle with the ledger commands."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.contracts = self.write("contracts.csv", CONTRACTS)
        self.policy = self.write("claims.toml", POLICY)
        posted = {k: v for k, v in SERVICES.items() if k != "i-unposted"}
        self.posted_log = self.write("posted.csv", log(posted))
        self.incidents = self.write("incidents.csv", log(SERVICES))
        self.ledger = str(folder / "ledger.db")

    def write(self, name: str, text: str) -> str:
        path = self.folder / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    def run(self, *args: str, as_of: str = CLAIMED_AT) -> str:
        return ok(["ledger", *args, "--ledger", self.ledger, "--as-of", as_of, "-f", "csv"])

    def post(self, incidents: str, as_of: str = POSTED_AT) -> None:
        self.run(
            "post", incidents, "--contracts", self.contracts, "--policy", self.policy, as_of=as_of
        )

    def walk(self) -> None:
        self.post(self.posted_log)
        for service in ("a-cash", "b-account", "c-voucher", "d-extension", "e-grant"):
            self.run("claim", f"acme:{service}:{MONTH}", "--reference", f"REF-{service[0].upper()}")
        for service in ("f-denied", "g-claimed"):
            self.run("claim", f"acme:{service}:{MONTH}", "--reference", f"REF-{service[0].upper()}")
        self.run("approve", f"acme:a-cash:{MONTH}", "--form", "cash")
        self.run("issue", f"acme:a-cash:{MONTH}", "--document", "CN-2025-0001")
        self.run("apply", f"acme:a-cash:{MONTH}")
        self.run(
            "approve", f"acme:b-account:{MONTH}", "--amount", "1.00", "--form", "account_credit"
        )
        self.run("approve", f"acme:c-voucher:{MONTH}")
        self.run(
            "issue",
            f"acme:c-voucher:{MONTH}",
            "--document",
            "VC-77",
            "--voucher-expires",
            "2025-12-31",
        )
        self.run(
            "approve",
            f"acme:d-extension:{MONTH}",
            "--form",
            "service_extension",
            "--extension-days",
            "3",
        )
        self.run("issue", f"acme:d-extension:{MONTH}", "--document", "EXT-9")
        self.run(
            "approve",
            f"acme:e-grant:{MONTH}",
            "--form",
            "resource_grant",
            "--grant",
            "200 vCPU-hours",
        )
        self.run("issue", f"acme:e-grant:{MONTH}", "--document", "GR-3")
        self.run("deny", f"acme:f-denied:{MONTH}", "--reason", "duplicate of REF-A")

    def statement(self, lang: str, *extra: str, ledger: bool = True) -> str:
        out = self.folder / f"statement.{lang}.html"
        args = [
            "statement",
            self.incidents,
            "--contracts",
            self.contracts,
            "--policy",
            self.policy,
            "--customer",
            "acme",
            "--month",
            MONTH,
            "--as-of",
            STATEMENT_AT,
            "--lang",
            lang,
            *(["--ledger", self.ledger] if ledger else []),
            *extra,
            "-o",
            str(out),
        ]
        result = invoke(args)
        assert result.exit_code == 0, result.output
        return out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> Books:
    made = Books(tmp_path_factory.mktemp("books"))
    made.walk()
    return made


def text_of(html: str) -> str:
    body = html.split("<body>", 1)[1]
    body = re.sub(r"<(/?)(div|dt|dd|p|li|h[1-6]|td|th|tr|section|caption)\b", r" <\1\2", body)
    return re.sub(r"\s+", " ", "".join(read_statement(body).text)).replace(NBSP, " ")


def service_section(html: str, service: str) -> str:
    """The HTML of one service's section."""
    (section,) = [
        part.split("</section>", 1)[0]
        for part in html.split('<section class="service"')[1:]
        if f'data-service="{service}"' in part.split(">", 1)[0]
    ]
    return section


def credit_block(html: str, service: str) -> str:
    """The text of one service's ledger block."""
    block = service_section(html, service).split('<div class="credit"', 1)[1]
    return text_of("<body><div " + block.split('<p class="note see-appendix">')[0])


def ledger_values(html: str, credit: str) -> dict[str, str]:
    """The ledger fields of ``credit`` as the page marks them (its appendix record)."""
    (record,) = [
        part.split("</dl>", 1)[0]
        for part in html.split('<div class="ledger-record"')[1:]
        if f'data-credit="{credit}"' in part.split(">", 1)[0]
    ]
    return dict(re.findall(r'data-ledger="([a-z_]+)" data-value="([^"]*)"', record))


# --- every status, in both languages ----------------------------------------------------------

EXPECTED = {
    EN: {
        "a-cash": [
            "applied to the bill",
            "Document number CN-2025-0001",
            "Paid as cash",
            "Approved CNY 1.68",
            "Issued CNY 1.68",
            "reference REF-A, 10 Jun 2025 00:00:00",
        ],
        "b-account": [
            "approved in part",
            "Paid as account credit",
            "Approved CNY 1.00 of CNY 1.68 (in part)",
            "reference REF-B",
        ],
        "c-voucher": [
            "issued",
            "Document number VC-77",
            "vouchers, valid until 31 Dec 2025",
            "Issued CNY 1.68",
        ],
        "d-extension": ["issued", "Document number EXT-9", "service-time extension of 3 days"],
        "e-grant": ["issued", "Document number GR-3", "resource grant: 200 vCPU-hours"],
        "f-denied": ["denied", "Reason duplicate of REF-A", "reference REF-F"],
        "g-claimed": ["claimed: awaiting approval", "reference REF-G", "Paid as vouchers"],
        "h-detected": ["detected: not claimed yet", "Paid as vouchers"],
        "i-unposted": ["Not yet posted: the compensation ledger has no credit for this service"],
    },
    ZH: {
        "a-cash": [
            "已抵扣账单",
            "单据编号 CN-2025-0001",
            "赔付方式 现金",
            "核准金额 CNY 1.68",
            "已发放金额 CNY 1.68",
            "申请编号 REF-A，2025年6月10日 00:00:00",
        ],
        "b-account": ["部分核准", "赔付方式 账户余额", "应赔 CNY 1.68，部分核准 CNY 1.00"],
        "c-voucher": ["已发放", "单据编号 VC-77", "代金券，有效期至 2025年12月31日"],
        "d-extension": ["已发放", "单据编号 EXT-9", "服务时长减免：延长 3 天"],
        "e-grant": ["已发放", "单据编号 GR-3", "资源赠送：200 vCPU-hours"],
        "f-denied": ["已驳回", "原因 duplicate of REF-A"],
        "g-claimed": ["已申请，待核准", "申请编号 REF-G", "赔付方式 代金券"],
        "h-detected": ["已识别，待客户申请"],
        "i-unposted": ["尚未入账：赔偿台账中尚无该服务本月的赔偿记录。"],
    },
}


@pytest.mark.parametrize("lang", LANGS)
def test_each_credit_line_shows_what_the_ledger_knows(books: Books, lang: str) -> None:
    html = books.statement(lang)
    for service, wanted in EXPECTED[lang].items():
        block = credit_block(html, service)
        for text in wanted:
            assert text in block, (service, text, block)
    if lang == EN:
        assert "Credit acme:a-cash:2025-05" in credit_block(html, "a-cash")
    else:
        assert "台账编号 acme:a-cash:2025-05" in credit_block(html, "a-cash")


@pytest.mark.parametrize("lang", LANGS)
def test_the_totals_are_computed_approved_and_issued(books: Books, lang: str) -> None:
    html = books.statement(lang)
    totals = dict(
        re.findall(r'data-ledger-total="([a-z]+)">([^<]+)<', html.split('<section id="ledger">')[1])
    )
    # nine breached services of 1.68 each; approved: a, c, d, e in full, b 1.00 of it;
    # issued: a (applied), c, d, e
    assert totals == {"computed": "15.12", "approved": "7.72", "issued": "6.72"}
    heading = "Credits in the compensation ledger" if lang == EN else "赔偿台账汇总"
    total = "Total" if lang == EN else "合计"
    text = text_of(html)
    assert heading in text and f"{total} CNY 15.12 CNY 7.72 CNY 6.72" in text


def test_the_page_marks_the_ledgers_fields(books: Books) -> None:
    """Machine-readable: each credit's record in the appendix as `ledger list -f csv` has it,
    and the figures of the line marked with the same names."""
    html = books.statement(EN)
    listed = ok(["ledger", "list", "--ledger", books.ledger, "--as-of", STATEMENT_AT, "-f", "csv"])
    records = list(csv.DictReader(io.StringIO(listed)))
    assert len(records) == 8
    for record in records:
        assert ledger_values(html, record["credit_id"]) == record, record["credit_id"]
    block = service_section(html, "b-account")
    assert 'data-ledger="status" data-value="approved"' in block
    assert 'data-ledger="approved" data-value="1.00"' in block
    assert 'data-ledger="form" data-value="account_credit"' in block
    # the report's own fields keep their meaning: the policy's form stays in the appendix
    assert 'data-field="credit_form" data-value="voucher"' in html


def test_an_adjustment_after_issue_shows_on_the_line(tmp_path: Path) -> None:
    books = Books(tmp_path)
    books.posted_log = books.write("posted.csv", log({"a-cash": 3}))
    books.post(books.posted_log)
    books.run("claim", f"acme:a-cash:{MONTH}", "--reference", "REF-A")
    books.run("approve", f"acme:a-cash:{MONTH}")
    books.run("issue", f"acme:a-cash:{MONTH}", "--document", "CN-1")
    # a late incident: an hour more, found after the credit was issued
    late = "LATE,acme,a-cash,outage,2025-05-20 10:00:00,2025-05-20 11:00:00,"
    books.incidents = books.write("incidents.csv", log({"a-cash": 3}, late))
    html = books.statement(EN)
    assert "the month changed since it was posted" in credit_block(html, "a-cash")
    books.post(books.incidents, as_of="2025-06-20T00:00:00+08:00")
    for lang, words in {
        EN: ["Adjustments after issue", "CNY 1.68 CNY 1.68 CNY 3.36", "Issued CNY 3.36"],
        ZH: ["发放后的调整", "CNY 1.68 CNY 1.68 CNY 3.36", "已发放金额 CNY 3.36"],
    }.items():
        html = books.statement(lang)
        a = credit_block(html, "a-cash")
        for word in words:
            assert word in a, (word, a)
        assert 'data-adjustment="delta">1.68<' in html
        assert "credit-differs" not in html  # the adjustment brought the ledger up to date
    totals = re.findall(r'data-ledger-total="([a-z]+)">([^<]+)<', html)
    assert totals == [("computed", "3.36"), ("approved", "1.68"), ("issued", "3.36")]


def test_what_the_caps_cut_shows_on_the_line(tmp_path: Path) -> None:
    books = Books(tmp_path)
    capped = POLICY.replace("[claim_window]", 'customer_cap_pct = "0.1"\n[claim_window]')
    books.policy = books.write("capped.toml", capped)
    two = {"a-cash": 3, "b-account": 4}
    books.posted_log = books.incidents = books.write("two.csv", log(two))
    books.post(books.posted_log)
    # 0.1 % of the customer's 2,000.00 of fees: 2.00; a-cash takes 1.68, b-account what is left
    for lang, words in {
        EN: [
            "Cut by the caps CNY 1.36 (the customer's monthly cap)",
            "Owed after the caps CNY 0.32",
        ],
        ZH: ["上限核减金额 CNY 1.36（客户月度赔偿上限）", "上限核减后应赔金额 CNY 0.32"],
    }.items():
        b = credit_block(books.statement(lang), "b-account")
        for word in words:
            assert word in b, (word, b)


def test_an_expired_credit(tmp_path: Path) -> None:
    from zoneinfo import ZoneInfo

    from slacalc.dates.instants import parse_instant
    from slacalc.ledger import Ledger

    books = Books(tmp_path)
    books.posted_log = books.write("posted.csv", log({"a-cash": 3}))
    books.incidents = books.posted_log
    books.post(books.posted_log)
    with Ledger(books.ledger) as ledger:  # the window closed 60 days after the month, unclaimed
        assert ledger.expire(parse_instant("2025-08-15T00:00:00+08:00", ZoneInfo("Asia/Shanghai")))
    assert "expired: the claim window closed unclaimed" in credit_block(
        books.statement(EN), "a-cash"
    )
    assert "已失效：申请期内未申请" in credit_block(books.statement(ZH), "a-cash")


# --- read-only ---------------------------------------------------------------------------------


def test_the_statement_opens_the_ledger_without_writing(books: Books, tmp_path: Path) -> None:
    before = Path(books.ledger).read_bytes()
    mtime = os.stat(books.ledger).st_mtime_ns
    books.statement(EN)
    books.statement(ZH)
    assert Path(books.ledger).read_bytes() == before
    assert os.stat(books.ledger).st_mtime_ns == mtime
    assert not Path(books.ledger + "-journal").exists() and not Path(books.ledger + "-wal").exists()


def test_a_ledger_that_needs_a_migration_is_read_never_migrated(tmp_path: Path) -> None:
    from slacalc.ledger.schema import migrate
    from slacalc.ledger.sql import Database

    books = Books(tmp_path)
    old = tmp_path / "old.db"
    db = Database(str(old))
    migrate(db, target=2)
    db.close()
    digest = hashlib.sha256(old.read_bytes()).hexdigest()
    result = invoke(
        [
            "statement",
            books.incidents,
            "--contracts",
            books.contracts,
            "--customer",
            "acme",
            "--month",
            MONTH,
            "--as-of",
            STATEMENT_AT,
            "--ledger",
            str(old),
        ]
    )
    assert result.exit_code == 1, result.output
    assert "schema version 2, older than this slacalc's" in result.stderr
    assert hashlib.sha256(old.read_bytes()).hexdigest() == digest


def test_a_missing_ledger_is_an_error_and_is_not_made(tmp_path: Path) -> None:
    books = Books(tmp_path)
    missing = tmp_path / "nope.db"
    result = invoke(
        [
            "statement",
            books.incidents,
            "--contracts",
            books.contracts,
            "--customer",
            "acme",
            "--month",
            MONTH,
            "--as-of",
            STATEMENT_AT,
            "--ledger",
            str(missing),
        ]
    )
    assert result.exit_code == 1, result.output
    assert "no such file" in result.stderr and "Traceback" not in result.output
    assert not missing.exists()


def test_slacalc_ledger_names_the_default_ledger(
    books: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    # without --ledger or SLACALC_LEDGER the statement is as it was: no ledger, the policy's form
    html = books.statement(EN, ledger=False)
    assert 'id="ledger"' not in html and "data-ledger" not in html and ".credit {" not in html
    assert 'data-field="credit_form" data-value="voucher">vouchers<' in html
    monkeypatch.setenv("SLACALC_LEDGER", books.ledger)
    html = books.statement(EN, ledger=False)
    assert 'data-ledger="credit_id" data-value="acme:a-cash:2025-05"' in html


def test_the_read_only_connection_refuses_a_write(books: Books) -> None:
    from slacalc.computing.statement_ledger import read_ledger
    from slacalc.ledger.sql import LedgerError

    with read_ledger(books.ledger) as ledger:
        assert ledger.credits(customer=["acme"], month=[MONTH])
        with pytest.raises((LedgerError, sqlite3.Error)):
            ledger.db.execute("UPDATE credits SET status = 'applied'")


def test_both_databases_are_read_and_never_written(
    target: str,  # noqa: F811  (test_ledger's fixture: SQLite, then PostgreSQL)
    tmp_path: Path,
) -> None:
    """The same statement from a ledger on SQLite and on PostgreSQL, through a connection that
    refuses to write."""
    from slacalc.computing.statement_ledger import read_ledger
    from slacalc.ledger.sql import LedgerError

    books = Books(tmp_path)
    books.ledger = target
    books.posted_log = books.write("posted.csv", log({"a-cash": 3}))
    books.post(books.posted_log)
    books.run("claim", f"acme:a-cash:{MONTH}", "--reference", "REF-A")
    block = credit_block(books.statement(ZH), "a-cash")
    assert "已申请，待核准" in block and "申请编号 REF-A" in block
    assert "尚未入账" in credit_block(books.statement(ZH), "b-account")
    with read_ledger(target) as ledger:
        with pytest.raises((LedgerError, sqlite3.Error)):
            ledger.db.execute("UPDATE credits SET status = ?", ("applied",))
        (credit,) = ledger.credits(customer=["acme"], month=[MONTH])
        assert credit["status"] == "claimed"


# --- credit forms ------------------------------------------------------------------------------


def test_the_policy_takes_every_ledger_form(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    read = {"refund": "cash", "Service-Extension": "service_extension"}
    for form in [*FORMS, *read]:
        path.write_text(POLICY.replace('"voucher"', f'"{form}"'), encoding="utf-8")
        assert read_policy_file(path).credit_form == read.get(form, form)


def test_an_unknown_form_names_the_five(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(POLICY.replace('"voucher"', '"gold"'), encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        read_policy_file(path)
    assert "'cash', 'account_credit', 'voucher', 'service_extension', 'resource_grant'" in str(
        caught.value
    )


def test_every_form_has_its_name_in_both_languages() -> None:
    names = {
        EN: {
            "cash": "cash",
            "account_credit": "account credit",
            "voucher": "vouchers",
            "service_extension": "service-time extension",
            "resource_grant": "resource grant",
        },
        ZH: {
            "cash": "现金",
            "account_credit": "账户余额",
            "voucher": "代金券",
            "service_extension": "服务时长减免",
            "resource_grant": "资源赠送",
        },
    }
    for lang in LANGS:
        assert {f: MESSAGES[lang][f"credit_form.{f}"] for f in FORMS} == names[lang]


@pytest.mark.parametrize("form", FORMS)
def test_the_policys_form_reaches_the_ledger_and_the_statement(tmp_path: Path, form: str) -> None:
    books = Books(tmp_path)
    books.policy = books.write("claims.toml", POLICY.replace('"voucher"', f'"{form}"'))
    books.posted_log = books.incidents = books.write("one.csv", log({"a-cash": 3}))
    books.post(books.posted_log)
    html = books.statement(ZH)
    assert f'data-ledger="form" data-value="{form}"' in html
    name = MESSAGES[ZH][f"credit_form.{form}"]
    assert f"赔付方式 {name}" in credit_block(html, "a-cash")
    # without the ledger, the policy's form is what the statement says
    plain = books.statement(ZH, ledger=False)
    assert f'data-field="credit_form" data-value="{form}">{name}<' in plain
