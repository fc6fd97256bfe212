"""The ledger: credits on a real database, every change one transaction and one event.

:class:`Ledger` opens (and migrates) a SQLite file or a PostgreSQL URL, posts what a report
found (:meth:`Ledger.post`), moves credits through their lifecycle, expires unclaimed ones,
and answers what is owed and what is due. Every change is one transaction that writes the
credit and appends its event (when, what, from and to which state, why, by whom); events and
adjustments are append-only (the database refuses to change them).
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from slacalc.dates.instants import format_instant, from_us, to_us
from slacalc.errors import UsageError, shown
from slacalc.ledger import credits as cr
from slacalc.ledger.limits import apply_limits
from slacalc.ledger.proposals import Post, Proposal, fingerprint
from slacalc.ledger.schema import check_version, migrate
from slacalc.ledger.sql import Database
from slacalc.terms import money
from slacalc.terms.deadlines import ESCALATION_DAYS, escalation_at, level1_due

DEFAULT_LEDGER = "slacalc-ledger.db"
US_PER_DAY = 86_400 * 1_000_000


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


class Ledger:
    """A ledger of credits; use it as a context manager (or :meth:`close` it)."""

    def __init__(self, target: str = DEFAULT_LEDGER, *, actor: str | None = None, tz: Any = None):
        self.db = Database(target)
        try:
            check_version(self.db)
            migrate(self.db)
        except BaseException:
            self.db.close()
            raise
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
        same inputs again change nothing. What happened to each, in order."""
        ordered = sorted(post.proposals, key=lambda p: (p.month, p.customer_id, p.service))
        fees: dict[tuple[str, str, str], Decimal] = {}
        services: dict[tuple[str, str, str], set[str]] = {}
        for p in ordered:
            group = (p.customer_id, p.month, p.currency)
            fees[group] = fees.get(group, Decimal(0)) + p.monthly_fee
            services.setdefault(group, set()).add(p.service)
        out = []
        with self.db.transaction():
            self._expire(as_of)
            for p in ordered:
                existing = self.db.one(
                    "SELECT * FROM credits WHERE customer_id = ? AND service = ? AND month = ?",
                    (p.customer_id, p.service, p.month),
                )
                if not p.breached and existing is None:
                    continue
                group = (p.customer_id, p.month, p.currency)
                limited = self._limits(p, fees[group], services[group])
                print_ = fingerprint(p, limited.amount, limited.cut_by)
                evidence = {
                    "incidents": p.incidents,
                    "row": p.row,
                    "inputs": post.inputs,
                    "policy": p.policy_name,
                    "source": post.source,
                }
                if existing is None:
                    action = self._insert(p, limited, print_, evidence)
                    cid = action["credit_id"]
                elif existing["fingerprint"] == print_:
                    action = {"credit_id": existing["id"], "action": "unchanged"}
                    cid = existing["id"]
                else:
                    action = self._repost(existing, p, limited, print_, evidence)
                    cid = existing["id"]
                row = self.db.one("SELECT * FROM credits WHERE id = ?", (cid,))
                assert row is not None
                out.append(post_record(row, action["action"], self._adjusted(cid)))
        return out

    def _limits(self, p: Proposal, month_fees: Decimal, posted: set[str]) -> Any:
        """The ledger's caps for ``p``, counting the other credits already in the ledger."""
        year, month = int(p.month[:4]), int(p.month[5:7])
        first = year * 12 + month - 1 - 11
        since = f"{first // 12:04d}-{first % 12 + 1:02d}"
        pol = p.policy
        annual = pol.annual_cap_pct if pol is not None else None
        customer = pol.customer_cap_pct if pol is not None else None
        year_others = Decimal(0)
        if annual is not None:
            for row in self.db.rows(
                "SELECT * FROM credits WHERE customer_id = ? AND service = ? AND month >= ? AND "
                "month < ? AND currency = ?",
                (p.customer_id, p.service, since, p.month, p.currency),
            ):
                year_others += self._counted(row)
        month_others = Decimal(0)
        if customer is not None:
            for row in self.db.rows(
                "SELECT * FROM credits WHERE customer_id = ? AND month = ? AND currency = ? AND "
                "service <> ?",
                (p.customer_id, p.month, p.currency, p.service),
            ):
                month_others += self._counted(row)
                if row["service"] not in posted:  # a service this post did not report
                    month_fees += _dec(row["monthly_fee"])
        return apply_limits(
            p.compensation if p.breached else Decimal(0),
            places=p.places,
            monthly_fee=p.monthly_fee,
            annual_pct=annual,
            year_others=year_others,
            customer_pct=customer,
            month_fees=month_fees,
            month_others=month_others,
            capped_by_report=p.capped,
        )

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
        self, row: dict[str, Any], p: Proposal, limited: Any, print_: str, evidence: dict
    ) -> dict[str, Any]:
        cid, status = row["id"], row["status"]
        cols = self._columns(p, limited, print_, evidence)
        why = _changes(row, cols, evidence)
        if status in cr.OPEN_STATES:
            approved = row["approved_minor"]
            if approved is not None:
                follows = approved == row["amount_minor"] or approved > cols["amount_minor"]
                if follows:
                    cols["approved"], cols["approved_minor"] = cols["amount"], cols["amount_minor"]
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
            delta, delta_minor = _money(after - before, p.currency)
            at_us, at = self._now()
            reason = f"re-posted after it was {status}: {why}"
            self.db.execute(
                "INSERT INTO adjustments (credit_id, at, at_us, delta, delta_minor, amount_before, "
                "amount_after, reason, actor, evidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    cid,
                    at,
                    at_us,
                    delta,
                    delta_minor,
                    _money(before, p.currency)[0],
                    cols["amount"],
                    reason,
                    self.actor,
                    cols["evidence"],
                ),
            )
            self._event(cid, "adjusted", status, status, amount=delta, reason=reason)
            return {"credit_id": cid, "action": "adjusted"}
        # denied or expired: nothing is owed; the new finding is noted, the state kept
        self._set(cid, fingerprint=print_)
        self._event(cid, "noted", status, status, amount=cols["amount"], reason=f"re-posted: {why}")
        return {"credit_id": cid, "action": "noted"}

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
