"""Raw JSON lines over real pipes: the coverage upstream, and the sandbox's clean stdout."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from anyio.abc import Process
from anyio.streams.buffered import BufferedByteReceiveStream

pytestmark = pytest.mark.anyio

COVERAGE_SERVER = Path(__file__).resolve().parents[1] / "upstreams" / "coverage_server.py"
INITIALIZE_PARAMS = {"protocolVersion": "2025-06-18", "capabilities": {"sampling": {},
                                                                      "x-client-cap": {"z": 1}},
                     "clientInfo": {"name": "raw-test", "version": "9.9", "x-client": True}}


class Pipe:
    """One JSON-RPC line per message over a child process's stdin/stdout."""

    def __init__(self, process: Process) -> None:
        assert process.stdin is not None and process.stdout is not None
        self.process = process
        self.reader = BufferedByteReceiveStream(process.stdout)

    async def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        await self.process.stdin.send(json.dumps(message).encode() + b"\n")

    async def receive(self) -> dict[str, Any]:
        return json.loads(await self.reader.receive_until(b"\n", 1 << 24))

    async def call(self, request_id: int, method: str, params: dict[str, Any] | None = None) -> Any:
        await self.send({"jsonrpc": "2.0", "id": request_id, "method": method,
                         **({"params": params} if params is not None else {})})
        return await self.receive()


async def test_coverage_server_answers_initialize_and_pages_tools_over_a_pipe() -> None:
    with anyio.fail_after(15):
        async with await anyio.open_process([sys.executable, str(COVERAGE_SERVER)],
                                            stderr=subprocess.PIPE) as process:
            pipe = Pipe(process)
            init = await pipe.call(1, "initialize", INITIALIZE_PARAMS)
            page1 = await pipe.call(2, "tools/list")
            page2 = await pipe.call(3, "tools/list", {"cursor": page1["result"]["nextCursor"]})
            echoed = await pipe.call(4, "resources/read", {"uri": "coverage://initialize"})
            unknown = await pipe.call(5, "no/such/method")
            await pipe.send({"jsonrpc": "2.0", "id": 6, "method": "tools/call",
                             "params": {"name": "ask_sampling", "arguments": {"prompt": "hi"}}})
            sampling = await pipe.receive()
            await pipe.send({"jsonrpc": "2.0", "id": sampling["id"], "result": {
                "role": "assistant", "model": "m", "content": {"type": "text", "text": "hello"}}})
            sampled = await pipe.receive()
            await pipe.send({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                             "params": {"name": "die"}})
            assert await process.wait() == 7
            assert process.stderr is not None
            stderr = (await BufferedByteReceiveStream(process.stderr).receive_until(
                b"exit code 7", 1 << 16)).decode()
    result = init["result"]
    assert result["serverInfo"] == {"name": "coverage", "version": "1.0", "x-vendor": "kept"}
    assert result["x-extra"] == {"a": 1}
    assert result["capabilities"]["resources"] == {"subscribe": True, "listChanged": True}
    assert page1["result"]["nextCursor"] == "page2" and "nextCursor" not in page2["result"]
    names = [t["name"] for t in page1["result"]["tools"] + page2["result"]["tools"]]
    assert {"echo", "slow", "ask_sampling", "hang", "die", "vendor", "structured"} <= set(names)
    assert json.loads(echoed["result"]["contents"][0]["text"]) == INITIALIZE_PARAMS
    assert unknown["error"]["code"] == -32601
    assert sampling["method"] == "sampling/createMessage"
    assert sampled == {"jsonrpc": "2.0", "id": 6,
                       "result": {"content": [{"type": "text", "text": "hello"}]}}
    assert "dying on request" in stderr


async def test_sandbox_stdout_carries_only_json_rpc_and_it_exits_when_stdin_closes() -> None:
    with anyio.fail_after(15):
        async with await anyio.open_process([sys.executable, "-m", "mcp_guard.sandbox"],
                                            stderr=subprocess.DEVNULL) as process:
            pipe = Pipe(process)
            init = await pipe.call(1, "initialize", INITIALIZE_PARAMS)
            await pipe.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
            tools = await pipe.call(2, "tools/list")
            assert process.stdin is not None
            await process.stdin.aclose()
            assert await process.wait() == 0
            rest = b""
            try:
                while chunk := await process.stdout.receive():  # type: ignore[union-attr]
                    rest += chunk
            except anyio.EndOfStream:
                pass
    assert init["result"]["serverInfo"]["name"] == "stripe-sandbox"
    assert len(tools["result"]["tools"]) == 11
    assert rest == b""  # nothing but the two answers was ever written to stdout
