"""Build `Telemetry` from the standard OTEL_* variables.

The SDK reads OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_* and the sampler
and batch settings (OTEL_BLRP_* for logs) itself, but OTEL_TRACES_EXPORTER, OTEL_METRICS_EXPORTER
and OTEL_LOGS_EXPORTER only through auto-instrumentation, so they are interpreted here. Nothing
of OpenTelemetry is imported, and no provider or exporter thread exists, unless an exporter is
named. OTEL_LOGS_EXPORTER exports the audit records (see _audit_logs.py).
"""

from __future__ import annotations

import atexit
import importlib
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from mcp_guard.errors import ConfigError
from mcp_guard.telemetry._telemetry import Telemetry

if TYPE_CHECKING:
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import LogRecordExporter
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

_TRACES: Final = "OTEL_TRACES_EXPORTER"
_METRICS: Final = "OTEL_METRICS_EXPORTER"
_LOGS: Final = "OTEL_LOGS_EXPORTER"
_CONSOLE: Final = "console"
_OTLP: Final = "otlp"
_NONE: Final = "none"
_SUPPORTED: Final = (_CONSOLE, _OTLP, _NONE)
_OTLP_PROTOCOL: Final = "http/protobuf"
_DEFAULT_SERVICE_NAME: Final = "mcp-guard"


def telemetry_from_env(environ: Mapping[str, str] = os.environ, *, service_version: str) -> Telemetry:
    """Telemetry as the OTEL_* variables ask; disabled unless an exporter is named.

    Console exporters write to stderr (stdout is the MCP wire). Raises ConfigError for an
    unknown exporter, an OTLP protocol other than http/protobuf, or otlp without the extra.
    """
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return Telemetry()
    traces = _exporter_names(environ, _TRACES)
    metrics = _exporter_names(environ, _METRICS)
    logs = _exporter_names(environ, _LOGS)
    if not traces and not metrics and not logs:
        return Telemetry()
    # Check every exporter can be built before building anything, so a ConfigError leaks no thread.
    if _OTLP in traces:
        _check_otlp(environ, _TRACES, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "trace_exporter")
    if _OTLP in metrics:
        _check_otlp(environ, _METRICS, "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "metric_exporter")
    if _OTLP in logs:
        _check_otlp(environ, _LOGS, "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "_log_exporter")

    resource = _resource(environ, service_version)
    telemetry = Telemetry(
        tracer_provider=_tracer_provider(traces, resource) if traces else None,
        meter_provider=_meter_provider(metrics, resource) if metrics else None,
        logger_provider=_logger_provider(logs, resource) if logs else None,
        version=service_version,
    )
    # A safety net only: the relay calls shutdown itself before a hard exit.
    atexit.register(telemetry.shutdown)
    return telemetry


def _exporter_names(environ: Mapping[str, str], variable: str) -> tuple[str, ...]:
    names: list[str] = []
    for raw in environ.get(variable, "").split(","):
        name = raw.strip().lower()
        if not name:
            continue
        if name not in _SUPPORTED:
            raise ConfigError(f"{variable}={name} is not supported: use {', '.join(_SUPPORTED)}")
        if name != _NONE and name not in names:
            names.append(name)
    return tuple(names)


def _check_otlp(environ: Mapping[str, str], variable: str, protocol_variable: str, module: str) -> None:
    for name in (protocol_variable, "OTEL_EXPORTER_OTLP_PROTOCOL"):
        protocol = environ.get(name, "").strip()
        if protocol:
            if protocol != _OTLP_PROTOCOL:
                raise ConfigError(f"{name}={protocol} is not supported: mcp-guard[otlp] exports over {_OTLP_PROTOCOL}")
            break
    try:
        importlib.import_module(f"opentelemetry.exporter.otlp.proto.http.{module}")
    except ImportError as exc:
        raise ConfigError(f"{variable}=otlp needs the otlp extra: pip install 'mcp-guard[otlp]'") from exc


def _resource(environ: Mapping[str, str], service_version: str) -> Resource:
    from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource

    attributes = {SERVICE_VERSION: service_version}
    if service_name := environ.get("OTEL_SERVICE_NAME", "").strip():
        attributes[SERVICE_NAME] = service_name
    resource = Resource.create(attributes)
    # The SDK falls back to "unknown_service:<python>"; ours is mcp-guard unless the user said.
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: _DEFAULT_SERVICE_NAME}))
    return resource


def _tracer_provider(names: tuple[str, ...], resource: Resource) -> TracerProvider:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor

    provider = TracerProvider(resource=resource, shutdown_on_exit=False)
    for name in names:
        if name == _CONSOLE:
            # The SDK's default is sys.stdout, which is the MCP wire. Console output is for a
            # human watching, so it is written as each span ends.
            provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=sys.stderr)))
        else:
            # The extra is optional: without it this line is never reached (_check_otlp), and mypy has no stubs.
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # type: ignore[import-not-found, unused-ignore]

            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def _meter_provider(names: tuple[str, ...], resource: Resource) -> MeterProvider:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import ConsoleMetricExporter, MetricExporter, PeriodicExportingMetricReader

    readers = []
    for name in names:
        exporter: MetricExporter
        if name == _CONSOLE:
            exporter = ConsoleMetricExporter(out=sys.stderr)
        else:
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter  # type: ignore[import-not-found, unused-ignore]

            exporter = OTLPMetricExporter()
        readers.append(PeriodicExportingMetricReader(exporter))
    return MeterProvider(metric_readers=readers, resource=resource, shutdown_on_exit=False)


def _logger_provider(names: tuple[str, ...], resource: Resource) -> LoggerProvider:
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

    provider = LoggerProvider(resource=resource, shutdown_on_exit=False)
    for name in names:
        # Batched for the console too: stderr is a pipe the editor may read slowly, and a request
        # must never wait for it. shutdown() flushes what is queued.
        if name == _CONSOLE:
            provider.add_log_record_processor(BatchLogRecordProcessor(_console_log_exporter()))
        else:
            from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter  # type: ignore[import-not-found, unused-ignore]

            provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter()))
    return provider


def _console_log_exporter() -> LogRecordExporter:
    try:
        from opentelemetry.sdk._logs.export import ConsoleLogRecordExporter as Console
    except ImportError:  # SDKs before 1.39 name it ConsoleLogExporter
        from opentelemetry.sdk._logs.export import ConsoleLogExporter as Console  # type: ignore[assignment, attr-defined, unused-ignore]
    # One compact JSON object per line on stderr: readable in an editor's MCP log, easy to grep.
    return Console(out=sys.stderr, formatter=lambda record: record.to_json(indent=None) + "\n")
