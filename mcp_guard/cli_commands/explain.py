"""`mcp-guard explain --profile P TOOL [--args JSON] [--config F]`: print a decision and its rule.

Exit codes: 0 explained (whatever the decision); 1 bad config or unknown profile; 2 bad --args.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mcp_guard.config import load_config
from mcp_guard.policy import decide, is_listed


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("explain", help="show how a profile decides one tool call")
    parser.add_argument("--config", type=Path, help="config file (default: the usual places, then the shipped default)")
    parser.add_argument("--profile", required=True, help="profile name")
    parser.add_argument("tool", help="tool name, e.g. stripe_api_read")
    parser.add_argument("--args", dest="tool_args", default=None, help='tool arguments as a JSON object, e.g. \'{"limit": 10}\'')
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    arguments = None
    if args.tool_args is not None:
        try:
            arguments = json.loads(args.tool_args)
        except ValueError as exc:
            print(f"mcp-guard: --args: not valid JSON: {exc}", file=sys.stderr)
            return 2
        if not isinstance(arguments, dict):
            print("mcp-guard: --args: must be a JSON object", file=sys.stderr)
            return 2
    loaded = load_config(args.config)
    profile = loaded.profile(args.profile)
    decision = decide(profile, args.tool, arguments)
    rows = [
        ("profile", f"{profile.name} ({profile.mode.value}) from {loaded.path}"),
        ("tool", args.tool),
        ("operation", decision.operation.value),
        ("basis", decision.basis or "-"),
        ("decision", "allow" if decision.allowed else "deny"),
        ("rule", decision.rule),
        ("reason", decision.reason),
        ("listed", "yes" if is_listed(profile, args.tool) else "no"),
    ]
    for label, value in rows:
        print(f"{label + ':':<11} {value}")
    return 0
