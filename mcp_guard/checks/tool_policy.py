"""The tool decision: the call's operation class against the profile's allowed and blocked operations."""

from __future__ import annotations

from mcp_guard.checks._pipeline import Call, Refusal
from mcp_guard.config import Profile
from mcp_guard.policy import decide_tool


class ToolPolicy:
    def __init__(self, profile: Profile) -> None:
        self._profile = profile

    def check(self, call: Call) -> Refusal | None:
        if call.tool is None:
            return None
        decision = decide_tool(self._profile, call.tool, call.arguments)
        call.decision = decision
        return None if decision.allowed else Refusal(decision)
