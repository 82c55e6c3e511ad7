"""Issue 10, item 15: MCP tasks (2025-11-25) are refused up front, so clients fall back.

Through `mcp-guard run` to an upstream that declares the `tasks` capability and would answer a
task-augmented tools/call with a task handle: the client never sees the capability, a request
carrying `task` is refused with -32602 and never forwarded, and plain calls work.
"""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest

from tests.relay.faults import hostile_command, hostile_profile, received_lines
from tests.relay.harness import RawClient, audit_records, write_config

pytestmark = pytest.mark.anyio


async def test_task_augmentation_is_hidden_and_refused_so_that_clients_fall_back_to_plain_calls(tmp_path: Path) -> None:
    received = tmp_path / "received.jsonl"
    client = await RawClient.start(write_config(tmp_path, profile=hostile_profile()), hostile_command("--tasks", "--received", str(received)))
    try:
        with anyio.fail_after(20):
            initialized = await client.initialize()
            as_task = await client.call("tools/call", {"name": "echo", "arguments": {"text": "hi"}, "task": {"ttl": 60000}})
            get = await client.call("tasks/get", {"taskId": "task-1"})
            plain = await client.call("tools/call", {"name": "echo", "arguments": {"text": "hi"}})
    finally:
        await client.aclose()
    assert "tasks" not in initialized["result"]["capabilities"] and "tools" in initialized["result"]["capabilities"]
    assert as_task["error"]["code"] == -32602 and "without 'task'" in as_task["error"]["message"]
    assert get["error"]["code"] == -32601
    assert plain["result"]["content"][0]["text"] == '{"text": "hi"}'
    calls = [json.loads(line)["params"] for line in received_lines(received) if '"tools/call"' in line]
    assert calls == [{"name": "echo", "arguments": {"text": "hi"}}]  # only the plain call reached the upstream
    assert next(r["rule"] for r in audit_records(tmp_path / "audit") if r["method"] == "tools/call") == "mcp.tasks"
