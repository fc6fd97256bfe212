"""A statement's PDF: the same HTML, printed by headless Chromium (Debian's ``chromium``), A4
from the page's print stylesheet; Chinese needs a CJK font such as ``fonts-noto-cjk``."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from slacalc.errors import SlacalcError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# A browser that starts fresh, talks to no one and leaves nothing behind but the PDF.
HEADLESS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
INSTALL_HINT = (
    "install headless Chromium and a CJK font (Debian: apt-get install chromium fonts-noto-cjk), "
    "or name the browser with SLACALC_CHROMIUM=/path/to/chromium"
)


class PdfError(SlacalcError):
    """A PDF could not be made: no browser, or the browser failed (exit 1)."""


def find_browser() -> str | None:
    """``$SLACALC_CHROMIUM``, else the first of :data:`BROWSERS` on the PATH."""
    given = os.environ.get("SLACALC_CHROMIUM")
    if given:
        return shutil.which(given)
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def html_to_pdf(html: str, *, timeout: float = 120) -> bytes:
    """Print ``html`` to PDF with headless Chromium, in a fresh profile that is then removed."""
    browser = find_browser()
    if browser is None:
        raise PdfError(f"cannot make a PDF: no Chromium browser found; {INSTALL_HINT}")
    with tempfile.TemporaryDirectory(prefix="slacalc-pdf-") as tmp:
        page, out = Path(tmp) / "statement.html", Path(tmp) / "statement.pdf"
        page.write_text(html, encoding="utf-8")
        command = [
            browser,
            *HEADLESS,
            f"--user-data-dir={Path(tmp) / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={out}",
            page.as_uri(),
        ]
        try:
            done = subprocess.run(
                command, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL
            )
        except subprocess.TimeoutExpired:
            raise PdfError(f"cannot make a PDF: {browser} took more than {timeout:g} s") from None
        except OSError as exc:
            raise PdfError(f"cannot make a PDF: cannot run {browser}: {exc.strerror}") from None
        if not out.is_file() or not out.stat().st_size:
            said = done.stderr.decode("utf-8", "replace").strip().splitlines()
            last = said[-1] if said else f"exit status {done.returncode}"
            raise PdfError(f"cannot make a PDF: {browser} printed nothing ({last})")
        return out.read_bytes()
