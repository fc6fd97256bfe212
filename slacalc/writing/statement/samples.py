"""Regenerate the sample statements under ``samples/statements/`` from the sample log:

    python -m slacalc.writing.statement.samples          # the HTML pages, one per language
    python -m slacalc.writing.statement.samples --pdf    # and their PDFs (headless Chromium)

They are acme's statement for May 2025, as of the README's moment, issued by the sample issuer
(``samples/issuer.toml``), in English and in Chinese;
``tests/test_statement.py`` checks that the committed pages are what this writes.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from slacalc.computing.statements import Statement, build_statements, source_files
from slacalc.dates.instants import get_zone, parse_instant
from slacalc.dates.months import Month
from slacalc.dates.workdays import WorkCalendar
from slacalc.model.settings import Settings
from slacalc.reading import read_incidents
from slacalc.reading.contracts import read_contracts
from slacalc.reading.issuer import read_issuer
from slacalc.terms.policy import load_policy
from slacalc.writing.statement.files import StatementFormat, file_name, render
from slacalc.writing.statement.messages import LANGS

ROOT = Path(__file__).resolve().parents[3]
FOLDER = Path("samples") / "statements"
INCIDENTS, CONTRACTS, ISSUER = (
    "samples/incidents.csv",
    "samples/contracts.csv",
    "samples/issuer.toml",
)
CUSTOMER, MONTH, AS_OF = "acme", Month(2025, 5), "2025-06-28T12:00:00+08:00"


def sample_statement() -> Statement:
    """acme's May 2025, computed as ``slacalc statement`` does with the default settings
    (paths relative to the repository's root, as the README runs it)."""
    tz = get_zone("Asia/Shanghai")
    policy = load_policy("standard")
    settings = Settings(
        policy=policy,
        tz=tz,
        as_of=parse_instant(AS_OF, tz),
        currency="CNY",
        calendar=WorkCalendar.create("CN"),
    )
    book = read_contracts(CONTRACTS, policy=policy, default_currency="CNY")
    table = read_incidents([INCIDENTS], tz, keep_text=True)
    inputs = source_files([INCIDENTS], contracts=CONTRACTS, issuer=ISSUER)
    (statement,) = build_statements(
        table,
        settings,
        month=MONTH,
        contracts=book,
        customers=[CUSTOMER],
        inputs=inputs,
        issuer=read_issuer(ISSUER),
    )
    return statement


def samples(*, pdf: bool = False) -> dict[Path, str | bytes]:
    """Each sample file (relative to the repository's root) and what it holds."""
    statement = sample_statement()
    formats = [StatementFormat.html, *([StatementFormat.pdf] if pdf else [])]
    return {
        FOLDER / file_name(CUSTOMER, MONTH, lang, fmt): render(statement, lang, fmt)
        for lang in LANGS
        for fmt in formats
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pdf", action="store_true", help="also print the PDFs")
    args = parser.parse_args()
    os.chdir(ROOT)
    FOLDER.mkdir(parents=True, exist_ok=True)
    for path, body in samples(pdf=args.pdf).items():
        if isinstance(body, str):
            path.write_text(body, encoding="utf-8")
        else:
            path.write_bytes(body)
        print(path)


if __name__ == "__main__":
    main()
