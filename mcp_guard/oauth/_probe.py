"""Ask the upstream what a grant reaches: the account and its mode (test or live).

An OAuth grant does not say its mode the way an `rk_live_` key does: the person picks the account
on the consent page. So `login` and `run` open a short MCP session of their own and read the
`livemode` flags of what the account tools return: `get_stripe_account_info` first, then
`get_balance_summary` (Stripe's Balance object always carries `livemode`). The verdict fails
closed: no flag at all, or flags of both modes, is never taken as the profile's mode.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import mcp_types as types
from mcp.client.session import ClientSession

from mcp_guard.config import Mode
from mcp_guard.livemode import find_livemode_mismatch

ACCOUNT_TOOLS = ("get_stripe_account_info", "get_balance_summary")


@dataclass(frozen=True)
class Reach:
    """What the upstream said about the account a grant reaches."""

    modes: frozenset[Mode]  # the livemode flags seen: none, one mode, or (contradiction) both
    account: str | None  # the acct_ id, when the account info carried one
    source: str | None  # the tool whose answer decided

    @property
    def mode(self) -> Mode | None:
        return next(iter(self.modes)) if len(self.modes) == 1 else None


async def probe_reach(session: ClientSession) -> Reach:
    """Call the account tools the upstream lists, until one answer carries livemode flags."""
    listed = {tool.name for tool in (await session.list_tools()).tools}
    account: str | None = None
    for name in ACCOUNT_TOOLS:
        if name not in listed:
            continue
        result = await session.call_tool(name, {})
        if result.is_error:
            continue
        value = result.model_dump(by_alias=True, mode="json")
        account = account or _account_id(result)
        modes = modes_in(value)
        if modes:
            return Reach(modes, account, name)
    return Reach(frozenset(), account, None)


def modes_in(value: Any) -> frozenset[Mode]:
    """The modes whose livemode flags appear anywhere in `value` (JSON held in text included)."""
    seen = set()
    if find_livemode_mismatch(value, Mode.TEST) is not None:  # a `livemode: true` somewhere
        seen.add(Mode.LIVE)
    if find_livemode_mismatch(value, Mode.LIVE) is not None:  # a `livemode: false` somewhere
        seen.add(Mode.TEST)
    return frozenset(seen)


def reach_problem(reach: Reach, profile_name: str, mode: Mode) -> str | None:
    """Why a grant with this reach may not serve a profile of `mode`; None when it may."""
    if len(reach.modes) > 1:
        return f"the account the OAuth grant reaches returned both test and live objects; profile {profile_name!r} cannot trust it"
    if reach.mode is None:
        tools = " or ".join(ACCOUNT_TOOLS)
        return f"could not tell whether the OAuth grant reaches a test or a live account ({tools} gave no livemode); profile {profile_name!r} needs to know"
    if reach.mode is not mode:
        return (
            f"the OAuth grant reaches a {reach.mode.value}-mode account but profile {profile_name!r} has mode {mode.value}; "
            "test and live never mix"
        )
    return None


def _account_id(result: types.CallToolResult) -> str | None:
    for item in result.content:
        if isinstance(item, types.TextContent):
            try:
                body = json.loads(item.text)
            except ValueError:
                continue
            if isinstance(body, dict) and isinstance(body.get("id"), str) and body["id"].startswith("acct_"):
                return str(body["id"])
    return None
