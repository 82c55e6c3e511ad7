"""`mcp-guard demo`: a scripted, real session through mcp-guard to the built-in sandbox."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("demo", help="show a real MCP client session through mcp-guard to the built-in Stripe sandbox")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from mcp_guard.demo import run_demo

    return run_demo()
