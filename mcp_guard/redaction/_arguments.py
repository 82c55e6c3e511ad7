"""Tool-call arguments as the audit trail keeps them.

Arguments are untyped JSON, read as a create or update call's body would be: a key takes the
class its name has most often in Stripe's model (`name`, `line1`, `description`, `email` are
masked; `country`, `currency`, `type` are not), other strings pass the detectors and learned
values. A Stripe search query (`query`, or `parameters.query` of `stripe_api_read`): each clause's value is masked
by the class of the field it filters on, looked up in the field table for the operation's object
type (`email:"jenny@example.com"` -> `email:"[redacted:email]"`; `status:"active"` stays). A query
that does not parse is masked whole.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from mcp_guard import stripe_search

if TYPE_CHECKING:
    from mcp_guard.redaction._walk import Walk

_SAFE_WITHOUT_TYPE = frozenset({"status", "amount", "currency", "created", "active", "type", "total"})


def redact_arguments(walk: Walk, arguments: Any) -> Any:
    walk.anywhere = walk.compiled.table.usual_by_name  # `create_customer {"name": ...}`: a person's name
    if isinstance(arguments, dict):
        arguments = _with_masked_queries(walk, arguments)
    return walk.top(arguments)


def _with_masked_queries(walk: Walk, arguments: dict[str, Any]) -> dict[str, Any]:
    operation = arguments.get("stripe_api_operation_id")
    type_name = walk.compiled.table.operations.get(operation) if isinstance(operation, str) else None
    out = arguments
    if isinstance(arguments.get("query"), str) and type_name is not None:
        out = {**out, "query": _masked(walk, arguments["query"], type_name)}
    parameters = arguments.get("parameters")
    if isinstance(parameters, str):
        try:
            decoded = json.loads(parameters)
        except ValueError:
            decoded = None
        if isinstance(decoded, dict) and isinstance(decoded.get("query"), str):
            decoded["query"] = _masked(walk, decoded["query"], type_name)
            out = {**out, "parameters": json.dumps(decoded, ensure_ascii=False)}
    elif isinstance(parameters, dict) and isinstance(parameters.get("query"), str):
        out = {**out, "parameters": {**parameters, "query": _masked(walk, parameters["query"], type_name)}}
    return out


def _masked(walk: Walk, query: str, type_name: str | None) -> str:
    try:
        parsed = stripe_search.parse(query)
    except stripe_search.SearchQueryError:
        _count(walk, "query")
        return "[redacted:query]"
    keep = walk.compiled.keep_keys

    def replacement(clause: stripe_search.Clause) -> str | None:
        key = clause.metadata_key
        cls = field_class(walk, type_name, clause.field) if key is None else (None if key in keep else "metadata")
        if cls is None or clause.value.lower() == "null":
            return None
        _count(walk, cls)
        return f"[redacted:{cls}]"

    return stripe_search.mask(parsed, replacement)


def field_class(walk: Walk, type_name: str | None, field: str) -> str | None:
    """The class of a dotted field of an object type (None: safe); `unknown` where the table has no such field."""
    if type_name is None:
        return None if field in _SAFE_WITHOUT_TYPE else walk.anywhere.get(field, "unknown")
    entry: Any = walk.compiled.table.objects.get(type_name)
    for segment in field.split("."):
        while isinstance(entry, list) and entry and entry[0] in ("[]", "x", "L"):
            entry = entry[1]
        if not isinstance(entry, dict) or segment not in entry:
            return "unknown"
        entry = entry[segment]
    while isinstance(entry, list) and entry and entry[0] in ("[]", "x"):
        entry = entry[1]
    if not isinstance(entry, str):
        return "unknown"
    if entry.startswith(("@", "x@")):
        return None  # an id
    _, _, cls = entry.partition(":")
    return cls or None


def _count(walk: Walk, cls: str) -> None:
    walk.counts[cls] = walk.counts.get(cls, 0) + 1
    walk.changes.append((None, "query"))
