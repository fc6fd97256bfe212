"""The forms a credit is paid in (cash or refund, account credit, voucher, service-time
extension, resource grant) and what each needs before it is issued. A policy's
``credit_form`` names one; the ledger records each credit's own."""

from __future__ import annotations

from slacalc.errors import UsageError, shown

CASH, ACCOUNT_CREDIT, VOUCHER, EXTENSION, GRANT = (
    "cash",
    "account_credit",
    "voucher",
    "service_extension",
    "resource_grant",
)
FORMS = (CASH, ACCOUNT_CREDIT, VOUCHER, EXTENSION, GRANT)
# What each form needs before it is issued (the option that gives it).
NEEDS = {EXTENSION: ("extension_days", "--extension-days"), GRANT: ("grant_detail", "--grant")}


def parse_form(text: str) -> str:
    value = text.strip().lower().replace("-", "_")
    if value == "refund":
        return CASH
    if value not in FORMS:
        raise UsageError(f"--form '{shown(text)}': expected one of {', '.join(FORMS)}")
    return value


def missing_for(form: str, values: dict[str, object]) -> str | None:
    """The option a credit of ``form`` still needs (None: it has what it needs)."""
    need = NEEDS.get(form)
    if need is None or values.get(need[0]) not in (None, ""):
        return None
    return need[1]
