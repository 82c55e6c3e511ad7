"""`mcp-guard run` over a stdio upstream imports only what that session needs (issue 13, item 1),
starts the upstream before building the guard, and can log to stderr as JSON lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.relay.harness import coverage_command, write_config

# Run `mcp-guard run` in a Python that reports, at exit, which modules were loaded.
_PROBE = """
import atexit, json, sys
def report():
    with open(sys.argv[1], "w") as out:
        json.dump(sorted(sys.modules), out)
atexit.register(report)
from mcp_guard.cli import main
sys.exit(main(sys.argv[2:]))
"""

_HANDSHAKE = (
    b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},'
    b'"clientInfo":{"name":"t","version":"1"}}}\n'
    b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n'
    b'{"jsonrpc":"2.0","id":2,"method":"tools/list"}\n'
)


def _run(tmp_path: Path, env: dict[str, str] | None = None) -> tuple[list[str], subprocess.CompletedProcess[bytes]]:
    config = write_config(tmp_path)
    report = tmp_path / "modules.json"
    argv = [sys.executable, "-c", _PROBE, str(report), "run", "--profile", "test", "--config", str(config), "--", *coverage_command()]
    done = subprocess.run(argv, input=_HANDSHAKE, capture_output=True, timeout=60, env=env)
    return json.loads(report.read_text()), done


def test_a_stdio_session_imports_neither_anyio_nor_the_cli_only_audit_modules(tmp_path):
    modules, done = _run(tmp_path)
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert [answer["id"] for answer in answers] == [1, 2] and all("result" in answer for answer in answers), done.stderr
    loaded = set(modules)
    unexpected = {
        name
        for name in loaded
        if name.split(".")[0] in ("anyio", "mcp", "httpx2", "opentelemetry", "pythonjsonlogger", "jsonschema")
        or name in ("mcp_guard.audit.follow", "mcp_guard.audit.query", "mcp_guard.audit.verify", "mcp_guard.checks.catalog_pin.lock")
        or name.startswith(("mcp_guard.cli_commands.audit", "mcp_guard.oauth", "mcp_guard.checks.budgets"))
    }
    assert unexpected == set()


def test_json_log_format_writes_stderr_lines_as_json_objects(tmp_path):
    env = {**os.environ, "MCP_GUARD_LOG_FORMAT": "json", "MCP_GUARD_LOG_LEVEL": "INFO"}
    modules, done = _run(tmp_path, env)
    lines = [json.loads(line) for line in done.stderr.decode().splitlines() if line.strip()]
    assert lines, done.stderr
    assert all({"time", "level", "name", "message"} <= set(line) for line in lines)
    assert any(line["message"].startswith("config ") and line["level"] == "INFO" for line in lines)
    assert "pythonjsonlogger" in {name.split(".")[0] for name in modules}
