"""`mcp-guard tools --profile P [--config F] [--format table|json] [-- UPSTREAM_COMMAND ARGS...]`

Starts the profile's upstream the way `run` would (or the stdio command after `--`), asks it for
its tools (every `tools/list` page) and prints, for each tool, whether the profile lists it, its
operation class, the deciding rule and the classification basis. For `stripe_api_read` and
`stripe_api_write` it prints what the profile decides for each operation class they carry.
`--format json` prints a JSON array instead, one object per tool (`name`, `listed`, `class`,
`allowed`, `rule`, `basis`, `reason`, `dispatches` for the dispatchers, and `pin`, which is null
until catalog pinning fills it).

The upstream gets the profile's key exactly as under `run`; nothing is called but `initialize`
and `tools/list`, so no audit record is written and only the upstream's preflight applies (its
key and command; not the audit directory, nor a missing catalog lock: this is how to look at a
catalog before pinning it).

Exit codes: 0 listed; 1 a bad config, an upstream preflight problem (one line each on stderr, as
`check` prints them), or an upstream that cannot be started, does not answer within its timeout,
or answers with an error (one line on stderr); 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mcp_guard.cli_commands._upstream import add_command_argument, add_profile_arguments, resolve_to_reach_upstream
from mcp_guard.listing import ToolView

if TYPE_CHECKING:
    from mcp_guard.resolve import ResolvedProfile


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "tools",
        help="list the upstream's tools and what a profile decides for each",
        description="List the upstream's tools with, for each, whether the profile lists it, its class, the rule and the basis.",
    )
    add_profile_arguments(parser)
    parser.add_argument("--format", choices=("table", "json"), default="table", help="output format (default: table)")
    add_command_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import anyio

    from mcp_guard.listing import fetch_tools, view_tools
    from mcp_guard.resolve import describe_upstream

    resolved = resolve_to_reach_upstream(args)
    if resolved is None:
        return 1
    tools = anyio.run(fetch_tools, resolved)
    views = view_tools(resolved.profile, tools, pins=_pin_states(resolved, tools))
    if args.format == "json":
        print(json.dumps([view.as_json() for view in views], indent=2))
        return 0
    listed = sum(view.listed for view in views)
    print(f"config:   {resolved.loaded.path} (sha256:{resolved.loaded.sha256[:12]})")
    print(f"profile:  {resolved.name} ({resolved.profile.mode.value} mode)")
    print(f"upstream: {describe_upstream(resolved.upstream)}: {len(views)} tools, {listed} listed")
    print()
    print(format_table(views))
    return 0


def _pin_states(resolved: ResolvedProfile, tools: Sequence[Mapping[str, Any]]) -> dict[str, str] | None:
    """Each tool's state against mcp-guard.lock (ok, new, changed, missing); None with pinning off.

    Under `enforce` a tool that is not `ok` is hidden by `run`; the view shows it unlisted too.
    """
    from mcp_guard.checks.catalog_pin.lock import ProfileLock, lock_path, pin_states, read_lock
    from mcp_guard.config import PinningMode

    profile = resolved.profile
    if profile.pinning is PinningMode.OFF:
        return None
    lock = read_lock(lock_path(resolved.loaded.path)).profile(resolved.name) or ProfileLock(resolved.name, None)
    return pin_states(lock, tools, profile)


def format_table(views: Sequence[ToolView]) -> str:
    """Aligned columns; the pin column only when some tool has a pin state."""
    with_pin = any(view.pin is not None for view in views)
    header = ["TOOL", "LISTED", "CLASS", *(["PIN"] if with_pin else []), "RULE", "BASIS"]
    rows = [
        [view.name, "yes" if view.listed else "no", view.operation, *([view.pin or "-"] if with_pin else []), view.rule, view.basis]
        for view in views
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = []
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)
