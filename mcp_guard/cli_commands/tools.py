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
import sys
from collections.abc import Sequence
from pathlib import Path

from mcp_guard.listing import ToolView


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "tools",
        help="list the upstream's tools and what a profile decides for each",
        description="List the upstream's tools with, for each, whether the profile lists it, its class, the rule and the basis.",
    )
    parser.add_argument("--profile", required=True, help="profile name from the config (e.g. test, live)")
    parser.add_argument("--config", type=Path, help="config file (default: the usual places, then the shipped default)")
    parser.add_argument("--format", choices=("table", "json"), default="table", help="output format (default: table)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- UPSTREAM_COMMAND ARGS...: a stdio upstream overriding the config's")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import anyio

    from mcp_guard.listing import fetch_tools, view_tools
    from mcp_guard.resolve import describe_upstream, resolve_profile, upstream_preflight

    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    resolved = resolve_profile(args.config, args.profile, command=command)
    problems = upstream_preflight(resolved)
    for problem in problems:
        print(f"mcp-guard: {problem}", file=sys.stderr)
    if problems:
        return 1
    tools = anyio.run(fetch_tools, resolved)
    # Catalog pinning's hook: pass `pins={tool name: state}` (its drift report) to fill the pin column.
    views = view_tools(resolved.profile, tools)
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
