"""Decide whether a profile lets a tool call (or an MCP method) through. Pure; no I/O.

Classification (`mcp_guard.classify`) judges the tool name and the dispatchers' operation id; a
profile's `tools:` entry with an `operation` then overrides it (never for the two dispatchers,
which the config refuses). Order, first match wins:
1. a `stripe_api_read` call with a Post*/Delete* operation id, or a `stripe_api_write` call with
   a Get* one, is denied under any policy (`dispatcher-mismatch`);
2. a `tools:` entry with `decision: deny` denies;
3. an operation in `blocked_operations` is denied (blocked wins over allowed);
4. a `tools:` entry with `decision: allow` allows;
5. an operation in `allowed_operations` is allowed;
6. anything else is denied (whatever is not allowed is denied, `other` included).
An allowed call then has its arguments checked (`arguments:` of the profile): `limit` cap,
`expand` paths, connected accounts, and the fields an account-data search filters on
(`check_search`). A guard that fails while deciding denies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from mcp_guard import stripe_search
from mcp_guard.classify import DISPATCHERS, READ_DISPATCHER, Classification, classify, name_key
from mcp_guard.config import ArgumentRules, Profile, ToolRule
from mcp_guard.operations import WRITE_OPERATIONS, Operation

READ_OPERATIONS = frozenset({Operation.READ, Operation.LIST, Operation.SEARCH})
# Argument names (folded like tool names: case, separators, camelCase) that make Stripe act as
# another (connected) account: `stripeAccount`, `Stripe-Account`, `stripe.account` all fold here.
CONNECTED_ACCOUNT_KEYS = frozenset({"stripe_account", "stripe_account_id", "stripe_context", "connected_account"})
# Argument rules look this deep into nested argument objects (headers, options, ...).
MAX_ARGUMENT_DEPTH = 16
_EXPAND_KEY = re.compile(r"^expand(\[\d*\])?$")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    operation: Operation
    rule: str  # the config path or built-in rule that decided, e.g. "profiles.live.blocked_operations"
    reason: str  # one short sentence the model can act on
    basis: str = ""  # how the operation was classified
    operation_id: str | None = None  # the dispatcher's stripe_api_operation_id, when there is one


def decide(profile: Profile, tool: str, arguments: Mapping[str, Any] | None) -> Decision:
    """The decision for one tools/call: the tool's operation, then its arguments."""
    try:
        decision = decide_tool(profile, tool, arguments)
        if not decision.allowed:
            return decision
        violation = check_arguments(profile, arguments) or check_search(profile, decision, arguments)
        if violation is not None:
            rule, reason = violation
            return Decision(False, decision.operation, rule, reason, decision.basis, decision.operation_id)
        return decision
    except Exception:  # noqa: BLE001 - fail closed: a policy that cannot decide denies
        return Decision(False, Operation.OTHER, "guard-error", "The guard could not evaluate this call, so it was refused.")


def decide_tool(profile: Profile, tool: str, arguments: Mapping[str, Any] | None) -> Decision:
    """The decision on the tool and its operation alone (no argument rules)."""
    return _decide_operation(profile, tool, classify_for(profile, tool, arguments))


def classify_for(profile: Profile, tool: str, arguments: Mapping[str, Any] | None) -> Classification:
    """The classification, with the profile's `tools:` entry applied where it names an operation."""
    classification = classify(tool, arguments)
    rule_name, rule = find_tool_rule(tool, profile.tools)
    if rule is not None and rule.operation is not None and name_key(tool) not in DISPATCHERS:
        return Classification(rule.operation, f"policy tools.{rule_name}")
    return classification


def find_tool_rule(tool: str, tool_rules: Mapping[str, ToolRule]) -> tuple[str, ToolRule | None]:
    """The profile's entry for `tool`, matched spelling-insensitively; (tool, None) if none."""
    if not tool_rules or not isinstance(tool, str) or not tool.isascii():
        return tool, None
    if tool in tool_rules:
        return tool, tool_rules[tool]
    key = name_key(tool)
    for name, rule in tool_rules.items():
        if name_key(name) == key:
            return name, rule
    return tool, None


def is_listed(profile: Profile, tool: str) -> bool:
    """Whether any call of `tool` could be allowed: the same decision, without arguments.

    `stripe_api_read` is listed iff some read, list or search operation is allowed;
    `stripe_api_write` iff some create, update or delete operation is.
    """
    try:
        if isinstance(tool, str) and tool.isascii() and name_key(tool) in DISPATCHERS:
            family = READ_OPERATIONS if name_key(tool) == READ_DISPATCHER else WRITE_OPERATIONS
            return any(
                _decide_operation(profile, tool, Classification(op, "listing")).allowed for op in sorted(family)
            )
        return _decide_operation(profile, tool, classify_for(profile, tool, None)).allowed
    except Exception:  # noqa: BLE001 - fail closed: hide what cannot be decided
        return False


def decide_method(profile: Profile, method: str) -> Decision:
    """allowed_methods check for a client request (notifications are not checked)."""
    rule = f"profiles.{profile.name}.allowed_methods"
    if method in profile.allowed_methods:
        return Decision(True, Operation.OTHER, rule, f"{method} is allowed.")
    return Decision(False, Operation.OTHER, rule, f"The method {method!r} is not allowed by profile {profile.name!r}.")


def _decide_operation(profile: Profile, tool: str, c: Classification) -> Decision:
    name = profile.name
    op = c.operation
    what = f"{tool} {c.operation_id}" if c.operation_id else tool

    def verdict(allowed: bool, rule: str, reason: str) -> Decision:
        return Decision(allowed, op, rule, reason, c.basis, c.operation_id)

    if c.dispatcher_mismatch:
        runs = "GET (Get*)" if name_key(tool) == READ_DISPATCHER else "POST and DELETE (Post*, Delete*)"
        return verdict(False, "dispatcher-mismatch", f"{tool} only runs {runs} operations; {c.operation_id} is {_a(op)} operation, so the call was refused.")
    rule_name, tool_rule = find_tool_rule(tool, profile.tools)
    if tool_rule is not None and tool_rule.decision == "deny":
        return verdict(False, f"profiles.{name}.tools.{rule_name}", f"{tool} is denied by profile {name!r}.")
    if op in profile.blocked_operations:
        return verdict(False, f"profiles.{name}.blocked_operations", f"{what} is {_a(op)} operation, and {op.value} operations are blocked in profile {name!r}.")
    if tool_rule is not None and tool_rule.decision == "allow":
        return verdict(True, f"profiles.{name}.tools.{rule_name}", f"{tool} is allowed by profile {name!r}.")
    if op in profile.allowed_operations:
        return verdict(True, f"profiles.{name}.allowed_operations", f"{op.value} operations are allowed.")
    only = ", ".join(o.value for o in profile.allowed_operations if o not in profile.blocked_operations) or "nothing"
    if op is Operation.OTHER:
        reason = f"{what} is not a recognised read ({c.basis}); profile {name!r} only allows {only}."
    else:
        reason = f"{what} is {_a(op)} operation; profile {name!r} only allows {only}."
    return verdict(False, f"profiles.{name}.allowed_operations", reason)


def _a(op: Operation) -> str:
    return ("an " if op.value[0] in "aeiou" else "a ") + op.value


# --------------------------------------------------------------------------------------------
# Argument constraints


def check_arguments(profile: Profile, arguments: object) -> tuple[str, str] | None:
    """(rule, reason) for the first argument constraint the call breaks, or None.

    Keys are folded like tool names (`stripeAccount`, `Stripe-Account`, `LIMIT`), and nested
    objects (`headers`, `options`, `parameters`) are searched too: an upstream or a library
    between it and Stripe may read any of those spellings.
    """
    prefix = f"profiles.{profile.name}.arguments"
    if arguments is None:
        return None
    if not isinstance(arguments, Mapping):
        return prefix, "Tool arguments must be a JSON object."
    for scope in _argument_scopes(arguments):
        if scope is None:
            return prefix, "stripe_api parameters must be a JSON object."
        found = _check_scope(profile.arguments, scope, prefix, parent="", depth=0)
        if found is not None:
            return found
    return None


def _argument_scopes(arguments: Mapping[str, Any]) -> Iterator[Mapping[str, Any] | None]:
    """The top-level arguments, then `parameters` if it is a JSON-encoded string (what the upstream
    would decode); an object `parameters` is searched as a nested object. None if unreadable."""
    yield arguments
    parameters = arguments.get("parameters")
    if parameters is not None and not isinstance(parameters, (str, Mapping)):
        yield None
    elif isinstance(parameters, str):
        try:
            decoded = json.loads(parameters)
        except ValueError:
            yield None
            return
        yield decoded if isinstance(decoded, Mapping) else None


def fold_key(key: Any) -> str:
    """An argument key folded like a tool name: `stripeAccount`, `Stripe-Account` -> `stripe_account`."""
    text = str(key)
    return name_key(text) if text.isascii() else text.casefold()


def _check_scope(rules: ArgumentRules, scope: Mapping[str, Any], prefix: str, *, parent: str, depth: int) -> tuple[str, str] | None:
    if depth > MAX_ARGUMENT_DEPTH:
        return prefix, "Tool arguments nest too deeply to be checked."
    for raw_key, value in scope.items():
        key = fold_key(raw_key)
        joined = f"{parent}_{key}" if parent else key  # {"stripe": {"account": ...}} is stripe_account
        found: tuple[str, str] | None = None
        if key == "limit" and rules.max_limit is not None:
            found = _check_limit(rules.max_limit, value, prefix)
        elif _EXPAND_KEY.match(str(raw_key).strip().casefold()) or key == "expand":
            found = _check_expand(rules, value, prefix)
        elif (key in CONNECTED_ACCOUNT_KEYS or joined in CONNECTED_ACCOUNT_KEYS) and value not in (None, ""):
            found = _check_account(rules, raw_key, value, prefix)
        if found is None:
            for child in _nested_objects(value):
                found = _check_scope(rules, child, prefix, parent=key, depth=depth + 1)
                if found is not None:
                    break
        if found is not None:
            return found
    return None


def _nested_objects(value: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(value, Mapping):
        yield value
    elif isinstance(value, list):
        yield from (item for item in value if isinstance(item, Mapping))


def _check_limit(cap: int, value: Any, prefix: str) -> tuple[str, str] | None:
    limit = _as_int(value)
    if limit is None:
        return f"{prefix}.max_limit", "limit must be a whole number."
    if limit > cap:
        return f"{prefix}.max_limit", f"limit {limit} is above this profile's cap of {cap}; ask for at most {cap} and paginate."
    return None


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,18}\s*", value):
        return int(value)
    return None


def _check_expand(rules: ArgumentRules, value: Any, prefix: str) -> tuple[str, str] | None:
    paths = value if isinstance(value, list) else [value]
    for path in paths:
        if not isinstance(path, str) or not path.isascii():
            return f"{prefix}.expand_deny", "expand must be a list of ASCII field paths."
        for one in (part for part in re.split(r"[\s,]+", path) if part):  # "a,b" is two paths to a lenient reader
            for pattern in rules.expand_deny:
                if expand_matches(pattern, one, anywhere=True):
                    return f"{prefix}.expand_deny", f"Expanding {one!r} is not allowed in this profile (matches {pattern!r}); ask without it."
            if rules.expand_allow is not None and not any(expand_matches(p, one, anywhere=False) for p in rules.expand_allow):
                allowed = ", ".join(rules.expand_allow) or "none"
                return f"{prefix}.expand_allow", f"Expanding {one!r} is not allowed in this profile (allowed: {allowed})."
    return None


def expand_matches(pattern: str, path: str, *, anywhere: bool) -> bool:
    """Segment-wise match; `*` matches one segment; a list's leading `data.` is ignored.

    Deny patterns (`anywhere`) match wherever their segments occur in the path: `customer`
    denies `customer`, `data.customer`, `invoice.subscription.customer` and
    `customer.default_source`, because each of them expands the customer object. Allow
    patterns must cover the whole path.
    """
    want = _segments(pattern)
    for have in _path_candidates(path):
        if not anywhere:
            if len(have) == len(want) and all(w in ("*", s) for w, s in zip(want, have, strict=True)):
                return True
            continue
        for offset in range(len(have) - len(want) + 1):
            if all(w in ("*", s) for w, s in zip(want, have[offset:offset + len(want)], strict=True)):
                return True
    return False


@lru_cache(maxsize=1024)
def _segments(text: str) -> tuple[str, ...]:
    return tuple(text.strip().casefold().split("."))


@lru_cache(maxsize=1024)
def _path_candidates(path: str) -> tuple[tuple[str, ...], ...]:
    have = _segments(path)
    return (have, have[1:]) if len(have) > 1 and have[0] == "data" else (have,)


def _check_account(rules: ArgumentRules, key: Any, value: Any, prefix: str) -> tuple[str, str] | None:
    rule = f"{prefix}.connected_accounts"
    if not isinstance(value, str):
        return rule, f"{key} must be a connected account id."
    if rules.connected_accounts is None:
        return rule, f"Connected account {value} is not allowed: this profile serves the platform account only; call without {key}."
    if value.strip() not in rules.connected_accounts:
        return rule, f"Connected account {value} is not in this profile's connected_accounts."
    return None


# --------------------------------------------------------------------------------------------
# Search queries


def check_search(profile: Profile, decision: Decision, arguments: object) -> tuple[str, str] | None:
    """(rule, reason) when an allowed search filters on fields the profile does not allow, or None.

    Applies only with `arguments.search_fields` set, to calls classified `search`. Stripe's search
    endpoints (`Get...Search` operation ids) carry a query in Stripe's search language in
    `parameters.query`: every field it filters on must be in `search_fields`, or be a
    `metadata[key]` whose key is on `redaction.metadata_keep`. A query can probe what redaction
    hides (`email~"jenny"` tells whether such a customer exists). A named search tool whose query
    cannot be read this way is refused unless a `tools:` entry allows it by name (Stripe's
    documentation and API-reference searches, which hold no account data).
    """
    fields = profile.arguments.search_fields
    if fields is None or decision.operation is not Operation.SEARCH:
        return None
    rule = f"profiles.{profile.name}.arguments.search_fields"
    if decision.operation_id is None:
        if decision.rule.startswith(f"profiles.{profile.name}.tools."):
            return None
        return rule, "This search's query cannot be checked against the profile's search_fields, so it was refused."
    query = _search_query(arguments)
    if not isinstance(query, str):
        return rule, f"{decision.operation_id} needs a string 'query' in its parameters."
    keep = profile.redaction.metadata_keep if not isinstance(profile.redaction, str) else []
    reason = stripe_search.denial(query, frozenset(fields) | {f"metadata[{key}]" for key in keep})
    return None if reason is None else (rule, reason[:1].upper() + reason[1:] + ".")


def _search_query(arguments: object) -> object:
    if not isinstance(arguments, Mapping):
        return None
    parameters = arguments.get("parameters")
    if isinstance(parameters, str):  # a JSON-encoded object: what the upstream would decode
        try:
            parameters = json.loads(parameters)
        except ValueError:
            return None
    if isinstance(parameters, Mapping) and "query" in parameters:
        return parameters["query"]
    return arguments.get("query")
