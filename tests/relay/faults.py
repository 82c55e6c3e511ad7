"""Helpers for the fault, hostile-input and shutdown tests (issue 10): the hostile upstream, and
ways to prove "exactly one answer" without sleeping."""

from __future__ import annotations

import fcntl
import json
import os
import queue
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path
from typing import IO, Any

from tests.relay.harness import MCP_GUARD, RawClient

PIPE_FULL_BYTES = 40_000  # a Linux pipe holds 64 KiB, in pages: 8 KiB answers stop fitting near 48 KiB
HOSTILE_UPSTREAM = Path(__file__).resolve().parent.parent / "upstreams" / "hostile_upstream.py"
HOSTILE_TOOLS = ("raw", "ask_raw", "flood_stderr", "echo", "hang", "die")


def hostile_command(*args: str) -> list[str]:
    return [sys.executable, str(HOSTILE_UPSTREAM), *args]


def hostile_profile(**extra: Any) -> dict[str, Any]:
    """The default read-only profile (redaction on), with the hostile upstream's tools as reads."""
    return {"tools": {name: {"operation": "read"} for name in HOSTILE_TOOLS}, **extra}


def strict_json(line: bytes | str) -> Any:
    """Parse as JSON allows it: no NaN, no Infinity (Python's json accepts both)."""

    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(line, parse_constant=refuse)


async def answers_through_fence(client: RawClient, *, seconds: float = 10) -> list[dict[str, Any]]:
    """Every message up to the answer of a `hang` call sent now (the profile's request_timeout
    must be short): any timer of a request sent earlier fires before the fence's, so a second
    answer to an earlier request would be among these."""
    fence = await client.request("tools/call", {"name": "hang", "arguments": {}}, id="fence")
    seen: list[dict[str, Any]] = []
    while True:
        message = await client.receive(seconds)
        if message.get("id") == fence and "method" not in message:
            assert message["error"]["code"] == -32001, message
            return seen
        seen.append(message)


def received_lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def guard_argv(config: Path, upstream: list[str]) -> list[str]:
    return [MCP_GUARD, "run", "--profile", "test", "--config", str(config), "--", *upstream]


class GuardPopen:
    """`mcp-guard run` as a plain process whose pipes the test controls byte by byte: it may read
    stdout (through a thread, with timeouts) or leave it unread on purpose, and the same for stderr."""

    def __init__(self, argv: list[str], *, read_stdout: bool = True, env: dict[str, str] | None = None, **popen: Any) -> None:
        popen.setdefault("stdin", subprocess.PIPE)
        popen.setdefault("stdout", subprocess.PIPE)
        popen.setdefault("stderr", subprocess.DEVNULL)
        self.process = subprocess.Popen(argv, env={**os.environ, **(env or {})}, **popen)
        self.lines: queue.Queue[bytes] = queue.Queue()
        self.inbox: list[dict[str, Any]] = []
        if read_stdout and self.process.stdout is not None:
            threading.Thread(target=_pump_lines, args=(self.process.stdout, self.lines), daemon=True).start()

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message).encode() + b"\n")
        self.process.stdin.flush()

    def request(self, request_id: Any, method: str, params: dict[str, Any] | None = None) -> None:
        self.send({"jsonrpc": "2.0", "id": request_id, "method": method, **({"params": params} if params is not None else {})})

    def answer(self, request_id: Any, timeout: float = 10) -> dict[str, Any]:
        """The answer to `request_id` (other messages are kept in `inbox`); raises queue.Empty on timeout."""
        for message in self.inbox:
            if message.get("id") == request_id and "method" not in message:
                self.inbox.remove(message)
                return message
        while True:
            line = self.lines.get(timeout=timeout)
            if not line:
                raise EOFError("mcp-guard closed its stdout")
            message = json.loads(line)
            if message.get("id") == request_id and "method" not in message:
                return message
            self.inbox.append(message)

    def initialize(self) -> None:
        self.request("init", "initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "faults", "version": "1"}})
        assert "result" in self.answer("init", timeout=30)
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def close_stdin(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _pump_lines(stream: IO[bytes], lines: queue.Queue[bytes]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(b"")


def initialize_message(request_id: Any = "init") -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "faults", "version": "1"}}}


def bytes_waiting(fd: int) -> int:
    """How many bytes sit unread in a pipe (to know it is full without reading it)."""
    buffer = bytearray(4)
    fcntl.ioctl(fd, termios.FIONREAD, buffer)
    return int.from_bytes(buffer, sys.byteorder)


def wait_until(condition: Any, seconds: float = 15) -> None:
    """Poll a condition the test cannot be told about (a pipe filling up), with a deadline."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)
