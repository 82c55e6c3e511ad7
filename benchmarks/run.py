"""Benchmarks: tools/call through mcp-guard against a direct connection to the same upstream.

Run with `make bench` (or `.venv/bin/python benchmarks/run.py`). Everything is measured in one
run on this machine, and reported as the added latency and ratios against the direct connection:
the machines are noisy, so absolute numbers mean little across runs.

Contenders on the same upstream: a direct connection, mcp-guard (policy, redaction and audit all
on), and FastMCP's bare proxy (`create_proxy`, when benchmarks/.venv-peers exists). Scenarios:
sequential calls (latency p50/p99) and 8 concurrent callers (throughput), for a small result (a
balance, ~0.4 KB), a 4 KB customer list and a 1 MB customer list.
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

    for _ in range(min(50, calls)):  # warm up: imports, caches, the first audit file
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


PEERS_PYTHON = HERE / ".venv-peers" / "bin" / "python"


def contenders(directory: Path, upstream: list[str]) -> dict[str, list[str]]:
    """Each way of reaching the same upstream: directly, through mcp-guard, through FastMCP's proxy."""
    found = {
        "direct": upstream,
        "mcp-guard": [MCP_GUARD, "run", "--profile", "bench", "--config", str(guard_config(directory)), "--", *upstream],
    }
    if PEERS_PYTHON.exists():
        found["fastmcp proxy"] = [str(PEERS_PYTHON), str(HERE / "fastmcp_proxy.py"), *upstream]
    return found


async def scenario(tool: str, result_bytes: int, calls: int, callers: int, directory: Path) -> dict[str, Sample]:
    upstream = [*UPSTREAM, "--result-bytes", str(result_bytes)]
    env = {**os.environ, "MCP_GUARD_LOG_LEVEL": "WARNING", "MCP_GUARD_PSEUDONYM_KEY_FILE": str(directory / "key")}
    samples = {}
    for name, argv in contenders(directory, upstream).items():
        connection = await Connection.start(argv, env)
        try:
            samples[name] = await measure(connection, tool, calls, callers)
        finally:
            await connection.close()
    return samples


def report(rows: list[tuple[str, dict[str, Sample]]]) -> str:
    lines = [
        "| scenario | through | p50 | added p50 | added p99 | throughput | vs direct |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, samples in rows:
        direct = samples["direct"]
        for peer, sample in samples.items():
            added = "" if peer == "direct" else f"+{(sample.p(0.5) - direct.p(0.5)) * 1e3:.3f} ms"
            added99 = "" if peer == "direct" else f"+{(sample.p(0.99) - direct.p(0.99)) * 1e3:.3f} ms"
            lines.append(
                f"| {name} | {peer} | {sample.p(0.5) * 1e3:.3f} ms | {added} | {added99} | "
                f"{sample.throughput:.0f}/s | {sample.throughput / direct.throughput:.2f} |"
            )
    return "\n".join(lines)


SCENARIOS = (  # label, tool, result size, calls
    ("small (0.4 KB)", "get_balance_summary", 4096, 1.0),
    ("4 KB list", "list_customers", 4096, 1.0),
    ("1 MB list", "list_customers", 1 << 20, 0.05),
)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000, help="calls per small scenario (1 MB scenarios make 5%% of these)")
    args = parser.parse_args()
    if not PEERS_PYTHON.exists():
        print("note: benchmarks/.venv-peers is missing (make bench creates it): FastMCP is left out", file=sys.stderr)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, tool, size, share in SCENARIOS:
            for callers in (1, 8):
                directory = Path(tmp) / f"{label}-{callers}".replace(" ", "_")
                directory.mkdir()
                calls = max(callers * 5, int(args.calls * share) // callers * callers)
                name = f"{label}, {'sequential' if callers == 1 else f'{callers} concurrent'}"
                rows.append((name, await scenario(tool, size, calls, callers, directory)))
                print(f"measured: {name} ({calls} calls each)", file=sys.stderr)
    print(report(rows))


if __name__ == "__main__":
    asyncio.run(main())
