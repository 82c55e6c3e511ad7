"""`mcp-guard audit prune|verify|show`: look after and read a profile's audit trail.

The directory comes from the config (`--config F [--profile P]`; without --profile every profile
of the config) or is given directly (`--dir DIR`).

`show --follow` prints the matching records so far (all, or the last --limit), then every new
matching record as writers append it, across the UTC day-file rollover, until SIGINT or SIGTERM.

Exit codes: 0 success (also a --follow stopped by SIGINT/SIGTERM); 1 `verify` found a broken
chain (each problem printed with its file and line), a failed prune, or a GuardError (one line on
stderr); 2 bad usage.
"""

from __future__ import annotations

import argparse
import os
import select as select_module
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcp_guard.audit import (
    AuditSettings,
    RecordFilter,
    Tail,
    format_follow_header,
    format_follow_rows,
    format_jsonl,
    format_table,
    open_audit_log,
    parse_policy_prefix,
    parse_since,
    read_records,
    select,
    utc_now,
    verify_audit_dir,
)
from mcp_guard.config import load_config
from mcp_guard.errors import AuditError

FOLLOW_POLL_SECONDS = 0.25  # how often --follow looks for new records: a listdir and an fstat per directory


@dataclass(frozen=True)
class _Target:
    profile: str | None  # None: a bare --dir without --profile
    settings: AuditSettings


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "audit",
        help="prune, verify or show a profile's audit trail",
        description="Look after and read the audit trail (one JSON line per request, hash-chained).",
    )
    commands = parser.add_subparsers(dest="audit_command", required=True)

    prune = commands.add_parser("prune", help="remove records older than the retention now")
    _add_location(prune)
    prune.add_argument("--retention-days", type=int, help="override audit.retention_days (with --dir the default is 90)")
    prune.add_argument("--max-bytes", type=int, help="override audit.max_bytes")

    verify = commands.add_parser("verify", help="check the hash chain; exit 1 when a record was altered")
    _add_location(verify)

    show = commands.add_parser("show", help="list records, newest last")
    _add_location(show)
    show.add_argument("--tool", help="only this tool")
    show.add_argument("--decision", choices=("allow", "deny"), help="only allowed or denied requests")
    show.add_argument("--method", help="only this MCP method, e.g. tools/call")
    show.add_argument(
        "--outcome",
        choices=("ok", "is_error", "jsonrpc_error", "cancelled", "timeout", "upstream_died", "denied"),
        help="only this outcome",
    )
    show.add_argument("--since", help="only records since: 30m, 2h, 7d, 2026-11-20 or 2026-11-20T08:00 (UTC)")
    show.add_argument("--policy", type=_policy_prefix, metavar="HASH", help="only records made under this config (sha256 or its first 8+ hex digits)")
    show.add_argument("--format", choices=("table", "jsonl"), default="table", help="output format (default: table)")
    show.add_argument("--limit", type=int, help="only the N most recent matching records")
    show.add_argument("--follow", "-f", action="store_true", help="keep printing new matching records until interrupted")
    parser.set_defaults(handler=run)


def _policy_prefix(text: str) -> str:
    try:
        return parse_policy_prefix(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_location(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--config", type=Path, help="config file (default: the usual search path)")
    where.add_argument("--dir", type=Path, help="an audit directory, instead of a config's profile")
    parser.add_argument("--profile", help="the config's profile (default: all); with --dir, filters records")


def run(args: argparse.Namespace) -> int:
    targets = _targets(args)
    if args.audit_command == "prune":
        return _prune(targets, args)
    if args.audit_command == "verify":
        return _verify(targets)
    return _show(targets, args)


def _targets(args: argparse.Namespace) -> list[_Target]:
    if args.dir is not None:
        settings = AuditSettings(dir=args.dir.expanduser())
        return [_Target(args.profile, settings)]
    loaded = load_config(args.config)
    names = [args.profile] if args.profile else list(loaded.config.profiles)
    targets: list[_Target] = []
    seen: set[Path] = set()
    for name in names:
        settings = loaded.profile(name).audit
        key = Path(settings.dir).expanduser().resolve()
        if key not in seen:  # profiles may share one directory
            seen.add(key)
            targets.append(_Target(name if args.profile else None, settings))
    return targets


def _prune(targets: list[_Target], args: argparse.Namespace) -> int:
    for target in targets:
        overrides = {}
        if args.retention_days is not None:
            overrides["retention_days"] = args.retention_days
        if args.max_bytes is not None:
            overrides["max_bytes"] = args.max_bytes
        settings = AuditSettings.model_validate({**target.settings.model_dump(), **overrides})
        with open_audit_log(settings, target.profile or "-") as log:
            result = log.last_prune
            if log.prune_error is not None:
                raise AuditError(log.prune_error)
        if not result.removed:
            print(f"{settings.dir}: nothing older than {settings.retention_days} days")
            continue
        for name in result.removed:
            print(f"{settings.dir}: removed {name}")
        anchor = f"; chain anchored at {result.anchor.file}" if result.anchor else ""
        print(f"{settings.dir}: {len(result.removed)} file(s), {result.freed_bytes} bytes removed{anchor}")
    return 0


def _verify(targets: list[_Target]) -> int:
    broken = False
    for target in targets:
        directory = Path(target.settings.dir).expanduser()
        if not directory.is_dir():
            raise AuditError(f"no audit directory {directory}")
        report = verify_audit_dir(directory)
        for finding in report.warnings:
            print(f"warning: {directory / str(finding)}")
        for finding in report.problems:
            print(f"TAMPERED: {directory / str(finding)}")
        state = "OK" if report.ok else f"BROKEN ({len(report.problems)} problem(s))"
        print(f"{directory}: {report.records} records in {report.files} file(s): {state}")
        broken = broken or not report.ok
    return 1 if broken else 0


def _show(targets: list[_Target], args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit < 1:
        raise AuditError("--limit must be at least 1")
    try:
        since = parse_since(args.since, utc_now()) if args.since else None
    except ValueError as exc:
        raise AuditError(str(exc)) from None
    directories = []
    for target in targets:
        directory = Path(target.settings.dir).expanduser()
        if not directory.is_dir():
            raise AuditError(f"no audit directory {directory}")
        directories.append(directory)
    where = RecordFilter(
        profile=args.profile,
        tool=args.tool,
        decision=args.decision,
        method=args.method,
        outcome=args.outcome,
        since=since,
        policy=args.policy,
    )
    if args.follow:
        return _follow(directories, where, args)
    records = []
    for directory in directories:
        records.extend(select(read_records(directory, since), where))
    records.sort(key=lambda record: str(record.get("ts")))
    if args.limit:
        records = records[-args.limit :]
    if args.format == "jsonl":
        print(format_jsonl(records), end="")
    else:
        print(format_table(records))
    return 0


def _follow(directories: list[Path], where: RecordFilter, args: argparse.Namespace) -> int:
    """Print the matching records so far, then new ones as they are appended, until SIGINT/SIGTERM."""
    render: Callable[[list[dict[str, Any]]], str] = format_jsonl if args.format == "jsonl" else format_follow_rows
    tails = [Tail(directory, where.since) for directory in directories]
    try:
        with _stop_signals() as stopped:
            backlog = sorted((record for tail in tails for record in select(tail.poll(), where)), key=lambda r: str(r.get("ts")))
            if args.limit:
                backlog = backlog[-args.limit :]
            if args.format == "table":
                _emit(format_follow_header() + "\n")
            _emit(render(backlog))
            while not stopped():
                # Each directory's records are in chain order already; several directories interleave by time.
                fresh = sorted((record for tail in tails for record in select(tail.poll(), where)), key=lambda r: str(r.get("ts")))
                _emit(render(fresh))
    except BrokenPipeError:  # `| head`: the reader is gone, which is not an error
        # Python would complain again while flushing stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    finally:
        for tail in tails:
            tail.close()
    return 0


def _emit(text: str) -> None:
    if text:
        sys.stdout.write(text)
        sys.stdout.flush()


@contextmanager
def _stop_signals() -> Iterator[Callable[[], bool]]:
    """Yield `stopped()`: waits up to FOLLOW_POLL_SECONDS and says whether SIGINT/SIGTERM arrived.

    The handlers only note the signal; the wake-up pipe ends the wait at once, so the loop stops
    between two polls, never half-way through printing a record.
    """
    received: list[int] = []
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    previous = {signum: signal.signal(signum, lambda signum, _frame: received.append(signum)) for signum in (signal.SIGINT, signal.SIGTERM)}
    previous_wakeup = signal.set_wakeup_fd(write_end)

    def stopped() -> bool:
        if not received:
            ready, _, _ = select_module.select([read_end], [], [], FOLLOW_POLL_SECONDS)
            if ready:
                with suppress(BlockingIOError):
                    os.read(read_end, 512)
        return bool(received)

    try:
        yield stopped
    finally:
        signal.set_wakeup_fd(previous_wakeup)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        os.close(read_end)
        os.close(write_end)
