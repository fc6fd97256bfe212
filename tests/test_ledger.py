"""The compensation ledger on real databases: every test runs on SQLite and on PostgreSQL.

PostgreSQL is a throwaway cluster this session starts (Debian's binaries in
/usr/lib/postgresql/*/bin; as root, run as the ``postgres`` user, since initdb refuses root),
on a Unix socket in a temporary folder, and stops at the end; each test gets a database of its
own. Without the binaries (or psycopg) the PostgreSQL half skips, saying why.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from slacalc.cli import app
from slacalc.ledger import Ledger, LedgerError, credit_id
from slacalc.ledger.schema import LATEST, migrate, version_of
from slacalc.ledger.sql import Database

ROOT = Path(__file__).resolve().parent.parent
MAY_END = "2025-06-15T00:00:00+08:00"  # May final, June provisional

# --- a throwaway PostgreSQL cluster ----------------------------------------------------------


def _pg_bindir() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[tuple[str, int]]:
    """A PostgreSQL cluster for the session: (socket folder, port)."""
    bindir = _pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL binaries not found (apt-get install postgresql)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg is not installed (pip install 'slacalc[postgres]')")
    base = tempfile.mkdtemp(prefix="slacalc-pg-")
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: the cluster belongs to the postgres user
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(base)
            pytest.skip("running as root and there is no 'postgres' user to run PostgreSQL")
        os.chown(base, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = os.path.join(base, "data"), _free_port()
    try:
        subprocess.run(
            [
                *as_user,
                f"{bindir}/initdb",
                "-D",
                data,
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
        )
        options = f"-p {port} -k {base} -c listen_addresses='' -c fsync=off"
        subprocess.run(
            [
                *as_user,
                f"{bindir}/pg_ctl",
                "-D",
                data,
                "-l",
                f"{base}/log",
                "-w",
                "-o",
                options,
                "start",
            ],
            check=True,
            capture_output=True,
        )
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(f"cannot start PostgreSQL: {exc.stderr.decode(errors='replace')[-300:]}")
    try:
        yield base, port
    finally:
        subprocess.run(
            [*as_user, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


_DB_NUMBER = iter(range(1, 1_000_000))


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty ledger: a SQLite file, or a database of its own in the session's cluster."""
    if request.param == "sqlite":
        return str(tmp_path / "ledger.db")
    import psycopg

    host, port = request.getfixturevalue("pg_cluster")
    name = f"ledger_{next(_DB_NUMBER)}"
    with psycopg.connect(
        f"postgresql://postgres@/postgres?host={host}&port={port}", autocommit=True
    ) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    return f"postgresql://postgres@/{name}?host={host}&port={port}"


# --- inputs -------------------------------------------------------------------------------------

INCIDENTS = """\
incident_id,customer_id,service,start,end
I-1,acme,storage,2025-05-10T10:00:00+08:00,2025-05-10T12:00:00+08:00
I-2,acme,compute,2025-05-12T00:00:00+08:00,2025-05-12T01:00:00+08:00
I-3,globex,db,2025-06-03T00:00:00+08:00,2025-06-03T03:00:00+08:00
"""
CONTRACTS = """\
customer_id,service,monthly_fee,currency,sla_target
acme,*,1000.00,CNY,99.95
globex,db,500.00,USD,99.95
"""
# A policy with a claim window (30 days after the month ends) and a credit of the whole fee.
CLAIMS = """\
name = "claims"
mode = "credit"
default_target = 99.95
credit_form = "voucher"
{extra}
[claim_window]
closes_after_days = 30

[[tiers]]
target = 99.95
credit_pct = 100
"""


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("SLACALC_FORMAT", "csv")  # what a script reads, unless -f says
    (tmp_path / "incidents.csv").write_text(INCIDENTS)
    (tmp_path / "contracts.csv").write_text(CONTRACTS)
    (tmp_path / "claims.toml").write_text(CLAIMS.format(extra=""))
    return {
        "incidents": str(tmp_path / "incidents.csv"),
        "contracts": str(tmp_path / "contracts.csv"),
        "claims": str(tmp_path / "claims.toml"),
        "dir": str(tmp_path),
    }


def cli(target: str, *args: str, code: int = 0, actor: str = "tester") -> CliRunner:
    """``slacalc ledger ARGS --ledger TARGET``, at ``--as-of`` MAY_END unless the args give
    one; asserts the exit code."""
    command, *rest = args
    if "--as-of" not in rest:
        rest += ["--as-of", MAY_END]
    result = CliRunner().invoke(
        app, ["ledger", command, *rest, "--ledger", target, "--actor", actor]
    )
    assert result.exit_code == code, (args, result.stdout, result.stderr)
    return result


def csv_rows(text: str) -> list[dict[str, str]]:
    import csv
    import io

    return list(csv.DictReader(io.StringIO(text)))


def post(target: str, files: dict[str, str], *more: str, as_of: str = MAY_END) -> list[dict]:
    result = cli(
        target,
        "post",
        files["incidents"],
        "--contracts",
        files["contracts"],
        "--as-of",
        as_of,
        "-f",
        "csv",
        *more,
    )
    return csv_rows(result.stdout)


def listed(target: str, *args: str) -> dict[str, dict[str, str]]:
    rows = csv_rows(cli(target, "list", "-f", "csv", "--as-of", MAY_END, *args).stdout)
    return {r["credit_id"]: r for r in rows}


def count(target: str, table: str, where: str = "") -> int:
    db = Database(target)
    try:
        return int(db.value(f"SELECT count(*) FROM {table} {where}"))
    finally:
        db.close()


# --- posting --------------------------------------------------------------------------------------


def test_post_records_each_breach_once_with_its_evidence(target, files) -> None:
    found = post(target, files)
    assert [(r["credit_id"], r["action"], r["status"], r["amount"]) for r in found] == [
        ("acme:compute:2025-05", "posted", "approved", "1.68"),
        ("acme:storage:2025-05", "posted", "approved", "3.36"),
        ("globex:db:2025-06", "posted", "approved", "2.60"),
    ]
    assert found[2]["report_status"] == "provisional"
    shown = json.loads(cli(target, "show", "acme:storage:2025-05", "-f", "json").stdout)
    evidence = shown["evidence"]
    assert evidence["incidents"] == ["I-1"]
    assert evidence["policy"] == "standard"
    assert evidence["row"]["compensation"] == "3.36" and evidence["row"]["breached"] == "true"
    import hashlib

    digest = hashlib.sha256(Path(files["incidents"]).read_bytes()).hexdigest()
    assert {"role": "incidents", "file": files["incidents"], "sha256": digest} in evidence["inputs"]
    # standard has no claim window: approved at post, with no claim, by the actor named
    assert [(e["what"], e["from_status"], e["to_status"]) for e in shown["events"]] == [
        ("posted", None, "detected"),
        ("approved", "detected", "approved"),
    ]
    assert {e["actor"] for e in shown["events"]} == {"tester"}


def test_posting_the_same_inputs_again_changes_nothing(target, files) -> None:
    post(target, files)
    events = count(target, "events")
    again = post(target, files)
    assert {r["action"] for r in again} == {"unchanged"}
    assert count(target, "events") == events
    assert count(target, "credits") == 3


def test_a_late_incident_updates_an_open_credit_and_adjusts_an_issued_one(target, files) -> None:
    post(target, files)
    cli(target, "issue", "acme:storage:2025-05", "--document", "CN-1", "--as-of", MAY_END)
    with open(files["incidents"], "a") as fh:  # a late export: one more hour each
        fh.write("I-4,acme,storage,2025-05-20T00:00:00+08:00,2025-05-20T01:00:00+08:00\n")
        fh.write("I-5,globex,db,2025-06-10T00:00:00+08:00,2025-06-10T01:00:00+08:00\n")
    found = {r["credit_id"]: r for r in post(target, files)}
    assert found["acme:compute:2025-05"]["action"] == "unchanged"
    # provisional and not issued: updated in place, approval following the amount
    june = found["globex:db:2025-06"]
    assert (june["action"], june["amount"], june["approved"]) == ("updated", "3.47", "3.47")
    # issued: the amount stays, an adjustment says what changed and why
    may = found["acme:storage:2025-05"]
    assert (may["action"], may["amount"], may["adjusted"], may["net"]) == (
        "adjusted",
        "3.36",
        "1.68",
        "5.04",
    )
    shown = json.loads(cli(target, "show", "acme:storage:2025-05", "-f", "json").stdout)
    [adjustment] = shown["adjustments"]
    assert (adjustment["delta"], adjustment["amount_before"], adjustment["amount_after"]) == (
        "1.68",
        "3.36",
        "5.04",
    )
    assert "incidents added: I-4" in adjustment["reason"]
    assert shown["evidence"]["incidents"] == ["I-1"]  # what was issued keeps its evidence
    # and a post of the same late log again changes nothing more
    assert {r["action"] for r in post(target, files)} == {"unchanged"}
    assert count(target, "adjustments") == 1


def test_the_month_turning_final_updates_a_provisional_credit(target, files) -> None:
    post(target, files)
    found = {r["credit_id"]: r for r in post(target, files, as_of="2025-07-02T00:00:00+08:00")}
    june = found["globex:db:2025-06"]
    assert (june["action"], june["report_status"]) == ("updated", "final")
    events = json.loads(cli(target, "show", "globex:db:2025-06", "-f", "json").stdout)["events"]
    assert events[-1]["what"] == "updated"
    assert "month provisional -> final" in events[-1]["reason"]


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_a_report_file_posts_the_same_credits(target, files, fmt) -> None:
    report = Path(files["dir"]) / f"report.{fmt}"
    result = CliRunner().invoke(
        app,
        [
            "report",
            files["incidents"],
            "--contracts",
            files["contracts"],
            "--as-of",
            MAY_END,
            "-o",
            str(report),
        ],
    )
    assert result.exit_code == 0, result.stderr
    rows = csv_rows(cli(target, "post", "--from-report", str(report), "-f", "csv").stdout)
    assert [(r["credit_id"], r["status"], r["amount"]) for r in rows] == [
        ("acme:compute:2025-05", "approved", "1.68"),
        ("acme:storage:2025-05", "approved", "3.36"),
        ("globex:db:2025-06", "approved", "2.60"),
    ]
    again = cli(target, "post", "--from-report", str(report), "-f", "csv").stdout
    assert {r["action"] for r in csv_rows(again)} == {"unchanged"}


def test_a_bad_report_file_is_file_line_exit_1(target, files) -> None:
    report = Path(files["dir"]) / "bad.csv"
    result = CliRunner().invoke(
        app,
        [
            "report",
            files["incidents"],
            "--contracts",
            files["contracts"],
            "--as-of",
            MAY_END,
            "-f",
            "csv",
        ],
    )
    lines = result.stdout.splitlines()
    lines[2] = lines[2].replace(",CNY,", ",CNX,")
    report.write_text("\n".join(lines) + "\n")
    result = cli(target, "post", "--from-report", str(report), code=1)
    assert f"{report}:3: column 'currency': " in result.stderr
    assert count(target, "credits") == 0


# --- the lifecycle --------------------------------------------------------------------------------


def claims_post(target: str, files: dict[str, str], as_of: str = MAY_END) -> list[dict]:
    return post(target, files, "--policy", files["claims"], as_of=as_of)


def test_every_legal_transition(target, files) -> None:
    found = claims_post(target, files)
    assert {r["status"] for r in found} == {"detected"}
    assert found[0]["amount"] == "1000.00" and found[0]["form"] == "voucher"
    sid = "acme:storage:2025-05"
    rec = csv_rows(
        cli(target, "claim", sid, "--reference", "T-1", "--as-of", MAY_END, "-f", "csv").stdout
    )[0]
    assert (rec["status"], rec["claim_reference"], rec["claimed_at"]) == (
        "claimed",
        "T-1",
        "2025-06-15T00:00:00+08:00",
    )
    result = cli(target, "approve", sid, "--amount", "1000.01", code=2)
    assert "must be above 0 and at most the credit's 1000.00 CNY" in result.stderr
    rec = csv_rows(cli(target, "approve", sid, "--amount", "600", "--as-of", MAY_END).stdout)[0]
    assert (rec["status"], rec["approved"], rec["net"]) == ("approved", "600.00", "600.00")
    rec = csv_rows(
        cli(target, "issue", sid, "--document", "CN-7", "--voucher-expires", "2026-01-01").stdout
    )[0]
    assert (rec["status"], rec["document_id"], rec["voucher_expires"]) == (
        "issued",
        "CN-7",
        "2026-01-01",
    )
    rec = csv_rows(cli(target, "apply", sid, "--as-of", MAY_END).stdout)[0]
    assert rec["status"] == "applied"
    cid = "acme:compute:2025-05"
    cli(target, "claim", cid, "--reference", "T-2", "--as-of", MAY_END)
    rec = csv_rows(cli(target, "deny", cid, "--reason", "customer's own change").stdout)[0]
    assert (rec["status"], rec["reason"], rec["net"]) == ("denied", "customer's own change", "0.00")
    events = csv_rows(cli(target, "show", sid, "-f", "csv").stdout)
    assert [(e["what"], e["from_status"], e["to_status"]) for e in events] == [
        ("posted", "", "detected"),
        ("claimed", "detected", "claimed"),
        ("approved", "claimed", "approved"),
        ("issued", "approved", "issued"),
        ("applied", "issued", "applied"),
    ]
    assert "partial: 600.00 of 1000.00" in events[2]["reason"]


@pytest.mark.parametrize(
    ("args", "state", "allowed"),
    [
        (["apply", "acme:storage:2025-05"], "detected", "claim, deny"),
        (["issue", "acme:storage:2025-05", "--document", "X"], "detected", "claim, deny"),
        (["approve", "acme:storage:2025-05"], "detected", "claim, deny"),
    ],
)
def test_illegal_transitions_are_exit_2_naming_the_state(target, files, args, state, allowed):
    claims_post(target, files)
    result = cli(target, *args, "--as-of", MAY_END, code=2)
    assert f"is {state}: cannot {args[0]} it" in result.stderr
    assert f"it can be: {allowed}" in result.stderr
    assert count(target, "events", "WHERE what <> 'posted'") == 0


def test_more_illegal_moves(target, files) -> None:
    post(target, files)  # standard: approved at once
    sid = "acme:storage:2025-05"
    result = cli(target, "claim", sid, "--reference", "T", "--as-of", MAY_END, code=2)
    assert "is approved: cannot claim it" in result.stderr
    assert "it can be: deny, issue" in result.stderr
    # a provisional month is not issued
    result = cli(target, "issue", "globex:db:2025-06", "--document", "D", code=2)
    assert "provisional month" in result.stderr
    cli(target, "issue", sid, "--document", "D")
    cli(target, "apply", sid)
    result = cli(target, "deny", sid, "--reason", "late", code=2)
    assert "is applied: cannot deny it" in result.stderr
    assert "no command moves it further" in result.stderr
    # deny needs a reason; a partial amount above what is owed is refused
    cli(target, "deny", "acme:compute:2025-05", code=2)
    result = cli(target, "post", "-", "--contracts", files["contracts"], code=2)
    assert "give a file, not standard input" in result.stderr
    result = cli(target, "show", "nope:x:2025-05", code=2)
    assert "no credit 'nope:x:2025-05'" in result.stderr


def test_a_claim_before_the_window_opens_is_refused(target, files) -> None:
    claims_post(target, files)
    result = cli(
        target, "claim", "globex:db:2025-06", "--reference", "T", "--as-of", MAY_END, code=2
    )
    assert "its claim window opens at 2025-07-01T00:00:00+08:00" in result.stderr


def test_an_unclaimed_credit_expires_when_its_window_closes(target, files) -> None:
    claims_post(target, files)
    cli(target, "claim", "acme:compute:2025-05", "--reference", "T", "--as-of", MAY_END)
    after = "2025-07-01T00:00:00+08:00"  # May's window: 30 days after 1 June
    rows = csv_rows(cli(target, "list", "-f", "csv", "--as-of", after).stdout)
    states = {r["credit_id"]: r["status"] for r in rows}
    assert states == {
        "acme:compute:2025-05": "claimed",
        "acme:storage:2025-05": "expired",
        "globex:db:2025-06": "detected",
    }
    events = json.loads(cli(target, "show", "acme:storage:2025-05", "-f", "json").stdout)
    assert events["events"][-1]["what"] == "expired"
    assert "claim window closed at 2025-07-01T00:00:00+08:00" in events["events"][-1]["reason"]
    result = cli(target, "claim", "acme:storage:2025-05", "--reference", "T", code=2)
    assert "is expired" in result.stderr
    # recorded once: another command at a later moment adds no second expiry
    cli(target, "list", "--as-of", "2025-08-01T00:00:00+08:00")
    assert count(target, "events", "WHERE what = 'expired'") == 2  # storage, and June's later


def test_forms_need_their_fields_before_issue(target, files) -> None:
    claims_post(target, files)
    sid, cid = "acme:storage:2025-05", "acme:compute:2025-05"
    for one in (sid, cid):
        cli(target, "claim", one, "--reference", "T", "--as-of", MAY_END)
    cli(target, "approve", sid, "--form", "service_extension", "--as-of", MAY_END)
    result = cli(target, "issue", sid, "--document", "D", code=2)
    assert "paid as service_extension: give --extension-days" in result.stderr
    rec = csv_rows(cli(target, "issue", sid, "--document", "D", "--extension-days", "7").stdout)
    assert (rec[0]["form"], rec[0]["extension_days"]) == ("service_extension", "7")
    result = cli(target, "approve", cid, "--grant", "100 vCPU-hours", code=2)
    assert "--grant goes with the form resource_grant" in result.stderr
    rec = csv_rows(
        cli(target, "approve", cid, "--form", "resource_grant", "--grant", "100 vCPU-hours").stdout
    )
    assert (rec[0]["form"], rec[0]["grant"]) == ("resource_grant", "100 vCPU-hours")


def test_disputes_escalate_after_15_days_and_due_lists_what_needs_doing(target, files) -> None:
    post(target, files)
    claims = Path(files["dir"]) / "other.csv"
    claims.write_text("\n".join(INCIDENTS.replace("acme", "zeta").splitlines()[:3]) + "\n")
    contracts = Path(files["contracts"])
    contracts.write_text(CONTRACTS + "zeta,*,1000.00,CNY,99.95\n")
    more = ["--contracts", str(contracts), "--policy", files["claims"], "--as-of", MAY_END]
    cli(target, "post", str(claims), *more)
    sid = "acme:storage:2025-05"
    cli(target, "dispute", sid, "--reason", "too low", "--opened", "2025-06-10T09:00:00+08:00")
    shown = json.loads(cli(target, "show", sid, "-f", "json").stdout)
    assert shown["disputes"][0]["escalation_at"] == "2025-06-25T09:00:00+08:00"
    due = csv_rows(
        cli(
            target, "due", "--as-of", "2025-06-26T00:00:00+08:00", "--within", "7", "-f", "csv"
        ).stdout
    )
    kinds = sorted((d["kind"], d["credit_id"]) for d in due)
    # approved at post (standard) and not issued 72 h after May ended; June's is due 07-04;
    # zeta's claim windows (claims policy) close 30 days after May; the dispute opened 06-10
    assert kinds == [
        ("claim_closing", "zeta:compute:2025-05"),
        ("claim_closing", "zeta:storage:2025-05"),
        ("dispute_escalation", "acme:storage:2025-05"),
        ("overdue", "acme:compute:2025-05"),
        ("overdue", "acme:storage:2025-05"),
    ]
    cli(target, "dispute", sid, "--resolve", "--reason", "explained", "--as-of", MAY_END)
    due = csv_rows(cli(target, "due", "--as-of", "2025-06-26T00:00:00+08:00", "-f", "csv").stdout)
    assert "dispute_escalation" not in {d["kind"] for d in due}


# --- limits over time ---------------------------------------------------------------------------


def test_an_annual_cap_cuts_a_credit(target, files) -> None:
    log = Path(files["dir"]) / "year.csv"
    log.write_text(
        "incident_id,customer_id,service,start,end\n"
        + "".join(
            f"Y-{m},acme,storage,2025-{m:02d}-10T00:00:00+08:00,2025-{m:02d}-10T02:00:00+08:00\n"
            for m in range(1, 5)
        )
    )
    policy = Path(files["dir"]) / "annual.toml"
    # no claim window: the credits are approved at post (an expired one would count nothing)
    text = CLAIMS.format(extra="annual_cap_pct = 20").replace("[claim_window]", "")
    policy.write_text(text.replace("closes_after_days = 30", ""))
    files = {**files, "incidents": str(log)}
    found = post(target, files, "--policy", str(policy), as_of="2025-05-02T00:00:00+08:00")
    # 12 months of a 1000.00 fee at 20 %: 2400.00 in all; each month would credit 1000.00
    assert [(r["month"], r["computed"], r["amount"], r["cut"], r["cut_by"]) for r in found] == [
        ("2025-01", "1000.00", "1000.00", "0.00", ""),
        ("2025-02", "1000.00", "1000.00", "0.00", ""),
        ("2025-03", "1000.00", "400.00", "600.00", "annual_cap_pct"),
        ("2025-04", "1000.00", "0.00", "1000.00", "annual_cap_pct"),
    ]
    again = post(target, files, "--policy", str(policy), as_of="2025-05-02T00:00:00+08:00")
    assert {r["action"] for r in again} == {"unchanged"}


def test_a_customer_cap_cuts_across_services(target, files) -> None:
    policy = Path(files["dir"]) / "customer.toml"
    policy.write_text(CLAIMS.format(extra="customer_cap_pct = 50"))
    found = {r["credit_id"]: r for r in post(target, files, "--policy", str(policy))}
    # acme's two services: 2000.00 of fees in May, at most 1000.00 of credits
    assert found["acme:compute:2025-05"]["amount"] == "1000.00"
    storage = found["acme:storage:2025-05"]
    assert (storage["amount"], storage["cut"], storage["cut_by"]) == (
        "0.00",
        "1000.00",
        "customer_cap_pct",
    )
    assert found["globex:db:2025-06"]["amount"] == "250.00"  # alone: half its fee


# --- outputs ----------------------------------------------------------------------------------


def test_list_filters_and_formats(target, files) -> None:
    post(target, files)
    assert list(listed(target, "--customer", "acme")) == [
        "acme:compute:2025-05",
        "acme:storage:2025-05",
    ]
    assert list(listed(target, "--month", "2025-06", "--status", "approved")) == [
        "globex:db:2025-06"
    ]
    assert listed(target, "--status", "issued") == {}
    data = json.loads(cli(target, "list", "-f", "json", "--as-of", MAY_END).stdout)
    assert data[0]["amount"] == "1.68" and data[0]["cut_by"] is None
    lines = cli(target, "list", "-f", "jsonl", "--as-of", MAY_END).stdout.splitlines()
    assert [json.loads(line)["credit_id"] for line in lines] == [d["credit_id"] for d in data]
    out = Path(files["dir"]) / "credits.csv"
    cli(target, "list", "-o", str(out), "--as-of", MAY_END)
    assert out.read_text().startswith("credit_id,customer_id,service,month,status,")
    table = cli(target, "list", "-f", "table", "--as-of", MAY_END).stdout
    assert "acme:storage:2025-05" in table and "3 records" in table
    result = cli(target, "list", "--status", "paid", code=2)
    assert "'paid'" in result.stderr


def test_credit_ids_are_stable_and_never_shared() -> None:
    assert credit_id("acme", "storage", "2025-05") == "acme:storage:2025-05"
    odd = credit_id("acme:eu", "storage", "2025-05")
    assert odd.startswith("acme-eu:storage:2025-05~") and odd == credit_id(
        "acme:eu", "storage", "2025-05"
    )
    assert odd != credit_id("acme", "eu:storage", "2025-05")
    cjk = credit_id("客户", "", "2025-05")
    assert cjk.startswith("::2025-05~") and len(cjk) == len("::2025-05~") + 6


# --- the database -------------------------------------------------------------------------------


def test_events_and_adjustments_are_append_only(target, files) -> None:
    post(target, files)
    db = Database(target)
    try:
        for sql in ("UPDATE events SET actor = 'x'", "DELETE FROM events"):
            with pytest.raises(LedgerError, match="append-only"):
                db.execute(sql)
    finally:
        db.close()


def test_downtime_is_never_credited_twice(target, files) -> None:
    post(target, files)
    db = Database(target)
    try:
        with pytest.raises(LedgerError):
            db.execute(
                "INSERT INTO credits SELECT * FROM credits WHERE id = ?", ("acme:storage:2025-05",)
            )
    finally:
        db.close()


def test_migrations_from_version_1_to_current(target) -> None:
    db = Database(target)
    try:
        assert migrate(db, target=1) == 1
        evidence = json.dumps({"row": {"monthly_fee": "1000.00"}, "incidents": ["I-1"]})
        db.execute(
            "INSERT INTO credits (id, customer_id, service, month, status, currency, amount, "
            "amount_minor, form, report_status, policy, auto_approve, evidence, fingerprint, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                "a:s:2025-05",
                "a",
                "s",
                "2025-05",
                "detected",
                "CNY",
                "3.36",
                336,
                "cash",
                "final",
                "standard",
                0,
                evidence,
                "x",
                "t",
                "t",
            ),
        )
    finally:
        db.close()
    with Ledger(target) as ledger:
        assert version_of(ledger.db) == LATEST == 3
        [rec] = ledger.credits()
        assert (rec["computed"], rec["amount"], rec["cut"], rec["status"]) == (
            "3.36",
            "3.36",
            "0",
            "detected",
        )
        row = ledger.credit("a:s:2025-05")
        assert row["monthly_fee"] == "1000.00"  # taken from the evidence by migration 3
        assert [r["version"] for r in ledger.db.rows("SELECT version FROM schema_version")] == [
            1,
            2,
            3,
        ]


def test_a_newer_ledger_is_refused(target) -> None:
    with Ledger(target):
        pass
    db = Database(target)
    try:
        db.execute("INSERT INTO schema_version (version, applied_at) VALUES (99, 'later')")
    finally:
        db.close()
    result = cli(target, "list", code=1)
    assert "has schema version 99, newer than this slacalc knows (3)" in result.stderr


def test_a_failure_mid_post_leaves_the_ledger_as_it_was(target, files, monkeypatch) -> None:
    from slacalc.ledger import store

    real = store.Ledger._event
    calls = []

    def failing(self, *args, **kwargs):
        real(self, *args, **kwargs)
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("injected")

    monkeypatch.setattr(store.Ledger, "_event", failing)
    cli(target, "post", files["incidents"], "--contracts", files["contracts"], code=70)
    assert count(target, "credits") == 0 and count(target, "events") == 0
    monkeypatch.setattr(store.Ledger, "_event", real)
    assert len(post(target, files)) == 3


# --- processes ------------------------------------------------------------------------------------


def _command(target: str, files: dict[str, str], *more: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "slacalc",
        "ledger",
        "post",
        files["incidents"],
        "--contracts",
        files["contracts"],
        "--as-of",
        MAY_END,
        "--ledger",
        target,
        "-f",
        "csv",
        *more,
    ]


def test_two_posts_at_once_give_no_duplicate(target, files) -> None:
    env = {**os.environ, "SLACALC_FORMAT": "csv"}
    procs = [
        subprocess.Popen(
            _command(target, files), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1] for o in outs]
    actions = sorted(tuple(sorted(r["action"] for r in csv_rows(o[0].decode()))) for o in outs)
    assert actions == [("posted",) * 3, ("unchanged",) * 3]
    assert count(target, "credits") == 3
    assert count(target, "events", "WHERE what = 'posted'") == 3


KILLER = """
import os, signal, sys
from slacalc.ledger import store
real = store.Ledger._event
calls = []
def killing(self, *args, **kwargs):
    real(self, *args, **kwargs)
    calls.append(1)
    if len(calls) == 3:  # in the middle of the post: two credits written, one to go
        os.kill(os.getpid(), signal.SIGKILL)
store.Ledger._event = killing
from slacalc.cli import main
sys.argv = ["slacalc", *sys.argv[1:]]
main()
"""


def test_a_post_killed_midway_leaves_the_ledger_consistent(target, files) -> None:
    command = _command(target, files)
    killed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(KILLER), *command[3:]],
        capture_output=True,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert count(target, "credits") == 0 and count(target, "events") == 0
    done = subprocess.run(command, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert count(target, "credits") == 3
    assert count(target, "events") == 6  # posted and approved, each credit once
    total = sum(Decimal(r["amount"]) for r in listed(target).values())
    assert total == Decimal("7.64")
