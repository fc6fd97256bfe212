"""A credit's life: its states and the moves between them, its id, its forms. Pure rules.

``detected`` (the post found a breach) → ``claimed`` (the customer asked, with a reference)
→ ``approved`` (in full or in part) or ``denied`` (with a reason) → ``issued`` (a billing
document) → ``applied`` (on the customer's bill). ``expired``: the claim window closed before
a claim. A credit under a policy with no claim window (the founding ``standard``: a level-1
breach triggers compensation by itself) is ``approved`` when posted, with no claim.
"""

from __future__ import annotations

import hashlib
import re

from slacalc.errors import UsageError, shown

# The forms a credit is paid in: a rule of the terms (a policy's credit_form names one),
# re-exported here for the ledger's modules.
from slacalc.terms.credit_forms import (  # noqa: F401
    ACCOUNT_CREDIT,
    CASH,
    EXTENSION,
    FORMS,
    GRANT,
    NEEDS,
    VOUCHER,
    missing_for,
    parse_form,
)

# The ledger a command opens when none is named (--ledger, $SLACALC_LEDGER).
DEFAULT_LEDGER = "slacalc-ledger.db"

DETECTED, CLAIMED, APPROVED, DENIED, ISSUED, APPLIED, EXPIRED = (
    "detected",
    "claimed",
    "approved",
    "denied",
    "issued",
    "applied",
    "expired",
)
STATES = (DETECTED, CLAIMED, APPROVED, DENIED, ISSUED, APPLIED, EXPIRED)

# Each command's move: the states it leaves from, the state it reaches.
MOVES: dict[str, tuple[tuple[str, ...], str]] = {
    "claim": ((DETECTED,), CLAIMED),
    "approve": ((CLAIMED,), APPROVED),
    "deny": ((DETECTED, CLAIMED, APPROVED), DENIED),
    "issue": ((APPROVED,), ISSUED),
    "apply": ((ISSUED,), APPLIED),
    "expire": ((DETECTED,), EXPIRED),
}
# What a re-post may still change in place (an ``updated`` event); past these, a changed
# amount is an adjustment (issued, applied) or only noted (denied, expired).
OPEN_STATES = (DETECTED, CLAIMED, APPROVED)
PAID_STATES = (ISSUED, APPLIED)


class IllegalTransition(UsageError):
    """A credit asked to move where its state does not allow (exit 2)."""


def check_move(credit_id: str, status: str, command: str) -> str:
    """The state ``command`` takes a credit in ``status`` to; IllegalTransition otherwise,
    naming the state and what it allows."""
    sources, target = MOVES[command]
    if status in sources:
        return target
    allowed = [name for name, (froms, _) in MOVES.items() if status in froms and name != "expire"]
    can = f"it can be: {', '.join(allowed)}" if allowed else "no command moves it further"
    raise IllegalTransition(
        f"credit '{shown(credit_id)}' is {status}: cannot {command} it ({command} needs "
        f"{' or '.join(sources)}; {can})"
    )


# --- ids ----------------------------------------------------------------------------------------
_PLAIN = re.compile(r"[A-Za-z0-9._-]*")


def credit_id(customer_id: str, service: str, month: str) -> str:
    """A credit's id: ``customer:service:YYYY-MM``, short, stable and readable. A customer or
    service with other characters (``:``, spaces, CJK) is written as a slug and a hash of the
    whole key, ``acme-corp:storage:2025-05~3f9a1c``, so two keys never share an id."""
    if _PLAIN.fullmatch(customer_id) and _PLAIN.fullmatch(service):
        return f"{customer_id}:{service}:{month}"
    digest = hashlib.sha256(f"{customer_id}\0{service}\0{month}".encode()).hexdigest()[:6]
    return f"{_slug(customer_id)}:{_slug(service)}:{month}~{digest}"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:24]
