"""`slacalc statement`: a customer's monthly SLA statement as a self-contained HTML page or PDF."""

from __future__ import annotations

import io
import sys
from typing import Annotated

import typer

from slacalc import run
from slacalc.cli import common as c
from slacalc.cli.common import app
from slacalc.reading.files import STDIN
from slacalc.writing.formats import StatementFormat

# slacalc.writing.statement (Jinja2: 0.1 s) and the statement's computing are imported when
# the command runs, not when the CLI starts: every other command would pay for it.


@app.command(
    "statement",
    rich_help_panel=c.PANEL_MONTH,
    epilog="Example: slacalc statement samples/incidents.csv --contracts samples/contracts.csv "
    "--all-customers --month 2025-05 --lang zh --format pdf -o statements/",
)
@c.boundary
@c.run_options(skip=("month",), before="lang")
def statement_cmd(
    incidents: c.IncidentsArg,
    month: Annotated[
        str, typer.Option("--month", "-m", help="The month, YYYY-MM.", metavar="YYYY-MM")
    ],
    opts: c.RunOptions,
    customer: Annotated[
        str | None, typer.Option("--customer", help="The customer_id of the statement.")
    ] = None,
    all_customers: Annotated[
        bool,
        typer.Option(
            "--all-customers",
            help="One statement per customer with a row in the month, into the folder -o DIR.",
        ),
    ] = False,
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            envvar="SLACALC_LANG",
            help="en or zh (Simplified Chinese). Default: zh in a Chinese locale, else en.",
            metavar="en|zh",
        ),
    ] = None,
    format: Annotated[
        StatementFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="html, or pdf (printed by headless Chromium). Default: from -o's extension, "
            "else html.",
            case_sensitive=False,
        ),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="Write to FILE (atomically) instead of stdout; with --all-customers, a folder.",
            metavar="FILE|DIR",
        ),
    ] = None,
    issuer: Annotated[
        str | None,
        typer.Option(
            "--issuer",
            envvar="SLACALC_ISSUER",
            help="A TOML file naming who issues the statement: name, address, tax_id, email, "
            "phone, note (see samples/issuer.toml). Without it the statement says it names no "
            "issuer.",
            metavar="FILE",
        ),
    ] = None,
    ledger: Annotated[
        str | None,
        typer.Option(
            "--ledger",
            envvar="SLACALC_LEDGER",
            help="The compensation ledger to read (a SQLite file or a postgresql:// URL; never "
            "written): each credit's status, document number and amounts. Without it the "
            "statement shows no ledger.",
            metavar="PATH|URL",
        ),
    ] = None,
    memory: c.MemoryOpt = None,
) -> None:
    """A customer's monthly SLA statement: availability, timeline, incidents, formula,
    compensation, claim window, dispute deadlines, terms and each input's SHA-256.

    Example: slacalc statement samples/incidents.csv --contracts samples/contracts.csv
    --customer acme --month 2025-05 --issuer samples/issuer.toml -o acme-2025-05.html

    With --ledger PATH|URL (or SLACALC_LEDGER) each credit shows what the compensation ledger
    knows of it: status, claim, document number, caps, adjustments, approved and issued.
    """
    if all_customers == (customer is not None):
        raise c.UsageError("give either --customer ID or --all-customers -o DIR")
    if all_customers and (output is None or output == "-"):
        raise c.UsageError("--all-customers writes one file per customer: give -o DIR")
    from slacalc.writing.statement import choose_format, write_statement, write_statements

    language = _language(lang)
    fmt = choose_format(format, None if all_customers else output)
    # standard input is read here, once, to take its digest, then handed to the reader
    contracts = opts.contracts
    stdin = sys.stdin.buffer.read() if STDIN in incidents or contracts == STDIN else None
    if stdin is not None:
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    result = run.statements(
        incidents,
        month=month,
        customers=None if customer is None else [customer],
        stdin=stdin,
        issuer=issuer,
        memory=memory,
        **opts.run_kwargs(),
    )
    c.warn_all(result.warnings)
    batches, read = result.batches, list(result.inputs)
    if ledger:
        from slacalc.computing.statement_ledger import attach_ledger

        batches = (attach_ledger(batch, ledger) for batch in batches)
        read.append(ledger)  # -o never overwrites it
    found = (s for batch in batches for s in batch)  # made as they are written
    if all_customers:
        written = write_statements(str(output), found, language, fmt, inputs=read)
        c.warn_all(result.later)
        for path in written:
            c.err(f"wrote {path}")
    else:
        write_statement(output, next(found), language, fmt, inputs=read)
        if output not in (None, "-"):
            c.err(f"wrote {output}")


def _language(lang: str | None) -> str:
    from slacalc.writing.statement import default_lang, parse_lang

    if lang is None:
        return default_lang()
    try:
        return parse_lang(lang)
    except ValueError as exc:
        raise c.UsageError(f"--lang '{lang}': {exc}") from None
