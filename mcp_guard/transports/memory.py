"""In-memory channels: the relay's test double, shipped as a real class like the other transports.

`memory_pair()` returns the channel the relay uses and the peer a test (or a benchmark) drives:
what the peer sends, the relay receives as if it had come over a pipe (bytes are parsed exactly
as the stdio transports parse a line), and what the relay sends, the peer receives as a dict.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from mcp_guard.jsonrpc import DEFAULT_MAX_DEPTH, Message, encode, parse_line
from mcp_guard.transports.channel import ChannelClosed, Inbound

BUFFER = 1024  # messages in flight per direction before a sender waits


class MemoryChannel:
    """The relay's side: a client or upstream Channel (with `send_line`, `set_protocol_version`)."""

    def __init__(
        self,
        inbound: MemoryObjectReceiveStream[bytes],
        outbound: MemoryObjectSendStream[bytes],
        name: str,
        failures: MemoryObjectReceiveStream[str],
        max_depth: int = DEFAULT_MAX_DEPTH,
    ) -> None:
        self._in = inbound
        self._out = outbound
        self._name = name
        self._failures = failures
        self._max_depth = max_depth
        self.protocol_version: str | None = None

    async def receive(self) -> Inbound:
        try:
            line = await self._in.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError) as exc:
            raise ChannelClosed(f"the {self._name} closed the connection") from exc
        return parse_line(line, self._max_depth)

    async def send(self, message: Message) -> None:
        await self.send_line(encode(message))

    async def send_line(self, data: bytes) -> None:
        try:
            await self._out.send(data)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError) as exc:
            raise ChannelClosed(f"the {self._name} closed the connection") from exc

    def send_line_nowait(self, data: bytes) -> bool:
        """False when the buffer is full (the peer is not reading): use `send_line`."""
        try:
            self._out.send_nowait(data)
        except anyio.WouldBlock:
            return False
        except (anyio.BrokenResourceError, anyio.ClosedResourceError) as exc:
            raise ChannelClosed(f"the {self._name} closed the connection") from exc
        return True

    def set_protocol_version(self, version: str) -> None:
        self.protocol_version = version

    def describe_exit(self) -> str:
        return f"the {self._name} closed the connection"

    def failures(self) -> MemoryObjectReceiveStream[str]:
        """Fatal causes the peer reports (`MemoryPeer.report_failure`), like a stdio upstream's stderr."""
        return self._failures


@dataclass
class MemoryPeer:
    """The far side of a MemoryChannel, as a test drives it."""

    _out: MemoryObjectSendStream[bytes]
    _in: MemoryObjectReceiveStream[bytes]
    _failures: MemoryObjectSendStream[str]
    received: list[Message] = field(default_factory=list)

    async def send(self, message: Message) -> None:
        await self._out.send(encode(message))

    async def send_raw(self, line: bytes) -> None:
        """Exactly these bytes as one line (malformed input included)."""
        await self._out.send(line)

    async def receive(self) -> Message:
        message: Message = json.loads(await self._in.receive())
        self.received.append(message)
        return message

    async def receive_line(self) -> bytes:
        """The next line the relay sent, as raw bytes."""
        return await self._in.receive()

    async def report_failure(self, cause: str) -> None:
        """A fatal cause, as a stdio upstream's stderr would name it (a DNS failure, HTTP 401...)."""
        await self._failures.send(cause)

    async def close(self) -> None:
        """End of stream for the relay (EOF on a pipe)."""
        await self._out.aclose()

    async def stop_reading(self) -> None:
        """Close this side's inbound: the relay's next send fails (a client that closed its end)."""
        await self._in.aclose()


def memory_pair(name: str, *, max_depth: int = DEFAULT_MAX_DEPTH) -> tuple[MemoryChannel, MemoryPeer]:
    to_relay_send, to_relay_receive = anyio.create_memory_object_stream[bytes](BUFFER)
    from_relay_send, from_relay_receive = anyio.create_memory_object_stream[bytes](BUFFER)
    failures_send, failures_receive = anyio.create_memory_object_stream[str](BUFFER)
    channel = MemoryChannel(to_relay_receive, from_relay_send, name, failures_receive, max_depth)
    return channel, MemoryPeer(to_relay_send, from_relay_receive, failures_send)
