"""The working-day calendar: China's 调休, plain weekdays, overrides, the holidays file."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import holidays
import pytest
from holidays.countries.china import ChinaStaticHolidays

from slacalc.dates.workdays import WorkCalendar
from slacalc.errors import InputError, UsageError
from slacalc.reading.holidays import read_holidays_file


@pytest.fixture(scope="module")
def cn() -> WorkCalendar:
    return WorkCalendar.create("CN")


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# --- China ---------------------------------------------------------------------------------


def test_national_day_2025_is_off_oct_1_to_8(cn: WorkCalendar) -> None:
    assert [cn.is_working_day(d) for d in _days(date(2025, 10, 1), date(2025, 10, 8))] == [
        False
    ] * 8
    assert cn.is_working_day(date(2025, 9, 30))
    assert cn.is_working_day(date(2025, 10, 9))


def test_national_day_2025_make_up_days_work(cn: WorkCalendar) -> None:
    # 2025-09-28 is a Sunday and 2025-10-11 a Saturday; both are worked (国办发〔2024〕49号).
    assert date(2025, 9, 28).weekday() == 6 and date(2025, 10, 11).weekday() == 5
    assert cn.is_working_day(date(2025, 9, 28))
    assert cn.is_working_day(date(2025, 10, 11))
    assert not cn.is_working_day(date(2025, 10, 12))  # the Sunday after stays off


def test_spring_festival_2026(cn: WorkCalendar) -> None:
    # Off Sun 15 Feb to Mon 23 Feb (9 days); Saturdays 14 and 28 Feb are worked.
    assert not any(cn.is_working_day(d) for d in _days(date(2026, 2, 15), date(2026, 2, 23)))
    assert cn.is_working_day(date(2026, 2, 14))
    assert cn.is_working_day(date(2026, 2, 28))
    assert cn.is_working_day(date(2026, 2, 13))
    assert cn.is_working_day(date(2026, 2, 24))


def test_make_up_day_announced_with_next_year(cn: WorkCalendar) -> None:
    # New Year 2006 made Saturday 2005-12-31 a working day (国办发明电〔2005〕35号): it is
    # only listed with 2006's holidays, and must be found when 2005 alone is asked about.
    assert WorkCalendar.create("CN").is_working_day(date(2005, 12, 31))


def test_add_working_days_skips_national_day(cn: WorkCalendar) -> None:
    assert cn.add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)
    # 9, 10, 11 (make-up Saturday), 13, 14
    assert cn.add_working_days(date(2025, 9, 30), 5) == date(2025, 10, 14)


def test_add_working_days_never_counts_the_start_day(cn: WorkCalendar) -> None:
    # Opened on the make-up Saturday 2026-02-14: that day is a working day but does not count.
    assert cn.add_working_days(date(2026, 2, 14), 1) == date(2026, 2, 24)
    assert cn.add_working_days(date(2026, 2, 14), 5) == date(2026, 2, 28)
    # Likewise the make-up Sunday 2025-09-28.
    assert cn.add_working_days(date(2025, 9, 28), 1) == date(2025, 9, 29)


def test_add_working_days_needs_n_of_at_least_one(cn: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        cn.add_working_days(date(2025, 1, 1), 0)


# --- other calendars -----------------------------------------------------------------------


def test_none_is_monday_to_friday() -> None:
    cal = WorkCalendar.create("none")
    assert cal.name == "none"
    week = _days(date(2025, 9, 29), date(2025, 10, 5))  # Mon..Sun over National Day
    assert [cal.is_working_day(d) for d in week] == [True] * 5 + [False] * 2
    assert cal.add_working_days(date(2025, 10, 3), 1) == date(2025, 10, 6)
    assert cal.last_confirmed_year is None
    assert cal.unconfirmed_years([1990, 2027, 2100]) == []


@pytest.mark.parametrize("code", ["us", "US", " Us "])
def test_codes_are_case_insensitive(code: str) -> None:
    cal = WorkCalendar.create(code)
    assert cal.name == "US"
    assert not cal.is_working_day(date(2025, 7, 4))  # Independence Day, a Friday
    assert cal.is_working_day(date(2025, 7, 3))
    assert cal.unconfirmed_years([2027]) == []  # no moved weekends: nothing to guess


def test_none_is_case_insensitive() -> None:
    assert WorkCalendar.create("NONE").name == "none"


def test_unknown_country_code_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"unknown calendar 'XX'.*list_supported_countries"):
        WorkCalendar.create("XX")


def test_class_names_of_the_holidays_module_are_not_codes() -> None:
    with pytest.raises(UsageError):
        WorkCalendar.create("HolidayBase")


# --- overrides -----------------------------------------------------------------------------


def test_overrides_win_over_everything() -> None:
    cal = WorkCalendar.create(
        "CN",
        {
            date(2025, 10, 1): True,  # a national holiday made a working day
            date(2025, 10, 11): False,  # a make-up Saturday cancelled
            date(2025, 10, 9): False,  # an ordinary Thursday off
            date(2025, 10, 12): True,  # an ordinary Sunday worked
        },
    )
    assert cal.is_working_day(date(2025, 10, 1))
    assert not cal.is_working_day(date(2025, 10, 11))
    assert not cal.is_working_day(date(2025, 10, 9))
    assert cal.is_working_day(date(2025, 10, 12))
    assert not cal.is_working_day(date(2025, 10, 2))  # untouched days keep the calendar
    assert cal.add_working_days(date(2025, 9, 30), 3) == date(2025, 10, 12)


def test_overrides_on_the_none_calendar() -> None:
    cal = WorkCalendar.create("none", {date(2025, 10, 6): False})
    assert cal.add_working_days(date(2025, 10, 3), 1) == date(2025, 10, 7)


# --- confirmed years -----------------------------------------------------------------------


def test_last_confirmed_year_comes_from_the_package(cn: WorkCalendar) -> None:
    assert cn.last_confirmed_year == max(ChinaStaticHolidays.special_public_holidays)


def test_2027_is_a_guess_for_cn(cn: WorkCalendar) -> None:
    last = cn.last_confirmed_year
    assert last is not None
    assert cn.unconfirmed_years([2025, last, last + 1, last + 1, 2027]) == sorted({2027, last + 1})
    assert cn.unconfirmed_years([2025]) == []


def test_years_before_the_data_are_a_guess_too(cn: WorkCalendar) -> None:
    # The package lists China's make-up days from 2001 on; 2000 had some it does not know.
    assert cn.unconfirmed_years([2000, 2001]) == [2000]


def test_a_year_in_the_overrides_is_confirmed() -> None:
    cal = WorkCalendar.create("CN", {date(2027, 2, 6): True})
    assert cal.unconfirmed_years([2026, 2027, 2028]) == [2028]


def test_guessed_years_still_give_an_answer(cn: WorkCalendar) -> None:
    assert cn.is_working_day(date(2027, 3, 3))  # an ordinary Wednesday
    assert not cn.is_working_day(date(2027, 10, 1))


def test_other_moved_weekend_countries_are_checked_too() -> None:
    ru = WorkCalendar.create("RU")
    assert ru.last_confirmed_year is not None
    assert ru.unconfirmed_years([ru.last_confirmed_year + 1]) == [ru.last_confirmed_year + 1]


# --- the holidays file ---------------------------------------------------------------------


def _write(tmp_path: Path, text: str, *, bom: bool = False, crlf: bool = False) -> str:
    path = tmp_path / "holidays.csv"
    if crlf:
        text = text.replace("\n", "\r\n")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return str(path)


def test_holidays_file_good(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        " Date , KIND ,note\n2027-02-06,workday,make-up Saturday\n"
        "2027-02-08, Holiday ,\n\n2027-02-08,holiday,listed twice, same kind\n",
        bom=True,
        crlf=True,
    )
    assert read_holidays_file(path) == {date(2027, 2, 6): True, date(2027, 2, 8): False}


def test_holidays_file_bad_rows_are_all_reported(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "date,kind\n"
        "2027-02-06,workday\n"  # 2: fine
        "2027-13-01,holiday\n"  # 3: no month 13
        "06/02/2027,holiday\n"  # 4: not ISO
        "2027-02-07,off\n"  # 5: unknown kind
        ",\n"  # 6: only separators: skipped like a blank line
        "2027-02-06,holiday\n"  # 7: contradicts line 2
        "20270209,holiday\n",  # 8: ISO basic format is refused
        bom=True,
        crlf=True,
    )
    with pytest.raises(InputError) as info:
        read_holidays_file(path)
    assert [str(p) for p in info.value.problems] == [
        f"{path}:3: column 'date': not a date; expected YYYY-MM-DD (value '2027-13-01')",
        f"{path}:4: column 'date': not a date; expected YYYY-MM-DD (value '06/02/2027')",
        f"{path}:5: column 'kind': expected 'holiday' or 'workday' (value 'off')",
        (
            f"{path}:7: column 'date': date listed twice with different kinds "
            "(line 2 says 'workday') (value '2027-02-06')"
        ),
        f"{path}:8: column 'date': not a date; expected YYYY-MM-DD (value '20270209')",
    ]
    assert [(p.line, p.column) for p in info.value.problems][:2] == [(3, "date"), (4, "date")]


def test_holidays_file_missing_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "date,type\n2027-02-06,workday\n")
    with pytest.raises(InputError) as info:
        read_holidays_file(path)
    (problem,) = info.value.problems
    assert problem.line == 1 and "missing required column 'kind'" in problem.message


def test_holidays_file_missing(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        read_holidays_file(str(tmp_path / "nope.csv"))
    assert info.value.problems[0].message == "no such file"


def test_holidays_file_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("date,kind\n2027-02-06,workday # été\n".encode("latin-1"))
    with pytest.raises(InputError) as info:
        read_holidays_file(str(path))
    problem = info.value.problems[0]
    assert problem.line == 2 and problem.message.startswith("not UTF-8")


def test_holidays_file_feeds_the_calendar(tmp_path: Path) -> None:
    path = _write(tmp_path, "date,kind\n2027-02-06,workday\n2027-02-08,holiday\n")
    cal = WorkCalendar.create("CN", read_holidays_file(path))
    assert cal.is_working_day(date(2027, 2, 6))  # a Saturday
    assert not cal.is_working_day(date(2027, 2, 8))  # a Monday
    assert cal.unconfirmed_years([2027]) == []


# --- cross-check against an independent source ---------------------------------------------

# Where chinese_calendar is wrong and the holidays package right, checked against the State
# Council's notices. Any other disagreement fails the test: someone has to look at it.
KNOWN_CHINESE_CALENDAR_ERRORS = {
    # 国办发明电〔2005〕35号 (2006 holidays): "12月31日（星期六）上班". chinese_calendar 1.11.0
    # has it as a rest day (its open issue #125).
    date(2005, 12, 31): True,
}


def test_cn_agrees_with_chinese_calendar(cn: WorkCalendar) -> None:
    chinese_calendar = pytest.importorskip("chinese_calendar")
    their_last = max(chinese_calendar.holidays).year
    our_last = cn.last_confirmed_year
    assert our_last is not None
    days = _days(date(2004, 1, 1), date(min(their_last, our_last), 12, 31))
    disagreements = {
        d: cn.is_working_day(d)
        for d in days
        if cn.is_working_day(d) != chinese_calendar.is_workday(d)
    }
    assert disagreements == KNOWN_CHINESE_CALENDAR_ERRORS
    assert len(days) > 365 * 20


def test_calendar_agrees_with_the_holidays_package(cn: WorkCalendar) -> None:
    # The per-year cache must not change a single answer of the package it caches.
    entity = holidays.country_holidays("CN")
    for d in _days(date(2024, 1, 1), date(2027, 12, 31)):
        assert cn.is_working_day(d) == entity.is_working_day(d), d


def test_a_calendar_with_no_working_day_left_stops() -> None:
    start = date(2030, 1, 1)
    all_off = {start + timedelta(days=i): False for i in range(6 * 366)}
    cal = WorkCalendar.create("none", all_off)
    with pytest.raises(ValueError, match="no working day in the 1830 days after 2029-12-31"):
        cal.add_working_days(date(2029, 12, 31), 1)


def test_supported_codes_are_the_packages_own_list() -> None:
    from slacalc.dates.workdays import _supported_codes

    assert _supported_codes() == frozenset(holidays.list_supported_countries())


@pytest.mark.parametrize("code", ["CN", "US", "UK", "DEU", "RU"])
def test_one_country_loaded_alone_answers_as_the_package_does(code: str) -> None:
    """A fresh process loads only the calendar's country module (not ``holidays.countries``,
    which imports all 250): the answers match ``holidays.country_holidays``, and the package
    imports normally afterwards."""
    import subprocess
    import sys

    probe = f"""
import sys
from datetime import date, timedelta
from slacalc.dates.workdays import WorkCalendar
cal = WorkCalendar.create({code!r})
days = [date(2025, 1, 1) + timedelta(days=i) for i in range(730)]
ours = [cal.is_working_day(d) for d in days]
alone = "holidays.countries" not in sys.modules
modules = sum(m.startswith("holidays.countries.") for m in sys.modules)
import holidays
theirs = holidays.country_holidays({code!r})
print(alone, modules < 5, ours == [theirs.is_working_day(d) for d in days])
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "True"]
