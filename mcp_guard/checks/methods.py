"""The method allow-list: an MCP method the profile does not list is answered -32601, never forwarded."""

from __future__ import annotations

from mcp_guard import jsonrpc
from mcp_guard.checks._pipeline import Call, Refusal
from mcp_guard.config import Profile
from mcp_guard.policy import decide_method


class MethodAllowList:
    def __init__(self, profile: Profile) -> None:
        self._profile = profile

    def check(self, call: Call) -> Refusal | None:
        decision = decide_method(self._profile, call.method)
        if not decision.allowed:
            return Refusal(decision, jsonrpc.METHOD_NOT_FOUND)
        call.decision = decision
        return None
