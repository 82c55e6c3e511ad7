"""With the otlp extra, spans and metrics reach a collector over OTLP/HTTP (skipped without it)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

trace_service = pytest.importorskip(
    "opentelemetry.proto.collector.trace.v1.trace_service_pb2", reason="the otlp extra is not installed"
)
metrics_service = pytest.importorskip("opentelemetry.proto.collector.metrics.v1.metrics_service_pb2")
pytest.importorskip("opentelemetry.exporter.otlp.proto.http.trace_exporter", reason="the otlp extra is not installed")

from mcp_guard.telemetry import telemetry_from_env  # noqa: E402

EMAIL = "jane.doe@example.com"
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


class _Collector(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.received: dict[str, list[bytes]] = {}
        self.lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    server: _Collector

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.server.lock:
            self.server.received.setdefault(self.path, []).append(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def collector(monkeypatch) -> Iterator[_Collector]:
    server = _Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
    yield server
    server.shutdown()
    server.server_close()


def test_spans_and_metrics_reach_an_otlp_collector_without_payloads(collector):
    environ = {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_METRICS_EXPORTER": "otlp", "OTEL_SERVICE_NAME": "guard-ci"}
    telemetry = telemetry_from_env(environ, service_version="0.1.0")
    meta = {"traceparent": TRACEPARENT, "io.example/contact": EMAIL}
    span = telemetry.start_request(
        "tools/call", target="list_customers", request_id=7, protocol_version="2025-06-18", client_meta=meta
    )
    span.inject(meta)
    span.finish(outcome="allowed", decision="allow", rule="allowed.list", operation="list", redactions={"email": 1})

    telemetry.shutdown()

    (trace_body,) = collector.received["/v1/traces"]
    traces = trace_service.ExportTraceServiceRequest.FromString(trace_body)
    (exported,) = [s for rs in traces.resource_spans for ss in rs.scope_spans for s in ss.spans]
    assert exported.name == "tools/call list_customers"
    assert exported.trace_id.hex() == "0af7651916cd43dd8448eb211c80319c"
    service = {a.key: a.value.string_value for a in traces.resource_spans[0].resource.attributes}["service.name"]
    assert service == "guard-ci"
    metrics = metrics_service.ExportMetricsServiceRequest.FromString(b"".join(collector.received["/v1/metrics"][-1:]))
    names = {m.name for rm in metrics.resource_metrics for sm in rm.scope_metrics for m in sm.metrics}
    assert {"mcp.server.operation.duration", "mcp_guard.calls", "mcp_guard.redactions"} <= names
    for body in (*collector.received["/v1/traces"], *collector.received["/v1/metrics"]):
        assert EMAIL.encode() not in body
