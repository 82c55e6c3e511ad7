"""shutdown flushes what is queued, is safe to repeat, and never hangs the proxy's exit."""

from __future__ import annotations

import threading
import time

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from mcp_guard.telemetry import Telemetry, _telemetry


def finish_one(telemetry: Telemetry) -> None:
    telemetry.start_request(
        "tools/call", target="list_customers", request_id=1, protocol_version=None, client_meta=None
    ).finish(outcome="allowed")


def test_shutdown_flushes_batched_spans():
    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    # A long delay: the span is exported only because shutdown flushes it.
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=60_000))
    telemetry = Telemetry(tracer_provider=provider)
    finish_one(telemetry)
    assert exporter.get_finished_spans() == ()

    telemetry.shutdown()

    assert [span.name for span in exporter.get_finished_spans()] == ["tools/call list_customers"]


def test_shutdown_twice_is_harmless_and_a_request_finished_late_is_dropped():
    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    telemetry = Telemetry(tracer_provider=provider)
    finish_one(telemetry)

    telemetry.shutdown()
    telemetry.shutdown()
    finish_one(telemetry)  # a request still pending when the proxy stopped

    assert len(exporter.get_finished_spans()) == 1


class _HangingProvider(TracerProvider):
    """A provider whose exporter never answers, like OTLP against a dead collector."""

    def __init__(self) -> None:
        super().__init__(shutdown_on_exit=False)
        self.release = threading.Event()

    def shutdown(self) -> None:
        self.release.wait(30)


def test_shutdown_gives_up_after_its_time_limit(monkeypatch):
    monkeypatch.setattr(_telemetry, "_SHUTDOWN_TIMEOUT_S", 0.2)
    provider = _HangingProvider()
    telemetry = Telemetry(tracer_provider=provider)
    try:
        started = time.monotonic()
        telemetry.shutdown()
        elapsed = time.monotonic() - started
    finally:
        provider.release.set()

    assert 0.2 <= elapsed < 5


def test_shutdown_where_no_thread_may_start_still_flushes(monkeypatch):
    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=60_000))
    telemetry = Telemetry(tracer_provider=provider)
    finish_one(telemetry)

    def refuse(self: threading.Thread) -> None:
        raise RuntimeError("can't create new thread at interpreter shutdown")

    monkeypatch.setattr(threading.Thread, "start", refuse)  # what Python 3.12+ does inside atexit
    telemetry.shutdown()

    assert len(exporter.get_finished_spans()) == 1
