"""Request spans and metrics for the relay: one span per client request, four instruments.

Disabled (no provider given), every call is an attribute check and a shared no-op object, so the
relay can call the hooks unconditionally. Attributes hold only names, ids, codes, rule and class
names and counts; never an argument, a result or a message text.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from enum import Enum
from time import perf_counter_ns
from typing import Any, Final

from opentelemetry import metrics, trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from mcp_guard.telemetry import _names as n

_log = logging.getLogger(__name__)

_SCOPE: Final = "mcp_guard"
_TRACEPARENT: Final = "traceparent"
_TRACESTATE: Final = "tracestate"
_NO_REDACTIONS: Mapping[str, int] = {}
_PROPAGATOR: Final = TraceContextTextMapPropagator()
_SHUTDOWN_TIMEOUT_S: Final = 2.0


class RequestSpan:
    """One client request's span. This base class is the disabled no-op."""

    __slots__ = ()

    def inject(self, meta: dict[str, Any] | None) -> dict[str, Any] | None:
        """The `_meta` to forward upstream; disabled, `meta` itself."""
        return meta

    def finish(
        self,
        *,
        outcome: str,
        error_type: str | None = None,
        decision: str | None = None,
        rule: str | None = None,
        operation: str | None = None,
        redactions: Mapping[str, int] = _NO_REDACTIONS,
    ) -> None:
        """End the span and record the metrics; disabled, nothing."""


_NOOP_SPAN: Final = RequestSpan()


class Telemetry:
    """Makes request spans and records metrics; a no-op unless given a provider.

    The providers are owned: `shutdown` flushes and shuts them down. They are never installed
    as the global providers.
    """

    __slots__ = ("_instruments", "_is_shut_down", "_providers", "_shutdown_lock", "_tracer", "enabled")

    def __init__(
        self,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
        version: str | None = None,
    ) -> None:
        self.enabled = tracer_provider is not None or meter_provider is not None
        self._tracer = tracer_provider.get_tracer(_SCOPE, version) if tracer_provider is not None else None
        self._instruments = (
            _Instruments(meter_provider.get_meter(_SCOPE, version)) if meter_provider is not None else None
        )
        self._providers = tuple(p for p in (tracer_provider, meter_provider) if p is not None)
        self._shutdown_lock = threading.Lock()
        self._is_shut_down = False

    def start_request(
        self,
        method: str,
        *,
        target: str | None,
        request_id: str | int | None,
        protocol_version: str | None,
        client_meta: Mapping[str, Any] | None,
        transport: str = "pipe",
    ) -> RequestSpan:
        """Start the span for one client request.

        `target` is the tool or prompt name (an identifier, never a URI or argument);
        `client_meta` is the request's `params._meta`, read only for `traceparent`/`tracestate`.
        """
        if not self.enabled:
            return _NOOP_SPAN
        return _RecordingSpan(self, method, target, request_id, protocol_version, client_meta, transport)

    def shutdown(self) -> None:
        """Flush and shut the providers down, waiting at most 2 s. Safe to call twice."""
        with self._shutdown_lock:
            if self._is_shut_down or not self._providers:
                self._is_shut_down = True
                return
            self._is_shut_down = True
        # A daemon thread bounds the wait: an OTLP exporter may retry against a dead collector.
        worker = threading.Thread(target=self._shut_down_providers, name="mcp-guard-otel-shutdown", daemon=True)
        try:
            worker.start()
        except RuntimeError:  # Python 3.12+ refuses new threads in atexit: the exporters' own timeouts bound it
            self._shut_down_providers()
            return
        worker.join(_SHUTDOWN_TIMEOUT_S)
        if worker.is_alive():
            _log.warning("OpenTelemetry exporters did not flush within %.0f s", _SHUTDOWN_TIMEOUT_S)

    def _shut_down_providers(self) -> None:
        timeout_ms = int(_SHUTDOWN_TIMEOUT_S * 1000)
        for provider in self._providers:
            try:
                if isinstance(provider, trace.TracerProvider) and hasattr(provider, "force_flush"):
                    provider.force_flush(timeout_ms)
                if isinstance(provider, metrics.MeterProvider) and hasattr(provider, "shutdown"):
                    provider.shutdown(timeout_millis=timeout_ms)
                elif hasattr(provider, "shutdown"):
                    provider.shutdown()
            except Exception:  # telemetry must never take the proxy down with it
                _log.warning("OpenTelemetry provider shutdown failed", exc_info=True)


class _Instruments:
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


class _RecordingSpan(RequestSpan):
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
        redactions: Mapping[str, int] = _NO_REDACTIONS,
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
