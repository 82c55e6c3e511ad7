"""The relay: moves JSON-RPC messages between the client and the upstream, through the guard.

Every request forwarded upstream gets a fresh integer id; the client's own id is restored on the
way back. So every upstream answer must match a request the guard admitted (anything else is
dropped, never passed on unfiltered), and a re-typed id ("7" for 7) cannot confuse correlation.
The relay also owns time: each forwarded request has a deadline, and the end of either peer
answers everything still pending.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import signal
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Protocol

import anyio
from anyio.abc import TaskGroup

from mcp_guard import jsonrpc
from mcp_guard.audit import Outcome
from mcp_guard.checks import Call
from mcp_guard.guard import Answer, Guard
from mcp_guard.jsonrpc import FramingProblem, Kind, Message, Oversized, kind_of
from mcp_guard.transports.channel import Channel, ChannelClosed

logger = logging.getLogger("mcp_guard")

# How long to wait for the upstream's exit code after its output closes, for the error message.
EXIT_CODE_WAIT_SECONDS = 1.0


class ExitCode(IntEnum):
    OK = 0  # the client closed stdin, or a SIGTERM/SIGINT asked us to stop
    UPSTREAM_DIED = 3


class ClientChannel(Channel, Protocol):
    async def send_line(self, data: bytes) -> None: ...


class UpstreamChannel(Channel, Protocol):
    def set_protocol_version(self, version: str) -> None: ...
    def describe_exit(self) -> str: ...


@dataclass(frozen=True)
class Timeouts:
    initialize: float
    request: float


@dataclass
class _Pending:
    call: Call
    timer: asyncio.TimerHandle


class Relay:
    def __init__(
        self, client: ClientChannel, upstream: UpstreamChannel, guard: Guard, timeouts: Timeouts, max_message_bytes: int
    ) -> None:
        self._client = client
        self._upstream = upstream
        self._guard = guard
        self._timeouts = timeouts
        self._max_message_bytes = max_message_bytes
        self._ids = itertools.count(1)
        self._pending: dict[int, _Pending] = {}
        self._upstream_id_of: dict[tuple[type, Any] | None, int] = {}  # client id -> our id, for cancellation
        self._server_requests: set[tuple[type, Any] | None] = set()  # upstream requests awaiting the client
        self._exit = ExitCode.OK
        self._tg: TaskGroup | None = None

    async def run(self, *, handle_signals: bool = True) -> ExitCode:
        async with anyio.create_task_group() as tg:
            self._tg = tg
            tg.start_soon(self._pump_client)
            tg.start_soon(self._pump_upstream)
            if handle_signals:
                tg.start_soon(self._watch_signals)
        return self._exit

    # ---- client -> upstream -------------------------------------------------------------

    async def _pump_client(self) -> None:
        try:
            while True:
                inbound = await self._client.receive()
                if isinstance(inbound, (FramingProblem, Oversized)):
                    await self._client.send_line(await self._guard.reject_unparsed(inbound, self._max_message_bytes))
                    continue
                try:
                    await self._from_client(inbound)
                except (ChannelClosed, anyio.get_cancelled_exc_class()):
                    raise
                except Exception:  # a bug must cost one message, never the guard or its policy
                    logger.exception("internal error on a client message; nothing of it was forwarded")
                    if kind_of(inbound) is Kind.REQUEST:
                        await self._client.send(jsonrpc.error_response(inbound["id"], jsonrpc.INTERNAL_ERROR, "mcp-guard internal error; the request was not forwarded"))
        except ChannelClosed:
            await self._abandon_all(Outcome.CANCELLED, "the client closed the connection")
        self._stop()

    async def _from_client(self, message: Message) -> None:
        kind = kind_of(message)
        if kind is Kind.REQUEST:
            await self._admit(message)
        elif kind is Kind.NOTIFICATION:
            await self._forward_client_notification(message)
        else:
            await self._forward_client_response(message)

    async def _admit(self, message: Message) -> None:
        admission = await self._guard.admit(message)
        if isinstance(admission, Answer):
            await self._client.send_line(admission.line)
            return
        call = admission.call
        upstream_id = next(self._ids)
        timeout = self._timeouts.initialize if call.method == "initialize" else self._timeouts.request
        timer = asyncio.get_running_loop().call_later(timeout, self._expire, upstream_id, timeout)
        self._pending[upstream_id] = _Pending(call, timer)
        self._upstream_id_of[_typed(call.client_id)] = upstream_id
        try:
            await self._upstream.send({**admission.message, "id": upstream_id})
        except ChannelClosed:
            pass  # the upstream pump sees the same end and answers every pending request

    async def _forward_client_notification(self, message: Message) -> None:
        if not self._guard.admits_notification(message):
            return
        if message["method"] == "notifications/cancelled":
            params = message.get("params") or {}
            key = _typed(params.get("requestId")) if isinstance(params, dict) else None
            upstream_id = self._upstream_id_of.get(key) if key is not None else None
            pending = self._pending.pop(upstream_id, None) if upstream_id is not None else None
            if upstream_id is None or pending is None:
                return  # nothing of ours to cancel; never forward a cancellation we cannot map
            self._settle(upstream_id, pending)
            await self._guard.abandon(pending.call, Outcome.CANCELLED, str(params.get("reason") or "cancelled by the client"))
            message = {**message, "params": {**params, "requestId": upstream_id}}
        await self._send_upstream(message)

    async def _forward_client_response(self, message: Message) -> None:
        key = _typed(message.get("id"))
        if key is None or key not in self._server_requests:
            logger.warning("dropped a client response to unknown upstream request id %r", message.get("id"))
            return
        self._server_requests.discard(key)
        await self._send_upstream(message)

    async def _send_upstream(self, message: Message) -> None:
        try:
            await self._upstream.send(message)
        except ChannelClosed:
            pass

    # ---- upstream -> client -------------------------------------------------------------

    async def _pump_upstream(self) -> None:
        try:
            while True:
                inbound = await self._upstream.receive()
                if isinstance(inbound, (FramingProblem, Oversized)):
                    logger.warning("dropped an unreadable upstream message: %s", _describe(inbound))
                    continue
                try:
                    await self._from_upstream(inbound)
                except (ChannelClosed, anyio.get_cancelled_exc_class()):
                    raise
                except Exception:
                    logger.exception("internal error on an upstream message; nothing of it reached the client")
        except ChannelClosed as closed:
            await self._upstream_died(str(closed))

    async def _from_upstream(self, message: Message) -> None:
        kind = kind_of(message)
        if kind is Kind.RESPONSE:
            await self._deliver_response(message)
            return
        visible = self._guard.from_upstream(message)
        if visible is None:
            if kind is Kind.REQUEST:
                await self._send_upstream(jsonrpc.error_response(message["id"], jsonrpc.REFUSED, "mcp-guard could not redact this request"))
            return
        if kind is Kind.REQUEST:
            self._server_requests.add(_typed(message["id"]))
        await self._client.send(visible)

    async def _deliver_response(self, message: Message) -> None:
        upstream_id = jsonrpc.id_key(message.get("id"))
        pending = self._pending.pop(upstream_id, None) if upstream_id is not None else None
        if pending is None:
            logger.warning("dropped an upstream response to unknown or expired request id %r", message.get("id"))
            return
        self._settle(upstream_id, pending)
        line = await self._guard.respond(pending.call, message)
        if pending.call.method == "initialize":
            version = (message.get("result") or {}).get("protocolVersion")
            if isinstance(version, str):
                self._upstream.set_protocol_version(version)
                self._guard.set_protocol_version(version)
        await self._client.send_line(line)

    async def _upstream_died(self, reason: str) -> None:
        wait_exit = getattr(self._upstream, "wait_exit", None)  # stdio only: the exit code names the cause
        if wait_exit is not None:
            await wait_exit(EXIT_CODE_WAIT_SECONDS)
            reason = self._upstream.describe_exit()
        pending, self._pending = self._pending, {}
        for entry in pending.values():
            entry.timer.cancel()
            self._upstream_id_of.pop(_typed(entry.call.client_id), None)
            line = await self._guard.refuse(entry.call, jsonrpc.UPSTREAM_UNAVAILABLE, f"{reason} before answering", Outcome.UPSTREAM_DIED)
            await self._client_send_quietly(line)
        logger.error("%s; mcp-guard stops", reason)
        self._exit = ExitCode.UPSTREAM_DIED
        self._stop()

    # ---- time, signals, endings ---------------------------------------------------------

    def _expire(self, upstream_id: int, timeout: float) -> None:
        pending = self._pending.pop(upstream_id, None)
        if pending is None or self._tg is None:
            return
        self._settle(upstream_id, pending)
        self._tg.start_soon(self._time_out, upstream_id, pending.call, timeout)

    async def _time_out(self, upstream_id: int, call: Call, seconds: float) -> None:
        text = f"the upstream did not answer '{call.method}' within {seconds:g} s"
        cancel = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": upstream_id, "reason": text}}
        await self._send_upstream(cancel)
        await self._client_send_quietly(await self._guard.refuse(call, jsonrpc.REQUEST_TIMEOUT, text, Outcome.TIMEOUT))

    def _settle(self, upstream_id: int, pending: _Pending) -> None:
        pending.timer.cancel()
        key = _typed(pending.call.client_id)
        if self._upstream_id_of.get(key) == upstream_id:
            del self._upstream_id_of[key]

    async def _watch_signals(self) -> None:
        with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT, signal.SIGHUP) as signals:
            async for signum in signals:
                name = signal.Signals(signum).name
                pending, self._pending = self._pending, {}
                for entry in pending.values():
                    entry.timer.cancel()
                    line = await self._guard.refuse(entry.call, jsonrpc.UPSTREAM_UNAVAILABLE, f"mcp-guard is shutting down ({name})", Outcome.CANCELLED)
                    await self._client_send_quietly(line)
                logger.info("received %s; shutting down", name)
                self._stop()
                return

    async def _abandon_all(self, outcome: Outcome, reason: str) -> None:
        pending, self._pending = self._pending, {}
        for entry in pending.values():
            entry.timer.cancel()
            await self._guard.abandon(entry.call, outcome, reason)

    async def _client_send_quietly(self, line: bytes) -> None:
        try:
            await self._client.send_line(line)
        except (ConnectionError, ChannelClosed, RuntimeError) as exc:
            logger.warning("could not deliver an answer to the client: %s", exc)

    def _stop(self) -> None:
        if self._tg is not None:
            self._tg.cancel_scope.cancel()


def _typed(request_id: Any) -> tuple[type, Any] | None:
    """Client ids keep their JSON type: 7 and "7" are different requests from a client.

    None for anything that cannot be a request id (a list, an object, a float): it matches nothing.
    """
    return (type(request_id), request_id) if jsonrpc.is_request_id(request_id) else None


def _describe(inbound: FramingProblem | Oversized) -> str:
    if isinstance(inbound, Oversized):
        return f"{inbound.size} bytes over the size limit"
    return inbound.message
