"""`mcp-guard run --profile NAME [--config FILE] [-- UPSTREAM_COMMAND ARGS...]`"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="serve MCP on stdio and guard the upstream Stripe MCP server",
        description="Serve MCP on stdio; exit 0 when the client leaves, 1 on a bad config, 3 when the upstream dies.",
    )
    parser.add_argument("--profile", required=True, help="profile name from the config (e.g. test, live)")
    parser.add_argument("--config", type=Path, help="config file (default: the usual places, then the shipped default)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- UPSTREAM_COMMAND ARGS...: a stdio upstream overriding the config's")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from mcp_guard.serve import RunOptions
    from mcp_guard.serve import run as serve

    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    return serve(RunOptions(profile=args.profile, config=args.config, command=command))
