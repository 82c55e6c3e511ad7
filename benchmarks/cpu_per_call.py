"""CPU time per small call of the process that serves the client: direct, the byte relay, mcp-guard.

    .venv/bin/python benchmarks/cpu_per_call.py [--calls 5000]

Wall-clock latency on these shared machines moves with everything else that runs; CPU time of
the serving process (utime + stime from /proc/PID/stat, after a warm-up) moves much less, and it
says how much work each hop does per call. For direct the serving process is the upstream itself.
Same contenders, profile and upstream as benchmarks/run.py.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from run import DIRECT, GUARD, RELAY, SMALL_TOOL, Connection, bench_env, contenders, upstream_argv


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        print("| through | wall per call | CPU of the serving process per call |")
        print("|---|---|---|")
        for name, argv in contenders(directory, upstream_argv(), [DIRECT, RELAY, GUARD]).items():
            connection = await Connection.start(argv, bench_env(directory))
            try:
                for _ in range(300):  # warm up: imports, caches, the first audit file
                    await connection.call_tool(SMALL_TOOL)
                cpu, started = cpu_seconds(connection.pid), time.perf_counter()
                for _ in range(args.calls):
                    await connection.call_tool(SMALL_TOOL)
                wall = (time.perf_counter() - started) / args.calls
                used = (cpu_seconds(connection.pid) - cpu) / args.calls
            finally:
                await connection.close()
            print(f"| {name} | {wall * 1e6:.0f} µs | {used * 1e6:.0f} µs |")


if __name__ == "__main__":
    asyncio.run(main())
