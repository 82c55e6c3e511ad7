"""`mcp-guard lock --profile P [--config F] [--update] [--dry-run] [-- UPSTREAM_COMMAND ARGS...]`

Starts the profile's upstream the way `run` would (or the stdio command after `--`), reads every
tools/list page, and pins that catalog in `mcp-guard.lock` beside the config file: each tool's
class and a sha256 per part of its definition (`mcp_guard.checks.catalog_pin.lock`). Other
profiles' entries in the file are kept.

- The profile has no entry yet: it is written, and every tool is listed with its class.
- The entry matches the catalog: nothing is written.
- The entry differs: the diff is printed (new, missing and changed tools, with the description a
  new or changed tool now has; class changes called out loudly) and the file is rewritten only
  with --update.
--dry-run prints the same and writes nothing.

Nothing but `initialize` and `tools/list` is sent, so no audit record is written.

Exit codes: 0 the lock was written or already matches the catalog; 1 the catalog differs from the
lock and nothing was written (no --update, or --dry-run), or an error: a bad config, a preflight
problem, an upstream that fails, a lock that cannot be read or written (one line on stderr);
2 bad usage.
"""

from __future__ import annotations

import argparse
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from mcp_guard.checks.catalog_pin.lock import Drift, LockedTool
from mcp_guard.cli_commands._upstream import add_command_argument, add_profile_arguments, resolve_to_reach_upstream

DESCRIPTION_SHOWN = 240  # characters of a new or changed description printed for review


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "lock",
        help="pin the upstream's tool catalog for a profile (mcp-guard.lock beside the config)",
        description="Pin the upstream's tools in mcp-guard.lock; with --update, review the changes and rewrite it.",
    )
    add_profile_arguments(parser)
    parser.add_argument("--update", action="store_true", help="show what changed since the lock was written, and rewrite it")
    parser.add_argument("--dry-run", action="store_true", help="show what would be written; write nothing")
    add_command_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import anyio

    from mcp_guard.checks.catalog_pin.lock import diff_entries, lock_catalog, lock_path, read_lock, write_lock
    from mcp_guard.listing import fetch_tools
    from mcp_guard.resolve import describe_upstream

    resolved = resolve_to_reach_upstream(args)
    if resolved is None:
        return 1
    lock_file = read_lock(lock_path(resolved.loaded.path))  # an unreadable lock stops us before the upstream starts
    tools = anyio.run(fetch_tools, resolved)
    entries = lock_catalog(resolved.profile, tools)
    existing = lock_file.profile(resolved.name)
    drifts = diff_entries(existing.tools if existing is not None else {}, entries)

    print(f"lock:     {lock_file.path}")
    print(f"profile:  {resolved.name} ({resolved.profile.mode.value} mode)")
    print(f"upstream: {describe_upstream(resolved.upstream)}: {len(entries)} tools")
    print()
    if existing is not None and not drifts:
        print(f"The lock matches the upstream's catalog ({len(entries)} tools); nothing to write.")
        return 0
    descriptions = {tool["name"]: tool.get("description") for tool in tools}
    if existing is None:
        print(f"No entry for profile {resolved.name!r} yet; it pins these tools:")
        print(format_new_entry(entries))
    else:
        print("The upstream's catalog differs from the lock:")
        print(format_diff(drifts, descriptions))
    if args.dry_run or (existing is not None and not args.update):
        how = "--dry-run: nothing was written" if args.dry_run else "nothing was written; accept these changes with --update"
        print(f"\n{how}")
        return 1
    write_lock(lock_file.with_profile(resolved.name, entries))
    print(f"\nWrote {lock_file.path} (profile {resolved.name}: {len(entries)} tools).")
    return 0


def format_new_entry(entries: Mapping[str, LockedTool]) -> str:
    width = max((len(name) for name in entries), default=0)
    return "\n".join(f"  + {name.ljust(width)}  class {entry.operation_class}" for name, entry in sorted(entries.items()))


def format_diff(drifts: Sequence[Drift], descriptions: Mapping[str, Any]) -> str:
    """One line per tool (+ new, - missing, ~ changed, ! class changed), then the description now shown."""
    width = max((len(drift.tool) for drift in drifts), default=0)
    lines = []
    for drift in drifts:
        if drift.class_changed:
            parts = [part for part in drift.changes if part != "class"]
            mark, what = "!", f"CLASS CHANGED {drift.locked_class} -> {drift.current_class}" + (f"; {', '.join(parts)} changed" if parts else "")
        else:
            mark = {"new": "+", "missing": "-"}.get(drift.state, "~")
            what = f"NEW, class {drift.current_class}" if drift.state == "new" else drift.describe()
        lines.append(f"  {mark} {drift.tool.ljust(width)}  {what}")
        if drift.state == "new" or "description" in drift.changes:
            lines.append(f"      description now: {_shown(descriptions.get(drift.tool))}")
    moved = sum(drift.class_changed for drift in drifts)
    if moved:
        lines.append(f"\nWARNING: {moved} tool(s) changed operation class: check each before accepting.")
    return "\n".join(lines)


def _shown(text: Any) -> str:
    """A description as one printable line: an upstream's text must not drive the terminal."""
    if not isinstance(text, str):
        return "(none)"
    flat = " ".join("".join(c if unicodedata.category(c)[0] != "C" else " " for c in text).split())
    return repr(flat[:DESCRIPTION_SHOWN] + ("..." if len(flat) > DESCRIPTION_SHOWN else ""))
