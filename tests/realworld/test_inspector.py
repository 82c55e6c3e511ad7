"""A real MCP client, the MCP Inspector CLI (pinned npm), drives `mcp-guard run`.

The upstream is the project's sandbox (hosted catalog) over stdio. The config is found through
$MCP_GUARD_CONFIG, as a desktop client would pass it, because the Inspector claims `--config`
for itself and splits its own command line at the first `--`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from realworld_support import FAKE_RESTRICTED_KEY, MCP_GUARD, audit_records, guard_env, require_node_tools

import nodetools
from mcp_guard.sandbox import PLANTED_CUSTOMER_EMAIL, PLANTED_SECRET_KEY, build_fixtures

pytestmark = pytest.mark.realworld

INSPECTOR = "@modelcontextprotocol/inspector-cli"
FIRST_CUSTOMER = build_fixtures()["customers"][0]


@pytest.fixture
def guarded(tmp_path: Path) -> Path:
    """A read-only `test` profile whose upstream is the sandbox (stdio) with a write journal."""
    require_node_tools(INSPECTOR)
    config = {
        "upstream": {"command": sys.executable,
                     "args": ["-m", "mcp_guard.sandbox", "--journal", str(tmp_path / "journal.jsonl")]},
        "profiles": {"test": {
            "mode": "test",
            "api_key": FAKE_RESTRICTED_KEY,
            "allowed_operations": ["read", "list", "search"],
            "blocked_operations": ["create", "update", "delete"],
            "audit": {"dir": str(tmp_path / "audit")},
        }},
    }
    path = tmp_path / "mcp-guard.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def inspector(config: Path, *method_args: str) -> dict[str, Any]:
    """`node <inspector-cli> --cli mcp-guard run --profile test --method ...`; its JSON answer."""
    command = nodetools.node_command(INSPECTOR, "--cli", MCP_GUARD, "run", "--profile", "test", *method_args)
    env = {**os.environ, **guard_env(), "MCP_GUARD_CONFIG": str(config)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=False)
    # Tool errors are answers, not failures: the Inspector exits 0 and prints isError.
    assert done.returncode == 0, f"inspector exited {done.returncode}: {done.stderr[-2000:]}"
    return json.loads(done.stdout)


def text(result: dict[str, Any]) -> str:
    return "\n".join(item.get("text", "") for item in result["content"])


def test_inspector_lists_only_read_tools(guarded: Path, tmp_path: Path) -> None:
    names = {tool["name"] for tool in inspector(guarded, "--method", "tools/list")["tools"]}
    assert {"stripe_api_read", "get_balance_summary"} <= names
    assert not names & {"stripe_api_write", "create_refund"}
    assert [r["method"] for r in audit_records(tmp_path / "audit")] == ["initialize", "tools/list"]


def test_inspector_allowed_read_returns_redacted_data(guarded: Path) -> None:
    result = inspector(guarded, "--method", "tools/call", "--tool-name", "stripe_api_read",
                       "--tool-arg", "stripe_api_operation_id=GetCustomers", "--tool-arg", 'parameters={"limit": 2}')
    assert not result.get("isError")
    body = text(result)
    assert FIRST_CUSTOMER["id"] in body
    assert PLANTED_CUSTOMER_EMAIL not in body and PLANTED_SECRET_KEY not in body


def test_inspector_denied_write_is_an_error_and_never_executes(guarded: Path, tmp_path: Path) -> None:
    result = inspector(guarded, "--method", "tools/call", "--tool-name", "stripe_api_write",
                       "--tool-arg", "stripe_api_operation_id=PostRefunds",
                       "--tool-arg", 'parameters={"payment_intent": "pi_FAKE"}')
    assert result["isError"] is True
    assert "denied" in text(result)
    assert not (tmp_path / "journal.jsonl").exists(), "the sandbox executed a write"
    calls = [r for r in audit_records(tmp_path / "audit") if r["method"] == "tools/call"]
    assert [(r["tool"], r["decision"]) for r in calls] == [("stripe_api_write", "deny")]
