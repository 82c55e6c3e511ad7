"""``python -m mcp_guard.sandbox``: an offline MCP server that behaves like Stripe's."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import anyio

from mcp_guard.sandbox._sandbox import CATALOGS, Sandbox
from mcp_guard.sandbox._server import serve_http, serve_stdio


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m mcp_guard.sandbox",
        description="Offline Stripe MCP sandbox with made-up test-mode data. Writes really "
                    "change its in-memory state, whichever tool carries them.")
    parser.add_argument("--catalog", choices=CATALOGS, default="hosted",
                        help="hosted: mcp.stripe.com dispatchers; legacy: @stripe/mcp 0.2.5 tools")
    parser.add_argument("--http", type=int, metavar="PORT", default=None,
                        help="serve streamable HTTP at http://HOST:PORT/mcp (0 = a free port, "
                             "announced on stderr) instead of stdio")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--journal", type=Path, default=None,
                        help="append one JSON line per executed write to this file")
    parser.add_argument("--seed", type=int, default=0, help="seed of the made-up data")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # stdout is the MCP wire in stdio mode: every log line goes to stderr.
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    sandbox = Sandbox(args.catalog, seed=args.seed, journal_path=args.journal)
    try:
        if args.http is None:
            anyio.run(serve_stdio, sandbox)
        else:
            anyio.run(serve_http, sandbox, args.host, args.http)
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
