"""The upstream as a child process speaking MCP over its stdin/stdout.

The child gets an explicit environment: a short allowlist of this process's variables, the
config's `upstream.env`, and the Stripe key as STRIPE_SECRET_KEY. Nothing else leaks into it, and
no key is ever placed on its command line. It runs in its own process group so that shutdown
reaches grandchildren too (`npx` starts `node`, which survives a cleanly exiting parent).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field

from mcp_guard.errors import UpstreamError
from mcp_guard.jsonrpc import Message, encode, parse_line
from mcp_guard.transports.channel import ChannelClosed, Inbound
from mcp_guard.transports.lines import LineReader

# Variables a child may inherit; the same list as the MCP SDK's stdio client, plus locale/tmp.
INHERITED_ENV = ("HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER", "LANG", "LC_ALL", "TMPDIR")

# Shutdown, per the MCP lifecycle: close stdin, give the server time, then TERM, then KILL.
EXIT_GRACE_SECONDS = 2.0
TERM_GRACE_SECONDS = 1.0
STDERR_LINE_CAP = 64 * 1024
STDERR_TAIL_LINES = 20


@dataclass(frozen=True)
class StdioCommand:
    command: str
    args: list[str]
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None


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


class UpstreamStdio:
    """A Channel to a child process. `stderr_tail` keeps its last (already redacted) stderr lines."""

    def __init__(self, process: asyncio.subprocess.Process, max_message_bytes: int) -> None:
        self.process = process
        assert process.stdout is not None and process.stdin is not None
        self._reader = LineReader(process.stdout, max_message_bytes)
        self._stdin = process.stdin
        self.stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)

    async def receive(self) -> Inbound:
        line = await self._reader.readline()
        if line is None:
            raise ChannelClosed(self.describe_exit())
        if isinstance(line, bytes):
            return parse_line(line)
        return line

    async def send(self, message: Message) -> None:
        try:
            self._stdin.write(encode(message))
            await self._stdin.drain()
        except (ConnectionError, RuntimeError) as exc:
            raise ChannelClosed(self.describe_exit()) from exc

    def set_protocol_version(self, version: str) -> None:
        """Stdio carries the version in the handshake only."""

    def describe_exit(self) -> str:
        code = self.process.returncode
        status = "closed its output" if code is None else f"exited with code {code}"
        last = f"; last stderr: {self.stderr_tail[-1]}" if self.stderr_tail else ""
        return f"the upstream {status}{last}"

    async def wait_exit(self, timeout: float) -> int | None:
        """The exit code, polled: asyncio's wait() also waits for pipes a grandchild may hold."""
        with suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while self.process.returncode is None:
                    await asyncio.sleep(0.01)
        return self.process.returncode

    async def read_stderr(self, on_line: Callable[[str], str]) -> None:
        """Feed each stderr line through `on_line` (which redacts and logs it) and keep the tail."""
        assert self.process.stderr is not None
        reader = LineReader(self.process.stderr, STDERR_LINE_CAP)
        while (line := await reader.readline()) is not None:
            text = line.decode("utf-8", "replace") if isinstance(line, bytes) else f"[{line.size} bytes dropped]"
            self.stderr_tail.append(on_line(text))

    async def shutdown(self) -> None:
        with suppress(Exception):
            self._stdin.close()
        if await self.wait_exit(EXIT_GRACE_SECONDS) is None:
            self._signal_group(signal.SIGTERM)
            if await self.wait_exit(TERM_GRACE_SECONDS) is None:
                self._signal_group(signal.SIGKILL)
                await self.wait_exit(TERM_GRACE_SECONDS)
        # The leader may be gone while its children (node under npx) live on in the group.
        self._signal_group(signal.SIGKILL)

    def _signal_group(self, signum: int) -> None:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)


@asynccontextmanager
async def open_upstream_stdio(spec: StdioCommand, max_message_bytes: int) -> AsyncIterator[UpstreamStdio]:
    env = child_environment(spec.env)
    executable = resolve_command(spec.command, env.get("PATH"))
    try:
        process = await asyncio.create_subprocess_exec(
            executable,
            *spec.args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            cwd=spec.cwd,
            start_new_session=True,
            limit=1 << 20,
        )
    except OSError as exc:
        raise UpstreamError(f"cannot start upstream {spec.command!r}: {exc.strerror or exc}") from exc
    upstream = UpstreamStdio(process, max_message_bytes)
    try:
        yield upstream
    finally:
        await asyncio.shield(upstream.shutdown())
