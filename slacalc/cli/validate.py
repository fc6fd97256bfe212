"""`slacalc validate`: check the files, list every problem, exit 0 or 1."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

import typer

from slacalc import run
from slacalc.cli import common as c
from slacalc.cli.common import app
from slacalc.writing.csvjson import write_csv, write_json
from slacalc.writing.formats import Format
from slacalc.writing.output import write_output

if TYPE_CHECKING:
    from slacalc.computing.validate import Validation


@app.command(
    "validate",
    rich_help_panel=c.PANEL_MONTH,
    epilog="Example: slacalc validate samples/incidents.csv --contracts samples/contracts.csv",
)
@c.boundary
@c.run_options(skip=("month", "monthly_fee", "sla_target", "calendar", "holidays"))
@c.no_header_option
def validate_cmd(
    incidents: c.IncidentsArg,
    opts: c.RunOptions,
    format: c.FormatOpt = None,
    output: c.OutputOpt = None,
    raw_csv: c.RawCsvOpt = False,
) -> None:
    """Check incident logs (and contracts) with the report's own rules; list every problem.

    Problems (exit 1) are printed as FILE:LINE: column 'NAME': what is wrong (value 'V');
    warnings flag legal but suspicious rows. The list is the command's output (stdout or -o,
    in --format); exit 1 when there is a problem.

    Example: slacalc validate incidents.csv --contracts contracts.csv
    """
    from slacalc.computing.validate import FIELDS, validate

    fmt = c.output_format(format, output)
    zone = run.as_zone(opts.tz)
    contracts = opts.contracts
    result = validate(
        incidents,
        tz=zone,
        as_of=run.as_instant(opts.as_of, zone, "--as-of"),
        contracts=contracts,
        policy=run.as_policy(opts.policy),
        currency=run.as_currency(opts.currency),
        fmt=opts.input_format,
        deployments=opts.deployments,
        requests=opts.requests or (),
    )

    def render(out: TextIO) -> None:
        if fmt is Format.json:
            write_json([result.to_dict()], out)
        elif fmt is Format.jsonl:  # one problem or warning per line
            write_json(result.records(), out, lines=True)
        elif fmt is Format.csv:
            write_csv(
                result.records(),
                FIELDS,
                out,
                raw=raw_csv,
                text_fields=("file", "column", "value", "message"),
            )
        else:
            out.write("\n".join(text_lines(result)) + "\n")

    read = [*incidents, *([contracts] if contracts else [])]
    read += [*([opts.deployments] if opts.deployments else []), *(opts.requests or [])]
    write_output(output, render, inputs=read)
    if not result.ok:
        raise typer.Exit(1)


def text_lines(result: Validation) -> list[str]:
    from slacalc.errors import printable

    s = result.summary
    lines = [str(p) for p in result.problems] + [str(w) for w in result.warnings]
    months = s["months"]
    span = f"{months[0]}..{months[-1]} ({len(months)})" if months else "none"
    lines.append(
        f"{s['rows']} incident rows in {s['files']} file(s): {s['keys']} keys "
        f"({s['customers']} customers, {s['services']} services), months {span}, "
        f"{s['ongoing']} ongoing" + (f", {s['contracts']} contracts" if "contracts" in s else "")
    )
    if s["rows"]:
        lines.append(f"time span: {s['first_start']} .. {s['last_end']}")
    n, w = len(result.problems), len(result.warnings)
    verdict = "OK" if not n else "FAILED"
    lines.append(f"{verdict}: {n} problem{'s' * (n != 1)}, {w} warning{'s' * (w != 1)}")
    return [printable(line) for line in lines]
