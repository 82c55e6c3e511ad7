"""The upstream over streamable HTTP (e.g. https://mcp.stripe.com), through the MCP SDK transport.

The SDK transport speaks typed messages; this edge converts to and from the relay's dicts, and
stamps MCP-Protocol-Version on every message once `initialize` has negotiated it (the SDK only
sends the header when message metadata carries it).

The SDK transport runs in a task of its own, never around the relay: when it fails (the server
is killed, refuses connections, or cannot be resolved) its error is caught there, and the relay
sees the session end (ChannelClosed naming the cause) exactly as it sees a stdio upstream exit, so
every pending request is answered with that cause. An HTTP error status on a request is named in
the error the client gets (401/403: the key). Ending the session (DELETE) is bounded by
TEARDOWN_SECONDS, so a hung server cannot hold mcp-guard at exit. Messages are checked like
parsed lines (`jsonrpc.value_problem`): too deep, non-finite numbers or unpaired surrogates are
withheld.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2
from anyio.abc import TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.message import ClientMessageMetadata, SessionMessage
from mcp_types import jsonrpc_message_adapter
from pydantic import ValidationError

from mcp_guard.errors import UpstreamError
from mcp_guard.jsonrpc import DEFAULT_MAX_DEPTH, INVALID_REQUEST, FramingProblem, Kind, Message, is_request_id, value_problem
from mcp_guard.transports.channel import ChannelClosed, Inbound

logger = logging.getLogger(__name__)

PROTOCOL_VERSION_HEADER = "MCP-Protocol-Version"
CONNECT_TIMEOUT_SECONDS = 30.0
READ_TIMEOUT_SECONDS = 300.0  # a server may hold an SSE stream open for long
TEARDOWN_SECONDS = 2.0  # ending the session (DELETE) at exit, at most
STATUS_MEMORY = 1024  # failed POSTs whose status is kept until their error arrives
SDK_STAND_IN_ERROR = "Server returned an error response"  # what the SDK says for a non-JSON-RPC HTTP error


class UpstreamHttp:
    def __init__(self, url: str, max_depth: int = DEFAULT_MAX_DEPTH) -> None:
        self.url = url
        self._max_depth = max_depth
        self._read: Any = None  # the SDK's streams, once its transport runs
        self._write: Any = None
        self._metadata: ClientMessageMetadata | None = None
        self._failure: str | None = None  # why the SDK transport ended, when it failed
        self._closing = anyio.Event()  # shutdown asked: end the session (bounded)
        self._ended = anyio.Event()  # the SDK transport has ended, for whatever reason
        self._statuses: dict[Any, int] = {}  # JSON-RPC id -> HTTP status of its failed POST
        self._failures_in, self._failures = anyio.create_memory_object_stream[str](1)
        self.stderr_tail: list[str] = []

    async def receive(self) -> Inbound:
        try:
            if self._read is None:
                raise anyio.EndOfStream
            item = await self._read.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError) as exc:
            with anyio.move_on_after(TEARDOWN_SECONDS):  # the cause is known once the transport task ends
                await self._ended.wait()
            raise ChannelClosed(self.describe_exit()) from exc
        if isinstance(item, Exception):
            return FramingProblem(INVALID_REQUEST, f"the HTTP upstream sent an unreadable message: {item}")
        message: Message = item.message.model_dump(by_alias=True, exclude_unset=True)
        problem = value_problem(message, self._max_depth)
        if problem is not None:
            raw_id = message.get("id")
            kind = Kind.REQUEST if "method" in message else Kind.RESPONSE
            return FramingProblem(INVALID_REQUEST, f"Invalid Request: {problem}", raw_id if is_request_id(raw_id) else None, kind)
        return self._name_status(message)

    async def send(self, message: Message) -> None:
        if self._write is None:
            raise ChannelClosed(self.describe_exit())
        try:
            typed = jsonrpc_message_adapter.validate_python(message, by_name=False)
        except ValidationError as exc:
            raise UpstreamError(f"message cannot be sent over HTTP: {exc.errors()[0]['msg']}") from exc
        try:
            await self._write.send(SessionMessage(typed, metadata=self._metadata))
        except (anyio.ClosedResourceError, anyio.BrokenResourceError) as exc:
            raise ChannelClosed(self.describe_exit()) from exc

    def set_protocol_version(self, version: str) -> None:
        self._metadata = ClientMessageMetadata(headers={PROTOCOL_VERSION_HEADER: version})

    def describe_exit(self) -> str:
        if self._failure is not None:
            return f"the HTTP upstream {self.url} failed ({self._failure})"
        return f"the HTTP upstream {self.url} closed the session"

    async def wait_gone(self) -> None:
        """Returns once the SDK transport has ended (the server is gone, or the session failed)."""
        await self._ended.wait()

    def failures(self) -> MemoryObjectReceiveStream[str]:
        """Nothing is ever reported here: an HTTP failure ends the session with its cause instead."""
        return self._failures

    async def shutdown(self) -> None:
        """End the session (DELETE), waiting at most TEARDOWN_SECONDS."""
        self._closing.set()
        with anyio.CancelScope(shield=True), anyio.move_on_after(TEARDOWN_SECONDS + 0.5):
            await self._ended.wait()

    async def run(
        self,
        headers: Mapping[str, str],
        transport: httpx2.AsyncBaseTransport | None = None,
        *,
        task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """The SDK transport, until shutdown or its failure (which is kept, never raised)."""
        started = False
        teardown = anyio.CancelScope()
        try:
            with teardown:
                timeout = httpx2.Timeout(CONNECT_TIMEOUT_SECONDS, read=READ_TIMEOUT_SECONDS)
                if transport is None:
                    client = create_mcp_http_client(headers=dict(headers), timeout=timeout)
                else:
                    client = httpx2.AsyncClient(headers=dict(headers), timeout=timeout, transport=transport)
                client.event_hooks = {**client.event_hooks, "response": [*client.event_hooks.get("response", []), self._note_status]}
                async with client, streamable_http_client(self.url, http_client=client) as (read_stream, write_stream):
                    self._read, self._write = read_stream, write_stream
                    started = True
                    task_status.started()
                    await self._closing.wait()
                    teardown.deadline = anyio.current_time() + TEARDOWN_SECONDS
            if teardown.cancelled_caught:
                logger.warning("the HTTP upstream %s did not end the session within %g s; left it", self.url, TEARDOWN_SECONDS)
        except Exception as exc:  # any transport failure ends the session; the relay answers with its cause
            self._failure = _describe_failure(exc)
            logger.debug("the HTTP upstream transport ended", exc_info=True)
        finally:
            self._ended.set()
            self._failures_in.close()
            if not started:
                task_status.started()

    async def _note_status(self, response: httpx2.Response) -> None:
        """Remember the HTTP status of a failed POST, by the JSON-RPC id it carried."""
        if response.status_code < 400 or response.request.method != "POST":
            return
        try:
            sent = json.loads(response.request.content)
        except (ValueError, httpx2.RequestNotRead):
            return
        if isinstance(sent, dict) and is_request_id(sent.get("id")):
            if len(self._statuses) >= STATUS_MEMORY:
                self._statuses.clear()
            self._statuses[sent["id"]] = response.status_code

    def _name_status(self, message: Message) -> Message:
        """The SDK's stand-in error for an HTTP error status, with the status named instead."""
        error = message.get("error")
        status = self._statuses.pop(message.get("id"), None) if isinstance(error, dict) else None
        if status is None or not isinstance(error, dict) or error.get("message") != SDK_STAND_IN_ERROR:
            return message
        text = f"the HTTP upstream {self.url} answered HTTP {status}"
        if status in (401, 403):
            text += ": check the Stripe key (the profile's api_key)"
        return {**message, "error": {**error, "message": text}}


def _describe_failure(exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc).strip() or "no detail"
    return f"{type(exc).__name__}: {text}"


@asynccontextmanager
async def open_upstream_http(
    url: str, headers: Mapping[str, str], transport: httpx2.AsyncBaseTransport | None = None, *, max_depth: int = DEFAULT_MAX_DEPTH
) -> AsyncIterator[UpstreamHttp]:
    """`transport` replaces httpx's own, e.g. the OAuth grant's (mcp_guard.oauth.GrantTransport)."""
    channel = UpstreamHttp(url, max_depth)
    async with anyio.create_task_group() as tg:
        await tg.start(channel.run, headers, transport)
        try:
            yield channel
        finally:
            await channel.shutdown()
            tg.cancel_scope.cancel()
