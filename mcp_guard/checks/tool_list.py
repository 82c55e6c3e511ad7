"""tools/list shows only the tools the profile could ever allow: what is blocked is not listed."""

from __future__ import annotations

from typing import Any

from mcp_guard.checks._pipeline import Call, ResponseFilter
from mcp_guard.config import Profile
from mcp_guard.policy import is_listed


class ToolListFilter(ResponseFilter):
    def __init__(self, profile: Profile) -> None:
        self._profile = profile

    def on_result(self, call: Call, result: dict[str, Any]) -> dict[str, Any]:
        if call.method != "tools/list":
            return result
        tools = result.get("tools")
        if not isinstance(tools, list):  # nothing we can check is nothing we may show
            return {**result, "tools": []}
        listed = [tool for tool in tools if isinstance(tool, dict) and isinstance(tool.get("name"), str) and is_listed(self._profile, tool["name"])]
        return {**result, "tools": listed}
