"""``python -m mcp_guard.sandbox``: an offline MCP server that behaves like Stripe's.

``mcp-guard sandbox`` runs the same thing with the same options (defined, lightly, in
``mcp_guard.cli_commands.sandbox``).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

import anyio

from mcp_guard.cli_commands.sandbox import add_sandbox_arguments, check_sandbox_arguments
from mcp_guard.sandbox._sandbox import Sandbox
from mcp_guard.sandbox._server import serve_http, serve_stdio


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m mcp_guard.sandbox",
        description="Offline Stripe MCP sandbox with made-up data. Writes really "
                    "change its in-memory state, whichever tool carries them.")
    add_sandbox_arguments(parser)
    args = parser.parse_args(argv)
    check_sandbox_arguments(parser, args)
    return args


def serve(args: argparse.Namespace) -> int:
    """Run the sandbox the parsed options describe until it is stopped."""
    # stdout is the MCP wire in stdio mode: every log line goes to stderr.
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    sandbox = Sandbox(args.catalog, seed=args.seed, journal_path=args.journal, livemode=args.livemode)
    try:
        if args.http is None:
            anyio.run(serve_stdio, sandbox)
        elif args.oauth:
            from mcp_guard.sandbox._oauth import OAuthOptions

            anyio.run(serve_http, sandbox, args.host, args.http, OAuthOptions(token_ttl=args.token_ttl, livemode=args.livemode))
        else:
            anyio.run(serve_http, sandbox, args.host, args.http)
    except KeyboardInterrupt:
        return 130
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return serve(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
