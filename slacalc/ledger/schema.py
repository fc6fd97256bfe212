"""The ledger's schema: ordered migrations, and the version a ledger is at.

A ledger records its version in ``schema_version`` (one row per migration applied). Opening
one applies the migrations it lacks, in order, in one transaction (a failure leaves it at its
old version); a ledger of a newer version than this slacalc knows is refused, never written.
Money is decimal text beside integer minor units; instants are ISO 8601 text beside epoch
microseconds (the text for people, the integer for comparisons). Never a float.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from slacalc.ledger.sql import SQLITE, Database, LedgerError


def _v1(db: Database) -> None:
    """Credits, their events and adjustments."""
    db.execute(
        """CREATE TABLE credits (
            id TEXT PRIMARY KEY,
            customer_id TEXT NOT NULL,
            service TEXT NOT NULL,
            month TEXT NOT NULL,
            status TEXT NOT NULL,
            currency TEXT NOT NULL,
            amount TEXT NOT NULL,
            amount_minor BIGINT NOT NULL,
            approved TEXT,
            approved_minor BIGINT,
            form TEXT NOT NULL,
            report_status TEXT NOT NULL,
            policy TEXT NOT NULL,
            auto_approve INTEGER NOT NULL,
            due_at TEXT,
            due_us BIGINT,
            claim_opens_at TEXT,
            claim_opens_us BIGINT,
            claim_closes_at TEXT,
            claim_closes_us BIGINT,
            claim_reference TEXT,
            claimed_at TEXT,
            claimed_us BIGINT,
            document_id TEXT,
            reason TEXT,
            evidence TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (customer_id, service, month)
        )"""
    )
    db.execute(
        f"""CREATE TABLE events (
            seq {db.identity},
            credit_id TEXT NOT NULL REFERENCES credits (id),
            at TEXT NOT NULL,
            at_us BIGINT NOT NULL,
            what TEXT NOT NULL,
            from_status TEXT,
            to_status TEXT,
            amount TEXT,
            reason TEXT,
            actor TEXT NOT NULL,
            detail TEXT
        )"""
    )
    db.execute("CREATE INDEX events_by_credit ON events (credit_id, seq)")
    db.execute(
        f"""CREATE TABLE adjustments (
            seq {db.identity},
            credit_id TEXT NOT NULL REFERENCES credits (id),
            at TEXT NOT NULL,
            at_us BIGINT NOT NULL,
            delta TEXT NOT NULL,
            delta_minor BIGINT NOT NULL,
            amount_before TEXT NOT NULL,
            amount_after TEXT NOT NULL,
            reason TEXT NOT NULL,
            actor TEXT NOT NULL,
            evidence TEXT NOT NULL
        )"""
    )
    for table in ("events", "adjustments"):
        for statement in db.append_only(table):
            db.execute(statement)


def _v2(db: Database) -> None:
    """What each credit form needs, and disputes against a credit."""
    for column in ("extension_days INTEGER", "grant_detail TEXT", "voucher_expires TEXT"):
        db.execute(f"ALTER TABLE credits ADD COLUMN {column}")
    db.execute(
        f"""CREATE TABLE disputes (
            seq {db.identity},
            credit_id TEXT NOT NULL REFERENCES credits (id),
            opened_at TEXT NOT NULL,
            opened_us BIGINT NOT NULL,
            escalation_at TEXT NOT NULL,
            escalation_us BIGINT NOT NULL,
            reason TEXT NOT NULL,
            resolved_at TEXT,
            resolved_us BIGINT,
            resolution TEXT,
            actor TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX disputes_by_credit ON disputes (credit_id, seq)")


def _v3(db: Database) -> None:
    """Limits over time: what the report computed, what the ledger's caps cut, and the fee
    they are measured against (taken from each credit's evidence)."""
    for column in (
        "computed TEXT",
        "computed_minor BIGINT",
        "cut TEXT NOT NULL DEFAULT '0'",
        "cut_minor BIGINT NOT NULL DEFAULT 0",
        "cut_by TEXT NOT NULL DEFAULT ''",
        "monthly_fee TEXT",
    ):
        db.execute(f"ALTER TABLE credits ADD COLUMN {column}")
    fee = (
        "json_extract(evidence, '$.row.monthly_fee')"
        if db.dialect == SQLITE
        else "(evidence::json -> 'row' ->> 'monthly_fee')"
    )
    db.execute(
        f"UPDATE credits SET computed = amount, computed_minor = amount_minor, monthly_fee = {fee}"
    )


# In order: MIGRATIONS[i] takes a ledger from version i to i + 1.
MIGRATIONS: tuple[Callable[[Database], None], ...] = (_v1, _v2, _v3)
LATEST = len(MIGRATIONS)


def version_of(db: Database) -> int:
    """The ledger's schema version (0: an empty database)."""
    if not db.has_table("schema_version"):
        return 0
    return int(db.value("SELECT max(version) FROM schema_version") or 0)


def migrate(db: Database, *, target: int = LATEST) -> int:
    """Bring the ledger to ``target`` (default the latest), in one transaction; its version."""
    if version_of(db) == target:
        return target
    with db.transaction():
        current = version_of(db)  # again, under the lock: another process may have migrated
        if current > LATEST:
            raise LedgerError(
                f"ledger '{db.name}' has schema version {current}, newer than this slacalc "
                f"knows ({LATEST}): upgrade slacalc to use it"
            )
        if current == 0:
            db.execute(
                "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT "
                "NOT NULL)"
            )
        for version in range(current + 1, target + 1):
            MIGRATIONS[version - 1](db)
            db.execute(
                "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                (version, datetime.now(UTC).isoformat(timespec="seconds")),
            )
    return target


def check_version(db: Database) -> None:
    """Refuse a ledger newer than this slacalc (before anything reads or writes it)."""
    current = version_of(db)
    if current > LATEST:
        raise LedgerError(
            f"ledger '{db.name}' has schema version {current}, newer than this slacalc knows "
            f"({LATEST}): upgrade slacalc to use it"
        )
