"""The upstream as a child process speaking MCP over its stdin/stdout.

The child is started by `transports.process` (its environment, its process group); this module
serves its pipes on the event loop. `open_upstream_stdio` takes either a command to start or a
child already started (`mcp-guard run` starts it before importing the event loop).

Its stderr is read all the time (a full pipe would stall it), redacted line by line by the
caller, and digested (`transports.stderr`): error blocks are logged as one line, and a line that
names a fatal cause is reported on `failures()` for the relay. Only STDERR_BYTES_PER_SECOND of it
is processed: a flood is drained at reading speed, its excess lines counted and dropped.
Shutdown is bounded: close stdin, wait, SIGTERM the group, wait, SIGKILL the group; at most
SHUTDOWN_SECONDS in all.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress

from mcp_guard.jsonrpc import DEFAULT_MAX_DEPTH, Message, Oversized, encode, parse_line
from mcp_guard.transports.channel import ChannelClosed, Inbound
from mcp_guard.transports.lines import LineReader
from mcp_guard.transports.process import INHERITED_ENV, StdioCommand, child_environment, kill_group, resolve_command, spawn
from mcp_guard.transports.stderr import StderrBudget, StderrDigest, StderrEvent

__all__ = [
    "INHERITED_ENV",
    "StdioCommand",
    "UpstreamStdio",
    "child_environment",
    "open_upstream_stdio",
    "resolve_command",
]

logger = logging.getLogger("mcp_guard")

# Shutdown, per the MCP lifecycle: close stdin, give the server time, then TERM, then KILL.
EXIT_GRACE_SECONDS = 1.0
TERM_GRACE_SECONDS = 0.5
KILL_WAIT_SECONDS = 0.25
SHUTDOWN_SECONDS = EXIT_GRACE_SECONDS + TERM_GRACE_SECONDS + KILL_WAIT_SECONDS
STDERR_LINE_CAP = 64 * 1024
STDERR_TAIL_LINES = 20
STDERR_QUIET_SECONDS = 0.2  # a held error block is logged once stderr is quiet this long
STDERR_BYTES_PER_SECOND = 256 * 1024  # redacted and digested; redacting runs at a few MB/s
STDERR_DROP_REPORT_SECONDS = 10.0  # how often the count of dropped stderr lines is logged
FAILURES_BUFFER = 16
PROCESS_POLL_SECONDS = 0.1
STREAM_LIMIT = 1 << 20  # asyncio pauses a pipe once this much (x2) is buffered unread


class _Failures:
    """Fatal causes, in order, for one reader: `async for cause in failures` ends once closed."""

    def __init__(self, capacity: int) -> None:
        self._queue: asyncio.Queue[str | None] = asyncio.Queue(capacity + 1)  # + the end marker
        self._capacity = capacity
        self._closed = False

    def put(self, cause: str) -> None:
        """Queue a cause; dropped when closed or when `capacity` are already waiting."""
        if not self._closed and self._queue.qsize() < self._capacity:
            self._queue.put_nowait(cause)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._queue.put_nowait(None)

    def __aiter__(self) -> _Failures:
        return self

    async def __anext__(self) -> str:
        cause = await self._queue.get()
        if cause is None:
            self._queue.put_nowait(None)  # every later read ends too
            raise StopAsyncIteration
        return cause


class UpstreamStdio:
    """A Channel to a child process. `stderr_tail` keeps its last (already redacted) stderr lines."""

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        stdin: asyncio.StreamWriter,
        stdout: asyncio.StreamReader,
        stderr: asyncio.StreamReader,
        max_message_bytes: int,
        max_depth: int = DEFAULT_MAX_DEPTH,
    ) -> None:
        self.process = process
        self._reader = LineReader(stdout, max_message_bytes)
        self._stderr = stderr
        self._max_depth = max_depth
        self._stdin = stdin
        self.stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        self._digest = StderrDigest()
        self._lines_seen = 0
        self._error_seen_at = 0  # _lines_seen when the digest's last error was named
        self._last_error: str | None = None
        self._failures = _Failures(FAILURES_BUFFER)

    @property
    def returncode(self) -> int | None:
        """The child's exit code, None while it runs (polled: no child watcher is involved)."""
        return self.process.poll()

    async def receive(self) -> Inbound:
        line = await self._reader.readline()
        if line is None:
            raise ChannelClosed(self.describe_exit())
        if isinstance(line, bytes):
            return parse_line(line, self._max_depth)
        return line

    def has_buffered(self) -> bool:
        """Whether the next `receive` has a whole line to return without waiting."""
        return self._reader.has_line()

    async def send(self, message: Message) -> None:
        try:
            self._stdin.write(encode(message))
            await self._stdin.drain()
        except (ConnectionError, RuntimeError) as exc:
            raise ChannelClosed(self.describe_exit()) from exc

    def set_protocol_version(self, version: str) -> None:
        """Stdio carries the version in the handshake only."""

    def describe_exit(self) -> str:
        code = self.returncode
        status = "closed its output" if code is None else f"exited with code {code}"
        if self._last_error is not None and self._lines_seen - self._error_seen_at < STDERR_TAIL_LINES:
            return f"the upstream {status}; {self._last_error}"  # a recent error names the cause best
        last = f"; last stderr: {self.stderr_tail[-1]}" if self.stderr_tail else ""
        return f"the upstream {status}{last}"

    async def wait_gone(self) -> None:
        """Returns once the process has exited (its output may still be draining)."""
        while self.returncode is None:  # noqa: ASYNC110 - polled: an exit has no event without a child watcher
            await asyncio.sleep(PROCESS_POLL_SECONDS)

    def failures(self) -> _Failures:
        """Fatal causes the upstream's stderr names, each in one line (ends with its stderr)."""
        return self._failures

    async def wait_exit(self, within: float) -> int | None:
        """The exit code, polled: waiting for the pipes too could wait for a grandchild holding them."""
        try:
            async with asyncio.timeout(within):
                while self.returncode is None:  # noqa: ASYNC110 - polled, as above
                    await asyncio.sleep(0.01)
        except TimeoutError:
            pass
        return self.returncode

    async def read_stderr(self, on_line: Callable[[str], str]) -> None:
        """Feed each stderr line through `on_line` (which redacts it, and logs it at debug level),
        keep the tail, log folded error blocks, and report fatal causes on `failures()`; lines
        over the budget are only counted (see the module docstring)."""
        reader = LineReader(self._stderr, STDERR_LINE_CAP)
        clock = asyncio.get_running_loop().time
        budget = StderrBudget(STDERR_BYTES_PER_SECOND, clock())
        last_dropped: bytes | None = None  # processed at the end: an upstream's last words name its death
        try:
            while (line := await self._next_stderr_line(reader)) is not None:
                self._log_dropped(budget.report(clock(), STDERR_DROP_REPORT_SECONDS))
                if isinstance(line, bytes) and not budget.admit(len(line), clock()):
                    last_dropped = line
                    continue
                last_dropped = None
                self._process_stderr_line(line, on_line)
            if last_dropped is not None:
                self._process_stderr_line(last_dropped, on_line)
        finally:
            self._log_dropped(budget.report(clock(), 0))
            self._report(self._digest.flush())  # at the end, or when mcp-guard stops reading
            self._failures.close()

    async def _next_stderr_line(self, reader: LineReader) -> bytes | Oversized | None:
        """The next line; a held error block is logged once stderr is quiet for a moment."""
        while True:
            try:
                async with asyncio.timeout(STDERR_QUIET_SECONDS if self._digest.holding else None):
                    return await reader.readline()
            except TimeoutError:  # safe: a cancelled readline loses no bytes
                self._report(self._digest.flush())

    def _process_stderr_line(self, line: bytes | Oversized, on_line: Callable[[str], str]) -> None:
        text = line.decode("utf-8", "replace") if isinstance(line, bytes) else f"[a stderr line of {line.size} bytes was dropped]"
        redacted = on_line(text)
        self.stderr_tail.append(redacted)
        self._lines_seen += 1
        self._report(self._digest.feed(redacted))

    @staticmethod
    def _log_dropped(report: str | None) -> None:
        if report is not None:
            logger.warning("%s", report)

    def _report(self, events: list[StderrEvent]) -> None:
        if self._digest.last_error != self._last_error:  # the best cause of a death is the latest error
            self._last_error, self._error_seen_at = self._digest.last_error, self._lines_seen
        for event in events:
            if event.summary is not None:
                logger.warning("upstream error: %s", event.summary)
            if event.fatal is not None:
                logger.warning("upstream failure: %s", event.fatal)
                self._failures.put(event.fatal)

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
        if self.returncode is None:  # reap the leader (no child watcher does it for a plain Popen)
            await self.wait_exit(KILL_WAIT_SECONDS)

    def _signal_group(self, signum: int) -> None:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)


async def _serve_pipes(process: subprocess.Popen[bytes], max_message_bytes: int, max_depth: int) -> tuple[UpstreamStdio, list[asyncio.BaseTransport]]:
    """The child's pipes as asyncio streams (non-blocking, on the running loop)."""
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    loop = asyncio.get_running_loop()
    stdout, stdout_transport = await _read_pipe(loop, process.stdout)
    stderr, stderr_transport = await _read_pipe(loop, process.stderr)
    stdin_transport, protocol = await loop.connect_write_pipe(lambda: asyncio.streams.FlowControlMixin(loop=loop), process.stdin)
    stdin = asyncio.StreamWriter(stdin_transport, protocol, None, loop)
    upstream = UpstreamStdio(process, stdin, stdout, stderr, max_message_bytes, max_depth)
    return upstream, [stdout_transport, stderr_transport, stdin_transport]


async def _read_pipe(loop: asyncio.AbstractEventLoop, pipe: object) -> tuple[asyncio.StreamReader, asyncio.BaseTransport]:
    reader = asyncio.StreamReader(limit=STREAM_LIMIT, loop=loop)
    transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader, loop=loop), pipe)
    return reader, transport


@asynccontextmanager
async def open_upstream_stdio(
    spec: StdioCommand | subprocess.Popen[bytes], max_message_bytes: int, max_depth: int = DEFAULT_MAX_DEPTH
) -> AsyncIterator[UpstreamStdio]:
    """Serve a stdio upstream: `spec` is the command to start, or a child `transports.process.spawn` started."""
    process = spawn(spec) if isinstance(spec, StdioCommand) else spec
    transports: list[asyncio.BaseTransport] = []
    try:
        upstream, transports = await _serve_pipes(process, max_message_bytes, max_depth)
    except BaseException:
        kill_group(process)
        raise
    try:
        yield upstream
    finally:
        await _shielded_shutdown(upstream, transports)


async def _shielded_shutdown(upstream: UpstreamStdio, transports: list[asyncio.BaseTransport]) -> None:
    """Shut the child down even when the caller is being cancelled (bounded: SHUTDOWN_SECONDS)."""
    task = asyncio.ensure_future(upstream.shutdown())
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait((task,))  # the child is gone before the cancellation goes on
        raise
    finally:
        for transport in transports:
            transport.close()
