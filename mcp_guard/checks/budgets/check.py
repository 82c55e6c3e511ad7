"""Data budgets: a runaway or injected assistant cannot page through every customer.

`budgets: {calls_per_minute, objects_per_hour, bytes_per_hour}` of a profile are counted across
every mcp-guard process of that profile on the machine (`ledger.BudgetLedger`). Only tools/call
is budgeted. As a request check (the last one, so only a call about to be forwarded is counted)
it refuses a call once any budget is used up, with an `isError` result naming the budget, its
limit and when its window resets (UTC). As a response filter (the last one, so it counts what the
client really gets) it adds the result's Stripe objects (a list result's `data` items, or 1 for a
single object) and its bytes (compact JSON, after redaction).

A call is refused only once a budget is used up: the call that crosses an objects or bytes limit
is still answered, because what a result holds is known only when it comes back (one page more,
at most). Fail closed: when the state file cannot be used the call is refused, or its result
withheld, with the reason.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from typing import Any

import orjson

from mcp_guard import jsonrpc
from mcp_guard.checks._pipeline import Call, Refusal, ResponseFilter, Withheld
from mcp_guard.checks.budgets.ledger import BudgetLedger, Exhausted, state_path
from mcp_guard.config import Profile
from mcp_guard.errors import BudgetStateError
from mcp_guard.operations import Operation
from mcp_guard.policy import Decision

UNITS = {"calls_per_minute": ("calls", "minute"), "objects_per_hour": ("objects", "hour"), "bytes_per_hour": ("bytes", "hour")}
LIST_OBJECTS = frozenset({"list", "search_result"})


class DataBudget(ResponseFilter):
    """Both a request check (`check`) and a response filter (`on_result` for tools/call)."""

    def __init__(self, profile_name: str, profile: Profile, ledger: BudgetLedger | None = None) -> None:
        """`ledger` defaults to the profile's state file in its audit dir (opened on first use)."""
        settings = profile.budgets
        self._profile_name = profile_name
        self._limits = settings.limits()
        self._ledger = ledger or BudgetLedger(state_path(profile.audit.dir, profile_name))
        self._count_objects = settings.objects_per_hour is not None
        self._count_bytes = settings.bytes_per_hour is not None

    def check(self, call: Call) -> Refusal | None:
        if not self._limits or call.method != "tools/call":
            return None
        try:
            exhausted = self._ledger.admit(self._limits)
        except BudgetStateError as exc:
            reason = f"mcp-guard refused the call: the profile's budgets cannot be checked ({exc})"
            return Refusal(self._decision(call, f"profiles.{self._profile_name}.budgets", reason), jsonrpc.REFUSED)
        if exhausted is None:
            return None
        return Refusal(self._decision(call, f"profiles.{self._profile_name}.budgets.{exhausted.budget}", self._reason(exhausted)))

    def on_result(self, call: Call, result: dict[str, Any]) -> dict[str, Any]:
        if call.method != "tools/call" or not (self._count_objects or self._count_bytes):
            return result
        objects = count_objects(result) if self._count_objects else 0
        size = result_size(result) if self._count_bytes else 0
        try:
            self._ledger.spend(objects, size)
        except BudgetStateError as exc:
            raise Withheld(f"mcp-guard withheld this result: what it holds cannot be counted against the profile's budgets ({exc})") from exc
        return result

    def _reason(self, exhausted: Exhausted) -> str:
        unit, window = UNITS[exhausted.budget]
        # Rounded up: a time shown to the second must not come before the window really ends.
        resets = datetime.fromtimestamp(math.ceil(exhausted.resets_at), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return (
            f"the {exhausted.budget} budget of profile {self._profile_name!r} is used up ({exhausted.limit} {unit} per {window}, "
            f"counted across every mcp-guard of this profile); it resets at {resets} (UTC). Try again after that."
        )

    @staticmethod
    def _decision(call: Call, rule: str, reason: str) -> Decision:
        allowed = call.decision
        if allowed is None:
            return Decision(False, Operation.OTHER, rule, reason)
        return Decision(False, allowed.operation, rule, reason, allowed.basis, allowed.operation_id)


def count_objects(result: dict[str, Any]) -> int:
    """Stripe objects in a tools/call result: `structuredContent` if it is an object, else JSON text items."""
    structured = result.get("structuredContent")
    if isinstance(structured, dict):
        return _objects_in(structured)
    total = 0
    for item in result.get("content") or ():
        if isinstance(item, dict) and isinstance(item.get("text"), str) and item["text"].lstrip().startswith("{"):
            total += _objects_in(_loads(item["text"]))
    return total


def _objects_in(value: Any) -> int:
    if not isinstance(value, dict):
        return 0
    data = value.get("data")
    if value.get("object") in LIST_OBJECTS and isinstance(data, list):
        return len(data)
    return 1 if isinstance(value.get("object"), str) and isinstance(value.get("id"), str) else 0


def _loads(text: str) -> Any:
    # Only counted, never forwarded: orjson reading an integer beyond 64 bits as a double is harmless here.
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass  # NaN or Infinity, which json reads
    try:
        return json.loads(text)
    except ValueError:
        return None  # not JSON: no Stripe objects to count (its bytes still count)


def result_size(result: dict[str, Any]) -> int:
    """The result's size as compact UTF-8 JSON."""
    try:
        return len(orjson.dumps(result))
    except TypeError:  # an integer beyond 64 bits
        return len(json.dumps(result, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass"))


def describe_budgets(profile_name: str, profile: Profile) -> str:
    """`check`'s line: each budget set, and the state file the profile's processes share."""
    limits = profile.budgets.limits()
    if not limits:
        return "none"
    shown = ", ".join(f"{limit} {UNITS[name][0]} per {UNITS[name][1]}" for name, limit in limits.items())
    return f"{shown} (fixed windows, shared through {state_path(profile.audit.dir, profile_name)})"
