"""The ledger: credits on a real database, every change one transaction and one event.

:class:`Ledger` opens (and migrates) a SQLite file or a PostgreSQL URL, posts what a report
found (:meth:`Ledger.post`), moves credits through their lifecycle, expires unclaimed ones,
and answers what is owed and what is due. Every change is one transaction that writes the
credit and appends its event (when, what, from and to which state, why, by whom); events and
adjustments are append-only (the database refuses to change them).
"""

from __future__ import annotations

import difflib
import heapq
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from slacalc.dates.instants import format_instant, from_us, to_us
from slacalc.errors import UsageError, shown
from slacalc.ledger import credits as cr
from slacalc.ledger.limits import Limited, apply_limits
from slacalc.ledger.proposals import Post, Proposal, fingerprint
from slacalc.ledger.schema import LATEST, check_version, migrate, version_of
from slacalc.ledger.sql import Database, LedgerError
from slacalc.terms import money
from slacalc.terms.deadlines import ESCALATION_DAYS, escalation_at, level1_due

DEFAULT_LEDGER = cr.DEFAULT_LEDGER
US_PER_DAY = 86_400 * 1_000_000
# The events that record a change of a credit (its state, amount or adjustments): written
# by the change itself, never as a note (Ledger.note).
LIFECYCLE_EVENTS = frozenset(
    (
        "posted",
        "updated",
        "adjusted",
        "noted",
        "claimed",
        "approved",
        "denied",
        "issued",
        "applied",
        "expired",
        "disputed",
        "dispute_resolved",
    )
)


def default_actor() -> str:
    """Who acts when ``--actor`` is not given: the login name, else ``unknown``."""
    return os.environ.get("USER") or os.environ.get("LOGNAME") or "unknown"


def _money(value: Decimal, currency: str) -> tuple[str, int]:
    """Money as it is stored: exact decimal text with the currency's decimals, and minor units."""
    places = money.minor_unit(currency)
    units = int(value.scaleb(places))
    return f"{money.from_minor(units, places):f}", units


def _dec(text: str | None) -> Decimal:
    return Decimal(text) if text not in (None, "") else Decimal(0)


def _check_readable(db: Database) -> None:
    """A ledger opened read-only is read as it is: one of another schema version is refused
    (a newer one as every command refuses it; an older one is not migrated)."""
    check_version(db)
    version = version_of(db)
    if version == 0:
        raise LedgerError(f"ledger '{db.name}': not a slacalc ledger (no schema_version)")
    if version < LATEST:
        raise LedgerError(
            f"ledger '{db.name}' has schema version {version}, older than this slacalc's "
            f"({LATEST}): it is opened read-only and not migrated; migrate it first with any "
            f"ledger command (slacalc ledger list --ledger {db.name})"
        )


class Ledger:
    """A ledger of credits; use it as a context manager (or :meth:`close` it)."""

    def __init__(
        self,
        target: str = DEFAULT_LEDGER,
        *,
        actor: str | None = None,
        tz: Any = None,
        read_only: bool = False,
    ):
        """Open the ledger at ``target`` (a SQLite file or a ``postgresql://`` URL), migrated
        to the latest schema. ``read_only``: a ledger that exists, at the latest schema, opened
        so that nothing can write it (it is never made, migrated or expired: a read method
        works, a change is a LedgerError)."""
        self.db = Database(target, read_only=read_only)
        try:
            if read_only:
                _check_readable(self.db)
            else:
                check_version(self.db)
                migrate(self.db)
        except BaseException:
            self.db.close()
            raise
        self.read_only = read_only
        self.actor = actor or default_actor()
        self.tz = tz or ZoneInfo("Asia/Shanghai")

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    # --- the pieces of every change ---------------------------------------------------------------
    def _now(self) -> tuple[int, str]:
        """The wall clock, when a change is recorded (events are ordered by their number)."""
        us = to_us(datetime.now(UTC))
        return us, format_instant(us - us % 1_000_000, self.tz)

    def _text(self, us: int) -> str:
        return format_instant(us, self.tz)

    def _event(
        self,
        credit_id: str,
        what: str,
        before: str | None,
        after: str | None,
        *,
        amount: str | None = None,
        reason: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        at_us, at = self._now()
        self.db.execute(
            "INSERT INTO events (credit_id, at, at_us, what, from_status, to_status, amount, "
            "reason, actor, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                credit_id,
                at,
                at_us,
                what,
                before,
                after,
                amount,
                reason,
                self.actor,
                None if detail is None else json.dumps(detail, ensure_ascii=False),
            ),
        )

    def _set(self, credit_id: str, **values: Any) -> None:
        values["updated_at"] = self._now()[1]
        names = ", ".join(f"{k} = ?" for k in values)
        self.db.execute(f"UPDATE credits SET {names} WHERE id = ?", (*values.values(), credit_id))

    def transaction(self) -> Any:
        """One transaction holding the ledger's write lock (a context manager): the changes
        made inside it are written together or not at all; nested ones join it."""
        return self.db.transaction()

    def note(
        self,
        credit_id: str,
        what: str,
        *,
        reason: str,
        amount: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Append an event to a credit that leaves it as it is (``exported``: a billing
        export carried it; ``documented``: an adjustment's document came back), in the
        current transaction or one of its own. A lifecycle event is not a note.

        >>> with Ledger("ledger.db") as ledger, ledger.transaction():  # doctest: +SKIP
        ...     ledger.note("acme:storage:2025-05", "exported", reason="exported to stripe")
        """
        if what in LIFECYCLE_EVENTS:
            raise ValueError(f"'{what}' is a lifecycle event: make the change, not a note")
        with self.db.transaction():
            status = self.credit(credit_id)["status"]
            self._event(
                credit_id, what, status, status, amount=amount, reason=reason, detail=detail
            )

    @contextmanager
    def _change(self, as_of: int) -> Iterator[None]:
        """One transaction: first the expiries due at ``as_of``, then the change."""
        with self.db.transaction():
            self._expire(as_of)
            yield

    # --- reading --------------------------------------------------------------------------------
    def credit(self, credit_id: str) -> dict[str, Any]:
        """One credit's row; an unknown id is a UsageError with the closest ids."""
        row = self.db.one("SELECT * FROM credits WHERE id = ?", (credit_id,))
        if row is None:
            ids = [r["id"] for r in self.db.rows("SELECT id FROM credits")]
            close = difflib.get_close_matches(credit_id, ids, n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else " (list them: slacalc ledger list)"
            raise UsageError(f"no credit '{shown(credit_id)}' in the ledger{hint}")
        return row

    def _adjusted(self, credit_id: str) -> Decimal:
        rows = self.db.rows("SELECT delta FROM adjustments WHERE credit_id = ?", (credit_id,))
        return sum((Decimal(r["delta"]) for r in rows), Decimal(0))

    def _counted(self, row: dict[str, Any]) -> Decimal:
        """What a credit counts against a cap: nothing once denied or expired; its approved
        amount once approved (with its adjustments once paid); else what is owed."""
        status = row["status"]
        if status in (cr.DENIED, cr.EXPIRED):
            return Decimal(0)
        if status in cr.PAID_STATES:
            base = _dec(row["approved"] if row["approved"] is not None else row["amount"])
            return base + self._adjusted(row["id"])
        if status == cr.APPROVED and row["approved"] is not None:
            return _dec(row["approved"])
        return _dec(row["amount"])

    # --- expiry ---------------------------------------------------------------------------------
    def expire(self, as_of: int) -> list[str]:
        """Record the expiry of every credit whose claim window closed, unclaimed, by
        ``as_of``; the ids expired."""
        if not self._expiring(as_of):
            return []
        with self.db.transaction():
            return self._expire(as_of)

    def _expiring(self, as_of: int) -> list[dict[str, Any]]:
        return self.db.rows(
            "SELECT id, claim_closes_us FROM credits WHERE status = ? AND claim_closes_us IS NOT "
            "NULL AND claim_closes_us <= ? ORDER BY id",
            (cr.DETECTED, as_of),
        )

    def _expire(self, as_of: int) -> list[str]:
        done = []
        for row in self._expiring(as_of):
            closed = self._text(row["claim_closes_us"])
            self._set(row["id"], status=cr.EXPIRED)
            self._event(
                row["id"],
                "expired",
                cr.DETECTED,
                cr.EXPIRED,
                reason=f"claim window closed at {closed}, unclaimed",
            )
            done.append(row["id"])
        return done

    # --- posting --------------------------------------------------------------------------------
    def post(self, post: Post, *, as_of: int) -> list[dict[str, Any]]:
        """Record what a report found, in one transaction: a new credit per breached key and
        month, an update of one not yet issued, an adjustment of one issued or applied; the
        same inputs again change nothing. A credit whose ledger cap counted one that changed
        is re-capped in the same transaction (:meth:`_recap`). What happened to each, in
        order (month, customer, service)."""
        ordered = sorted(post.proposals, key=lambda p: (p.month, p.customer_id, p.service))
        fees: dict[tuple[str, str, str], dict[str, str]] = {}
        for p in ordered:
            fees.setdefault((p.customer_id, p.month, p.currency), {})[p.service] = (
                f"{p.monthly_fee:f}"
            )
        # One sweep in order: the post's rows, and the credits whose caps count one that
        # changed (they come later: a later month of the key, a later service of the month).
        queue: list[tuple[tuple[str, str, str], int, Proposal | None]] = [
            ((p.month, p.customer_id, p.service), i, p) for i, p in enumerate(ordered)
        ]
        heapq.heapify(queue)
        queued = {key for key, _, _ in queue}
        changed: list[_Key] = []
        out = []
        with self.db.transaction():
            self._expire(as_of)
            while queue:
                key, _, p = heapq.heappop(queue)
                done = (
                    self._recap(key, changed)
                    if p is None
                    else self._post_one(p, post, fees, changed)
                )
                if done is None:
                    continue
                record, moved = done
                out.append(record)
                if moved is None:
                    continue
                changed.append(moved)
                for later in self._dependents(moved):
                    if later not in queued:
                        queued.add(later)
                        heapq.heappush(queue, (later, len(queued) + len(ordered), None))
        return out

    def _post_one(
        self,
        p: Proposal,
        post: Post,
        fees: dict[tuple[str, str, str], dict[str, str]],
        changed: list[_Key],
    ) -> tuple[dict[str, Any], _Key | None] | None:
        """One proposal recorded: its record, and its key when what it counts changed."""
        existing = self.db.one(
            "SELECT * FROM credits WHERE customer_id = ? AND service = ? AND month = ?",
            (p.customer_id, p.service, p.month),
        )
        if not p.breached and existing is None:
            return None
        block = _limits_block(p, fees[(p.customer_id, p.month, p.currency)])
        limited, block["month_fees"] = self._capped(p.customer_id, p.service, p.month, block)
        print_ = fingerprint(p, limited.amount, limited.cut_by)
        evidence = {
            "incidents": p.incidents,
            "row": p.row,
            "inputs": post.inputs,
            "policy": p.policy_name,
            "source": post.source,
            "limits": block,
        }
        if existing is None:
            action = self._insert(p, limited, print_, evidence)
            cid = action["credit_id"]
            before: tuple[Decimal, str | None] = (Decimal(0), None)
        elif existing["fingerprint"] == print_:
            return post_record(existing, "unchanged", self._adjusted(existing["id"])), None
        else:
            cid = existing["id"]
            before = (self._counted(existing), existing["monthly_fee"])
            causes = _causes((p.customer_id, p.service, p.month, p.currency), block, changed)
            action = self._repost(existing, p, limited, print_, evidence, causes)
        row = self.db.one("SELECT * FROM credits WHERE id = ?", (cid,))
        assert row is not None
        moved = (self._counted(row), row["monthly_fee"]) != before
        key = (p.customer_id, p.service, p.month, p.currency)
        return post_record(row, action["action"], self._adjusted(cid)), key if moved else None

    def _capped(
        self,
        customer_id: str,
        service: str,
        month: str,
        block: dict[str, Any],
        *,
        fresh: bool = False,
    ) -> tuple[Limited, dict[str, str]]:
        """The ledger's caps for a credit (its ``limits`` block: what the report computed, its
        fee and caps, the fees of the customer's services that month), counting the other
        credits in the ledger; and the fees the customer cap was measured against. ``fresh``:
        the ledger's fees of the other services win over the block's (a re-cap), else the
        block's (a post's own rows)."""
        currency = block["currency"]
        annual, customer = _pct(block["annual_cap_pct"]), _pct(block["customer_cap_pct"])
        year_others = Decimal(0)
        if annual is not None:
            for row in self.db.rows(
                "SELECT * FROM credits WHERE customer_id = ? AND service = ? AND month >= ? AND "
                "month < ? AND currency = ?",
                (customer_id, service, _month_shift(month, -11), month, currency),
            ):
                year_others += self._counted(row)
        month_others = Decimal(0)
        fees = dict(block["month_fees"])
        if customer is not None:
            for row in self.db.rows(
                "SELECT * FROM credits WHERE customer_id = ? AND month = ? AND currency = ? AND "
                "service <> ?",
                (customer_id, month, currency, service),
            ):
                month_others += self._counted(row)
                if fresh or row["service"] not in fees:
                    fees[row["service"]] = row["monthly_fee"] or "0"
        fees[service] = block["monthly_fee"]
        limited = apply_limits(
            Decimal(block["computed"]),
            places=money.minor_unit(currency),
            monthly_fee=Decimal(block["monthly_fee"]),
            annual_pct=annual,
            year_others=year_others,
            customer_pct=customer,
            month_fees=sum((Decimal(v) for v in fees.values()), Decimal(0)),
            month_others=month_others,
            capped_by_report=block["capped"],
        )
        return limited, dict(sorted(fees.items()))

    # --- re-capping -------------------------------------------------------------------------------
    def _dependents(self, moved: _Key) -> list[tuple[str, str, str]]:
        """The credits whose caps may count ``moved`` and come after it (month, customer,
        service): the key's 11 months after it (annual cap), the customer's later services of
        its month (customer cap)."""
        customer_id, service, month, currency = moved
        rows = self.db.rows(
            "SELECT month, customer_id, service FROM credits WHERE customer_id = ? AND "
            "currency = ? AND ((service = ? AND month > ? AND month <= ?) OR (month = ? AND "
            "service > ?))",
            (customer_id, currency, service, month, _month_shift(month, 11), month, service),
        )
        return [(r["month"], r["customer_id"], r["service"]) for r in rows]

    def _latest_evidence(self, row: dict[str, Any]) -> dict[str, Any]:
        """What the credit was last found with: its last adjustment's evidence once it has
        one (an issued credit keeps the evidence it was issued with), else its own."""
        last = self.db.one(
            "SELECT evidence FROM adjustments WHERE credit_id = ? ORDER BY seq DESC LIMIT 1",
            (row["id"],),
        )
        return json.loads(last["evidence"] if last is not None else row["evidence"])

    def _recap(
        self, key: tuple[str, str, str], changed: list[_Key]
    ) -> tuple[dict[str, Any], _Key | None] | None:
        """Re-cap a credit the post did not carry, after a credit its caps count changed: an
        open one is updated, an issued or applied one adjusted; None when nothing moves."""
        month, customer_id, service = key
        row = self.db.one(
            "SELECT * FROM credits WHERE customer_id = ? AND service = ? AND month = ?",
            (customer_id, service, month),
        )
        if row is None or row["status"] not in (*cr.OPEN_STATES, *cr.PAID_STATES):
            return None  # denied or expired: it counts nothing and owes nothing
        evidence = self._latest_evidence(row)
        block = evidence.get("limits")
        if not block:
            return None  # posted before the ledger kept its caps: it keeps its amount
        currency = row["currency"]
        causes = _causes((customer_id, service, month, currency), block, changed)
        if not causes:
            return None
        limited, fees = self._capped(customer_id, service, month, block, fresh=True)
        evidence = {**evidence, "limits": {**block, "month_fees": fees}}
        print_ = fingerprint(_Found.of(evidence), limited.amount, limited.cut_by)
        cid, status = row["id"], row["status"]
        counted = self._counted(row)
        why = f"re-capped: {', '.join(causes)} changed"
        cut, cut_minor = _money(limited.cut, currency)
        cuts = {"cut": cut, "cut_minor": cut_minor, "cut_by": " ".join(limited.cut_by)}
        if status in cr.OPEN_STATES:
            if limited.amount == _dec(row["amount"]) and cuts["cut_by"] == row["cut_by"]:
                return None
            amount, amount_minor = _money(limited.amount, currency)
            cols = {
                "amount": amount,
                "amount_minor": amount_minor,
                **cuts,
                "evidence": json.dumps(evidence, ensure_ascii=False, sort_keys=True),
                "fingerprint": print_,
            }
            _follow_approval(row, cols)
            if amount != row["amount"]:
                why += f"; amount {row['amount']} -> {amount} {currency}"
            if cuts["cut_by"] != row["cut_by"] and cuts["cut_by"]:
                why += f"; cut by {cuts['cut_by']}"
            self._set(cid, **cols)
            self._event(cid, "updated", status, status, amount=amount, reason=why)
            action = "updated"
        else:
            # what was issued stays (its amount and evidence); the cut shows the caps' new cut
            before = _dec(row["amount"]) + self._adjusted(cid)
            if limited.amount == before:
                return None
            self._set(cid, fingerprint=print_, **cuts)
            self._adjust(row, before, limited.amount, f"{why} after it was {status}", evidence)
            action = "adjusted"
        after = self.db.one("SELECT * FROM credits WHERE id = ?", (cid,))
        assert after is not None
        moved = self._counted(after) != counted
        done = (customer_id, service, month, currency)
        return post_record(after, action, self._adjusted(cid)), done if moved else None

    def _columns(self, p: Proposal, limited: Any, print_: str, evidence: dict) -> dict[str, Any]:
        amount, amount_minor = _money(limited.amount, p.currency)
        computed, computed_minor = _money(p.compensation if p.breached else Decimal(0), p.currency)
        cut, cut_minor = _money(limited.cut, p.currency)
        return {
            "currency": p.currency,
            "amount": amount,
            "amount_minor": amount_minor,
            "computed": computed,
            "computed_minor": computed_minor,
            "cut": cut,
            "cut_minor": cut_minor,
            "cut_by": " ".join(limited.cut_by),
            "monthly_fee": f"{p.monthly_fee:f}",
            "report_status": p.report_status,
            "policy": p.policy_name,
            "auto_approve": int(p.auto_approve),
            "due_at": p.due_at or None,
            "due_us": p.due_us,
            "claim_opens_at": p.claim_opens_at or None,
            "claim_opens_us": p.claim_opens_us,
            "claim_closes_at": p.claim_closes_at or None,
            "claim_closes_us": p.claim_closes_us,
            "evidence": json.dumps(evidence, ensure_ascii=False, sort_keys=True),
            "fingerprint": print_,
        }

    def _insert(self, p: Proposal, limited: Any, print_: str, evidence: dict) -> dict[str, Any]:
        cid = cr.credit_id(p.customer_id, p.service, p.month)
        now = self._now()[1]
        values = {
            "id": cid,
            "customer_id": p.customer_id,
            "service": p.service,
            "month": p.month,
            "status": cr.DETECTED,
            "form": p.credit_form if p.credit_form in cr.FORMS else cr.CASH,
            "created_at": now,
            "updated_at": now,
            **self._columns(p, limited, print_, evidence),
        }
        names = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        # ON CONFLICT: the unique key (customer, service, month) holds even against a writer
        # that does not take the ledger's lock: downtime is never credited twice.
        written = self.db.execute(
            f"INSERT INTO credits ({names}) VALUES ({marks}) "
            "ON CONFLICT (customer_id, service, month) DO NOTHING",
            tuple(values.values()),
        )
        if written.rowcount == 0:  # another writer's credit: never a second one
            return {"credit_id": cid, "action": "unchanged"}
        self._event(
            cid,
            "posted",
            None,
            cr.DETECTED,
            amount=values["amount"],
            reason=_posted_reason(p, limited),
        )
        if p.auto_approve:
            self._auto_approve(cid, p, values["amount"], values["amount_minor"])
        return {"credit_id": cid, "action": "posted"}

    def _auto_approve(self, cid: str, p: Proposal, amount: str, minor: int) -> None:
        self._set(cid, status=cr.APPROVED, approved=amount, approved_minor=minor)
        self._event(
            cid,
            "approved",
            cr.DETECTED,
            cr.APPROVED,
            amount=amount,
            reason=f"automatic: policy '{p.policy_name}' has no claim window (a level-1 breach "
            "triggers compensation by itself)",
        )

    def _repost(
        self,
        row: dict[str, Any],
        p: Proposal,
        limited: Any,
        print_: str,
        evidence: dict,
        causes: list[str],
    ) -> dict[str, Any]:
        cid, status = row["id"], row["status"]
        cols = self._columns(p, limited, print_, evidence)
        why = _changes(row, cols, evidence)
        if causes and (cols["cut"] != row["cut"] or cols["cut_by"] != row["cut_by"]):
            why = f"re-capped: {', '.join(causes)} changed; {why}"
        if status in cr.OPEN_STATES:
            _follow_approval(row, cols)
            self._set(cid, **cols)
            self._event(cid, "updated", status, status, amount=cols["amount"], reason=why)
            if status == cr.DETECTED and p.auto_approve:
                self._auto_approve(cid, p, cols["amount"], cols["amount_minor"])
            return {"credit_id": cid, "action": "updated"}
        if status in cr.PAID_STATES:
            before = _dec(row["amount"]) + self._adjusted(cid)
            after = limited.amount
            self._set(cid, fingerprint=print_)
            if after == before:
                self._event(cid, "noted", status, status, reason=f"re-posted, same amount: {why}")
                return {"credit_id": cid, "action": "noted"}
            self._adjust(row, before, after, f"re-posted after it was {status}: {why}", evidence)
            return {"credit_id": cid, "action": "adjusted"}
        # denied or expired: nothing is owed; the new finding is noted, the state kept
        self._set(cid, fingerprint=print_)
        self._event(cid, "noted", status, status, amount=cols["amount"], reason=f"re-posted: {why}")
        return {"credit_id": cid, "action": "noted"}

    def _adjust(
        self,
        row: dict[str, Any],
        before: Decimal,
        after: Decimal,
        reason: str,
        evidence: dict[str, Any],
    ) -> None:
        """An issued or applied credit found to owe ``after`` instead of ``before``: the
        difference becomes an adjustment with its reason and the new evidence, and an
        ``adjusted`` event; what was issued stays."""
        cid, currency = row["id"], row["currency"]
        delta, delta_minor = _money(after - before, currency)
        at_us, at = self._now()
        self.db.execute(
            "INSERT INTO adjustments (credit_id, at, at_us, delta, delta_minor, amount_before, "
            "amount_after, reason, actor, evidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                cid,
                at,
                at_us,
                delta,
                delta_minor,
                _money(before, currency)[0],
                _money(after, currency)[0],
                reason,
                self.actor,
                json.dumps(evidence, ensure_ascii=False, sort_keys=True),
            ),
        )
        self._event(cid, "adjusted", row["status"], row["status"], amount=delta, reason=reason)

    # --- the lifecycle --------------------------------------------------------------------------
    def _move(self, credit_id: str, command: str, as_of: int) -> tuple[dict[str, Any], str]:
        row = self.credit(credit_id)
        return row, cr.check_move(credit_id, row["status"], command)

    def claim(self, credit_id: str, *, reference: str, as_of: int) -> dict[str, Any]:
        """The customer claims the credit at ``as_of``, within its claim window."""
        with self._change(as_of):
            row, target = self._move(credit_id, "claim", as_of)
            opens = row["claim_opens_us"]
            if opens is not None and as_of < opens:
                raise cr.IllegalTransition(
                    f"credit '{shown(credit_id)}' cannot be claimed yet: its claim window opens "
                    f"at {row['claim_opens_at']} (--as-of is {self._text(as_of)})"
                )
            self._set(
                credit_id,
                status=target,
                claim_reference=reference,
                claimed_at=self._text(as_of),
                claimed_us=as_of,
            )
            self._event(credit_id, "claimed", row["status"], target, reason=f"claim {reference}")
        return self.credit(credit_id)

    def approve(
        self,
        credit_id: str,
        *,
        as_of: int,
        amount: str | None = None,
        reason: str | None = None,
        **form: Any,
    ) -> dict[str, Any]:
        """Approve a claimed credit, in full or for a part (``amount``)."""
        with self._change(as_of):
            row, target = self._move(credit_id, "approve", as_of)
            owed = _dec(row["amount"])
            value = owed if amount is None else self._amount(amount, row)
            text, minor = _money(value, row["currency"])
            part = "" if value == owed else f" (partial: {text} of {row['amount']})"
            self._set(
                credit_id,
                status=target,
                approved=text,
                approved_minor=minor,
                **self._form(row, form),
            )
            self._event(
                credit_id,
                "approved",
                row["status"],
                target,
                amount=text,
                reason=(reason or "approved") + part,
            )
        return self.credit(credit_id)

    def _amount(self, text: str, row: dict[str, Any]) -> Decimal:
        from slacalc.reading.contracts import parse_fee

        try:
            value = parse_fee(text, row["currency"])
        except ValueError as exc:
            raise UsageError(f"--amount '{shown(text)}': {exc}") from None
        if value <= 0 or value > _dec(row["amount"]):
            raise UsageError(
                f"--amount '{shown(text)}': must be above 0 and at most the credit's "
                f"{row['amount']} {row['currency']}"
            )
        return value

    def _form(self, row: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
        """The form options given (a form and what it needs), checked."""
        out: dict[str, Any] = {}
        if given.get("form"):
            out["form"] = cr.parse_form(given["form"])
        days = given.get("extension_days")
        if days is not None:
            if days < 1:
                raise UsageError(f"--extension-days {days}: at least 1")
            out["extension_days"] = days
        for key in ("grant_detail", "voucher_expires"):
            if given.get(key):
                out[key] = given[key]
        form = out.get("form", row["form"])
        if "extension_days" in out and form != cr.EXTENSION:
            raise UsageError("--extension-days goes with the form service_extension (--form)")
        if "grant_detail" in out and form != cr.GRANT:
            raise UsageError("--grant goes with the form resource_grant (--form)")
        if "voucher_expires" in out and form != cr.VOUCHER:
            raise UsageError("--voucher-expires goes with the form voucher (--form)")
        return out

    def deny(self, credit_id: str, *, reason: str, as_of: int) -> dict[str, Any]:
        with self._change(as_of):
            row, target = self._move(credit_id, "deny", as_of)
            self._set(credit_id, status=target, reason=reason)
            self._event(credit_id, "denied", row["status"], target, reason=reason)
        return self.credit(credit_id)

    def issue(self, credit_id: str, *, document: str, as_of: int, **form: Any) -> dict[str, Any]:
        """The billing system issued the credit as ``document``."""
        with self._change(as_of):
            row, target = self._move(credit_id, "issue", as_of)
            if row["report_status"] != "final":
                raise cr.IllegalTransition(
                    f"credit '{shown(credit_id)}' is for a provisional month ({row['month']} was "
                    "not over when it was posted): post the month again once it has ended, then "
                    "issue it"
                )
            changes = self._form(row, form)
            need = cr.missing_for(changes.get("form", row["form"]), {**row, **changes})
            if need:
                raise UsageError(
                    f"credit '{shown(credit_id)}' is paid as {changes.get('form', row['form'])}: "
                    f"give {need}"
                )
            self._set(credit_id, status=target, document_id=document, **changes)
            self._event(
                credit_id,
                "issued",
                row["status"],
                target,
                amount=row["approved"],
                reason=f"document {document}",
            )
        return self.credit(credit_id)

    def apply(self, credit_id: str, *, as_of: int, reason: str | None = None) -> dict[str, Any]:
        with self._change(as_of):
            row, target = self._move(credit_id, "apply", as_of)
            self._set(credit_id, status=target)
            self._event(credit_id, "applied", row["status"], target, reason=reason)
        return self.credit(credit_id)

    def dispute(self, credit_id: str, *, reason: str, opened: int, as_of: int) -> dict[str, Any]:
        """A dispute against a credit, opened at ``opened``: it escalates 15 days later."""
        with self._change(as_of):
            row = self.credit(credit_id)
            escalates = to_us(escalation_at(from_us(opened, self.tz), self.tz))
            self.db.execute(
                "INSERT INTO disputes (credit_id, opened_at, opened_us, escalation_at, "
                "escalation_us, reason, actor) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    credit_id,
                    self._text(opened),
                    opened,
                    self._text(escalates),
                    escalates,
                    reason,
                    self.actor,
                ),
            )
            self._event(
                credit_id,
                "disputed",
                row["status"],
                row["status"],
                reason=reason,
                detail={"escalation_at": self._text(escalates)},
            )
        return self.credit(credit_id)

    def resolve(self, credit_id: str, *, resolution: str, as_of: int) -> dict[str, Any]:
        """Resolve the credit's open dispute (the oldest one) at ``as_of``."""
        with self._change(as_of):
            row = self.credit(credit_id)
            found = self.db.one(
                "SELECT seq FROM disputes WHERE credit_id = ? AND resolved_us IS NULL ORDER BY seq",
                (credit_id,),
            )
            if found is None:
                raise UsageError(f"credit '{shown(credit_id)}' has no open dispute to resolve")
            self.db.execute(
                "UPDATE disputes SET resolved_at = ?, resolved_us = ?, resolution = ? "
                "WHERE seq = ?",
                (self._text(as_of), as_of, resolution, found["seq"]),
            )
            self._event(
                credit_id, "dispute_resolved", row["status"], row["status"], reason=resolution
            )
        return self.credit(credit_id)

    # --- questions ------------------------------------------------------------------------------
    def credits(
        self,
        *,
        status: list[str] | None = None,
        customer: list[str] | None = None,
        month: list[str] | None = None,
    ) -> list[dict[str, Any]]:
        """The credits, by month, customer and service; each filter a list of values."""
        where, params = [], []
        for column, values in (("status", status), ("customer_id", customer), ("month", month)):
            if values:
                where.append(f"{column} IN ({', '.join('?' for _ in values)})")
                params += values
        sql = "SELECT * FROM credits"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self.db.rows(sql + " ORDER BY month, customer_id, service", params)
        return [credit_record(r, self._adjusted(r["id"])) for r in rows]

    def history(self, credit_id: str) -> dict[str, Any]:
        """One credit with its events, adjustments, disputes and evidence."""
        row = self.credit(credit_id)
        out = credit_record(row, self._adjusted(credit_id))
        out["evidence"] = json.loads(row["evidence"])
        events = self.db.rows(
            "SELECT seq, at, what, from_status, to_status, amount, reason, actor FROM events "
            "WHERE credit_id = ? ORDER BY seq",
            (credit_id,),
        )
        out["events"] = events
        out["adjustments"] = self.db.rows(
            "SELECT seq, at, delta, amount_before, amount_after, reason, actor FROM adjustments "
            "WHERE credit_id = ? ORDER BY seq",
            (credit_id,),
        )
        out["disputes"] = self.db.rows(
            "SELECT seq, opened_at, escalation_at, reason, resolved_at, resolution, actor "
            "FROM disputes WHERE credit_id = ? ORDER BY seq",
            (credit_id,),
        )
        return out

    def due(self, *, as_of: int, within_days: int) -> list[dict[str, Any]]:
        """What needs doing at ``as_of``: credits owed and past their 72-hour due time, claim
        windows closing within ``within_days`` days, disputes to escalate (unresolved 15 days
        after they opened, or within ``within_days`` days of it)."""
        horizon = as_of + within_days * US_PER_DAY
        out = []
        for row in self.db.rows(
            "SELECT * FROM credits WHERE status IN (?, ?) ORDER BY month, customer_id, service",
            (cr.CLAIMED, cr.APPROVED),
        ):
            if row["auto_approve"]:
                due_us = row["due_us"]
                basis = "72 hours after the month ended"
            elif row["claimed_us"] is not None:
                due_us = level1_due(row["claimed_us"])
                basis = "72 hours after the claim"
            else:
                continue
            if due_us is not None and due_us <= as_of:
                out.append(_due(row, "overdue", self._text(due_us), f"not issued: due {basis}"))
        for row in self.db.rows(
            "SELECT * FROM credits WHERE status = ? AND claim_closes_us IS NOT NULL AND "
            "claim_closes_us > ? AND claim_closes_us <= ? ORDER BY claim_closes_us, id",
            (cr.DETECTED, as_of, horizon),
        ):
            out.append(
                _due(row, "claim_closing", row["claim_closes_at"], "claim window closes, unclaimed")
            )
        for found in self.db.rows(
            "SELECT d.*, c.customer_id, c.service, c.month, c.status, c.amount, c.currency, "
            "c.id AS credit_id FROM disputes d JOIN credits c ON c.id = d.credit_id "
            "WHERE d.resolved_us IS NULL AND d.escalation_us <= ? ORDER BY d.escalation_us, d.seq",
            (horizon,),
        ):
            row = {**found, "id": found["credit_id"]}
            state = "escalated" if found["escalation_us"] <= as_of else "escalates"
            out.append(
                _due(
                    row,
                    "dispute_escalation",
                    found["escalation_at"],
                    f"dispute {state}: unresolved {ESCALATION_DAYS} days after "
                    f"{found['opened_at']} ({found['reason']})",
                )
            )
        return out


# --- limits over time ---------------------------------------------------------------------------

# A credit's key as re-capping follows it: customer, service, month, currency.
_Key = tuple[str, str, str, str]


def _limits_block(p: Proposal, month_fees: dict[str, str]) -> dict[str, Any]:
    """What the ledger's caps of ``p`` are measured with, kept in its evidence (``limits``) so
    that the credit can be re-capped later without its report: the report's compensation,
    whether the report's monthly cap cut it, its fee and currency, the policy's caps, and the
    fees of the customer's services that month."""
    pol = p.policy
    annual = pol.annual_cap_pct if pol is not None else None
    customer = pol.customer_cap_pct if pol is not None else None
    return {
        "computed": f"{p.compensation if p.breached else Decimal(0):f}",
        "capped": bool(p.capped),
        "currency": p.currency,
        "monthly_fee": f"{p.monthly_fee:f}",
        "annual_cap_pct": None if annual is None else f"{annual:f}",
        "customer_cap_pct": None if customer is None else f"{customer:f}",
        "month_fees": dict(month_fees),
    }


def _pct(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _month_shift(month: str, months: int) -> str:
    """``YYYY-MM`` moved by ``months`` (negative: back)."""
    index = int(month[:4]) * 12 + int(month[5:7]) - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _causes(key: _Key, block: dict[str, Any], changed: list[_Key]) -> list[str]:
    """The credits changed by this post that the caps of ``key`` count, as a re-cap names
    them: a month of the key (annual cap), a service of the month (customer cap)."""
    customer_id, service, month, currency = key
    since = _month_shift(month, -11)
    out: list[str] = []
    for c, s, m, cur in changed:
        if c != customer_id or cur != currency:
            continue
        if block.get("annual_cap_pct") is not None and s == service and since <= m < month:
            found = m
        elif block.get("customer_cap_pct") is not None and m == month and s != service:
            found = f"{m} {s}"
        else:
            continue
        if found not in out:
            out.append(found)
    return out


def _follow_approval(row: dict[str, Any], cols: dict[str, Any]) -> None:
    """A new amount for an approved credit: a full approval follows it; a partial one is
    kept, lowered to the new amount when it is above it."""
    approved = row["approved_minor"]
    if approved is None:
        return
    if approved == row["amount_minor"] or approved > cols["amount_minor"]:
        cols["approved"], cols["approved_minor"] = cols["amount"], cols["amount_minor"]


@dataclass(frozen=True)
class _Found:
    """What a credit's fingerprint hashes of what was found (a proposal's ``row``,
    ``incidents`` and ``policy_name``), read back from its evidence."""

    row: dict[str, Any]
    incidents: list[str] | None
    policy_name: str

    @classmethod
    def of(cls, evidence: dict[str, Any]) -> Any:
        return cls(evidence.get("row") or {}, evidence.get("incidents"), evidence.get("policy", ""))


# --- records ------------------------------------------------------------------------------------

CREDIT_FIELDS = (
    "credit_id",
    "customer_id",
    "service",
    "month",
    "status",
    "currency",
    "computed",
    "cut",
    "cut_by",
    "amount",
    "approved",
    "adjusted",
    "net",
    "form",
    "extension_days",
    "grant",
    "voucher_expires",
    "report_status",
    "policy",
    "due_at",
    "claim_opens_at",
    "claim_closes_at",
    "claim_reference",
    "claimed_at",
    "document_id",
    "reason",
)
POST_FIELDS = ("action", *CREDIT_FIELDS)
DUE_FIELDS = (
    "kind",
    "credit_id",
    "customer_id",
    "service",
    "month",
    "status",
    "amount",
    "currency",
    "deadline",
    "detail",
)
EVENT_FIELDS = ("seq", "at", "what", "from_status", "to_status", "amount", "reason", "actor")
TEXT_FIELDS = ("customer_id", "service", "claim_reference", "document_id", "reason", "grant")


def credit_record(row: dict[str, Any], adjusted: Decimal = Decimal(0)) -> dict[str, Any]:
    """A credit as the outputs show it: money as exact text, absent values empty.

    ``net`` is what the customer gets: nothing once denied or expired, the approved amount
    (issued: plus its adjustments), or, before approval, what is owed."""
    cur = row["currency"]
    status = row["status"]
    approved = row["approved"] or ""
    if status in (cr.DENIED, cr.EXPIRED):
        net = Decimal(0)
    else:
        net = _dec(approved or row["amount"]) + (adjusted if status in cr.PAID_STATES else 0)
    return {
        "credit_id": row["id"],
        "customer_id": row["customer_id"],
        "service": row["service"],
        "month": row["month"],
        "status": status,
        "currency": cur,
        "computed": row["computed"] or row["amount"],
        "cut": row["cut"],
        "cut_by": row["cut_by"] or "",
        "amount": row["amount"],
        "approved": approved,
        "adjusted": _money(adjusted, cur)[0] if adjusted else "",
        "net": _money(net, cur)[0],
        "form": row["form"],
        "extension_days": row["extension_days"] if row["extension_days"] is not None else "",
        "grant": row["grant_detail"] or "",
        "voucher_expires": row["voucher_expires"] or "",
        "report_status": row["report_status"],
        "policy": row["policy"],
        "due_at": row["due_at"] or "",
        "claim_opens_at": row["claim_opens_at"] or "",
        "claim_closes_at": row["claim_closes_at"] or "",
        "claim_reference": row["claim_reference"] or "",
        "claimed_at": row["claimed_at"] or "",
        "document_id": row["document_id"] or "",
        "reason": row["reason"] or "",
    }


def post_record(row: dict[str, Any], action: str, adjusted: Decimal) -> dict[str, Any]:
    return {"action": action, **credit_record(row, adjusted)}


def _due(row: dict[str, Any], kind: str, deadline: str, detail: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "credit_id": row["id"],
        "customer_id": row["customer_id"],
        "service": row["service"],
        "month": row["month"],
        "status": row["status"],
        "amount": row["amount"],
        "currency": row["currency"],
        "deadline": deadline,
        "detail": detail,
    }


def _posted_reason(p: Proposal, limited: Any) -> str:
    text = f"breached {p.month} ({p.report_status}) under policy '{p.policy_name}'"
    if limited.cut:
        text += f"; {limited.cut:f} {p.currency} cut by {', '.join(limited.cut_by)}"
    return text


def _changes(row: dict[str, Any], cols: dict[str, Any], evidence: dict[str, Any]) -> str:
    """What a re-post changed, in words."""
    parts = []
    if row["amount"] != cols["amount"]:
        parts.append(f"amount {row['amount']} -> {cols['amount']} {cols['currency']}")
    if row["report_status"] != cols["report_status"]:
        parts.append(f"month {row['report_status']} -> {cols['report_status']}")
    before = json.loads(row["evidence"]).get("incidents")
    after = evidence.get("incidents")
    if before is not None and after is not None:
        added = [i for i in after if i not in before]
        gone = [i for i in before if i not in after]
        if added:
            parts.append(f"incidents added: {', '.join(added)}")
        if gone:
            parts.append(f"incidents gone: {', '.join(gone)}")
    if row["cut_by"] != cols["cut_by"] and cols["cut_by"]:
        parts.append(f"cut by {cols['cut_by']}")
    return "; ".join(parts) or "the evidence changed"
