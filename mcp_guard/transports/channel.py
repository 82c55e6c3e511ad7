"""The one interface the relay needs from a transport."""

from __future__ import annotations

from typing import Protocol

from mcp_guard.jsonrpc import FramingProblem, Message, Oversized

Inbound = Message | FramingProblem | Oversized


class ChannelClosed(Exception):
    """The peer closed the connection (EOF on a pipe, or the HTTP session ended)."""


class Channel(Protocol):
    async def receive(self) -> Inbound:
        """The next message, or why the next line was not one. Raises ChannelClosed at the end."""
        ...

    async def send(self, message: Message) -> None: ...
