"""The import map (--map MAP.toml): reading it exactly and defensively, and applying it.

The map format is slacalc's own (issue 10); tests/fixtures/import/map.toml is the example map of
the fixtures' cloud. The source names in it come from the other fixtures.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slacalc.errors import InputError
from slacalc.importing import ImportMap, LabelMap, import_files, read_map
from slacalc.importing.mapping import parse_share

FIXTURES = Path(__file__).parent / "fixtures" / "import"
UTC = ZoneInfo("UTC")


def write(tmp_path: Path, text: str, name: str = "map.toml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def problems_of(path: str) -> list[str]:
    with pytest.raises(InputError) as info:
        read_map(path)
    return [str(p) for p in info.value.problems]


def test_the_example_map_reads_exactly() -> None:
    m = read_map(str(FIXTURES / "map.toml"))
    assert m.services is not None and m.services["API Gateway"] == "api"
    assert m.customers["shared-eu"] == ("acme", "globex")
    # TOML floats are read as decimals, so 0.5 is exactly 1/2 and "10%" exactly 1/10.
    assert m.impact == {
        "partial_outage": Fraction(1, 2),
        "degraded_performance": Fraction(1, 10),
        "low": Fraction(1, 4),
        "P3": Fraction(1, 2),
        "warning": Fraction(1, 2),
    }
    assert m.labels == LabelMap(service="service", customer_id="tenant", impact="severity")


def test_every_part_is_optional(tmp_path: Path) -> None:
    m = read_map(write(tmp_path, ""))
    assert m.services is None  # no [services] table: every name is its own service
    assert m.service_for("Anything") == "Anything"
    assert m.customers_for("Anything") == ("*",)
    assert m.impact_for(("high",), Fraction(1)) == Fraction(1)


def test_a_decimal_that_is_no_binary_float_stays_exact(tmp_path: Path) -> None:
    m = read_map(write(tmp_path, "[impact]\nhigh = 0.1\nlow = 1e-1\nhalf = 1\n"))
    assert m.impact == {"high": Fraction(1, 10), "low": Fraction(1, 10), "half": Fraction(1)}


@pytest.mark.parametrize(
    ("value", "share"),
    [("0.3", Fraction(3, 10)), ("30%", Fraction(3, 10)), (" 12.5 % ", Fraction(1, 8)), ("0", 0)],
)
def test_shares_as_strings(value: str, share: Fraction) -> None:
    assert parse_share(value) == share


@given(st.integers(min_value=0, max_value=100_000))
def test_a_percentage_is_the_share_over_one_hundred(thousandths: int) -> None:
    text = f"{thousandths // 1000}.{thousandths % 1000:03d}%"
    assert parse_share(text) == Fraction(thousandths, 100_000)


def test_unknown_tables_and_keys_name_the_key_and_the_closest_known_one(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[service]\n"API" = "api"\n\n[labels]\ncustmer_id = "tenant"\n\nunmapped = "skip"\n',
    )
    assert problems_of(path) == [
        f"{path}:1: unknown table 'service'; did you mean 'services'? "
        "(a map has the tables services, customers, impact, labels)",
        f"{path}:5: [labels] unknown key 'custmer_id'; did you mean 'customer_id'? "
        "(known: customer_id, service, impact)",
        # TOML puts a key written after [labels] into that table.
        f"{path}:7: [labels] unknown key 'unmapped' (known: customer_id, service, impact)",
    ]


def test_a_stray_top_level_key_is_unknown(tmp_path: Path) -> None:
    # TOML puts a key after a table header into that table, so a stray key must come first.
    path = write(tmp_path, 'unmaped = "skip"\n[services]\n"API" = "api"\n')
    assert problems_of(path) == [
        f"{path}:1: unknown key 'unmaped' (a map has the tables services, customers, impact, "
        "labels)"
    ]


def test_bad_values_are_each_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[services]\n"
        'web.example.com = "web"\n'
        '"Empty" = ""\n'
        "[customers]\n"
        '"Nobody" = []\n'
        '"Both" = ["*", "acme"]\n'
        "[impact]\n"
        "major = 1.5\n"
        "minor = -0.1\n"
        'odd = "a lot"\n'
        "flag = true\n",
    )
    assert problems_of(path) == [
        f"{path}:2: [services] 'web' is a table: a name with dots needs quotes, such as "
        '"web.…" = "service"',
        f"{path}:3: [services] 'Empty': expected a service name (a non-empty string) (value '')",
        f"{path}:5: [customers] 'Nobody': expected a customer id or a non-empty list of them, "
        'such as ["acme", "globex"] (value \'[]\')',
        f"{path}:6: [customers] 'Both': '*' (every customer) cannot be listed with other ids",
        f"{path}:8: [impact] 'major': impact must be from 0 (no row) to 1 (100%) (value '1.5')",
        f"{path}:9: [impact] 'minor': impact must be from 0 (no row) to 1 (100%) (value '-0.1')",
        f"{path}:10: [impact] 'odd': expected a share from 0 to 1, such as 0.3 or \"30%\" "
        "(value 'a lot')",
        f"{path}:11: [impact] 'flag': expected a share from 0 to 1, such as 0.3 or \"30%\" "
        "(value 'True')",
    ]


def test_invalid_toml_says_where(tmp_path: Path) -> None:
    path = write(tmp_path, '[services]\n"API" = "api"\n"Web" = \n')
    assert problems_of(path) == [
        f"{path}:3: not valid TOML: Invalid value (at line 3, column 9)",
    ]


def test_hostile_nesting_is_an_error_not_a_crash(tmp_path: Path) -> None:
    path = write(tmp_path, "a = " + "[" * 50_000 + "]" * 50_000 + "\n")
    assert problems_of(path) == [f"{path}: not valid TOML: nested too deeply"]


def test_a_missing_or_binary_map_file(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.toml")
    assert problems_of(missing) == [f"{missing}: no such file"]
    binary = tmp_path / "map.toml"
    binary.write_bytes(b'[services]\n"A" = "\xff"\n')
    assert problems_of(str(binary)) == [
        f"{binary}:2: not UTF-8 text (byte 0xff at offset 18); save the file as UTF-8"
    ]


# --- applying the map --------------------------------------------------------------------------


def test_unmapped_names_are_an_error_listing_every_one(tmp_path: Path) -> None:
    path = write(tmp_path, '[services]\n"API" = "api"\n')
    src = str(FIXTURES / "statuspage_incidents.json")
    with pytest.raises(InputError) as info:
        import_files("statuspage", [src], mapping=read_map(path), tz=UTC)
    assert [str(p) for p in info.value.problems] == [
        f"{src}: 'Dedicated DB (acme)' is not in the [services] table of {path} (1 row): add "
        '"Dedicated DB (acme)" = "<service>" or skip unmapped names (--unmapped skip) '
        "(value 'Dedicated DB (acme)')",
        f"{src}: 'Webhooks' is not in the [services] table of {path} (1 row): add "
        '"Webhooks" = "<service>" or skip unmapped names (--unmapped skip) '
        "(value 'Webhooks')",
    ]


def test_unmapped_names_can_be_skipped_and_counted(tmp_path: Path) -> None:
    path = write(tmp_path, '[services]\n"API" = "api"\n')
    src = str(FIXTURES / "statuspage_incidents.json")
    result = import_files("statuspage", [src], mapping=read_map(path), unmapped="skip", tz=UTC)
    assert result.skipped == {"Dedicated DB (acme)": 1, "Webhooks": 1}
    assert {r.service for r in result.rows} == {"api"}
    assert len(result.rows) == 5  # 3 rows of the 4 March incident, 2 of the re-opened one


def test_a_customer_list_fans_out_and_star_stays_one_row() -> None:
    m = ImportMap(customers={"Dedicated DB (acme)": ("acme",), "shared": ("acme", "globex")})
    assert m.customers_for("shared") == ("acme", "globex")
    assert m.customers_for("Dedicated DB (acme)") == ("acme",)
    assert m.customers_for("API") == ("*",)
    # A customer named by the source (an alert's tenant label) stands for itself unless mapped.
    assert m.customers_for("API", named="initech") == ("initech",)
    assert m.customers_for("API", named="shared") == ("acme", "globex")


def test_impact_zero_means_no_row(tmp_path: Path) -> None:
    path = write(tmp_path, "[impact]\npartial_outage = 0\n")
    src = str(FIXTURES / "statuspage_incidents.json")
    rows = import_files("statuspage", [src], mapping=read_map(path), tz=UTC).rows
    assert {r.impact for r in rows} == {Fraction(1)}  # the partial-outage rows are gone


def test_an_impact_keeps_at_most_the_ten_decimals_an_incident_log_holds(tmp_path: Path) -> None:
    # What an import writes must read back: the log's impact cells have at most 10 decimals.
    assert parse_share("0.0000000001") == Fraction(1, 10**10)
    path = write(tmp_path, "[impact]\nlow = 0.00000000001\nhalf = 0.5\n")
    assert problems_of(path) == [
        f"{path}:2: [impact] 'low': too many decimals: an incident log keeps impacts to 10 "
        "decimal places (value '1E-11')"
    ]
