"""The shape of a tools/call: a string `name`, and `arguments` that is an object when present.

Arguments that are a JSON string or a list would skip every argument rule while an upstream may
still decode them, so they are refused as invalid params (-32602) instead of forwarded.
"""

from __future__ import annotations

from typing import Any

from mcp_guard import jsonrpc
from mcp_guard.checks._pipeline import Call, Refusal
from mcp_guard.operations import Operation
from mcp_guard.policy import Decision

RULE = "mcp.tools_call.params"


class ToolCallShape:
    def check(self, call: Call) -> Refusal | None:
        if call.method != "tools/call":
            return None
        name: Any = call.params.get("name")
        if not isinstance(name, str):
            return _invalid("tools/call needs a string 'name'.")
        arguments: Any = call.params.get("arguments")
        if arguments is not None and not isinstance(arguments, dict):
            return _invalid(f"tools/call 'arguments' must be a JSON object, not {_json_type(arguments)}.")
        return None


def _invalid(reason: str) -> Refusal:
    return Refusal(Decision(False, Operation.OTHER, RULE, reason), jsonrpc.INVALID_PARAMS)


def _json_type(value: Any) -> str:
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"
