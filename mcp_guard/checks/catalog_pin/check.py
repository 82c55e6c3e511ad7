"""Catalog pinning at run time: a tool the lock does not vouch for is hidden and denied.

A hostile or updated upstream can rename a write tool to a read-looking name, or reword a
description to steer the assistant. So, with `pinning: enforce`:
- each tools/list result is compared with the profile's lock (`lock.drift_report`); a tool that
  is new, or whose definition or class changed, is removed from the list;
- a tools/call is denied when its tool is not in the lock, or when the last tools/list showed it
  drifted (a locked tool never listed in this session is let through: the assistant was shown
  nothing but what the lock vouches for).
With `warn` the same drift is logged and recorded but the tool is listed and allowed per policy;
with `off` this check does nothing.

Each distinct drift is logged once per process, one stderr line per tool naming what changed;
the record of the tools/list (or tools/call) that met it carries it in its `reason`.

In the pipeline it runs as a request check after the tool decision (a tool the policy denies is
denied for that, the more useful reason) and as a response filter before the listing filter, so
the drift it reports covers the whole catalog, as `mcp-guard lock` and `mcp-guard tools` see it.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from mcp_guard.checks._pipeline import Call, Refusal, ResponseFilter
from mcp_guard.checks.catalog_pin.lock import Drift, ProfileLock, drift_report, tool_class
from mcp_guard.config import PinningMode, Profile
from mcp_guard.operations import Operation
from mcp_guard.policy import Decision

logger = logging.getLogger("mcp_guard")

LOGGED_CAP = 1024


class CatalogPin(ResponseFilter):
    """Both a request check (`check`) and a response filter (`on_result` for tools/list)."""

    def __init__(self, profile_name: str, profile: Profile, lock: ProfileLock | None) -> None:
        self._profile = profile
        self._mode = profile.pinning
        self._rule = f"profiles.{profile_name}.pinning"
        # Fail closed: pinning on without a lock pins nothing, so every tool is new.
        self._lock = lock if lock is not None else ProfileLock(profile_name, None)
        # Locked tools the last tools/list showed changed. Only locked names are kept (a tool not in
        # the lock is denied by that alone), so a hostile stream of new names cannot grow it.
        self._drifted: dict[str, Drift] = {}
        self._logged: set[Drift] = set()  # drifts already on stderr (bounded: LOGGED_CAP)

    # ---- request check ------------------------------------------------------------------

    def check(self, call: Call) -> Refusal | None:
        if self._mode is PinningMode.OFF or call.tool is None:
            return None
        drift = self._drift_of(call.tool)
        if drift is None:
            return None
        self._log(drift)
        reason = f"{call.tool} {drift.describe()} ({self._lock.where()})"
        decision = call.decision
        if self._mode is PinningMode.WARN:
            if decision is not None:
                call.decision = replace(decision, reason=f"{decision.reason} Catalog drift (pinning: warn): {reason}.")
            return None
        text = f"{reason}; tools the profile's catalog lock does not vouch for are denied until an operator reviews them with `mcp-guard lock --update`."
        if decision is None:
            return Refusal(Decision(False, Operation.OTHER, self._rule, text))
        return Refusal(Decision(False, decision.operation, self._rule, text, decision.basis, decision.operation_id))

    def _drift_of(self, tool: str) -> Drift | None:
        if tool in self._drifted:
            return self._drifted[tool]
        if tool in self._lock.tools:
            return None
        return Drift(tool, ("new",), None, tool_class(self._profile, tool))

    # ---- response filter ----------------------------------------------------------------

    def on_result(self, call: Call, result: dict[str, Any]) -> dict[str, Any]:
        if self._mode is PinningMode.OFF or call.method != "tools/list":
            return result
        tools = result.get("tools")
        if not isinstance(tools, list):
            return result  # the listing filter answers a malformed list with an empty one
        named = [tool for tool in tools if isinstance(tool, dict) and isinstance(tool.get("name"), str)]
        complete = not call.params.get("cursor") and not result.get("nextCursor")
        drifts = drift_report(self._lock, named, self._profile, complete=complete)
        listed = {tool["name"] for tool in named}
        for name in listed:
            self._drifted.pop(name, None)
        for drift in drifts:
            if drift.state == "changed":
                self._drifted[drift.tool] = drift
            self._log(drift)
        if drifts:
            self._record(call, drifts)
        if self._mode is PinningMode.WARN:
            return result
        pinned = self._lock.tools
        return {**result, "tools": [tool for tool in named if tool["name"] in pinned and tool["name"] not in self._drifted]}

    def _record(self, call: Call, drifts: list[Drift]) -> None:
        action = "hidden" if self._mode is PinningMode.ENFORCE else "still listed (pinning: warn)"
        text = f"Catalog drift against {self._lock.where()}: " + "; ".join(f"{d.tool} {d.describe()}" for d in drifts) + f"; drifted tools {action}."
        decision = call.decision or Decision(True, Operation.OTHER, self._rule, "")
        call.decision = replace(decision, reason=f"{decision.reason} {text}".strip())

    def _log(self, drift: Drift) -> None:
        if drift in self._logged:
            return
        if len(self._logged) >= LOGGED_CAP:  # a hostile upstream inventing names: repeat lines rather than grow
            self._logged.clear()
        self._logged.add(drift)
        if drift.state == "missing":
            action = "nothing to hide"
        else:
            action = "hidden and denied" if self._mode is PinningMode.ENFORCE else "still listed and allowed (pinning: warn)"
        logger.warning("catalog drift: tool %r %s; %s; review it with `mcp-guard lock --update`", drift.tool, drift.describe(), action)
