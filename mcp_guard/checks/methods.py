"""The method allow-list: an MCP method the profile does not list is answered -32601, never forwarded."""

from __future__ import annotations

from mcp_guard import jsonrpc
from mcp_guard.checks._pipeline import Call, Refusal
from mcp_guard.config import Profile
from mcp_guard.policy import Decision, decide_method

CACHE_LIMIT = 256  # refused method names kept (a hostile client may invent any number)


class MethodAllowList:
    def __init__(self, profile: Profile) -> None:
        self._profile = profile
        # The decision for each allowed method, made once per session: the same Decision every call.
        self._allowed: dict[str, Decision] = {method: decide_method(profile, method) for method in profile.allowed_methods}
        self._refused: dict[str, Refusal] = {}

    def check(self, call: Call) -> Refusal | None:
        decision = self._allowed.get(call.method)
        if decision is not None:
            call.decision = decision
            return None
        refusal = self._refused.get(call.method)
        if refusal is None:
            decision = decide_method(self._profile, call.method)
            if decision.allowed:  # cannot happen (allowed methods are all above); decide as policy does
                call.decision = decision
                return None
            refusal = Refusal(decision, jsonrpc.METHOD_NOT_FOUND)
            if len(self._refused) >= CACHE_LIMIT:
                self._refused.clear()
            self._refused[call.method] = refusal
        return refusal
