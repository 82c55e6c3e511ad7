"""tools/list shows only the tools the profile could ever allow: what is blocked is not listed.

The policy knows a tool by its folded name (`classify.name_key`): `list_customers`,
`List_Customers`, `list-customers` and `list_customers ` are one tool to it, but may be different
tools to the upstream. When the session's tools/list answers (one page or several) hold two or
more names of one key, the guard cannot tell which tool a call would reach: none of them is listed
from then on, and every call to that key is refused for the rest of the session (fail closed).
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from mcp_guard.checks._pipeline import Call, Refusal, ResponseFilter
from mcp_guard.classify import name_key
from mcp_guard.config import Profile
from mcp_guard.operations import Operation
from mcp_guard.policy import Decision, is_listed

logger = logging.getLogger("mcp_guard")

AMBIGUOUS_RULE = "tools.ambiguous_name"
MAX_REMEMBERED_NAMES = 10_000  # tool names kept per session to compare later pages with


class ToolListFilter(ResponseFilter):
    def __init__(self, profile: Profile) -> None:
        self._profile = profile
        self._ambiguous: set[str] = set()  # name keys the session's tools/list answers held more than one name of
        self._names: dict[str, str] = {}  # name key -> the first name listed for it this session (bounded)
        self._warned = False

    def check(self, call: Call) -> Refusal | None:
        """A call to an ambiguous name is refused, whatever the policy decided for the name."""
        key = _key(call.tool) if call.tool is not None and self._ambiguous else None
        if key is None or key not in self._ambiguous:
            return None
        reason = (
            f"{call.tool!r} is ambiguous: the upstream lists several tools whose names fold to {key!r}, "
            "so mcp-guard cannot tell which one the call would reach."
        )
        operation = call.decision.operation if call.decision is not None else Operation.OTHER
        return Refusal(Decision(False, operation, AMBIGUOUS_RULE, reason))

    def on_result(self, call: Call, result: dict[str, Any]) -> dict[str, Any]:
        if call.method != "tools/list":
            return result
        tools = result.get("tools")
        if not isinstance(tools, list):  # nothing we can check is nothing we may show
            return {**result, "tools": []}
        named = [tool for tool in tools if isinstance(tool, dict) and isinstance(tool.get("name"), str)]
        self._note_ambiguous(named)
        listed = [tool for tool in named if _key(tool["name"]) not in self._ambiguous and is_listed(self._profile, tool["name"])]
        return {**result, "tools": listed}

    def _note_ambiguous(self, tools: list[dict[str, Any]]) -> None:
        counts = Counter(key for key in (_key(tool["name"]) for tool in tools) if key is not None)
        found = {key for key, count in counts.items() if count > 1}
        for tool in tools:  # across pages and later listings: another name for a key seen before
            key = _key(tool["name"])
            if key is None:
                continue
            first = self._names.get(key)
            if first is None and len(self._names) < MAX_REMEMBERED_NAMES:
                self._names[key] = tool["name"]
            elif first is not None and first != tool["name"]:
                found.add(key)
        found -= self._ambiguous
        self._ambiguous |= found
        if found and not self._warned:
            self._warned = True
            logger.warning(
                "the upstream lists several tools whose names fold to the same policy name (%s): "
                "all of them are hidden and calls to them refused for this session",
                ", ".join(sorted(repr(key) for key in found)),
            )


def _key(name: str) -> str | None:
    """The policy's name for a tool; None for a non-ASCII name (never folded: classified `other`)."""
    return name_key(name) if name.isascii() else None
