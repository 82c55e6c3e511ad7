"""What mcp-guard does to each message: run the pipeline, answer, record.

The relay moves messages and keeps time; the guard turns every client request into either a
message to forward or an answer of its own, and every upstream message into what the client may
see. It runs the session's pipeline (`mcp_guard.checks`) for the decisions and filters, and owns
the record: every request ends in exactly one audit record, written before its answer is
released. Each path fails closed: when a check or filter cannot do its job, the client gets an
error naming the reason, never the unguarded message.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from mcp_guard import jsonrpc
from mcp_guard.audit import AuditRecord, Outcome
from mcp_guard.audit.record import Fields
from mcp_guard.audit.settings import AuditFailureMode
from mcp_guard.checks import Call, Pipeline, Refusal, Withheld
from mcp_guard.config import Profile
from mcp_guard.errors import AuditError, RedactionError
from mcp_guard.jsonrpc import Message
from mcp_guard.operations import Operation
from mcp_guard.policy import Decision
from mcp_guard.redaction import Redactor
from mcp_guard.telemetry import Telemetry

logger = logging.getLogger("mcp_guard")

# Notifications a client may send (MCP 2024-11-05 .. 2025-11-25). Anything else could only be an
# action the policy never saw, so it is dropped: unknown means denied, for notifications too.
CLIENT_NOTIFICATIONS = frozenset(
    {"notifications/initialized", "notifications/cancelled", "notifications/progress", "notifications/roots/list_changed"}
)
INVALID_METHOD = "(invalid)"  # the method recorded for a line that was not a request we accept
FRAMING_RULE = "jsonrpc.framing"


class AuditSink(Protocol):
    """Where records go: `commit` returns once the record is written, or raises AuditError;
    `submit` calls `done(None)` (on the loop, never before returning) once it is written, or
    `done(reason)` when it could not be."""

    async def commit(self, record: AuditRecord | Fields) -> None: ...

    def submit(self, record: AuditRecord | Fields, done: Callable[[str | None], None]) -> None: ...

    def flush(self) -> None:
        """Write what was submitted so far now (records submitted later wait for the next write)."""
        ...


@dataclass(frozen=True)
class Forward:
    call: Call
    message: Message


@dataclass(frozen=True)
class Answer:
    call: Call
    line: bytes


@dataclass(frozen=True, kw_only=True)
class SessionInfo:
    profile_name: str
    profile: Profile
    upstream: str  # a short description for the audit trail: command name or URL
    key_fingerprint: str | None
    policy_sha256: str | None = None  # the config file's hash: the policy version every record names


class Guard:
    def __init__(
        self,
        session: SessionInfo,
        pipeline: Pipeline,
        audit: AuditSink,
        telemetry: Telemetry,
        *,
        redactor: Redactor | None,
        stderr_log: Callable[[str], None] | None = None,
    ) -> None:
        self._session = session
        self._pipeline = pipeline
        # The fields every record of the session shares, prepared once.
        self._constant_fields: dict[str, Any] = {
            "profile": session.profile_name,
            "mode": session.profile.mode.value,
            "upstream": session.upstream,
            "key_fingerprint": session.key_fingerprint,
            "policy_sha256": session.policy_sha256,
        }
        self._client_fields: dict[str, Any] | None = None  # the client's name and version, for records
        self._audit = audit
        self._telemetry = telemetry
        self._redactor = redactor  # for what is recorded or logged; None only with `redaction: off`
        self._stderr_log = stderr_log or (lambda text: logger.info("upstream stderr: %s", text))
        self._client: dict[str, Any] | None = None
        self._protocol_version: str | None = None

    # ---- client -> upstream -------------------------------------------------------------

    async def admit(self, message: Message) -> Forward | Answer:
        """Decide a client request: forward it (possibly with trace context added) or answer it."""
        call = self._open(message)
        refusal = self._prepare_record(call)
        if refusal is None:
            for check in self._pipeline.request_checks:
                refusal = check.check(call)
                if refusal is not None:
                    break
        if refusal is not None:
            call.decision = refusal.decision
            return Answer(call, await self._deny(call, refusal))
        return Forward(call, self._with_trace_context(call, message))

    def _open(self, message: Message) -> Call:
        method: str = message["method"]
        params: dict[str, Any] = message.get("params") or {}
        if method == "initialize":
            client_info = params.get("clientInfo")
            self._client = client_info if isinstance(client_info, dict) else None
            self._client_fields = None if self._client is None else {"name": self._client.get("name"), "version": self._client.get("version")}
            version = params.get("protocolVersion")
            self._protocol_version = version if isinstance(version, str) else None
        is_tool_call = method == "tools/call"
        tool = params.get("name") if is_tool_call else None
        arguments = params.get("arguments") if is_tool_call else None
        meta = params.get("_meta")
        span = self._telemetry.start_request(
            method,
            target=tool if isinstance(tool, str) else None,
            request_id=message["id"],
            protocol_version=self._protocol_version,
            client_meta=meta if isinstance(meta, dict) else None,
        )
        return Call(
            client_id=message["id"],
            method=method,
            params=params,
            span=span,
            tool=tool if isinstance(tool, str) else None,
            arguments=arguments if isinstance(arguments, dict) else None,
        )

    def _prepare_record(self, call: Call) -> Refusal | None:
        """Redact the arguments for the audit trail; a call whose record cannot be made safe is refused."""
        raw = call.params.get("arguments") if call.method == "tools/call" else None
        if raw is None or self._redactor is None:
            call.audit_arguments = raw
            return None
        if type(raw) is dict and not raw:  # nothing to redact: recorded as {}, as the redactor would
            call.audit_arguments = {}
            return None
        try:
            call.audit_arguments = self._redactor.redact_arguments(raw).value
        except RedactionError as exc:
            reason = f"mcp-guard refused the request: its arguments cannot be redacted for the audit trail ({exc})"
            return Refusal(Decision(False, Operation.OTHER, "redaction.arguments", reason), jsonrpc.REFUSED)
        return None

    def _with_trace_context(self, call: Call, message: Message) -> Message:
        meta = call.params.get("_meta")
        injected = call.span.inject(meta if isinstance(meta, dict) else None)
        if injected is meta or not injected:
            return message
        return {**message, "params": {**call.params, "_meta": injected}}

    async def _deny(self, call: Call, refusal: Refusal) -> bytes:
        decision = refusal.decision
        if refusal.code is None:
            text = f"mcp-guard denied this call: {decision.reason} (rule: {decision.rule})"
            response = jsonrpc.result_response(_id(call), jsonrpc.tool_error_result(text))
        else:
            response = jsonrpc.error_response(call.client_id, refusal.code, decision.reason)
        return await self._finish(call, response, Outcome.DENIED)

    def admits_notification(self, message: Message) -> bool:
        """Client notifications the upstream may see: the four MCP defines for clients, no others."""
        if message["method"] in CLIENT_NOTIFICATIONS:
            return True
        logger.warning("dropped client notification %r: not one MCP defines for clients", message["method"])
        return False

    # ---- upstream -> client -------------------------------------------------------------

    async def respond(self, call: Call, message: Message) -> bytes:
        """The line the client gets for the upstream's answer to `call`."""
        response, outcome = self._filtered(call, message)
        return await self._finish(call, response, outcome)

    def respond_soon(self, call: Call, message: Message, deliver: Callable[[bytes], None]) -> None:
        """`respond` without a task: `deliver(line)` is called on the loop once the record is written.

        The answer is filtered and its record submitted before this returns (so the records of
        answers handled in the same loop turn share one write); an exception raised here means
        nothing was recorded and `deliver` will not be called.
        """
        response, outcome = self._filtered(call, message)
        self._finish_soon(call, response, outcome, deliver)

    def flush_records(self) -> None:
        """Write the records of the answers handled so far now: nothing else is arriving this turn."""
        self._audit.flush()

    def _filtered(self, call: Call, message: Message) -> tuple[Message, Outcome]:
        """The answer after the response filters, or the error that replaces it, and its outcome."""
        filters = self._pipeline.response_filters
        message = _defined_only(message)
        if "error" in message:
            error: dict[str, Any] = message["error"]
            try:
                for step in filters:
                    error = step.on_error(call, error)
            except Withheld as withheld:
                return _refusal(call, jsonrpc.REFUSED, withheld.reason)
            except Exception:  # a filter that breaks must not let the unfiltered error through
                logger.exception("internal error filtering an error answer to %s; it was withheld", call.method)
                return _refusal(call, jsonrpc.INTERNAL_ERROR, "mcp-guard internal error; the upstream's answer was withheld")
            return {**message, "id": call.client_id, "error": error}, Outcome.JSONRPC_ERROR
        try:
            result = message.get("result")
            if not isinstance(result, dict):
                return _refusal(call, jsonrpc.INTERNAL_ERROR, "the upstream sent a result that is not an object")
            for step in filters:
                result = step.on_result(call, result)
        except Withheld as withheld:
            if call.method == "tools/call":
                return jsonrpc.result_response(_id(call), jsonrpc.tool_error_result(withheld.reason)), Outcome.IS_ERROR
            return _refusal(call, jsonrpc.REFUSED, withheld.reason)
        except Exception:  # a filter that breaks must not let the unfiltered answer through
            logger.exception("internal error filtering the answer to %s; it was withheld", call.method)
            return _refusal(call, jsonrpc.INTERNAL_ERROR, "mcp-guard internal error; the upstream's answer was withheld")
        outcome = Outcome.IS_ERROR if result.get("isError") is True else Outcome.OK
        return {**message, "id": call.client_id, "result": result}, outcome

    def from_upstream(self, message: Message) -> Message | None:
        """An upstream request or notification as the client may see it; None drops it."""
        visible: Message | None = _defined_only(message)
        for step in self._pipeline.response_filters:
            if visible is None:
                break
            visible = step.on_upstream_message(visible)
        return visible

    def on_stderr(self, text: str) -> str:
        """Redact one upstream stderr line before anything of it is logged or kept."""
        if self._redactor is not None:
            try:
                text = self._redactor.redact_text(text).value
            except RedactionError:
                text = "[a stderr line that could not be redacted was dropped]"
        self._stderr_log(text)
        return text

    def set_protocol_version(self, version: str) -> None:
        self._protocol_version = version

    # ---- endings without an upstream answer ---------------------------------------------

    async def refuse(self, call: Call, code: int, text: str, outcome: Outcome = Outcome.JSONRPC_ERROR) -> bytes:
        return await self._finish(call, *_refusal(call, code, text, outcome))

    async def abandon(self, call: Call, outcome: Outcome, text: str) -> None:
        """Record a request that gets no answer (the client cancelled it, or left)."""
        try:
            await self._record(call, outcome, text, 0)
        except AuditError as exc:  # no answer is left to refuse: say it loudly instead
            logger.error("audit record of a %s request lost: %s", outcome.value, exc)
        self._end_span(call, outcome, None)

    async def reject_unparsed(self, problem: jsonrpc.FramingProblem | jsonrpc.Oversized, max_bytes: int) -> bytes:
        """Answer (and record) a line from the client that is not a message the relay accepts."""
        if isinstance(problem, jsonrpc.Oversized):
            problem = jsonrpc.FramingProblem(
                jsonrpc.INVALID_REQUEST, f"message of {problem.size} bytes exceeds the {max_bytes}-byte limit; it was discarded"
            )
        span = self._telemetry.start_request(INVALID_METHOD, target=None, request_id=problem.id, protocol_version=self._protocol_version, client_meta=None)
        call = Call(client_id=problem.id, method=INVALID_METHOD, params={}, span=span)
        call.decision = Decision(False, Operation.OTHER, FRAMING_RULE, problem.message)
        return await self.refuse(call, problem.code, problem.message, Outcome.DENIED)

    # ---- the record ---------------------------------------------------------------------

    async def _finish(self, call: Call, response: Message, outcome: Outcome) -> bytes:
        """Encode the answer, record it (fail closed), end the span: the line once recorded."""
        answered: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

        def deliver(line: bytes) -> None:
            if not answered.done():  # a cancelled caller: the record was written all the same
                answered.set_result(line)

        self._finish_soon(call, response, outcome, deliver)
        return await answered

    def _finish_soon(self, call: Call, response: Message, outcome: Outcome, deliver: Callable[[bytes], None]) -> None:
        """Encode the answer and submit its record; once it is written, end the span and `deliver`
        the line (or, when the record could not be written, the refusal that replaces it)."""
        line = jsonrpc.encode(response)
        error = response.get("error")
        error_text = error.get("message") if isinstance(error, dict) else None
        if error_text is None and outcome is Outcome.IS_ERROR:
            error_text = _first_text(response.get("result"))
        record = self._record_of(call, outcome, error_text, len(line))

        def written(problem: str | None) -> None:
            answer, final, error_type = line, outcome, _error_type(error, outcome)
            if problem is not None:
                if self._session.profile.audit.on_failure is AuditFailureMode.DENY:
                    text = f"mcp-guard refused the request: {problem}"
                    answer = jsonrpc.encode(jsonrpc.error_response(call.client_id, jsonrpc.REFUSED, text))
                    final, error_type = Outcome.JSONRPC_ERROR, str(jsonrpc.REFUSED)
                else:
                    logger.error("audit record lost (audit.on_failure: allow): %s", problem)
            try:
                self._end_span(call, final, error_type)
            except Exception:  # telemetry must never cost the client its (recorded) answer
                logger.exception("internal error ending the span of a %s request", call.method)
            deliver(answer)

        self._audit.submit(record, written)

    def _end_span(self, call: Call, outcome: Outcome, error_type: str | None) -> None:
        decision = call.decision
        call.span.finish(
            outcome=outcome.value,
            error_type=error_type,
            decision=_verdict(decision),
            rule=decision.rule if decision is not None else None,
            operation=_operation(call),
            redactions=call.redactions,
        )

    async def _record(self, call: Call, outcome: Outcome, error: str | None, size: int) -> None:
        try:
            await self._audit.commit(self._record_of(call, outcome, error, size))
        except AuditError as exc:
            if self._session.profile.audit.on_failure is AuditFailureMode.DENY:
                raise
            logger.error("audit record lost (audit.on_failure: allow): %s", exc)

    def _record_of(self, call: Call, outcome: Outcome, error: str | None, size: int) -> Fields:
        """The call's record in its written form (`audit.record.record_fields`), built directly."""
        decision = call.decision
        client = self._client_fields
        tool, operation_id, reason = self._recorded_names(call, decision)
        return Fields({
            **self._constant_fields,
            "client": dict(client) if client is not None else None,
            "request_id": call.client_id,
            "method": call.method,
            "tool": tool,
            "operation": decision.operation.value if decision is not None and call.tool is not None else None,
            "operation_id": operation_id,
            "decision": "allow" if decision is not None and decision.allowed else "deny",
            "rule": decision.rule if decision is not None else None,
            "reason": reason,
            "arguments": call.audit_arguments,
            "outcome": outcome.value,
            "error": self._redact_text(error) if error is not None else None,
            "duration_ms": round((time.perf_counter() - call.started) * 1000, 3),
            "result_bytes": size,
            "redactions": dict(call.redactions),
            "decision_id": _decision_id(),
        })

    def _recorded_names(self, call: Call, decision: Decision | None) -> tuple[str | None, str | None, str | None]:
        """The tool name, operation id and reason as recorded. The client chose the first two and
        the reason quotes them: unless both are plain names (`list_customers`, `GetCustomers`), all
        three are recorded redacted, like an error text."""
        operation_id = decision.operation_id if decision is not None else None
        reason = decision.reason if decision is not None else None
        if all(name is None or _PLAIN_NAME.fullmatch(name) for name in (call.tool, operation_id)):
            return call.tool, operation_id, reason
        return self._redact_text(call.tool), self._redact_text(operation_id), self._redact_text(reason)

    def _redact_text(self, text: str | None) -> str | None:
        """Error texts are recorded as redacted as what the client sees (they may quote upstream data)."""
        if text is None or self._redactor is None:
            return text
        try:
            redacted: str = self._redactor.redact_text(text).value
        except RedactionError:
            return "[an error text that could not be redacted was not recorded]"
        return redacted


_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,200}")


def _decision_id() -> str:
    """A random version-4 UUID as 32 hex digits, like `uuid.uuid4().hex` at a third of the cost."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    return raw.hex()


def _defined_only(message: Message) -> Message:
    """An upstream message rebuilt from the members JSON-RPC defines: the filters see only those,
    so anything else could reach the client unfiltered. The count is logged, never the values."""
    rebuilt = jsonrpc.defined_members(message)
    dropped = sum(1 for name in message if name not in rebuilt)
    if dropped:
        logger.debug("dropped %d member(s) of an upstream message that JSON-RPC does not define", dropped)
    return rebuilt


def _refusal(call: Call, code: int, text: str, outcome: Outcome = Outcome.JSONRPC_ERROR) -> tuple[Message, Outcome]:
    """The JSON-RPC error that answers `call` instead of what it asked for."""
    return jsonrpc.error_response(call.client_id, code, text), outcome


def _error_type(error: Any, outcome: Outcome) -> str | None:
    """The span's error.type: the JSON-RPC code, `tool_error` for an isError result, else None."""
    if isinstance(error, dict):
        return str(error["code"])
    return "tool_error" if outcome is Outcome.IS_ERROR else None


def _id(call: Call) -> jsonrpc.RequestId:
    assert call.client_id is not None  # only requests (which carry ids) are answered with a result
    return call.client_id


def _verdict(decision: Decision | None) -> str | None:
    if decision is None:
        return None
    return "allow" if decision.allowed else "deny"


def _operation(call: Call) -> str | None:
    if call.decision is None or call.tool is None:
        return None
    return call.decision.operation.value


def _first_text(result: Any) -> str | None:
    if isinstance(result, dict):
        for item in result.get("content") or []:
            if isinstance(item, dict) and isinstance(item.get("text"), str):
                text: str = item["text"][:500]
                return text
    return None
