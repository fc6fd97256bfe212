"""Argument lists for one command, built by hypothesis from the command's own click parameters.

Every parameter the app declares is fuzzed: a flag is given or not, a choice takes one of its
choices or a wrong one, and any other parameter takes values by its name from :data:`VALUES`
(good and hostile), or, for a name nobody has described yet, from :data:`GENERIC` (pool files
and hostile text). A new command or option is therefore fuzzed the day it is added.

A case is symbolic: ``{pool}/NAME`` is a pool file (see :mod:`fuzz_argv.pool`), ``{out}`` the
run's fresh output folder, ``{input}`` one of the files the run reads. The harness resolves
them, so that a failing case prints the same on every machine.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from fuzz_argv.pool import HUGE, ROLES


@dataclass(frozen=True)
class Case:
    """One command line, its environment, its standard input and the harness's knobs."""

    command: str
    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()
    stdin: bytes | None = None
    knobs: frozenset[str] = field(default_factory=frozenset)

    def shell(self) -> str:
        """The case as a shell line (symbolic paths kept)."""
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env)
        line = shlex.join(["slacalc", *(_visible(a) for a in self.argv)])
        extra = []
        if self.stdin is not None:
            extra.append(f"stdin={self.stdin[:60]!r}{'...' if len(self.stdin) > 60 else ''}")
        if self.knobs:
            extra.append(f"knobs={sorted(self.knobs)}")
        return " ".join(p for p in (env, line, "  # " + ", ".join(extra) if extra else "") if p)


def _visible(arg: str) -> str:
    shown = arg.encode("unicode_escape", "backslashreplace").decode("ascii")
    return shown if len(shown) <= 80 else f"{shown[:40]}...({len(arg)} chars)"


def pool(*names: str) -> list[str]:
    return [f"{{pool}}/{n}" for n in names]


def role(name: str) -> list[str]:
    return pool(*ROLES[name])


# --- values by parameter name: (good, hostile) ------------------------------------------------
TIMES_GOOD = [
    "2025-06-28T12:00:00+08:00",
    "2025-07-01",
    "2025-07-01 00:00",
    "2026-03-02T12:00:00+08:00",
    "2025-05-15T00:00:00Z",
    "2025-09-30T10:00:00+08:00",
    # the edges of the supported years (1900-2199)
    "1900-01-02T00:00:00Z",
    "2199-12-30T23:59:59Z",
    "2199-12-31",
]
TIMES_BAD = [
    "9999-12-31T23:59:59Z",
    "9999-12-31",
    "9999-12-31T23:59:59.999999-23:59",
    "0001-01-01",
    "0001-01-01T00:00:00+14:00",
    "1970-01-01T00:00:00Z",
    "1969-12-31T23:59:59.999999Z",
    "2025-02-29",
    "1e999999999",
    "",
    " ",
    "not a time",
    "2025-06-30T20:00+25:00",
    "2025-06-30T20:00+08:60",
    "2025-03-09T02:30",
    "2025-11-02T01:30",
    "tomorrow",
    "now",
    "NOW",
    " now ",
    "1719561600",
    "2025-06-28T12:00:00.1234567+08:00",
    "2025-06-28T24:00:00",
    "-1",
    "2025-06-28 12:00 Mars/Olympus",
    "2025-06-28 12:00 EST",
    "2025-06-28 12:00 UTC+8",
    "A" * 5000,
    "2025-06-28\x00",
    "2025-W26-6",
    "２０２５-06-28",
    "9" * 100,
    "\udcff",
]
MONTHS_GOOD = ["2025-05", "2025-06", "2025-04", "2024-02", "2025-10", "1900-01", "2199-12"]
MONTHS_BAD = [
    "9999-12",
    "0001-01",
    "0000-01",
    "2025-13",
    "2025-00",
    "2025-5",
    "202505",
    "2025-05-01",
    "",
    "1e999999999",
    " 2025-05 ",
    "-2025-05",
    "10000-01",
    "２０２５-０５",
    "May 2025",
    HUGE,
]
INCIDENTS_GOOD = pool(
    "incidents.csv",
    "imported.jsonl",
    "inc.parquet",
    "inc-typed.parquet",
    "inc.jsonl",
    "inc-bom.csv",
    "inc-crlf.csv",
    "overlapping.csv",
    "maintenance_overlap.csv",
    "inc-tiny-impacts.csv",
    "inc-whole-month.csv",
    "inc-edges.csv",
    "inc-dst.csv",
    "inc-unicode.csv",
    "inc-duplicate-ids.csv",
)
POLICY_GOOD = [
    *pool("policy.toml", "policy_credit.toml", "policy_exact_numbers.toml", "pol-bom-crlf.toml"),
    *pool("pol-edge-credit.toml", "pol-edge-coefficient.toml"),
    *pool(*(n for n in ROLES["policy"] if n.startswith("preset-"))),
]
HOSTILE_TEXT = [
    "",
    " ",
    "-",
    "--",
    "=",
    "\x00",
    "a\x00b",
    "\x1b]0;title\x07",
    "\x1b[2J",
    "\udcff",
    "\u202e",
    "A" * 5000,
    HUGE,
    "1e999999999",
    "-1",
    "nan",
    "../../../../etc/passwd",
    "/dev/null",
    "{pool}/a-folder.csv",
    "{pool}/missing.csv",
    "客户",
    "$(touch pwned)",
    "%s%n",
]


def pdf_allowed() -> bool:
    """PDF statements only where a browser prints them, and not when SLACALC_FUZZ_PDF=0 (each
    takes seconds); drawn only among the hostile values, so seldom."""
    from slacalc.writing.statement.pdf import find_browser

    return os.environ.get("SLACALC_FUZZ_PDF", "1") != "0" and find_browser() is not None


def _policy_names() -> list[str]:
    from slacalc.terms.policy import policy_names

    return list(policy_names())


def _import_formats() -> list[str]:
    from slacalc.importing import FORMATS

    return list(FORMATS)


VALUES: dict[str, tuple[list[str], list[str]]] = {
    "incidents": (INCIDENTS_GOOD, [*role("incidents"), *role("any"), "-"]),
    "contracts": (
        pool("contracts.csv", "import-contracts.csv", "con-bom-crlf.csv", "con-edges.csv"),
        [*role("contracts"), *role("any"), "-"],
    ),
    "disputes": (
        pool("disputes.csv", "dis-bom-crlf.csv", "dis-edges.csv"),
        [*role("disputes"), *role("any"), "-"],
    ),
    "holidays": (
        pool("holidays.csv", "hol-bom-crlf.csv", "hol-edges.csv", "hol-all-holidays.csv"),
        [*role("holidays"), *role("any"), "-"],
    ),
    "policy": (
        [*_policy_names(), *POLICY_GOOD],
        [
            *role("policy"),
            *role("any"),
            "-",
            "no-such-policy",
            "",
            "STANDARD",
            "standard ",
            "aws-s3.toml",
            "presets/aws-s3",
            "/dev/null",
        ],
    ),
    "map_file": (pool("map.toml", "import-map.toml"), [*role("map"), *role("any"), "-"]),
    "files": (role("import"), [*role("import"), *role("any"), "-"]),
    "tz": (
        [
            "Asia/Shanghai",
            "UTC",
            "America/New_York",
            "Europe/Berlin",
            "Australia/Lord_Howe",
            "Pacific/Kiritimati",
            "Pacific/Pago_Pago",
            "Asia/Kathmandu",
            "Etc/GMT+12",
        ],
        [
            "Mars/Olympus",
            "",
            " ",
            "utc",
            "Asia/shanghai",
            "../../../etc/passwd",
            "/etc/localtime",
            "/usr/share/zoneinfo/UTC",
            "EST",
            "CST6CDT",
            "+08:00",
            "UTC+8",
            "localtime",
            "posixrules",
            "Factory",
            "right/UTC",
            "Asia/",
            ".",
            "..",
            "A" * 5000,
            "\x1b]0;t\x07",
            "Asia/Shanghai\x00",
            "\udcff",
            "Europe/Kyiv\n",
            "Asia/Shanghai ",
            "__init__",
            "zoneinfo",
        ],
    ),
    "calendar": (
        ["CN", "none", "US", "GB", "DE", "JP"],
        ["XX", "", "cn", "NONE", "US-CA", "CN-11", "NYSE", "A" * 5000, "\x00", "../CN", "__init__"],
    ),
    "currency": (
        ["CNY", "USD", "EUR", "JPY", "KWD"],
        ["XYZ", "JYP", "", "cny", "XAU", "XXX", "US D", "€", "CLF", "A" * 5000, "\x00", "USD "],
    ),
    "as_of": (TIMES_GOOD, TIMES_BAD),
    "opened": (TIMES_GOOD, TIMES_BAD),
    "since": (["2025-01-01", "2025-03-01T00:00:00Z"], TIMES_BAD),
    "until": (["2025-12-31", "2026-01-01T00:00:00Z"], TIMES_BAD),
    "month": (MONTHS_GOOD, MONTHS_BAD),
    "monthly_fee": (
        ["100", "12000.00", "0.01", "5"],
        [
            "0",
            "-1",
            "1e999999999",
            "1e-999999999",
            HUGE,
            "nan",
            "inf",
            "1,000",
            "1_000",
            "１００",
            "100.123456789",
            "0x10",
            "100 CNY",
            "",
            " 5 ",
            "1e3",
            "99999999999999999999.99",
            "¥100",
            "-0",
        ],
    ),
    "sla_target": (
        ["99.95", "99.99", "99.95%"],
        [
            "100",
            "0",
            "101",
            "-5",
            "1e-99999999",
            "nan",
            "",
            "99.950000",
            "99,95",
            "abc",
            "1e999999999",
            "99.5",
            "99.9",
            HUGE,
        ],
    ),
    "input_format": (["csv", "jsonl", "parquet"], ["CSV", "xlsx", "", "json", " csv", "\x00"]),
    "memory": (
        ["384M", "1T", "2G", "500M", "1.5GiB"],
        [
            "1",
            "0",
            "",
            "-1",
            "1e999999999",
            "9" * 13,
            "999999999999T",
            "384m",
            " 1G ",
            "1.0000001G",
            "383M",
            "1P",
            "2GB",
            "2 G",
            "0.5K",
        ],
    ),
    "max_rows": (
        ["1000000", "10", "1", "2_000_000"],
        ["0", "-1", "", HUGE, "1e6", "1,000", "9999999999999999999", "１０", " 5 "],
    ),
    "spark_master": (["local[1]"], ["", "spark://nowhere:7077"]),
    "customer": (
        ["acme", "globex"],
        [
            "nobody",
            "",
            "*",
            "acme ",
            "=cmd",
            "客户",
            "Zürich Re 上海分公司",
            "\x1b[31m",
            "A" * 5000,
        ],
    ),
    "service": (
        ["compute", "storage", "database"],
        ["", "*", "nope", "compute ", "\x00"],
    ),
    "lang": (["en", "zh"], ["", "fr", "EN", "zh-CN", "zh_CN.UTF-8", "\x00"]),
    "level": (
        ["1", "2", "3", "sla_breach", "data_loss", "resource_allocation"],
        ["0", "4", "7", "", "1.0", "DATA_LOSS", "２", HUGE, "1e999999999"],
    ),
    "targets": (
        ["99.95", "99.9%", "99.99", "50"],
        [
            "100",
            "0",
            "100.0001",
            "1e-999999999",
            "99.999999999999",
            "nan",
            "",
            "99.95%%",
            HUGE,
            "1e999999999",
            "99.9999999999999999999999999999",
        ],
    ),
    "source_format": (
        _import_formats(),
        ["STATUSPAGE", "csv", "", "ics ", "\x00", "statuspage.json"],
    ),
    "unmapped": (["error", "skip"], ["", "ignore", "SKIP"]),
    "output": (
        [
            "-",
            "{out}/out.csv",
            "{out}/out.json",
            "{out}/out.jsonl",
            "{out}/out.parquet",
            "{out}/out.html",
            "{out}/new-folder",
            "{out}/existing.csv",
        ],
        [
            "{out}/out.xlsx",
            "{out}/out",
            "{out}",
            "{out}/",
            "{out}/out.csv/",
            "{out}/missing/out.csv",
            "{out}/readonly.csv",
            "{out}/link.csv",
            "{out}/dangling.csv",
            "{out}/sub",
            *(["{out}/out.pdf"] if pdf_allowed() else []),
            "{out}/out.CSV",
            "{out}/" + "x" * 300 + ".csv",
            "{out}/new\nline.csv",
            "{out}/.csv",
            "/dev/null",
            "/dev/stdout",
            "/dev/stderr",
            "/dev/fd/2",
            "/dev/stdin",
            "/proc/self/fd/1",
            "/dev/full",
            "",
            " ",
            "{input}",
            "{pool}/a-folder.csv",
        ],
    ),
}
GENERIC = (["x"], [*HOSTILE_TEXT, *role("any")])
# Options that decide whether a run gets past its first checks: given more often.
PREFERRED = frozenset({"as_of", "monthly_fee", "contracts", "customer", "service", "month"})
CHOICE_JUNK = ["xlsx", "", "CSV", "html", "\x00", "json "]
EXTRA_TOKENS = [
    "--no-such-option",
    "--",
    "-",
    "--help",
    "-h",
    "--version",
    "stray",
    "--format=",
    "-o",
    "--tz",
    "-m",
]
# Environment a user may have set, whatever the command.
ENV_EXTRA: dict[str, list[str]] = {
    "COLUMNS": ["0", "-5", "abc", "1", "100000"],
    "LINES": ["0", "-1"],
    "NO_COLOR": ["1"],
    "TERM": ["dumb", "xterm-256color", ""],
    "LANG": ["zh_CN.UTF-8", "C", "xx_XX"],
    "LC_ALL": ["C", "POSIX", "zh_CN.UTF-8"],
    "SLACALC_CHROMIUM": ["/nonexistent", "/bin/false", "/bin/true"],
    "SLACALC_LANG": ["zh", "en", "fr"],
}
STDIN_CONTENT = [
    b"",
    b"\xef\xbb\xbf",
    b"\x00\x01\x02" * 100,
    bytes(range(256)),
]
# terminal: both streams claim a terminal (in process) or stderr is a pty (real process);
# bucketed: report's log needs more memory than any --memory; tmpdir-missing: TMPDIR names a
# folder that does not exist; redirected: a real process's stdin, stdout and stderr are
# regular files (< in > out 2> log).
# small-thresholds: the bulk readers and two-thread paths on small files (in process).
KNOBS = ("terminal", "bucketed", "tmpdir-missing", "redirected", "small-thresholds")


def _stdin_samples() -> list[bytes]:
    from fuzz_argv.pool import SAMPLES

    return [
        *STDIN_CONTENT,
        (SAMPLES / "incidents.csv").read_bytes(),
        (SAMPLES / "incidents.csv").read_bytes().replace(b"\n", b"\r\n"),
        (SAMPLES / "disputes.csv").read_bytes(),
        (SAMPLES / "imports" / "statuspage.json").read_bytes(),
        (SAMPLES / "imports" / "incidents.jsonl").read_bytes(),
    ]


def _never_spark(value: str) -> bool:
    return value.strip().lower() != "spark"


def value_pools(param: Any) -> tuple[list[str], list[str]]:
    """The good and hostile values of one click parameter, from its type and name."""
    choices = getattr(param.type, "choices", None)
    if choices is not None:
        names = [str(getattr(c, "value", c)) for c in choices]
        good = [n for n in names if _never_spark(n) and n != "pdf"]
        pdf = ["pdf"] if "pdf" in names and pdf_allowed() else []
        return good, [*good, *pdf, *CHOICE_JUNK]
    return VALUES.get(param.name, GENERIC)


def is_flag(param: Any) -> bool:
    return bool(getattr(param, "is_flag", False))


def takes_many(param: Any) -> bool:
    return bool(getattr(param, "multiple", False)) or param.nargs == -1


def _option_flag(param: Any, draw: Any) -> str:
    return draw(st.sampled_from(sorted(param.opts)))


# Parameters a good run gives several times (compare: two policies or more).
MANY = {"policy": 2}


def _coherent(chosen: dict[str, list[str]], params: dict[str, Any], draw: Any) -> None:
    """What a run needs to get past its first checks, by parameter name: one of --customer and
    --all-customers (the second with -o DIR), a fee or contracts to price with, both ends of
    a --from/--until window. Applied unless the case is chaos."""
    if "customer" in chosen and "all_customers" in chosen:
        del chosen[draw(st.sampled_from(["customer", "all_customers"]))]
    chosen.pop("spark_master", None)  # only with --engine spark, never fuzzed
    if "all_customers" in params and "customer" not in chosen and "all_customers" not in chosen:
        chosen["customer"] = ["acme"]
    if "all_customers" in chosen:
        chosen["output"] = [draw(st.sampled_from(["{out}/statements", "{out}/sub"]))]
    if "monthly_fee" in params and "monthly_fee" not in chosen and "contracts" not in chosen:
        chosen["monthly_fee"] = ["100"]
    if "since" in chosen and "until" not in chosen:
        chosen["until"] = ["2026-01-01"]
    if "until" in chosen and "since" not in chosen:
        chosen["since"] = ["2025-01-01"]


@st.composite
def cases(draw: Any, command: str, click_command: Any) -> Case:
    """A command line for ``command`` from its own parameters (see the module's notes)."""
    params = [p for p in click_command.params if p.name]
    mode = draw(st.sampled_from(["clean", "clean", "one-bad", "one-bad", "chaos"]))
    included = []
    for p in params:
        # every rare choice is the highest number drawn, so that shrinking (towards 0) makes
        # a failing case simpler: required parameters kept, optional ones, knobs, extra
        # tokens and environment variables left out
        if p.required:
            keep = draw(st.integers(0, 19)) != 19
        elif p.name in PREFERRED:
            keep = draw(st.integers(0, 4)) != 0
        else:
            keep = draw(st.integers(0, 2)) == 2
        if keep:
            included.append(p)
    bad_one = draw(st.sampled_from(included)) if included and mode == "one-bad" else None

    def values_of(p: Any) -> list[str]:
        good, bad = value_pools(p)
        hostile = (mode == "chaos" and draw(st.booleans())) or p is bad_one
        pick = st.sampled_from(bad if hostile else good)
        if p.name == "engine":
            pick = pick.filter(_never_spark)
        if takes_many(p):
            low = 1 if p.required or p.param_type_name == "option" else 0
            if p.name in MANY and not hostile:
                low = max(low, MANY[p.name])
            return draw(st.lists(pick, min_size=low, max_size=max(low, 3), unique=True))
        return [draw(pick)]

    chosen: dict[str, list[str]] = {}
    for p in included:
        chosen[p.name] = [] if is_flag(p) else values_of(p)
    if mode != "chaos":
        _coherent(chosen, {p.name: p for p in params}, draw)
    # import: a file of the format named, most of the time
    if "source_format" in chosen and "files" in chosen and mode != "chaos":
        fmt = chosen["source_format"][0]
        matching = [f for f in role("import") if fmt and fmt.split(".")[0] in f.lower()]
        if fmt == "ics":
            matching = [f for f in role("import") if f.endswith(".ics")]
        if matching and draw(st.integers(0, 3)) != 0:
            chosen["files"] = [draw(st.sampled_from(matching))]

    positional: list[str] = []
    units: list[list[str]] = []
    env: dict[str, str] = {}
    for p in params:
        if p.name not in chosen:
            continue
        if p.param_type_name == "argument":
            positional += chosen[p.name]
            continue
        if is_flag(p):
            units.append([_option_flag(p, draw)])
            continue
        for value in chosen[p.name]:
            envvar = getattr(p, "envvar", None)
            in_env = isinstance(envvar, str) and not takes_many(p) and "\x00" not in value
            if in_env and draw(st.integers(0, 4)) == 4:  # an environment holds no NUL
                env[envvar] = value
                continue
            flag = _option_flag(p, draw)
            form = draw(st.integers(0, 5))
            if form == 4 and flag.startswith("--"):
                units.append([f"{flag}={value}"])
            elif form == 5 and not flag.startswith("--") and value:
                units.append([f"{flag}{value}"])
            else:
                units.append([flag, value])
    units = draw(st.permutations(units)) if len(units) < 8 else units
    tokens = [t for u in units for t in u]
    argv = (
        [command, *positional, *tokens] if draw(st.booleans()) else [command, *tokens, *positional]
    )
    if draw(st.integers(0, 9)) == 9:
        extra = draw(st.sampled_from(EXTRA_TOKENS))
        argv.insert(draw(st.integers(1, len(argv))), extra)
    if draw(st.integers(0, 5)) == 5:
        name = draw(st.sampled_from(sorted(ENV_EXTRA)))
        env[name] = draw(st.sampled_from(ENV_EXTRA[name]))
    stdin = draw(st.sampled_from(_stdin_samples())) if "-" in argv[1:] else None
    knobs = frozenset(k for k in KNOBS if draw(st.integers(0, 6)) == 6)
    return Case(command, tuple(argv), tuple(sorted(env.items())), stdin, knobs)
