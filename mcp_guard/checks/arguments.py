"""Argument rules of an allowed tools/call: the limit cap, expand paths, connected accounts."""

from __future__ import annotations

from mcp_guard.checks._pipeline import Call, Refusal
from mcp_guard.config import Profile
from mcp_guard.policy import Decision, check_arguments


class ArgumentRules:
    def __init__(self, profile: Profile) -> None:
        self._profile = profile

    def check(self, call: Call) -> Refusal | None:
        if call.tool is None or call.decision is None or not call.arguments:  # no arguments break no rule
            return None
        violation = check_arguments(self._profile, call.arguments)
        if violation is None:
            return None
        rule, reason = violation
        allowed = call.decision
        return Refusal(Decision(False, allowed.operation, rule, reason, allowed.basis, allowed.operation_id))
