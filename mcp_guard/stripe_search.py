"""Stripe's search query language (https://docs.stripe.com/search#search-query-language), parsed.

    email:"jenny@example.com"  name~"jen"  amount>1000  -status:"canceled"  metadata['booking_id']:'B-1'
    clause     := ["-"] field operator value
    field      := word ("." word)*  |  "metadata[" quoted-key "]"
    operator   := ":" (exact)  "~" (substring)  ">" "<" ">=" "<=" "=" (numbers)
    value      := 'single' or "double" quoted (backslash escapes a quote), a number, null, or a bare word
    query      := clause ((" " | " AND " | " OR ") clause)*   AND and OR may not be mixed

A pure module: `parse` gives the clauses and where each value sits in the text, `fields` the fields a
query touches (`metadata[booking_id]` for metadata), `denial` a reason to refuse a query that
touches fields outside an allowed set (None to allow), and `mask` the query with chosen values
replaced, for the audit trail.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

MAX_CLAUSES = 10  # Stripe's own limit: a longer query is refused by Stripe, so by us too
_OPERATORS = (">=", "<=", ":", "~", ">", "<", "=")
_FIELD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")
_BARE_STOP = frozenset(" \t\r\n")


class SearchQueryError(ValueError):
    """The text is not a query in Stripe's search language; the message says where."""


@dataclass(frozen=True, slots=True)
class Clause:
    field: str  # `email`, `payment_method_details.card.last4`, `metadata[booking_id]`
    operator: str
    value: str  # unquoted and unescaped
    negated: bool
    start: int  # where the value (with its quotes) starts in the query text
    end: int

    @property
    def metadata_key(self) -> str | None:
        return self.field[len("metadata["):-1] if self.field.startswith("metadata[") else None


@dataclass(frozen=True, slots=True)
class SearchQuery:
    text: str
    clauses: tuple[Clause, ...]
    joiner: str  # "AND" or "OR" (a single clause: "AND")


def parse(text: str) -> SearchQuery:
    """The clauses of a query; raises SearchQueryError on anything Stripe would not accept."""
    if not isinstance(text, str):
        raise SearchQueryError("a search query must be a string")
    clauses: list[Clause] = []
    joiners: set[str] = set()
    i = _skip_space(text, 0)
    while i < len(text):
        if clauses:
            word_end = _word_end(text, i)
            word = text[i:word_end].upper()
            if word in ("AND", "OR") and word_end < len(text) and text[word_end] in _BARE_STOP:
                joiners.add(word)
                i = _skip_space(text, word_end)
            if i >= len(text):
                raise SearchQueryError(f"the query ends after {word} without a clause")
        clause, i = _clause(text, i)
        clauses.append(clause)
        i = _skip_space(text, i)
    if not clauses:
        raise SearchQueryError("the query is empty")
    if len(joiners) > 1:
        raise SearchQueryError("AND and OR cannot be combined in one query")
    if len(clauses) > MAX_CLAUSES:
        raise SearchQueryError(f"the query has {len(clauses)} clauses; Stripe allows at most {MAX_CLAUSES}")
    return SearchQuery(text, tuple(clauses), next(iter(joiners), "AND"))


def fields(query: str | SearchQuery) -> frozenset[str]:
    """The fields a query filters on: `{"status", "metadata[booking_id]"}`."""
    parsed = parse(query) if isinstance(query, str) else query
    return frozenset(clause.field for clause in parsed.clauses)


def denial(query: str, allowed: Collection[str]) -> str | None:
    """None if every field of `query` is in `allowed` (`status`, `metadata[booking_id]`...), else why not.

    `metadata[*]` in `allowed` allows every metadata key. A query that does not parse is refused.
    """
    try:
        touched = fields(query)
    except SearchQueryError as exc:
        return f"the search query is not valid Stripe search syntax ({exc})"
    refused = sorted(f for f in touched if f not in allowed and not (f.startswith("metadata[") and "metadata[*]" in allowed))
    if not refused:
        return None
    permitted = ", ".join(sorted(allowed)) or "none"
    return f"the search query filters on {', '.join(refused)}, which this profile does not allow in searches (allowed: {permitted})"


def mask(query: str | SearchQuery, replacement: Callable[[Clause], str | None]) -> str:
    """The query with each value for which `replacement` returns text replaced by it, quoted; the rest as written."""
    parsed = parse(query) if isinstance(query, str) else query
    text = parsed.text
    pieces: list[str] = []
    last = 0
    for clause in parsed.clauses:
        new = replacement(clause)
        if new is None:
            continue
        pieces += [text[last:clause.start], _quote(new)]
        last = clause.end
    pieces.append(text[last:])
    return "".join(pieces)


# -- scanning ---------------------------------------------------------------------------------


def _clause(text: str, i: int) -> tuple[Clause, int]:
    negated = text[i] == "-"
    if negated:
        i += 1
    field, i = _field(text, i)
    operator = next((op for op in _OPERATORS if text.startswith(op, i)), None)
    if operator is None:
        raise SearchQueryError(f"expected an operator (: ~ > < >= <= =) after {field!r} at position {i}")
    i += len(operator)
    start = i
    value, i = _value(text, i)
    if operator == "~" and len(value) < 3:
        raise SearchQueryError(f"a substring match (~) needs at least 3 characters, at position {start}")
    return Clause(field, operator, value, negated, start, i), i


def _field(text: str, i: int) -> tuple[str, int]:
    if text.startswith("metadata[", i):
        i += len("metadata[")
        if i >= len(text) or text[i] not in "'\"":
            raise SearchQueryError(f"a metadata key must be quoted, as in metadata['key'], at position {i}")
        key, i = _quoted(text, i)
        if i >= len(text) or text[i] != "]":
            raise SearchQueryError(f"expected ] after the metadata key at position {i}")
        return f"metadata[{key}]", i + 1
    start = i
    while i < len(text) and text[i] in _FIELD_CHARS:
        i += 1
    field = text[start:i]
    if not field or field[0] == "." or field[-1] == "." or ".." in field:
        raise SearchQueryError(f"expected a field name at position {start}")
    return field, i


def _value(text: str, i: int) -> tuple[str, int]:
    if i >= len(text) or text[i] in _BARE_STOP:
        raise SearchQueryError(f"expected a value at position {i}")
    if text[i] in "'\"":
        return _quoted(text, i)
    start = i
    while i < len(text) and text[i] not in _BARE_STOP:
        if text[i] in "'\"":
            raise SearchQueryError(f"unexpected quote inside an unquoted value at position {i}")
        i += 1
    return text[start:i], i


def _quoted(text: str, i: int) -> tuple[str, int]:
    quote = text[i]
    i += 1
    chars: list[str] = []
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            chars.append(text[i + 1])
            i += 2
            continue
        if ch == quote:
            return "".join(chars), i + 1
        chars.append(ch)
        i += 1
    raise SearchQueryError(f"a quoted value is not closed (opened with {quote})")


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i] in _BARE_STOP:
        i += 1
    return i


def _word_end(text: str, i: int) -> int:
    while i < len(text) and text[i] not in _BARE_STOP:
        i += 1
    return i
