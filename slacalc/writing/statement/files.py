"""Writing statements: one to a file or stdout, atomically
(:func:`~slacalc.writing.output.write_output`), or one per customer into a folder, each
rendered and written into a temporary folder as it comes and the set put into place together
(:func:`~slacalc.writing.output.write_outputs`), so that a failure leaves no half-done set."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TextIO

from slacalc.computing.statements import Statement
from slacalc.dates.months import Month
from slacalc.errors import UsageError, printable
from slacalc.writing.formats import StatementFormat
from slacalc.writing.output import STDOUT, write_output, write_outputs
from slacalc.writing.statement.pdf import html_to_pdf
from slacalc.writing.statement.render import render_html


def choose_format(given: StatementFormat | None, output: str | None) -> StatementFormat:
    """``--format``, else PDF for ``-o *.pdf``, else HTML. A file named with another extension
    (``out.xlsx``) is a usage error: nobody should get HTML under a spreadsheet's name."""
    if given is not None:
        return given
    suffix = "" if not output or output.endswith(("/", os.sep)) else Path(output).suffix.lower()
    # os.path.isdir, not Path.is_dir: a name too long to look at is then simply not a folder
    if suffix and suffix not in (".html", ".htm", ".pdf") and not os.path.isdir(output or ""):
        raise UsageError(
            f"cannot tell the format of '{output}' from its extension: use .html or .pdf, "
            "or give --format"
        )
    if suffix == ".pdf":
        return StatementFormat.pdf
    return StatementFormat.html


def render(statement: Statement, lang: str, fmt: StatementFormat) -> str | bytes:
    """The statement as HTML text, or as the PDF's bytes."""
    html = render_html(statement, lang)
    return html_to_pdf(html) if fmt is StatementFormat.pdf else html


def rendered(
    statements: Iterable[Statement], lang: str, fmt: StatementFormat
) -> Iterator[tuple[Statement, str | bytes]]:
    """Each statement with its rendering, as they come: a few at a time (PDFs printed by a
    few browsers at once), never the whole set held."""
    batch: list[Statement] = []
    for statement in statements:
        batch.append(statement)
        if len(batch) == _RENDERED_AT_ONCE:
            yield from zip(batch, render_all(batch, lang, fmt), strict=True)
            batch = []
    if batch:
        yield from zip(batch, render_all(batch, lang, fmt), strict=True)


_RENDERED_AT_ONCE = 16


def render_all(
    statements: Sequence[Statement], lang: str, fmt: StatementFormat
) -> list[str | bytes]:
    """Every statement rendered; PDFs printed by a few browsers at once (each takes seconds,
    most of it the browser starting)."""
    pages = [render_html(s, lang) for s in statements]
    if fmt is StatementFormat.html:
        return list(pages)
    workers = max(1, min(4, os.cpu_count() or 1, len(pages)))
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(html_to_pdf, pages))


def write_statement(
    output: str | None,
    statement: Statement,
    lang: str,
    fmt: StatementFormat,
    *,
    inputs: Iterable[str] = (),
) -> None:
    """One statement to ``output`` (stdout when None or ``-``; a PDF needs a file)."""
    if fmt is StatementFormat.pdf and (output is None or output == STDOUT):
        raise UsageError("a PDF is written to a file: give -o FILE.pdf")
    write_output(output, _writer(render(statement, lang, fmt)), inputs=inputs)


def write_statements(
    folder: str,
    statements: Iterable[Statement],
    lang: str,
    fmt: StatementFormat,
    *,
    inputs: Iterable[str] = (),
) -> list[Path]:
    """One file per statement in ``folder`` (made when missing), named by :func:`file_name`:
    all of them or none (:func:`~slacalc.writing.output.write_outputs`). ``statements`` may
    be made as they are asked for: each is rendered and written before the next is made."""
    path = Path(folder)
    try:
        os.stat(path)
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:  # a name too long, a loop of links
        why = getattr(exc, "strerror", None) or str(exc)
        raise UsageError(f"-o '{printable(folder)}': cannot use it as a folder: {why}") from None
    if path.exists() and not path.is_dir():
        raise UsageError(f"-o '{folder}': not a folder (one file per customer goes into it)")
    if not os.path.isdir(path.parent):
        raise UsageError(f"-o '{folder}': folder '{path.parent}' does not exist")
    files = (
        (file_name(s.customer, s.month, lang, fmt), _writer(body))
        for s, body in rendered(statements, lang, fmt)
    )
    return write_outputs(folder, files, inputs=inputs)


def _writer(body: str | bytes) -> Callable[[TextIO], None]:
    def write(out: TextIO) -> None:
        if isinstance(body, str):
            out.write(body)
            return
        # write_output hands over a text file: a PDF goes to the bytes underneath it
        buffer = getattr(out, "buffer", None)
        if buffer is None:
            raise UsageError("a PDF is written to a regular file: give -o FILE.pdf")
        out.flush()
        buffer.write(body)

    return write


_UNSAFE = re.compile(r"[^a-z0-9_-]+")


def file_name(customer: str, month: Month, lang: str, fmt: StatementFormat) -> str:
    """A file name for a customer's statement that is safe for any customer id, on any file
    system: ``acme-2025-05.en.html``. An id that is not already lower-case letters, digits,
    ``-`` and ``_`` keeps what it can and gains a digest of the id, so that no two ids share a
    name (not even ``Acme`` and ``acme`` on a case-insensitive disk): ``a_b~1c2d3e4f5a-...``."""
    slug = _UNSAFE.sub("_", customer.lower()).strip("_-")[:48]
    if not slug or slug != customer:
        digest = hashlib.sha256(customer.encode("utf-8", "surrogatepass")).hexdigest()[:10]
        slug = f"{slug or 'customer'}~{digest}"
    return f"{slug}-{month.text}.{lang}.{fmt.value}"
