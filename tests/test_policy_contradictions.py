"""Policies, fees and calendars that contradict themselves are refused, naming the key (issue 18).

Each contradiction is checked through ``load_policy`` (or the reader) and through the CLI: exit 2
for a policy, exit 1 for a bad input file, never a silent number and never a traceback.
"""

from __future__ import annotations

import os
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

import slacalc.reading.contracts as contracts_module
from slacalc.cli import app
from slacalc.dates.workdays import NoWorkingDay, WorkCalendar
from slacalc.errors import InputError
from slacalc.reading.contracts import parse_fee, read_contracts
from slacalc.reading.holidays import read_holidays_file
from slacalc.terms import deadlines
from slacalc.terms.policy import (
    DOMAINS,
    NUMBER_DIGITS,
    Domain,
    PolicyError,
    check_claim_bounds,
    domain_table,
    load_policy,
    policy_names,
)

SH = ZoneInfo("Asia/Shanghai")
AS_OF = "2025-12-31T00:00:00+08:00"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("SLACALC_") and name != "SLACALC_FORMAT":
            monkeypatch.delenv(name)


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def problems(path: str) -> list[str]:
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    prefix = f"policy file '{path}': "
    lines = str(info.value).splitlines()
    assert all(line.startswith(prefix) for line in lines), lines
    return [line.removeprefix(prefix) for line in lines]


def outage_log(folder: Path, month: str = "2025-09", hours: int = 5) -> str:
    """One outage of ``hours`` hours on the 10th of ``month``: every tier here is breached."""
    end = f"{month}-10 {hours:02d}:00"
    return write(
        folder,
        "incidents.csv",
        "incident_id,customer_id,service,category,start,end,impact\n"
        f"i,acme,compute,outage,{month}-10 00:00,{end},\n",
    )


def report_with(folder: Path, policy: str, *extra: str, month: str = "2025-09"):
    log = outage_log(folder, month)
    args = ["--monthly-fee", "1000", "--policy", policy, "--as-of", AS_OF, "-f", "csv"]
    return invoke("report", log, *args, *extra)


def assert_refused(result, key: str, exit_code: int = 2) -> str:
    """The CLI stopped with ``exit_code``, no output, no traceback, and a message naming ``key``."""
    assert result.exit_code == exit_code, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert f"'{key}'" in result.stderr, result.stderr
    return result.stderr


# --- 1. a claim window that closes before it opens -----------------------------------------

CLAIM = """name = "claims"
mode = "credit"
[claim_window]
{window}
[[tiers]]
target = 99.9
credit_pct = 10
"""


@pytest.mark.parametrize(
    ("window", "key", "message"),
    [
        (
            "opens_after_working_days = 20\ncloses_after_days = 10",
            "claim_window.closes_after_days",
            "the window would never be open: it opens after the 20th working day of the next "
            "month, at least 20 days after the month ends, and closes 10 days after the month "
            "ends; it must close later (value 10)",
        ),
        (  # closing the day the earliest opening comes: never open either
            "opens_after_working_days = 1\ncloses_after_days = 1",
            "claim_window.closes_after_days",
            "the window would never be open: it opens after the 1st working day of the next "
            "month, at least 1 day after the month ends, and closes 1 day after the month "
            "ends; it must close later (value 1)",
        ),
        (  # the longest month has 31 days
            "opens_after_working_days = 31\ncloses_after_months = 1",
            "claim_window.closes_after_months",
            "the window would never be open: it opens after the 31st working day of the next "
            "month, at least 31 days after the month ends, and closes 1 month after the month "
            "ends; it must close later (value 1)",
        ),
        (
            "closes_after_days = 0",
            "claim_window.closes_after_days",
            "must be between 1 and 3660 (value 0)",
        ),
        (
            "closes_after_months = 0",
            "claim_window.closes_after_months",
            "must be between 1 and 120 (value 0)",
        ),
    ],
)
def test_a_window_that_is_never_open_is_refused_when_read(
    tmp_path: Path, window: str, key: str, message: str
) -> None:
    path = write(tmp_path, "claims.toml", CLAIM.format(window=window))
    assert problems(path) == [f"key '{key}': {message}"]
    stderr = assert_refused(report_with(tmp_path, path), key)
    assert message in stderr


@pytest.mark.parametrize(
    "window",
    [
        "opens_after_working_days = 20\ncloses_after_days = 21",  # open one day if all work
        "opens_after_working_days = 30\ncloses_after_months = 1",  # open in 31-day months
        "opens_after_working_days = 60\ncloses_after_months = 2",  # July + August: 62 days
    ],
)
def test_a_window_that_can_be_open_is_read(tmp_path: Path, window: str) -> None:
    load_policy(write(tmp_path, "claims.toml", CLAIM.format(window=window)))


def claim_bounds_of(policy_path: str, month_after: date, calendar: WorkCalendar):
    policy = load_policy(policy_path)
    return policy, deadlines.claim_bounds(policy.claim_window, month_after, SH, calendar)


def test_a_window_closed_by_the_month_s_holidays_names_the_key_and_the_month(
    tmp_path: Path,
) -> None:
    # Open after the 5th working day, close 8 days after the month. October 2025 has National
    # Day week (1-8 October off): its 5th working day is the 14th, so September's window would
    # open on 15 October and close on 9 October. June's (July: the 7th) is fine.
    path = write(
        tmp_path,
        "claims.toml",
        CLAIM.format(window="opens_after_working_days = 5\ncloses_after_days = 8"),
    )
    cn = WorkCalendar.create("CN")
    policy, (opens, closes) = claim_bounds_of(path, date(2025, 7, 1), cn)
    check_claim_bounds(policy, date(2025, 7, 1), SH, opens, closes)  # 8 July .. 9 July
    policy, (opens, closes) = claim_bounds_of(path, date(2025, 10, 1), cn)
    with pytest.raises(PolicyError) as info:
        check_claim_bounds(policy, date(2025, 10, 1), SH, opens, closes)
    assert str(info.value) == (
        f"policy file '{path}': key 'claim_window.closes_after_days': the claim window of "
        "2025-09 would close on 2025-10-09 (closes 8 days after the month ends), before it "
        "opens on 2025-10-15 (after the 5th working day of 2025-10, 2025-10-14, on this "
        "calendar); for 2025-09, closes_after_days would have to be at least 15 (value 8)"
    )


def test_a_preset_is_named_by_its_name(tmp_path: Path) -> None:
    # tencent-cvm's window (5th working day .. 60 days) is fine; a holidays file that takes
    # the first 70 days of October 2025 off pushes the opening past the close.
    off = "".join(f"{date(2025, 10, 1) + timedelta(days=i)},holiday\n" for i in range(70))
    holidays = write(tmp_path, "holidays.csv", "date,kind\n" + off)
    cal = WorkCalendar.create("CN", read_holidays_file(holidays))
    policy = load_policy("tencent-cvm")
    opens, closes = deadlines.claim_bounds(policy.claim_window, date(2025, 10, 1), SH, cal)
    with pytest.raises(PolicyError, match=r"^policy 'tencent-cvm' \(preset\): key 'claim_"):
        check_claim_bounds(policy, date(2025, 10, 1), SH, opens, closes)


def test_the_report_stops_on_a_month_whose_window_closes_before_it_opens(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        "claims.toml",
        CLAIM.format(window="opens_after_working_days = 5\ncloses_after_days = 8"),
    )
    assert report_with(tmp_path, path, month="2025-06").exit_code == 0
    stderr = assert_refused(report_with(tmp_path, path), "claim_window.closes_after_days")
    assert "the claim window of 2025-09 would close on 2025-10-09" in stderr


# --- 2. and 3. bands: a worse month never earns less, and every breach has a band ------------

BANDS = """name = "bands"
mode = "{mode}"
[[tiers]]
target = 99.99
coefficient = 1
bands = [ {bands} ]
"""


@pytest.mark.parametrize("mode", ["credit", "coefficient"])
@pytest.mark.parametrize(
    ("bands", "key", "message"),
    [
        (
            "{below = 99.99, credit_pct = 25}, {below = 99.0, credit_pct = 10}",
            "tiers[1].bands[2].credit_pct",
            "a worse month must not earn less: 10 % below 99 is less than the 25 % of the band "
            "above it (below 99.99) (value '10')",
        ),
        (
            "{below = 99.99, credit_pct = 10}, {below = 99.0, credit_pct = 30}, "
            "{below = 95.0, credit_pct = 29.99}",
            "tiers[1].bands[3].credit_pct",
            "a worse month must not earn less: 29.99 % below 95 is less than the 30 % of the "
            "band above it (below 99) (value '29.99')",
        ),
        (
            "{below = 99.95, credit_pct = 10}, {below = 99.0, credit_pct = 25}",
            "tiers[1].bands[1].below",
            "a breached month from 99.95 % up to the tier's target 99.99 % falls under no band "
            "and would be owed nothing; start the bands at below = 99.99 (value '99.95')",
        ),
    ],
)
def test_contradicting_bands_are_refused(
    tmp_path: Path, mode: str, bands: str, key: str, message: str
) -> None:
    path = write(tmp_path, "bands.toml", BANDS.format(mode=mode, bands=bands))
    assert problems(path) == [f"key '{key}': {message}"]
    stderr = assert_refused(report_with(tmp_path, path), key)
    assert message in stderr
    tiers = invoke("tiers", "--policy", path)
    assert tiers.exit_code == 2 and f"'{key}'" in tiers.stderr


def test_every_contradiction_of_a_file_is_reported_together(tmp_path: Path) -> None:
    # the policy: a window closing before it opens, bands paying less for a worse
    # month and leaving 99.95-99.99 without a band
    text = (
        'mode = "credit"\n[claim_window]\nopens_after_working_days = 20\ncloses_after_days = 10\n'
        "[[tiers]]\ntarget = 99.99\n"
        "bands = [{below = 99.95, credit_pct = 25}, {below = 99.0, credit_pct = 10}]\n"
    )
    path = write(tmp_path, "issue18.toml", text)
    assert [line.split(":")[0] for line in problems(path)] == [
        "key 'tiers[1].bands[2].credit_pct'",
        "key 'tiers[1].bands[1].below'",
        "key 'claim_window.closes_after_days'",
    ]
    result = report_with(tmp_path, path)
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 3


def test_equal_credits_in_a_row_are_harmless(tmp_path: Path) -> None:
    bands = "{below = 99.99, credit_pct = 10}, {below = 99.0, credit_pct = 10}"
    policy = load_policy(write(tmp_path, "b.toml", BANDS.format(mode="credit", bands=bands)))
    assert [b.credit_pct for b in policy.tiers[0].bands] == [10, 10]


def test_a_badly_ordered_table_gets_one_message(tmp_path: Path) -> None:
    # the order is the mistake: no further message about gaps or credits
    bands = "{below = 95, credit_pct = 30}, {below = 99.99, credit_pct = 10}"
    path = write(tmp_path, "b.toml", BANDS.format(mode="credit", bands=bands))
    assert problems(path) == [
        "key 'tiers[1].bands[2].below': bands must be listed from the highest 'below' down, "
        "without repeats (99.99 after 95)"
    ]


def test_a_cap_of_nothing_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "cap.toml", "cap_pct = 0\n[[tiers]]\ntarget = 99.9\ncoefficient = 1\n")
    assert problems(path) == ["key 'cap_pct': must be above 0 (value '0')"]
    assert_refused(report_with(tmp_path, path), "cap_pct")


def test_every_breach_of_a_shipped_policy_has_a_price() -> None:
    for tier in (t for name in policy_names() for t in load_policy(name).tiers):
        assert tier.bands[0].below == tier.target
        credits = [b.credit_pct for b in tier.bands]
        assert credits == sorted(credits)


# --- 5. the domain of every policy number, stated once -----------------------------------------

BASE = {
    "default_target": "99.9",
    "cap_pct": "100",
    "min_credit": "0",
    "min_outage_seconds": "0",
    "round_up_seconds": "0",
    "claim_window.opens_after_working_days": "0",
    "claim_window.closes_after_days": "30",
    "tiers[].target": "99.9",
    "tiers[].coefficient": "1",
    "tiers[].bands[].below": "99.9",
    "tiers[].bands[].credit_pct": "10",
}


def policy_with(key: str, value: str) -> str:
    """A good credit policy with ``key`` (a DOMAINS key) set to ``value``."""
    values = {**BASE, key: value}
    if key == "claim_window.closes_after_months":
        del values["claim_window.closes_after_days"]
    if key == "claim_window.opens_after_working_days":
        values["claim_window.closes_after_days"] = "3660"
    targets = ("tiers[].target", "default_target", "tiers[].bands[].below")
    if key in targets[:2]:  # the same target everywhere: only the domain can be wrong
        values.update(dict.fromkeys(targets, value))
    elif key == targets[2]:  # a tier at 100 %: every 'below' within the domain is under it
        values.update(dict.fromkeys(targets[:2], "100"))
    top = [f"{k} = {v}" for k, v in values.items() if "." not in k and "[" not in k]
    window = [f"{k.split('.')[1]} = {v}" for k, v in values.items() if k.startswith("claim_")]
    tier = [
        f"target = {values['tiers[].target']}",
        f"coefficient = {values['tiers[].coefficient']}",
    ]
    if key == "tiers[].credit_pct":
        tier.append(f"credit_pct = {value}")
    else:
        below, credit = values["tiers[].bands[].below"], values["tiers[].bands[].credit_pct"]
        tier.append(f"bands = [ {{ below = {below}, credit_pct = {credit} }} ]")
    return "\n".join(['mode = "credit"', *top, "[claim_window]", *window, "[[tiers]]", *tier, ""])


def path_of(key: str) -> str:
    return key.replace("[]", "[1]")


def out_of(domain: Domain) -> list[tuple[str, str]]:
    """Values just outside ``domain`` (TOML text) and what the message says of each."""
    if not domain.places:
        assert domain.high is not None
        between = f"must be between {domain.low} and {domain.high}"
        return [
            (str(domain.low - 1), f"{between} (value {domain.low - 1})"),
            (str(domain.high + 1), f"{between} (value {domain.high + 1})"),
            ("1.5", "expected a whole number (value '1.5')"),
        ]
    step = Decimal(1).scaleb(-domain.places)
    low = domain.low if domain.above_low else domain.low - step
    word = "above" if domain.above_low else "at least"
    finer = domain.low + step / 10
    cases = [
        (f"{low:f}", f"must be {word} {domain.low} (value '{low}')"),
        (f"{finer:f}", f"too many decimals (at most {domain.places}) (value '{finer}')"),
    ]
    if domain.high is not None:
        high = domain.high + step
        cases.append((f"{high:f}", f"must be at most {domain.high} (value '{high}')"))
    else:
        big = 10**NUMBER_DIGITS
        too_large = f"too large (at most {NUMBER_DIGITS} digits before the decimal point)"
        cases.append((str(big), f"{too_large} (value '{big}')"))
    return cases


def test_the_edges_of_every_domain_are_accepted(tmp_path: Path) -> None:
    for i, (key, domain, _) in enumerate(DOMAINS):
        edges = [domain.high] if domain.high is not None else []
        if not domain.above_low:
            edges.append(domain.low)
        for j, edge in enumerate(edges):
            load_policy(write(tmp_path, f"edge{i}-{j}.toml", policy_with(key, f"{edge:f}")))


@pytest.mark.parametrize(("key", "domain"), [(k, d) for k, d, _ in DOMAINS])
def test_every_policy_number_keeps_to_its_domain(tmp_path: Path, key: str, domain: Domain) -> None:
    for i, (value, message) in enumerate(out_of(domain)):
        path = write(tmp_path, f"p{i}.toml", policy_with(key, value))
        assert f"key '{path_of(key)}': {message}" in problems(path)


def test_the_domain_table_lists_every_policy_number() -> None:
    table = domain_table()
    lines = table.splitlines()
    assert lines[0] == "| key | allowed values | also |"
    for key, domain, _ in DOMAINS:
        assert f"| `{key}` | {domain.text()} |" in table
    assert "| `cap_pct` | above 0, at most 100; up to 8 decimals |" in table
    assert "| `min_outage_seconds` | a whole number from 0 to 86400 |" in table


# --- 4. a fee finer than its currency's minor unit ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "currency", "value"),
    [
        ("100", "JPY", "100"),
        ("1500000.00", "JPY", "1500000"),  # trailing zeros are not finer
        ("100.123", "KWD", "100.123"),
        ("0.0001", "CLF", "0.0001"),
        ("999999999999999.99", "CNY", "999999999999999.99"),  # the largest fee in CNY
        ("999999999999999", "JPY", "999999999999999"),
        (" 1_200.5 ", "USD", "1200.5"),
    ],
)
def test_fees_within_the_minor_unit(text: str, currency: str, value: str) -> None:
    assert parse_fee(text, currency) == Decimal(value)


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        (
            "100.5",
            "JPY",
            "finer than the currency's minor unit: JPY has no minor unit, a fee in JPY is whole",
        ),
        ("100.1234", "KWD", "finer than the currency's minor unit: at most 3 decimals for KWD"),
        ("100.001", "CNY", "finer than the currency's minor unit: at most 2 decimals for CNY"),
        (
            "1000000000000000",
            "CNY",
            "amount is too large (at most 15 digits before the decimal point)",
        ),
        ("-1", "CNY", "must not be negative"),
    ],
)
def test_fees_finer_than_the_minor_unit_are_refused(text: str, currency: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_fee(text, currency)
    assert str(info.value) == message


FEES = (
    "customer_id,service,monthly_fee,currency\n"
    "acme,a,100.50,CNY\n"
    "beta,b,100.5,JPY\n"
    "gamma,c,100.1234,KWD\n"
    "delta,d,1500000.00,JPY\n"
    "kappa,k,100.123,\n"
)


@pytest.mark.parametrize("bulk", [False, True])
def test_contract_fees_finer_than_the_minor_unit_name_their_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bulk: bool
) -> None:
    if bulk:  # the pyarrow reader of large files, forced
        monkeypatch.setattr(contracts_module, "BULK_BYTES", 0)
    path = write(tmp_path, "contracts.csv", FEES)
    with pytest.raises(InputError) as info:
        read_contracts(path, policy=load_policy("standard"), default_currency="KWD")
    assert info.value.lines() == [
        f"{path}:3: column 'monthly_fee': finer than the currency's minor unit: JPY has no "
        "minor unit, a fee in JPY is whole (value '100.5')",
        f"{path}:4: column 'monthly_fee': finer than the currency's minor unit: at most 3 "
        "decimals for KWD (value '100.1234')",
        "2 problems found",
    ]
    # the same file through the CLI: exit 1, every line named
    log = outage_log(tmp_path)
    result = invoke("report", log, "--contracts", path, "--as-of", AS_OF, "-f", "csv")
    assert result.exit_code == 1 and result.stdout == ""
    assert f"{path}:3: column 'monthly_fee'" in result.stderr
    assert f"{path}:4: column 'monthly_fee'" in result.stderr


@pytest.mark.parametrize("bulk", [False, True])
def test_contract_fees_within_the_minor_unit_read_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bulk: bool
) -> None:
    if bulk:
        monkeypatch.setattr(contracts_module, "BULK_BYTES", 0)
    text = FEES.replace("100.5,JPY", "100,JPY").replace("100.1234,KWD", "100.123,KWD")
    path = write(tmp_path, "contracts.csv", text)
    book = read_contracts(path, policy=load_policy("standard"), default_currency="KWD")
    assert [(c.monthly_fee, c.currency) for c in book.contracts] == [
        (Decimal("100.50"), "CNY"),
        (Decimal(100), "JPY"),
        (Decimal("100.123"), "KWD"),
        (Decimal(1500000), "JPY"),
        (Decimal("100.123"), "KWD"),
    ]


def test_a_bad_currency_leaves_the_fee_to_the_plain_checks(tmp_path: Path) -> None:
    path = write(tmp_path, "contracts.csv", "customer_id,monthly_fee,currency\nacme,100.5,JYP\n")
    with pytest.raises(InputError) as info:
        read_contracts(path, policy=load_policy("standard"), default_currency="CNY")
    assert info.value.lines() == [
        f"{path}:2: column 'currency': 'JYP' is not an ISO 4217 currency code; did you mean "
        "JPY? (value 'JYP')",
        "1 problem found",
    ]


@pytest.mark.parametrize(
    ("fee", "currency", "message"),
    [
        ("100.5", "JPY", "JPY has no minor unit"),
        ("100.1234", "KWD", "at most 3 decimals for KWD"),
    ],
)
def test_monthly_fee_finer_than_the_currency_is_a_usage_error(
    tmp_path: Path, fee: str, currency: str, message: str
) -> None:
    log = outage_log(tmp_path)
    result = invoke(
        "report", log, "--monthly-fee", fee, "--currency", currency, "--as-of", AS_OF, "-f", "csv"
    )
    assert result.exit_code == 2 and result.stdout == ""
    assert f"--monthly-fee '{fee}'" in result.stderr and message in result.stderr


# --- 6. a calendar with no working day left --------------------------------------------------


def all_off(folder: Path, first: date, days: int) -> str:
    rows = "".join(f"{first + timedelta(days=i)},holiday\n" for i in range(days))
    return write(folder, "holidays.csv", "date,kind\n" + rows)


def test_a_holidays_file_with_no_working_day_left_is_an_input_error(tmp_path: Path) -> None:
    holidays = all_off(tmp_path, date(2025, 6, 1), 2000)
    log = write(
        tmp_path,
        "incidents.csv",
        "incident_id,customer_id,service,category,start,end,impact\n"
        "i,acme,compute,data_loss,2025-06-10 00:00,2025-06-10 05:00,\n",
    )
    started = time.monotonic()
    result = invoke(
        "report", log, "--monthly-fee", "1000", "--holidays", holidays, "--as-of", AS_OF
    )
    assert time.monotonic() - started < 30  # the search is bounded
    assert result.exit_code == 1, (result.exit_code, result.stderr)
    assert result.stderr.splitlines() == [
        f"{holidays}:12: column 'date': with the days off this file lists, calendar 'CN' has "
        "no working day in the 1830 days after 2025-06-10: a deadline counted in working days "
        "would never come (value '2025-06-11')",
        "1 problem found",
    ]


def test_a_claim_window_on_such_a_calendar_is_an_input_error_too(tmp_path: Path) -> None:
    holidays = all_off(tmp_path, date(2025, 10, 1), 2000)
    result = report_with(tmp_path, "tencent-cvm", "--holidays", holidays)
    assert result.exit_code == 1, (result.exit_code, result.stderr)
    assert result.stderr.startswith(f"{holidays}:2: column 'date': with the days off this file")


def test_no_working_day_is_an_input_error_and_a_value_error() -> None:
    # the disputes log turns a ValueError of the calendar into a problem on its row
    off = {date(2030, 1, 1) + timedelta(days=i): False for i in range(6 * 366)}
    with pytest.raises(NoWorkingDay) as info:
        WorkCalendar.create("none", off).add_working_days(date(2029, 12, 31), 1)
    assert isinstance(info.value, InputError) and isinstance(info.value, ValueError)
    assert str(info.value) == (
        "no working day in the 1830 days after 2029-12-31 in calendar 'none': check the "
        "holidays file"
    )
    assert [str(p) for p in info.value.problems] == [f"calendar 'none': {info.value}"]


def test_the_search_stops_at_the_end_of_the_calendar() -> None:
    # before: OverflowError past 9999-12-31, an internal error
    off = {date(9999, 12, 1) + timedelta(days=i): False for i in range(31)}
    with pytest.raises(NoWorkingDay, match="no working day in the 21 days after 9999-12-10"):
        WorkCalendar.create("none", off).add_working_days(date(9999, 12, 10), 1)
