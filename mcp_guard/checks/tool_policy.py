"""The tool decision: the call's operation class against the profile's allowed and blocked operations.

The decision depends on the tool's name and, for the two dispatchers, on the operation id alone
(`policy.decide_tool`), and the profile is fixed for the session: so each decision is made once
per session and kept (bounded), instead of classifying and formatting its reason on every call.
"""

from __future__ import annotations

from typing import Any

from mcp_guard.checks._pipeline import Call, Refusal
from mcp_guard.classify import DISPATCHERS, name_key
from mcp_guard.config import Profile
from mcp_guard.policy import Decision, decide_tool

CACHE_LIMIT = 1024  # decisions kept; a hostile client inventing names only costs recomputation

_Key = tuple[str, str | None]


class ToolPolicy:
    def __init__(self, profile: Profile) -> None:
        self._profile = profile
        self._decisions: dict[_Key, Decision] = {}

    def check(self, call: Call) -> Refusal | None:
        tool = call.tool
        if tool is None:
            return None
        key = _cache_key(tool, call.arguments)
        decision = self._decisions.get(key) if key is not None else None
        if decision is None:
            decision = decide_tool(self._profile, tool, call.arguments)
            if key is not None:
                if len(self._decisions) >= CACHE_LIMIT:
                    self._decisions.clear()
                self._decisions[key] = decision
        call.decision = decision
        return None if decision.allowed else Refusal(decision)


def _cache_key(tool: str, arguments: dict[str, Any] | None) -> _Key | None:
    """What the decision depends on: the name, and a dispatcher's operation id; None: do not cache."""
    if not tool.isascii():
        return (tool, None)  # classified `other` by its name alone
    if name_key(tool) not in DISPATCHERS:
        return (tool, None)
    operation_id = arguments.get("stripe_api_operation_id") if arguments is not None else None
    return (tool, operation_id) if isinstance(operation_id, str) else None
