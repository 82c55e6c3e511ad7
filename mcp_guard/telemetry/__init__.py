"""OpenTelemetry traces, metrics and audit log records, off unless OTEL_*_EXPORTER names an exporter.

Importing this package does not import OpenTelemetry; `telemetry_from_env` does, only for the
exporters named. How the relay uses it (disabled, a whole request costs ~0.15 us, so call the
hooks always):

    tel = telemetry_from_env(service_version=__version__)
    span = tel.start_request("tools/call", target="list_customers", request_id=7,
                             protocol_version="2025-06-18", client_meta=params.get("_meta"))
    meta = span.inject(params.get("_meta"))     # a new dict carrying our span; disabled, the same
    if meta is not None:
        forwarded_params = {**params, "_meta": meta}
    span.finish(outcome="allowed", decision="allow", rule="...", operation="list", redactions={"email": 2})
    if tel.exports_audit:                       # OTEL_LOGS_EXPORTER=console|otlp
        audit_log.add_listener(tel.export_audit)  # each audit record, once written, as a log record
    tel.shutdown()
"""

from mcp_guard.telemetry._env import telemetry_from_env
from mcp_guard.telemetry._telemetry import RequestSpan, Telemetry

__all__ = ["RequestSpan", "Telemetry", "telemetry_from_env"]
