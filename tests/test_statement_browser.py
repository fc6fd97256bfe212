"""statement, looked at as a person would: in headless Chromium on a desk and on a phone, and as
a printed PDF turned back into pixels.

Needs Debian's chromium (and fonts-noto-cjk for the Chinese page) and poppler-utils' pdftoppm:
``.ci/run`` installs them; without them these tests are skipped, saying so.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from chromium import Browser, png_size
from statement_pages import (
    AS_OF,
    CONTRACTS,
    EDGE_AS_OF,
    INCIDENTS,
    MARKUP_ID,
    invoke,
    timeline_stretches,
    write_edge_files,
)

from slacalc.writing.statement.pdf import find_browser

pytestmark = [
    pytest.mark.skipif(
        find_browser() is None,
        reason="headless Chromium is not installed (Debian: apt-get install chromium "
        "fonts-noto-cjk; .ci/run does it)",
    ),
    pytest.mark.skipif(
        shutil.which("pdftoppm") is None,
        reason="pdftoppm is not installed (Debian: apt-get install poppler-utils)",
    ),
]

# (customer, month, as-of, sample files or the hard cases)
PAGES = {
    "acme-en": ("acme", "2025-05", "en", False),
    "globex-zh": ("globex", "2025-05", "zh", False),
    "markup-en": (MARKUP_ID, "2025-06", "en", True),
    "tenc-zh": ("tenc", "2025-06", "zh", True),
}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, list[str]]]:
    """Each page's HTML file and the options that made it."""
    folder = tmp_path_factory.mktemp("statements")
    edge = write_edge_files(folder)
    out = {}
    for name, (customer, month, lang, hard) in PAGES.items():
        incidents, contracts, as_of = (*edge, EDGE_AS_OF) if hard else (INCIDENTS, CONTRACTS, AS_OF)
        common = [incidents, "--contracts", contracts, "--as-of", as_of]
        path = folder / f"{name}.html"
        args = [*common, "--customer", customer, "--month", month, "--lang", lang]
        result = invoke(["statement", *args, "-o", str(path)])
        assert result.exit_code == 0, result.output
        out[name] = (path, common)
    return out


@pytest.fixture(scope="module")
def browser():
    with Browser() as b:
        yield b


@pytest.mark.parametrize("name", PAGES)
def test_the_page_loads_cleanly_and_draws_one_rect_per_down_interval(
    name: str, files: dict, browser: Browser, tmp_path: Path
) -> None:
    path, common = files[name]
    customer, month, _, _ = PAGES[name]
    page = browser.open(path.as_uri(), width=1200, height=900)
    try:
        assert page.errors() == []
        assert page.requests() == [path.as_uri()]  # nothing fetched from anywhere else
        charts = page.evaluate(
            """[...document.querySelectorAll('section.service')].map(s => ({
                service: s.dataset.service,
                rects: [...s.querySelectorAll('svg.chart rect')].map(r => {
                    const box = r.getBoundingClientRect();
                    return {cls: r.getAttribute('class'), start: r.dataset.start,
                            end: r.dataset.end, width: box.width, height: box.height,
                            fill: getComputedStyle(r).fill,
                            opacity: parseFloat(getComputedStyle(r).fillOpacity)};
                })}))"""
        )
        assert charts, "no service section"
        for chart in charts:
            incidents, contracts = common[0], common[2]
            expected = timeline_stretches(
                incidents, contracts, customer, chart["service"], month, *common[3:]
            )
            rects = chart["rects"]
            assert [(r["start"], r["end"]) for r in rects] == [(a, b) for a, b, _ in expected]
            for r in rects:  # drawn, shaded, visible
                assert r["cls"].split()[0] == "down"
                assert r["width"] > 0 and r["height"] > 0
                assert r["fill"] not in ("none", "rgba(0, 0, 0, 0)") and r["opacity"] > 0
        shot = page.screenshot(tmp_path / f"{name}.png")
        width, height = png_size(shot)
        assert width == 1200 and height > 900  # the whole page, longer than one screen
    finally:
        page.close()


def test_ids_with_markup_stay_text_in_the_browser(files: dict, browser: Browser) -> None:
    path, _ = files["markup-en"]
    page = browser.open(path.as_uri())
    try:
        assert page.evaluate("document.querySelectorAll('script, img, iframe, b').length") == 0
        assert page.evaluate("document.querySelector('.subtitle').textContent").startswith(
            MARKUP_ID
        )
        assert page.evaluate("document.title").endswith("June 2025")
        assert page.errors() == []
    finally:
        page.close()


@pytest.mark.parametrize("name", ["acme-en", "tenc-zh"])
def test_it_reads_on_a_phone(name: str, files: dict, browser: Browser, tmp_path: Path) -> None:
    path, _ = files[name]
    page = browser.open(path.as_uri(), width=390, height=844, mobile=True)
    try:
        wide, view = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert wide <= view, "the page scrolls sideways on a phone"
        # the text is not shrunk to fit: body text at 14 px, headline figures larger
        sizes = page.evaluate(
            "[getComputedStyle(document.body).fontSize,"
            " getComputedStyle(document.querySelector('.card .big')).fontSize]"
        )
        assert [float(s.removesuffix("px")) for s in sizes] >= [14, 18]
        assert png_size(page.screenshot(tmp_path / f"{name}-phone.png"))[0] == 390
    finally:
        page.close()


def _pgm(path: Path) -> np.ndarray:
    """A binary PGM (P5, 8-bit) as a 2-D array: what ``pdftoppm -gray`` writes."""
    data = path.read_bytes()
    fields, pos = [], 0
    while len(fields) < 4:  # magic, width, height, maxval, separated by whitespace
        while data[pos : pos + 1].isspace():
            pos += 1
        start = pos
        while not data[pos : pos + 1].isspace():
            pos += 1
        fields.append(data[start:pos])
    assert fields[0] == b"P5" and int(fields[3]) < 256
    width, height = int(fields[1]), int(fields[2])
    return np.frombuffer(data, np.uint8, width * height, pos + 1).reshape(height, width)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_pdf_is_a4_and_its_pages_are_not_blank(lang: str, tmp_path: Path) -> None:
    pdf = tmp_path / f"globex.{lang}.pdf"
    args = [INCIDENTS, "--contracts", CONTRACTS, "--as-of", AS_OF, "--customer", "globex"]
    result = invoke(["statement", *args, "--month", "2025-05", "--lang", lang, "-o", str(pdf)])
    assert result.exit_code == 0, result.output
    assert pdf.read_bytes().startswith(b"%PDF-")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    assert "(A4)" in info.stdout
    # the PDF's title is the page's: the statement's number in it
    assert re.search(r"(?m)^Title: .*SLA-2025-05-GLOBEX-[0-9A-F]{8} · globex", info.stdout)
    subprocess.run(
        ["pdftoppm", "-gray", "-r", "40", str(pdf), str(tmp_path / "page")],
        check=True,
        capture_output=True,
    )
    pages = sorted(tmp_path.glob("page-*.pgm"))
    assert pages
    for page in pages:
        pixels = _pgm(page)
        inked = float((pixels < 200).mean())
        assert inked > 0.005, f"{page.name} is blank ({inked:.2%} inked)"
    text = subprocess.run(
        ["pdftotext", "-l", "1", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert ("服务健康报告" if lang == "zh" else "Monthly SLA statement") in text
    assert "99.9312" in text and "7.74" in text  # the figures are text, not pictures


def test_a_pdf_folder_of_every_customer(files: dict, tmp_path: Path) -> None:
    _, common = files["tenc-zh"]
    two = []  # the hard cases less the customer with markup: two customers, two browsers
    for path in (common[0], common[2]):
        lines = Path(path).read_text(encoding="utf-8").splitlines(keepends=True)
        two.append(tmp_path / Path(path).name)
        two[-1].write_text("".join(x for x in lines if MARKUP_ID not in x), encoding="utf-8")
    folder = tmp_path / "pdf"
    args = [str(two[0]), "--contracts", str(two[1]), "--as-of", EDGE_AS_OF, "--all-customers"]
    result = invoke(["statement", *args, "-m", "2025-06", "-f", "pdf", "-o", str(folder)])
    assert result.exit_code == 0, result.output
    made = sorted(p.name for p in folder.iterdir())
    assert made == ["quiet-2025-06.en.pdf", "tenc-2025-06.en.pdf"]
    assert all((folder / p).read_bytes().startswith(b"%PDF-") for p in made)


# --- a finance document: issuer, number, timestamps, rest days, fonts ------------------------

ISSUER = str(Path(__file__).resolve().parent.parent / "samples" / "issuer.toml")
# The text of every element that holds an ISO 8601 instant, and its line boxes: one each.
_ISO_LINES = r"""
(() => {
  const iso = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/;
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    if (!iso.test(node.data)) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const boxes = [...range.getClientRects()].filter(r => r.width > 0);
    out.push({text: node.data.trim(), lines: new Set(boxes.map(r => Math.round(r.top))).size});
  }
  return out;
})()
"""


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """acme's May 2025 with the sample issuer, in each language."""
    folder = tmp_path_factory.mktemp("issued")
    out = {}
    for lang in ("en", "zh"):
        path = folder / f"acme.{lang}.html"
        args = [INCIDENTS, "--contracts", CONTRACTS, "--as-of", AS_OF, "--customer", "acme"]
        args += ["--month", "2025-05", "--lang", lang, "--issuer", ISSUER, "-o", str(path)]
        result = invoke(["statement", *args])
        assert result.exit_code == 0, result.output
        out[lang] = path
    return out


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_issuer_and_the_statement_number_are_in_view(
    lang: str, issued: dict, browser: Browser
) -> None:
    page = browser.open(issued[lang].as_uri(), width=1200, height=900)
    try:
        seen = page.evaluate(
            """(() => {
              const box = e => { const r = e.getBoundingClientRect();
                return {top: r.top, bottom: r.bottom, width: r.width, height: r.height,
                        text: e.innerText, visible: getComputedStyle(e).visibility}; };
              const number = document.querySelector('.masthead .number');
              return {issuer: box(document.querySelector('.masthead .issuer')),
                      number: box(number),
                      data: document.querySelector('main').dataset.number,
                      title: document.title};
            })()"""
        )
        issuer, number = seen["issuer"], seen["number"]
        # on the first screen, drawn, as a reader sees them
        for part in (issuer, number):
            assert part["width"] > 0 and part["height"] > 0 and part["visible"] == "visible"
            assert part["top"] >= 0 and part["bottom"] <= 900
        name = "示例云计算有限公司" if lang == "zh" else "Example Cloud Computing Co., Ltd."
        assert name in issuer["text"] and "91310115MA1K000000" in issuer["text"]
        assert number["text"] == seen["data"]
        assert re.fullmatch(r"SLA-2025-05-ACME-[0-9A-F]{8}", number["text"])
        assert seen["data"] in seen["title"]
        assert number["height"] < 30  # one line
    finally:
        page.close()


@pytest.mark.parametrize(
    ("width", "media"), [(1000, "screen"), (1200, "screen"), (700, "print")], ids=str
)
def test_timestamps_stay_on_one_line(
    width: int, media: str, issued: dict, browser: Browser
) -> None:
    """Every ISO 8601 instant on the page (the appendix's raw fields, the as-of time) is one
    line: on desks of two widths and in print at A4's width (they broke after a hyphen)."""
    page = browser.open(issued["en"].as_uri(), width=width, height=900)
    try:
        if media == "print":
            browser.send("Emulation.setEmulatedMedia", {"media": "print"}, page.session)
        found = page.evaluate(_ISO_LINES)
        assert len(found) >= 5  # the as-of time, and two instants of each service's row
        broken = [x["text"] for x in found if x["lines"] != 1]
        assert broken == []
    finally:
        page.close()


def test_rest_days_are_styled_as_rest_days(files: dict, browser: Browser) -> None:
    """Every rest day's number is grey and its day shaded, labelled or not (1, 5, 10 ... are
    labelled on a phone); no working day looks like one."""
    path, _ = files["acme-en"]
    page = browser.open(path.as_uri())
    try:
        days = page.evaluate(
            """[...document.querySelector('svg.chart').querySelectorAll('text.day')].map(t => ({
                day: +t.textContent, rest: t.classList.contains('rest'),
                fill: getComputedStyle(t).fill}))"""
        )
        shaded = page.evaluate(
            "document.querySelector('svg.chart').querySelectorAll('path.rest-day').length"
        )
        tint = page.evaluate(
            "getComputedStyle(document.querySelector('svg.chart path.rest-day')).fill"
        )
    finally:
        page.close()
    rest = [d for d in days if d["rest"]]
    # May 2025 in China: 1-5 May (Labour Day) and the weekends but Sunday 27 April's make-up
    assert [d["day"] for d in rest] == [1, 2, 3, 4, 5, 10, 11, 17, 18, 24, 25, 31]
    assert {d["fill"] for d in rest} == {"rgb(138, 151, 165)"}
    assert "rgb(138, 151, 165)" not in {d["fill"] for d in days if not d["rest"]}
    assert shaded == len(rest)
    assert tint not in ("none", "rgba(0, 0, 0, 0)")


def _fonts(page, selector: str) -> list[str]:
    """The fonts Chromium drew a node's text with, most glyphs first."""
    send = page.browser.send
    for domain in ("DOM", "CSS"):
        send(f"{domain}.enable", session=page.session)
    root = send("DOM.getDocument", session=page.session)["root"]["nodeId"]
    node = send("DOM.querySelector", {"nodeId": root, "selector": selector}, page.session)
    fonts = send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]}, page.session)
    return [f["familyName"] for f in sorted(fonts["fonts"], key=lambda f: -f["glyphCount"])]


@pytest.mark.skipif(
    shutil.which("fc-list") is None
    or "Noto Sans CJK SC" not in subprocess.run(["fc-list"], capture_output=True, text=True).stdout,
    reason="fonts-noto-cjk is not installed",
)
def test_latin_text_has_a_latin_font_and_chinese_the_cjk_one(
    issued: dict, browser: Browser
) -> None:
    page = browser.open(issued["zh"].as_uri())
    try:
        figure = _fonts(page, '.card .big [data-field="availability_pct"]')  # 99.9234
        number = _fonts(page, ".masthead .subtitle")  # "acme · 2025年5月"
        heading = _fonts(page, "h1")  # 服务健康报告
    finally:
        page.close()
    assert "CJK" not in figure[0], figure  # digits in a Latin face on the Chinese page
    assert "CJK" not in number[0] and any("CJK SC" in f for f in number), number
    assert heading == ["Noto Sans CJK SC"], heading
