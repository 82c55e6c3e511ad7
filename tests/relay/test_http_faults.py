"""Issue 10, item 9: a streamable-HTTP upstream that dies, hangs or refuses, through `mcp-guard run`.

As for a stdio upstream: when the HTTP upstream goes away (killed idle or in the middle of a call)
every pending request is answered -32000 with the cause, records are written and the guard exits
3, with no traceback. Ending the session (DELETE) on a hung server takes at most 2 s. An HTTP
error status is named in the client's error.
"""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.relay.faults import PIPE_FULL_BYTES, GuardPopen, bytes_waiting, initialize_message, wait_until
from tests.relay.harness import MCP_GUARD, RawClient, audit_records, write_config

pytestmark = pytest.mark.anyio

HTTP_UPSTREAM = Path(__file__).resolve().parent.parent / "upstreams" / "http_upstream.py"
HTTP_PROFILE = {"tools": {"echo": {"operation": "read"}, "hang": {"operation": "read"}}}


class HttpUpstream:
    def __init__(self, process: asyncio.subprocess.Process, url: str) -> None:
        self.process = process
        self.url = url

    async def next_line(self) -> str:
        assert self.process.stdout is not None
        return (await asyncio.wait_for(self.process.stdout.readline(), 10)).decode()

    def kill(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)


async def start_upstream(*args: str) -> HttpUpstream:
    """The fake HTTP upstream, or the built-in sandbox (`sandbox` as the only argument)."""
    if args == ("sandbox",):
        argv = [sys.executable, "-m", "mcp_guard.sandbox", "--catalog", "hosted", "--http", "0"]
        process = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        stream = process.stderr
    else:
        process = await asyncio.create_subprocess_exec(sys.executable, str(HTTP_UPSTREAM), *args, stdout=asyncio.subprocess.PIPE)
        stream = process.stdout
    assert stream is not None
    async with asyncio.timeout(20):
        while not (match := re.search(r"listening (http://\S+)", (await stream.readline()).decode())):
            pass
    return HttpUpstream(process, match.group(1))


@pytest.fixture
async def upstreams() -> AsyncIterator[list[HttpUpstream]]:
    started: list[HttpUpstream] = []
    yield started
    for upstream in started:
        upstream.kill()
        await upstream.process.wait()


async def guard_for(tmp_path: Path, upstream: HttpUpstream, *, profile: dict | None = None) -> RawClient:
    config = write_config(tmp_path, profile=profile or HTTP_PROFILE, upstream={"url": upstream.url, "request_timeout": 60})
    client = await RawClient.start(config)
    await client.initialize()
    return client


async def test_an_http_upstream_killed_while_idle_ends_the_next_call_with_the_cause_and_exit_3(tmp_path: Path, upstreams: list[HttpUpstream]) -> None:
    upstreams.append(sandbox := await start_upstream("sandbox"))
    client = await guard_for(tmp_path, sandbox, profile={})
    try:
        listed = await client.call("tools/list")
        assert listed["result"]["tools"]
        sandbox.kill()
        await sandbox.process.wait()
        started = time.monotonic()
        answer = await client.call("tools/call", {"name": "stripe_api_read", "arguments": {"stripe_api_operation_id": "GetCustomers", "parameters": {}}})
        code = await client.wait(10)
        elapsed = time.monotonic() - started
        stderr = await client.stderr_text()
    finally:
        await client.aclose()
    assert answer["error"]["code"] == -32000 and sandbox.url in answer["error"]["message"]
    assert "Error" in answer["error"]["message"]  # the cause, e.g. ConnectError: All connection attempts failed
    assert code == 3 and elapsed < 10 and "Traceback" not in stderr
    [record] = [r for r in audit_records(tmp_path / "audit") if r["method"] == "tools/call"]
    assert record["outcome"] == "upstream_died"


async def test_an_http_upstream_killed_mid_call_answers_the_pending_call_with_the_cause_and_exits_3(tmp_path: Path, upstreams: list[HttpUpstream]) -> None:
    upstreams.append(upstream := await start_upstream())
    client = await guard_for(tmp_path, upstream)
    try:
        pending = await client.request("tools/call", {"name": "hang", "arguments": {}})
        assert (await upstream.next_line()).startswith("hanging")  # the call is in flight
        upstream.kill()
        started = time.monotonic()
        answer = await client.response(pending)
        code = await client.wait(10)
        elapsed = time.monotonic() - started
        stderr = await client.stderr_text()
    finally:
        await client.aclose()
    assert answer["error"]["code"] == -32000 and upstream.url in answer["error"]["message"]
    assert code == 3 and elapsed < 5 and "Traceback" not in stderr
    assert [r["outcome"] for r in audit_records(tmp_path / "audit") if r["tool"] == "hang"] == ["upstream_died"]


async def test_an_http_upstream_that_hangs_on_delete_delays_the_exit_by_at_most_2_seconds(tmp_path: Path, upstreams: list[HttpUpstream]) -> None:
    upstreams.append(upstream := await start_upstream("--hang-delete"))
    client = await guard_for(tmp_path, upstream)
    try:
        assert (await client.call("tools/call", {"name": "echo", "arguments": {"x": 1}}))["result"]
        started = time.monotonic()
        await client.close_stdin()
        code = await client.wait(15)
        elapsed = time.monotonic() - started
    finally:
        await client.aclose()
    assert code == 0 and elapsed < 5


async def test_an_http_error_status_is_named_in_the_clients_error(tmp_path: Path, upstreams: list[HttpUpstream]) -> None:
    upstreams.append(upstream := await start_upstream("--initialize-status", "401"))
    config = write_config(tmp_path, profile=HTTP_PROFILE, upstream={"url": upstream.url})
    client = await RawClient.start(config)
    try:
        answer = await client.call("initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}})
    finally:
        await client.aclose()
    assert "answered HTTP 401: check the Stripe key" in answer["error"]["message"]  # (its host is redacted like any IP)


def test_an_http_upstream_killed_while_the_client_does_not_read_still_ends_within_5_seconds(tmp_path: Path) -> None:
    upstream = subprocess.Popen([sys.executable, str(HTTP_UPSTREAM)], stdout=subprocess.PIPE)
    try:
        assert upstream.stdout is not None
        url = re.search(r"listening (http://\S+)", upstream.stdout.readline().decode())
        assert url is not None
        config = write_config(tmp_path, profile=HTTP_PROFILE, upstream={"url": url.group(1), "request_timeout": 60})
        guard = GuardPopen([MCP_GUARD, "run", "--profile", "test", "--config", str(config)], read_stdout=False)
        try:
            guard.send(initialize_message())
            guard.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
            guard.request("pending", "tools/call", {"name": "hang", "arguments": {}})
            assert upstream.stdout.readline().startswith(b"hanging")
            for index in range(60):
                guard.request(index, "tools/call", {"name": "echo", "arguments": {"text": "x" * 8192}})
            assert guard.process.stdout is not None
            wait_until(lambda: bytes_waiting(guard.process.stdout.fileno()) >= PIPE_FULL_BYTES)  # type: ignore[union-attr]
            upstream.kill()
            started = time.monotonic()
            code = guard.process.wait(timeout=15)
            elapsed = time.monotonic() - started
        finally:
            guard.kill()
    finally:
        upstream.kill()
        upstream.wait()
    assert code == 3 and elapsed < 5
    assert [r["outcome"] for r in audit_records(tmp_path / "audit") if r["request_id"] == "pending"] == ["upstream_died"]
