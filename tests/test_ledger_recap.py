"""Issue 21's ledger follow-ups, on SQLite and on PostgreSQL (test_ledger's fixtures).

Re-capping: a re-post that changes an earlier month re-caps, in the same transaction, the
later credits whose annual or per-customer cap counted it (open ones updated, issued ones
adjusted). Then a ledger opened read-only, and the public event API the exports use.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import test_ledger
from test_ledger import cli, count, csv_rows

from slacalc.ledger import Ledger, LedgerError
from slacalc.ledger.schema import LATEST, migrate
from slacalc.ledger.sql import Database

# A ledger on SQLite and on PostgreSQL: test_ledger's fixtures.
pg_cluster, target = test_ledger.pg_cluster, test_ledger.target

AS_OF = "2025-04-10T00:00:00+08:00"  # January to March final
# 50 % of the fee under 99.95 %, all of it under 99 %; 20 % of 12 months' fees a year.
POLICY = """\
name = "recap"
mode = "credit"
default_target = 99.95
{extra}
[[tiers]]
target = 99.95
bands = [ {{ below = 99.95, credit_pct = 50 }}, {{ below = 99.0, credit_pct = 100 }} ]
{window}"""
CONTRACTS = """\
customer_id,service,monthly_fee,currency,sla_target
acme,storage,1000.00,CNY,99.95
acme,compute,1000.00,CNY,99.95
"""
# January 2 hours (500.00), February and March 10 hours (1000.00 each): 2400.00 a year at
# most, so March is cut to 900.00.
LOG = """\
incident_id,customer_id,service,start,end
J-1,acme,storage,2025-01-10T00:00:00+08:00,2025-01-10T02:00:00+08:00
F-1,acme,storage,2025-02-10T00:00:00+08:00,2025-02-10T10:00:00+08:00
M-1,acme,storage,2025-03-10T00:00:00+08:00,2025-03-10T10:00:00+08:00
"""
LATE = "J-2,acme,storage,2025-01-20T00:00:00+08:00,2025-01-20T10:00:00+08:00\n"
MARCH = "acme:storage:2025-03"


@pytest.fixture
def books(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("SLACALC_FORMAT", "csv")
    (tmp_path / "log.csv").write_text(LOG)
    (tmp_path / "contracts.csv").write_text(CONTRACTS)
    for name, extra, window in (
        ("annual", "annual_cap_pct = 20", ""),
        ("claims", "annual_cap_pct = 20", "\n[claim_window]\ncloses_after_days = 120\n"),
        ("customer", "customer_cap_pct = 50", ""),
    ):
        (tmp_path / f"{name}.toml").write_text(POLICY.format(extra=extra, window=window))
    return {"dir": str(tmp_path), "log": str(tmp_path / "log.csv")}


def post(
    target: str,
    books: dict[str, str],
    policy: str,
    *more: str,
    as_of: str = AS_OF,
    contracts: str = "contracts.csv",
) -> dict[str, dict]:
    result = cli(
        target,
        "post",
        books["log"],
        "--contracts",
        str(Path(books["dir"]) / contracts),
        "--policy",
        str(Path(books["dir"]) / f"{policy}.toml"),
        "--as-of",
        as_of,
        "-f",
        "csv",
        *more,
    )
    return {r["credit_id"]: r for r in csv_rows(result.stdout)}


def late_january(books: dict[str, str]) -> None:
    with open(books["log"], "a") as fh:
        fh.write(LATE)


def shown(target: str, credit: str) -> dict:
    return json.loads(cli(target, "show", credit, "-f", "json", "--as-of", AS_OF).stdout)


def money(record: dict[str, str]) -> tuple[str, ...]:
    return (record["action"], record["amount"], record["cut"], record["cut_by"], record["net"])


# --- re-capping ---------------------------------------------------------------------------------


def test_a_late_january_incident_cuts_an_open_march_credit_more(target, books) -> None:
    first = post(target, books, "annual")
    assert money(first[MARCH]) == ("posted", "900.00", "100.00", "annual_cap_pct", "900.00")
    late_january(books)
    # only January is posted again: March, approved and open, is re-capped with it
    found = post(target, books, "annual", "--month", "2025-01")
    assert list(found) == ["acme:storage:2025-01", MARCH]
    assert found["acme:storage:2025-01"]["amount"] == "1000.00"
    assert money(found[MARCH]) == ("updated", "400.00", "600.00", "annual_cap_pct", "400.00")
    assert found[MARCH]["approved"] == "400.00"  # a full approval follows the amount
    event = shown(target, MARCH)["events"][-1]
    assert (event["what"], event["amount"]) == ("updated", "400.00")
    assert event["reason"] == "re-capped: 2025-01 changed; amount 900.00 -> 400.00 CNY"
    # the same inputs again change nothing, posted by month or all at once
    events = count(target, "events")
    assert {r["action"] for r in post(target, books, "annual", "--month", "2025-01").values()} == {
        "unchanged"
    }
    assert {r["action"] for r in post(target, books, "annual").values()} == {"unchanged"}
    assert count(target, "events") == events


def test_a_re_post_carrying_march_says_why_it_was_cut(target, books) -> None:
    post(target, books, "annual")
    late_january(books)
    found = post(target, books, "annual")
    assert [r["action"] for r in found.values()] == ["updated", "unchanged", "updated"]
    event = shown(target, MARCH)["events"][-1]
    assert event["reason"] == "re-capped: 2025-01 changed; amount 900.00 -> 400.00 CNY"


def test_detected_and_claimed_credits_are_re_capped_too(target, books) -> None:
    post(target, books, "claims")
    cli(target, "claim", MARCH, "--reference", "T-1", "--as-of", AS_OF)
    late_january(books)
    found = post(target, books, "claims", "--month", "2025-01")
    assert (found["acme:storage:2025-01"]["status"], found["acme:storage:2025-01"]["amount"]) == (
        "detected",
        "1000.00",
    )
    assert (found[MARCH]["status"], found[MARCH]["amount"], found[MARCH]["cut"]) == (
        "claimed",
        "400.00",
        "600.00",
    )


def test_an_issued_march_credit_gets_an_adjustment_instead(target, books) -> None:
    post(target, books, "annual")
    cli(target, "issue", MARCH, "--document", "CN-3", "--as-of", AS_OF)
    late_january(books)
    found = post(target, books, "annual", "--month", "2025-01")
    march = found[MARCH]
    # what was issued stays; the re-cap is an adjustment: 500.00 less
    assert (march["action"], march["status"], march["amount"], march["adjusted"]) == (
        "adjusted",
        "issued",
        "900.00",
        "-500.00",
    )
    # the cut is the caps' new one: the statement finds the computed 1000.00 unchanged
    assert (march["net"], march["computed"], march["cut"]) == ("400.00", "1000.00", "600.00")
    history = shown(target, MARCH)
    [adjustment] = history["adjustments"]
    assert (adjustment["delta"], adjustment["amount_before"], adjustment["amount_after"]) == (
        "-500.00",
        "900.00",
        "400.00",
    )
    assert adjustment["reason"] == "re-capped: 2025-01 changed after it was issued"
    assert history["events"][-1]["what"] == "adjusted"
    assert history["evidence"]["incidents"] == ["M-1"]  # the issued credit keeps its evidence
    for more in (("--month", "2025-01"), ()):
        assert {r["action"] for r in post(target, books, "annual", *more).values()} == {"unchanged"}
    assert count(target, "adjustments") == 1


def test_a_re_cap_reaches_the_months_after_the_one_it_changed(target, books) -> None:
    # April is cut to nothing by January to March; the late incident moves the cut, not April
    with open(books["log"], "a") as fh:
        fh.write("A-1,acme,storage,2025-04-02T00:00:00+08:00,2025-04-02T10:00:00+08:00\n")
    first = post(target, books, "annual", as_of="2025-05-10T00:00:00+08:00")
    assert first["acme:storage:2025-04"]["amount"] == "0.00"
    cli(target, "deny", "acme:storage:2025-02", "--reason", "no claim", "--as-of", AS_OF)
    # February denied counts nothing: January going up re-caps March, and March April
    late_january(books)
    found = post(target, books, "annual", "--month", "2025-01", as_of="2025-05-10T00:00:00+08:00")
    assert [(r["month"], r["action"], r["amount"]) for r in found.values()] == [
        ("2025-01", "updated", "1000.00"),
        ("2025-03", "updated", "1000.00"),
        ("2025-04", "updated", "400.00"),
    ]
    reason = shown(target, "acme:storage:2025-04")["events"][-1]["reason"]
    assert reason == "re-capped: 2025-01, 2025-03 changed; amount 0.00 -> 400.00 CNY"


def test_a_customer_cap_follows_a_changed_service(target, books) -> None:
    # March: compute and storage breached; half of 2000.00 of fees is 1000.00 for both
    Path(books["log"]).write_text(
        "incident_id,customer_id,service,start,end\n"
        "C-1,acme,compute,2025-03-10T00:00:00+08:00,2025-03-10T10:00:00+08:00\n"
        "S-1,acme,storage,2025-03-11T00:00:00+08:00,2025-03-11T10:00:00+08:00\n"
    )
    first = post(target, books, "customer")
    assert first["acme:compute:2025-03"]["amount"] == "1000.00"
    assert money(first[MARCH]) == ("posted", "0.00", "1000.00", "customer_cap_pct", "0.00")
    # compute's outage was shorter: 500.00, posted for compute alone (its own contracts);
    # storage, not in the post, is re-capped to what compute leaves of acme's cap
    Path(books["log"]).write_text(
        "incident_id,customer_id,service,start,end\n"
        "C-1,acme,compute,2025-03-10T00:00:00+08:00,2025-03-10T02:00:00+08:00\n"
    )
    compute = Path(books["dir"]) / "compute.csv"
    compute.write_text("\n".join(CONTRACTS.splitlines()[::2]) + "\n")
    found = post(target, books, "customer", contracts=compute.name)
    assert found["acme:compute:2025-03"]["amount"] == "500.00"
    assert money(found[MARCH]) == ("updated", "500.00", "500.00", "customer_cap_pct", "500.00")
    reason = shown(target, MARCH)["events"][-1]["reason"]
    assert reason == "re-capped: 2025-03 compute changed; amount 0.00 -> 500.00 CNY"
    again = post(target, books, "customer", contracts=compute.name)
    assert {r["action"] for r in again.values()} == {"unchanged"}


def test_a_re_cap_is_in_the_posts_transaction(target, books, monkeypatch) -> None:
    from slacalc.ledger import store

    post(target, books, "annual")
    late_january(books)
    before = (count(target, "events"), shown(target, "acme:storage:2025-01")["amount"])

    def failing(self, *args, **kwargs):
        raise RuntimeError("injected")

    monkeypatch.setattr(store.Ledger, "_recap", failing)
    cli(
        target,
        "post",
        books["log"],
        "--contracts",
        str(Path(books["dir"]) / "contracts.csv"),
        "--policy",
        str(Path(books["dir"]) / "annual.toml"),
        "--month",
        "2025-01",
        "--as-of",
        AS_OF,
        code=70,
    )
    assert (count(target, "events"), shown(target, "acme:storage:2025-01")["amount"]) == before


# --- a ledger opened read-only ------------------------------------------------------------------


def test_a_read_only_ledger_reads_and_refuses_every_write(target, books) -> None:
    post(target, books, "annual")
    events = count(target, "events")
    with Ledger(target, read_only=True) as ledger:
        assert [c["credit_id"] for c in ledger.credits()][-1] == MARCH
        assert ledger.history(MARCH)["amount"] == "900.00"
        with pytest.raises(LedgerError, match="open read-only"):
            ledger.deny(MARCH, reason="no", as_of=0)
        with pytest.raises(LedgerError):
            ledger.db.execute("UPDATE credits SET status = ?", ("applied",))
    assert count(target, "events") == events


def test_a_read_only_ledger_of_an_older_schema_is_refused_not_migrated(target) -> None:
    db = Database(target)
    try:
        migrate(db, target=2)
    finally:
        db.close()
    with pytest.raises(
        LedgerError, match=f"schema version 2, older than this slacalc's \\({LATEST}"
    ):
        Ledger(target, read_only=True)
    db = Database(target)
    try:
        assert db.value("SELECT max(version) FROM schema_version") == 2
    finally:
        db.close()


def test_a_missing_sqlite_ledger_is_an_error_and_is_not_made(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    with pytest.raises(LedgerError, match="no such file"):
        Ledger(str(missing), read_only=True)
    assert not missing.exists()
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    with pytest.raises(LedgerError, match="not a slacalc ledger"):
        Ledger(str(empty), read_only=True)
    assert empty.read_bytes() == b""


# --- the public event API -----------------------------------------------------------------------


def test_a_note_is_an_event_that_leaves_the_credit_as_it_is(target, books) -> None:
    post(target, books, "annual")
    with Ledger(target, actor="exporter") as ledger:
        with ledger.transaction():
            ledger.note(MARCH, "exported", reason="exported to stripe", detail={"k": 1})
        with pytest.raises(ValueError, match="lifecycle"):
            ledger.note(MARCH, "approved", reason="no")
        history = ledger.history(MARCH)
    last = history["events"][-1]
    assert (last["what"], last["from_status"], last["to_status"], last["actor"]) == (
        "exported",
        "approved",
        "approved",
        "exporter",
    )
    assert history["status"] == "approved"
