"""API requests as JSON Lines: one request a line, for a small script to replay::

    {"idempotency_key": "slacalc_…", "credit_id": "acme:storage:2025-05", "method": "POST",
     "path": "/v1/credit_notes", "body": {...}}

Money inside ``body`` is what the system's API takes: integers of minor units, decimal text, or
(Kill Bill) a JSON number written from the exact decimal, never through a binary float.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any, TextIO

from slacalc.ledger.exports.core import Item

# A Decimal is written as a marker string first, then the marker replaced by its digits.
_MARK = "\x00decimal:"
_MARKED = re.compile(r'"\\u0000decimal:(-?[0-9]+(?:\.[0-9]+)?)"')


def request(item: Item, method: str, path: str, body: Any) -> dict[str, Any]:
    return {
        "idempotency_key": item.key,
        "credit_id": item.credit_id,
        "method": method,
        "path": path,
        "body": body,
    }


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{_MARK}{value:f}"
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(record: dict[str, Any]) -> str:
    """One compact JSON line; a Decimal becomes a JSON number with its exact digits."""
    text = json.dumps(record, ensure_ascii=False, default=_default, separators=(",", ":"))
    return _MARKED.sub(r"\1", text)


def write_lines(records: list[dict[str, Any]], out: TextIO) -> None:
    for record in records:
        out.write(dumps(record) + "\n")
