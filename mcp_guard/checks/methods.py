"""The method allow-list: an MCP method the profile does not list is answered -32601, never forwarded."""

from __future__ import annotations

from mcp_guard import jsonrpc
from mcp_guard.checks._pipeline import Call, Refusal
from mcp_guard.config import Profile
from mcp_guard.policy import Decision, decide_method


class MethodAllowList:
    def __init__(self, profile: Profile) -> None:
        self._profile = profile
        # The decision for each allowed method, made once per session: the same Decision every call.
        self._allowed: dict[str, Decision] = {method: decide_method(profile, method) for method in profile.allowed_methods}

    def check(self, call: Call) -> Refusal | None:
        decision = self._allowed.get(call.method)
        if decision is not None:
            call.decision = decision
            return None
        return Refusal(decide_method(self._profile, call.method), jsonrpc.METHOD_NOT_FOUND)
