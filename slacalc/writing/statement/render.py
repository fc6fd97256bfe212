"""A statement as one self-contained HTML page: Jinja2 templates with autoescape always on, the
stylesheet inlined, the charts as inline SVG; no script, font, image or link leaves the page."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from slacalc.computing.fields import FIELDS, TEXT_FIELDS
from slacalc.computing.statement_ledger import CreditLine, LedgerCredit
from slacalc.computing.statements import ServiceStatement, Statement
from slacalc.dates.instants import format_instant, from_us
from slacalc.errors import printable
from slacalc.terms import deadlines, money, numbers
from slacalc.writing.statement.chart import timeline_chart
from slacalc.writing.statement.messages import Catalogue, Data, Msg, data_html, data_list
from slacalc.writing.statement.phrases import SHOWN_ELSEWHERE, hours_msg, say

TEMPLATES = Path(__file__).resolve().parent / "templates"
# The report's instants (compensation_due_at, claim_opens_at, ...): ISO 8601 text that the
# appendix keeps on one line (a break inside "2025-06-04T00:00:00+08:00" misreads).
INSTANT_FIELDS = frozenset(f for f in FIELDS if f.endswith("_at"))


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The templates' environment: autoescape on for every template, undefined names an error,
    and no control character in any value written (:func:`_written`). Text from the input is
    marked ``| data`` (or ``| data_list``) where it is text of the page: escaped and isolated
    (:func:`~slacalc.writing.statement.messages.data_html`)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_written,
    )
    env.filters["data"] = data_html
    env.filters["data_list"] = data_list
    env.globals["text_fields"] = TEXT_FIELDS  # report fields whose text comes from the input
    env.globals["instant_fields"] = INSTANT_FIELDS  # written as ISO 8601: kept on one line
    return env


def _written(value: Any) -> Any:
    """Every ``{{ value }}`` of the templates, attributes included: text with its control
    characters escaped, as anywhere slacalc shows data (markup is ours, made of such values)."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return printable(value)
    return value


def render_html(statement: Statement, lang: str) -> str:
    """The statement as HTML in ``lang`` (``en`` or ``zh``)."""
    t = Catalogue(lang)
    view = _View(statement, t)
    return environment().get_template("statement.html.j2").render(s=statement, t=t, v=view)


class _View:
    """Text forms the templates need, in the statement's language and zone."""

    def __init__(self, statement: Statement, t: Catalogue) -> None:
        self.s = statement
        self.t = t
        self.tz = statement.settings.tz
        self.fields = FIELDS
        self.issuer = None if statement.issuer is None else statement.issuer.in_language(t.lang)

    def customer(self, *, field: bool = False) -> Markup:
        """The customer as the page names it: ``Acme Corporation (acme)``, or the id alone;
        ``field``: the id marked as the report's ``customer_id``."""
        s = self.s
        ident = data_html(s.customer)
        if field:
            ident = Markup('<span data-field="customer_id" data-value="{}">{}</span>').format(
                printable(s.customer), ident
            )
        if s.display_name is None:
            return ident
        name = Markup('<span class="display-name">{}</span>').format(data_html(s.display_name))
        return self.t("customer_named", name=name, id=ident)

    def customer_text(self) -> str:
        """The same as plain text, for the page's title."""
        s = self.s
        if s.display_name is None:
            return s.customer
        return str(Markup(self.customer()).striptags())

    def period(self) -> str:
        """The month as whole days, both included, with its zone and offset: ``1–31 May 2025
        (Asia/Shanghai, UTC+08:00)``; a month whose offset changes shows both
        (``UTC+01:00/+02:00``)."""
        start, end = self.s.period
        first, last = self.offset(start), self.offset(end - 1)
        offset = first if first == last else f"{first}/{last}"
        return self.t(
            "period_range", days=self.t.period(*self.s.days), zone=self.zone, offset=offset
        )

    @property
    def zone(self) -> str:
        return getattr(self.tz, "key", str(self.tz))

    def when(self, us: int | None) -> str:
        """A local date and time: ``4 Jun 2025 00:00:00`` / ``2025年6月4日 00:00:00``."""
        return "" if us is None else self.t.datetime(from_us(us, self.tz))

    def iso(self, us: int | None) -> str:
        """ISO 8601 with the offset, as the report's CSV writes instants."""
        return "" if us is None else format_instant(us, self.tz)

    def offset(self, us: int) -> str:
        text = from_us(us, self.tz).strftime("%z")
        return f"{text[:3]}:{text[3:]}"

    def month(self) -> str:
        return self.t.month(self.s.month.year, self.s.month.month)

    def say(self, said: Any) -> str:
        """A note or step of explain (or a message) in the page's language."""
        return self.t.say(said if isinstance(said, Msg) else say(said, self.tz))

    def formula(self, service: ServiceStatement) -> list[str]:
        """The month's notes and the formula's steps (those the claim section does not show)."""
        steps = [s for s in service.formula if s.code not in SHOWN_ELSEWHERE]
        return [self.say(x) for x in (*service.notes, *steps)]

    def row_text(self, service: ServiceStatement) -> dict[str, str]:
        """The row as the report's CSV prints it (``breached`` is ``true``, not True)."""
        return {name: _csv_text(service.row.fields[name]) for name in FIELDS}

    @property
    def level1_hours(self) -> int:
        return deadlines.LEVEL1_HOURS

    def duration(self, us: Any) -> str:
        return self.t.duration(us)

    def seconds(self, us: Any) -> str:
        return str(numbers.seconds(us))

    def share_pct(self, value: Any) -> str:
        """A share of 1 as a percentage: ``0.3`` → ``30``."""
        return numbers.share(value * 100)

    def money_html(self, digits: str, currency: str, **data: str) -> Markup:
        """An amount's exact decimal text as the page shows money (:meth:`Catalogue.amount`),
        the currency code and the grouped digits each in their element; ``data`` (``field``,
        ``value``, ``total``, ``ledger``, ``ledger_total``) become the digits' ``data-*``
        attributes (``_`` written ``-``)."""
        code, text = self.t.amount_parts(digits, currency)
        attrs = Markup("").join(
            Markup(' data-{}="{}"').format(k.replace("_", "-"), printable(v))
            for k, v in data.items()
        )
        return Markup(
            '<span class="money"><span class="cur">{}</span>\u00a0'
            '<span class="amount"{}>{}</span></span>'
        ).format(code, attrs, text)

    def total_html(self, amount: Any, currency: str) -> Markup:
        return self.money_html(money.format_money(amount, currency), currency, total=currency)

    # --- the compensation ledger (a statement made with --ledger) ---------------------------
    def ledger_money(self, value: Decimal, currency: str, name: str, text: str) -> Markup:
        """An amount of the ledger, marked as its field ``name`` with the ledger's own text."""
        return self.money_html(
            money.format_money(value, currency), currency, ledger=name, value=text
        )

    def money_text(self, value: Decimal, currency: str) -> str:
        return self.t.money(value, currency)

    def money_digits(self, value: Decimal, currency: str) -> str:
        """An amount's text with exactly the currency's decimals, for :meth:`money_html`."""
        return money.format_money(value, currency)

    def credit_state(self, line: CreditLine) -> Markup:
        """A credit's state in words: ``approved in part``, ``not yet posted``."""
        c = line.credit
        if c is None:
            return self.t("ledger.state.not_posted")
        if c.status == "approved" and c.partial:
            return self.t("ledger.state.approved_partial")
        return self.t(f"ledger.state.{c.status}")

    def credit_form(self, c: LedgerCredit) -> Markup:
        """The credit's own form, with what it needs: ``service-time extension of 3 days``."""
        t = self.t
        if c.form == "service_extension" and c.extension_days is not None:
            return t("form.extension_days", days=c.extension_days)
        if c.form == "resource_grant" and c.grant:
            return t("form.grant_detail", grant=Data(c.grant))
        if c.form == "voucher" and c.record.get("voucher_expires"):
            expires = c.voucher_expires
            when = (
                self.t.date(expires) if expires is not None else Data(c.record["voucher_expires"])
            )
            return t("form.voucher_expires", date=when)
        return t(f"credit_form.{c.form}")

    def caps(self, c: LedgerCredit) -> Markup:
        sep = Markup("、" if self.t.lang == "zh" else ", ")
        return sep.join(self.t(f"cap.{name}") for name in c.cut_by)

    def pct(self, value: Any) -> str:
        return numbers.format_pct(value)

    def chart(self, service: Any) -> Any:
        start, end = service.row.period_start, service.row.period_end
        return timeline_chart(
            start,
            end,
            service.stretches,
            service.windows,
            tz=self.tz,
            calendar=self.s.settings.work_calendar,
        )

    def day_list(self, days: Any) -> str:
        sep = "、" if self.t.lang == "zh" else ", "
        return sep.join(self.t.short_date(d) for d in days)

    def policy_rules(self, policy: Any) -> list[str]:
        """A policy's rules beyond its tiers, one line each (as ``Policy.rules_text`` lists
        them), in the statement's language."""
        t, out = self.t, []
        if policy.min_outage_seconds:
            out.append(t("rule.min_outage", seconds=policy.min_outage_seconds))
        if policy.round_up_seconds:
            out.append(t("rule.round_up", seconds=policy.round_up_seconds))
        if policy.min_credit:
            out.append(t("rule.min_credit", amount=numbers.format_pct(policy.min_credit)))
        if policy.availability_base == "period-minus-excluded":
            out.append(t("rule.base_minus_excluded"))
        if policy.service_hours is not None:
            out.append(t("rule.service_hours", hours=hours_msg(policy.service_hours)))
        window = policy.claim_window
        if window is not None:
            opens = (
                Msg("claim.opens_after", {"days": window.opens_after_working_days})
                if window.opens_after_working_days
                else Msg("claim.opens_at_end")
            )
            if window.closes_after_months is not None:
                closes = Msg("claim.closes_months", {"months": window.closes_after_months})
            elif window.closes_after_days is not None:
                closes = Msg("claim.closes_days", {"days": window.closes_after_days})
            else:
                closes = Msg("claim.never")
            out.append(t("rule.claim_window", opens=opens, closes=closes))
        out.append(t("rule.credit_form", form=Msg(f"credit_form.{policy.credit_form}")))
        return out


def _csv_text(value: Any) -> str:
    """A field value as the report's CSV writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
