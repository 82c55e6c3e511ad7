"""Test and live data never mix: a result holding an object whose `livemode` contradicts the
profile's mode is withheld whole (the key or the upstream is not what the profile says)."""

from __future__ import annotations

from typing import Any

from mcp_guard.checks._pipeline import Call, ResponseFilter, Withheld
from mcp_guard.config import Mode
from mcp_guard.livemode import find_livemode_mismatch


class LivemodeFilter(ResponseFilter):
    def __init__(self, profile_name: str, mode: Mode) -> None:
        self._profile_name = profile_name
        self._mode = mode

    def on_result(self, call: Call, result: dict[str, Any]) -> dict[str, Any]:
        mismatch = find_livemode_mismatch(result, self._mode)
        if mismatch is not None:
            raise Withheld(
                f"mcp-guard withheld this result: it holds an object whose livemode contradicts the "
                f"'{self._profile_name}' profile ({self._mode.value} mode) at {mismatch}"
            )
        return result
