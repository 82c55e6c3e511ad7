"""A Telemetry wired to in-memory exporters, and readers for what it exported."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from mcp_guard.telemetry import Telemetry


@dataclass
class Recorded:
    telemetry: Telemetry
    span_exporter: InMemorySpanExporter
    metric_reader: InMemoryMetricReader

    def spans(self) -> tuple[ReadableSpan, ...]:
        return self.span_exporter.get_finished_spans()

    def only_span(self) -> ReadableSpan:
        (span,) = self.spans()
        return span

    def points(self, metric_name: str) -> list[tuple[dict[str, Any], Any]]:
        """(attributes, data point) for every point of one metric."""
        data = self.metric_reader.get_metrics_data()
        found = []
        for resource_metrics in data.resource_metrics if data else ():
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    if metric.name == metric_name:
                        found.extend((dict(point.attributes or {}), point) for point in metric.data.data_points)
        return found

    def exported_text(self) -> str:
        """Everything exported, serialized the way the console exporter writes it."""
        data = self.metric_reader.get_metrics_data()
        parts = [span.to_json() for span in self.spans()]
        if data is not None:
            parts.append(data.to_json())
        return "\n".join(parts)


def build_recorded(*, traces: bool = True, metrics: bool = True) -> Recorded:
    span_exporter = InMemorySpanExporter()
    metric_reader = InMemoryMetricReader()
    tracer_provider = None
    meter_provider = None
    if traces:
        tracer_provider = TracerProvider(shutdown_on_exit=False)
        tracer_provider.add_span_processor(SimpleSpanProcessor(span_exporter))
    if metrics:
        meter_provider = MeterProvider(metric_readers=[metric_reader], shutdown_on_exit=False)
    telemetry = Telemetry(tracer_provider=tracer_provider, meter_provider=meter_provider, version="0.1.0")
    return Recorded(telemetry, span_exporter, metric_reader)


@pytest.fixture
def recorded() -> Iterator[Recorded]:
    rec = build_recorded()
    yield rec
    rec.telemetry.shutdown()


@pytest.fixture
def traces_only() -> Iterator[Recorded]:
    rec = build_recorded(metrics=False)
    yield rec
    rec.telemetry.shutdown()


@pytest.fixture
def metrics_only() -> Iterator[Recorded]:
    rec = build_recorded(traces=False)
    yield rec
    rec.telemetry.shutdown()
