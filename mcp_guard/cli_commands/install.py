"""`mcp-guard install cursor|claude-desktop|vscode|claude-code --profile P [--config F] [--name N]
[--user] [--file F] [--dry-run] [--force]`: add mcp-guard to an MCP client's config file.

Merges one server entry (default name `stripe-P`) that starts this mcp-guard by absolute path as
`run --profile P` (plus `--config F`, absolute, when a config was given or `$MCP_GUARD_CONFIG`
names one, since the client will not have that variable). The key is never written: see
`mcp_guard.client_config` for what each client's entry holds instead. Every other server and
setting in the file is kept; the file is backed up to `FILE.bak-YYYYmmddHHMMSS` before it is
rewritten (two-space JSON, mode kept; a new file is created 0600). `--dry-run` prints the change
as a unified diff, with env and header values of every server masked, and writes nothing.

Exit codes: 0 installed, already installed, or diff printed; 1 a bad config or unknown profile,
a client file that is not plain JSON, or a different server of that name already there (without
--force); 2 bad usage.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from mcp_guard.client_config import Client, Install, build_install, config_file, masked, merge, minimal_path
from mcp_guard.config import ENV_CONFIG_VAR, find_config, load_config
from mcp_guard.errors import ConfigError, GuardError


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "install",
        help="add mcp-guard to an MCP client's config (cursor, claude-desktop, vscode, claude-code)",
        description="Merge an mcp-guard server entry into an MCP client's config file (backup first; --dry-run shows the diff).",
    )
    parser.add_argument("client", choices=[client.value for client in Client], help="the MCP client to set up")
    parser.add_argument("--profile", required=True, help="profile name from the config (e.g. test, live)")
    parser.add_argument("--config", type=Path, help="config file the entry runs with (default: the one found at start)")
    parser.add_argument("--name", help="server name in the client (default: stripe-PROFILE)")
    parser.add_argument("--user", action="store_true", help="vscode, claude-code: the user's config instead of the current project's")
    parser.add_argument("--file", type=Path, help="write this client config file instead of the usual one")
    parser.add_argument("--dry-run", action="store_true", help="print the change as a diff; write nothing")
    parser.add_argument("--force", action="store_true", help="replace a different server of the same name")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    client = Client(args.client)
    name = args.name or f"stripe-{args.profile}"
    config = _config_for_entry(args.config, os.environ)
    loaded = load_config(config if config is not None else find_config(), _Unset(os.environ))
    profile = loaded.profile(args.profile)
    try:
        upstream = loaded.upstream_for(args.profile)
    except ConfigError:
        upstream = None  # the entry may still be used with a `--` upstream; nothing to put on PATH
    upstream_command = upstream.command if upstream is not None else None
    login = None
    if upstream is not None and upstream.url is not None and upstream.auth == "oauth":
        login = " ".join(["mcp-guard login --profile", args.profile, *(["--config", str(config)] if config is not None else [])])
    install = build_install(
        client,
        guard_command(),
        args.profile,
        profile.mode.value,
        config=config,
        key_variables=loaded.variables_of(f"profiles.{args.profile}.api_key"),
        path_dirs=minimal_path(upstream_command, shutil.which) if client is Client.CLAUDE_DESKTOP else [],
    )
    path = args.file or config_file(client, user=args.user, home=Path.home(), cwd=Path.cwd(), environ=os.environ, platform=sys.platform)
    path = path.absolute()
    old_text = _read(path)
    old = _parse(old_text, path)
    result = merge(old, client, name, install, force=args.force, where=path)
    if args.dry_run:
        _print_diff(old if old_text is not None else None, result.document, path)
        return 0
    if result.status == "unchanged":
        print(f"{path}: server {name!r} is already installed; nothing changed")
        return 0
    backup = _backup(path) if old_text is not None else None
    _write(path, json.dumps(result.document, indent=2, ensure_ascii=False) + "\n")
    print(f"{path}: {result.status} server {name!r}" + (f" (backup: {backup})" if backup else ""))
    print(f"  runs: {' '.join([install.entry['command'], *install.entry['args']])}")
    for line in _next_steps(client, install, name, login):
        print(f"  {line}")
    return 0


def guard_command() -> list[str]:
    """How a client starts this mcp-guard: an absolute path, never one that depends on PATH.

    Not resolved through symlinks: pipx and `uv tool` link ~/.local/bin/mcp-guard into a venv,
    and the link is what survives an upgrade.
    """
    argv0 = Path(sys.argv[0])
    if argv0.name in ("mcp-guard", "mcp-guard.exe") and argv0.is_file():
        return [os.path.abspath(argv0)]
    beside = Path(sys.executable).parent / "mcp-guard"
    if beside.is_file():
        return [os.path.abspath(beside)]
    found = shutil.which("mcp-guard")
    if found:
        return [os.path.abspath(found)]
    return [os.path.abspath(sys.executable), "-m", "mcp_guard"]  # `python -m mcp_guard` without the script


def _config_for_entry(given: Path | None, environ: Mapping[str, str]) -> Path | None:
    """The --config the entry needs: the one given, or $MCP_GUARD_CONFIG's (the client lacks it)."""
    if given is not None:
        return given.expanduser().absolute()
    if environ.get(ENV_CONFIG_VAR):
        return find_config(environ).expanduser().absolute()  # an error if the variable names no file
    return None


class _Unset(Mapping[str, str]):
    """The environment, with every unset variable empty (defaults too): the config is read for its
    profile, mode and key variable names only, and the key variables are usually unset where
    `install` runs. The entry itself is loaded again, properly, when the client starts it."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def __getitem__(self, name: str) -> str:
        return self._environ.get(name, "")

    def __contains__(self, name: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self._environ)

    def __len__(self) -> int:
        return len(self._environ)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise GuardError(f"{path}: cannot read: {exc}") from exc


def _parse(text: str | None, path: Path) -> Any:
    if text is None or not text.strip():
        return {}
    try:
        return json.loads(text)
    except ValueError as exc:
        line = getattr(exc, "lineno", "?")
        raise GuardError(
            f"{path}:{line}: not plain JSON ({getattr(exc, 'msg', exc)}); comments or trailing commas? edit it by hand, or remove them and rerun"
        ) from None


def _print_diff(old: Any, new: Any, path: Path) -> None:
    before = json.dumps(masked(old), indent=2, ensure_ascii=False).splitlines(keepends=True) if old is not None else []
    after = json.dumps(masked(new), indent=2, ensure_ascii=False).splitlines(keepends=True)
    diff = list(difflib.unified_diff(before, after, fromfile=str(path) if old is not None else "/dev/null", tofile=str(path)))
    if not diff:
        print(f"{path}: no change")
        return
    sys.stdout.writelines(line if line.endswith("\n") else line + "\n" for line in diff)
    print("(dry run: nothing written; env and header values are shown as *** unless they are placeholders)")


def _backup(path: Path) -> Path:
    stamp = time.strftime("%Y%m%d%H%M%S")
    backup = path.with_name(f"{path.name}.bak-{stamp}")
    counter = 1
    while backup.exists():  # two installs in one second keep both originals
        backup = path.with_name(f"{path.name}.bak-{stamp}-{counter}")
        counter += 1
    shutil.copy2(path, backup)
    return backup


def _write(path: Path, text: str) -> None:
    """Replace the file atomically, keeping its mode (a new file is 0600: it may get a key)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o600
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _next_steps(client: Client, install: Install, name: str, login: str | None) -> list[str]:
    steps = [f"key: none in the entry; the profile uses an OAuth grant: run `{login}` once"] if login else []
    for variable, value in install.key_values.items():
        if client is Client.VSCODE:
            steps.append(f"key: VS Code asks for {variable} when it first starts {name!r} and keeps it in its secret storage")
        elif client is Client.CLAUDE_DESKTOP:
            steps.append(f"key: replace {value} in env.{variable} with your key (keys go in env, never in args)")
        else:
            steps.append(f"key: {client.display_name} fills env.{variable} = {value} from its own environment; set {variable} there, or put the key in that field")
    if not install.key_values and not login:
        steps.append("key: the profile's api_key names no environment variable, so the entry passes none")
    steps.append(f"then: restart {client.display_name} (or reload its MCP servers)")
    return steps
