"""A statement that reads the ledger, looked at in headless Chromium as a person would: the
ledger's section and each credit's record are on the page, visible, with the document number
and status the ledger holds, in English and Chinese, on a desk and on a phone."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from chromium import Browser
from mixins import SAMPLE_DIR, run

from slacalc.writing.statement.pdf import find_browser

pytestmark = pytest.mark.skipif(
    find_browser() is None or shutil.which("fc-list") is None,
    reason="headless Chromium is not installed (Debian: apt-get install chromium "
    "fonts-noto-cjk; .ci/run does it)",
)

INCIDENTS = str(SAMPLE_DIR / "incidents.csv")
CONTRACTS = str(SAMPLE_DIR / "contracts.csv")
DOCUMENT = "CN-2025-0042"
AT = ("--as-of", "2025-07-06T00:00:00+08:00")


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("ledger-pages")
    ledger = str(folder / "ledger.db")
    common = ["--ledger", ledger]
    posted = run(  # at --as-of 2025-07-05: May is final, its credits approved
        [*("ledger", "post", INCIDENTS, "--contracts", CONTRACTS, "-f", "csv"), *common, *AT]
    )
    assert posted.exit_code == 0, posted.stderr
    issued = run(
        [*("ledger", "issue", "acme:compute:2025-05", "--document", DOCUMENT), *common, *AT]
    )
    assert issued.exit_code == 0, issued.stderr
    out = {}
    for lang in ("en", "zh"):
        page = folder / f"acme-{lang}.html"
        result = run(
            [
                *("statement", INCIDENTS, "--contracts", CONTRACTS, "--customer", "acme"),
                *("--month", "2025-05", "--lang", lang, "-o", str(page)),
                *AT,
                *common,
            ]
        )
        assert result.exit_code == 0, result.stderr
        out[lang] = page
    return out


@pytest.fixture(scope="module")
def browser():
    with Browser() as b:
        yield b


@pytest.mark.parametrize("lang, issued", [("en", "issued"), ("zh", "已发放")])
def test_the_ledger_is_on_the_page_as_the_ledger_holds_it(
    pages: dict, browser: Browser, lang: str, issued: str
) -> None:
    page = browser.open(pages[lang].as_uri(), width=1200, height=900)
    try:
        assert page.errors() == []
        section = page.evaluate(
            """(() => { const s = document.querySelector('section#ledger');
                const box = s.getBoundingClientRect();
                return {visible: getComputedStyle(s).display !== 'none' && box.height > 0,
                        text: s.innerText,
                        rows: [...s.querySelectorAll('tr[data-credit]')].map(r =>
                            [r.dataset.credit, r.dataset.status])}; })()"""
        )
        assert section["visible"]
        assert ["acme:compute:2025-05", "issued"] in section["rows"]
        assert ["acme:storage:2025-05", "approved"] in section["rows"]
        records = page.evaluate(  # each breached service's block "In the compensation ledger"
            """[...document.querySelectorAll('section.service .credit')].map(r => ({
                credit: r.dataset.credit, text: r.innerText,
                height: r.getBoundingClientRect().height}))"""
        )
        assert {r["credit"] for r in records} == {"acme:compute:2025-05", "acme:storage:2025-05"}
        compute = next(r for r in records if r["credit"] == "acme:compute:2025-05")
        assert compute["height"] > 0
        assert DOCUMENT in compute["text"] and issued in compute["text"]
    finally:
        page.close()


def test_the_ledger_reads_on_a_phone(pages: dict, browser: Browser) -> None:
    page = browser.open(pages["zh"].as_uri(), width=390, height=844, mobile=True)
    try:
        wide, view = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert wide <= view, "the page scrolls sideways on a phone"
    finally:
        page.close()
