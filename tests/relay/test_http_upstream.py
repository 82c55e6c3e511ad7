"""The upstream over streamable HTTP (how https://mcp.stripe.com is reached): mcp-guard connects
by URL with the key as a bearer token, and the same policy and redaction apply."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.relay.harness import FAKE_TEST_KEY, MCP_GUARD, audit_records, http_sandbox, text_of, write_config

pytestmark = pytest.mark.anyio



@pytest.fixture
async def sandbox_url() -> AsyncIterator[str]:
    async with http_sandbox(sys.executable, "-m", "mcp_guard.sandbox", "--catalog", "hosted", "--http", "0") as url:
        yield url


async def test_guard_reaches_an_http_upstream_by_url(tmp_path: Path, sandbox_url: str) -> None:
    config = write_config(tmp_path, upstream={"url": sandbox_url, "request_timeout": 10})
    params = StdioServerParameters(command=MCP_GUARD, args=["run", "--profile", "test", "--config", str(config)])
    with anyio.fail_after(30):
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            names = {tool.name for tool in (await session.list_tools()).tools}
            read_result = await session.call_tool("stripe_api_read", {"stripe_api_operation_id": "GetCustomers", "parameters": {"limit": 2}})
            write_result = await session.call_tool("stripe_api_write", {"stripe_api_operation_id": "PostCustomers", "parameters": {}})
    assert "stripe_api_read" in names and "stripe_api_write" not in names
    customers = json.loads(text_of(read_result))["data"]
    assert [c["id"][:4] for c in customers] == ["cus_", "cus_"]
    assert all(c["email"] in (None, "[redacted:email]") for c in customers)
    assert write_result.is_error is True
    records = audit_records(tmp_path / "audit")
    assert {r["upstream"] for r in records} == {sandbox_url}
    assert all(FAKE_TEST_KEY not in json.dumps(r) for r in records)
