"""The customer's monthly SLA statement: one self-contained HTML page (and its PDF), in English
or Simplified Chinese, formatted from what :func:`slacalc.computing.statements.build_statements`
computed (the report's rows of one customer and month, explained). Nothing here computes.

    from slacalc.computing.statements import build_statements
    from slacalc.writing.statement import render_html

    (statement,) = build_statements(table, settings, month=Month(2025, 5), contracts=book,
                                    customers=["acme"])
    html = render_html(statement, "zh")

Layout: :mod:`.messages` (every word, in both languages), :mod:`.phrases` (explain's notes and
formula steps as messages), :mod:`.chart` (the timeline's geometry), :mod:`.render` (the
Jinja2 templates in ``templates/``), :mod:`.pdf` (headless Chromium), :mod:`.files` (writing
one or a folder of them), :mod:`.samples` (the sample statements of the README).
"""

from __future__ import annotations

from slacalc.writing.statement.files import (
    StatementFormat,
    choose_format,
    file_name,
    render,
    write_statement,
    write_statements,
)
from slacalc.writing.statement.messages import LANGS, default_lang, parse_lang
from slacalc.writing.statement.pdf import PdfError, html_to_pdf
from slacalc.writing.statement.render import render_html

__all__ = [
    "LANGS",
    "PdfError",
    "StatementFormat",
    "choose_format",
    "default_lang",
    "file_name",
    "html_to_pdf",
    "parse_lang",
    "render",
    "render_html",
    "write_statement",
    "write_statements",
]
