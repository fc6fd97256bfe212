"""statement, looked at as a person would: in headless Chromium on a desk and on a phone, and as
a printed PDF turned back into pixels.

Needs Debian's chromium (and fonts-noto-cjk for the Chinese page) and poppler-utils' pdftoppm:
``.ci/run`` installs them; without them these tests are skipped, saying so.
"""

from __future__ import annotations

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
