"""Start a stdio upstream before the config is validated, when that is safe, so the two overlap.

Importing pydantic and building the config models takes mcp-guard well over 100 ms; Stripe's
npm server takes hundreds more to start. Validated first and started second, a user waits for
both; so `run` reads the config file (no pydantic: `config_file`), and when the profile's raw
upstream is a plain stdio command and its key fits the profile's mode, starts it right away.

Nothing is sent to that process until the config is validated and preflight has passed, and it
is kept only if the validated config would start exactly the same command, arguments,
environment (key included) and directory; otherwise it is killed before anything reaches it
(and the validated upstream is started, or the error reported).

What is never started early: a key that does not fit the profile (a live key in a test profile,
an unrestricted live key without `allow_unrestricted_live_key`, a malformed key), a key on the
command line, an upstream whose own config carries a key, an HTTP upstream, and anything not
shaped the way the schema requires. Those take the validated path, which reports them.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mcp_guard.config_file import ConfigFile
from mcp_guard.errors import GuardError, KeyBindingError
from mcp_guard.keys import check_key_binding, find_upstream_keys
from mcp_guard.mode import Mode
from mcp_guard.transports.process import StdioCommand, spawn, stdio_command


@dataclass(frozen=True)
class EarlyUpstream:
    """A stdio upstream started from the unvalidated config, and what it was started as."""

    command: StdioCommand
    child: subprocess.Popen[bytes]


@dataclass(frozen=True)
class _RawProfile:
    """The fields of an unvalidated profile a key is checked against (a `keys.KeyScope`)."""

    name: str
    mode: Mode
    allow_unrestricted_live_key: bool


@dataclass(frozen=True)
class _RawUpstream:
    """The places an unvalidated upstream could carry a key (a `keys.KeyCarrier`)."""

    env: Mapping[str, str]
    args: Sequence[str]
    headers: Mapping[str, str] = field(default_factory=dict)


def start_early(file: ConfigFile, profile: str, command: Sequence[str] = ()) -> EarlyUpstream | None:
    """Start the profile's stdio upstream now, or None when it may not (or cannot) start early.

    Never raises for a config or spawn problem: the validated path meets it again and reports it.
    """
    spec = early_command(file, profile, command)
    if spec is None:
        return None
    try:
        return EarlyUpstream(spec, spawn(spec))
    except GuardError:
        return None


def early_command(file: ConfigFile, name: str, command: Sequence[str] = ()) -> StdioCommand | None:
    """What the validated config would start for profile `name`, read from the raw config; None
    when it is not a plain stdio upstream or its key may not reach an upstream yet. Pure."""
    profiles = file.data.get("profiles")
    profile = profiles.get(name) if isinstance(profiles, dict) else None
    if not isinstance(profile, dict):
        return None
    mode, allow, key = profile.get("mode"), profile.get("allow_unrestricted_live_key", False), profile.get("api_key")
    if mode not in ("test", "live") or not isinstance(allow, bool) or not (key is None or isinstance(key, str)):
        return None
    key = key if key and key.strip() else None  # as the schema reads it: blank is no key
    base = profile.get("upstream") if profile.get("upstream") is not None else file.data.get("upstream")
    if base is not None and not isinstance(base, dict):
        return None
    upstream = _plain_upstream(base or {}, command)
    if upstream is None:
        return None
    executable, args, env, cwd = upstream
    if key is not None:
        try:
            check_key_binding(_RawProfile(name, Mode(mode), allow), key, where=f"profiles.{name}.api_key")
        except KeyBindingError:
            return None
    if next(find_upstream_keys(_RawUpstream(env, args), "upstream"), None) is not None:
        return None
    if any(arg.startswith("--api-key") or (key is not None and key in arg) for arg in (executable, *args)):
        return None
    return stdio_command(executable, args, env, cwd, key)


def _plain_upstream(base: dict[str, Any], command: Sequence[str]) -> tuple[str, list[str], dict[str, str], str | None] | None:
    """(command, args, env, cwd) as `resolve` would start them, if every one has the schema's type."""
    if base.get("headers"):
        return None
    env: Any = base.get("env", {})
    executable: Any
    args: Any
    cwd: Any = None
    if command:  # `-- COMMAND ARGS`: replaces the configured command; the configured env stays
        executable, *args = command
    else:
        if base.get("url") is not None:
            return None
        executable, args, cwd = base.get("command"), base.get("args", []), base.get("cwd")
    if not isinstance(executable, str) or not executable or not (cwd is None or isinstance(cwd, str)):
        return None
    if not isinstance(args, list) or not isinstance(env, dict) or not _all_strings([*args, *env, *env.values()]):
        return None
    return executable, list(args), dict(env), cwd


def _all_strings(values: list[Any]) -> bool:
    return all(isinstance(value, str) for value in values)
