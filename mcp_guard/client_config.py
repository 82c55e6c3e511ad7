"""MCP clients' config files, and the mcp-guard entry `mcp-guard install` merges into them. Pure.

Where each client keeps its servers, and in which shape:

    cursor          ~/.cursor/mcp.json                                  {"mcpServers": {NAME: entry}}
    claude-desktop  ~/Library/Application Support/Claude/claude_desktop_config.json (macOS),
                    %APPDATA%\\Claude\\... (Windows), $XDG_CONFIG_HOME/Claude/... (Linux, else ~/.config)
                                                                        {"mcpServers": {NAME: entry}}
    vscode          .vscode/mcp.json of the workspace, or (--user) Code/User/mcp.json in the same
                    settings directory as Claude Desktop's              {"inputs": [...], "servers": {NAME: entry}}
    claude-code     .mcp.json of the project, or (--user) ~/.claude.json {"mcpServers": {NAME: entry}}

An entry starts `mcp-guard run --profile P` by absolute path. The Stripe key never appears in it:
`env` maps the profile's key variable to what the client substitutes at start (VS Code: a
password prompt kept in its secret storage; Cursor: `${env:VAR}`; Claude Code: `${VAR}`) or, for
Claude Desktop, which substitutes nothing, to a placeholder that mcp-guard refuses at start, so a
forgotten edit fails loudly. Claude Desktop starts servers with a minimal PATH, so its entry also
sets one that reaches the upstream's command (npx and node).

Merging keeps every other server and key of the file. An existing entry of the same name is
compared as data (formatting does not matter), with the key values the user already filled in
carried over, so re-running an install is a no-op.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from mcp_guard.errors import GuardError


class Client(str, Enum):
    CURSOR = "cursor"
    CLAUDE_DESKTOP = "claude-desktop"
    VSCODE = "vscode"
    CLAUDE_CODE = "claude-code"

    @property
    def display_name(self) -> str:
        return {"cursor": "Cursor", "claude-desktop": "Claude Desktop", "vscode": "VS Code", "claude-code": "Claude Code"}[self.value]

    @property
    def servers_key(self) -> str:
        return "servers" if self is Client.VSCODE else "mcpServers"


# Directories a minimal PATH needs besides the upstream's own: where node, env and sh usually live.
STANDARD_PATH_DIRS = ("/opt/homebrew/bin", "/usr/local/bin", "/usr/bin", "/bin")
# Values in a client file that are not secrets: substitutions and placeholders.
_NOT_A_SECRET = re.compile(r"^(\$\{[^}]*\}|<[^>]*>)$")


def config_file(client: Client, *, user: bool, home: Path, cwd: Path, environ: Mapping[str, str], platform: str) -> Path:
    """The file a client reads its MCP servers from (`user`: the per-user one, where there is a choice)."""
    if client is Client.CURSOR:
        return home / ".cursor" / "mcp.json"
    if client is Client.CLAUDE_DESKTOP:
        return _app_data(home, environ, platform) / "Claude" / "claude_desktop_config.json"
    if client is Client.VSCODE:
        return _app_data(home, environ, platform) / "Code" / "User" / "mcp.json" if user else cwd / ".vscode" / "mcp.json"
    return home / ".claude.json" if user else cwd / ".mcp.json"


def _app_data(home: Path, environ: Mapping[str, str], platform: str) -> Path:
    """Electron's appData directory, where Claude Desktop and VS Code keep their settings."""
    if platform == "darwin":
        return home / "Library" / "Application Support"
    if platform == "win32" and environ.get("APPDATA"):
        return Path(environ["APPDATA"])
    return Path(environ["XDG_CONFIG_HOME"]) if environ.get("XDG_CONFIG_HOME") else home / ".config"


@dataclass(frozen=True)
class Install:
    """What to merge: the server entry, and for VS Code the password prompts its env refers to."""

    entry: dict[str, Any]
    inputs: list[dict[str, Any]] = field(default_factory=list)
    key_values: dict[str, str] = field(default_factory=dict)  # key variable -> what the file says (a substitution or placeholder)


def build_install(
    client: Client, command: Sequence[str], profile: str, mode: str, *, config: Path | None, key_variables: Sequence[str], path_dirs: Sequence[str]
) -> Install:
    """The entry for `client` that runs `command run --profile P [--config F]`."""
    executable, *prefix = command
    args = [*prefix, "run", "--profile", profile, *(["--config", str(config)] if config is not None else [])]
    env: dict[str, str] = {}
    inputs: list[dict[str, Any]] = []
    for variable in key_variables:
        if client is Client.VSCODE:
            input_id = variable.lower().replace("_", "-")
            inputs.append({"type": "promptString", "id": input_id, "description": f"{variable}: {_key_hint(mode)} for mcp-guard profile {profile}", "password": True})
            env[variable] = f"${{input:{input_id}}}"
        elif client is Client.CURSOR:
            env[variable] = f"${{env:{variable}}}"
        elif client is Client.CLAUDE_CODE:
            env[variable] = f"${{{variable}}}"
        else:
            env[variable] = f"<your {_key_hint(mode)}>"
    key_values = dict(env)
    if client is Client.CLAUDE_DESKTOP and path_dirs:
        env["PATH"] = os.pathsep.join(path_dirs)
    entry: dict[str, Any] = {"type": "stdio"} if client in (Client.VSCODE, Client.CLAUDE_CODE) else {}
    entry.update({"command": executable, "args": args})
    if env:
        entry["env"] = env
    return Install(entry, inputs, key_values)


def _key_hint(mode: str) -> str:
    return "read-only rk_live_ restricted key" if mode == "live" else "rk_test_ or sk_test_ key"


def minimal_path(upstream_command: str | None, which: Any, exists: Any = os.path.isdir) -> list[str]:
    """A PATH for clients that start servers with almost none: the upstream command's directory,
    node's (npx and npm are node scripts), then the usual system directories that exist."""
    found: list[str] = []
    if upstream_command:
        resolved = upstream_command if os.sep in upstream_command else which(upstream_command)
        if resolved:
            found.append(os.path.dirname(os.path.abspath(resolved)))
            if os.path.basename(upstream_command) in ("npx", "npm", "pnpm", "yarn", "bunx"):
                node = which("node")
                if node:
                    found.append(os.path.dirname(os.path.abspath(node)))
    found.extend(d for d in STANDARD_PATH_DIRS if exists(d))
    return list(dict.fromkeys(found))


@dataclass(frozen=True)
class Merge:
    document: dict[str, Any]
    status: str  # "added", "replaced" or "unchanged"


def merge(document: Any, client: Client, name: str, install: Install, *, force: bool, where: Path) -> Merge:
    """`document` with the entry under `name`; raises GuardError rather than lose anything."""
    if not isinstance(document, dict):
        raise GuardError(f"{where}: the top level is not a JSON object; fix the file by hand first")
    merged = copy.deepcopy(document)
    servers = merged.setdefault(client.servers_key, {})
    if not isinstance(servers, dict):
        raise GuardError(f"{where}: {client.servers_key!r} is not a JSON object; fix the file by hand first")
    entry = _carry_over_keys(install, servers.get(name))
    status = "added"
    if name in servers:
        if servers[name] == entry:
            status = "unchanged"
        elif not force:
            raise GuardError(
                f"{where}: a different server {name!r} is already there; --force replaces it (after a backup), --name NAME adds another"
            )
        else:
            status = "replaced"
    servers[name] = entry
    if install.inputs:
        inputs = merged.setdefault("inputs", [])
        if not isinstance(inputs, list):
            raise GuardError(f"{where}: 'inputs' is not a JSON array; fix the file by hand first")
        known = {item.get("id") for item in inputs if isinstance(item, dict)}
        added_inputs = [item for item in install.inputs if item["id"] not in known]
        inputs.extend(added_inputs)
        if added_inputs and status == "unchanged":
            status = "replaced"
    return Merge(merged, status)


def _carry_over_keys(install: Install, existing: Any) -> dict[str, Any]:
    """The new entry, keeping a key value the user already put in the existing entry's env."""
    entry = copy.deepcopy(install.entry)
    old_env = existing.get("env") if isinstance(existing, dict) else None
    if isinstance(old_env, dict):
        for variable in install.key_values:
            if isinstance(old_env.get(variable), str) and old_env[variable]:
                entry["env"][variable] = old_env[variable]
    return entry


def masked(document: Any) -> Any:
    """A copy fit to print: every env and headers value of every server that is not a
    substitution, a placeholder or PATH becomes `***` (a client file holds other servers' secrets too)."""
    shown = copy.deepcopy(document)
    if not isinstance(shown, dict):
        return shown
    for key in ("mcpServers", "servers"):
        servers = shown.get(key)
        if not isinstance(servers, dict):
            continue
        for entry in servers.values():
            if not isinstance(entry, dict):
                continue
            for section in ("env", "headers"):
                values = entry.get(section)
                if isinstance(values, dict):
                    for variable, value in values.items():
                        if variable != "PATH" and not (isinstance(value, str) and _NOT_A_SECRET.match(value)):
                            values[variable] = "***"
    return shown
