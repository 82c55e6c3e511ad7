"""What `mcp-guard run` imports before it answers: `python -X importtime`, summarised.

Starts `mcp-guard run` on the benchmark's stdio upstream (the same profile as benchmarks/run.py:
policy, redaction and audit on, telemetry off) under `-X importtime`, completes the handshake and
the first `tools/list`, and prints: import time by top-level package (self time), the heaviest
modules by cumulative time, and which optional dependencies were imported at all. Timings are
medians over --runs starts, after one warm-up start that leaves .pyc files.

    .venv/bin/python benchmarks/importtime.py [--runs 5] [--top 25] [--depth 3]

-X importtime roughly doubles what each import costs: read the shares, not the absolute times.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from run import GUARD, Connection, bench_env, contenders, upstream_argv

# What a stdio upstream with telemetry off, pinning and budgets off does not need (issue 13, item 1):
# dependencies, and mcp-guard's own modules that only other subcommands or features use.
OPTIONAL = (
    "mcp", "mcp_types", "httpx2", "httpcore2", "starlette", "uvicorn", "opentelemetry.sdk", "jsonschema", "cryptography",
    "anyio", "pythonjsonlogger", "mcp_guard.audit.verify", "mcp_guard.audit.query", "mcp_guard.audit.follow",
    "mcp_guard.checks.catalog_pin.lock", "mcp_guard.checks.budgets", "mcp_guard.oauth",
)
LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


@dataclass(frozen=True)
class Import:
    module: str
    self_us: int
    cumulative_us: int
    depth: int


def parse(text: str) -> list[Import]:
    """The `-X importtime` lines of one process's stderr, in the order Python printed them."""
    found = []
    for line in text.splitlines():
        match = LINE.match(line)
        if match:
            found.append(Import(match[4], int(match[1]), int(match[2]), (len(match[3]) - 1) // 2))
    return found


async def one_start(argv: list[str], env: dict[str, str], log: Path) -> list[Import]:
    """Start the guard under -X importtime, answer one tools/list, stop it; its imports."""
    with log.open("w+b") as stderr:
        connection = await Connection.spawn([sys.executable, "-X", "importtime", *argv], env, stderr)
        try:
            await connection.handshake()
            await connection.call("tools/list")
        finally:
            await connection.close()
        stderr.seek(0)
        return parse(stderr.read().decode(errors="replace"))


def by_package(runs: list[list[Import]]) -> dict[str, float]:
    """Median self time (ms) per top-level package."""
    totals: dict[str, list[float]] = defaultdict(list)
    for imports in runs:
        per_run: dict[str, int] = defaultdict(int)
        for item in imports:
            per_run[item.module.split(".")[0]] += item.self_us
        for package, us in per_run.items():
            totals[package].append(us / 1e3)
    return {package: statistics.median(values) for package, values in totals.items()}


def heaviest(runs: list[list[Import]], depth: int) -> dict[str, float]:
    """Median cumulative time (ms) of each module imported at most `depth` levels deep."""
    found: dict[str, list[float]] = defaultdict(list)
    for imports in runs:
        for item in imports:
            if item.depth <= depth:
                found[item.module].append(item.cumulative_us / 1e3)
    return {module: statistics.median(values) for module, values in found.items()}


def report(runs: list[list[Import]], top: int, depth: int) -> str:
    modules = {item.module for item in runs[-1]}
    total = statistics.median(sum(item.self_us for item in imports) / 1e3 for imports in runs)
    lines = [f"{len(modules)} modules, {total:.0f} ms of import (median of {len(runs)} starts, under -X importtime)", "",
             "self time by top-level package:"]
    for package, ms in sorted(by_package(runs).items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"  {ms:7.1f} ms  {100 * ms / total:4.1f}%  {package}")
    lines += ["", f"heaviest modules (cumulative, at most {depth} levels deep):"]
    for module, ms in sorted(heaviest(runs, depth).items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"  {ms:7.1f} ms  {module}")
    lines += ["", "optional modules imported:"]
    for name in OPTIONAL:
        hit = any(m == name or m.startswith(name + ".") for m in modules)
        lines.append(f"  {'yes' if hit else 'no ':3}  {name}")
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="measured starts (after one warm-up)")
    parser.add_argument("--top", type=int, default=25, help="rows per list")
    parser.add_argument("--depth", type=int, default=3, help="import depth for the heaviest-modules list")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        argv, env = contenders(directory, upstream_argv(), [GUARD])[GUARD], bench_env(directory)
        log = directory / "importtime.txt"
        await one_start(argv, env, log)  # warm-up: writes .pyc files
        runs = [await one_start(argv, env, log) for _ in range(args.runs)]
    print(report(runs, args.top, args.depth))


if __name__ == "__main__":
    asyncio.run(main())
