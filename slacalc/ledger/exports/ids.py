"""``ledger import-ids FILE``: the billing system's document ids back into the ledger.

FILE is a CSV with a header ``idempotency_key,document_id`` or JSON Lines of objects with those
two keys (a ``.jsonl`` / ``.json`` name, or a first character ``{``). Each key is one an export
recorded: a credit's key marks the credit ``issued`` with that document (the lifecycle's own
``issue``: an approved credit of a final month); an adjustment's key records its document
(a ``documented`` event). A key already done with the same document changes nothing; an
unknown key is ``FILE:LINE`` (exit 1, every line checked before anything is written).
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from slacalc.errors import InputError, Problem, UsageError, printable, shown
from slacalc.ledger import credits as cr
from slacalc.ledger.exports.core import ADJUSTMENT, DOCUMENTED, exported_keys

FIELDS = ("idempotency_key", "document_id")
RESULT_FIELDS = ("line", "idempotency_key", "credit_id", "kind", "document_id", "action")
MAX_IDS_BYTES = 64 << 20


def read_ids(path: str) -> list[tuple[int, str, str]]:
    """(line, key, document id) of each line of FILE. Raises InputError."""
    from slacalc.reading.files import read_small_text

    name = printable(path)
    text = read_small_text(path, limit=MAX_IDS_BYTES, what="a file of ids (CSV or JSON Lines)")
    jsonl = path.endswith((".jsonl", ".json")) or text.lstrip().startswith("{")
    out, problems = (_jsonl if jsonl else _csv)(name, text)
    if problems:
        raise InputError(problems)
    return out


def _check(name: str, line: int, key: Any, doc: Any, problems: list[Problem]) -> bool:
    ok = True
    for column, value in (("idempotency_key", key), ("document_id", doc)):
        if not isinstance(value, str) or not value.strip():
            problems.append(Problem(name, line, "expected text, not empty", column=column))
            ok = False
    return ok


def _csv(name: str, text: str) -> tuple[list[tuple[int, str, str]], list[Problem]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [f for f in FIELDS if f not in header]
    if missing:
        return [], [Problem(name, 1, f"expected a header with {', '.join(FIELDS)}")]
    out, problems = [], []
    for row in reader:
        row = {(k or "").strip(): v for k, v in row.items()}
        key, doc = row.get("idempotency_key"), row.get("document_id")
        if _check(name, reader.line_num, key, doc, problems):
            out.append((reader.line_num, key.strip(), doc.strip()))
    return out, problems


def _jsonl(name: str, text: str) -> tuple[list[tuple[int, str, str]], list[Problem]]:
    out, problems = [], []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as exc:
            problems.append(Problem(name, number, f"not a JSON object: {exc.args[0]}"))
            continue
        if not isinstance(value, dict):
            problems.append(Problem(name, number, "expected a JSON object"))
            continue
        key, doc = value.get("idempotency_key"), value.get("document_id")
        if _check(name, number, key, doc, problems):
            out.append((number, key.strip(), doc.strip()))
    return out, problems


def import_ids(ledger: Any, path: str, *, as_of: int) -> list[dict[str, Any]]:
    """Read FILE and record each document id, in one transaction; one record per line."""
    lines = read_ids(path)
    name = printable(path)
    known = exported_keys(ledger)
    problems = [
        Problem(name, line, "no export recorded this key", column="idempotency_key", value=key)
        for line, key, _ in lines
        if key not in known
    ]
    if problems:
        raise InputError(problems)
    out = []
    with ledger.transaction():
        documented = _documents(ledger)
        for line, key, doc in lines:
            found = known[key]
            cid = found["credit_id"]
            record = {
                "line": line,
                "idempotency_key": key,
                "credit_id": cid,
                "kind": found.get("kind", ""),
                "document_id": doc,
            }
            if found.get("kind") == ADJUSTMENT:
                record["action"] = _adjustment(ledger, found, key, doc, documented)
            else:
                record["action"] = _credit(ledger, cid, doc, as_of, found.get("amount"))
            out.append(record)
    return out


def _documents(ledger: Any) -> dict[str, str]:
    """The document of each adjustment key already recorded."""
    out = {}
    for row in ledger.db.rows("SELECT detail FROM events WHERE what = ?", (DOCUMENTED,)):
        detail = json.loads(row["detail"] or "{}")
        out[detail.get("idempotency_key", "")] = detail.get("document_id", "")
    return out


def _credit(ledger: Any, cid: str, doc: str, as_of: int, found_amount: str | None) -> str:
    row = ledger.credit(cid)
    if row["status"] in cr.PAID_STATES and row["document_id"] == doc:
        return "unchanged"
    if row["status"] == cr.APPROVED and row["approved"] != found_amount:
        raise UsageError(
            f"credit '{shown(cid)}' was exported for {found_amount} {row['currency']} and is "
            f"approved for {row['approved']} now: export it again and import the new key"
        )
    ledger.issue(cid, document=doc, as_of=as_of)  # IllegalTransition (exit 2) when not approved
    return "issued"


def _adjustment(
    ledger: Any, found: dict[str, Any], key: str, doc: str, documented: dict[str, str]
) -> str:
    cid = found["credit_id"]
    if key in documented:
        if documented[key] == doc:
            return "unchanged"
        raise UsageError(
            f"credit '{shown(cid)}': adjustment {found['adjustment']} has document "
            f"'{shown(documented[key])}' already, not '{shown(doc)}'"
        )
    ledger.note(
        cid,
        DOCUMENTED,
        amount=found.get("amount"),
        reason=f"adjustment {found['adjustment']}: document {doc}",
        detail={
            "system": found.get("system"),
            "idempotency_key": key,
            "adjustment": found["adjustment"],
            "document_id": doc,
        },
    )
    documented[key] = doc
    return "documented"
