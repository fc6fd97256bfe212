"""Billing-system exports of the ledger and the document ids coming back (`ledger export`,
`ledger import-ids`), on SQLite and on PostgreSQL (the fixtures of test_ledger.py).

Every export parses (JSON Lines, CSV, XML), its amounts are the ledger's, its idempotency keys
are stable across exports and change with the amount; import-ids is idempotent. UBL is checked
structurally always, and against the OASIS UBL 2.1 schema when $SLACALC_UBL_XSD names a folder
holding maindoc/ and common/.
"""

from __future__ import annotations

import csv
import io
import json
import os
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest

from tests import test_ledger
from tests.test_ledger import cli, csv_rows, listed, post

# The ledger's fixtures: every test here runs on SQLite and on PostgreSQL too.
pg_cluster, target, files = test_ledger.pg_cluster, test_ledger.target, test_ledger.files

JSONL = ("stripe", "lago", "killbill")
CSV = ("chargebee", "zuora")
ISSUER = 'name = "Example Cloud Co., Ltd."\naddress = ["1 Example Road", "Shanghai"]\n'
ISSUER += 'tax_id = "91310115MA1K4XXXXX"\nemail = "billing@example.com"\n'
UBL = {
    "": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}


def export(target: str, system: str, *more: str, code: int = 0) -> str:
    return cli(target, "export", "--to", system, *more, code=code).stdout


def parsed(system: str, text: str) -> list[dict]:
    if system in JSONL:
        return [json.loads(line, parse_float=Decimal) for line in text.splitlines()]
    return list(csv.DictReader(io.StringIO(text)))


def amount_of(system: str, record: dict, currency: str) -> Decimal:
    """The amount a record carries, as a Decimal in the currency's units."""
    places = {"JPY": 0}.get(currency, 2)
    body = record.get("body")
    if system == "stripe":
        return Decimal(-body["amount"]).scaleb(-places)  # a balance transaction: a credit
    if system == "lago":
        return Decimal(body["wallet_transaction"]["granted_credits"])
    if system == "killbill":
        return body[0]["amount"]
    if system == "chargebee":
        return Decimal(record["total"]).scaleb(-places)
    return Decimal(record["Charge Amount"])


def key_of(system: str, record: dict) -> str:
    if system in JSONL:
        return record["idempotency_key"]
    return record["comment" if system == "chargebee" else "Comment"].rsplit(" ", 1)[1]


@pytest.mark.parametrize("system", JSONL + CSV)
def test_every_export_parses_with_the_ledgers_amounts_and_stable_keys(
    target, files, system
) -> None:
    post(target, files)
    approved = {cid: r for cid, r in listed(target).items() if r["status"] == "approved"}
    first = parsed(system, export(target, system))
    assert len(first) == len(approved) == 3
    for record, (cid, row) in zip(first, approved.items(), strict=True):
        if system in JSONL:
            assert record["credit_id"] == cid and record["method"] == "POST"
        assert amount_of(system, record, row["currency"]) == Decimal(row["approved"])
    again = parsed(system, export(target, system))
    assert [key_of(system, r) for r in again] == [key_of(system, r) for r in first]
    assert len({key_of(system, r) for r in first}) == len(first)
    # each credit exported has one event that tells it, however often it is exported
    events = json.loads(cli(target, "show", "acme:storage:2025-05", "-f", "json").stdout)["events"]
    exported = [e for e in events if e["what"] == "exported"]
    assert len(exported) == 1 and system in exported[0]["reason"]
    [record] = [r for r in first if key_of(system, r) in exported[0]["reason"]]


def test_a_changed_amount_gets_a_new_key_and_an_adjustment_its_own(target, files) -> None:
    post(target, files)
    cli(target, "issue", "acme:storage:2025-05", "--document", "CN-1")
    before = {r["credit_id"]: r for r in parsed("stripe", export(target, "stripe"))}
    assert "acme:storage:2025-05" not in before  # issued: its document exists
    with open(files["incidents"], "a") as fh:  # one more hour each, as test_ledger's late log
        fh.write("I-4,acme,storage,2025-05-20T00:00:00+08:00,2025-05-20T01:00:00+08:00\n")
        fh.write("I-5,globex,db,2025-06-10T00:00:00+08:00,2025-06-10T01:00:00+08:00\n")
    post(target, files)
    after = parsed("stripe", export(target, "stripe"))
    [adjustment] = [r for r in after if r["body"]["metadata"]["slacalc_kind"] == "adjustment"]
    assert adjustment["credit_id"] == "acme:storage:2025-05"
    assert adjustment["body"]["amount"] == -168  # the 1.68 CNY the re-post added
    keys = {r["credit_id"]: r["idempotency_key"] for r in after if r is not adjustment}
    assert keys.keys() == before.keys()
    changed = [cid for cid in keys if keys[cid] != before[cid]["idempotency_key"]]
    assert changed == ["globex:db:2025-06"]  # its amount went up: a new key
    june = next(r for r in after if r["credit_id"] == "globex:db:2025-06")
    assert june["body"]["amount"] == -347


def test_import_ids_marks_credits_issued_idempotently(target, files, tmp_path) -> None:
    post(target, files)
    lines = parsed("stripe", export(target, "stripe", "--month", "2025-05"))
    ids = tmp_path / "ids.csv"
    ids.write_text(
        "idempotency_key,document_id\n"
        + "".join(f"{r['idempotency_key']},cbtxn_{i}\n" for i, r in enumerate(lines))
    )
    done = csv_rows(cli(target, "import-ids", str(ids), "-f", "csv").stdout)
    assert len(lines) == 2 and [r["action"] for r in done] == ["issued"] * 2
    rows = listed(target)
    assert [rows[r["credit_id"]]["document_id"] for r in done] == ["cbtxn_0", "cbtxn_1"]
    assert {rows[r["credit_id"]]["status"] for r in done} == {"issued"}
    again = csv_rows(cli(target, "import-ids", str(ids), "-f", "csv").stdout)
    assert [r["action"] for r in again] == ["unchanged"] * 2
    # issued now: no longer in the default export
    assert parsed("stripe", export(target, "stripe", "--month", "2025-05")) == []
    # JSON Lines too; a document other than the one issued is an illegal move (exit 2)
    other = tmp_path / "ids.jsonl"
    other.write_text(
        json.dumps({"idempotency_key": lines[0]["idempotency_key"], "document_id": "X"})
    )
    result = cli(target, "import-ids", str(other), code=2)
    assert "is issued: cannot issue it" in result.stderr


def test_import_ids_unknown_key_is_file_line_exit_1(target, files, tmp_path) -> None:
    post(target, files)
    ids = tmp_path / "ids.csv"
    ids.write_text("idempotency_key,document_id\nslacalc_nope,cn_1\n")
    result = cli(target, "import-ids", str(ids), code=1)
    assert f"{ids}:2: column 'idempotency_key': no export recorded this key" in result.stderr
    assert "(value 'slacalc_nope')" in result.stderr


def test_an_adjustments_document_is_recorded_once(target, files, tmp_path) -> None:
    post(target, files)
    cli(target, "issue", "acme:storage:2025-05", "--document", "CN-1")
    with open(files["incidents"], "a") as fh:
        fh.write("I-4,acme,storage,2025-05-20T00:00:00+08:00,2025-05-20T01:00:00+08:00\n")
    post(target, files)
    rows = parsed("chargebee", export(target, "chargebee", "--customer", "acme"))
    [adj] = [r for r in rows if "adjustment" in r["customer_notes"]]
    assert adj["total"] == "168"
    ids = tmp_path / "ids.csv"
    ids.write_text(f"idempotency_key,document_id\n{key_of('chargebee', adj)},CN-2\n")
    [done] = csv_rows(cli(target, "import-ids", str(ids), "-f", "csv").stdout)
    assert (done["kind"], done["action"]) == ("adjustment", "documented")
    [again] = csv_rows(cli(target, "import-ids", str(ids), "-f", "csv").stdout)
    assert again["action"] == "unchanged"
    left = parsed("chargebee", export(target, "chargebee", "--customer", "acme"))
    assert all(
        "adjustment" not in r["customer_notes"] for r in left
    )  # documented: not exported again


def test_the_map_gives_invoices_and_accounts(target, files, tmp_path) -> None:
    post(target, files)
    ids = tmp_path / "map.csv"
    ids.write_text(
        "customer_id,month,account_id,invoice_id,charge_id,wallet_id\n"
        "acme,,cus_acme,,,\n"
        "acme,2025-05,cus_acme,in_acme05,il_acme05,\n"
    )
    stripe = parsed("stripe", export(target, "stripe", "--map", str(ids), "--customer", "acme"))
    note = stripe[0]["body"]
    assert stripe[0]["path"] == "/v1/credit_notes"
    assert (note["invoice"], note["lines"][0]["invoice_line_item"]) == ("in_acme05", "il_acme05")
    assert note["refund_amount"] == note["lines"][0]["amount"] == 168  # cash: money back
    lago = parsed("lago", export(target, "lago", "--map", str(ids), "--customer", "acme"))
    assert lago[0]["body"]["credit_note"]["items"] == [{"fee_id": "il_acme05", "amount_cents": 168}]
    kb = parsed("killbill", export(target, "killbill", "--map", str(ids)))
    assert (kb[0]["body"][0]["accountId"], kb[0]["body"][0]["invoiceId"]) == (
        "cus_acme",
        "in_acme05",
    )
    assert kb[2]["body"][0]["accountId"] == "globex"  # not in the map: the customer id
    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id,month,acount_id\nacme,2025-13,x\n")
    result = cli(target, "export", "--to", "stripe", "--map", str(bad), code=1)
    assert f"{bad}:1: column 'acount_id': unknown column" in result.stderr


def test_only_credits_with_a_document_to_make_are_exported(target, files) -> None:
    post(target, files)
    result = cli(target, "export", "--to", "stripe", "--status", "detected", code=2)
    assert "a detected credit has no billing document to make" in result.stderr
    assert parsed("stripe", export(target, "stripe", "--status", "issued")) == []


def _ubl_check(path: Path, amount: str, currency: str, invoice: str | None) -> None:
    """Parse, namespaces, the required elements in the schema's order, the amounts."""
    root = ET.parse(path).getroot()
    assert root.tag == f"{{{UBL['']}}}CreditNote"
    names = [child.tag.split("}")[1] for child in root]
    order = [
        *("UBLVersionID", "ID", "IssueDate", "CreditNoteTypeCode", "Note"),
        *("DocumentCurrencyCode", "BuyerReference", "InvoicePeriod", "BillingReference"),
        *("AccountingSupplierParty", "AccountingCustomerParty", "TaxTotal"),
        *("LegalMonetaryTotal", "CreditNoteLine"),
    ]
    assert names == [n for n in order if n != "BillingReference" or invoice]
    assert root.findtext("cbc:CreditNoteTypeCode", namespaces=UBL) == "381"
    payable = root.find("cac:LegalMonetaryTotal/cbc:PayableAmount", UBL)
    assert (payable.text, payable.get("currencyID")) == (amount, currency)
    line = root.find("cac:CreditNoteLine/cbc:LineExtensionAmount", UBL)
    assert line.text == amount
    supplier = root.findtext(
        "cac:AccountingSupplierParty/cac:Party/cac:PartyName/cbc:Name", namespaces=UBL
    )
    assert supplier == "Example Cloud Co., Ltd."
    if invoice:
        ref = "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID"
        assert root.findtext(ref, namespaces=UBL) == invoice


def test_ubl_credit_notes_are_valid_documents(target, files, tmp_path) -> None:
    post(target, files)
    issuer = tmp_path / "issuer.toml"
    issuer.write_text(ISSUER)
    ids = tmp_path / "map.csv"
    ids.write_text("customer_id,month,invoice_id\nacme,2025-05,INV-2025-05-17\n")
    out = tmp_path / "ubl"
    cli(target, "export", "--to", "ubl", "--issuer", str(issuer), "--map", str(ids), "-o", str(out))
    rows = {r["credit_id"]: r for r in listed(target).values() if r["status"] == "approved"}
    written = sorted(p.name for p in out.iterdir())
    assert written == sorted(cid.replace(":", "_") + ".xml" for cid in rows)
    for cid, row in rows.items():
        invoice = "INV-2025-05-17" if cid.startswith("acme:") else None
        _ubl_check(
            out / (cid.replace(":", "_") + ".xml"), row["approved"], row["currency"], invoice
        )
    assert cli(target, "export", "--to", "ubl", "-o", str(out), code=2).stderr.count("--issuer")
    folder = os.environ.get("SLACALC_UBL_XSD")
    if not folder:
        pytest.skip(
            "schema validation: set SLACALC_UBL_XSD to the UBL 2.1 xsd folder (maindoc/, common/)"
        )
    import xmlschema

    schema = xmlschema.XMLSchema(os.path.join(folder, "maindoc", "UBL-CreditNote-2.1.xsd"))
    for path in out.iterdir():
        schema.validate(str(path))
