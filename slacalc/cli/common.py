"""What every command shares: the app, option types, the error boundary, option parsing."""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import re
import stat
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import typer
from typer.core import TyperGroup

from slacalc.errors import (
    SHOWN_LIMIT,
    InputError,
    Problem,
    SlacalcError,
    UsageError,
    printable,
    shown,
)
from slacalc.reading.files import note_input, tracking_inputs
from slacalc.run import (
    DEFAULT_CALENDAR,
    DEFAULT_CURRENCY,
    DEFAULT_POLICY,
    DEFAULT_TZ,
)
from slacalc.version import __version__
from slacalc.writing.formats import Format, choose_format
from slacalc.writing.output import STDOUT

PANEL_MONTH = "Month-end report"
PANEL_DISPUTES = "Disputes"
PANEL_PLANNING = "Planning"


class _PlainErrors(TyperGroup):
    """The app's group: help keeps typer's panels, but a usage error typer finds (an unknown
    option, a bad choice) is printed as click prints it, plain ``Usage:`` and ``Error:`` lines
    like slacalc's own errors, not a box drawn with colour codes."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        from typer.core import _main

        kwargs.setdefault("standalone_mode", True)
        return _main(self, *args, rich_markup_mode=None, **kwargs)


app = typer.Typer(
    cls=_PlainErrors,
    name="slacalc",
    help="SLA availability, tiers, compensation and dispute deadlines from incident logs.",
    epilog="Example: slacalc report samples/incidents.csv --contracts samples/contracts.csv "
    "--as-of 2025-06-28T12:00:00+08:00",
    no_args_is_help=True,
    add_completion=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)

F = TypeVar("F", bound=Callable[..., Any])

# --- options shared by the commands (defined once; env vars as the spec's defaults table) ---
IncidentsArg = Annotated[
    list[str],
    typer.Argument(
        help="Incident log CSV files ('-' reads standard input).", metavar="INCIDENTS..."
    ),
]
TzOpt = Annotated[
    str,
    typer.Option(
        "--tz",
        envvar="SLACALC_TZ",
        help="Billing time zone: month boundaries, naive timestamps, working days.",
        show_default=True,
    ),
]
CalendarOpt = Annotated[
    str,
    typer.Option(
        "--calendar",
        envvar="SLACALC_CALENDAR",
        help="Working-day calendar: a "
        "country code of the holidays package, or 'none' (Monday-Friday).",
    ),
]
HolidaysOpt = Annotated[
    str | None,
    typer.Option(
        "--holidays",
        help="CSV of date,kind (holiday|workday) overriding the calendar.",
        metavar="FILE",
    ),
]
DeploymentsOpt = Annotated[
    str | None,
    typer.Option(
        "--deployments",
        help="CSV of customer_id,service,zone[,from,to]: where each customer runs, for a "
        "policy with \\[redundancy] (incidents with a zone column count by zone).",
        metavar="FILE",
    ),
]
RequestsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--requests",
        help="Request counts (start,end,customer_id,service,total,failed; CSV, JSON Lines or "
        'Parquet) of keys whose policy has measure = "error_rate" (repeatable).',
        metavar="FILE",
    ),
]
CurrencyOpt = Annotated[
    str,
    typer.Option(
        "--currency",
        envvar="SLACALC_CURRENCY",
        help="Currency of contracts that name none (ISO 4217).",
    ),
]
PolicyOpt = Annotated[
    str,
    typer.Option(
        "--policy",
        envvar="SLACALC_POLICY",
        help="'standard' (coefficients), 'standard-credit' (credit table) or a TOML policy file.",
        metavar="NAME|FILE",
    ),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="The moment of truth: ends ongoing incidents, decides "
        "provisional months and dispute statuses. Default: now.",
        metavar="TS",
    ),
]
FormatOpt = Annotated[
    Format | None,
    typer.Option(
        "--format",
        "-f",
        help="Output format. Default: from -o's extension; else $SLACALC_FORMAT; else a "
        "table on a terminal, CSV into a pipe or a file.",
        case_sensitive=False,
    ),
]
OutputOpt = Annotated[
    str | None,
    typer.Option(
        "--output", "-o", help="Write to FILE (atomically) instead of stdout.", metavar="FILE"
    ),
]
RawCsvOpt = Annotated[
    bool,
    typer.Option(
        "--raw-csv",
        help="Do not guard CSV text cells starting with = + - @ "
        "against spreadsheet formula injection.",
    ),
]
ContractsOpt = Annotated[
    str | None,
    typer.Option(
        "--contracts",
        "-c",
        help="Contracts CSV: customer_id, service, monthly_fee, currency, sla_target.",
        metavar="FILE",
    ),
]
MonthOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--month",
        "-m",
        help="Month to report, YYYY-MM (repeatable). Default: every month an incident touches.",
        metavar="YYYY-MM",
    ),
]
FeeOpt = Annotated[
    str | None,
    typer.Option(
        "--monthly-fee", help="Monthly fee for keys without a contract.", metavar="AMOUNT"
    ),
]
TargetOpt = Annotated[
    str | None,
    typer.Option(
        "--sla-target",
        help="Committed tier for keys without a contract (default: the policy's default tier).",
        metavar="PCT",
    ),
]

InputFormatOpt = Annotated[
    str | None,
    typer.Option(
        "--input-format",
        help="Format of the incident files: csv, jsonl or parquet. "
        "Default: from each file's extension (.csv, .jsonl, .parquet), else csv.",
        metavar="FORMAT",
    ),
]

MemoryOpt = Annotated[
    str | None,
    typer.Option(
        "--memory",
        help="Memory to stay within, e.g. 2G or 500M. A log that needs more is read as a stream "
        "into buckets of customers on disk ($TMPDIR), computed one bucket at a time; the output "
        "is the same bytes. Default: a quarter of the machine's memory.",
        metavar="SIZE",
    ),
]


# --- the options of a run, declared once --------------------------------------------------------

# Every option a computation of the month takes, in --help order, with its default: a command
# declares ``opts: RunOptions`` and @run_options gives it these, bundled, as sqlite-utils'
# output_options decorator does. A command that takes an option its own way names it in skip.
RUN_OPTIONS: dict[str, tuple[Any, Any]] = {
    "contracts": (ContractsOpt, None),
    "month": (MonthOpt, None),
    "monthly_fee": (FeeOpt, None),
    "sla_target": (TargetOpt, None),
    "policy": (PolicyOpt, DEFAULT_POLICY),
    "tz": (TzOpt, DEFAULT_TZ),
    "calendar": (CalendarOpt, DEFAULT_CALENDAR),
    "holidays": (HolidaysOpt, None),
    "deployments": (DeploymentsOpt, None),
    "requests": (RequestsOpt, None),
    "currency": (CurrencyOpt, DEFAULT_CURRENCY),
    "as_of": (AsOfOpt, None),
    "input_format": (InputFormatOpt, None),
}


@dataclass(frozen=True)
class RunOptions:
    """The run options a command was given, as text: what :func:`slacalc.run.report` takes."""

    values: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    def run_kwargs(self) -> dict[str, Any]:
        """The options as keyword arguments of :func:`slacalc.run.report` and its siblings."""
        out = dict(self.values)
        if "month" in out:
            out["months"] = out.pop("month")
        return out


def run_options(*, skip: tuple[str, ...] = (), before: str | None = None) -> Callable[[F], F]:
    """Give a command the run options (all of :data:`RUN_OPTIONS` but ``skip``), bundled into
    its ``opts`` parameter: after its required parameters, or, with ``before``, after its own
    options up to the one named (what to explain first, how to write it after)."""
    names = [n for n in RUN_OPTIONS if n not in skip]

    def decorate(fn: F) -> F:
        sig = inspect.signature(fn, eval_str=True)
        own = [p for p in sig.parameters.values() if p.name != "opts"]
        if before is None:
            leading = [p for p in own if p.default is inspect.Parameter.empty]
        else:
            cut = [p.name for p in own].index(before)
            leading = own[:cut]
        rest = [p for p in own if p not in leading]
        shared = [
            inspect.Parameter(
                n,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                default=RUN_OPTIONS[n][1],
                annotation=RUN_OPTIONS[n][0],
            )
            for n in names
        ]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            opts = RunOptions({n: kwargs.pop(n, RUN_OPTIONS[n][1]) for n in names})
            return fn(*args, opts=opts, **kwargs)

        params = [*leading, *shared, *rest]
        wrapper.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in params}
        return wrapper  # type: ignore[return-value]

    return decorate


NoHeaderOpt = Annotated[
    bool,
    typer.Option(
        "--no-header",
        help="CSV without its header line (to append to a file that has one, or to sort).",
    ),
]


def no_header_option(fn: F) -> F:
    """Give a command that writes CSV the ``--no-header`` option, last: the CSV writers
    leave out the header line for its run (:func:`slacalc.writing.csvjson.headers`)."""
    sig = inspect.signature(fn, eval_str=True)
    extra = inspect.Parameter(
        "no_header", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=NoHeaderOpt
    )

    @functools.wraps(fn)
    def wrapper(*args: Any, no_header: bool = False, **kwargs: Any) -> Any:
        from slacalc.writing.csvjson import headers

        with headers(not no_header):
            return fn(*args, **kwargs)

    params = [*sig.parameters.values(), extra]
    wrapper.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    return wrapper  # type: ignore[return-value]


# A run of this many non-blank characters in a message is a value quoted whole (a 5,000-digit
# number): it is cut, so that every message stays a line a person can read.
_LONG_WORD = re.compile(rf"\S{{{4 * SHOWN_LIMIT},}}")


def err(message: str) -> None:
    """One line on stderr, control characters escaped (messages quote the data), overlong
    values cut."""
    text = printable(
        _LONG_WORD.sub(lambda m: shown(m.group(0)) + f" ({len(m.group(0))} characters)", message)
    )
    # A closed, full or vanished stderr must not stop the run: the exit code still tells.
    with contextlib.suppress(OSError, ValueError, AttributeError):
        if RunProgress.live is not None:
            RunProgress.live.print(text)
        else:
            typer.echo(text, err=True)


_INTERRUPTED: list[bool] = []  # "interrupted" was said by a command's boundary


def say_interrupted(*, unless_said: bool = False) -> None:
    """Say "interrupted" on stderr (``unless_said``: only if a command's boundary has not said
    it since :func:`forget_interrupted`)."""
    if unless_said and _INTERRUPTED:
        return
    _INTERRUPTED.append(True)
    err("interrupted")


def forget_interrupted() -> None:
    _INTERRUPTED.clear()


def quiet_stdout() -> None:
    """Send what is left of standard output to ``/dev/null``: its reader went away, and the
    final flush must not say so."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def warn(message: str) -> None:
    err(f"warning: {message}")


# Parameters that name files a command reads: its -o must never overwrite one of them.
INPUT_PARAMETERS = (
    "incidents",
    "contracts",
    "policy",
    "holidays",
    "deployments",
    "requests",
    "disputes",
    "issuer",
)
# Other parameters that name files: outputs, maps, issuer files, import sources.
PATH_PARAMETERS = ("output", "map_file", "files")


def check_inputs(kwargs: dict[str, Any]) -> None:
    """Note the files a command is given (its -o must not overwrite them) and refuse to read
    one twice: standard input can be read once, and a log given twice would count each of its
    incidents twice."""
    for name, value in kwargs.items():
        # A NUL cannot be in a path (a shell cannot even pass one; a library caller can).
        for text in value if isinstance(value, list | tuple) else [value]:
            if (
                isinstance(text, str)
                and "\x00" in text
                and (name in INPUT_PARAMETERS or name in PATH_PARAMETERS)
            ):
                raise UsageError(f"'{printable(text)}': a path cannot hold a NUL character")
    stdin = 0
    for name in INPUT_PARAMETERS:
        value = kwargs.get(name)
        seen: dict[tuple[int, int], str] = {}
        for path in value if isinstance(value, list | tuple) else [value]:
            if not isinstance(path, str):
                continue
            note_input(path)
            if path == "-":
                stdin += 1
                continue
            try:
                info = os.stat(path)
            except (OSError, ValueError):
                continue  # the reader says what is wrong with it
            if not stat.S_ISREG(info.st_mode):
                continue
            key = (info.st_dev, info.st_ino)
            if key in seen:
                raise UsageError(
                    f"'{printable(path)}' is the same file as '{printable(seen[key])}': give each "
                    "file once (its incidents would count twice)"
                )
            seen[key] = path
    if stdin > 1:
        raise UsageError("standard input ('-') can be read only once")
    if (stdin or "-" in kwargs.get("files", ())) and sys.stdin is None:
        raise InputError(Problem("<stdin>", None, "cannot read: standard input is closed"))


def boundary(fn: F) -> F:
    """Translate domain exceptions, once, into stderr messages and exit codes (1 data, 2 usage).

    While the command runs, every file it reads is remembered, so that ``-o`` cannot overwrite
    one of them (see :func:`slacalc.writing.output.write_output`).
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with tracking_inputs():
                check_inputs(kwargs)
                return fn(*args, **kwargs)
        except InputError as exc:
            for line in exc.lines():
                err(line)
            raise typer.Exit(1) from None
        except UsageError as exc:
            for line in str(exc).splitlines():
                err(f"Error: {line}")
            raise typer.Exit(2) from None
        except SlacalcError as exc:
            err(f"Error: {exc}")
            raise typer.Exit(1) from None
        except BrokenPipeError:
            # The reader went away (`| head`): not an error of ours. Silence the final flush.
            quiet_stdout()
            raise typer.Exit(0) from None
        except KeyboardInterrupt:
            say_interrupted()
            raise typer.Exit(130) from None
        except RecursionError:
            err("Error: the input is nested too deeply to be read")
            raise typer.Exit(1) from None
        except MemoryError:
            err("Error: out of memory")
            raise typer.Exit(1) from None
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except Exception as exc:  # a bug of ours: say so briefly, details on request
            if os.environ.get("SLACALC_DEBUG"):
                traceback.print_exc()
            err(f"internal error: {type(exc).__name__}: {exc} (set SLACALC_DEBUG=1 for details)")
            raise typer.Exit(70) from None

    return wrapper  # type: ignore[return-value]


def version_callback(value: bool) -> None:
    if value:
        typer.echo(f"slacalc {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=version_callback, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """SLA availability, tiers, compensation and dispute deadlines from incident logs.

    Example: slacalc report samples/incidents.csv --contracts samples/contracts.csv
    """


def warn_all(messages: list[str]) -> None:
    for message in messages:
        warn(message)


class RunProgress:
    """One progress bar on stderr through a long report: reading, computing, writing.

    Only on a terminal (never in a pipeline, never on stdout), and only for inputs large enough
    to take a second or more: the row reader reports every 65,536 rows, and the columnar
    reader's stages are shown for inputs of ``BIG`` bytes or more. The bar never touches
    standard output or error (rich would otherwise swap ``sys.stdout`` for a proxy that sends
    the output to the terminal, a line at a time): messages printed while it is up go above it
    through :func:`err`. Once closed, it stays closed.
    """

    BIG = 16_000_000
    # The bar on the terminal now, if any: err() prints above it.
    live: RunProgress | None = None

    def __init__(self, paths: list[str] | tuple[str, ...] = ()) -> None:
        self.enabled = _is_terminal(sys.stderr) and not os.environ.get("SLACALC_NO_PROGRESS")
        size = sum(os.path.getsize(p) for p in paths if p != "-" and os.path.isfile(p))
        self.big = size >= self.BIG
        self._bar: Any = None
        self._task: Any = None

    def _update(self, label: str, fraction: float) -> None:
        if self._bar is None:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TaskProgressColumn, TimeElapsedColumn

            self._bar = Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                TaskProgressColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._bar.start()
            self._task = self._bar.add_task(label, total=1000)
            RunProgress.live = self
        self._bar.update(self._task, description=label, completed=int(1000 * fraction))

    def __call__(self, name: str, done: int, total: int) -> None:
        """The row reader's hook: reading is the first 70 % of the bar."""
        if self.enabled:
            self._update(f"reading {os.path.basename(name)}", 0.7 * done / max(total, 1))

    def stage(self, label: str, fraction: float) -> None:
        """A later stage, shown when the input is big or the bar is already up."""
        if self.enabled and (self.big or self._bar is not None):
            self._update(label, fraction)

    def before_output(self, output: str | None) -> None:
        """Close the bar for good unless ``output`` is a file: the bar and an output on
        standard output (or a device, a terminal) would share the terminal."""
        if output is None or output == "-" or not _names_a_file(output):
            self.close()

    def print(self, text: str) -> None:
        """One line on stderr, above the bar."""
        from rich.text import Text

        self._bar.console.print(Text(text), soft_wrap=True, highlight=False)

    def close(self) -> None:
        self.enabled = False
        if self._bar is not None:
            bar, self._bar = self._bar, None
            if RunProgress.live is self:
                RunProgress.live = None
            with contextlib.suppress(OSError, ValueError):  # stderr closed meanwhile
                bar.stop()

    def __enter__(self) -> RunProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def output_format(
    fmt: Format | None,
    output: str | None,
    *,
    pipe: Format = Format.csv,
    formats: tuple[Format, ...] = tuple(Format),
) -> Format:
    """The format a command writes: ``--format``; else ``-o``'s extension; else
    ``$SLACALC_FORMAT`` when the command has that format; else a table for a person at a
    terminal and ``pipe`` (CSV, which csvkit, sqlite-utils and spreadsheets read) when standard
    output goes to a pipe or a file (``slacalc report LOG | csvlook``)."""
    if fmt is not None or output not in (None, STDOUT):
        return choose_format(fmt, output)
    wanted = os.environ.get("SLACALC_FORMAT", "").strip().lower()
    if wanted:
        if wanted not in {f.value for f in Format}:
            raise UsageError(f"SLACALC_FORMAT '{shown(wanted)}': expected one of table, csv, json")
        if Format(wanted) in formats:
            return Format(wanted)
    return Format.table if _is_terminal(sys.stdout) else pipe


def _is_terminal(stream: Any) -> bool:
    """Whether ``stream`` is open on a terminal (None, closed or detached: no)."""
    try:
        return bool(stream is not None and stream.isatty())
    except (OSError, ValueError, AttributeError):
        return False


def _names_a_file(output: str) -> bool:
    """Whether ``-o`` names a regular file (or one to create), not a device or a FIFO."""
    try:
        return stat.S_ISREG(os.stat(output).st_mode)
    except OSError:
        return True  # to be created (or refused) as a file
    except ValueError:
        return False
