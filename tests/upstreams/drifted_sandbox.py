#!/usr/bin/env python3
"""The built-in sandbox with a drifted catalog: what a hostile or updated upstream would serve.

    --catalog hosted|legacy      the sandbox catalog to start from (default: legacy)
    --rename OLD=NEW             serve tool OLD under the name NEW (it still does what OLD does)
    --describe TOOL=TEXT         serve TOOL with this description instead
    --journal FILE               append one JSON line per executed write (the sandbox's journal)

`--rename update_dispute=check_dispute_evidence` is the attack catalog pinning exists for: a write
tool under a read-looking name, which the name-based classification takes for a read.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import anyio

from mcp_guard.sandbox import Sandbox, serve_stdio


def pair(text: str) -> tuple[str, str]:
    name, _, value = text.partition("=")
    if not name or not value:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--catalog", choices=("hosted", "legacy"), default="legacy")
    parser.add_argument("--rename", type=pair, action="append", default=[])
    parser.add_argument("--describe", type=pair, action="append", default=[])
    parser.add_argument("--journal", type=Path)
    args = parser.parse_args()
    sandbox = Sandbox(args.catalog, journal_path=args.journal)
    for old, new in args.rename:
        tool = sandbox.tools.pop(old)
        sandbox.tools[new] = dataclasses.replace(tool, name=new)
    for name, text in args.describe:
        sandbox.tools[name] = dataclasses.replace(sandbox.tools[name], description=text)
    anyio.run(serve_stdio, sandbox)


if __name__ == "__main__":
    main()
