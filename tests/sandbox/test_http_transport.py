"""`--http 0`: the sandbox over streamable HTTP, as the hosted https://mcp.stripe.com is reached."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
from anyio.abc import Process
from anyio.streams.text import TextReceiveStream
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from tests.sandbox.conftest import journal_reader, result_json

pytestmark = pytest.mark.anyio


async def _announced_url(process: Process) -> str:
    """Read stderr until the sandbox announces its URL."""
    assert process.stderr is not None
    seen = ""
    async for chunk in TextReceiveStream(process.stderr):
        seen += chunk
        for line in seen.splitlines():
            if line.startswith("listening "):
                return line.split(" ", 1)[1].strip()
    raise AssertionError(f"sandbox exited without announcing a URL; stderr: {seen!r}")


@asynccontextmanager
async def http_sandbox(*args: str) -> AsyncIterator[str]:
    process = await anyio.open_process(
        [sys.executable, "-m", "mcp_guard.sandbox", "--http", "0", *args],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield await _announced_url(process)
    finally:
        process.terminate()
        with anyio.move_on_after(5):
            await process.wait()
        if process.returncode is None:
            process.kill()
        await process.aclose()


@asynccontextmanager
async def http_session(url: str, headers: dict[str, str] | None = None) -> AsyncIterator[ClientSession]:
    async with (
        create_mcp_http_client(headers=headers) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


async def test_http_mode_serves_the_catalog_and_executes_writes_at_a_free_port(
        tmp_path: Path) -> None:
    journal = tmp_path / "writes.jsonl"
    with anyio.fail_after(25):
        async with http_sandbox("--journal", str(journal)) as url:
            assert url.startswith("http://127.0.0.1:") and url.endswith("/mcp")
            async with http_session(url, {"Stripe-Account": "acct_1SandboxConnected02"}) as session:
                names = {t.name for t in (await session.list_tools()).tools}
                customers = result_json(await session.call_tool("stripe_api_read", {
                    "stripe_api_operation_id": "GetCustomers", "parameters": {"limit": 2}}))
                coupon = result_json(await session.call_tool("stripe_api_write", {
                    "stripe_api_operation_id": "PostCoupons",
                    "parameters": {"percent_off": 15, "duration": "once", "name": "HTTP15"}}))
            async with http_session(url, {"Stripe-Account": "not-an-account"}) as session:
                refused = await session.call_tool("stripe_api_read", {
                    "stripe_api_operation_id": "GetBalance"})
    assert {"stripe_api_read", "stripe_api_write"} <= names
    assert len(customers["data"]) == 2 and customers["has_more"] is True
    assert coupon["object"] == "coupon" and coupon["percent_off"] == 15
    assert journal_reader(journal)() == [{"tool": "stripe_api_write", "operation": "PostCoupons",
                                          "object": "coupon", "id": coupon["id"]}]
    assert refused.is_error is True  # the Stripe-Account header reached the tool
    assert "Stripe-Account" in result_json(refused)["error"]["message"]
