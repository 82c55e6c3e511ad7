"""Starting a stdio upstream: its command, its environment, the child process. No asyncio.

`mcp-guard run` starts the upstream as soon as the config has been checked, before it imports
the event loop and builds the guard, so that the upstream's own start (node takes hundreds of
milliseconds) overlaps mcp-guard's. `transports.upstream_stdio` then serves the child's pipes.

The child gets an explicit environment: a short allowlist of this process's variables, the
config's `upstream.env`, and the Stripe key as STRIPE_SECRET_KEY. Nothing else leaks into it, and
no key is ever placed on its command line. It runs in its own process group so that shutdown
reaches grandchildren too (`npx` starts `node`, which survives a cleanly exiting parent).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field

from mcp_guard.errors import UpstreamError

# Variables a child may inherit; the same list as the MCP SDK's stdio client, plus locale/tmp.
INHERITED_ENV = ("HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER", "LANG", "LC_ALL", "TMPDIR")
KEY_ENV_VAR = "STRIPE_SECRET_KEY"  # how a stdio upstream gets the profile's key (never on its command line)


@dataclass(frozen=True)
class StdioCommand:
    command: str
    args: list[str]
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None


def stdio_command(command: str, args: Sequence[str], env: Mapping[str, str], cwd: str | None, key: str | None) -> StdioCommand:
    """The upstream to start: the configured command, its env plus the key as STRIPE_SECRET_KEY."""
    child_env = dict(env)
    if key:
        child_env[KEY_ENV_VAR] = key
    return StdioCommand(command, list(args), child_env, cwd)


def child_environment(extra: Mapping[str, str], environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    env = {name: environ[name] for name in INHERITED_ENV if name in environ and not environ[name].startswith("()")}
    env.update(extra)
    return env


def resolve_command(command: str, path: str | None) -> str:
    if os.sep in command:
        return command
    found = shutil.which(command, path=path)
    if found is None:
        raise UpstreamError(f"upstream command {command!r} was not found on PATH ({path or 'empty'})")
    return found


def spawn(spec: StdioCommand) -> subprocess.Popen[bytes]:
    """Start the upstream with pipes on its stdin, stdout and stderr, in a process group of its own.

    Raises UpstreamError when the command cannot be found or started.
    """
    env = child_environment(spec.env)
    executable = resolve_command(spec.command, env.get("PATH"))
    try:
        return subprocess.Popen(  # the operator's configured upstream; never through a shell
            [executable, *spec.args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=spec.cwd,
            start_new_session=True,
            bufsize=0,
        )
    except OSError as exc:
        raise UpstreamError(f"cannot start upstream {spec.command!r}: {exc.strerror or exc}") from exc


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the child's process group and reap the child: for a child that was never served."""
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    for pipe in (process.stdin, process.stdout, process.stderr):
        if pipe is not None:
            with suppress(OSError):
                pipe.close()
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=1.0)
