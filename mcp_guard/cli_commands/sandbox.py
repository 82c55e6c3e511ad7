"""`mcp-guard sandbox [--catalog C] [--http PORT [--oauth]] [--livemode] [--journal F] [--seed N]`

Starts the built-in offline Stripe sandbox, the same program as `python -m mcp_guard.sandbox`,
so that examples never depend on which `python` is on PATH. The options are defined here, in a
module that imports nothing heavy: the CLI builds every subcommand's parser on each start, and the
sandbox itself (its fixtures and MCP server) is imported only when this command runs.

Exit codes: 0 stopped (stdin closed in stdio mode); 2 bad usage; 130 interrupted.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

# The sandbox's catalogs (mcp_guard.sandbox.CATALOGS, which a test keeps equal to this).
CATALOG_CHOICES = ("hosted", "legacy")
DEFAULT_TOKEN_TTL_SECONDS = 300


def add_sandbox_arguments(parser: argparse.ArgumentParser) -> None:
    """The sandbox's options, shared by `mcp-guard sandbox` and `python -m mcp_guard.sandbox`."""
    parser.add_argument("--catalog", choices=CATALOG_CHOICES, default="hosted",
                        help="hosted: mcp.stripe.com dispatchers; legacy: @stripe/mcp 0.2.5 tools")
    parser.add_argument("--http", type=int, metavar="PORT", default=None,
                        help="serve streamable HTTP at http://HOST:PORT/mcp (0 = a free port, announced on stderr) instead of stdio")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--journal", type=Path, default=None, help="append one JSON line per executed write to this file")
    parser.add_argument("--seed", type=int, default=0, help="seed of the made-up data")
    parser.add_argument("--livemode", action="store_true",
                        help="serve the live-mode data set (livemode: true, live-shaped keys and URLs) instead of test mode")
    parser.add_argument("--oauth", action="store_true",
                        help="with --http: put /mcp behind the sandbox's own OAuth authorization server "
                             "(metadata, dynamic registration, PKCE, refresh tokens, revocation, a consent page)")
    parser.add_argument("--token-ttl", type=int, default=DEFAULT_TOKEN_TTL_SECONDS, metavar="SECONDS",
                        help=f"with --oauth: how long an access token lives (default {DEFAULT_TOKEN_TTL_SECONDS})")


def check_sandbox_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Reject combinations argparse cannot express (exit 2, like any bad usage)."""
    if args.oauth and args.http is None:
        parser.error("--oauth needs --http PORT: OAuth protects an HTTP endpoint")
    if args.token_ttl < 1:
        parser.error("--token-ttl must be at least 1 second")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sandbox",
        help="start the built-in offline Stripe MCP sandbox (made-up data, no account, no network)",
        description="Offline Stripe MCP sandbox with made-up data. Writes really change its in-memory state, "
                    "whichever tool carries them: only mcp-guard stands between an assistant and a write.",
    )
    add_sandbox_arguments(parser)
    parser.set_defaults(handler=run, sandbox_parser=parser)


def run(args: argparse.Namespace) -> int:
    check_sandbox_arguments(args.sandbox_parser, args)
    from mcp_guard.sandbox.__main__ import serve

    return serve(args)
