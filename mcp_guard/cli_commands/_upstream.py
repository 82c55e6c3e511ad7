"""What `run`, `tools` and `lock` share: the profile and config arguments, the `-- COMMAND` override."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mcp_guard.resolve import ResolvedProfile


def add_profile_arguments(parser: argparse.ArgumentParser) -> None:
    """--profile, --config and the trailing `-- UPSTREAM_COMMAND ARGS...` (add other options before)."""
    parser.add_argument("--profile", required=True, help="profile name from the config (e.g. test, live)")
    parser.add_argument("--config", type=Path, help="config file (default: $MCP_GUARD_CONFIG, the user config dir, then the shipped default)")


def add_command_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- UPSTREAM_COMMAND ARGS...: a stdio upstream overriding the config's")


def upstream_command(args: argparse.Namespace) -> list[str]:
    command = list(args.command)
    return command[1:] if command and command[0] == "--" else command


def resolve_to_reach_upstream(args: argparse.Namespace) -> ResolvedProfile | None:
    """The resolved profile when its upstream can be started (problems on stderr, one line each), else None.

    `tools` and `lock` look at a catalog before it is pinned, so only the upstream's own
    preflight applies (the key, the command), not the lock or the audit directory.
    """
    from mcp_guard.resolve import resolve_profile, upstream_preflight

    resolved = resolve_profile(args.config, args.profile, command=upstream_command(args))
    problems = upstream_preflight(resolved)
    for problem in problems:
        print(f"mcp-guard: {problem}", file=sys.stderr)
    return None if problems else resolved
