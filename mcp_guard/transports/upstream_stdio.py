"""The upstream as a child process speaking MCP over its stdin/stdout.

The child gets an explicit environment: a short allowlist of this process's variables, the
config's `upstream.env`, and the Stripe key as STRIPE_SECRET_KEY. Nothing else leaks into it, and
no key is ever placed on its command line. It runs in its own process group so that shutdown
reaches grandchildren too (`npx` starts `node`, which survives a cleanly exiting parent).

Its stderr is read all the time (a full pipe would stall it), redacted line by line by the
caller, and digested (`transports.stderr`): error blocks are logged as one line, and a line that
names a fatal cause is reported on `failures()` for the relay. Shutdown is bounded: close stdin,
wait, SIGTERM the group, wait, SIGKILL the group; at most SHUTDOWN_SECONDS in all.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import shutil
import signal
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream

from mcp_guard.errors import UpstreamError
from mcp_guard.jsonrpc import DEFAULT_MAX_DEPTH, Message, Oversized, encode, parse_line
from mcp_guard.transports.channel import ChannelClosed, Inbound
from mcp_guard.transports.lines import LineReader
from mcp_guard.transports.stderr import StderrDigest, StderrEvent

logger = logging.getLogger("mcp_guard")

# Variables a child may inherit; the same list as the MCP SDK's stdio client, plus locale/tmp.
INHERITED_ENV = ("HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER", "LANG", "LC_ALL", "TMPDIR")

# Shutdown, per the MCP lifecycle: close stdin, give the server time, then TERM, then KILL.
EXIT_GRACE_SECONDS = 1.0
TERM_GRACE_SECONDS = 0.5
KILL_WAIT_SECONDS = 0.25
SHUTDOWN_SECONDS = EXIT_GRACE_SECONDS + TERM_GRACE_SECONDS + KILL_WAIT_SECONDS
STDERR_LINE_CAP = 64 * 1024
STDERR_TAIL_LINES = 20
STDERR_QUIET_SECONDS = 0.2  # a held error block is logged once stderr is quiet this long
FAILURES_BUFFER = 16
PROCESS_POLL_SECONDS = 0.1


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

    def __init__(self, process: asyncio.subprocess.Process, max_message_bytes: int, max_depth: int = DEFAULT_MAX_DEPTH) -> None:
        self.process = process
        assert process.stdout is not None and process.stdin is not None
        self._reader = LineReader(process.stdout, max_message_bytes)
        self._max_depth = max_depth
        self._stdin = process.stdin
        self.stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        self._digest = StderrDigest()
        self._lines_seen = 0
        self._error_seen_at = 0  # _lines_seen when the digest's last error was named
        self._last_error: str | None = None
        self._failures_in, self._failures = anyio.create_memory_object_stream[str](FAILURES_BUFFER)

    async def receive(self) -> Inbound:
        line = await self._reader.readline()
        if line is None:
            raise ChannelClosed(self.describe_exit())
        if isinstance(line, bytes):
            return parse_line(line, self._max_depth)
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
        if self._last_error is not None and self._lines_seen - self._error_seen_at < STDERR_TAIL_LINES:
            return f"the upstream {status}; {self._last_error}"  # a recent error names the cause best
        last = f"; last stderr: {self.stderr_tail[-1]}" if self.stderr_tail else ""
        return f"the upstream {status}{last}"

    async def wait_gone(self) -> None:
        """Returns once the process has exited (its output may still be draining)."""
        while self.process.returncode is None:  # noqa: ASYNC110 - the child watcher sets returncode; no event exists without the pipes
            await asyncio.sleep(PROCESS_POLL_SECONDS)

    def failures(self) -> MemoryObjectReceiveStream[str]:
        """Fatal causes the upstream's stderr names, each in one line (ends with its stderr)."""
        return self._failures

    async def wait_exit(self, within: float) -> int | None:
        """The exit code, polled: asyncio's wait() also waits for pipes a grandchild may hold."""
        with anyio.move_on_after(within):
            while self.process.returncode is None:  # noqa: ASYNC110 - the child watcher sets returncode; no event exists without the pipes
                await asyncio.sleep(0.01)
        return self.process.returncode

    async def read_stderr(self, on_line: Callable[[str], str]) -> None:
        """Feed each stderr line through `on_line` (which redacts it, and logs it at debug level),
        keep the tail, log folded error blocks, and report fatal causes on `failures()`."""
        assert self.process.stderr is not None
        reader = LineReader(self.process.stderr, STDERR_LINE_CAP)
        try:
            while True:
                line: bytes | Oversized | None = None
                with anyio.move_on_after(STDERR_QUIET_SECONDS if self._digest.holding else math.inf) as quiet:
                    line = await reader.readline()
                if quiet.cancelled_caught:  # safe: a cancelled readline loses no bytes
                    self._report(self._digest.flush())
                    continue
                if line is None:
                    break
                text = line.decode("utf-8", "replace") if isinstance(line, bytes) else f"[a stderr line of {line.size} bytes was dropped]"
                redacted = on_line(text)
                self.stderr_tail.append(redacted)
                self._lines_seen += 1
                self._report(self._digest.feed(redacted))
        finally:
            self._report(self._digest.flush())  # at the end, or when mcp-guard stops reading
            self._failures_in.close()

    def _report(self, events: list[StderrEvent]) -> None:
        if self._digest.last_error != self._last_error:  # the best cause of a death is the latest error
            self._last_error, self._error_seen_at = self._digest.last_error, self._lines_seen
        for event in events:
            if event.summary is not None:
                logger.warning("upstream error: %s", event.summary)
            if event.fatal is not None:
                logger.warning("upstream failure: %s", event.fatal)
                with suppress(anyio.WouldBlock, anyio.BrokenResourceError, anyio.ClosedResourceError):
                    self._failures_in.send_nowait(event.fatal)

    async def shutdown(self) -> None:
        with suppress(Exception):
            self._stdin.close()
        if await self.wait_exit(EXIT_GRACE_SECONDS) is None:
            self._signal_group(signal.SIGTERM)
            if await self.wait_exit(TERM_GRACE_SECONDS) is None:
                self._signal_group(signal.SIGKILL)
                await self.wait_exit(KILL_WAIT_SECONDS)
        # The leader may be gone while its children (node under npx) live on in the group.
        self._signal_group(signal.SIGKILL)

    def _signal_group(self, signum: int) -> None:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)


@asynccontextmanager
async def open_upstream_stdio(spec: StdioCommand, max_message_bytes: int, max_depth: int = DEFAULT_MAX_DEPTH) -> AsyncIterator[UpstreamStdio]:
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
    upstream = UpstreamStdio(process, max_message_bytes, max_depth)
    try:
        yield upstream
    finally:
        await asyncio.shield(upstream.shutdown())
