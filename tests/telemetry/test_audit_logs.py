"""Audit records as OpenTelemetry log records: the same redacted fields, only once durably written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from datetime import datetime
from pathlib import Path

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    InMemoryLogRecordExporter,
    LogRecordExporter,
    LogRecordExportResult,
    SimpleLogRecordProcessor,
)

from mcp_guard.audit import AuditRecord, AuditSettings, Outcome, open_audit_log
from mcp_guard.errors import AuditError, ConfigError
from mcp_guard.telemetry import Telemetry, telemetry_from_env


def _record(**fields) -> AuditRecord:
    values = {
        "profile": "test", "mode": "test", "client": {"name": "pytest", "version": "1"}, "request_id": 7,
        "method": "tools/call", "tool": "stripe_api_read", "operation": "read", "operation_id": "GetCustomersCustomer",
        "decision": "allow", "rule": "allowed_operations", "arguments": {"customer": "cus_1", "email": "[redacted:email]"},
        "outcome": Outcome.OK, "duration_ms": 1.5, "redactions": {"email": 2}, "policy_sha256": "ab" * 32,
    }
    values.update(fields)
    return AuditRecord(**values)


def _file_records(directory: Path) -> list[dict]:
    return [json.loads(line) for path in sorted(directory.glob("audit-*.jsonl")) for line in path.read_text().splitlines()]


def _in_memory() -> tuple[Telemetry, InMemoryLogRecordExporter]:
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(shutdown_on_exit=False)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    return Telemetry(logger_provider=provider, version="0.1.0"), exporter


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(extra)
    return env


def test_each_written_record_is_emitted_with_exactly_the_fields_in_the_file(tmp_path):
    telemetry, exporter = _in_memory()
    with open_audit_log(AuditSettings(dir=tmp_path), "test") as log:
        log.add_listener(telemetry.export_audit)
        log.write(_record())
        log.write_batch([_record(request_id=8, decision="deny", outcome=Outcome.DENIED, rule="blocked_operations"), _record(request_id=9)])
    telemetry.shutdown()

    in_file = _file_records(tmp_path)
    exported = exporter.get_finished_logs()
    assert [dict(item.log_record.body) for item in exported] == in_file  # the same fields, chain included
    first, denied, _ = (item.log_record for item in exported)
    assert first.event_name == "mcp_guard.audit"
    assert first.severity_text == "INFO" and denied.severity_text == "WARN"
    assert first.timestamp == int(datetime.fromisoformat(in_file[0]["ts"]).timestamp() * 1_000_000) * 1000
    assert dict(denied.attributes) == {
        "mcp_guard.profile": "test", "mcp_guard.decision": "deny", "mcp_guard.rule": "blocked_operations",
        "mcp_guard.outcome": "denied", "mcp_guard.operation": "read", "mcp_guard.operation_id": "GetCustomersCustomer",
        "mcp_guard.policy.sha256": "ab" * 32, "mcp_guard.decision_id": in_file[1]["decision_id"],
        "mcp_guard.audit.seq": 2, "mcp_guard.audit.hash": in_file[1]["hash"],
        "mcp.method.name": "tools/call", "gen_ai.tool.name": "stripe_api_read",
    }


def test_a_record_that_could_not_be_written_is_never_emitted(tmp_path):
    telemetry, exporter = _in_memory()
    directory = tmp_path / "audit"
    log = open_audit_log(AuditSettings(dir=directory), "test")
    log.add_listener(telemetry.export_audit)
    log.write(_record())
    for path in directory.iterdir():
        path.unlink()
    directory.rmdir()
    with pytest.raises(AuditError):
        log.write(_record(request_id=8))
    log.close()
    assert [item.log_record.body["request_id"] for item in exporter.get_finished_logs()] == [7]


class _StuckExporter(LogRecordExporter):
    """An exporter that hangs (a dead collector) or fails, depending on the test."""

    def __init__(self, *, fail: bool = False) -> None:
        self.release = threading.Event()
        self.fail = fail
        self.exported = 0

    def export(self, batch):
        if self.fail:
            raise ConnectionError("collector unreachable")
        self.release.wait(30)
        self.exported += len(batch)
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        self.release.set()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


@pytest.mark.parametrize("fail", [False, True], ids=["hanging", "failing"])
def test_an_exporter_that_hangs_or_fails_never_holds_up_or_fails_a_write(tmp_path, fail):
    exporter = _StuckExporter(fail=fail)
    provider = LoggerProvider(shutdown_on_exit=False)
    provider.add_log_record_processor(BatchLogRecordProcessor(exporter, schedule_delay_millis=1))
    telemetry = Telemetry(logger_provider=provider)
    done = threading.Event()

    def write_three() -> None:
        with open_audit_log(AuditSettings(dir=tmp_path), "test") as log:
            log.add_listener(telemetry.export_audit)
            for index in range(3):
                log.write(_record(request_id=index))
        done.set()

    threading.Thread(target=write_three, daemon=True).start()
    assert done.wait(30), "a write waited for the exporter"
    exporter.release.set()
    telemetry.shutdown()
    assert [r["request_id"] for r in _file_records(tmp_path)] == [0, 1, 2]


def test_a_listener_that_raises_is_reported_once_and_the_writes_go_on(tmp_path, caplog):
    def broken(records):
        raise RuntimeError("exporter bug")

    with open_audit_log(AuditSettings(dir=tmp_path), "test") as log:
        log.add_listener(broken)
        log.write(_record(request_id=1))
        log.write(_record(request_id=2))
    assert [r["request_id"] for r in _file_records(tmp_path)] == [1, 2]
    assert caplog.text.count("audit record export failed") == 1


def test_otel_logs_exporter_none_or_unset_exports_nothing():
    assert telemetry_from_env({}, service_version="0.1.0").exports_audit is False
    assert telemetry_from_env({"OTEL_LOGS_EXPORTER": "none"}, service_version="0.1.0").exports_audit is False
    assert telemetry_from_env({"OTEL_LOGS_EXPORTER": "console", "OTEL_SDK_DISABLED": "true"}, service_version="0.1.0").exports_audit is False


def test_an_unknown_logs_exporter_is_a_config_error_naming_the_variable():
    with pytest.raises(ConfigError, match="OTEL_LOGS_EXPORTER=zipkin is not supported"):
        telemetry_from_env({"OTEL_LOGS_EXPORTER": "zipkin"}, service_version="0.1.0")


def test_otlp_logs_over_grpc_is_a_config_error():
    environ = {"OTEL_LOGS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": "grpc"}
    with pytest.raises(ConfigError, match="OTEL_EXPORTER_OTLP_LOGS_PROTOCOL=grpc is not supported"):
        telemetry_from_env(environ, service_version="0.1.0")


def test_without_an_exporter_opentelemetry_is_never_imported():
    script = """
        import json, sys, threading
        from mcp_guard.audit import AuditSettings, open_audit_log
        from mcp_guard.telemetry import telemetry_from_env
        threads = threading.active_count()
        tel = telemetry_from_env(service_version="0.1.0")
        span = tel.start_request("tools/call", target="t", request_id=1, protocol_version=None, client_meta=None)
        span.finish(outcome="ok")
        tel.export_audit([{"ts": "2026-03-01T12:00:00.000000Z"}])
        tel.shutdown()
        print(json.dumps({
            "otel": sorted(name for name in sys.modules if name.startswith("opentelemetry")),
            "new_threads": threading.active_count() - threads,
        }))
    """
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], env=_env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"otel": [], "new_threads": 0}


def test_console_logs_go_to_stderr_one_json_object_per_record_and_load_no_trace_sdk(tmp_path):
    script = f"""
        import json, sys
        from pathlib import Path
        from mcp_guard.audit import AuditRecord, AuditSettings, open_audit_log
        from mcp_guard.telemetry import telemetry_from_env
        tel = telemetry_from_env(service_version="0.1.0")
        assert tel.exports_audit and not tel.enabled
        log = open_audit_log(AuditSettings(dir=Path({str(tmp_path)!r})), "test")
        log.add_listener(tel.export_audit)
        log.write(AuditRecord(profile="test", mode="test", method="tools/call", tool="list_customers", decision="allow",
                              outcome="ok", arguments={{"email": "[redacted:email]"}}))
        tel.shutdown()
        log.close()
        print(json.dumps(sorted(name for name in sys.modules if name.startswith("opentelemetry.sdk.trace"))))
    """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], env=_env(OTEL_LOGS_EXPORTER="console", OTEL_SERVICE_NAME="team-guard"),
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("{")]
    emitted = json.loads(line)
    assert emitted["body"] == _file_records(tmp_path)[0]
    assert emitted["event_name"] == "mcp_guard.audit"
    assert emitted["resource"]["attributes"]["service.name"] == "team-guard"


class _Collector:
    """A local OTLP/HTTP endpoint that keeps every /v1/logs body."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        received: list[bytes] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.path == "/v1/logs":
                    received.append(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_otlp_logs_reach_a_collector_with_the_record_and_no_unredacted_value(tmp_path, monkeypatch):
    logs_service = pytest.importorskip("opentelemetry.proto.collector.logs.v1.logs_service_pb2", reason="the otlp extra is not installed")
    pytest.importorskip("opentelemetry.exporter.otlp.proto.http._log_exporter", reason="the otlp extra is not installed")
    collector = _Collector()
    try:
        for name in list(os.environ):
            if name.startswith("OTEL_"):
                monkeypatch.delenv(name)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint)
        telemetry = telemetry_from_env({"OTEL_LOGS_EXPORTER": "otlp"}, service_version="0.1.0")
        with open_audit_log(AuditSettings(dir=tmp_path), "test") as log:
            log.add_listener(telemetry.export_audit)
            log.write(_record())
        telemetry.shutdown()
    finally:
        collector.close()
    request = logs_service.ExportLogsServiceRequest.FromString(b"".join(collector.received[-1:]))
    (exported,) = [r for rl in request.resource_logs for sl in rl.scope_logs for r in sl.log_records]
    body = {kv.key: kv.value for kv in exported.body.kvlist_value.values}
    written = _file_records(tmp_path)[0]
    assert body["hash"].string_value == written["hash"] and body["decision_id"].string_value == written["decision_id"]
    assert body["operation_id"].string_value == "GetCustomersCustomer"
    arguments = {kv.key: kv.value.string_value for kv in body["arguments"].kvlist_value.values}
    assert arguments == written["arguments"] == {"customer": "cus_1", "email": "[redacted:email]"}


@pytest.mark.anyio
async def test_a_real_guard_with_console_logs_puts_each_audit_record_on_stderr_and_nothing_more(tmp_path):
    import re

    from tests.relay.harness import RawClient, sandbox_command, write_config

    config = write_config(tmp_path)
    client = await RawClient.start(config, sandbox_command(), env={"OTEL_LOGS_EXPORTER": "console"})
    try:
        await client.initialize()
        await client.call("tools/list")
        read = {"stripe_api_operation_id": "GetCustomers", "parameters": {"limit": 3, "email": "jane.doe@example.com"}}
        listed = await client.call("tools/call", {"name": "stripe_api_read", "arguments": read})
        write = {"stripe_api_operation_id": "PostRefunds", "parameters": {"charge": "ch_1"}}
        denied = await client.call("tools/call", {"name": "stripe_api_write", "arguments": write})
        await client.close_stdin()
        assert await client.wait(30) == 0
        stderr = await client.stderr_text()
    finally:
        await client.aclose()
    assert listed["result"].get("isError") is not True and denied["result"]["isError"] is True
    in_file = _file_records(tmp_path / "audit")
    emitted = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert [item["body"] for item in emitted] == in_file  # every record, the same redacted fields, nothing else
    assert {item["event_name"] for item in emitted} == {"mcp_guard.audit"}
    assert [r["method"] for r in in_file] == ["initialize", "tools/list", "tools/call", "tools/call"]
    # The result held customers' emails; only the redacted record reached stderr.
    assert "jane.doe@example.com" not in stderr
    assert not re.search(r"[A-Za-z0-9._%+-]+@example\.com", "\n".join(json.dumps(item) for item in emitted))
