"""The relay: moves JSON-RPC messages between the client and the upstream, through the guard.

Every request forwarded upstream gets a fresh integer id; the client's own id is restored on the
way back. So every upstream answer must match a request the guard admitted (anything else is
dropped, never passed on unfiltered), and a re-typed id ("7" for 7) cannot confuse correlation.

Invariant: every client request gets exactly one answer and exactly one audit record, whatever
fails. A line that is not a message the relay accepts is answered (with its id when it can be
read) and recorded; an admitted request leaves `_pending` exactly once, and whoever takes it out
(its answer, its timeout, its cancellation, an ending) answers and records it, falling back to a
plain error line if the guard itself fails. An upstream line the relay cannot accept (too large,
too deep, not strict JSON) is withheld and the request it answers gets an error at once.

The relay also owns time: each forwarded request has a deadline, and every ending is bounded:
- the client closes its input: pending requests get `eof_grace` seconds to be answered, then the
  rest are answered -32000 and recorded as cancelled; exit 0;
- the client closes its output: pending requests are recorded as cancelled; exit 0;
- SIGTERM, SIGINT, SIGHUP: pending requests are answered -32000 and recorded; exit 0;
- the upstream ends (exits, closes its output, its HTTP session fails), or names a fatal cause on
  stderr before `initialize` was answered (DNS, connection, HTTP 401/403, a missing command, an
  uncaught error): pending requests are answered -32000 with that cause; exit 3.
Records are written first; answers on the way out get at most FLUSH_SECONDS, so a client that
does not read cannot keep mcp-guard alive.

Backpressure: while more than `max_client_backlog_bytes` of answers wait for a client that does
not read them, no further request is read from it, until half of that has been read (or the client
closed its input: what is left of it is finite). Requests already read keep their answers, so
what the guard holds for such a client is bounded by the mark plus the answers in flight.

Plain asyncio (a TaskGroup, `asyncio.timeout`, the loop's signal handlers): anyio is left to the
HTTP transport, which brings it along, so a stdio session never imports it. Transports built on
anyio (the HTTP upstream, the in-memory test channels) run on the same loop.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import signal
from collections.abc import AsyncIterable, Awaitable, Callable, Coroutine
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import Any, Protocol, TypeVar

from mcp_guard import jsonrpc
from mcp_guard.audit import Outcome
from mcp_guard.checks import Call
from mcp_guard.errors import UpstreamError
from mcp_guard.guard import Answer, Guard
from mcp_guard.jsonrpc import FramingProblem, Kind, Message, Oversized, kind_of
from mcp_guard.transports.channel import Channel, ChannelClosed

logger = logging.getLogger("mcp_guard")
_T = TypeVar("_T")

# How long to wait for the upstream's exit code after its output closes, for the error message.
EXIT_CODE_WAIT_SECONDS = 1.0
# How long answers on the way out may take to reach the client, all together.
FLUSH_SECONDS = 0.5
# After the upstream is gone, how long its last output may take to be relayed before the session
# ends anyway (the relay may be blocked on a client that does not read).
UPSTREAM_DRAIN_SECONDS = 2.0
DEFAULT_EOF_GRACE_SECONDS = 2.0
# How often a relay holding back a client's requests looks whether the client has read its answers.
BACKLOG_POLL_SECONDS = 0.02


class _Stop(Exception):
    """Raised in the relay's task group to end it: every task still running is cancelled."""


class ExitCode(IntEnum):
    OK = 0  # the client closed stdin or stdout, or a SIGTERM/SIGINT/SIGHUP asked us to stop
    UPSTREAM_DIED = 3  # the upstream ended, or named a fatal cause before answering initialize


class ClientChannel(Channel, Protocol):
    async def send_line(self, data: bytes) -> None: ...

    def send_line_nowait(self, data: bytes) -> bool:
        """Hand a line over without waiting: False when it cannot be taken now (use `send_line`);
        raises ChannelClosed when the client is gone."""
        ...


class UpstreamChannel(Channel, Protocol):
    def set_protocol_version(self, version: str) -> None: ...
    def describe_exit(self) -> str: ...
    def failures(self) -> AsyncIterable[str]:
        """Fatal causes the upstream names (a stdio upstream's stderr), one line each."""
        ...


@dataclass(frozen=True)
class Timeouts:
    initialize: float
    request: float
    eof_grace: float = DEFAULT_EOF_GRACE_SECONDS  # after the client closes its input


@dataclass
class _Pending:
    call: Call
    timer: asyncio.TimerHandle


@dataclass(frozen=True)
class _Ending:
    exit_code: ExitCode
    outcome: Outcome  # how pending requests are recorded
    text: str | None  # their answer; None: the client is gone, they are recorded only


class Relay:
    def __init__(
        self,
        client: ClientChannel,
        upstream: UpstreamChannel,
        guard: Guard,
        timeouts: Timeouts,
        max_message_bytes: int,
        *,
        max_upstream_message_bytes: int | None = None,
        max_client_backlog_bytes: int | None = None,
    ) -> None:
        self._client = client
        self._upstream = upstream
        self._guard = guard
        self._timeouts = timeouts
        self._max_message_bytes = max_message_bytes
        self._max_upstream_message_bytes = max_upstream_message_bytes
        self._max_client_backlog = max_client_backlog_bytes  # None: unbounded (the in-memory channels)
        self._held_bytes = 0  # lines waiting in tasks for a client that cannot take them now
        self._ids = itertools.count(1)
        self._pending: dict[int, _Pending] = {}
        self._upstream_id_of: dict[tuple[type, Any] | None, int] = {}  # client id -> our id, for cancellation
        self._server_requests: set[tuple[type, Any] | None] = set()  # upstream requests awaiting the client
        self._answering = 0  # answers taken out of _pending and not yet handed to the client
        self._settled = asyncio.Event()  # set when _pending empties or an answer is handed over
        self._initialized = False  # the upstream has answered an initialize with a result
        self._fatal_cause: str | None = None  # a fatal cause named before the handshake
        self._ending: _Ending | None = None
        self._upstream_gone = False
        self._exit = ExitCode.OK
        self._tg: asyncio.TaskGroup | None = None
        self._stopped = asyncio.Event()  # set by _stop: the task group ends, its tasks cancelled
        self._loop: asyncio.AbstractEventLoop | None = None  # the running loop, looked up once

    async def run(self, *, handle_signals: bool = True) -> ExitCode:
        self._loop = asyncio.get_running_loop()
        try:
            async with asyncio.TaskGroup() as tg:
                self._tg = tg
                tg.create_task(self._pump_client())
                tg.create_task(self._pump_upstream())
                tg.create_task(self._watch_upstream_failures())
                tg.create_task(self._watch_upstream_exit())
                if handle_signals:
                    tg.create_task(self._watch_signals())
                await self._stopped.wait()
                raise _Stop  # cancels every task of the group, and ends it
        except* _Stop:
            pass
        finally:
            self._tg = None
        return self._exit

    # ---- client -> upstream -------------------------------------------------------------

    async def _pump_client(self) -> None:
        try:
            while True:
                await self._hold_while_client_backlogged()
                inbound = await self._client.receive()
                if isinstance(inbound, (FramingProblem, Oversized)):
                    problem = self._client_problem(inbound)
                    await self._refuse_client_answer(problem)
                    await self._send_client(await self._reject(_as_answered(problem)))
                    continue
                try:
                    await self._from_client(inbound)
                except (ChannelClosed, asyncio.CancelledError):
                    raise
                except Exception:  # a bug must cost one message, never the guard or its policy
                    logger.exception("internal error on a client %s; nothing of it was forwarded", kind_of(inbound).value)
        except ChannelClosed:
            pass
        await self._client_closed_input()

    async def _hold_while_client_backlogged(self) -> None:
        """Read no request while the client leaves too many answers unread (see the module docstring)."""
        limit = self._max_client_backlog
        if limit is None or self._client_backlog() <= limit:
            return
        input_ended: Callable[[], bool] = getattr(self._client, "input_ended", lambda: False)
        logger.warning("the client is not reading its answers (%d bytes wait); no more requests are read until it does", self._client_backlog())
        while self._client_backlog() > limit // 2 and not input_ended():  # noqa: ASYNC110 - polled: a pipe tells no one when its reader catches up
            await asyncio.sleep(BACKLOG_POLL_SECONDS)

    def _client_backlog(self) -> int:
        backlog_bytes: Callable[[], int] | None = getattr(self._client, "backlog_bytes", None)
        return self._held_bytes + (backlog_bytes() if backlog_bytes is not None else 0)

    def _client_problem(self, inbound: FramingProblem | Oversized) -> FramingProblem:
        if isinstance(inbound, FramingProblem):
            return inbound
        text = f"message of {inbound.size} bytes exceeds the {self._max_message_bytes}-byte limit (limits.max_message_bytes); it was discarded"
        return FramingProblem(jsonrpc.INVALID_REQUEST, text, inbound.id, inbound.kind)

    async def _refuse_client_answer(self, problem: FramingProblem) -> None:
        """A refused line that answered an upstream request: the upstream hears it will get no answer."""
        key = _typed(problem.id)
        if problem.kind is Kind.RESPONSE and key is not None and key in self._server_requests:
            self._server_requests.discard(key)
            text = f"mcp-guard refused the client's answer: {problem.message}"
            await self._send_upstream(jsonrpc.error_response(problem.id, jsonrpc.INVALID_REQUEST, text))

    async def _from_client(self, message: Message) -> None:
        kind = kind_of(message)
        if kind is Kind.REQUEST:
            await self._admit(message)
        elif kind is Kind.NOTIFICATION:
            await self._forward_client_notification(message)
        else:
            await self._forward_client_response(message)

    async def _admit(self, message: Message) -> None:
        """One answer and one record for this request, whatever fails on the way."""
        try:
            admission = await self._guard.admit(message)
        except Exception:
            logger.exception("internal error deciding a %r request; it was not forwarded", message["method"])
            problem = FramingProblem(jsonrpc.INTERNAL_ERROR, "mcp-guard internal error; the request was not forwarded", message["id"])
            await self._send_client(await self._reject(problem))
            return
        if isinstance(admission, Answer):
            await self._send_client(admission.line)
            return
        call = admission.call
        if self._ending is not None:  # ending: nothing new goes upstream
            await self._send_client(await self._refuse(call, jsonrpc.UPSTREAM_UNAVAILABLE, self._ending.text or "mcp-guard is stopping"))
            return
        upstream_id = next(self._ids)
        timeout = self._timeouts.initialize if call.method == "initialize" else self._timeouts.request
        loop = self._loop or asyncio.get_running_loop()
        timer = loop.call_later(timeout, self._expire, upstream_id, timeout)
        self._pending[upstream_id] = _Pending(call, timer)
        self._upstream_id_of[_typed(call.client_id)] = upstream_id
        try:
            await self._upstream.send({**admission.message, "id": upstream_id})
        except ChannelClosed:
            pass  # the upstream pump sees the same end and answers every pending request
        except Exception as exc:
            pending = self._take(upstream_id)
            if pending is None:
                return  # already answered (its timeout, or an ending)
            if isinstance(exc, UpstreamError):
                code, text = jsonrpc.INVALID_REQUEST, f"mcp-guard could not forward the request: {exc}"
            else:
                logger.exception("internal error forwarding a %r request", call.method)
                code, text = jsonrpc.INTERNAL_ERROR, "mcp-guard internal error; the request was not forwarded"
            await self._answer(pending.call, code, text)
            return
        if call.method == "initialize" and self._fatal_cause is not None and not self._initialized:
            await self._upstream_failed(self._fatal_cause)

    async def _forward_client_notification(self, message: Message) -> None:
        if not self._guard.admits_notification(message):
            return
        if message["method"] == "notifications/cancelled":
            params = message.get("params") or {}
            key = _typed(params.get("requestId")) if isinstance(params, dict) else None
            upstream_id = self._upstream_id_of.get(key) if key is not None else None
            pending = self._take(upstream_id) if upstream_id is not None else None
            if upstream_id is None or pending is None:
                return  # nothing of ours to cancel; never forward a cancellation we cannot map
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
        except UpstreamError as exc:
            logger.warning("dropped a %s for the upstream: %s", message.get("method") or "response", exc)

    # ---- upstream -> client -------------------------------------------------------------

    async def _pump_upstream(self) -> None:
        has_buffered = getattr(self._upstream, "has_buffered", None)  # a transport that can tell
        try:
            while True:
                inbound = await self._upstream.receive()
                try:
                    if isinstance(inbound, (FramingProblem, Oversized)):
                        await self._withhold_unreadable(inbound)
                    else:
                        await self._from_upstream(inbound)
                    if has_buffered is not None and not has_buffered():
                        # Every answer read so far is handled: their records share one write now,
                        # and the answers go out, without waiting for the end of the loop turn.
                        self._guard.flush_records()
                except (ChannelClosed, asyncio.CancelledError):
                    raise
                except Exception:
                    logger.exception("internal error on an upstream message; nothing of it reached the client")
        except ChannelClosed as closed:
            await self._upstream_ended(str(closed))

    async def _from_upstream(self, message: Message) -> None:
        kind = kind_of(message)
        if kind is Kind.RESPONSE:
            self._dispatch_response(message)
            return
        try:
            visible = self._guard.from_upstream(message)
        except Exception:
            logger.exception("internal error on an upstream %s; nothing of it reached the client", message["method"])
            visible = None
        if visible is None:
            if kind is Kind.REQUEST:
                await self._send_upstream(jsonrpc.error_response(message["id"], jsonrpc.REFUSED, "mcp-guard could not redact this request"))
            return
        if kind is Kind.REQUEST:
            self._server_requests.add(_typed(message["id"]))
        await self._send_client(jsonrpc.encode(visible))

    def _dispatch_response(self, message: Message) -> None:
        """Take the request an answer belongs to, filter the answer and submit its record.

        The answer goes to the client once its record is written (`_delivered`, called by the
        group committer): the pump reads on meanwhile, so the records of answers that are ready
        together share one audit write (group commit), without a task per answer. The request
        leaves `_pending` here, in the pump, so an ending that follows cannot answer it a second
        time; endings wait (bounded) for the answers in flight.
        """
        upstream_id = jsonrpc.id_key(message.get("id"))
        pending = self._take(upstream_id) if upstream_id is not None else None
        if pending is None:
            logger.warning("dropped an upstream response to unknown or expired request id %r", message.get("id"))
            return
        call = pending.call
        self._answering += 1
        try:
            self._guard.respond_soon(call, message, lambda line: self._delivered(call, message, line))
        except Exception:  # nothing was recorded: the answer is replaced by a recorded error
            logger.exception("internal error answering %s; the upstream's answer was withheld", call.method)
            self._spawn(self._deliver_refusal(call))

    def _delivered(self, call: Call, message: Message, line: bytes) -> None:
        """The answer's record is written: hand the line to the client (on the loop, from the committer)."""
        try:
            result = message.get("result")
            if call.method == "initialize" and isinstance(result, dict):
                self._note_handshake(result)
            self._send_client_soon(line)
        except Exception:  # a failed delivery must not take the relay (or the committer) down
            logger.exception("internal error delivering the answer to %s", call.method)
        finally:
            self._answering -= 1
            self._settled.set()

    async def _deliver_refusal(self, call: Call) -> None:
        try:
            await self._send_client(await self._refuse(call, jsonrpc.INTERNAL_ERROR, "mcp-guard internal error; the upstream's answer was withheld"))
        finally:
            self._answering -= 1
            self._settled.set()

    def _send_client_soon(self, line: bytes) -> None:
        """Hand a line to the client now, or (when it cannot take it now) from a task that waits."""
        try:
            if self._client.send_line_nowait(line):
                return
        except ChannelClosed as exc:
            logger.info("%s; mcp-guard stops", exc)
            self._spawn(self._client_gone())
            return
        self._answering += 1
        self._held_bytes += len(line)
        self._spawn(self._send_client_waiting(line))

    async def _send_client_waiting(self, line: bytes) -> None:
        try:
            await self._send_client(line)
        finally:
            self._held_bytes -= len(line)
            self._answering -= 1
            self._settled.set()

    def _note_handshake(self, result: dict[str, Any]) -> None:
        self._initialized = True
        version = result.get("protocolVersion")
        if isinstance(version, str):
            self._upstream.set_protocol_version(version)
            self._guard.set_protocol_version(version)

    async def _withhold_unreadable(self, inbound: FramingProblem | Oversized) -> None:
        """An upstream line the relay cannot accept: the request it answers gets an error now."""
        if isinstance(inbound, Oversized):
            limit = f"the {self._max_upstream_message_bytes}-byte limit" if self._max_upstream_message_bytes else "the size limit"
            text = f"the upstream's message of {inbound.size} bytes is over {limit} (limits.max_upstream_message_bytes)"
        else:
            text = inbound.message
        if inbound.kind in (Kind.REQUEST, Kind.NOTIFICATION):
            if inbound.kind is Kind.REQUEST and inbound.id is not None:
                await self._send_upstream(jsonrpc.error_response(inbound.id, jsonrpc.INVALID_REQUEST, f"mcp-guard refused this request: {text}"))
            logger.warning("dropped an unreadable upstream %s: %s", inbound.kind.value, text)
            return
        upstream_id = jsonrpc.id_key(inbound.id)
        pending = self._take(upstream_id) if upstream_id is not None else None
        if pending is None:
            logger.warning("dropped an unreadable upstream message: %s", text)
            return
        logger.warning("withheld the upstream's answer to %s: %s", pending.call.method, text)
        await self._answer(pending.call, jsonrpc.REFUSED, f"mcp-guard withheld the upstream's answer: {text}")

    async def _watch_upstream_failures(self) -> None:
        """Before the handshake, a fatal cause on the upstream's stderr fails initialize at once."""
        failures = getattr(self._upstream, "failures", None)  # an upstream that names no causes is fine
        if failures is None:
            return
        async for cause in failures():
            if self._initialized:
                continue  # a running session: the cause is logged, requests fail on their own
            self._fatal_cause = cause
            if any(entry.call.method == "initialize" for entry in self._pending.values()):
                await self._upstream_failed(cause)
                return

    # ---- time, signals, endings ---------------------------------------------------------

    def _take(self, upstream_id: int) -> _Pending | None:
        """Take a request out of _pending (the only way out): its taker answers and records it."""
        pending = self._pending.pop(upstream_id, None)
        if pending is None:
            return None
        pending.timer.cancel()
        key = _typed(pending.call.client_id)
        if self._upstream_id_of.get(key) == upstream_id:
            del self._upstream_id_of[key]
        self._settled.set()
        return pending

    def _expire(self, upstream_id: int, timeout: float) -> None:
        if self._tg is None or self._ending is not None:
            return
        pending = self._take(upstream_id)
        if pending is not None:
            self._spawn(self._time_out(upstream_id, pending.call, timeout))

    async def _time_out(self, upstream_id: int, call: Call, seconds: float) -> None:
        text = f"the upstream did not answer '{call.method}' within {seconds:g} s"
        self._answering += 1
        try:
            await self._answer(call, jsonrpc.REQUEST_TIMEOUT, text, Outcome.TIMEOUT)
        finally:
            self._answering -= 1
            self._settled.set()
        cancel = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": upstream_id, "reason": text}}
        await self._send_upstream(cancel)

    async def _watch_signals(self) -> None:
        loop = asyncio.get_running_loop()
        received: asyncio.Future[int] = loop.create_future()
        signums = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)

        def on_signal(signum: int) -> None:
            if not received.done():
                received.set_result(signum)

        for signum in signums:
            loop.add_signal_handler(signum, on_signal, signum)
        try:  # the handlers stay while the session ends: a second signal cannot cut the records short
            name = signal.Signals(await received).name
            logger.info("received %s; shutting down", name)
            await self._end(_Ending(ExitCode.OK, Outcome.CANCELLED, f"mcp-guard is shutting down ({name})"))
        finally:
            for signum in signums:
                loop.remove_signal_handler(signum)

    async def _client_closed_input(self) -> None:
        """Pending requests get a bounded grace to be answered, then the session ends."""
        grace = self._timeouts.eof_grace
        if self._pending or self._answering:
            logger.info("the client closed its input; waiting up to %g s for %d pending answers", grace, len(self._pending) + self._answering)
            await self._until_settled(grace, lambda: bool(self._pending or self._answering))
        text = f"the client closed its input and the upstream did not answer within {grace:g} s"
        await self._end(_Ending(ExitCode.OK, Outcome.CANCELLED, text))

    async def _client_gone(self) -> None:
        await self._end(_Ending(ExitCode.OK, Outcome.CANCELLED, None))

    async def _watch_upstream_exit(self) -> None:
        """An upstream that is gone (its process exited, its HTTP session failed) ends the session
        even while the relay is blocked on a client that does not read; normally the upstream
        pump sees the end first."""
        wait_gone = getattr(self._upstream, "wait_gone", None)
        if wait_gone is None:
            return
        await wait_gone()
        await asyncio.sleep(UPSTREAM_DRAIN_SECONDS)
        await self._upstream_ended(self._upstream.describe_exit())

    async def _upstream_ended(self, reason: str) -> None:
        if self._ending is not None or self._upstream_gone:
            return
        self._upstream_gone = True
        wait_exit = getattr(self._upstream, "wait_exit", None)  # stdio only: the exit code names the cause
        if wait_exit is not None:
            await _shielded(wait_exit(EXIT_CODE_WAIT_SECONDS))
            reason = self._upstream.describe_exit()
        logger.error("%s; mcp-guard stops", reason)
        await self._end(_Ending(ExitCode.UPSTREAM_DIED, Outcome.UPSTREAM_DIED, f"{reason} before answering"))

    async def _upstream_failed(self, cause: str) -> None:
        logger.error("the upstream failed before answering initialize: %s; mcp-guard stops", cause)
        await self._end(_Ending(ExitCode.UPSTREAM_DIED, Outcome.UPSTREAM_DIED, f"the upstream failed before answering 'initialize': {cause}"))

    async def _end(self, ending: _Ending) -> None:
        """The one ending: record every pending request, answer them (bounded), stop.

        The first ending wins; a later one returns and lets the first finish. Shielded, so that
        no record is lost to the cancellation that stops the relay.
        """
        if self._ending is not None:
            return
        self._ending = ending
        try:
            await _shielded(self._record_and_answer_pending(ending))
        finally:
            self._exit = ending.exit_code
            self._stop()

    async def _record_and_answer_pending(self, ending: _Ending) -> None:
        await self._until_settled(FLUSH_SECONDS, lambda: bool(self._answering))  # answers in flight write their records first
        lines: list[bytes] = []
        for upstream_id in list(self._pending):
            pending = self._take(upstream_id)
            if pending is None:
                continue
            if ending.text is None:
                await self._abandon(pending.call, ending.outcome, "the client closed the connection")
            else:
                lines.append(await self._refuse(pending.call, jsonrpc.UPSTREAM_UNAVAILABLE, ending.text, ending.outcome))
        try:
            async with asyncio.timeout(FLUSH_SECONDS):
                for line in lines:
                    try:
                        await self._client.send_line(line)
                    except ChannelClosed:
                        break  # the client is gone: the records are what is left
        except TimeoutError:
            logger.warning("the client did not read %d answers within %g s; they were dropped", len(lines), FLUSH_SECONDS)

    async def _until_settled(self, seconds: float, waiting: Callable[[], bool]) -> None:
        """Wait (at most `seconds`) until `waiting()` is false; it is checked each time a request settles."""
        try:
            async with asyncio.timeout(seconds):
                while waiting():
                    self._settled = asyncio.Event()
                    await self._settled.wait()
        except TimeoutError:
            pass

    # ---- answering, never more than once --------------------------------------------------

    async def _answer(self, call: Call, code: int, text: str, outcome: Outcome = Outcome.JSONRPC_ERROR) -> None:
        await self._send_client(await self._refuse(call, code, text, outcome))

    async def _refuse(self, call: Call, code: int, text: str, outcome: Outcome = Outcome.JSONRPC_ERROR) -> bytes:
        """The guard's recorded error answer; if the guard itself fails, a plain one (logged)."""
        try:
            return await self._guard.refuse(call, code, text, outcome)
        except Exception:
            logger.exception("internal error recording the answer to %s; answered without a record", call.method)
            return jsonrpc.encode(jsonrpc.error_response(call.client_id, code, text))

    async def _reject(self, problem: FramingProblem) -> bytes:
        try:
            return await self._guard.reject_unparsed(problem, self._max_message_bytes)
        except Exception:
            logger.exception("internal error recording a refused line; answered without a record")
            return jsonrpc.encode(jsonrpc.error_response(problem.id, problem.code, problem.message))

    async def _abandon(self, call: Call, outcome: Outcome, text: str) -> None:
        try:
            await self._guard.abandon(call, outcome, text)
        except Exception:
            logger.exception("internal error recording an abandoned %s", call.method)

    async def _send_client(self, line: bytes) -> None:
        """Hand a line to the client; a client that closed its end ends the session."""
        try:
            await self._client.send_line(line)
        except ChannelClosed as exc:
            logger.info("%s; mcp-guard stops", exc)
            await self._client_gone()

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run `coroutine` in the relay's task group (cancelled when the relay stops)."""
        try:
            if self._tg is None:
                raise RuntimeError("the relay is not running")
            self._tg.create_task(coroutine)
        except RuntimeError:  # the relay has stopped (or is stopping): nothing may start any more
            coroutine.close()

    def _stop(self) -> None:
        self._stopped.set()


async def _shielded(awaitable: Awaitable[_T]) -> _T:
    """Await `awaitable` to its end even if the caller is cancelled meanwhile (what a shielded
    cancel scope does): the cancellation is delivered once it is done, so no record is lost."""
    task = asyncio.ensure_future(awaitable)
    interrupted = False
    while not task.done():
        try:
            await asyncio.wait((task,))
        except asyncio.CancelledError:
            interrupted = True
    if interrupted:
        raise asyncio.CancelledError
    return task.result()


def _typed(request_id: Any) -> tuple[type, Any] | None:
    """Client ids keep their JSON type: 7 and "7" are different requests from a client.

    None for anything that cannot be a request id (a list, an object, a float): it matches nothing.
    """
    return (type(request_id), request_id) if jsonrpc.is_request_id(request_id) else None


def _as_answered(problem: FramingProblem) -> FramingProblem:
    """JSON-RPC answers a line that is not JSON (-32700) with id null, even when an id could be read
    from it; that id only tells the upstream which of its requests a refused client answer was for."""
    return replace(problem, id=None, kind=None) if problem.code == jsonrpc.PARSE_ERROR else problem
