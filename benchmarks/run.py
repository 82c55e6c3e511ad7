"""Benchmarks: tools/call through mcp-guard against a direct connection to the same upstream.

Run with `make bench` (or `.venv/bin/python benchmarks/run.py`). Everything is measured in one
run on this machine, and reported as the added latency and ratios against the direct connection:
the machines are noisy, so absolute numbers mean little across runs.

Scenarios: sequential calls (latency p50/p99) and 8 concurrent callers (throughput), for a small
result (a balance, ~0.4 KB) and a 4 KB customer list. mcp-guard runs with its shipped test profile
semantics: policy, redaction and audit all on.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
UPSTREAM = [sys.executable, str(HERE / "bench_upstream.py")]
MCP_GUARD = str(Path(sys.executable).parent / "mcp-guard")


@dataclass
class Sample:
    latencies: list[float]  # seconds, one per call
    wall: float  # seconds for the whole batch

    def p(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.wall


class Connection:
    """A raw JSON-lines MCP client over a child's pipes, pipelining requests by id."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.waiting: dict[int, asyncio.Future] = {}
        self.ids = 0
        self.reader = asyncio.ensure_future(self._read())

    @classmethod
    async def start(cls, argv: list[str], env: dict[str, str]) -> Connection:
        process = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
            env=env, limit=1 << 26,
        )
        connection = cls(process)
        await connection.call("initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}})
        connection.process.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
        return connection

    async def _read(self) -> None:
        while line := await self.process.stdout.readline():
            message = json.loads(line)
            future = self.waiting.pop(message.get("id"), None)
            if future is not None:
                future.set_result(message)

    async def call(self, method: str, params: dict) -> dict:
        self.ids += 1
        future = asyncio.get_running_loop().create_future()
        self.waiting[self.ids] = future
        self.process.stdin.write(json.dumps({"jsonrpc": "2.0", "id": self.ids, "method": method, "params": params}).encode() + b"\n")
        await self.process.stdin.drain()
        message = await future
        if "error" in message or message["result"].get("isError"):
            raise RuntimeError(f"benchmark call failed: {message}")
        return message

    async def close(self) -> None:
        self.process.stdin.close()
        await self.process.wait()
        self.reader.cancel()


async def measure(connection: Connection, tool: str, calls: int, callers: int) -> Sample:
    latencies: list[float] = []

    async def caller(n: int) -> None:
        for _ in range(n):
            start = time.perf_counter()
            await connection.call("tools/call", {"name": tool, "arguments": {}})
            latencies.append(time.perf_counter() - start)

    for _ in range(50):  # warm up: imports, caches, the first audit file
        await connection.call("tools/call", {"name": tool, "arguments": {}})
    start = time.perf_counter()
    await asyncio.gather(*(caller(calls // callers) for _ in range(callers)))
    return Sample(latencies, time.perf_counter() - start)


def guard_config(directory: Path) -> Path:
    config = {
        "profiles": {
            "bench": {
                "mode": "test",
                "api_key": "sk_test_51FAKEbenchKey000000000000000000000000000000",
                "allowed_operations": ["read", "list", "search"],
                "blocked_operations": ["create", "update", "delete"],
                "audit": {"dir": str(directory / "audit"), "retention_days": 1},
            }
        }
    }
    path = directory / "bench.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


async def scenario(tool: str, result_bytes: int, calls: int, callers: int, directory: Path) -> tuple[Sample, Sample]:
    upstream = [*UPSTREAM, "--result-bytes", str(result_bytes)]
    env = {**os.environ, "MCP_GUARD_LOG_LEVEL": "WARNING", "MCP_GUARD_PSEUDONYM_KEY_FILE": str(directory / "key")}
    guarded = [MCP_GUARD, "run", "--profile", "bench", "--config", str(guard_config(directory)), "--", *upstream]
    results = []
    for argv in (upstream, guarded):
        connection = await Connection.start(argv, env)
        try:
            results.append(await measure(connection, tool, calls, callers))
        finally:
            await connection.close()
    return results[0], results[1]


def report(rows: list[tuple[str, Sample, Sample]]) -> str:
    lines = [
        "| scenario | direct p50 | guard p50 | added p50 | added p99 | throughput ratio (guard/direct) |",
        "|---|---|---|---|---|---|",
    ]
    for name, direct, guard in rows:
        lines.append(
            f"| {name} | {direct.p(0.5) * 1e3:.3f} ms | {guard.p(0.5) * 1e3:.3f} ms | "
            f"+{(guard.p(0.5) - direct.p(0.5)) * 1e3:.3f} ms | +{(guard.p(0.99) - direct.p(0.99)) * 1e3:.3f} ms | "
            f"{guard.throughput / direct.throughput:.2f} ({guard.throughput:.0f}/s vs {direct.throughput:.0f}/s) |"
        )
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000, help="calls per scenario (default 2000)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, tool, size in (("small (0.4 KB)", "get_balance_summary", 4096), ("4 KB list", "list_customers", 4096)):
            for callers in (1, 8):
                directory = Path(tmp) / f"{tool}-{callers}"
                directory.mkdir()
                direct, guard = await scenario(tool, size, args.calls, callers, directory)
                name = f"{label}, {'sequential' if callers == 1 else f'{callers} concurrent'}"
                rows.append((name, direct, guard))
                print(f"measured: {name}", file=sys.stderr)
    print(report(rows))


if __name__ == "__main__":
    asyncio.run(main())
