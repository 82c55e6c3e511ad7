"""Drive `mcp-guard run` as a real process over real pipes, speaking raw JSON lines.

The raw client sends exactly the bytes a test gives it, so malformed, batched and oversized
input can be tried, and it reads every line the guard writes back.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import yaml
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

FAKE_TEST_KEY = "sk_test_51FAKEmcpGuardTestKey0000000000000000000000aBcD"
COVERAGE_SERVER = Path(__file__).resolve().parent.parent / "upstreams" / "coverage_server.py"
MCP_GUARD = str(Path(sys.executable).parent / "mcp-guard")


def write_config(tmp_path: Path, *, profile: dict[str, Any] | None = None, upstream: dict[str, Any] | None = None,
                 limits: dict[str, Any] | None = None) -> Path:
    """A config with one profile named `test` (read-only by default) auditing into tmp_path."""
    body: dict[str, Any] = {
        "mode": "test",
        "api_key": FAKE_TEST_KEY,
        "allowed_operations": ["read", "list", "search"],
        "blocked_operations": ["create", "update", "delete"],
        "audit": {"dir": str(tmp_path / "audit"), "retention_days": 30},
    }
    body.update(profile or {})
    config: dict[str, Any] = {"profiles": {"test": body}}
    if upstream is not None:
        config["upstream"] = upstream
    if limits is not None:
        config["limits"] = limits
    path = tmp_path / "mcp-guard.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def diagnostic_profile() -> dict[str, Any]:
    """Everything allowed and nothing redacted: for transparency tests only."""
    return {
        "allowed_operations": ["read", "list", "search", "create", "update", "delete", "other"],
        "blocked_operations": [],
        "allowed_methods": [
            "initialize", "ping", "tools/list", "tools/call", "resources/list", "resources/templates/list",
            "resources/read", "resources/subscribe", "resources/unsubscribe", "prompts/list", "prompts/get",
            "completion/complete", "logging/setLevel",
        ],
        "redaction": "off",
    }


def coverage_command() -> list[str]:
    return [sys.executable, str(COVERAGE_SERVER)]


def sandbox_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "mcp_guard.sandbox", *args]


class RawClient:
    """A JSON-lines client attached to a running `mcp-guard run` process."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self._next_id = 0
        self.inbox: list[dict[str, Any]] = []  # messages read while waiting for something else

    @classmethod
    async def start(cls, config: Path, upstream: list[str] | None = None, *, profile: str = "test",
                    env: dict[str, str] | None = None, file_size_limit: int | None = None) -> RawClient:
        """`file_size_limit` caps the files mcp-guard may grow (RLIMIT_FSIZE): a disk that fills up."""
        args = [MCP_GUARD, "run", "--profile", profile, "--config", str(config)]
        if upstream:
            args += ["--", *upstream]
        process = await asyncio.create_subprocess_exec(
            *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env={**os.environ, **(env or {})}, limit=1 << 24,
            preexec_fn=(lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))) if file_size_limit else None,
        )
        return cls(process)

    async def send_bytes(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)
        await self.process.stdin.drain()

    async def send(self, message: dict[str, Any]) -> None:
        await self.send_bytes(json.dumps(message).encode() + b"\n")

    async def request(self, method: str, params: dict[str, Any] | None = None, *, id: Any = None) -> Any:
        """Send a request; return its id (answers are read with `response`)."""
        if id is None:
            self._next_id += 1
            id = self._next_id
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": id, "method": method}
        if params is not None:
            message["params"] = params
        await self.send(message)
        return id

    async def call(self, method: str, params: dict[str, Any] | None = None, timeout: float = 10) -> dict[str, Any]:
        """Send a request and wait for its answer (other messages are kept in `inbox`)."""
        request_id = await self.request(method, params)
        return await self.response(request_id, timeout)

    async def receive(self, timeout: float = 10) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        if not line:
            raise EOFError("mcp-guard closed its stdout")
        return json.loads(line)

    async def response(self, request_id: Any, timeout: float = 10) -> dict[str, Any]:
        for i, message in enumerate(self.inbox):
            if "method" not in message and message.get("id") == request_id:
                return self.inbox.pop(i)
        async with asyncio.timeout(timeout):
            while True:
                message = await self.receive(timeout)
                if "method" not in message and message.get("id") == request_id:
                    return message
                self.inbox.append(message)

    async def next_matching(self, predicate, timeout: float = 10) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        for i, message in enumerate(self.inbox):
            if predicate(message):
                return self.inbox.pop(i)
        async with asyncio.timeout(timeout):
            while True:
                message = await self.receive(timeout)
                if predicate(message):
                    return message
                self.inbox.append(message)

    async def initialize(self, **overrides: Any) -> dict[str, Any]:
        params = {
            "protocolVersion": "2025-11-25",
            "capabilities": {"sampling": {}, "elicitation": {}, "roots": {"listChanged": True}},
            "clientInfo": {"name": "raw-test-client", "version": "9.9"},
        }
        params.update(overrides)
        response = await self.call("initialize", params)
        await self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return response

    async def close_stdin(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()

    async def wait(self, timeout: float = 10) -> int:
        return await asyncio.wait_for(self.process.wait(), timeout)

    async def stderr_text(self) -> str:
        assert self.process.stderr is not None
        return (await self.process.stderr.read()).decode(errors="replace")

    async def aclose(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


@asynccontextmanager
async def sdk_session(config: Path, upstream: list[str], *, profile: str = "test", env: dict[str, str] | None = None,
                      errlog: Any = None, **session_kwargs: Any) -> AsyncIterator[ClientSession]:
    """The MCP SDK's own client, talking to `mcp-guard run` over its stdio pipes."""
    params = StdioServerParameters(
        command=MCP_GUARD,
        args=["run", "--profile", profile, "--config", str(config), "--", *upstream],
        env={name: os.environ[name] for name in ("MCP_GUARD_STATE_DIR", "MCP_GUARD_PSEUDONYM_KEY_FILE") if name in os.environ} | (env or {}),
    )
    async with stdio_client(params, errlog=errlog or sys.stderr) as (read, write):
        async with ClientSession(read, write, **session_kwargs) as session:
            await session.initialize()
            yield session


def text_of(result: Any) -> str:
    return "\n".join(getattr(item, "text", "") for item in result.content)


def journal_entries(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def audit_records(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for file in sorted(directory.glob("*.jsonl")) for line in file.read_text().splitlines() if line]

PROBE_SERVER = Path(__file__).resolve().parent.parent / "upstreams" / "probe_server.py"


def probe_command(*args: str) -> list[str]:
    return [sys.executable, str(PROBE_SERVER), *args]


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes: it only waits for its parent to reap it.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ", 1)[1][0] != "Z"


@asynccontextmanager
async def http_sandbox(*argv: str) -> AsyncIterator[str]:
    """A sandbox command serving streamable HTTP on a free port (`--http 0` among `argv`), as a
    child process until the block ends; yields the URL it announces on stderr."""
    import re

    process = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    assert process.stderr is not None
    try:
        async with asyncio.timeout(20):
            while True:
                line = (await process.stderr.readline()).decode()
                assert line, "the sandbox exited before listening"
                if match := re.search(r"listening (http://\S+)", line):
                    break
        yield match.group(1)
    finally:
        process.terminate()
        await process.wait()
