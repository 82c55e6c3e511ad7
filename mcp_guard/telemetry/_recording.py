"""The enabled side of `Telemetry`: request spans and instruments (imports OpenTelemetry).

Imported only when `Telemetry` is given a tracer or meter provider, so a guard without
exporters never loads OpenTelemetry at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from time import perf_counter_ns
from typing import TYPE_CHECKING, Any, Final

from opentelemetry import metrics, trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from mcp_guard.telemetry import _names as n
from mcp_guard.telemetry._telemetry import NO_REDACTIONS, RequestSpan

if TYPE_CHECKING:
    from mcp_guard.telemetry._telemetry import Telemetry

_TRACEPARENT: Final = "traceparent"
_TRACESTATE: Final = "tracestate"
_PROPAGATOR: Final = TraceContextTextMapPropagator()


class Instruments:
    __slots__ = ("calls", "denials", "duration", "redactions")

    def __init__(self, meter: metrics.Meter) -> None:
        self.duration = meter.create_histogram(
            n.MCP_SERVER_OPERATION_DURATION,
            unit="s",
            description="Duration of MCP requests handled by mcp-guard.",
            explicit_bucket_boundaries_advisory=n.DURATION_BUCKETS,
        )
        self.calls = meter.create_counter(
            n.GUARD_CALLS, unit="{call}", description="Client requests by method and policy decision."
        )
        self.denials = meter.create_counter(n.GUARD_DENIALS, unit="{call}", description="Denied calls by rule.")
        self.redactions = meter.create_counter(
            n.GUARD_REDACTIONS, unit="{value}", description="Values redacted, by class."
        )


class RecordingSpan(RequestSpan):
    __slots__ = ("_finished", "_method", "_span", "_started_ns", "_telemetry", "_tool")

    def __init__(
        self,
        telemetry: Telemetry,
        method: str,
        target: str | None,
        request_id: str | int | None,
        protocol_version: str | None,
        client_meta: Mapping[str, Any] | None,
        transport: str,
    ) -> None:
        self._telemetry = telemetry
        self._method = method = n.safe_identifier(method)
        target = n.safe_identifier(target) if target else None
        self._tool = target if method == "tools/call" else None
        self._finished = False
        self._span: trace.Span | None = None
        tracer = telemetry._tracer
        if tracer is not None:
            attributes: dict[str, str] = {n.MCP_METHOD_NAME: method, n.NETWORK_TRANSPORT: transport}
            if method == "tools/call":
                attributes[n.GEN_AI_OPERATION_NAME] = n.GEN_AI_OPERATION_EXECUTE_TOOL
                if target:
                    attributes[n.GEN_AI_TOOL_NAME] = target
            elif method == "prompts/get" and target:
                attributes[n.GEN_AI_PROMPT_NAME] = target
            if request_id is not None:
                attributes[n.JSONRPC_REQUEST_ID] = n.safe_identifier(str(request_id))
            if protocol_version:
                attributes[n.MCP_PROTOCOL_VERSION] = n.safe_identifier(protocol_version)
            self._span = tracer.start_span(
                f"{method} {target}" if target else method,
                context=_parent_context(client_meta),
                kind=SpanKind.SERVER,
                attributes=attributes,
            )
        self._started_ns = perf_counter_ns()

    def inject(self, meta: dict[str, Any] | None) -> dict[str, Any] | None:
        span = self._span
        if span is None or not span.get_span_context().is_valid:
            return meta
        forwarded = {k: v for k, v in meta.items() if k not in (_TRACEPARENT, _TRACESTATE)} if meta else {}
        _PROPAGATOR.inject(forwarded, context=trace.set_span_in_context(span))
        return forwarded

    def finish(
        self,
        *,
        outcome: str,
        error_type: str | None = None,
        decision: str | None = None,
        rule: str | None = None,
        operation: str | None = None,
        redactions: Mapping[str, int] = NO_REDACTIONS,
    ) -> None:
        if self._finished:
            return
        self._finished = True
        seconds = (perf_counter_ns() - self._started_ns) / 1e9
        decision = _plain(decision)
        counts = {str(name): count for name, count in redactions.items() if count > 0}
        span = self._span
        if span is not None:
            attributes: dict[str, str | int] = {n.GUARD_OUTCOME: _plain(outcome) or ""}
            if decision:
                attributes[n.GUARD_DECISION] = decision
            if rule:
                attributes[n.GUARD_RULE] = rule
            if operation:
                attributes[n.GUARD_OPERATION] = _plain(operation) or ""
            for name, count in counts.items():
                attributes[n.GUARD_REDACTIONS_PREFIX + name] = count
            if error_type:
                attributes[n.ERROR_TYPE] = error_type
                if error_type.lstrip("-").isdigit():
                    attributes[n.RPC_RESPONSE_STATUS_CODE] = error_type
                # No description: error messages can quote arguments.
                span.set_status(Status(StatusCode.ERROR))
            span.set_attributes(attributes)
            span.end()
        instruments = self._telemetry._instruments
        if instruments is not None:
            method = self._method
            duration_attributes = {n.MCP_METHOD_NAME: method}
            if self._tool:
                duration_attributes[n.GEN_AI_TOOL_NAME] = self._tool
            if error_type:
                duration_attributes[n.ERROR_TYPE] = error_type
            instruments.duration.record(seconds, duration_attributes)
            call_attributes = {n.MCP_METHOD_NAME: method}
            if decision:
                call_attributes[n.GUARD_DECISION] = decision
            instruments.calls.add(1, call_attributes)
            if decision == n.DENY:
                instruments.denials.add(1, {n.GUARD_RULE: rule} if rule else {})
            for name, count in counts.items():
                instruments.redactions.add(count, {n.GUARD_REDACTION_CLASS: name})


def _parent_context(client_meta: Mapping[str, Any] | None) -> Context:
    """The client's trace context from `_meta`, or an empty one (a new trace, never ambient)."""
    if not client_meta:
        return Context()
    traceparent = client_meta.get(_TRACEPARENT)
    if not isinstance(traceparent, str):
        return Context()
    carrier = {_TRACEPARENT: traceparent}
    tracestate = client_meta.get(_TRACESTATE)
    if isinstance(tracestate, str):
        carrier[_TRACESTATE] = tracestate
    return _PROPAGATOR.extract(carrier, context=Context())


def _plain(value: str | Enum | None) -> str | None:
    """A str-enum (Operation) as its value, so exporters never see `Operation.READ`."""
    return value.value if isinstance(value, Enum) else value
