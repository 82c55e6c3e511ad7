"""`mcp-guard run --profile NAME [--config FILE] [-- UPSTREAM_COMMAND ARGS...]`"""

from __future__ import annotations

import argparse
from typing import Any

from mcp_guard.cli_commands._upstream import add_command_argument, add_profile_arguments, upstream_command


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="serve MCP on stdio and guard the upstream Stripe MCP server",
        description="Serve MCP on stdio; exit 0 when the client leaves, 1 on a bad config, 3 when the upstream dies.",
    )
    add_profile_arguments(parser)
    add_command_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from mcp_guard.serve import RunOptions
    from mcp_guard.serve import run as serve

    return serve(RunOptions(profile=args.profile, config=args.config, command=upstream_command(args)))
