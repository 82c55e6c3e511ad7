"""What mcp-guard does to each message: decide, redact, record.

The relay moves messages and keeps time; this module holds the session's policy and turns every
client request into either a message to forward or an answer of its own, and every upstream
message into what the client may see. Each path fails closed: when a guard cannot do its job, the
client gets an error naming the reason, never the unguarded message.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mcp_guard import jsonrpc
from mcp_guard.audit import AuditLog, AuditRecord
from mcp_guard.audit.settings import AuditFailureMode
from mcp_guard.config import Profile
from mcp_guard.errors import AuditError, RedactionError
from mcp_guard.jsonrpc import Message, RequestId
from mcp_guard.livemode import find_livemode_mismatch
from mcp_guard.policy import Decision, decide, decide_method, is_listed
from mcp_guard.redaction import Redactor
from mcp_guard.telemetry import RequestSpan, Telemetry

logger = logging.getLogger("mcp_guard")

# Outcomes recorded in the audit trail and on spans.
OK, IS_ERROR, JSONRPC_ERROR, CANCELLED, TIMEOUT, UPSTREAM_DIED, DENIED = (
    "ok",
    "is_error",
    "jsonrpc_error",
    "cancelled",
    "timeout",
    "upstream_died",
    "denied",
)


# Notifications a client may send (MCP 2024-11-05 .. 2025-11-25). Anything else could only be an
# action the policy never saw, so it is dropped: unknown means denied, for notifications too.
CLIENT_NOTIFICATIONS = frozenset(
    {"notifications/initialized", "notifications/cancelled", "notifications/progress", "notifications/roots/list_changed"}
)


@dataclass
class Call:
    """One client request on its way through the guard."""

    client_id: RequestId | None
    method: str
    tool: str | None
    arguments: Any  # already redacted: this is what the audit trail keeps
    decision: Decision | None
    span: RequestSpan
    started: float = field(default_factory=time.perf_counter)
    redactions: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Forward:
    call: Call
    message: Message


@dataclass(frozen=True)
class Answer:
    call: Call
    line: bytes


@dataclass(frozen=True)
class SessionInfo:
    profile_name: str
    profile: Profile
    upstream: str  # a short description for the audit trail: command name or URL
    key_fingerprint: str | None


class Guard:
    def __init__(
        self,
        session: SessionInfo,
        redactor: Redactor | None,
        audit_log: AuditLog,
        telemetry: Telemetry,
        stderr_log: Callable[[str], None] | None = None,
    ) -> None:
        self._session = session
        self._profile = session.profile
        self._redactor = redactor  # None only when the profile says `redaction: off`
        self._audit = audit_log
        self._telemetry = telemetry
        self._stderr_log = stderr_log or (lambda text: logger.info("upstream stderr: %s", text))
        self._client: dict[str, Any] | None = None
        self._protocol_version: str | None = None
        self._output_schemas: dict[str, dict[str, Any]] = {}

    # ---- client -> upstream -------------------------------------------------------------

    def admit(self, message: Message) -> Forward | Answer:
        """Decide a client request: forward it (possibly with trace context added) or answer it."""
        method: str = message["method"]
        params: dict[str, Any] = message.get("params") or {}
        is_tool_call = method == "tools/call"
        tool = params.get("name") if is_tool_call else None
        if method == "initialize":
            self._client = params.get("clientInfo") if isinstance(params.get("clientInfo"), dict) else None
            self._protocol_version = params.get("protocolVersion")
        span = self._telemetry.start_request(
            method,
            target=tool if isinstance(tool, str) else None,
            request_id=message["id"],
            protocol_version=self._protocol_version,
            client_meta=params.get("_meta") if isinstance(params.get("_meta"), dict) else None,
        )
        call = Call(message["id"], method, tool if isinstance(tool, str) else None, None, None, span)

        try:
            call.arguments = self._redact_for_audit(params.get("arguments")) if is_tool_call else None
        except RedactionError as exc:
            return Answer(call, self.refuse(call, jsonrpc.REFUSED, f"mcp-guard refused the request: {exc}"))

        method_decision = decide_method(self._profile, method)
        if not method_decision.allowed:
            call.decision = method_decision
            return Answer(call, self._finish(call, jsonrpc.error_response(call.client_id, jsonrpc.METHOD_NOT_FOUND, method_decision.reason), DENIED))
        if is_tool_call:
            if not isinstance(tool, str):
                call.decision = method_decision
                return Answer(call, self.refuse(call, jsonrpc.INVALID_PARAMS, "tools/call needs a string 'name'"))
            arguments = params.get("arguments")
            call.decision = decide(self._profile, tool, arguments if isinstance(arguments, dict) else None)
            if not call.decision.allowed:
                denial = jsonrpc.tool_error_result(f"mcp-guard denied this call: {call.decision.reason} (rule: {call.decision.rule})")
                return Answer(call, self._finish(call, jsonrpc.result_response(call.client_id, denial), DENIED))
        else:
            call.decision = method_decision

        forwarded = message
        meta = params.get("_meta")
        injected = span.inject(meta if isinstance(meta, dict) else None)
        if injected is not meta and injected:
            forwarded = {**message, "params": {**params, "_meta": injected}}
        return Forward(call, forwarded)

    # ---- upstream -> client -------------------------------------------------------------

    def respond(self, call: Call, message: Message) -> bytes:
        """The line the client gets for the upstream's answer to `call`."""
        if "error" in message:
            try:
                error = self._redact(call, message["error"])
            except RedactionError as exc:
                return self.refuse(call, jsonrpc.REFUSED, f"mcp-guard withheld the upstream's error: {exc}")
            return self._finish(call, {**message, "id": call.client_id, "error": error}, JSONRPC_ERROR)

        result = message.get("result")
        if not isinstance(result, dict):
            return self.refuse(call, jsonrpc.INTERNAL_ERROR, "the upstream sent a result that is not an object")
        mismatch = find_livemode_mismatch(result, self._profile.mode)
        if mismatch is not None:
            text = (
                f"mcp-guard withheld this result: it holds an object whose livemode contradicts the "
                f"'{self._session.profile_name}' profile ({self._profile.mode.value} mode) at {mismatch}"
            )
            if call.method == "tools/call":
                return self._finish(call, jsonrpc.result_response(call.client_id, jsonrpc.tool_error_result(text)), IS_ERROR)
            return self.refuse(call, jsonrpc.REFUSED, text)
        if call.method == "tools/list":
            result = self._filter_tools(result)
        try:
            redacted = self._redact_result(call, result)
        except RedactionError as exc:
            text = f"mcp-guard withheld this result because it could not be redacted: {exc}"
            if call.method == "tools/call":
                return self._finish(call, jsonrpc.result_response(call.client_id, jsonrpc.tool_error_result(text)), IS_ERROR)
            return self.refuse(call, jsonrpc.REFUSED, text)
        outcome = IS_ERROR if redacted.get("isError") is True else OK
        return self._finish(call, {**message, "id": call.client_id, "result": redacted}, outcome)

    def admits_notification(self, message: Message) -> bool:
        """Client notifications the upstream may see: the four MCP defines for clients, no others."""
        if message["method"] in CLIENT_NOTIFICATIONS:
            return True
        logger.warning("dropped client notification %r: not one MCP defines for clients", message["method"])
        return False

    def from_upstream(self, message: Message) -> Message | None:
        """An upstream request or notification as the client may see it; None drops it."""
        params = message.get("params")
        if params is None or self._redactor is None:
            return message
        try:
            redaction = self._redactor.redact(params)
        except RedactionError as exc:
            logger.warning("dropped upstream %s: it could not be redacted (%s)", message.get("method"), exc)
            return None
        return {**message, "params": redaction.value} if redaction.changed else message

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

    def refuse(self, call: Call, code: int, text: str, outcome: str = JSONRPC_ERROR) -> bytes:
        return self._finish(call, jsonrpc.error_response(call.client_id, code, text), outcome)

    def abandon(self, call: Call, outcome: str, text: str) -> None:
        """Record a request that gets no answer (the client cancelled it, or left)."""
        try:
            self._record(call, outcome, text, 0)
        except AuditError as exc:  # no answer is left to refuse: say it loudly instead
            logger.error("audit record of a %s request lost: %s", outcome, exc)
        call.span.finish(outcome=outcome, error_type=None, decision=_decision_name(call), rule=_rule(call), operation=_operation(call), redactions=call.redactions)

    def reject_unparsed(self, problem: jsonrpc.FramingProblem | jsonrpc.Oversized, max_bytes: int) -> bytes:
        """Answer (and record) a line from the client that is not a message the relay accepts."""
        if isinstance(problem, jsonrpc.Oversized):
            problem = jsonrpc.FramingProblem(
                jsonrpc.INVALID_REQUEST, f"message of {problem.size} bytes exceeds the {max_bytes}-byte limit; it was discarded"
            )
        span = self._telemetry.start_request("(invalid)", target=None, request_id=problem.id, protocol_version=self._protocol_version, client_meta=None)
        call = Call(problem.id, "(invalid)", None, None, None, span)
        return self.refuse(call, problem.code, problem.message)

    # ---- internals ----------------------------------------------------------------------

    def _filter_tools(self, result: dict[str, Any]) -> dict[str, Any]:
        tools = result.get("tools")
        if not isinstance(tools, list):  # nothing we can check is nothing we may show
            return {**result, "tools": []}
        listed = []
        for tool in tools:
            name = tool.get("name") if isinstance(tool, dict) else None
            if isinstance(name, str) and is_listed(self._profile, name):
                listed.append(tool)
                if isinstance(tool.get("outputSchema"), dict):
                    self._output_schemas[name] = tool["outputSchema"]
        return {**result, "tools": listed}

    def _redact_result(self, call: Call, result: dict[str, Any]) -> dict[str, Any]:
        if self._redactor is None:
            return result
        redaction = self._redactor.redact(result)
        _add_counts(call.redactions, redaction.counts)
        redacted: dict[str, Any] = redaction.value
        schema = self._output_schemas.get(call.tool or "")
        if (
            schema is not None
            and "structuredContent" in redacted
            and redacted.get("isError") is not True
            and any(p.startswith("/structuredContent") for p in redaction.pointers)
        ):
            problem = self._redactor.check_output_schema(redacted.get("structuredContent"), schema)
            if problem is not None:
                note = (
                    "mcp-guard redacted this result and its structuredContent no longer matches the "
                    f"tool's outputSchema ({problem}); the redacted content follows"
                )
                content = [{"type": "text", "text": note}, *redacted.get("content", [])]
                redacted = {k: v for k, v in redacted.items() if k != "structuredContent"}
                redacted.update(content=content, isError=True)
        return redacted

    def _redact(self, call: Call, value: Any) -> Any:
        if self._redactor is None:
            return value
        redaction = self._redactor.redact(value)
        _add_counts(call.redactions, redaction.counts)
        return redaction.value

    def _redact_for_audit(self, arguments: Any) -> Any:
        if self._redactor is None or arguments is None:
            return arguments
        return self._redactor.redact(arguments).value

    def _finish(self, call: Call, response: Message, outcome: str) -> bytes:
        """Encode the answer, record it (fail closed), end the span."""
        line = jsonrpc.encode(response)
        error = response.get("error")
        error_text = error.get("message") if isinstance(error, dict) else None
        if error_text is None and outcome == IS_ERROR:
            error_text = _first_text(response.get("result"))
        try:
            self._record(call, outcome, error_text, len(line))
        except AuditError as exc:
            line = jsonrpc.encode(
                jsonrpc.error_response(call.client_id, jsonrpc.REFUSED, f"mcp-guard refused the request: {exc}")
            )
            outcome, error = JSONRPC_ERROR, {"code": jsonrpc.REFUSED}
        error_type = str(error["code"]) if isinstance(error, dict) else ("tool_error" if outcome == IS_ERROR else None)
        call.span.finish(outcome=outcome, error_type=error_type, decision=_decision_name(call), rule=_rule(call), operation=_operation(call), redactions=call.redactions)
        return line

    def _record(self, call: Call, outcome: str, error: str | None, size: int) -> None:
        session = self._session
        record = AuditRecord(
            profile=session.profile_name,
            mode=self._profile.mode.value,
            client=self._client,
            request_id=call.client_id,
            method=call.method,
            tool=call.tool,
            operation=_operation(call),
            decision=_decision_name(call),
            rule=_rule(call),
            reason=call.decision.reason if call.decision is not None else None,
            arguments=call.arguments,
            outcome=outcome,
            error=error,
            duration_ms=round((time.perf_counter() - call.started) * 1000, 3),
            result_bytes=size,
            redactions=dict(call.redactions),
            upstream=session.upstream,
            key_fingerprint=session.key_fingerprint,
            decision_id=uuid.uuid4().hex,
        )
        try:
            self._audit.write(record)
        except AuditError as exc:
            if self._profile.audit.on_failure is AuditFailureMode.DENY:
                raise
            logger.error("audit record lost (audit.on_failure: allow): %s", exc)


def _add_counts(total: dict[str, int], counts: dict[str, int]) -> None:
    for name, count in counts.items():
        total[name] = total.get(name, 0) + count


def _decision_name(call: Call) -> str | None:
    if call.decision is None:
        return "deny" if call.method == "(invalid)" else None
    return "allow" if call.decision.allowed else "deny"


def _rule(call: Call) -> str | None:
    if call.decision is None:
        return "jsonrpc.framing" if call.method == "(invalid)" else None
    return call.decision.rule


def _operation(call: Call) -> str | None:
    if call.decision is None or call.tool is None:
        return None
    return call.decision.operation.value


def _first_text(result: Any) -> str | None:
    if isinstance(result, dict):
        for item in result.get("content") or []:
            if isinstance(item, dict) and isinstance(item.get("text"), str):
                return item["text"][:500]
    return None
