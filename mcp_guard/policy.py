"""Decide whether a profile lets a tool call (or an MCP method) through. Pure; no I/O.

Order, first match wins:
1. a `stripe_api_read` call with a Post*/Delete* operation id, or a `stripe_api_write` call with
   a Get* one, is denied under any policy (`dispatcher-mismatch`);
2. a `tools:` entry with `decision: deny` denies;
3. an operation in `blocked_operations` is denied (blocked wins over allowed);
4. a `tools:` entry with `decision: allow` allows;
5. an operation in `allowed_operations` is allowed;
6. anything else is denied (whatever is not allowed is denied, `other` included).
An allowed call then has its arguments checked (`arguments:` of the profile): `limit` cap,
`expand` paths, connected accounts. A guard that fails while deciding denies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from mcp_guard.classify import (
    DISPATCHERS,
    READ_DISPATCHER,
    Classification,
    classify,
    find_tool_rule,
    name_key,
)
from mcp_guard.config import ArgumentRules, Profile
from mcp_guard.operations import WRITE_OPERATIONS, Operation

READ_OPERATIONS = frozenset({Operation.READ, Operation.LIST, Operation.SEARCH})
# Argument names that make Stripe act as another (connected) account.
CONNECTED_ACCOUNT_KEYS = frozenset({"stripe_account", "stripe_account_id", "stripe_context", "connected_account"})
_EXPAND_KEY = re.compile(r"^expand(\[\d*\])?$")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    operation: Operation
    rule: str  # the config path or built-in rule that decided, e.g. "profiles.live.blocked_operations"
    reason: str  # one short sentence the model can act on
    basis: str = ""  # how the operation was classified


def decide(profile: Profile, tool: str, arguments: Mapping[str, Any] | None) -> Decision:
    """The decision for one tools/call."""
    try:
        classification = classify(tool, arguments, profile.tools)
        decision = _decide_operation(profile, tool, classification)
        if not decision.allowed:
            return decision
        violation = check_arguments(profile, arguments)
        if violation is not None:
            rule, reason = violation
            return Decision(False, classification.operation, rule, reason, classification.basis)
        return decision
    except Exception:  # noqa: BLE001 - fail closed: a policy that cannot decide denies
        return Decision(False, Operation.OTHER, "guard-error", "The guard could not evaluate this call, so it was refused.")


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
        return _decide_operation(profile, tool, classify(tool, None, profile.tools)).allowed
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
    if c.dispatcher_mismatch:
        runs = "GET (Get*)" if name_key(tool) == READ_DISPATCHER else "POST and DELETE (Post*, Delete*)"
        return Decision(
            False, op, "dispatcher-mismatch",
            f"{tool} only runs {runs} operations; {c.operation_id} is {_a(op)} operation, so the call was refused.",
            c.basis,
        )
    rule_name, tool_rule = find_tool_rule(tool, profile.tools)
    if tool_rule is not None and tool_rule.decision == "deny":
        return Decision(False, op, f"profiles.{name}.tools.{rule_name}", f"{tool} is denied by profile {name!r}.", c.basis)
    if op in profile.blocked_operations:
        return Decision(
            False, op, f"profiles.{name}.blocked_operations",
            f"{what} is {_a(op)} operation, and {op.value} operations are blocked in profile {name!r}.",
            c.basis,
        )
    if tool_rule is not None and tool_rule.decision == "allow":
        return Decision(True, op, f"profiles.{name}.tools.{rule_name}", f"{tool} is allowed by profile {name!r}.", c.basis)
    allowed = [o.value for o in profile.allowed_operations if o not in profile.blocked_operations]
    if op in profile.allowed_operations:
        return Decision(True, op, f"profiles.{name}.allowed_operations", f"{op.value} operations are allowed.", c.basis)
    only = ", ".join(allowed) or "nothing"
    if op is Operation.OTHER:
        reason = f"{what} is not a recognised read ({c.basis}); profile {name!r} only allows {only}."
    else:
        reason = f"{what} is {_a(op)} operation; profile {name!r} only allows {only}."
    return Decision(False, op, f"profiles.{name}.allowed_operations", reason, c.basis)


def _a(op: Operation) -> str:
    return ("an " if op.value[0] in "aeiou" else "a ") + op.value


# --------------------------------------------------------------------------------------------
# Argument constraints


def check_arguments(profile: Profile, arguments: Mapping[str, Any] | None) -> tuple[str, str] | None:
    """(rule, reason) for the first argument constraint the call breaks, or None."""
    prefix = f"profiles.{profile.name}.arguments"
    if arguments is None:
        return None
    if not isinstance(arguments, Mapping):
        return prefix, "Tool arguments must be a JSON object."
    for scope in _argument_scopes(arguments):
        if scope is None:
            return prefix, "stripe_api parameters must be a JSON object."
        found = _check_scope(profile.arguments, scope, prefix)
        if found is not None:
            return found
    return None


def _argument_scopes(arguments: Mapping[str, Any]) -> Iterator[Mapping[str, Any] | None]:
    """The top-level arguments, then `parameters` (stripe_api_read/write); None if unreadable."""
    yield arguments
    if "parameters" not in arguments or arguments["parameters"] is None:
        return
    parameters = arguments["parameters"]
    if isinstance(parameters, str):  # a JSON-encoded object: inspect what the upstream would decode
        try:
            parameters = json.loads(parameters)
        except ValueError:
            yield None
            return
    yield parameters if isinstance(parameters, Mapping) else None


def _check_scope(rules: ArgumentRules, scope: Mapping[str, Any], prefix: str) -> tuple[str, str] | None:
    for raw_key, value in scope.items():
        key = str(raw_key).strip().casefold().replace("-", "_")
        if key == "limit" and rules.max_limit is not None:
            limit = _as_int(value)
            if limit is None:
                return f"{prefix}.max_limit", "limit must be a whole number."
            if limit > rules.max_limit:
                return f"{prefix}.max_limit", f"limit {limit} is above this profile's cap of {rules.max_limit}; ask for at most {rules.max_limit} and paginate."
        elif _EXPAND_KEY.match(key):
            found = _check_expand(rules, value, prefix)
            if found is not None:
                return found
        elif key in CONNECTED_ACCOUNT_KEYS and value not in (None, ""):
            found = _check_account(rules, raw_key, value, prefix)
            if found is not None:
                return found
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
        for pattern in rules.expand_deny:
            if expand_matches(pattern, path, prefix_match=True):
                return f"{prefix}.expand_deny", f"Expanding {path!r} is not allowed in this profile (matches {pattern!r}); ask without it."
        if rules.expand_allow is not None and not any(expand_matches(p, path, prefix_match=False) for p in rules.expand_allow):
            allowed = ", ".join(rules.expand_allow) or "none"
            return f"{prefix}.expand_allow", f"Expanding {path!r} is not allowed in this profile (allowed: {allowed})."
    return None


def expand_matches(pattern: str, path: str, *, prefix_match: bool) -> bool:
    """Segment-wise match; `*` matches one segment. A list's `data.` prefix is ignored.

    Deny patterns match a path they are a prefix of (`customer` denies
    `customer.default_source`); allow patterns must cover the whole path.
    """
    want = _segments(pattern)
    for segments in _path_candidates(path):
        if len(segments) < len(want) or (not prefix_match and len(segments) != len(want)):
            continue
        if all(w == "*" or w == s for w, s in zip(want, segments)):
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
