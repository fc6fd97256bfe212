"""`slacalc ledger ...`: the compensation ledger (post, the lifecycle, list, show, due)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, TypeVar

import typer

from slacalc import run
from slacalc.cli import common as c
from slacalc.cli.common import app
from slacalc.ledger.credits import DEFAULT_LEDGER, FORMS, STATES

F = TypeVar("F", bound=Callable[..., Any])

ledger_app = typer.Typer(
    name="ledger",
    help="The compensation ledger: credits posted from reports, claimed, approved, issued, "
    "applied, on SQLite or PostgreSQL.",
    epilog="Example: slacalc ledger post samples/incidents.csv --contracts samples/contracts.csv "
    "--as-of 2025-06-28T12:00:00+08:00 --ledger ledger.db",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(ledger_app, name="ledger", rich_help_panel=c.PANEL_MONTH)

Status = StrEnum("Status", {s: s for s in STATES})  # type: ignore[misc]
Form = StrEnum("Form", {f: f for f in FORMS})  # type: ignore[misc]

# The fields of a credit's form, given at approve or issue (the same options on both).
FormOpt = Annotated[
    Form | None,
    typer.Option("--form", help="Pay it in this form (default: the policy's).", metavar="FORM"),
]
ExtensionDaysOpt = Annotated[
    int | None,
    typer.Option("--extension-days", help="service_extension: days added.", metavar="N"),
]
GrantOpt = Annotated[
    str | None,
    typer.Option("--grant", help="resource_grant: what is granted.", metavar="TEXT"),
]
VoucherExpiresOpt = Annotated[
    str | None,
    typer.Option("--voucher-expires", help="voucher: its expiry date.", metavar="DATE"),
]
CustomersOpt = Annotated[
    list[str] | None,
    typer.Option("--customer", help="Only this customer's (repeatable).", metavar="C"),
]
MonthsOpt = Annotated[
    list[str] | None,
    typer.Option("--month", "-m", help="Only this month's (repeatable).", metavar="YYYY-MM"),
]
LedgerOpt = Annotated[
    str,
    typer.Option(
        "--ledger",
        envvar="SLACALC_LEDGER",
        help="The ledger: a SQLite file (made when missing) or a postgresql:// URL.",
        metavar="PATH|URL",
    ),
]
ActorOpt = Annotated[
    str | None,
    typer.Option(
        "--actor", help="Who makes the change, for its event. Default: $USER.", metavar="NAME"
    ),
]
IdArg = Annotated[str, typer.Argument(help="The credit's id (see: slacalc ledger list).")]
ReasonOpt = Annotated[
    str | None, typer.Option("--reason", help="Why, for the event.", metavar="TEXT")
]


@dataclass(frozen=True)
class LedgerOptions:
    """Which ledger, who acts, and the moment of truth."""

    ledger: str
    actor: str | None
    as_of: str | None = None
    tz: str = run.DEFAULT_TZ

    def open(self, tz: str | None = None) -> Any:
        from slacalc.ledger import Ledger

        return Ledger(self.ledger, actor=self.actor, tz=run.as_zone(tz or self.tz))

    def instant(self) -> int:
        return run.as_instant(self.as_of, run.as_zone(self.tz))


_OPTIONS: dict[str, tuple[Any, Any]] = {
    "ledger": (LedgerOpt, DEFAULT_LEDGER),
    "actor": (ActorOpt, None),
    "as_of": (c.AsOfOpt, None),
    "tz": (c.TzOpt, run.DEFAULT_TZ),
}


def ledger_options(*, skip: tuple[str, ...] = ()) -> Callable[[F], F]:
    """Give a command the ledger's options, bundled into its ``lo`` parameter (after its own)."""
    names = [n for n in _OPTIONS if n not in skip]

    def decorate(fn: F) -> F:
        sig = inspect.signature(fn, eval_str=True)
        own = [p for p in sig.parameters.values() if p.name != "lo"]
        extra = [
            inspect.Parameter(
                n, inspect.Parameter.KEYWORD_ONLY, default=_OPTIONS[n][1], annotation=_OPTIONS[n][0]
            )
            for n in names
        ]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            given = {n: kwargs.pop(n, _OPTIONS[n][1]) for n in names}
            if "as_of" not in given:  # the run options' moment of truth
                given["as_of"], given["tz"] = kwargs.get("opts").as_of, kwargs.get("opts").tz
            return fn(*args, lo=LedgerOptions(**given), **kwargs)

        params = [*own, *extra]
        wrapper.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in params}
        return wrapper  # type: ignore[return-value]

    return decorate


def _write(records: list[dict[str, Any]], fields: Any, lo: LedgerOptions, **how: Any) -> None:
    from slacalc.ledger.view import render_records
    from slacalc.writing.output import write_output

    fmt = c.output_format(how.pop("format"), how["output"])
    output = how.pop("output")
    write_output(
        output,
        lambda out: render_records(records, fields, fmt, out, **how),
        inputs=[lo.ledger],
    )


# --- post -------------------------------------------------------------------------------------


@ledger_app.command(
    "post",
    epilog="Example: slacalc ledger post samples/incidents.csv --contracts samples/contracts.csv "
    "--as-of 2025-07-05T00:00:00+08:00",
)
@c.boundary
@c.run_options(before="from_report")
@ledger_options(skip=("as_of", "tz"))
@c.no_header_option
def post(
    incidents: Annotated[
        list[str] | None,
        typer.Argument(help="Incident log files to compute the months from.", metavar="INCIDENTS"),
    ] = None,
    opts: c.RunOptions = None,  # type: ignore[assignment]
    from_report: Annotated[
        str | None,
        typer.Option(
            "--from-report",
            help="Post a report written by 'slacalc report -f csv|json' instead of incidents.",
            metavar="FILE",
        ),
    ] = None,
    format: c.FormatOpt = None,
    output: c.OutputOpt = None,
    raw_csv: c.RawCsvOpt = False,
    lo: LedgerOptions = None,  # type: ignore[assignment]
) -> None:
    """Record each breached customer, service and month as a credit, with its evidence.

    Posting the same inputs again changes nothing; a credit not yet issued is updated; one
    issued or applied gets an adjustment. Under a policy with no claim window (standard) a
    credit is approved at once.

    Example: slacalc ledger post samples/incidents.csv --contracts samples/contracts.csv
    --as-of 2025-07-05T00:00:00+08:00
    """
    from slacalc.ledger import post as post_run
    from slacalc.ledger.store import POST_FIELDS

    kwargs = opts.run_kwargs()
    if from_report is not None and kwargs["policy"] == run.DEFAULT_POLICY:
        kwargs["policy"] = None  # each row's own policy
    with lo.open(opts.tz) as ledger:
        result = post_run(ledger, incidents or [], from_report=from_report, **kwargs)
    c.warn_all(result.warnings)
    changed = [r for r in result.records if r["action"] != "unchanged"]
    _write(
        result.records,
        POST_FIELDS,
        lo,
        format=format,
        output=output,
        title=f"Posted: {len(changed)} changed, {len(result.records) - len(changed)} unchanged",
        raw_csv=raw_csv,
        empty="no breached month: nothing to post",
    )


# --- the lifecycle ----------------------------------------------------------------------------


def _form(form: Any, extension_days: Any, grant: Any, voucher_expires: Any) -> dict[str, Any]:
    """The credit-form options approve and issue share, as the store takes them."""
    return {
        "form": form.value if form else None,
        "extension_days": extension_days,
        "grant_detail": grant,
        "voucher_expires": voucher_expires,
    }


def _changed(lo: LedgerOptions, row: dict[str, Any], format: Any, output: Any, raw: bool):
    """A lifecycle command's output: the credit it moved, as ``ledger show`` lists credits."""
    from slacalc.ledger.store import CREDIT_FIELDS, credit_record

    _write(
        [credit_record(row)],
        CREDIT_FIELDS,
        lo,
        format=format,
        output=output,
        title="Credit",
        raw_csv=raw,
    )


@ledger_app.command("claim")
@c.boundary
@ledger_options()
@c.no_header_option
def claim(
    credit: IdArg,
    reference: Annotated[
        str, typer.Option("--reference", help="The customer's claim reference.", metavar="REF")
    ],
    format: c.FormatOpt = None,
    output: c.OutputOpt = None,
    raw_csv: c.RawCsvOpt = False,
    lo: LedgerOptions = None,  # type: ignore[assignment]
) -> None:
    """The customer claims a detected credit, inside its claim window (at --as-of).

    Example: slacalc ledger claim acme:storage:2025-05 --reference TICKET-4821
    """
    with lo.open() as ledger:
        row = ledger.claim(credit, reference=reference, as_of=lo.instant())
    _changed(lo, row, format, output, raw_csv)


@ledger_app.command("approve")
@c.boundary
@ledger_options()
@c.no_header_option
def approve(
    credit: IdArg,
    amount: Annotated[
        str | None,
        typer.Option("--amount", help="Approve only this part of the amount owed.", metavar="X"),
    ] = None,
    form: FormOpt = None,
    extension_days: ExtensionDaysOpt = None,
    grant: GrantOpt = None,
    voucher_expires: VoucherExpiresOpt = None,
    reason: ReasonOpt = None,
    format: c.FormatOpt = None,
    output: c.OutputOpt = None,
    raw_csv: c.RawCsvOpt = False,
    lo: LedgerOptions = None,  # type: ignore[assignment]
) -> None:
    """Approve a claimed credit, in full or in part (--amount).

    Example: slacalc ledger approve acme:storage:2025-05 --amount 20.00 --reason "partial"
    """
    with lo.open() as ledger:
        row = ledger.approve(
            credit,
            as_of=lo.instant(),
            amount=amount,
            reason=reason,
            **_form(form, extension_days, grant, voucher_expires),
        )
    _changed(lo, row, format, output, raw_csv)


@ledger_app.command("deny")
@c.boundary
@ledger_options()
@c.no_header_option
def deny(
    credit: IdArg,
    reason: Annotated[str, typer.Option("--reason", help="Why it is denied.", metavar="TEXT")],
    format: c.FormatOpt = None,
    output: c.OutputOpt = None,
    raw_csv: c.RawCsvOpt = False,
    lo: LedgerOptions = None,  # type: ignore[assignment]
) -> None:
    """Deny a credit not yet issued (a reason is required).

    Example: slacalc ledger deny acme:storage:2025-05 --reason "outage caused by the customer"
    """
    with lo.open() as ledger:
        row = ledger.deny(credit, reason=reason, as_of=lo.instant())
    _changed(lo, row, format, output, raw_csv)


@ledger_app.command("issue")
@c.boundary
@ledger_options()
@c.no_header_option
def issue(
    credit: IdArg,
    document: Annotated[
        str,
        typer.Option("--document", help="The billing system's document id.", metavar="ID"),
    ],
    form: FormOpt = None,
    extension_days: ExtensionDaysOpt = None,
    grant: GrantOpt = None,
    voucher_expires: VoucherExpiresOpt = None,
    format: c.FormatOpt = None,
    output: c.OutputOpt = None,
    raw_csv: c.RawCsvOpt = False,
    lo: LedgerOptions = None,  # type: ignore[assignment]
) -> None:
    """Mark an approved credit issued as a billing document (a final month only).

    Example: slacalc ledger issue acme:storage:2025-05 --document CN-2025-0042
    """
    with lo.open() as ledger:
        row = ledger.issue(
            credit,
            document=document,
            as_of=lo.instant(),
            **_form(form, extension_days, grant, voucher_expires),
        )
    _changed(lo, row, format, output, raw_csv)


@ledger_app.command("apply")
@c.boundary
@ledger_options()
@c.no_header_option
def apply(
    credit: IdArg,
    reason: ReasonOpt = None,
    format: c.FormatOpt = None,
    output: c.OutputOpt = None,
    raw_csv: c.RawCsvOpt = False,
    lo: LedgerOptions = None,  # type: ignore[assignment]
) -> None:
    """Mark an issued credit applied to the customer's bill.

    Example: slacalc ledger apply acme:storage:2025-05
    """
    with lo.open() as ledger:
        row = ledger.apply(credit, as_of=lo.instant(), reason=reason)
    _changed(lo, row, format, output, raw_csv)


@ledger_app.command("dispute")
@c.boundary
@ledger_options()
@c.no_header_option
def dispute(
    credit: IdArg,
    reason: Annotated[
        str, typer.Option("--reason", help="What is disputed (or, with --resolve, how it ended).")
    ],
    opened: Annotated[
        str | None,
        typer.Option("--opened", help="When it opened. Default: --as-of.", metavar="TS"),
    ] = None,
    resolve: Annotated[
        bool, typer.Option("--resolve", help="Resolve the credit's open dispute instead.")
    ] = False,
    format: c.FormatOpt = None,
    output: c.OutputOpt = None,
    raw_csv: c.RawCsvOpt = False,
    lo: LedgerOptions = None,  # type: ignore[assignment]
) -> None:
    """Record a dispute against a credit; unresolved 15 days after it opened, it escalates.

    Example: slacalc ledger dispute acme:storage:2025-05 --reason "amount too low"
    --opened 2025-06-10T09:00:00+08:00
    """
    as_of = lo.instant()
    with lo.open() as ledger:
        if resolve:
            if opened is not None:
                raise c.UsageError("--opened goes with a new dispute, not with --resolve")
            row = ledger.resolve(credit, resolution=reason, as_of=as_of)
        else:
            zone = run.as_zone(lo.tz)
            when = as_of if opened is None else run.as_instant(opened, zone, "--opened")
            row = ledger.dispute(credit, reason=reason, opened=when, as_of=as_of)
    _changed(lo, row, format, output, raw_csv)


# --- questions --------------------------------------------------------------------------------


@ledger_app.command("list")
@c.boundary
@ledger_options()
@c.no_header_option
def list_cmd(
    status: Annotated[
        list[Status] | None,
        typer.Option("--status", help="Only credits in this state (repeatable).", metavar="S"),
    ] = None,
    customer: CustomersOpt = None,
    month: MonthsOpt = None,
    format: c.FormatOpt = None,
    output: c.OutputOpt = None,
    raw_csv: c.RawCsvOpt = False,
    lo: LedgerOptions = None,  # type: ignore[assignment]
) -> None:
    """The credits, by month, customer and service (expiries due at --as-of recorded first).

    Example: slacalc ledger list --status approved --month 2025-05 -f csv
    """
    from slacalc.ledger.store import CREDIT_FIELDS

    months = [m.text for m in run.as_months(month) or []]
    with lo.open() as ledger:
        ledger.expire(lo.instant())
        found = ledger.credits(
            status=[s.value for s in status or []], customer=customer, month=months
        )
    _write(found, CREDIT_FIELDS, lo, format=format, output=output, title="Credits", raw_csv=raw_csv)


@ledger_app.command("show")
@c.boundary
@ledger_options()
def show(
    credit: IdArg,
    format: c.FormatOpt = None,
    output: c.OutputOpt = None,
    raw_csv: c.RawCsvOpt = False,
    lo: LedgerOptions = None,  # type: ignore[assignment]
) -> None:
    """One credit with its evidence and history: events, adjustments, disputes (CSV: events).

    Example: slacalc ledger show acme:storage:2025-05 -f json
    """
    from slacalc.ledger.view import render_history
    from slacalc.writing.output import write_output

    fmt = c.output_format(format, output)
    with lo.open() as ledger:
        ledger.expire(lo.instant())
        found = ledger.history(credit)
    write_output(
        output, lambda out: render_history(found, fmt, out, raw_csv=raw_csv), inputs=[lo.ledger]
    )


@ledger_app.command("due")
@c.boundary
@ledger_options()
@c.no_header_option
def due(
    within: Annotated[
        int,
        typer.Option("--within", help="Claim windows and escalations this many days ahead.", min=0),
    ] = 7,
    format: c.FormatOpt = None,
    output: c.OutputOpt = None,
    raw_csv: c.RawCsvOpt = False,
    lo: LedgerOptions = None,  # type: ignore[assignment]
) -> None:
    """What needs doing: overdue credits, claim windows closing, disputes to escalate.

    Credits owed and past their 72-hour due time but not issued; claim windows closing
    unclaimed within --within days; disputes unresolved 15 days after they opened.

    Example: slacalc ledger due --within 14 --as-of 2025-07-10T00:00:00+08:00
    """
    from slacalc.ledger.store import DUE_FIELDS

    as_of = lo.instant()
    with lo.open() as ledger:
        ledger.expire(as_of)
        found = ledger.due(as_of=as_of, within_days=within)
    _write(
        found,
        DUE_FIELDS,
        lo,
        format=format,
        output=output,
        title="Due",
        raw_csv=raw_csv,
        empty="nothing due",
    )


# --- billing-system exports -------------------------------------------------------------------

System = StrEnum(
    "System", {s: s for s in ("stripe", "lago", "killbill", "chargebee", "zuora", "ubl")}
)  # type: ignore[misc]


@ledger_app.command(
    "export",
    epilog="Example: slacalc ledger export --to stripe --map billing-ids.csv -o stripe.jsonl",
)
@c.boundary
@ledger_options()
def export(
    to: Annotated[
        System,
        typer.Option("--to", help="The billing system.", case_sensitive=False, metavar="SYSTEM"),
    ],
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="Write to FILE (atomically); --to ubl: into the folder DIR (required).",
            metavar="FILE|DIR",
        ),
    ] = None,
    status: Annotated[
        list[Status] | None,
        typer.Option(
            "--status",
            help="Export these credits' approved amounts (approved, issued, applied; "
            "repeatable). Default: approved, and issued credits' adjustments with no document.",
            metavar="S",
        ),
    ] = None,
    customer: CustomersOpt = None,
    month: MonthsOpt = None,
    map_file: Annotated[
        str | None,
        typer.Option(
            "--map",
            help="CSV of the billing system's ids: customer_id[, month], account_id, "
            "invoice_id, charge_id, wallet_id.",
            metavar="FILE",
        ),
    ] = None,
    issuer: Annotated[
        str | None,
        typer.Option(
            "--issuer",
            envvar="SLACALC_ISSUER",
            help="--to ubl: the supplier (TOML: name, address, tax_id, email, phone).",
            metavar="FILE",
        ),
    ] = None,
    raw_csv: c.RawCsvOpt = False,
    lo: LedgerOptions = None,  # type: ignore[assignment]
) -> None:
    """Write what a billing system takes in for the credits that need a document.

    Stripe, Lago, Kill Bill: JSON Lines, one API request a line with a stable idempotency
    key; Chargebee, Zuora: their bulk-import CSV; UBL: one CreditNote XML per credit into
    -o DIR. Each credit exported gets an 'exported' event (once per key); bring the
    documents' ids back with 'slacalc ledger import-ids'.

    Example: slacalc ledger export --to stripe --map billing-ids.csv -o stripe.jsonl
    """
    from slacalc.ledger.exports import export as run_export
    from slacalc.ledger.exports import record
    from slacalc.ledger.exports.mapping import read_map
    from slacalc.reading.issuer import read_issuer
    from slacalc.writing.output import write_output, write_outputs

    system = to.value
    if system == "ubl" and output in (None, "-"):
        raise c.UsageError("--to ubl writes one file per credit: give -o DIR")
    mapping = read_map(map_file) if map_file else None
    supplier = read_issuer(issuer) if issuer and system == "ubl" else None
    as_of = lo.instant()
    months = [m.text for m in run.as_months(month) or []]
    inputs = [lo.ledger, *(f for f in (map_file, issuer) if f)]
    with lo.open() as ledger:
        ledger.expire(as_of)
        done = run_export(
            ledger,
            system,
            as_of=as_of,
            statuses=[s.value for s in status or []],
            customers=customer,
            months=months,
            mapping=mapping,
            issuer=supplier,
            raw_csv=raw_csv,
        )
        if done.files:
            write_outputs(
                output or "",
                [(name, lambda out, xml=xml: out.write(xml)) for name, xml in done.files],
                inputs=inputs,
            )
        elif system != "ubl":
            write_output(output, lambda out: out.write(done.text), inputs=inputs)
        new = record(ledger, done.items, as_of=as_of)
    c.warn_all(done.warnings)
    if system == "ubl":
        typer.echo(f"{len(done.files)} credit notes written to {output}", err=True)
    elif output not in (None, "-"):
        typer.echo(f"{len(done.items)} credits exported to {output} ({new} new)", err=True)


@ledger_app.command("import-ids")
@c.boundary
@ledger_options()
@c.no_header_option
def import_ids(
    file: Annotated[
        str,
        typer.Argument(
            help="CSV (idempotency_key,document_id) or JSON Lines of the billing system's ids.",
            metavar="FILE",
        ),
    ],
    format: c.FormatOpt = None,
    output: c.OutputOpt = None,
    raw_csv: c.RawCsvOpt = False,
    lo: LedgerOptions = None,  # type: ignore[assignment]
) -> None:
    """Mark exported credits issued with the billing system's document ids.

    Each line's idempotency key is one 'ledger export' recorded: a credit's marks it issued
    (as 'ledger issue' does), an adjustment's records its document. Importing the same file
    again changes nothing; an unknown key is FILE:LINE (exit 1).

    Example: slacalc ledger import-ids stripe-ids.csv
    """
    from slacalc.ledger.exports.ids import RESULT_FIELDS
    from slacalc.ledger.exports.ids import import_ids as run_import

    with lo.open() as ledger:
        found = run_import(ledger, file, as_of=lo.instant())
    changed = sum(r["action"] != "unchanged" for r in found)
    _write(
        found,
        RESULT_FIELDS,
        lo,
        format=format,
        output=output,
        title=f"Imported: {changed} changed, {len(found) - changed} unchanged",
        raw_csv=raw_csv,
        empty="no ids in the file",
    )
