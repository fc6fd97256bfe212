"""The one SQL layer both databases go through: SQLite (a file) and PostgreSQL (a URL).

Statements are written once, with ``?`` placeholders and the SQL both dialects share
(``INSERT ... ON CONFLICT``, ``BIGINT``, ``TEXT``); :class:`Database` turns the placeholders
into psycopg's ``%s`` and fills the few words that differ (an identity column). A write is one
transaction that holds the ledger's write lock from its first statement: ``BEGIN IMMEDIATE`` in
SQLite, a transaction-scoped advisory lock in PostgreSQL, so that two posts at once run one
after the other and the second finds what the first wrote. A ledger opened read-only is a
connection that cannot write: SQLite's ``mode=ro`` with ``PRAGMA query_only``, PostgreSQL's
``default_transaction_read_only``; it never makes a file.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from slacalc.errors import SlacalcError, UsageError, printable

SQLITE, POSTGRESQL = "sqlite", "postgresql"
# How long a writer waits for another one to finish (a post of a large month takes seconds).
LOCK_TIMEOUT_S = 120
# The advisory lock every PostgreSQL write takes: any fixed number, the ledger's own.
_PG_LOCK = 0x51AC_1ED6


class LedgerError(SlacalcError):
    """The ledger cannot be opened, read or written (exit 1)."""


def is_url(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://"))


class Database:
    """A connection to the ledger's database, in one dialect."""

    def __init__(self, target: str, *, read_only: bool = False) -> None:
        self.target = target
        self.dialect = POSTGRESQL if is_url(target) else SQLITE
        self.read_only = read_only
        if self.dialect == POSTGRESQL:
            self.conn: Any = _connect_pg(target, read_only=read_only)
        else:
            self.conn = _connect_read_only(target) if read_only else _connect(target)
        self._depth = 0

    @property
    def name(self) -> str:
        """The ledger as a message names it (a URL without its password)."""
        return _hidden(self.target) if self.dialect == POSTGRESQL else printable(self.target)

    # --- words that differ --------------------------------------------------------------------
    @property
    def identity(self) -> str:
        """An integer key the database numbers itself, in insertion order."""
        if self.dialect == SQLITE:
            return "INTEGER PRIMARY KEY AUTOINCREMENT"
        return "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"

    def append_only(self, table: str) -> list[str]:
        """Statements that make ``table`` refuse every UPDATE and DELETE."""
        if self.dialect == SQLITE:
            return [
                f"CREATE TRIGGER {table}_append_only_{what.lower()} BEFORE {what} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} are append-only'); END"
                for what in ("UPDATE", "DELETE")
            ]
        return [
            "CREATE OR REPLACE FUNCTION slacalc_append_only() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN RAISE EXCEPTION '% are append-only', TG_TABLE_NAME; END $$",
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION slacalc_append_only()",
        ]

    # --- statements -----------------------------------------------------------------------------
    def _sql(self, sql: str) -> str:
        if self.dialect == SQLITE:
            return sql
        if "%" in sql:
            raise ValueError("a literal % in a statement")  # psycopg would read it as a marker
        return re.sub(r"\?", "%s", sql)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        try:
            if not params:  # as written: no placeholders to fill (a function's body has '%')
                return self.conn.execute(sql)
            return self.conn.execute(self._sql(sql), tuple(params))
        except Exception as exc:
            raise _translated(exc, self.target) from None

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cursor = self.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def one(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        found = self.rows(sql, params)
        return found[0] if found else None

    def value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def has_table(self, name: str) -> bool:
        if self.dialect == SQLITE:
            sql = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
        else:
            sql = (
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema = current_schema() AND table_name = ?"
            )
        return bool(self.value(sql, (name,)))

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Database]:
        """One transaction holding the ledger's write lock: all of it is written, or nothing
        (an error, an interrupt, a killed process). Nested calls join the outer one."""
        if self.read_only:
            raise LedgerError(f"ledger '{self.name}' is open read-only: nothing can be written")
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        self.execute("BEGIN IMMEDIATE" if self.dialect == SQLITE else "BEGIN")
        self._depth = 1
        try:
            if self.dialect == POSTGRESQL:
                self.execute("SELECT pg_advisory_xact_lock(?)", (_PG_LOCK,))
            yield self
        except BaseException:
            self._depth = 0
            with contextlib.suppress(Exception):
                self.conn.execute("ROLLBACK")
            raise
        self._depth = 0
        self.execute("COMMIT")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()


def _connect(path: str) -> sqlite3.Connection:
    try:
        # isolation_level None: no transaction opened behind our back; ours say BEGIN.
        conn = sqlite3.connect(path, timeout=LOCK_TIMEOUT_S, isolation_level=None)
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = FULL")
        return conn
    except sqlite3.Error as exc:
        raise LedgerError(f"ledger '{printable(path)}': cannot open: {exc}") from None


def _connect_read_only(path: str) -> sqlite3.Connection:
    """An existing ledger file, opened so that nothing can write it (no journal is made)."""
    if path in ("", ":memory:"):
        raise UsageError(
            f"--ledger '{printable(path)}': a ledger opened read-only is a file or a "
            "postgresql:// URL (a ledger in memory holds nothing)"
        )
    file = Path(path)
    if not file.is_file():
        why = "no such file" if not file.exists() else "not a file"
        raise LedgerError(
            f"ledger '{printable(path)}': {why} (a ledger opened read-only is never made: "
            "post to it first with slacalc ledger post)"
        )
    try:
        conn = sqlite3.connect(
            f"{file.resolve().as_uri()}?mode=ro",
            uri=True,
            timeout=LOCK_TIMEOUT_S,
            isolation_level=None,
        )
        conn.execute("PRAGMA query_only = ON")
        return conn
    except sqlite3.Error as exc:
        raise LedgerError(f"ledger '{printable(path)}': cannot open: {exc}") from None


def _connect_pg(url: str, *, read_only: bool = False) -> Any:
    try:
        import psycopg
    except ImportError:
        raise UsageError(
            f"--ledger '{_hidden(url)}': PostgreSQL needs psycopg: pip install 'slacalc[postgres]'"
        ) from None
    try:
        conn = psycopg.connect(url, autocommit=True)
    except psycopg.Error as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LedgerError(f"ledger '{_hidden(url)}': cannot connect: {message}") from None
    conn.execute(f"SET lock_timeout = '{LOCK_TIMEOUT_S}s'")
    if read_only:
        conn.execute("SET default_transaction_read_only = on")
    return conn


def _hidden(url: str) -> str:
    """A URL as a message shows it: its password replaced."""
    return printable(re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url))


def _translated(exc: Exception, target: str) -> Exception:
    """A database's error as the ledger's, naming the ledger (never its password)."""
    if isinstance(exc, SlacalcError):
        return exc
    name = type(exc).__module__.split(".")[0]
    if name not in ("sqlite3", "psycopg"):
        return exc
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    where = _hidden(target) if is_url(target) else printable(target)
    return LedgerError(f"ledger '{where}': {text}")
