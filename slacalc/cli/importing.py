"""`slacalc import`: another tool's incident export as slacalc's own incident log."""

from __future__ import annotations

from typing import Annotated

import typer

from slacalc import run
from slacalc.cli import common as c
from slacalc.cli.common import app
from slacalc.errors import UsageError, shown
from slacalc.writing.incident_log import LogFormat, log_format, write_incident_log

PANEL_IMPORT = "Importing"
# The formats and what they read, for --help (kept in step with slacalc.importing.FORMATS by
# a test: the CLI does not import the parsers until it runs).
FORMAT_HELP = (
    "statuspage (Atlassian Statuspage incidents.json), pagerduty (REST API JSON or the "
    "incident CSV export), alertmanager (Alertmanager/Grafana webhook payloads, one per line), "
    "uptimerobot (monitor logs from the API), ics (iCalendar maintenance windows)."
)


@app.command(
    "import",
    rich_help_panel=PANEL_IMPORT,
    epilog="Example: slacalc import statuspage incidents.json --map map.toml -o incidents.csv; "
    "in a pipe: slacalc import statuspage incidents.json | slacalc report - --contracts "
    "contracts.csv",
)
@c.boundary
def import_cmd(
    source_format: Annotated[
        str, typer.Argument(help=f"The source's format: {FORMAT_HELP}", metavar="FORMAT")
    ],
    files: Annotated[
        list[str],
        typer.Argument(help="Its export files ('-' reads standard input).", metavar="FILE..."),
    ],
    map_file: Annotated[
        str | None,
        typer.Option(
            "--map",
            help="TOML map of source names to services (\\[services]), customers "
            "(\\[customers]), impacts (\\[impact]) and alert labels (\\[labels]). Default: the "
            "source's names, customer '*' (every customer of the service).",
            metavar="MAP.toml",
        ),
    ] = None,
    unmapped: Annotated[
        str,
        typer.Option(
            "--unmapped",
            help="A source name missing from the map's \\[services]: 'error' lists them all "
            "(exit 1); 'skip' leaves their rows out and counts them on stderr.",
            metavar="error|skip",
        ),
    ] = "error",
    since: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="Keep the incidents that overlap \\[--from, --until); the horizon of endless "
            "recurring maintenance. Give both.",
            metavar="TS",
        ),
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="End of the window (see --from).", metavar="TS")
    ] = None,
    tz: Annotated[
        str,
        typer.Option(
            "--tz",
            envvar="SLACALC_TZ",
            help="Zone of the times a source gives without one (floating iCalendar times, "
            "naive PagerDuty CSV times) and of --from/--until.",
            show_default=True,
        ),
    ] = c.DEFAULT_TZ,
    output: c.OutputOpt = None,
    format: Annotated[
        LogFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="The log's format. Default: from -o's extension (.csv, .jsonl, .parquet), "
            "else csv.",
            case_sensitive=False,
        ),
    ] = None,
    raw_csv: c.RawCsvOpt = False,
    max_rows: Annotated[
        str | None,
        typer.Option(
            "--max-rows",
            envvar="SLACALC_MAX_ROWS",
            help="The most rows the import may make; one more stops it at once (exit 1). "
            "iCalendar recurrences also stop at 100000 rows: give a window. Default: 1000000.",
            metavar="N",
        ),
    ] = None,
) -> None:
    """Another tool's incident export as slacalc's incident log: CSV, JSON Lines or Parquet.

    Each row keeps the source's own id (incident_id) and where it came from (source: format and
    file). A status page or an alert names a component, not a customer: its rows have customer
    '*', which counts for every contract of the service (report then needs --contracts).
    Timestamps keep the source's offsets; --tz is the zone of times that have none (floating
    iCalendar times, naive CSV timestamps) and of --from/--until.

    Example: slacalc import statuspage incidents.json --map map.toml -o incidents.csv
    """
    from slacalc.importing import DEFAULT_MAX_ROWS, import_files, read_map

    fmt = log_format(format, output)
    cap = DEFAULT_MAX_ROWS if max_rows is None else _row_cap(max_rows)
    zone = run.as_zone(tz)
    window = None
    if (since is None) != (until is None):
        raise UsageError("give --from and --until together: the window has both ends")
    if since is not None and until is not None:
        window = (run.as_datetime(since, zone, "--from"), run.as_datetime(until, zone, "--until"))
    mapping = read_map(map_file) if map_file else None
    result = import_files(
        source_format,
        files,
        mapping=mapping,
        unmapped=unmapped,
        tz=zone,
        window=window,
        max_rows=cap,
    )
    for warning in result.warnings:
        c.warn(str(warning))
    write_incident_log(
        result.rows,
        output,
        fmt=fmt,
        raw=raw_csv,
        inputs=[*files, *([map_file] if map_file else [])],
    )
    if result.skipped:
        total = sum(result.skipped.values())
        names = ", ".join(f"'{name}' ({n})" for name, n in result.skipped.items())
        rows = f"{total} row{'s' * (total != 1)}"
        c.err(f"skipped {rows} of names not in the map's [services] (--unmapped skip): {names}")
    if not result.rows:
        c.warn(f"no incident rows in {', '.join(files)}")


def _row_cap(text: str) -> int:
    """``--max-rows``: a whole number of rows, at least 1 (``_`` and ``,`` may group digits)."""
    digits = text.strip().replace("_", "").replace(",", "")
    # the length first: Python refuses to read an integer of more than 4,300 digits
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 18 or int(digits) < 1:
        raise UsageError(
            f"--max-rows '{shown(text)}': expected a whole number of rows from 1, such as 2000000"
        )
    return int(digits)
