"""What the fuzzer found in its long runs (issue 18), as cases replayed on every run of the
suite: a fix is kept, and a regression shows at once. The shortest case of each distinct
failure; the report of the run that found them says which code each one reaches.
"""

from __future__ import annotations

from fuzz_argv.cases import Case
from fuzz_argv.pool import HUGE

LONG_NAME = "x" * 300  # longer than a file name may be (255 bytes)
STATUSPAGE = "{pool}/statuspage_incidents.json"

# Run in process (typer's CliRunner).
IN_PROCESS: list[Case] = [
    # int() of 5,000 digits before the length check: ValueError, exit 70
    Case("import", ("import", "statuspage", STATUSPAGE, "--max-rows", HUGE)),
    # a map's TOML integer of 5,000 digits: ValueError from tomllib, exit 70
    Case("import", ("import", "statuspage", STATUSPAGE, "--map", "{pool}/map-huge-int.toml")),
    # pathlib's is_dir()/exists() raise ENAMETOOLONG: OSError, exit 70
    Case(
        "statement",
        (
            "statement",
            "{pool}/incidents.csv",
            "--month",
            "2025-05",
            "--customer",
            "acme",
            "--monthly-fee",
            "5",
            "-o",
            f"{{out}}/{LONG_NAME}.csv",
        ),
    ),
    Case(
        "statement",
        (
            "statement",
            "{pool}/incidents.csv",
            "--month",
            "2025-05",
            "--all-customers",
            "--monthly-fee",
            "5",
            "-o",
            f"{{out}}/{LONG_NAME}",
        ),
    ),
    # a path with a NUL byte (only from Python: a shell's argv holds none): ValueError
    Case("validate", ("validate", "a\x00b.csv")),
    Case("report", ("report", "{pool}/incidents.csv", "--monthly-fee", "5", "-o", "o\x00.csv")),
]

# Run as a real process with standard input, output and error redirected to regular files
# (``< in.txt > out.txt 2>> log.txt``): -o naming one of them replaced that file.
REAL_PROCESS: list[Case] = [
    Case("tiers", ("tiers", "-f", "csv", "-o", "/dev/stderr"), knobs=frozenset({"redirected"})),
    Case("tiers", ("tiers", "-f", "csv", "-o", "/dev/stdin"), knobs=frozenset({"redirected"})),
    Case(
        "import",
        ("import", "statuspage", STATUSPAGE, "-f", "parquet", "-o", "/dev/stdout"),
        knobs=frozenset({"redirected"}),
    ),
]
