"""The client's side: MCP over this process's stdin and stdout, asyncio-native (POSIX).

Non-blocking pipes instead of worker threads: about 0.35 ms less per call than the SDK's
`stdio_server()`, and the process can exit while stdin is still open. While serving, fd 0 reads
/dev/null and fd 1 writes to stderr, so stray output from any library cannot corrupt the wire.
What epoll cannot watch (a regular file, /dev/null) is read from a thread and written directly.
A write to a client that closed its end raises ChannelClosed. `backlog_bytes` and `input_ended`
let the relay stop reading requests from a client that does not read its answers.
"""

from __future__ import annotations

import asyncio
import os
import select
import selectors
import stat
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress

from mcp_guard.jsonrpc import DEFAULT_MAX_DEPTH, Message, encode, parse_line
from mcp_guard.transports.channel import ChannelClosed, Inbound
from mcp_guard.transports.lines import LineReader

STREAM_LIMIT = 1 << 20  # asyncio pauses the pipe once this much (x2) is buffered unread


class ClientStdio:
    """A Channel over the client's pipes. `send_line` writes a pre-encoded message."""

    def __init__(self, reader: LineReader, writer: _LineWriter, max_depth: int = DEFAULT_MAX_DEPTH, input_ended: Callable[[], bool] | None = None) -> None:
        self._reader = reader
        self._writer = writer
        self._max_depth = max_depth
        self._input_ended = input_ended or (lambda: False)

    async def receive(self) -> Inbound:
        line = await self._reader.readline()
        if line is None:
            raise ChannelClosed("the client closed stdin")
        if isinstance(line, bytes):
            return parse_line(line, self._max_depth)
        return line

    async def send(self, message: Message) -> None:
        await self._writer.write(encode(message))

    async def send_line(self, data: bytes) -> None:
        await self._writer.write(data)

    def send_line_nowait(self, data: bytes) -> bool:
        """Write a pre-encoded message now (the pipe buffers what the client has not read yet)."""
        self._writer.write_nowait(data)
        return True

    def backlog_bytes(self) -> int:
        """Bytes written for the client that it has not read yet (and the pipe could not take)."""
        return self._writer.backlog_bytes()

    def input_ended(self) -> bool:
        """Whether the client can send nothing more (it closed stdin), though lines may be unread."""
        return self._input_ended()


class _LineWriter:
    def __init__(self, writer: asyncio.StreamWriter | None, fd: int) -> None:
        self._writer = writer
        self._fd = fd

    def backlog_bytes(self) -> int:
        return 0 if self._writer is None else self._writer.transport.get_write_buffer_size()

    def write_nowait(self, data: bytes) -> None:
        """Hand `data` to the pipe without waiting for the client to read it: like `write`, minus
        the wait (`drain`) that only paces a client that reads slowly."""
        try:
            if self._writer is None:
                _write_all(self._fd, data)
                return
            self._writer.write(data)
        except (OSError, RuntimeError) as exc:
            raise ChannelClosed(f"the client closed its input ({type(exc).__name__})") from exc
        if self._writer.transport.is_closing():  # the write failed (EPIPE): the client is gone
            raise ChannelClosed("the client closed its input (BrokenPipeError)")

    async def write(self, data: bytes) -> None:
        try:
            if self._writer is None:  # a regular file or a device: writes do not block for long
                _write_all(self._fd, data)
                return
            # One write() per message keeps lines whole even when several tasks answer at once.
            self._writer.write(data)
            await self._writer.drain()
        except (OSError, RuntimeError) as exc:  # ConnectionError is an OSError
            raise ChannelClosed(f"the client closed its input ({type(exc).__name__})") from exc

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _pollable(fd: int) -> bool:
    """Whether the event loop can watch `fd`: not a regular file, nor a device epoll refuses (/dev/null)."""
    if stat.S_ISREG(os.fstat(fd).st_mode):
        return False
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
    except (OSError, ValueError):
        return False
    return True


def _claim_std_fds() -> tuple[int, int]:
    """Move the wire to private descriptors and point fd 0/1 somewhere harmless."""
    wire_in = os.dup(0)
    wire_out = os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    return wire_in, wire_out


def _hung_up(fd: int) -> bool:
    """Whether the writing end of `fd` is closed (polled: the read transport may be paused)."""
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLRDHUP)
    return any(events & (select.POLLHUP | select.POLLRDHUP | select.POLLERR | select.POLLNVAL) for _, events in poller.poll(0))


async def _open_reader(loop: asyncio.AbstractEventLoop, fd: int) -> tuple[asyncio.StreamReader, Callable[[], bool]]:
    """The client's input, and a test of whether it has ended (nothing more can come)."""
    reader = asyncio.StreamReader(limit=STREAM_LIMIT, loop=loop)
    if _pollable(fd):
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader, loop=loop), os.fdopen(fd, "rb", 0, closefd=False))
        return reader, lambda: _hung_up(fd)
    # epoll cannot watch regular files (nor /dev/null): read from a thread (no backpressure needed).
    done = threading.Event()

    def feed(callback: Callable[..., object], *args: object) -> None:
        with suppress(RuntimeError):  # the loop is closed: nobody is reading any more
            loop.call_soon_threadsafe(callback, *args)

    def pump() -> None:
        with suppress(OSError):
            while chunk := os.read(fd, 1 << 16):
                feed(reader.feed_data, chunk)
        done.set()
        feed(reader.feed_eof)

    threading.Thread(target=pump, name="mcp-guard-stdin", daemon=True).start()
    return reader, done.is_set


async def _open_writer(loop: asyncio.AbstractEventLoop, fd: int) -> _LineWriter:
    if _pollable(fd):
        transport, protocol = await loop.connect_write_pipe(lambda: asyncio.streams.FlowControlMixin(loop=loop), os.fdopen(fd, "wb", 0, closefd=False))
        return _LineWriter(asyncio.StreamWriter(transport, protocol, None, loop), fd)
    return _LineWriter(None, fd)  # a regular file or /dev/null: plain writes


@asynccontextmanager
async def open_client_stdio(max_message_bytes: int, max_depth: int = DEFAULT_MAX_DEPTH) -> AsyncIterator[ClientStdio]:
    loop = asyncio.get_running_loop()
    wire_in, wire_out = _claim_std_fds()
    reader, input_ended = await _open_reader(loop, wire_in)
    writer = await _open_writer(loop, wire_out)
    try:
        yield ClientStdio(LineReader(reader, max_message_bytes), writer, max_depth, input_ended)
    finally:
        writer.close()
