"""Account-data searches may filter only on the fields the profile allows (`arguments.search_fields`).

The rule itself is pure policy (`mcp_guard.policy.check_search`, where it is documented); this
check applies it to every call the tool decision allowed, so policy cases and the running guard
decide the same way.
"""

from __future__ import annotations

from mcp_guard.checks._pipeline import Call, Refusal
from mcp_guard.config import Profile
from mcp_guard.policy import Decision, check_search


class SearchFields:
    def __init__(self, profile: Profile) -> None:
        self._profile = profile

    def check(self, call: Call) -> Refusal | None:
        allowed = call.decision
        if call.tool is None or allowed is None:
            return None
        violation = check_search(self._profile, allowed, call.arguments)
        if violation is None:
            return None
        rule, reason = violation
        return Refusal(Decision(False, allowed.operation, rule, reason, allowed.basis, allowed.operation_id))
