"""Request spans, metrics and audit log records for the relay: one span per client request.

Disabled (no provider given), every call is an attribute check and a shared no-op object, so the
relay can call the hooks unconditionally, and OpenTelemetry is never imported: the guard starts
once per editor window, and importing the API alone costs ~40 ms. The enabled side lives in
`_recording` (spans, metrics) and `_audit_logs` (audit records as log records), imported only
when a provider is given. Attributes hold only names, ids, codes, rule and class names and
counts; never an argument, a result or a message text. An audit log record carries the audit
record itself, which holds the redacted arguments and nothing more.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.trace import TracerProvider

    from mcp_guard.telemetry._audit_logs import AuditLogEmitter
    from mcp_guard.telemetry._recording import Instruments, RecordingSpan

_log = logging.getLogger(__name__)

SCOPE: Final = "mcp_guard"
NO_REDACTIONS: Mapping[str, int] = {}
_SHUTDOWN_TIMEOUT_S = 2.0


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
        redactions: Mapping[str, int] = NO_REDACTIONS,
    ) -> None:
        """End the span and record the metrics; disabled, nothing."""


_NOOP_SPAN: Final = RequestSpan()


class Telemetry:
    """Makes request spans, records metrics, exports audit records; a no-op unless given a provider.

    The providers are owned: `shutdown` flushes and shuts them down. They are never installed
    as the global providers.
    """

    __slots__ = (
        "_audit",
        "_instruments",
        "_is_shut_down",
        "_providers",
        "_shutdown_lock",
        "_span_type",
        "_tracer",
        "enabled",
        "exports_audit",
        "version",
    )

    def __init__(
        self,
        *,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        logger_provider: LoggerProvider | None = None,
        version: str | None = None,
    ) -> None:
        self.version = version
        self.enabled = tracer_provider is not None or meter_provider is not None  # spans and metrics
        self.exports_audit = logger_provider is not None
        self._tracer = tracer_provider.get_tracer(SCOPE, version) if tracer_provider is not None else None
        self._instruments: Instruments | None = None
        self._span_type: type[RecordingSpan] | None = None
        if self.enabled:
            from mcp_guard.telemetry._recording import Instruments, RecordingSpan

            self._span_type = RecordingSpan
            if meter_provider is not None:
                self._instruments = Instruments(meter_provider.get_meter(SCOPE, version))
        self._audit: AuditLogEmitter | None = None
        if logger_provider is not None:
            from mcp_guard.telemetry._audit_logs import AuditLogEmitter

            self._audit = AuditLogEmitter(logger_provider, version)
        self._providers: tuple[Any, ...] = tuple(p for p in (tracer_provider, meter_provider, logger_provider) if p is not None)
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
        if self._span_type is None:
            return _NOOP_SPAN
        return self._span_type(self, method, target, request_id, protocol_version, client_meta, transport)

    def export_audit(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Emit each audit record (as written: redacted, chained) as an OpenTelemetry log record.

        For `AuditLog.add_listener`: call only after the records are durably written. Never
        raises and never waits for the exporter (a batch processor sends from its own thread).
        """
        if self._audit is not None and not self._is_shut_down:
            self._audit.emit(records)

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
        from opentelemetry import metrics  # providers exist, so OpenTelemetry is loaded already

        timeout_ms = int(_SHUTDOWN_TIMEOUT_S * 1000)
        for provider in self._providers:
            try:
                if isinstance(provider, metrics.MeterProvider):
                    if hasattr(provider, "shutdown"):
                        provider.shutdown(timeout_millis=timeout_ms)
                    continue
                if hasattr(provider, "force_flush"):
                    provider.force_flush(timeout_ms)
                if hasattr(provider, "shutdown"):
                    provider.shutdown()
            except Exception:  # noqa: BLE001 - telemetry must never take the proxy down with it
                _log.warning("OpenTelemetry provider shutdown failed", exc_info=True)
