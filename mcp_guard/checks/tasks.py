"""MCP tasks (2025-11-25) are refused up front, so that clients fall back to plain requests.

A task-augmented request (`params.task`) is answered with a task handle, and its result fetched
later with `tasks/result`: a second path by which Stripe data would reach the client, under a
different request than the one the policy decided and the redaction was chosen for. Rather than
half-support it, the guard removes the upstream's `tasks` capability from the `initialize` result
(clients augment only requests a server declares it accepts as tasks) and refuses a request
carrying `task` anyway with -32602, naming the fallback. `tasks/*` methods stay out of the
default allowed methods (-32601).
"""

from __future__ import annotations

from typing import Any

from mcp_guard import jsonrpc
from mcp_guard.checks._pipeline import Call, Refusal, ResponseFilter
from mcp_guard.operations import Operation
from mcp_guard.policy import Decision

RULE = "mcp.tasks"
REASON = "mcp-guard does not support task-augmented requests (MCP tasks); send the request without 'task'."


class TaskAugmentation(ResponseFilter):
    """Both a request check (refuse `task`) and a response filter (hide the capability)."""

    def check(self, call: Call) -> Refusal | None:
        if "task" not in call.params:
            return None
        return Refusal(Decision(False, Operation.OTHER, RULE, REASON), jsonrpc.INVALID_PARAMS)

    def on_result(self, call: Call, result: dict[str, Any]) -> dict[str, Any]:
        capabilities = result.get("capabilities") if call.method == "initialize" else None
        if not isinstance(capabilities, dict) or "tasks" not in capabilities:
            return result
        return {**result, "capabilities": {name: value for name, value in capabilities.items() if name != "tasks"}}
