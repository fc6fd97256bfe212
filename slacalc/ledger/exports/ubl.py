"""UBL 2.1: one ``CreditNote`` document per credit (EN 16931 e-invoicing), valid against the
OASIS UBL 2.1 schema (maindoc/UBL-CreditNote-2.1.xsd), its elements in the schema's order.

``CreditNoteTypeCode`` 381 (a commercial credit note, UNCL1001), ``Note`` (what it is),
``DocumentCurrencyCode``, ``InvoicePeriod`` (the credit's month), ``BillingReference`` (the
invoice, when the map gives one), the supplier (from the issuer file: name, address, tax id,
contact) and the customer, a ``TaxTotal`` of zero (slacalc knows no tax: the credit is what
the ledger holds), ``LegalMonetaryTotal`` and one ``CreditNoteLine``.
"""

from __future__ import annotations

import calendar
import xml.etree.ElementTree as ET
from decimal import Decimal
from typing import Any

from slacalc.ledger.exports.core import ADJUSTMENT, Item

FORMAT = "xml"
NS = {
    "": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
TYPE_CODE = "381"
for _prefix, _uri in NS.items():
    ET.register_namespace(_prefix, _uri)


def _q(name: str) -> str:
    prefix, _, local = name.rpartition(":")
    return f"{{{NS[prefix]}}}{local}"


def _add(parent: ET.Element, name: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, _q(name), attrs)
    if text is not None:
        element.text = text
    return element


def file_name(item: Item) -> str:
    """The document's file name: the credit's id (``:`` as ``_``), and the adjustment's."""
    base = item.credit_id.replace(":", "_").replace("/", "_")
    return f"{base}-adjustment-{item.adjustment}.xml" if item.kind == ADJUSTMENT else f"{base}.xml"


def _money(item: Item, value: Decimal) -> str:
    return f"{value.quantize(Decimal(1).scaleb(-item.places)):f}"


def document(item: Item, issuer: Any) -> str:
    """The CreditNote XML of ``item``, supplied by ``issuer``."""
    root = ET.Element(_q("CreditNote"))
    _add(root, "cbc:UBLVersionID", "2.1")
    _add(root, "cbc:ID", item.key)
    _add(root, "cbc:IssueDate", item.effective.isoformat())
    _add(root, "cbc:CreditNoteTypeCode", TYPE_CODE)
    _add(root, "cbc:Note", item.description)
    _add(root, "cbc:DocumentCurrencyCode", item.currency)
    _add(root, "cbc:BuyerReference", item.account_id)
    period = _add(root, "cac:InvoicePeriod")
    year, month = int(item.month[:4]), int(item.month[5:7])
    _add(period, "cbc:StartDate", f"{item.month}-01")
    _add(period, "cbc:EndDate", f"{item.month}-{calendar.monthrange(year, month)[1]:02d}")
    if item.invoice_id:
        ref = _add(_add(root, "cac:BillingReference"), "cac:InvoiceDocumentReference")
        _add(ref, "cbc:ID", item.invoice_id)
    _supplier(_add(_add(root, "cac:AccountingSupplierParty"), "cac:Party"), issuer)
    customer = _add(_add(root, "cac:AccountingCustomerParty"), "cac:Party")
    _add(_add(customer, "cac:PartyIdentification"), "cbc:ID", item.account_id)
    _add(_add(customer, "cac:PartyName"), "cbc:Name", item.customer_id)
    _add(_add(customer, "cac:PartyLegalEntity"), "cbc:RegistrationName", item.customer_id)
    cur = {"currencyID": item.currency}
    amount, zero = _money(item, item.amount), _money(item, Decimal(0))
    _add(_add(root, "cac:TaxTotal"), "cbc:TaxAmount", zero, **cur)
    totals = _add(root, "cac:LegalMonetaryTotal")
    for name in ("LineExtensionAmount", "TaxExclusiveAmount", "TaxInclusiveAmount"):
        _add(totals, f"cbc:{name}", amount, **cur)
    _add(totals, "cbc:PayableAmount", amount, **cur)
    line = _add(root, "cac:CreditNoteLine")
    _add(line, "cbc:ID", "1")
    _add(line, "cbc:CreditedQuantity", "1", unitCode="C62")
    _add(line, "cbc:LineExtensionAmount", amount, **cur)
    product = _add(line, "cac:Item")
    _add(product, "cbc:Description", item.description)
    _add(product, "cbc:Name", f"SLA credit: {item.service}, {item.month}")
    _add(_add(line, "cac:Price"), "cbc:PriceAmount", amount, **cur)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _supplier(party: ET.Element, issuer: Any) -> None:
    _add(_add(party, "cac:PartyName"), "cbc:Name", issuer.name)
    address = _add(party, "cac:PostalAddress")
    for text in issuer.address:
        _add(_add(address, "cac:AddressLine"), "cbc:Line", text)
    if issuer.tax_id:
        scheme = _add(party, "cac:PartyTaxScheme")
        _add(scheme, "cbc:CompanyID", issuer.tax_id)
        _add(_add(scheme, "cac:TaxScheme"), "cbc:ID", "VAT")
    _add(_add(party, "cac:PartyLegalEntity"), "cbc:RegistrationName", issuer.name)
    if issuer.phone or issuer.email:
        contact = _add(party, "cac:Contact")
        if issuer.phone:
            _add(contact, "cbc:Telephone", issuer.phone)
        if issuer.email:
            _add(contact, "cbc:ElectronicMail", issuer.email)
