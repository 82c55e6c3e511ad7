"""Command-line entry point.

Exit codes: 0 success; 1 a GuardError (one line on stderr); 2 bad usage; other codes are documented
by the subcommand (`run` exits 3 when the upstream dies, `test` and `audit verify` exit 1 on a
failed case or a broken chain).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

# pydantic looks up plugins (a scan of every installed package's entry points) each time it
# builds a model; mcp-guard uses none. Set before pydantic is first imported; an explicit
# setting in the environment wins.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from mcp_guard import __version__
from mcp_guard.errors import GuardError

# Subcommand modules under mcp_guard.cli_commands; each has register(subparsers) and run(args).
COMMANDS = ("run", "demo", "check", "explain", "test", "audit", "tools", "install", "schema", "lock", "sandbox", "login", "logout")


def build_parser(chosen: str | None = None) -> argparse.ArgumentParser:
    """The parser; with `chosen`, only that subcommand's module is imported (the others get a bare
    placeholder). Every editor window starts `run`, so it must not pay for `tools`' or `lock`'s imports."""
    parser = argparse.ArgumentParser(prog="mcp-guard", description="Policy-enforcing MCP proxy for Stripe.")
    parser.add_argument("--version", action="version", version=f"mcp-guard {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        if chosen is None or name == chosen:
            module = importlib.import_module(f"mcp_guard.cli_commands.{name}")
            module.register(subparsers)
        else:
            subparsers.add_parser(name)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    chosen = arguments[0] if arguments and arguments[0] in COMMANDS else None
    args = build_parser(chosen).parse_args(arguments)
    try:
        return int(args.handler(args))
    except GuardError as exc:
        print(f"mcp-guard: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
