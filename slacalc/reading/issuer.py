"""The issuer file: who issues the customer statements (name, postal address, tax id,
contact), as a small TOML file given with ``slacalc statement --issuer FILE`` (or
``$SLACALC_ISSUER``)::

    name = "Example Cloud Co., Ltd."
    address = ["Floor 12, 1 Example Road", "Pudong, Shanghai 200120", "China"]
    tax_id = "91310115MA1K4XXXXX"
    email = "billing@example.com"
    phone = "+86 21 5555 0100"
    note = "Questions about this statement: billing@example.com, quoting its number."

    [zh]  # the Chinese page's own name, address and note (optional)
    name = "示例云计算有限公司"
    address = ["上海市浦东新区示例路 1 号 12 楼", "邮编 200120"]

The file is read strictly, as policy files are: every key known (a typo gets a suggestion),
each value of the right kind and length, no control character; every problem is collected and
reported together as an :class:`~slacalc.errors.InputError` (exit 1), one line each:
``issuer.toml:3: key 'email': not an e-mail address (value 'billing')``.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from slacalc.errors import InputError, Problem, printable
from slacalc.reading.files import STDIN, read_small_text

__all__ = ["LANGUAGES", "MAX_ISSUER_BYTES", "Issuer", "read_issuer"]

MAX_ISSUER_BYTES = 64 << 10
# The languages a statement is written in (slacalc.writing.statement.messages.LANGS): each may
# have a table of its own that overrides the name, address and note on its page.
LANGUAGES = ("en", "zh")
MAX_TEXT = 200  # characters of a name, an address line, a tax id or a contact
MAX_NOTE = 1000
MAX_ADDRESS_LINES = 8

_TEXT_KEYS = ("name", "address", "note")  # the keys a language table may override
_KEYS = ("name", "address", "tax_id", "email", "phone", "note", *LANGUAGES)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_PHONE = re.compile(r"\+?[0-9(][0-9 ()./-]*[0-9](?: ?(?:ext\.?|x) ?[0-9]{1,6})?", re.IGNORECASE)


@dataclass(frozen=True)
class Issuer:
    """Who issues a statement, as the issuer file says; :meth:`in_language` gives the name,
    address and note of one language's page."""

    name: str
    address: tuple[str, ...]
    tax_id: str | None = None
    email: str | None = None
    phone: str | None = None
    note: str | None = None
    source: str | None = None  # the file it was read from
    languages: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, compare=False)

    @property
    def key(self) -> str:
        """What tells issuers apart in a statement number: the tax id, else the name (the
        address or a phone number may change without the issuer changing)."""
        return self.tax_id or self.name

    def in_language(self, lang: str) -> Issuer:
        """The issuer as the page in ``lang`` shows it: that language's table applied."""
        own = self.languages.get(lang)
        return replace(self, **own) if own else self


def read_issuer(path: str) -> Issuer:
    """Read and check an issuer file (see the module's doc). Raises InputError."""
    if path == STDIN:
        raise InputError(
            Problem("<stdin>", None, "an issuer file cannot be standard input: give its path")
        )
    if not path.strip():
        raise InputError(Problem("--issuer", None, "the issuer file's path is empty"))
    text = read_small_text(path, limit=MAX_ISSUER_BYTES, what="an issuer file")
    try:
        document = tomllib.loads(text, parse_float=Decimal)  # never a binary float
    except tomllib.TOMLDecodeError as exc:
        raise InputError(_toml_problem(path, str(exc))) from None
    except (RecursionError, ValueError) as exc:  # nested or a number beyond Python's limits
        raise InputError(Problem(path, None, f"cannot be read as TOML: {exc}")) from None
    reader = _Reader(path, text)
    issuer = reader.issuer(document)
    if reader.problems or issuer is None:
        raise InputError(reader.problems)
    return issuer


def _toml_problem(path: str, message: str) -> Problem:
    """tomllib's message (``Expected '=' ... (at line 3, column 5)``) with its line as the
    problem's own."""
    found = re.search(r"\s*\(at line (\d+), column \d+\)$", message)
    if found is None:
        return Problem(path, None, f"not valid TOML: {message}")
    return Problem(path, int(found.group(1)), f"not valid TOML: {message[: found.start()]}")


def _key_lines(text: str) -> dict[str, int]:
    """The line where each key (``zh.name`` inside ``[zh]``) and table is first written: the
    problems' line numbers (tomllib keeps none)."""
    out: dict[str, int] = {}
    table = ""
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        header = re.match(r"\[\s*([A-Za-z0-9_.-]+)\s*\]", stripped)
        if header:
            table = header.group(1)
            out.setdefault(table, number)
            continue
        key = re.match(r"[\"']?([A-Za-z0-9_.-]+)[\"']?\s*=", stripped)
        if key:
            out.setdefault(f"{table}.{key.group(1)}" if table else key.group(1), number)
    return out


def _kind(value: Any) -> str:
    names = {bool: "true/false", int: "a number", Decimal: "a number", list: "an array"}
    if isinstance(value, dict):
        return "a table"
    return names.get(type(value), f"a {type(value).__name__}")


class _Reader:
    """Checks one issuer document, collecting a problem per mistake."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.lines = _key_lines(text)
        self.problems: list[Problem] = []

    def bad(self, key: str, message: str, value: str | None = None) -> None:
        line = self.lines.get(key) or self.lines.get(key.split(".")[0])
        self.problems.append(Problem(self.path, line, f"key '{key}': {message}", value=value))

    def unknown(self, table: Mapping[str, Any], known: tuple[str, ...], prefix: str) -> None:
        for key in table:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1, cutoff=0.5)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                self.bad(prefix + key, f"unknown key{hint} (known: {', '.join(known)})")

    def text(self, key: str, value: Any, *, limit: int = MAX_TEXT, lines: bool = False) -> str:
        """One text: a TOML string, not empty, at most ``limit`` characters, with no control
        character (line breaks only where ``lines``). "" when it is wrong."""
        if not isinstance(value, str):
            self.bad(key, f"expected text in quotes, got {_kind(value)}", str(value))
            return ""
        text = value.strip()
        if not text:
            self.bad(key, "empty; write the value, or leave the key out if it is optional")
            return ""
        if len(text) > limit:
            self.bad(key, f"longer than {limit} characters", text)
            return ""
        if printable(text, lines=lines) != text:
            where = "" if lines else "; write one line"
            self.bad(key, f"holds a control character{where}", text)
            return ""
        return text

    def address(self, key: str, value: Any) -> tuple[str, ...]:
        """The address as lines: an array of texts (or one text, a line per line)."""
        if isinstance(value, str):
            value = [x for x in value.splitlines() if x.strip()] or [value]
        if not isinstance(value, list):
            self.bad(key, f"expected an array of lines, got {_kind(value)}", str(value))
            return ()
        if not value or len(value) > MAX_ADDRESS_LINES:
            self.bad(key, f"expected 1 to {MAX_ADDRESS_LINES} lines, got {len(value)}")
            return ()
        lines = tuple(self.text(f"{key}[{i + 1}]", x) for i, x in enumerate(value))
        return lines if all(lines) else ()

    def contact(self, key: str, value: Any, pattern: re.Pattern[str], what: str) -> str | None:
        text = self.text(key, value)
        if not text:
            return None
        if not pattern.fullmatch(text):
            self.bad(key, f"not {what}", text)
            return None
        return text

    def issuer(self, data: dict[str, Any]) -> Issuer | None:
        self.unknown(data, _KEYS, "")
        for key in ("name", "address"):
            if key not in data:
                self.bad(key, "missing: the issuer's legal name and postal address are required")
        name = self.text("name", data["name"]) if "name" in data else ""
        address = self.address("address", data["address"]) if "address" in data else ()
        tax_id = self.text("tax_id", data["tax_id"]) if "tax_id" in data else None
        email = (
            self.contact("email", data["email"], _EMAIL, "an e-mail address (name@example.com)")
            if "email" in data
            else None
        )
        phone = (
            self.contact(
                "phone", data["phone"], _PHONE, "a phone number (digits, +, spaces, - ( ) .)"
            )
            if "phone" in data
            else None
        )
        note = (
            self.text("note", data["note"], limit=MAX_NOTE, lines=True) if "note" in data else None
        )
        languages = {}
        for lang in LANGUAGES:
            if lang in data:
                languages[lang] = self.language(lang, data[lang])
        if self.problems:
            return None
        return Issuer(
            name=name,
            address=address,
            tax_id=tax_id,
            email=email,
            phone=phone,
            note=note,
            source=self.path,
            languages=languages,
        )

    def language(self, lang: str, table: Any) -> dict[str, Any]:
        """A language's own name, address and note."""
        if not isinstance(table, dict):
            self.bad(lang, f"expected a table [{lang}], got {_kind(table)}")
            return {}
        self.unknown(table, _TEXT_KEYS, f"{lang}.")
        out: dict[str, Any] = {}
        if "name" in table:
            out["name"] = self.text(f"{lang}.name", table["name"])
        if "address" in table:
            out["address"] = self.address(f"{lang}.address", table["address"])
        if "note" in table:
            out["note"] = self.text(f"{lang}.note", table["note"], limit=MAX_NOTE, lines=True)
        return out
