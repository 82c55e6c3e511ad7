"""The upstream over streamable HTTP (e.g. https://mcp.stripe.com), through the MCP SDK transport.

The SDK transport speaks typed messages; this edge converts to and from the relay's dicts, and
stamps MCP-Protocol-Version on every message once `initialize` has negotiated it (the SDK only
sends the header when message metadata carries it).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import anyio
import httpx2
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.message import ClientMessageMetadata, SessionMessage
from mcp_types import jsonrpc_message_adapter
from pydantic import ValidationError

from mcp_guard.errors import UpstreamError
from mcp_guard.jsonrpc import INVALID_REQUEST, FramingProblem, Message
from mcp_guard.transports.channel import ChannelClosed, Inbound

logger = logging.getLogger(__name__)

PROTOCOL_VERSION_HEADER = "MCP-Protocol-Version"
CONNECT_TIMEOUT_SECONDS = 30.0
READ_TIMEOUT_SECONDS = 300.0  # a server may hold an SSE stream open for long


class UpstreamHttp:
    def __init__(self, url: str, read_stream, write_stream) -> None:  # type: ignore[no-untyped-def]
        self.url = url
        self._read = read_stream
        self._write = write_stream
        self._metadata: ClientMessageMetadata | None = None
        self.stderr_tail: list[str] = []

    async def receive(self) -> Inbound:
        try:
            item = await self._read.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError) as exc:
            raise ChannelClosed(f"the HTTP upstream {self.url} closed the session") from exc
        if isinstance(item, Exception):
            return FramingProblem(INVALID_REQUEST, f"the HTTP upstream sent an unreadable message: {item}")
        message: Message = item.message.model_dump(by_alias=True, exclude_unset=True)
        return message

    async def send(self, message: Message) -> None:
        try:
            typed = jsonrpc_message_adapter.validate_python(message, by_name=False)
        except ValidationError as exc:
            raise UpstreamError(f"message cannot be sent over HTTP: {exc.errors()[0]['msg']}") from exc
        try:
            await self._write.send(SessionMessage(typed, metadata=self._metadata))
        except (anyio.ClosedResourceError, anyio.BrokenResourceError) as exc:
            raise ChannelClosed(f"the HTTP upstream {self.url} closed the session") from exc

    def set_protocol_version(self, version: str) -> None:
        self._metadata = ClientMessageMetadata(headers={PROTOCOL_VERSION_HEADER: version})

    def describe_exit(self) -> str:
        return f"the HTTP upstream {self.url} closed the session"

    async def shutdown(self) -> None:
        """The SDK transport ends the session (DELETE) when its context exits."""


@asynccontextmanager
async def open_upstream_http(
    url: str, headers: Mapping[str, str], transport: httpx2.AsyncBaseTransport | None = None
) -> AsyncIterator[UpstreamHttp]:
    """`transport` replaces httpx's own, e.g. the OAuth grant's (mcp_guard.oauth.GrantTransport)."""
    timeout = httpx2.Timeout(CONNECT_TIMEOUT_SECONDS, read=READ_TIMEOUT_SECONDS)
    if transport is None:
        client = create_mcp_http_client(headers=dict(headers), timeout=timeout)
    else:
        client = httpx2.AsyncClient(headers=dict(headers), timeout=timeout, transport=transport)
    async with client, streamable_http_client(url, http_client=client) as (read_stream, write_stream):
        yield UpstreamHttp(url, read_stream, write_stream)
