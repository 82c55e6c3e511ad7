"""telemetry_from_env: off by default, configured by the standard OTEL_* variables."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap

import pytest

from mcp_guard.errors import ConfigError
from mcp_guard.telemetry import Telemetry, telemetry_from_env

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def _otlp_installed() -> bool:
    try:
        importlib.import_module("opentelemetry.exporter.otlp.proto.http.trace_exporter")
    except ImportError:
        return False
    return True


OTLP_INSTALLED = _otlp_installed()


def cycle(telemetry: Telemetry, meta: dict | None) -> dict | None:
    span = telemetry.start_request(
        "tools/call", target="list_customers", request_id=7, protocol_version="2025-06-18", client_meta=meta
    )
    forwarded = span.inject(meta)
    span.finish(outcome="allowed", decision="allow", rule="allowed.list", operation="list", redactions={"email": 1})
    return forwarded


def env_without_otel(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(extra)
    return env


def run_python(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], env=env, capture_output=True, text=True, timeout=60
    )


def test_no_otel_variables_means_disabled_and_the_same_meta_back():
    telemetry = telemetry_from_env({}, service_version="0.1.0")
    meta = {"traceparent": TRACEPARENT, "progressToken": 1}

    assert telemetry.enabled is False
    assert cycle(telemetry, meta) is meta
    assert meta == {"traceparent": TRACEPARENT, "progressToken": 1}
    telemetry.shutdown()


def test_disabled_span_returns_none_meta_unchanged():
    assert cycle(telemetry_from_env({}, service_version="0.1.0"), None) is None


@pytest.mark.parametrize("value", ["true", "TRUE", " true "])
def test_otel_sdk_disabled_wins_over_named_exporters(value):
    environ = {"OTEL_SDK_DISABLED": value, "OTEL_TRACES_EXPORTER": "console", "OTEL_METRICS_EXPORTER": "console"}

    assert telemetry_from_env(environ, service_version="0.1.0").enabled is False


def test_exporter_none_is_disabled():
    environ = {"OTEL_TRACES_EXPORTER": "none", "OTEL_METRICS_EXPORTER": "none"}

    assert telemetry_from_env(environ, service_version="0.1.0").enabled is False


@pytest.mark.parametrize("variable", ["OTEL_TRACES_EXPORTER", "OTEL_METRICS_EXPORTER"])
def test_an_unknown_exporter_is_a_config_error_naming_the_variable(variable):
    with pytest.raises(ConfigError, match=f"{variable}=zipkin is not supported"):
        telemetry_from_env({variable: "console,zipkin"}, service_version="0.1.0")


@pytest.mark.skipif(OTLP_INSTALLED, reason="the otlp extra is installed")
@pytest.mark.parametrize("variable", ["OTEL_TRACES_EXPORTER", "OTEL_METRICS_EXPORTER"])
def test_otlp_without_the_extra_is_a_config_error(variable):
    with pytest.raises(ConfigError) as raised:
        telemetry_from_env({variable: "otlp"}, service_version="0.1.0")

    assert str(raised.value) == f"{variable}=otlp needs the otlp extra: pip install 'mcp-guard[otlp]'"
    assert isinstance(raised.value.__cause__, ImportError)


def test_otlp_over_grpc_is_a_config_error():
    environ = {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}

    with pytest.raises(ConfigError, match="OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported"):
        telemetry_from_env(environ, service_version="0.1.0")


def test_console_exporters_write_to_stderr_with_the_service_name(capsys):
    environ = {
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_METRICS_EXPORTER": "console",
        "OTEL_SERVICE_NAME": "billing-guard",
    }
    telemetry = telemetry_from_env(environ, service_version="9.9.9")

    forwarded = cycle(telemetry, {"traceparent": TRACEPARENT})
    telemetry.shutdown()

    captured = capsys.readouterr()
    assert captured.out == ""
    assert '"name": "tools/call list_customers"' in captured.err
    assert '"service.name": "billing-guard"' in captured.err
    assert '"service.version": "9.9.9"' in captured.err
    assert "mcp_guard.calls" in captured.err
    assert forwarded["traceparent"].startswith("00-0af7651916cd43dd8448eb211c80319c-")


def test_console_telemetry_in_a_real_process_leaves_stdout_empty():
    script = f"""
        from mcp_guard.telemetry import telemetry_from_env
        tel = telemetry_from_env(service_version="0.1.0")
        span = tel.start_request("tools/call", target="list_customers", request_id=7,
                                 protocol_version="2025-06-18", client_meta={{"traceparent": "{TRACEPARENT}"}})
        span.inject({{"progressToken": 1}})
        span.finish(outcome="allowed", decision="deny", rule="blocked.create", operation="create",
                    redactions={{"email": 1}})
        tel.shutdown()
    """
    env = env_without_otel(OTEL_TRACES_EXPORTER="console", OTEL_METRICS_EXPORTER="console")

    result = run_python(script, env)

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert '"name": "tools/call list_customers"' in result.stderr
    assert '"service.name": "mcp-guard"' in result.stderr
    for metric in ("mcp.server.operation.duration", "mcp_guard.calls", "mcp_guard.denials", "mcp_guard.redactions"):
        assert f'"name": "{metric}"' in result.stderr


def test_disabled_telemetry_loads_no_sdk_and_starts_no_thread():
    script = """
        import json, sys, threading
        from mcp_guard.telemetry import telemetry_from_env
        threads_before = threading.active_count()
        tel = telemetry_from_env(service_version="0.1.0")
        meta = {"progressToken": 1}
        span = tel.start_request("tools/call", target="list_customers", request_id=7,
                                 protocol_version=None, client_meta=meta)
        same = span.inject(meta) is meta
        span.finish(outcome="allowed")
        tel.shutdown()
        print(json.dumps({
            "enabled": tel.enabled,
            "same_meta": same,
            "sdk_loaded": any(name.startswith("opentelemetry.sdk") for name in sys.modules),
            "new_threads": threading.active_count() - threads_before,
        }))
    """

    result = run_python(script, env_without_otel())

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"enabled": False, "same_meta": True, "sdk_loaded": False, "new_threads": 0}
    assert result.stderr == ""
